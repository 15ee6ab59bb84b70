/** The map service: WMS 1.3.0 at /wms (next: WMTS, vector tiles, the viewer page; issue 9). No background work. */
import type { Service } from '../../src/server/service.js';
// The map viewer page at /viewer (issue 9): its display modes use whichever map endpoints are mounted.
import { viewerRoutes } from './viewer/index.js';
import { wmsRoutes } from './wms/index.js';

export { wmsRoutes };

export const mapsService: Service = {
  name: 'maps',
  async routes(app, platform) {
    await app.register(viewerRoutes, { prefix: '/viewer', platform });
    await app.register(wmsRoutes, { prefix: '/wms', platform, mountPath: '/wms' });
  },
};
