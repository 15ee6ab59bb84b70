/**
 * The viewer's layer list, read from the WMS 1.3.0 GetCapabilities document (OGC 06-042 §7.2.4) with the
 * OpenLayers parser: every named layer (nested layers flattened, in document order), its title and abstract,
 * its catalogue record (MetadataURL), its data (DataURL, when the capabilities give one), its legend (the first
 * style's LegendURL), its WGS 84 extent, and whether GetFeatureInfo may be asked of it (queryable).
 */
import WMSCapabilities from 'ol/format/WMSCapabilities.js';

export interface CatalogueLayer {
  name: string;
  title: string;
  abstract?: string;
  queryable: boolean;
  /** The layer's metadata record (CSW GetRecordById), when the capabilities give one. */
  metadataUrl?: string;
  /** The layer's data (DataURL), when the capabilities give one. */
  downloadUrl?: string;
  legendUrl?: string;
  /** [west, south, east, north] in degrees. */
  extent?: [number, number, number, number];
}

export interface WmsCatalogue {
  title: string;
  layers: CatalogueLayer[];
}

// The parser's output is untyped (WMSObject = Record<string, any>): read it defensively.
type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' ? (v as Obj) : undefined);
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj).filter((o): o is Obj => !!o) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

function flatten(layer: Obj | undefined, out: CatalogueLayer[]): void {
  if (!layer) return;
  const name = str(layer.Name);
  if (name) {
    const ext = layer.EX_GeographicBoundingBox;
    const style = list(layer.Style)[0];
    out.push({
      name,
      title: str(layer.Title) ?? name,
      abstract: str(layer.Abstract),
      queryable: layer.queryable === true,
      metadataUrl: str(list(layer.MetadataURL)[0]?.OnlineResource),
      downloadUrl: str(list(layer.DataURL)[0]?.OnlineResource),
      legendUrl: str(list(style?.LegendURL)[0]?.OnlineResource),
      extent: Array.isArray(ext) && ext.length === 4 && ext.every((n) => typeof n === 'number') ? (ext as [number, number, number, number]) : undefined,
    });
  }
  for (const child of list(layer.Layer)) flatten(child, out);
}

export function readWmsCatalogue(xml: string): WmsCatalogue {
  const caps = obj(new WMSCapabilities().read(xml));
  const service = obj(caps?.Service);
  const root = obj(obj(caps?.Capability)?.Layer);
  const layers: CatalogueLayer[] = [];
  flatten(root, layers);
  return { title: str(service?.Title) ?? 'Carte', layers };
}
