/**
 * Vector tiles display mode: Mapbox Vector Tiles of each shown layer, found through its TileJSON 3.0.0
 * document (`<tiles>/<layer>/tilejson.json`: the `{z}/{x}/{y}.pbf` template and the zoom range), drawn in the
 * browser. The browser has no copy of the stored styles: features are drawn like the platform's defaults per
 * kind of geometry (translucent blue polygons, blue lines, orange dots). Offered by the viewer when the platform
 * mounts the plain tile routes (services/maps/viewer/index.ts).
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

const polygon = new Style({ fill: new Fill({ color: 'rgba(66, 132, 203, 0.35)' }), stroke: new Stroke({ color: 'rgb(30, 77, 140)', width: 1 }) });
const line = new Style({ stroke: new Stroke({ color: 'rgb(30, 77, 140)', width: 1.5 }) });
const point = new Style({ image: new Circle({ radius: 4, fill: new Fill({ color: 'rgb(224, 123, 36)' }), stroke: new Stroke({ color: 'rgb(120, 60, 10)', width: 1 }) }) });

function styleOf(feature: FeatureLike): Style {
  const type = feature.getGeometry()?.getType() ?? '';
  if (type.endsWith('Polygon')) return polygon;
  if (type.endsWith('LineString')) return line;
  return point;
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
        p = fetch(`${url}/${encodeURIComponent(name)}/tilejson.json`).then(async (r) => {
          if (!r.ok) return undefined;
          const tj = (await r.json()) as TileJson;
          const template = tj.tiles?.[0];
          if (!template) return undefined;
          const source = new VectorTileSource({ format: new MVT(), url: template, minZoom: tj.minzoom, maxZoom: tj.maxzoom });
          return new VectorTileLayer({ source, style: styleOf });
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
