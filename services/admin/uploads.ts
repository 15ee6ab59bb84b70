/**
 * Resumable uploads for large imports (issue 10): the tus 1.0.0 protocol (https://tus.io/protocols/resumable-upload)
 * core with its creation, expiration and termination extensions, under /admin/uploads and the administrator's
 * check like every admin route. A client (tus-js-client, a QGIS script, curl) creates an upload (POST with
 * Upload-Length, Upload-Metadata `filename`), sends it in PATCH chunks at the offset the server has (after a break,
 * HEAD gives that offset), then imports it: POST /admin/imports with `upload=<id>`. The protocol is spoken here
 * rather than by @tus/server because that one writes its answers to the raw response (Fastify's reply hijacked):
 * errors would not be problem+json and the admin error handler, hooks and route table would not see them.
 * OPTIONS is answered by the platform's CORS handling (src/server/app.ts, which allows the tus request headers and
 * exposes the tus answer headers to the configured origins, SDI_CORS_ORIGINS), not here: the discovery headers
 * (Tus-Version, Tus-Extension, Tus-Max-Size) come with the creation's answer; clients such as tus-js-client do
 * not ask OPTIONS. The store is src/import/uploads.ts; SDI_IMPORT_MAX_BYTES bounds an upload, SDI_IMPORT_UPLOAD_EXPIRY_HOURS
 * (24) how long an unfinished or unimported one is kept.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { Platform } from '../../src/platform.js';
import { UploadError, UploadStore, encodeUploadMetadata, parseUploadMetadata, uploadsRoot, type UploadInfo } from '../../src/import/uploads.js';
import { publicBaseUrl } from '../../src/ogc/public-url.js';
import { AdminError } from './problem.js';
import type { AdminModule } from './module.js';

export const TUS_VERSION = '1.0.0';
const TUS_EXTENSIONS = 'creation,expiration,termination';
const CHUNK_TYPE = 'application/offset+octet-stream';

/** The upload store of a platform (one per process: its in-flight PATCHes are tracked there). */
const stores = new WeakMap<Platform, UploadStore>();
export function uploadStore(platform: Platform): UploadStore {
  let s = stores.get(platform);
  if (!s) {
    const settings = platform.config.import;
    s = new UploadStore(uploadsRoot(platform.config.download.workDir), settings.maxBytes, settings.uploadExpiryHours * 3600_000);
    stores.set(platform, s);
  }
  return s;
}

export const asUploadAdminError = (e: unknown): unknown =>
  e instanceof UploadError ? new AdminError(e.status, { 400: 'invalid-parameter', 404: 'not-found', 409: 'conflict', 410: 'gone', 413: 'too-large' }[e.status], e.message, e.parameter) : e;

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/** tus §Tus-Resumable: every request but OPTIONS names the version; another one is 412 with the versions we speak. */
function checkVersion(req: FastifyRequest, reply: FastifyReply): void {
  reply.header('tus-resumable', TUS_VERSION);
  const v = header(req, 'tus-resumable');
  if (v !== TUS_VERSION) {
    reply.header('tus-version', TUS_VERSION);
    throw new AdminError(412, 'precondition-failed', v === undefined ? 'Tus-Resumable: 1.0.0 is required' : `Tus-Resumable ${v.slice(0, 20)} is not supported (1.0.0)`, 'Tus-Resumable');
  }
}

const integerHeader = (req: FastifyRequest, name: string): number => {
  const v = header(req, name.toLowerCase());
  if (v === undefined || !/^\d{1,16}$/.test(v.trim())) throw new AdminError(400, 'invalid-parameter', `${name} is required: a non-negative integer`, name);
  return Number(v.trim());
};

const stateHeaders = (reply: FastifyReply, u: UploadInfo) =>
  reply.header('upload-offset', String(u.offset)).header('upload-length', String(u.length)).header('upload-expires', u.expires.toUTCString()).header('cache-control', 'no-store');

