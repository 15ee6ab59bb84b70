/**
 * The map viewer at /viewer (issue 9): the HTML page (page.ts) and its bundle (dist/viewer/viewer.js and
 * viewer.css: OpenLayers and services/maps/viewer/client/, built by scripts/build-viewer.mjs, never a CDN).
 * The page's Content-Security-Policy loosens the platform's API policy (default-src 'none', src/server/app.ts)
 * for this page only: its own script, style, images and requests from the same origin, nothing else.
 * Every map request the page makes goes through the map services and their access policy: the page itself
 * holds no data.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../../../src/platform.js';
import { projectPath } from '../../../src/paths.js';
import { publicBaseUrl } from '../../../src/ogc/public-url.js';
import { sendProblem } from '../../../src/server/http-errors.js';
import { viewerPage } from './page.js';

/** CSP directives of the page (helmet's syntax): same origin only; no inline script or style, no frames, no forms. */
export const VIEWER_CSP_DIRECTIVES = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'"],
  connectSrc: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
};

/**
 * Endpoints the viewer can use, by the key its display modes ask for (client/displays.ts): the URL given to
 * the page, and the route whose presence in this process (hasRoute, as the route is declared) says it is mounted.
 */
const MAP_ENDPOINTS: Array<{ key: string; path: string; route: string }> = [
  { key: 'wms', path: '/wms', route: '/wms' },
  { key: 'wmts', path: '/wmts', route: '/wmts' },
  // Vector tiles: TileJSON and {z}/{x}/{y}.pbf per layer under /tiles.
  { key: 'tiles', path: '/tiles', route: '/tiles/:layer/tilejson.json' },
  // Not a map: the download service, whose INSPIRE Atom dataset feed of a layer is the layer's download link.
  { key: 'download', path: '/download', route: '/download/atom/:file' },
];

const ASSETS: Record<string, string> = { 'viewer.js': 'text/javascript; charset=utf-8', 'viewer.css': 'text/css; charset=utf-8' };

/** A map pin in the page's header colour. */
const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path fill="#000091" d="M16 1a10 10 0 0 0-10 10c0 7.5 10 20 10 20s10-12.5 10-20A10 10 0 0 0 16 1z"/><circle cx="16" cy="11" r="4" fill="#fff"/></svg>';

interface Asset {
  mtimeMs: number;
  body: Buffer;
  etag: string;
}

export async function viewerRoutes(app: FastifyInstance, opts: { platform: Platform }): Promise<void> {
  const { platform } = opts;
  const helmet = { contentSecurityPolicy: { useDefaults: false, directives: VIEWER_CSP_DIRECTIVES } };
  // The bundle is read once and again only when rebuilt (its mtime moved).
  const cache = new Map<string, Asset>();

  app.get('/', { helmet }, async (req, reply) => {
    const base = publicBaseUrl(req, platform.config);
    const prefix = new URL(base).pathname.replace(/\/+$/, '');
    const endpoints: Record<string, string> = {};
    for (const e of MAP_ENDPOINTS) if (app.hasRoute({ method: 'GET', url: e.route })) endpoints[e.key] = `${prefix}${e.path}`;
    return reply.type('text/html; charset=utf-8').send(viewerPage({ title: platform.config.service.title, prefix, endpoints }));
  });

  const asset = async (req: FastifyRequest, reply: FastifyReply, name: string) => {
    const file = projectPath('dist/viewer', name);
    let a = cache.get(name);
    try {
      const s = await stat(file);
      if (!a || a.mtimeMs !== s.mtimeMs) {
        const body = await readFile(file);
        a = { mtimeMs: s.mtimeMs, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
        cache.set(name, a);
      }
    } catch {
      return sendProblem(req, reply, { status: 503, code: 'NoApplicableCode', slug: 'viewer-not-built', detail: 'The viewer bundle is not built: run `node scripts/build-viewer.mjs` (npm run build)' });
    }
    reply.header('etag', a.etag);
    if (req.headers['if-none-match'] === a.etag) return reply.status(304).send();
    return reply.type(ASSETS[name]!).send(a.body);
  };
  // The page's icon (else the browser asks /favicon.ico, a 404 in the console).
  app.get('/favicon.svg', async (_req, reply) => reply.type('image/svg+xml').send(FAVICON));
  app.get('/viewer.js', (req, reply) => asset(req, reply, 'viewer.js'));
  app.get('/viewer.css', (req, reply) => asset(req, reply, 'viewer.css'));
}
