/**
 * The Fastify application every service is mounted on: request ids and pino logs, /healthz and /readyz, the
 * caller's principal, and HTTP errors in each service's format. The composition root (app/build-app.ts) mounts
 * the services on it (all of them, or one alone).
 * HTTP hardening (issue 13, points 11 and 12): server timeouts and a connection cap, security headers
 * (@fastify/helmet), CORS by configuration (@fastify/cors), validated request ids, Cache-Control, and the
 * framework's own errors (413, 415, invalid JSON, 404, 405, 414/431, 408) in each service's format
 * (src/server/http-errors.ts).
 */
import { registerUsage } from '../usage/hook.js';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { clientErrorHandler, problemOf, REQUEST_ID_PATTERN, RouteTable, sendProblem } from './http-errors.js';
import type { Platform } from '../platform.js';
import { PUBLIC_URL_VARY } from '../ogc/public-url.js';
import { isDatabaseUnavailable, RETRY_AFTER_SECONDS } from '../db/errors.js';
import { registerPrincipal, withoutAccessToken, WWW_AUTHENTICATE } from './principal.js';
import { privateCacheControl } from './cache-control.js';
import { registerRateLimits } from './rate-limit.js';
import { registerAudit } from '../audit/hook.js';

const BODY_LIMIT = 10 * 1024 * 1024;

/**
 * The tus 1.0.0 headers of the resumable uploads (services/admin/uploads.ts, issue 10): a browser client
 * (tus-js-client, Uppy) sends the request ones and must read the answer's offset, length, expiry and version, so
 * they are allowed and exposed as the tus protocol's "Browser support" section asks of a server.
 */
const TUS_REQUEST_HEADERS = ['Tus-Resumable', 'Upload-Offset', 'Upload-Length', 'Upload-Metadata'];
const TUS_RESPONSE_HEADERS = ['Tus-Resumable', 'Tus-Version', 'Tus-Extension', 'Tus-Max-Size', 'Upload-Offset', 'Upload-Length', 'Upload-Expires'];

/** Headers a browser client may read from a cross-origin answer (beyond the CORS-safelisted ones). */
const EXPOSED_HEADERS = ['Content-Disposition', 'Content-Crs', 'Content-Length', 'Location', 'Retry-After', 'Link', 'X-Request-Id', 'X-Feature-Count', 'X-Feature-Count-Estimate', 'WWW-Authenticate', ...TUS_RESPONSE_HEADERS];

/**
 * Cache-Control of an answer that did not set its own: errors, writes, admin requests, health and job
 * status are never stored; other answers depend on the data (layers, records) and are revalidated each time.
 */
function cachePolicy(req: FastifyRequest, status: number): string {
  if (status >= 400) return 'no-store';
  if (req.method !== 'GET' && req.method !== 'HEAD') return 'no-store';
  // An authenticated answer (header or access_token parameter) may hold what others may not see.
  if (req.headers.authorization || req.principal?.login !== undefined) return 'private, no-store';
  const path = req.url.split('?')[0] ?? '';
  if (path === '/healthz' || path === '/readyz' || path.startsWith('/download/jobs') || path.startsWith('/download/files')) return 'no-store';
  return 'no-cache';
}

