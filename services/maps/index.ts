/** The map service: WMS 1.3.0 at /wms, WMTS 1.0.0 at /wmts, vector tiles (OGC API – Tiles under /ogcapi, and /tiles/{layer}/{z}/{x}/{y}.pbf); next: the viewer page (issue 9). No background work. */
import type { Service } from '../../src/server/service.js';
// The map viewer page at /viewer (issue 9): its display modes use whichever map endpoints are mounted.
import { viewerRoutes } from './viewer/index.js';
import { wmsRoutes } from './wms/index.js';
import { wmtsRoutes } from './wmts/index.js';
import { ogcApiTilesRoutes, plainTilesRoutes } from './vector-tiles/index.js';

export { wmsRoutes };

export const mapsService: Service = {
  name: 'maps',
  async routes(app, platform) {
    await app.register(viewerRoutes, { prefix: '/viewer', platform });
    await app.register(wmsRoutes, { prefix: '/wms', platform, mountPath: '/wms' });
    await app.register(wmtsRoutes, { prefix: '/wmts', platform, mountPath: '/wmts' });
    await app.register(ogcApiTilesRoutes, { prefix: '/ogcapi', platform, mountPath: '/ogcapi' });
    await app.register(plainTilesRoutes, { prefix: '/tiles', platform, mountPath: '/tiles' });
  },
};
