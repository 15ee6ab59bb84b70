/**
 * The download service, mounted at /download: estimate, direct extracts (streamed), deferred jobs, result
 * files, INSPIRE Atom feeds, and the OpenAPI description of it all. Request parsing is in
 * src/download/request.ts, planning and limits in estimate.ts, file building in extract.ts: the routes only
 * wire them to HTTP.
 */
import { WORK_OWNER } from '../../src/download/work-owner.js';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../../src/platform.js';
import { callerOf } from '../../src/server/principal.js';
import { publicBaseUrl } from '../../src/ogc/public-url.js';
import { releaseWhenResponseCloses } from '../../src/server/release.js';
import { DownloadError } from '../../src/download/errors.js';
import { contentDisposition, queryOf, sendProblem } from './http.js';
import { QUERY_PARAMETERS, requestFromJson, requestFromQuery, type ExtractRequest } from '../../src/download/request.js';
import { prepareExtract } from '../../src/download/estimate.js';
import { measuredEstimate } from '../../src/download/estimate-sample.js';
import { buildPreparedExtract, isStreamable, openEncodedLayer } from '../../src/download/extract.js';
import { FORMATS } from '../../src/download/formats.js';
import { logDownload } from '../../src/download/usage.js';
import { listRasterLayers } from '../../src/catalog/rasters.js';
import { jobRoutes } from './jobs.js';
import { atomRoutes } from './atom.js';
import { downloadOpenApi } from './openapi.js';
import type { Service } from '../../src/server/service.js';
import { startJanitor } from '../../src/download/jobs/janitor.js';
import { ensureOwnWorkDir } from '../../src/download/work-dir.js';
import { startJobWorkers, type JobWorkers } from '../../src/publishing/job-workers.js';

export const downloadService: Service = {
  name: 'download',
  async routes(app, platform) {
    // The directory must be this database's before anything is written in it (src/download/work-dir.ts).
    await ensureOwnWorkDir(platform);
    await app.register(downloadRoutes, { prefix: '/download', platform, mountPath: '/download' });
  },
  // Deferred download jobs: workers in this process (SDI_DOWNLOAD_WORKERS; others may run `app/cli.js
  // download-worker`), and the janitor. Stopping puts running jobs back in the queue for another worker.
  // Where workers run, polygon layers lacking the vector tiles' area index are queued again at their start
  // (src/publishing/job-workers.ts); a process without workers queues nothing.
  start(platform, log) {
    const workers: JobWorkers | undefined = platform.config.download.workers > 0 ? startJobWorkers(platform, platform.config.download.workers, log) : undefined;
    const janitor = startJanitor(platform, log);
    return {
      async stop() {
        janitor.stop();
        await workers?.stop();
      },
    };
  },
};

export interface DownloadRouteOptions {
  platform: Platform;
  mountPath: string;
}

/** Read the request from the query string (GET) or the JSON body (POST). */
export function readRequest(req: FastifyRequest): ExtractRequest {
  if (req.method === 'POST') return requestFromJson(req.body);
  return requestFromQuery(queryOf(req, QUERY_PARAMETERS));
}

