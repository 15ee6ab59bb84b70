/**
 * Vector tiles display mode: Mapbox Vector Tiles of each shown layer, found through its TileJSON 3.0.0
 * document (`<tiles>/<layer>/tilejson.json`: the `{z}/{x}/{y}.pbf` template and the zoom range), drawn in the
 * browser with the colours of the layer's default style (`<tiles>/<layer>/style.json`: fill and stroke per kind
 * of geometry, from the stored style, as WMS draws them); where that document is missing or silent on a kind,
 * like the platform's built-in defaults (translucent blue polygons, blue lines, orange dots). Offered by the
 * viewer when the platform mounts the plain tile routes (services/maps/viewer/index.ts).
 */
import Collection from 'ol/Collection.js';
import LayerGroup from 'ol/layer/Group.js';
import VectorTileLayer from 'ol/layer/VectorTile.js';
import VectorTileSource from 'ol/source/VectorTile.js';
import MVT from 'ol/format/MVT.js';
import { Circle, Fill, Stroke, Style } from 'ol/style.js';
import type { FeatureLike } from 'ol/Feature.js';
import type BaseLayer from 'ol/layer/Base.js';
import type { DisplayMode } from './display-mode.js';

/** A colour of the style document: `#rrggbb` and its opacity (src/render/style.ts). */
interface Paint {
  color: string;
  opacity?: number;
}
interface Line extends Paint {
  width?: number;
}
/** What `<tiles>/<layer>/style.json` says (services/maps/vector-tiles/documents.ts, simpleStyle). */
interface StyleDoc {
  polygon?: { fill?: Paint; stroke?: Line };
  line?: { stroke?: Line };
  point?: { size?: number; fill?: Paint; stroke?: Line };
}

/** The built-in defaults (src/render/style.ts BUILTIN_DEFAULT_STYLES), for a layer whose style is not known. */
const DEFAULTS: Required<StyleDoc> = {
  polygon: { fill: { color: '#4285cc', opacity: 0.35 }, stroke: { color: '#1f4e8c', width: 1 } },
  line: { stroke: { color: '#1f4e8c', width: 1.5 } },
  point: { size: 8, fill: { color: '#e67e22' }, stroke: { color: '#7a3e00', width: 1 } },
};

/** `#rrggbb` and an opacity as an OpenLayers colour array; undefined for anything else. */
function colour(p: Paint | undefined): [number, number, number, number] | undefined {
  const m = p && /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(p.color);
  if (!m) return undefined;
  const opacity = typeof p.opacity === 'number' && p.opacity >= 0 && p.opacity <= 1 ? p.opacity : 1;
  return [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16), opacity];
}
const fillOf = (p: Paint | undefined) => {
  const c = colour(p);
  return c ? new Fill({ color: c }) : undefined;
};
const strokeOf = (l: Line | undefined) => {
  const c = colour(l);
  return c ? new Stroke({ color: c, width: typeof l!.width === 'number' && l!.width > 0 ? l!.width : 1 }) : undefined;
};

/** The OpenLayers style function of a style document: one Style per kind of geometry, made once. */
function styleFunction(doc: StyleDoc): (feature: FeatureLike) => Style {
  const polygonDoc = doc.polygon ?? DEFAULTS.polygon;
  const polygon = new Style({ fill: fillOf(polygonDoc.fill), stroke: strokeOf(polygonDoc.stroke) });
  const line = new Style({ stroke: strokeOf((doc.line ?? DEFAULTS.line).stroke) });
  const p = doc.point ?? DEFAULTS.point;
  const radius = typeof p.size === 'number' && p.size > 0 ? p.size / 2 : 4;
  const point = new Style({ image: new Circle({ radius, fill: fillOf(p.fill), stroke: strokeOf(p.stroke) }) });
  return (feature) => {
    const type = feature.getGeometry()?.getType() ?? '';
    if (type.endsWith('Polygon')) return polygon;
    if (type.endsWith('LineString')) return line;
    return point;
  };
}

/** The layer's style document, or {} (the built-in defaults) when it cannot be read. */
async function styleDoc(url: string): Promise<StyleDoc> {
  try {
    const r = await fetch(url);
    return r.ok ? ((await r.json()) as StyleDoc) : {};
  } catch {
    return {};
  }
}

interface TileJson {
  tiles?: string[];
  minzoom?: number;
  maxzoom?: number;
}

export const vectorTilesDisplay: DisplayMode = {
  id: 'mvt',
  label: 'Tuiles vectorielles (MVT)',
  endpoint: 'tiles',
  create(url) {
    const group = new LayerGroup({ visible: false });
    // One layer per name, made once its TileJSON is read (undefined: the layer has no vector tiles).
    const made = new Map<string, Promise<VectorTileLayer | undefined>>();
    const layerOf = (name: string) => {
      let p = made.get(name);
      if (!p) {
        const base = `${url}/${encodeURIComponent(name)}`;
        const style = styleDoc(`${base}/style.json`);
        p = fetch(`${base}/tilejson.json`).then(async (r) => {
          if (!r.ok) return undefined;
          const tj = (await r.json()) as TileJson;
          const template = tj.tiles?.[0];
          if (!template) return undefined;
          const source = new VectorTileSource({ format: new MVT(), url: template, minZoom: tj.minzoom, maxZoom: tj.maxzoom });
          return new VectorTileLayer({ source, style: styleFunction(await style) });
        });
        made.set(name, p);
      }
      return p;
    };
    return {
      layer: group,
      async show(names) {
        const layers = (await Promise.all(names.map(layerOf))).filter((l): l is VectorTileLayer => !!l);
        group.setLayers(new Collection<BaseLayer>(layers));
        group.setVisible(layers.length > 0);
      },
    };
  },
};
