/**
 * The map service: WMS 1.3.0 at /wms, WMTS 1.0.0 at /wmts, vector tiles (OGC API – Tiles under /ogcapi, and
 * /tiles/{layer}/{z}/{x}/{y}.pbf), the viewer page (issue 9). Background work: with SDI_TILE_CACHE_MAX_MB, the
 * tile cache trimmed to its size limit at start and every SDI_TILE_CACHE_TRIM_MS (src/tiles/cache-trim.ts).
 */
import type { Service } from '../../src/server/service.js';
import { trimTileCache } from '../../src/tiles/cache-trim.js';
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
  start(platform, log) {
    const { tileCacheDir: dir, tileCacheMaxMb: maxMb, tileCacheTrimMs } = platform.config.maps;
    if (!dir || !maxMb) return { async stop() {} };
    let running: Promise<void> | undefined;
    const trim = () => {
      running ??= trimTileCache(dir, maxMb * 1024 * 1024)
        .then((r) => {
          if (r.removed) log.info({ ...r, maxMb }, 'tile cache trimmed to its size limit');
        })
        .catch((err) => log.warn({ err }, 'tile cache trim failed'))
        .finally(() => (running = undefined));
    };
    trim();
    const timer = setInterval(trim, tileCacheTrimMs);
    timer.unref();
    return {
      async stop() {
        clearInterval(timer);
        await running;
      },
    };
  },
};