/** The application without any service: the composition root registers them next (routes, then its index). */
export async function createHttpApp(platform: Platform): Promise<FastifyInstance> {
  const http = platform.config.http;
  // The URL of the request a socket is serving, for a client error (a timeout) that comes while its body arrives.
  const socketUrls = new WeakMap<Socket, string>();
  const routes = new RouteTable();
  const app = Fastify({
    // The request line is logged without its access_token (a credential, issue 11).
    logger: { level: platform.config.logLevel, serializers: { req: (r: FastifyRequest) => ({ method: r.method, url: withoutAccessToken(r.url).url, host: r.host, remoteAddress: r.ip, remotePort: r.socket?.remotePort }) } },
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    bodyLimit: BODY_LIMIT,
    // Query strings are parsed by the OGC KVP reader, not by the framework.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    // Timeouts (issue 13, point 12). Node applies headersTimeout and requestTimeout to receiving the request
    // only (a streamed download is not cut by them); idle (connectionTimeout) is socket inactivity both ways.
    requestTimeout: http.requestTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    connectionTimeout: http.idleTimeoutMs,
    http: {
      headersTimeout: http.headersTimeoutMs,
      requestTimeout: http.requestTimeoutMs,
      maxHeaderSize: http.maxHeaderBytes,
      // Node looks for expired requests every 30 s by default: a slowloris would live up to 30 s past the limit.
      connectionsCheckingInterval: Math.max(100, Math.min(5000, Math.floor(http.headersTimeoutMs / 3))),
    },
    clientErrorHandler: clientErrorHandler({
      maxHeaderBytes: http.maxHeaderBytes,
      pathOfSocket: (s) => socketUrls.get(s),
      log: (err) => app.log.debug({ err }, 'client error'),
    }),
    // A bad %-escape or an over-long segment in the path, found by the router.
    frameworkErrors: (err, req, reply) => {
      reply.header('x-content-type-options', 'nosniff');
      return sendProblem(req, reply, problemOf(err, req, BODY_LIMIT));
    },
  });
  if (http.maxConnections > 0) app.server.maxConnections = http.maxConnections;
  // Every route and its methods, for 405 Method Not Allowed with its Allow header, and as a list (routeList)
  // that the deny-all test walks, so that no route escapes the policy unnoticed.
  const routeList: Array<{ method: string; url: string }> = [];
  app.decorate('routeList', routeList);
  app.addHook('onRoute', (r) => {
    routes.add(r.url, r.method);
    for (const m of [r.method].flat()) routeList.push({ method: String(m).toUpperCase(), url: r.url });
  });

  // Security headers for APIs (XML, JSON, files; one small HTML search page without script or style). The map
  // viewer page (services/maps/viewer) loosens the CSP for itself only: its own script, style, images, requests.
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } },
    // Features, records and files are meant to be used from other sites' maps and catalogues.
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    crossOriginEmbedderPolicy: false,
    // HSTS belongs to the TLS terminator (this process speaks plain HTTP behind it).
    strictTransportSecurity: false,
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' },
  });
  if (http.corsOrigins.length > 0) {
    const any = http.corsOrigins.includes('*');
    await app.register(cors, {
      origin: any ? '*' : http.corsOrigins,
      credentials: !any && http.corsCredentials,
      // PUT and PATCH: OGC API Features Part 4 from a browser; Content-Crs: its Part 2 request header.
      // PATCH and HEAD: the tus uploads' chunks and offset; their tus headers.
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      allowedHeaders: ['Accept', 'Accept-Language', 'Authorization', 'Content-Type', 'Content-Crs', 'X-Request-Id', ...TUS_REQUEST_HEADERS],
      exposedHeaders: EXPOSED_HEADERS,
      maxAge: 600,
      // OPTIONS without Origin (curl, monitoring) gets the same 204 rather than a text/plain 400.
      strictPreflight: false,
    });
  }

  app.addHook('onRequest', async (req) => {
    if (req.raw.socket) socketUrls.set(req.raw.socket, req.url);
  });
  app.addHook('onResponse', async (req) => {
    if (req.raw.socket) socketUrls.delete(req.raw.socket);
  });
  // What these per-request hooks cost (issues 8 and 11, measured 2026-12-06 on a 188,300-parcel grid, W1 = 4,056
  // parcels as GeoJSON under wrk c=8, one process, a 2-vCPU box shared with other jobs): in a CPU profile the hook
  // runner with helmet, request id, rate limit, principal, usage and audit hooks is ~3 % of the node process's CPU and
  // the usage hook's AsyncLocalStorage ~1 %; none awaits the database (usage and audit rows are batched, the policy
  // decides from the principal and the cached catalogue). A request's CPU is the encoding: ~11 ms in node and ~22 ms
  // in PostgreSQL per W1 request, the same as the build of 2026-12-04 (104182f, before issues 10 and 11) on the same
  // data in the same minutes; differences between bench runs on this box come from its load, not from these hooks.
  // Rate limits (src/server/rate-limit.ts): per address before any credential is checked, failed sign-ins
  // around the check, per principal once it is known.
  const limits = await registerRateLimits(app, platform);
  app.addHook('onRequest', limits.perAddress);
  // The caller, resolved once per request before any service sees it.
  registerPrincipal(app, platform, limits.signIns);
  app.addHook('onRequest', limits.perPrincipal);
  // Usage statistics of the protocol requests, written in batches (src/usage/hook.ts), purged after their retention.
  registerUsage(app, platform.pool, platform.config.retention);
  // Refusals, sign-ins (src/audit/hook.ts).
  registerAudit(app, platform);
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
    // A CORS preflight answered by @fastify/cors says the resource's methods too.
    if (req.method === 'OPTIONS' && reply.statusCode < 300 && !reply.hasHeader('allow')) {
      const allowed = routes.allowed(req.url);
      if (allowed.length > 0) reply.header('allow', [...allowed.filter((m) => m !== 'OPTIONS'), 'OPTIONS'].join(', '));
    }
    // Every 401, whichever service or policy refused, says how to authenticate (RFC 9110 §11.6.1).
    if (reply.statusCode === 401 && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', WWW_AUTHENTICATE);
    if (reply.statusCode >= 400) reply.header('cache-control', 'no-store');
    else if (!reply.hasHeader('cache-control')) reply.header('cache-control', cachePolicy(req, reply.statusCode));
    // A service's own caching (ETag, max-age) never makes an authenticated answer storable by a shared cache (issue 11).
    // 'public' is replaced, not prefixed: 'private, public' contradicts itself (RFC 9111 §5.2.2.7, §5.2.2.9) and a
    // cache that honours the wrong one keeps a restricted tile for everyone.
    else if (req.principal?.login !== undefined) reply.header('cache-control', privateCacheControl(String(reply.getHeader('cache-control'))));
    // Every 503 (database restarting, no free connection, statement timeout) says when to come back.
    if (reply.statusCode === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    // Public URLs in answers follow the Host and proxy headers unless BASE_URL is set: tell caches so.
    if (!platform.config.baseUrl) {
      const prev = reply.getHeader('vary');
      reply.header('vary', prev ? `${String(prev)}, ${PUBLIC_URL_VARY}` : PUBLIC_URL_VARY);
    }
  });

  // Set before the services are registered: each encapsulated service copies its parent's handlers then.
  // Unknown path, or a known path with another method (405 and Allow), in the format of the path's service.
  const notFound = (req: FastifyRequest, reply: FastifyReply) => {
    const allowed = routes.allowed(req.url);
    // RFC 9110 §9.3.7: OPTIONS on a resource says which methods it allows (OGC API Features asks for it too).
    if (req.method === 'OPTIONS' && allowed.length > 0) return reply.status(204).header('allow', [...allowed, 'OPTIONS'].join(', ')).send();
    if (allowed.length > 0 && !allowed.includes(req.method)) {
      if (http.corsOrigins.length > 0) allowed.push('OPTIONS');
      return sendProblem(req, reply, { status: 405, code: 'OperationNotSupported', slug: 'method-not-allowed', detail: `Method ${req.method} is not allowed here (allowed: ${allowed.join(', ')})` }, { allow: allowed.join(', ') });
    }
    const path = (req.url.split('?')[0] ?? '/').slice(0, 200);
    return sendProblem(req, reply, { status: 404, code: 'NoApplicableCode', slug: 'not-found', detail: `No resource at ${path}` });
  };
  app.setNotFoundHandler(notFound);
  // Answered before the body is read: a 404 or 405 is not turned into a 413 or 400 by what the body holds.
  app.addHook('onRequest', async (req, reply) => {
    if (req.is404) return notFound(req, reply);
  });
  // Errors raised before or outside a handler's own catch (body parsing, a database outage): the service's format.
  app.setErrorHandler((err, req, reply) => {
    const p = problemOf(err, req, BODY_LIMIT);
    if (p.status >= 500 && !isDatabaseUnavailable(err)) req.log.error({ err }, 'unhandled error');
    return sendProblem(req, reply, p);
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

  return app;
}
