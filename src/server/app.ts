/**
 * Builds the Fastify application: request ids and pino logs, /healthz and /readyz, and the services
 * mounted under their paths. Each service can also run alone (services/<name>/server.ts).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Platform } from '../platform.js';
import { PUBLIC_URL_VARY, publicBaseUrl } from '../ogc/public-url.js';
import { isDatabaseUnavailable, RETRY_AFTER_SECONDS } from '../db/errors.js';
import { wfsRoutes } from '../../services/features/wfs/index.js';
import { ogcApiRoutes } from '../../services/features/ogcapi/index.js';
import { cswRoutes, dcatRoutes } from '../../services/catalogue/index.js';
import { downloadRoutes } from '../../services/download/index.js';
import { registerPrincipal } from './principal.js';

export const SERVICE_NAMES = ['features', 'catalogue', 'download'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export async function buildApp(platform: Platform, services: readonly ServiceName[] = SERVICE_NAMES): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: platform.config.logLevel },
    genReqId: (req) => (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].length <= 128 ? req.headers['x-request-id'] : randomUUID()),
    requestIdHeader: false,
    bodyLimit: 10 * 1024 * 1024,
    // Query strings are parsed by the OGC KVP reader, not by the framework.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
  });
  // The caller, resolved once per request before any service sees it.
  registerPrincipal(app, platform);
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
    // Every 503 (database restarting, no free connection, statement timeout) says when to come back.
    if (reply.statusCode === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    // Public URLs in answers follow the Host and proxy headers unless BASE_URL is set: tell caches so.
    if (!platform.config.baseUrl) {
      const prev = reply.getHeader('vary');
      reply.header('vary', prev ? `${String(prev)}, ${PUBLIC_URL_VARY}` : PUBLIC_URL_VARY);
    }
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await platform.pool.query('SELECT 1');
      return { status: 'ready', database: 'ok' };
    } catch {
      return reply.status(503).send({ status: 'unavailable', database: 'unreachable' });
    }
  });

  if (services.includes('features')) {
    await app.register(wfsRoutes, { prefix: '/wfs', platform, mountPath: '/wfs' });
    await app.register(ogcApiRoutes, { prefix: '/ogcapi', platform, mountPath: '/ogcapi' });
  }
  if (services.includes('catalogue')) {
    await app.register(cswRoutes, { prefix: '/csw', platform, mountPath: '/csw' });
    await app.register(dcatRoutes, { prefix: '/dcat', platform, mountPath: '/dcat' });
  }
  if (services.includes('download')) {
    await app.register(downloadRoutes, { prefix: '/download', platform, mountPath: '/download' });
  }

  app.get('/', async (req) => {
    const base = publicBaseUrl(req, platform.config);
    return {
      title: platform.config.service.title,
      services: {
        wfs: `${base}/wfs?SERVICE=WFS&REQUEST=GetCapabilities`,
        ogcapi: `${base}/ogcapi/`,
        csw: `${base}/csw?SERVICE=CSW&REQUEST=GetCapabilities`,
        dcat: `${base}/dcat`,
        download: `${base}/download/`,
      },
    };
  });

  app.setNotFoundHandler((req, reply) => {
    reply.status(404).type('application/problem+json').send({ type: 'about:blank', title: 'Not Found', status: 404, detail: `No resource at ${req.url.split('?')[0]}` });
  });
  app.setErrorHandler((err, req, reply) => {
    const status = isDatabaseUnavailable(err) ? 503 : ((err as { statusCode?: number }).statusCode ?? 500);
    if (status >= 500) req.log.error({ err }, 'unhandled error');
    reply.status(status).type('application/problem+json').send({ type: 'about:blank', title: status === 503 ? 'Service Unavailable' : status >= 500 ? 'Internal Server Error' : 'Bad Request', status, detail: status === 503 ? 'The database is temporarily unavailable; retry in a few seconds' : status >= 500 ? 'Internal error' : (err as Error).message });
  });
  return app;
}
