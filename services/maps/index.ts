/** The map service: WMS 1.3.0 at /wms, WMTS 1.0.0 at /wmts (next: vector tiles, the viewer page; issue 9). No background work. */
import type { Service } from '../../src/server/service.js';
import { wmsRoutes } from './wms/index.js';
import { wmtsRoutes } from './wmts/index.js';

export { wmsRoutes };

export const mapsService: Service = {
  name: 'maps',
  async routes(app, platform) {
    await app.register(wmsRoutes, { prefix: '/wms', platform, mountPath: '/wms' });
    await app.register(wmtsRoutes, { prefix: '/wmts', platform, mountPath: '/wmts' });
  },
};
