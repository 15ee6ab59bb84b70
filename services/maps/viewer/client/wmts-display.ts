/**
 * WMTS 1.0.0 display mode (OGC 07-057r7): one tile layer per shown layer, in the WebMercatorQuad tile matrix
 * set, its tiles by the RESTful templates of the capabilities (OpenLayers' optionsFromCapabilities). Offered by
 * the viewer when the platform mounts /wmts (services/maps/viewer/index.ts); a layer the WMTS does not offer is
 * left out of the tiled map.
 */
import Collection from 'ol/Collection.js';
import LayerGroup from 'ol/layer/Group.js';
import TileLayer from 'ol/layer/Tile.js';
import WMTS, { optionsFromCapabilities } from 'ol/source/WMTS.js';
import WMTSCapabilities from 'ol/format/WMTSCapabilities.js';
import type BaseLayer from 'ol/layer/Base.js';
import type { DisplayMode } from './display-mode.js';

/** The tile matrix set of the view (EPSG:3857). */
const MATRIX_SET = 'WebMercatorQuad';

export const wmtsDisplay: DisplayMode = {
  id: 'wmts',
  label: 'WMTS (tuiles)',
  endpoint: 'wmts',
  create(url) {
    const group = new LayerGroup({ visible: false });
    const capabilities = fetch(`${url}?SERVICE=WMTS&REQUEST=GetCapabilities`).then(async (r) => {
      if (!r.ok) throw new Error(`WMTS GetCapabilities : HTTP ${r.status}`);
      return new WMTSCapabilities().read(await r.text());
    });
    const tiles = new Map<string, TileLayer<WMTS>>();
    return {
      layer: group,
      async show(names) {
        const caps = await capabilities;
        const layers: BaseLayer[] = [];
        for (const name of names) {
          let layer = tiles.get(name);
          if (!layer) {
            const options = optionsFromCapabilities(caps, { layer: name, matrixSet: MATRIX_SET });
            if (!options) continue;
            layer = new TileLayer({ source: new WMTS(options) });
            tiles.set(name, layer);
          }
          layers.push(layer);
        }
        group.setLayers(new Collection(layers));
        group.setVisible(layers.length > 0);
      },
    };
  },
};
