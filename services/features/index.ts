/** The feature service: WFS 2.0 (/wfs) and OGC API Features (/ogcapi). No background work. */
import type { Service } from '../../src/server/service.js';
import { wfsRoutes } from './wfs/index.js';
import { ogcApiRoutes } from './ogcapi/index.js';

export { wfsRoutes, ogcApiRoutes };

export const featuresService: Service = {
  name: 'features',
  async routes(app, platform) {
    await app.register(wfsRoutes, { prefix: '/wfs', platform, mountPath: '/wfs' });
    await app.register(ogcApiRoutes, { prefix: '/ogcapi', platform, mountPath: '/ogcapi' });
  },
};
