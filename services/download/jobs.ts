/**
 * Deferred download jobs over HTTP:
 *   POST   /jobs              the JSON request of /extract → 202, Location: /jobs/<id>, the status document
 *   GET    /jobs/<id>         state, progress, times, counts, the signed result link and its expiry, error
 *   DELETE /jobs/<id>         cancel (queued: at once; running: its worker aborts); 409 once it is over
 *   GET    /files/<id>?expires=…&signature=…   the result (403 bad signature, 410 expired, 404 unknown)
 * Jobs are anonymous for now: the random id is the capability. The queue, workers and janitor are in
 * src/download/jobs/.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../../src/platform.js';
import { ANONYMOUS } from '../../src/access/policy.js';
import { publicBaseUrl } from '../../src/ogc/public-url.js';
import { DownloadError } from '../../src/download/errors.js';
import { contentDisposition, queryOf, sendProblem } from './http.js';
import { requestFromJson } from '../../src/download/request.js';
import { estimateExtract } from '../../src/download/estimate.js';
import { logDownload } from '../../src/download/usage.js';
import { enqueue, getJob, requestCancel, type JobRow } from '../../src/download/jobs/queue.js';
import { linkSecret, resultLink, verify } from '../../src/download/jobs/signed-link.js';
import { configuredRoot, webhookPolicy } from '../../src/download/jobs/notify.js';
import { checkDestination, OutboundError } from '../../src/net/outbound.js';
import { DOWNLOAD_JOB_KIND, resultsRoot } from '../../src/download/jobs/worker.js';

// sendProblem (http.ts) maps DownloadError, OgcError (e.g. a bad CQL2 filter) and database errors alike.
const problem = (req: FastifyRequest, reply: FastifyReply, e: unknown): FastifyReply => sendProblem(req, reply, e);

/** A webhook only to a destination the outbound guard allows (refused now, not at delivery time). */
async function checkWebhook(platform: Platform, url: string): Promise<void> {
  try {
    await checkDestination(url, webhookPolicy(platform));
  } catch (e) {
    if (!(e instanceof OutboundError)) throw e;
    throw new DownloadError(400, 'webhook-not-allowed', `notify.webhook: ${e.message} (only public addresses, or those the platform is configured to allow)`, 'notify.webhook');
  }
}

const notFound = (id: string) => new DownloadError(404, 'unknown-job', `No job '${id.slice(0, 60)}'`, 'id');