async function uploadRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  const store = uploadStore(platform);
  // A chunk is read as a stream by the store (never buffered; bounded by the upload's declared length).
  if (!app.hasContentTypeParser(CHUNK_TYPE)) app.addContentTypeParser(CHUNK_TYPE, (_req, payload, done) => done(null, payload));
  const run = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw asUploadAdminError(e);
    }
  };

  // tus creation extension: POST with Upload-Length (Upload-Defer-Length is not offered) → 201 and Location.
  app.post('/uploads', async (req, reply) => {
    checkVersion(req, reply);
    if (header(req, 'upload-defer-length') !== undefined) throw new AdminError(400, 'invalid-parameter', 'Upload-Defer-Length is not supported: give Upload-Length', 'Upload-Defer-Length');
    if (Number(header(req, 'content-length') ?? 0) > 0) throw new AdminError(400, 'invalid-parameter', 'Send the bytes with PATCH requests (creation-with-upload is not offered)', 'body');
    const length = integerHeader(req, 'Upload-Length');
    const metadata = await run(async () => parseUploadMetadata(header(req, 'upload-metadata')));
    const u = await run(() => store.create(length, metadata));
    reply.header('tus-version', TUS_VERSION).header('tus-extension', TUS_EXTENSIONS).header('tus-max-size', String(store.maxBytes));
    return stateHeaders(reply.status(201).header('location', `${publicBaseUrl(req, platform.config)}/admin/uploads/${u.id}`), u).send();
  });

  app.head<{ Params: { id: string } }>('/uploads/:id', async (req, reply) => {
    checkVersion(req, reply);
    const u = await run(() => store.info(req.params.id));
    if (Object.keys(u.metadata).length) reply.header('upload-metadata', encodeUploadMetadata(u.metadata));
    return stateHeaders(reply.status(200), u).send();
  });

  // tus core PATCH: the bytes at Upload-Offset (409 when it is not the server's), appended as they arrive.
  app.patch<{ Params: { id: string } }>('/uploads/:id', async (req, reply) => {
    checkVersion(req, reply);
    const type = (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== CHUNK_TYPE) throw new AdminError(415, 'unsupported-media-type', `A chunk is sent as ${CHUNK_TYPE}`, 'Content-Type');
    const offset = integerHeader(req, 'Upload-Offset');
    const u = await run(async () => {
      const now = await store.info(req.params.id);
      const declared = header(req, 'content-length');
      // Refused before a byte is read when the request says it is too long.
      if (declared !== undefined && offset === now.offset && offset + Number(declared) > now.length) {
        throw new UploadError(413, `The chunk (${declared} bytes at ${offset}) goes past the declared Upload-Length ${now.length}`, 'Upload-Length');
      }
      return store.append(req.params.id, offset, req.body as Readable | undefined);
    });
    return stateHeaders(reply.status(204), u).send();
  });

  // tus termination extension.
  app.delete<{ Params: { id: string } }>('/uploads/:id', async (req, reply) => {
    checkVersion(req, reply);
    await run(() => store.remove(req.params.id));
    return reply.status(204).send();
  });
}

const TUS_HEADER = { name: 'Tus-Resumable', in: 'header', required: true, schema: { type: 'string', enum: [TUS_VERSION] } };
const ID_PARAM = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{32}$' } };
const PROBLEM = { $ref: '#/components/responses/Problem' };

export const uploadsModule: AdminModule = {
  name: 'uploads',
  routes: uploadRoutes,
  openapi: {
    paths: {
      '/uploads': {
        post: {
          tags: ['uploads'],
          summary: 'Create a resumable upload (tus 1.0.0 creation): Upload-Length, Upload-Metadata with filename (base64); then PATCH its Location',
          parameters: [
            TUS_HEADER,
            { name: 'Upload-Length', in: 'header', required: true, schema: { type: 'integer', minimum: 0 }, description: 'At most SDI_IMPORT_MAX_BYTES (413 beyond)' },
            { name: 'Upload-Metadata', in: 'header', schema: { type: 'string' }, description: 'e.g. "filename cGFyY2VsbGVzLmdwa2c=": the name gives GDAL the format' },
          ],
          responses: { '201': { description: 'Created: Location, Upload-Offset 0, Upload-Expires, and what the server speaks (Tus-Version, Tus-Extension, Tus-Max-Size)' }, '400': PROBLEM, '412': PROBLEM, '413': PROBLEM, default: PROBLEM },
        },
      },
      '/uploads/{id}': {
        parameters: [ID_PARAM, TUS_HEADER],
        head: { tags: ['uploads'], summary: 'The offset the server has (resume from it), Upload-Length, Upload-Metadata', responses: { '200': { description: 'Upload-Offset, Upload-Length' }, '404': { description: 'Unknown' }, '410': { description: 'Expired' } } },
        patch: {
          tags: ['uploads'],
          summary: 'Append a chunk at Upload-Offset (application/offset+octet-stream); 409 when the offset is not the server’s',
          parameters: [{ name: 'Upload-Offset', in: 'header', required: true, schema: { type: 'integer', minimum: 0 } }],
          requestBody: { required: true, content: { [CHUNK_TYPE]: { schema: { type: 'string', format: 'binary' } } } },
          responses: { '204': { description: 'Upload-Offset: the new offset' }, '409': PROBLEM, '410': PROBLEM, '413': PROBLEM, '415': PROBLEM, default: PROBLEM },
        },
        delete: { tags: ['uploads'], summary: 'Terminate an upload (its bytes are removed)', responses: { '204': { description: 'Removed' }, '404': PROBLEM, default: PROBLEM } },
      },
    },
  },
};
