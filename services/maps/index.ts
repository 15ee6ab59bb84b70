/** The map service: WMS 1.3.0 at /wms, the map viewer page at /viewer (next: WMTS, vector tiles; issue 9). No background work. */
import type { Service } from '../../src/server/service.js';
import { wmsRoutes } from './wms/index.js';
import { viewerRoutes } from './viewer/index.js';

export { wmsRoutes };

export const mapsService: Service = {
  name: 'maps',
  async routes(app, platform) {
    await app.register(wmsRoutes, { prefix: '/wms', platform, mountPath: '/wms' });
    await app.register(viewerRoutes, { prefix: '/viewer', platform });
  },
};