export async function jobRoutes(app: FastifyInstance, opts: { platform: Platform; mountPath: string }): Promise<void> {
  const { platform } = opts;
  const base = (req: FastifyRequest) => `${publicBaseUrl(req, platform.config)}${opts.mountPath}`;

  /** The status document of a job, as GET /jobs/<id> answers it. */
  async function statusDocument(job: JobRow, b: string): Promise<Record<string, unknown>> {
    const r = (job.result ?? {}) as Record<string, unknown>;
    const doc: Record<string, unknown> = {
      id: job.id,
      state: job.state,
      progress: Math.round(job.progress * 1000) / 1000,
      ...(job.message ? { message: job.message } : {}),
      created: job.created_at.toISOString(),
      ...(job.started_at ? { started: job.started_at.toISOString() } : {}),
      ...(job.finished_at ? { finished: job.finished_at.toISOString() } : {}),
      attempts: job.attempts,
      request: job.request,
      ...(r.estimate ? { estimate: r.estimate } : {}),
      links: [{ rel: 'self', href: `${b}/jobs/${job.id}`, type: 'application/json' }] as Array<Record<string, unknown>>,
    };
    if (job.state === 'done' && job.expires_at) {
      const link = await resultLink(platform, b, job.id, job.expires_at);
      doc.result = { href: link.href, expires: link.expires, filename: r.filename, mediaType: r.mediaType, bytes: r.bytes, features: r.featureCount, layers: r.features };
      (doc.links as Array<Record<string, unknown>>).push({ rel: 'enclosure', href: link.href, type: r.mediaType, title: r.filename, length: r.bytes });
    }
    if (job.state === 'expired' && job.expires_at) doc.expired = job.expires_at.toISOString();
    if (job.error) doc.error = job.error;
    return doc;
  }

  app.post('/jobs', async (req, reply) => {
    try {
      queryOf(req, []);
      const extractReq = requestFromJson(req.body);
      // Unknown layers, bad areas, over-limit extracts fail here, before anything is queued.
      if (extractReq.notify?.webhook) await checkWebhook(platform, extractReq.notify.webhook);
      const estimate = await estimateExtract(platform, extractReq, ANONYMOUS);
      const b = base(req);
      const job = await enqueue(platform.pool, {
        id: randomUUID(),
        kind: DOWNLOAD_JOB_KIND,
        request: req.body,
        principal: ANONYMOUS.login,
        // Links sent later (webhook, e-mail) come from the configuration only, never from this request's headers.
        baseUrl: `${configuredRoot(platform)}${opts.mountPath}`,
        result: { estimate },
      });
      return reply
        .status(202)
        .header('location', `${b}/jobs/${job.id}`)
        .type('application/json')
        .send(await statusDocument(job, b));
    } catch (e) {
      return problem(req, reply, e);
    }
  });

  app.get<{ Params: { id: string } }>('/jobs/:id', async (req, reply) => {
    try {
      queryOf(req, []);
      const job = await getJob(platform.pool, req.params.id);
      if (!job) throw notFound(req.params.id);
      return reply.type('application/json').header('cache-control', 'no-store').send(await statusDocument(job, base(req)));
    } catch (e) {
      return problem(req, reply, e);
    }
  });

  app.delete<{ Params: { id: string } }>('/jobs/:id', async (req, reply) => {
    try {
      queryOf(req, []);
      const changed = await requestCancel(platform.pool, req.params.id);
      if (changed) return reply.type('application/json').send(await statusDocument(changed, base(req)));
      const job = await getJob(platform.pool, req.params.id);
      if (!job) throw notFound(req.params.id);
      if (job.state === 'cancelled') return reply.type('application/json').send(await statusDocument(job, base(req)));
      throw new DownloadError(409, 'job-over', `Job ${job.id} is already ${job.state}; only queued or running jobs can be cancelled`, 'id', { state: job.state });
    } catch (e) {
      return problem(req, reply, e);
    }
  });

  app.get<{ Params: { id: string }; Querystring: { expires?: string; signature?: string } }>('/files/:id', async (req, reply) => {
    try {
      const { id } = req.params;
      queryOf(req, ['expires', 'signature']);
      const check = verify(await linkSecret(platform), id, req.query.expires, req.query.signature);
      if (check === 'bad-signature') throw new DownloadError(403, 'bad-signature', 'This download link is not valid (its signature does not match: it was altered or is incomplete)', 'signature');
      if (check === 'expired') throw new DownloadError(410, 'link-expired', `This download link expired on ${new Date(Number(req.query.expires) * 1000).toISOString()}; ask for the extract again`, 'expires');
      const job = await getJob(platform.pool, id);
      if (!job) throw notFound(id);
      if (job.state === 'expired' || (job.state === 'done' && job.expires_at && job.expires_at.getTime() <= Date.now())) {
        throw new DownloadError(410, 'link-expired', `The result of job ${id} expired on ${job.expires_at?.toISOString()} and was deleted; ask for the extract again`, 'expires');
      }
      const r = (job.result ?? {}) as Record<string, unknown>;
      if (job.state !== 'done' || typeof r.file !== 'string') throw new DownloadError(404, 'no-result', `Job ${id} has no result (${job.state})`, 'id', { state: job.state });
      const path = join(resultsRoot(platform), r.file);
      let size: number;
      try {
        size = (await stat(path)).size;
      } catch {
        throw new DownloadError(410, 'result-gone', `The result of job ${id} is no longer available; ask for the extract again`, 'id');
      }
      if (req.method === 'GET') reply.raw.once('finish', () => {
        const features = typeof r.featureCount === 'number' ? r.featureCount : 0;
        void logDownload(platform, { operation: 'job', principal: job.principal ? { login: job.principal } : undefined, req: requestFromJson(job.request), areaLabel: typeof r.area === 'string' ? r.area : undefined, features, bytes: size, jobId: id }).catch((err) => req.log.warn({ err }, 'usage log failed'));
      });
      return reply
        .type(String(r.mediaType ?? 'application/octet-stream'))
        .header('content-length', String(size))
        .header('content-disposition', contentDisposition(String(r.filename ?? `${id}.bin`)))
        .header('cache-control', 'private, no-store')
        .send(createReadStream(path));
    } catch (e) {
      return problem(req, reply, e);
    }
  });
}

