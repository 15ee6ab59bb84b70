/**
 * How the viewer draws the layers of its list. Each display mode is keyed by the endpoint it needs; the page
 * (services/maps/viewer/page.ts) says which endpoints the platform mounts (data-endpoints), and the viewer
 * offers the modes whose endpoint is there. WMS is the one built now. WMTS (WebMercatorQuad) and vector tiles
 * plug in here: a module exporting a DisplayMode (e.g. `ol/source/WMTS.js` with `optionsFromCapabilities`, or
 * `ol/layer/VectorTile.js` with `ol/format/MVT.js`), added to DISPLAY_MODES, and its path added to the page's
 * endpoint table. Feature info stays on WMS GetFeatureInfo whatever draws the map.
 */
import type BaseLayer from 'ol/layer/Base.js';
import ImageLayer from 'ol/layer/Image.js';
import ImageWMS from 'ol/source/ImageWMS.js';

/** What a display mode puts on the map: one OpenLayers layer drawing the shown layers, bottom first. */
export interface Display {
  layer: BaseLayer;
  /** Draw these layers (names from the capabilities), the first at the bottom; none hides the display. */
  show(names: readonly string[]): void;
}

export interface DisplayMode {
  id: string;
  /** Shown in the display selector (French). */
  label: string;
  /** The key of data-endpoints this mode needs (its URL is passed to create). */
  endpoint: string;
  create(url: string): Display;
}

/** WMS 1.3.0 GetMap: one image of all shown layers per view (one request, the server's own draw order). */
export const wmsDisplay: DisplayMode = {
  id: 'wms',
  label: 'WMS (image)',
  endpoint: 'wms',
  create(url) {
    const source = new ImageWMS({ url, params: { VERSION: '1.3.0', FORMAT: 'image/png', TRANSPARENT: true, STYLES: '', LAYERS: '' }, ratio: 1 });
    const layer = new ImageLayer({ source, visible: false });
    return {
      layer,
      show(names) {
        layer.setVisible(names.length > 0);
        if (names.length) source.updateParams({ LAYERS: names.join(','), STYLES: names.map(() => '').join(',') });
      },
    };
  },
};

export const DISPLAY_MODES: readonly DisplayMode[] = [wmsDisplay];
