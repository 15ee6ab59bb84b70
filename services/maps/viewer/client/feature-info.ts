/**
 * A click on the map: WMS GetFeatureInfo (OGC 06-042 §7.4) on the shown queryable layers at the clicked pixel,
 * asked as application/json (a GeoJSON FeatureCollection whose feature ids are `<layer>.<id>`), shown as one
 * table of attributes per feature. Values are written as text (textContent), never as markup.
 */
import ImageWMS from 'ol/source/ImageWMS.js';
import type { Coordinate } from 'ol/coordinate.js';
import type { ProjectionLike } from 'ol/proj.js';

export interface InfoFeature {
  layer?: string;
  id?: string;
  properties: Record<string, unknown>;
}

export class FeatureInfo {
  private readonly source: ImageWMS;

  constructor(url: string) {
    this.source = new ImageWMS({ url, params: { VERSION: '1.3.0', LAYERS: '' } });
  }

  /** The GetFeatureInfo URL at a map coordinate, or undefined when no layer is queried. */
  url(layers: readonly string[], coordinate: Coordinate, resolution: number, projection: ProjectionLike): string | undefined {
    if (!layers.length) return undefined;
    this.source.updateParams({ LAYERS: layers.join(','), STYLES: layers.map(() => '').join(',') });
    return this.source.getFeatureInfoUrl(coordinate, resolution, projection, { INFO_FORMAT: 'application/json', QUERY_LAYERS: layers.join(','), FEATURE_COUNT: 10 });
  }

  async query(url: string, signal: AbortSignal): Promise<InfoFeature[]> {
    const r = await fetch(url, { signal, headers: { accept: 'application/json' } });
    if (!r.ok) throw new Error(`GetFeatureInfo : HTTP ${r.status}`);
    const doc = (await r.json()) as { features?: Array<{ id?: unknown; properties?: Record<string, unknown> | null }> };
    return (doc.features ?? []).map((f) => {
      const id = typeof f.id === 'string' || typeof f.id === 'number' ? String(f.id) : undefined;
      const dot = id?.lastIndexOf('.') ?? -1;
      return { id, layer: id && dot > 0 ? id.slice(0, dot) : undefined, properties: f.properties ?? {} };
    });
  }
}

/** The tables of the features found, titled by their layer's title. */
export function renderFeatures(target: HTMLElement, features: readonly InfoFeature[], titleOf: (layer: string) => string): void {
  target.replaceChildren();
  if (!features.length) {
    const p = document.createElement('p');
    p.textContent = 'Aucun objet à cet endroit.';
    target.append(p);
    return;
  }
  for (const f of features) {
    const table = document.createElement('table');
    table.className = 'objet';
    const caption = document.createElement('caption');
    caption.textContent = f.layer ? titleOf(f.layer) : 'Objet';
    table.append(caption);
    for (const [k, v] of Object.entries(f.properties)) {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = k;
      const td = document.createElement('td');
      td.textContent = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
      tr.append(th, td);
      table.append(tr);
    }
    target.append(table);
  }
}
