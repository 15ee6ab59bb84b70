/**
 * The composition root's application: the core's Fastify application (src/server/app.ts) with the services
 * named mounted on it, and the index at / listing their endpoints. Each service can also run alone
 * (app/features-server.ts, app/catalogue-server.ts, app/download-server.ts, app/maps-server.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { Platform } from '../src/platform.js';
import type { Service } from '../src/server/service.js';
import { createHttpApp } from '../src/server/app.js';
import { publicBaseUrl } from '../src/ogc/public-url.js';
import { featuresService } from '../services/features/index.js';
import { catalogueService } from '../services/catalogue/index.js';
import { downloadService } from '../services/download/index.js';
import { mapsService } from '../services/maps/index.js';
import { adminService } from '../services/admin/index.js';

/** Every service, in mounting (and background work starting) order. */
export const SERVICES: readonly Service[] = [featuresService, catalogueService, downloadService, mapsService, adminService];
export const SERVICE_NAMES = ['features', 'catalogue', 'download', 'maps', 'admin'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** The services of these names, in mounting order. */
export const servicesNamed = (names: readonly ServiceName[]): Service[] => SERVICES.filter((s) => names.includes(s.name));

export async function buildApp(platform: Platform, services: readonly ServiceName[] = SERVICE_NAMES): Promise<FastifyInstance> {
  const app = await createHttpApp(platform);
  for (const s of servicesNamed(services)) await s.routes(app, platform);

  app.get('/', async (req) => {
    const base = publicBaseUrl(req, platform.config);
    return {
      title: platform.config.service.title,
      services: {
        wfs: `${base}/wfs?SERVICE=WFS&REQUEST=GetCapabilities`,
        ogcapi: `${base}/ogcapi/`,
        csw: `${base}/csw?SERVICE=CSW&REQUEST=GetCapabilities`,
        dcat: `${base}/dcat`,
        records: `${base}/records/`,
        download: `${base}/download/`,
        wms: `${base}/wms?SERVICE=WMS&REQUEST=GetCapabilities`,
        viewer: `${base}/viewer`,
        admin: `${base}/admin/`,
      },
    };
  });

  return app;
}
