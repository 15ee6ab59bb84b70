/** WMS 1.3.0 GetMap display mode (OGC 06-042 §7.3): the viewer's default. */
import ImageLayer from 'ol/layer/Image.js';
import ImageWMS from 'ol/source/ImageWMS.js';
import type { DisplayMode } from './display-mode.js';

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
