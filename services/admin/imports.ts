/**
 * Imports in the administration API (issue 10): POST /admin/imports takes files GDAL reads (multipart upload:
 * one or more parts, e.g. a zipped Shapefile, its loose .shp/.shx/.dbf/.prj, a GeoPackage of several layers, a
 * CSV) or a URL fetched through the guarded outbound client (src/net/outbound.ts), with the detection overrides
 * as fields, and answers with the import report (layers, counts, EPSG codes, encodings, warnings). The work is
 * src/publishing/import.ts, the same function as `cli.js import`. Versions kept by imports are listed and rolled
 * back under /admin/layer-versions/{layer}.
 */
import { copyFileSync, createWriteStream, linkSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import type { Platform } from '../../src/platform.js';
import { importFiles, rollbackImport, listVersions, ImportError, type ImportRequest } from '../../src/publishing/import.js';
import { IMPORT_JOB_KIND, discardQueuedImport, queueImport } from '../../src/publishing/import-job.js';
import { getJob, isUuid, requestCancel, type JobRow } from '../../src/download/jobs/queue.js';
import { callerOf } from '../../src/server/principal.js';
import { publicBaseUrl } from '../../src/ogc/public-url.js';
import { OutboundError, OutboundPolicy, outboundRequest } from '../../src/net/outbound.js';
import { AdminError } from './problem.js';
import { asUploadAdminError, uploadStore } from './uploads.js';
import type { AdminModule } from './module.js';

/** Form fields (and JSON members) of POST /imports, with the ImportRequest member each sets. */
const FIELDS = ['async', 'url', 'upload', 'name', 'title', 'mode', 'encoding', 'source_crs', 'srid', 'x_column', 'y_column', 'wkt_column', 'layers', 'extent_check', 'temporal', 'temporal_end'] as const;
type Field = (typeof FIELDS)[number];

/** A file name safe on disk that keeps what GDAL needs: the base name (a Shapefile's parts share it) and the extension. */
function diskName(name: string): string {
  const b = basename(name.replace(/\\/g, '/')).replace(/[^\p{L}\p{N}._ -]/gu, '_').replace(/^\.+/, '');
  return b.slice(-120) || 'upload';
}

function toRequest(fields: Partial<Record<Field, string[]>>, files: string[]): ImportRequest {
  const one = (k: Field): string | undefined => {
    const v = fields[k];
    if (!v || v.length === 0) return undefined;
    if (v.length > 1 && k !== 'layers') throw new AdminError(400, 'invalid-parameter', `${k} is given more than once`, k);
    return v[0]!.trim() === '' ? undefined : v[0]!.trim();
  };
  const mode = one('mode') ?? 'replace';
  if (mode !== 'replace' && mode !== 'append') throw new AdminError(400, 'invalid-parameter', 'mode is replace or append', 'mode');
  const extentCheck = one('extent_check') ?? 'warn';
  if (extentCheck !== 'warn' && extentCheck !== 'error' && extentCheck !== 'off') throw new AdminError(400, 'invalid-parameter', 'extent_check is warn, error or off', 'extent_check');
  const srid = one('srid');
  if (srid !== undefined && !/^\d{4,6}$/.test(srid.replace(/^EPSG:/i, ''))) throw new AdminError(400, 'invalid-parameter', 'srid is an EPSG code (e.g. 2154)', 'srid');
  const layers = (fields.layers ?? []).flatMap((l) => l.split(',')).map((l) => l.trim()).filter(Boolean);
  return {
    files, name: one('name'), title: one('title'), mode, encoding: one('encoding'), sourceCrs: one('source_crs'),
    srid: srid === undefined ? undefined : Number(srid.replace(/^EPSG:/i, '')),
    xColumn: one('x_column'), yColumn: one('y_column'), wktColumn: one('wkt_column'), layers: layers.length ? layers : undefined,
    extentCheck, temporalProperty: one('temporal'), temporalEndProperty: one('temporal_end'),
  };
}

function checkField(k: string): Field {
  if (!(FIELDS as readonly string[]).includes(k)) throw new AdminError(400, 'invalid-parameter', `Unknown field ${k.slice(0, 40)} (known: file parts, ${FIELDS.join(', ')})`, k);
  return k as Field;
}

/** Read a multipart body: file parts to `dir`, fields collected. */
async function readMultipart(req: FastifyRequest, dir: string, maxBytes: number): Promise<{ fields: Partial<Record<Field, string[]>>; files: string[] }> {
  const fields: Partial<Record<Field, string[]>> = {};
  const files: string[] = [];
  for await (const part of req.parts()) {
    if (part.type === 'file') {
      const target = join(dir, diskName(part.filename || part.fieldname));
      if (files.includes(target)) throw new AdminError(400, 'invalid-parameter', `Two files are named ${basename(target)}`, part.fieldname);
      await pipeline(part.file, createWriteStream(target));
      if (part.file.truncated) throw new AdminError(413, 'too-large', `The file ${basename(target)} exceeds the import limit of ${maxBytes} bytes`, part.fieldname);
      files.push(target);
    } else {
      const k = checkField(part.fieldname);
      (fields[k] ??= []).push(String(part.value));
    }
  }
  return { fields, files };
}

/** Fetch a URL through the guarded client into `dir`. */
async function download(platform: Platform, url: string, dir: string): Promise<string> {
  const max = platform.config.import.maxBytes;
  try {
    const r = await outboundRequest(url, { timeoutMs: 300_000, maxBytes: max, maxRedirects: 5 }, new OutboundPolicy(platform.config.outboundAllow));
    if (r.status !== 200) throw new AdminError(422, 'import-refused', `The URL answered HTTP ${r.status}`, 'url');
    const disposition = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(String(r.headers['content-disposition'] ?? ''))?.[1];
    const fromPath = decodeURIComponent(new URL(r.url).pathname.split('/').pop() ?? '');
    const target = join(dir, diskName(disposition ?? (fromPath || 'download')));
    writeFileSync(target, r.body);
    return target;
  } catch (e) {
    if (e instanceof OutboundError) throw new AdminError(e.kind === 'too-large' ? 413 : 422, e.kind === 'too-large' ? 'too-large' : 'import-refused', `The URL cannot be fetched: ${e.message}`, 'url');
    throw e;
  }
}

/**
 * The files of finished resumable uploads (services/admin/uploads.ts), put in `dir` under their client names
 * (the extension tells GDAL the format; a Shapefile's parts may be several uploads). Linked, not copied, when
 * the folders share a file system. 404 unknown, 409 incomplete.
 */
async function uploadedFiles(platform: Platform, ids: string[], dir: string): Promise<string[]> {
  const store = uploadStore(platform);
  const files: string[] = [];
  for (const id of ids) {
    try {
      const { path, info } = await store.finished(id.trim());
      const target = join(dir, diskName(info.filename));
      if (files.includes(target)) throw new AdminError(400, 'invalid-parameter', `Two uploads are named ${basename(target)}`, 'upload');
      try {
        linkSync(path, target);
      } catch {
        copyFileSync(path, target);
      }
      files.push(target);
    } catch (e) {
      throw asUploadAdminError(e);
    }
  }
  return files;
}

/** An import job as its status shows it: state, progress, the report once done, the reason once failed. */
function jobStatus(job: JobRow, href: string): Record<string, unknown> {
  return {
    id: job.id, href, state: job.state, progress: job.progress, message: job.message,
    ...(job.state === 'done' ? { report: job.result } : {}),
    ...(job.error ? { error: job.error } : {}),
    created: job.created_at.toISOString(), updated: job.updated_at.toISOString(),
  };
}

async function removeUploads(platform: Platform, ids: string[]): Promise<void> {
  for (const id of ids) await uploadStore(platform).remove(id).catch(() => undefined);
}

function asAdminError(e: unknown): unknown {
  if (!(e instanceof ImportError)) return e;
  if (e.kind === 'conflict') return new AdminError(409, 'conflict', e.message, e.parameter);
  if (e.kind === 'not-found') return new AdminError(404, 'not-found', e.message, e.parameter);
  return new AdminError(422, 'import-refused', e.message, e.parameter);
}

async function importRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  const settings = platform.config.import;
  if (!app.hasContentTypeParser('multipart/form-data')) {
    await app.register(multipart, { limits: { fileSize: settings.maxBytes, files: 100, fields: 50, fieldSize: 64 * 1024 } });
  }

  app.post('/imports', async (req, reply) => {
    const dir = mkdtempSync(join(tmpdir(), 'sdi-upload-'));
    try {
      let fields: Partial<Record<Field, string[]>>;
      let files: string[] = [];
      if (req.isMultipart()) ({ fields, files } = await readMultipart(req, dir, settings.maxBytes));
      else if (req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body)) {
        fields = {};
        for (const [k, v] of Object.entries(req.body as Record<string, unknown>)) fields[checkField(k)] = (Array.isArray(v) ? v : [v]).map(String);
      } else throw new AdminError(415, 'unsupported-media-type', 'Send the files as multipart/form-data, or a JSON object with a url');
      const url = fields.url?.[0];
      const uploads = (fields.upload ?? []).flatMap((u) => u.split(',')).map((u) => u.trim()).filter(Boolean);
      if ([url ? 1 : 0, files.length ? 1 : 0, uploads.length ? 1 : 0].reduce((a, b) => a + b) > 1) throw new AdminError(400, 'invalid-parameter', 'Give files, a url or uploads, only one of them', url ? 'url' : 'upload');
      if (url) files = [await download(platform, url, dir)];
      if (uploads.length) files = await uploadedFiles(platform, uploads, dir);
      if (files.length === 0) throw new AdminError(400, 'invalid-parameter', 'No file: send one or more file parts, or a url', 'file');
      const request = toRequest(fields, files);
      const async = fields.async?.[0];
      if (async !== undefined && async !== 'true' && async !== 'false') throw new AdminError(400, 'invalid-parameter', 'async is true or false', 'async');
      if (async === 'true') {
        const { files: _files, ...options } = request;
        const job = await queueImport(platform, dir, options, callerOf(req).login);
        await removeUploads(platform, uploads);
        const href = `${publicBaseUrl(req, platform.config)}/admin/imports/${job.id}`;
        return reply.status(202).header('location', href).send(jobStatus(job, href));
      }
      const report = await importFiles(platform.pool, platform.config, { ...request, onProgress: (m) => req.log.info({ import: m }) }, settings);
      platform.layers.invalidate();
      // An upload is consumed by a successful import; after a failure it stays, to be imported again with other options.
      await removeUploads(platform, uploads);
      return reply.status(201).send(report);
    } catch (e) {
      throw asAdminError(e);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const importJob = async (id: string): Promise<JobRow> => {
    const job = isUuid(id) ? await getJob(platform.pool, id) : undefined;
    if (!job || job.kind !== IMPORT_JOB_KIND) throw new AdminError(404, 'not-found', `No import job ${id.slice(0, 60)}`, 'id');
    return job;
  };
  app.get<{ Params: { id: string } }>('/imports/:id', async (req) => {
    const job = await importJob(req.params.id);
    return jobStatus(job, `${publicBaseUrl(req, platform.config)}/admin/imports/${job.id}`);
  });
  app.delete<{ Params: { id: string } }>('/imports/:id', async (req, reply) => {
    await importJob(req.params.id);
    const job = (await requestCancel(platform.pool, req.params.id)) ?? (await importJob(req.params.id));
    discardQueuedImport(platform, job);
    return reply.status(202).send(jobStatus(job, `${publicBaseUrl(req, platform.config)}/admin/imports/${job.id}`));
  });

  app.get<{ Params: { layer: string } }>('/layer-versions/:layer', async (req) => {
    const versions = await listVersions(platform.pool, req.params.layer);
    return { layer: req.params.layer, versions: versions.map((v) => ({ ...v, createdAt: v.createdAt.toISOString() })) };
  });

  app.post<{ Params: { layer: string }; Body: unknown }>('/layer-versions/:layer/rollback', async (req) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(body).filter((k) => k !== 'version');
    if (unknown.length) throw new AdminError(400, 'invalid-parameter', `Unknown field ${unknown[0]!.slice(0, 40)} (known: version)`, unknown[0]);
    const version = body.version;
    if (version !== undefined && !(Number.isInteger(version) && (version as number) > 0)) throw new AdminError(400, 'invalid-parameter', 'version is a positive integer', 'version');
    try {
      const r = await rollbackImport(platform.pool, platform.config, req.params.layer, version as number | undefined, settings);
      platform.layers.invalidate();
      return { layer: req.params.layer, ...r };
    } catch (e) {
      throw asAdminError(e);
    }
  });
}

const LAYER_PARAM = { name: 'layer', in: 'path', required: true, schema: { type: 'string' } };
const PROBLEM = { $ref: '#/components/responses/Problem' };

export const importsModule: AdminModule = {
  name: 'imports',
  routes: importRoutes,
  openapi: {
    paths: {
      '/imports': {
        post: {
          tags: ['imports'],
          summary: 'Import the layers of files GDAL reads (GeoPackage, Shapefile zipped or loose, GeoJSON, GML, KML, MapInfo, CSV with x/y or WKT, FlatGeobuf, DXF) and publish them',
          description:
            'Every layer is loaded into a staging table and checked (geometry present, type normalised, extent against the territory); all are then swapped into place in one transaction. A failure leaves the published layers and their records as they were. Replaced tables are kept as versions (SDI_IMPORT_KEEP_VERSIONS).',
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': { schema: { $ref: '#/components/schemas/ImportForm' } },
              'application/json': { schema: { $ref: '#/components/schemas/ImportForm' } },
            },
          },
          responses: {
            '201': { description: 'The layers imported and published', content: { 'application/json': { schema: { $ref: '#/components/schemas/ImportReport' } } } },
            '202': { description: 'async=true: the import is queued as a job (Location: its status)' },
            '409': PROBLEM,
            '413': PROBLEM,
            '422': PROBLEM,
            default: PROBLEM,
          },
        },
      },
      '/imports/{id}': {
        get: { tags: ['imports'], summary: 'Status of an import job (async=true): state, progress, the report once done', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }], responses: { '200': { description: 'The job' }, '404': PROBLEM, default: PROBLEM } },
        delete: { tags: ['imports'], summary: 'Cancel an import job (nothing is published when it stops before the swap)', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }], responses: { '202': { description: 'Cancel requested' }, '404': PROBLEM, default: PROBLEM } },
      },
      '/layer-versions/{layer}': {
        get: { tags: ['imports'], summary: 'Versions of a layer kept by imports', parameters: [LAYER_PARAM], responses: { '200': { description: 'The versions, latest first' }, default: PROBLEM } },
      },
      '/layer-versions/{layer}/rollback': {
        post: {
          tags: ['imports'],
          summary: 'Put back a kept version (default: the latest) with its registration; the current table is kept as a version in turn',
          parameters: [LAYER_PARAM],
          requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties: { version: { type: 'integer', minimum: 1 } } } } } },
          responses: { '200': { description: 'Restored' }, '404': PROBLEM, '409': PROBLEM, default: PROBLEM },
        },
      },
    },
    schemas: {
      ImportForm: {
        type: 'object',
        additionalProperties: false,
        properties: {
          file: { type: 'array', items: { type: 'string', format: 'binary' }, description: 'One or more files (parts of any field name)' },
          async: { type: 'boolean', default: false, description: 'Run as a job on the download queue (workers of the download service or cli.js download-worker); 202 with the job' },
          url: { type: 'string', format: 'uri', description: 'Instead of files: fetched by the platform (public addresses only, unless SDI_OUTBOUND_ALLOW)' },
          upload: { type: 'string', description: 'Instead of files: ids of finished resumable uploads (/uploads, tus 1.0.0), comma-separated; removed once imported' },
          name: { type: 'string', description: 'Layer name as you write it: made a lower-case ASCII identifier, kept as the title' },
          title: { type: 'string' },
          mode: { type: 'string', enum: ['replace', 'append'], default: 'replace' },
          encoding: { type: 'string', description: 'Attribute encoding (default: .cpg, BOM, else UTF-8 or Latin-1 detected)' },
          source_crs: { type: 'string', description: 'Source CRS: EPSG:2154, 2154, IGNF:LAMB93, an OGC URN (default: the file’s .prj / CRS, identified)' },
          srid: { type: 'integer', default: 2154, description: 'CRS of the published table' },
          x_column: { type: 'string' },
          y_column: { type: 'string' },
          wkt_column: { type: 'string' },
          layers: { type: 'string', description: 'Source layers to import, comma-separated (default: all)' },
          extent_check: { type: 'string', enum: ['warn', 'error', 'off'], default: 'warn' },
          temporal: { type: 'string' },
          temporal_end: { type: 'string' },
        },
      },
      ImportReport: {
        type: 'object',
        required: ['mode', 'layers'],
        properties: {
          mode: { type: 'string', enum: ['replace', 'append'] },
          layers: {
            type: 'array',
            items: {
              type: 'object',
              required: ['layer', 'title', 'table', 'count', 'geometryType', 'sourceCrs', 'srid', 'warnings'],
              properties: {
                layer: { type: 'string' }, title: { type: 'string' }, table: { type: 'string' }, file: { type: 'string' }, sourceLayer: { type: 'string' },
                format: { type: 'string' }, count: { type: 'integer' }, geometryType: { type: 'string' },
                sourceCrs: { type: 'object', properties: { epsg: { type: 'integer' }, source: { type: 'string', enum: ['parameter', 'file', 'assumed'] }, declared: { type: 'string' } } },
                srid: { type: 'integer' },
                encoding: { type: 'object', properties: { name: { type: 'string' }, gdal: { type: 'string' }, source: { type: 'string' } } },
                extent: { type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 4, nullable: true },
                created: { type: 'boolean' }, keptVersion: { type: 'integer' },
                areaIndexJob: { type: 'string', format: 'uuid', description: 'A polygon layer: the background job building its GiST (geom, ST_Area(geom)) index for the vector tiles (kind layer-index)' },
                warnings: { type: 'array', items: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  },
};