export async function downloadRoutes(app: FastifyInstance, opts: DownloadRouteOptions): Promise<void> {
  const { platform } = opts;
  const base = (req: FastifyRequest) => `${publicBaseUrl(req, platform.config)}${opts.mountPath}`;

  app.get('/', async (req, reply) => {
    const b = base(req);
    const layers = (await platform.layers.list()).filter((l) => platform.policy.decide(callerOf(req), l, 'download').allowed);
    return reply.type('application/json').send({
      title: `${platform.config.service.title} — téléchargement`,
      links: [
        { href: `${b}/api`, rel: 'service-desc', type: 'application/vnd.oai.openapi+json;version=3.0', title: 'OpenAPI definition' },
        { href: `${b}/estimate`, rel: 'estimate', type: 'application/json', title: 'Estimate an extract (GET with the query of /extract, or POST JSON)' },
        { href: `${b}/extract`, rel: 'extract', title: 'Direct extract (GET or POST)' },
        { href: `${b}/jobs`, rel: 'jobs', type: 'application/json', title: 'Deferred extracts (POST JSON)' },
        { href: `${b}/atom`, rel: 'alternate', type: 'application/atom+xml', title: 'INSPIRE pre-defined download service (Atom)' },
      ],
      formats: FORMATS.map((f) => ({ id: f.id, title: f.title, mediaType: f.mediaType, kind: f.kind, zipped: f.multiFile })),
      crs: platform.crs.offered.map((s) => `EPSG:${s}`),
      areas: ['bbox (+ bbox-crs)', 'polygon: GeoJSON or WKT (+ polygon-crs)', ...Object.keys(platform.config.download.adminUnits).map((k) => `${k}=<code>`)],
      limits: {
        directMaxFeatures: platform.config.download.directMaxFeatures,
        directMaxBytes: platform.config.download.directMaxBytes,
        maxFeatures: platform.config.download.maxFeatures,
        maxBytes: platform.config.download.maxBytes,
      },
      layers: [
        ...layers.map((l) => ({ name: l.name, title: l.title, kind: 'vector', example: `${b}/extract?layer=${l.name}&format=gpkg&crs=EPSG:2154` })),
        ...(await listRasterLayers(platform.pool)).filter((r) => platform.policy.decideRaster(callerOf(req), r, 'download').allowed).map((r) => ({ name: r.name, title: r.title, kind: 'raster', example: `${b}/extract?layer=${r.name}&format=gtiff&crs=EPSG:${r.srid}&commune=45234` })),
      ],
    });
  });

  app.get('/api', async (req, reply) => reply.type('application/vnd.oai.openapi+json;version=3.0').send(downloadOpenApi(base(req), platform)));

  const estimate = async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const p = await prepareExtract(platform, readRequest(req), callerOf(req));
      return reply.type('application/json').send(await measuredEstimate(platform, p));
    } catch (e) {
      return sendProblem(req, reply, e);
    }
  };
  app.get('/estimate', estimate);
  app.post('/estimate', estimate);

  const extract = async (req: FastifyRequest, reply: FastifyReply) => {
    let workDir: string | undefined;
    try {
      const extractReq = readRequest(req);
      const p = await prepareExtract(platform, extractReq, callerOf(req));
      const est = p.estimate;
      if (est.mode === 'deferred') {
        const what = { directMaxFeatures: [est.features, 'features'], directMaxBytes: [est.bytes, 'bytes'], rasterDirectMaxPixels: [est.pixels ?? 0, 'pixels'] }[est.limit.name] ?? [est.features, 'features'];
        throw new DownloadError(413, 'too-big-for-direct', `This extract holds ${what[0]} ${what[1]}; direct downloads are limited to ${est.limit.value} ${what[1]}. Ask for a deferred extract: POST the same request as JSON to ${base(req)}/jobs.`, 'layer', { count: what[0], limit: est.limit.value, limitName: est.limit.name, jobs: `${base(req)}/jobs`, estimate: est });
      }
      if (isStreamable(p)) {
        const plan = p.vectors[0]!;
        const fmt = p.format.id as 'geojson' | 'csv';
        const { session, pieces, count } = await openEncodedLayer(platform, plan, extractReq, fmt, platform.config.features.statementTimeoutMs);
        let bytes = 0;
        let finished = false;
        releaseWhenResponseCloses(reply, async () => {
          await session.close(finished);
          if (finished) await logDownload(platform, { operation: 'direct', principal: callerOf(req), req: extractReq, areaLabel: p.area?.label, features: count(), bytes }).catch((err) => req.log.warn({ err }, 'usage log failed'));
        });
        async function* counted() {
          for await (const piece of pieces) {
            bytes += typeof piece === 'string' ? Buffer.byteLength(piece) : piece.length;
            yield piece;
          }
          finished = true;
        }
        const { Readable } = await import('node:stream');
        return reply
          .type(fmt === 'geojson' ? 'application/geo+json; charset=utf-8' : 'text/csv; charset=utf-8')
          .header('content-disposition', contentDisposition(`${plan.layer.name}.${p.format.extension}`))
          .header('x-feature-count-estimate', String(est.features))
          .send(Readable.from(counted()));
      }
      const root = join(platform.config.download.workDir, 'direct');
      await mkdir(root, { recursive: true });
      // Named after this process, so that the next start removes what a crash left (src/download/work-owner.ts).
      workDir = await mkdtemp(join(root, `${WORK_OWNER}~`));
      const ac = new AbortController();
      req.raw.once('close', () => {
        if (!reply.raw.headersSent) ac.abort();
      });
      const result = await buildPreparedExtract(platform, p, { workDir, signal: ac.signal, requestUrl: `${publicBaseUrl(req, platform.config)}${req.url}` });
      const dir = workDir;
      workDir = undefined;
      releaseWhenResponseCloses(reply, async () => {
        await rm(dir, { recursive: true, force: true });
      });
      reply.raw.once('finish', () => {
        const features = Object.values(result.features).reduce((s, n) => s + n, 0);
        void logDownload(platform, { operation: 'direct', principal: callerOf(req), req: extractReq, areaLabel: p.area?.label, features, bytes: result.bytes }).catch((err) => req.log.warn({ err }, 'usage log failed'));
      });
      return reply
        .type(result.mediaType)
        .header('content-length', String(result.bytes))
        .header('content-disposition', contentDisposition(result.filename))
        .header('x-feature-count', String(Object.values(result.features).reduce((s, n) => s + n, 0)))
        .send(createReadStream(result.path));
    } catch (e) {
      if (workDir) await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
      return sendProblem(req, reply, e);
    }
  };
  app.get('/extract', extract);
  app.post('/extract', extract);

  await app.register(jobRoutes, { platform, mountPath: opts.mountPath });
  await app.register(atomRoutes, { platform, mountPath: opts.mountPath });
}
