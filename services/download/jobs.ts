/**
 * Deferred download jobs over HTTP:
 *   POST   /jobs              the JSON request of /extract → 202, Location: /jobs/<id>, the status document
 *                              and, once, `cancelToken`; 429 over a quota
 *   GET    /jobs/<id>         state, progress, times, counts, the signed result link and its expiry, error
 *   DELETE /jobs/<id>         cancel (queued: at once; running: its worker aborts); 409 once it is over;
 *                              only with the job's token (X-Job-Token) or by its owner / the admin, else 403
 *   GET    /files/<id>?expires=…&signature=…   the result (403 bad signature, 410 expired, 404 unknown)
 *
 * Quotas (issue 13 point 7): a client — the authenticated principal (the admin token's holder), else the
 * client address, read with the trusted-proxy rule (src/net/client-address.ts) — has at most
 * download.jobsPerClient unfinished jobs, and everyone together download.jobsTotal; over either, 429
 * problem+json with Retry-After, nothing queued. Cancelling needs the secret token handed out once at
 * creation (stored as its SHA-256, compared in constant time): knowing a job's id (it is in links, logs,
 * e-mails) is not enough to cancel it. The queue, workers and janitor are in src/download/jobs/.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../../src/platform.js';
import { matchesHash, sha256 } from '../../src/access/credentials.js';
import { getRasterLayer } from '../../src/catalog/rasters.js';
import { principalOfJobOwner } from '../../src/access/accounts.js';
import { callerOf } from '../../src/server/principal.js';
import type { Principal } from '../../src/access/policy.js';
import { clientAddress } from '../../src/net/client-address.js';
import { publicBaseUrl } from '../../src/ogc/public-url.js';
import { DownloadError } from '../../src/download/errors.js';
import { contentDisposition, queryOf, sendProblem } from './http.js';
import { requestFromJson } from '../../src/download/request.js';
import { prepareExtract } from '../../src/download/estimate.js';
import { measuredEstimate } from '../../src/download/estimate-sample.js';
import { logDownload } from '../../src/download/usage.js';
import { enqueueWithinQuota, getJob, QuotaExceeded, requestCancel, type JobRow } from '../../src/download/jobs/queue.js';
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

/** Retry-After of a refused job (seconds): about how long an extract takes to leave the queue. */
const QUOTA_RETRY_AFTER_S = 60;
export const JOB_TOKEN_HEADER = 'x-job-token';

/** The caller, or a 401 problem when it presents a credential that is not valid. */
function principalOf(req: FastifyRequest, _platform: Platform): Principal {
  if (req.credentialRejected) throw new DownloadError(401, 'invalid-credentials', 'The Authorization header does not hold a valid credential (omit it to ask anonymously)', 'authorization');
  return callerOf(req);
}

/**
 * A job's status and its file are the job's layers: the policy is asked again, for the principal that asked
 * for the job, each time they are read, so that a right withdrawn since (or a lockdown) also stops the links
 * already sent. The signed link says who may fetch; the policy says whether the data may still go out.
 */
async function checkStillPermitted(platform: Platform, job: JobRow): Promise<void> {
  const owner: Principal = await principalOfJobOwner(platform.pool, job.principal);
  for (const name of requestFromJson(job.request).layers) {
    const layer = await platform.layers.get(name);
    const raster = layer ? undefined : await getRasterLayer(platform.pool, name);
    // A layer gone since holds nothing to protect: asked as a public raster (allowed but under a lockdown), so that
    // the owner still sees why its job failed.
    const ok = layer
      ? platform.policy.decide(owner, layer, 'download').allowed
      : platform.policy.decideRaster(owner, raster ?? { name, public: true }, 'download').allowed;
    if (!ok) throw new DownloadError(403, 'forbidden', `The data of job ${job.id} may no longer be downloaded`, 'id');
  }
}

function quotaProblem(e: QuotaExceeded): DownloadError {
  return e.quota === 'per-client'
    ? new DownloadError(429, 'too-many-jobs-per-client', `You already have ${e.limit} unfinished job(s), the most one client may have; wait for one to finish (or cancel one) and ask again`, undefined, { limit: e.limit })
    : new DownloadError(429, 'too-many-jobs-total', `The service already holds ${e.limit} unfinished jobs, the most it takes; ask again later`, undefined, { limit: e.limit });
}

/** May this request cancel this job? Its token, or its owner principal, or the admin (the operator). */
function mayCancel(req: FastifyRequest, platform: Platform, job: JobRow): boolean {
  const who = principalOf(req, platform);
  if (who.admin === true) return true;
  if (who.login !== undefined && job.principal === who.login) return true;
  const token = req.headers[JOB_TOKEN_HEADER];
  return typeof token === 'string' && token.length > 0 && job.cancel_token_hash !== null && matchesHash(token, job.cancel_token_hash);
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
    if (job.notification) doc.notification = job.notification;
    return doc;
  }

  app.post('/jobs', async (req, reply) => {
    try {
      queryOf(req, []);
      const principal = principalOf(req, platform);
      const extractReq = requestFromJson(req.body);
      // Unknown layers, bad areas, over-limit extracts fail here, before anything is queued.
      if (extractReq.notify?.webhook) await checkWebhook(platform, extractReq.notify.webhook);
      const estimate = await measuredEstimate(platform, await prepareExtract(platform, extractReq, principal));
      const b = base(req);
      // 256 random bits: a hash without salt or stretching is enough to keep it secret at rest.
      const cancelToken = randomBytes(32).toString('base64url');
      const { jobsPerClient, jobsTotal } = platform.config.download;
      const job = await enqueueWithinQuota(
        platform.pool,
        {
          id: randomUUID(),
          kind: DOWNLOAD_JOB_KIND,
          request: req.body,
          principal: principal.login,
          clientIp: clientAddress(req, platform.config.trustedProxies),
          cancelTokenHash: sha256(cancelToken).toString('hex'),
          // Links sent later (webhook, e-mail) come from the configuration only, never from this request's headers.
          baseUrl: `${configuredRoot(platform)}${opts.mountPath}`,
          result: { estimate },
        },
        { perClient: jobsPerClient, total: jobsTotal },
      );
      return reply
        .status(202)
        .header('location', `${b}/jobs/${job.id}`)
        .header('cache-control', 'no-store')
        .type('application/json')
        .send({ ...(await statusDocument(job, b)), cancelToken });
    } catch (e) {
      if (e instanceof QuotaExceeded) {
        reply.header('retry-after', String(QUOTA_RETRY_AFTER_S));
        return problem(req, reply, quotaProblem(e));
      }
      return problem(req, reply, e);
    }
  });

  app.get<{ Params: { id: string } }>('/jobs/:id', async (req, reply) => {
    try {
      queryOf(req, []);
      const job = await getJob(platform.pool, req.params.id);
      if (!job) throw notFound(req.params.id);
      await checkStillPermitted(platform, job);
      return reply.type('application/json').header('cache-control', 'no-store').send(await statusDocument(job, base(req)));
    } catch (e) {
      return problem(req, reply, e);
    }
  });

  app.delete<{ Params: { id: string } }>('/jobs/:id', async (req, reply) => {
    try {
      queryOf(req, []);
      const found = await getJob(platform.pool, req.params.id);
      if (!found) throw notFound(req.params.id);
      if (!mayCancel(req, platform, found)) {
        throw new DownloadError(403, 'cancel-forbidden', `Cancelling job ${found.id} needs its cancel token (header X-Job-Token, given once in the answer to POST /download/jobs) or its owner's credentials`, 'X-Job-Token');
      }
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
      await checkStillPermitted(platform, job);
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

