/**
 * Workers of deferred download jobs. Each worker slot keeps one PostgreSQL connection of its own: it claims
 * jobs on it and holds there the job's session advisory lock for the whole run (see queue.ts), so a worker
 * that dies — process killed, machine gone — frees its job at once for another worker.
 *
 * Slots run in the serving process (config.download.workers) or in separate processes, on this machine or
 * others (`node dist/app/cli.js download-worker --concurrency N`): all they share is the database and the
 * result directory (config.download.workDir, which must then be shared storage).
 *
 * A run: prepare the extract (layers, area, estimate), build it with the same code as direct downloads
 * (src/download/extract.ts) in a work directory of its own, move the file to results/<id>/<attempt>/, mark
 * the job done with its expiry, then notify. Cancel: the worker hears it (NOTIFY sdi_jobs_cancel, or by
 * polling), aborts the build and marks the job cancelled. Stop (SIGTERM, server shutdown): running jobs are
 * aborted and put back in the queue for another worker.
 */
import pg from 'pg';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { copyFile, mkdir, readdir, rename, rm } from 'node:fs/promises';
import type { Platform } from '../../platform.js';
import { requestFromJson } from '../request.js';
import { prepareExtract } from '../estimate.js';
import { principalOfJobOwner } from '../../access/accounts.js';
import { buildPreparedExtract } from '../extract.js';
import { DownloadError } from '../errors.js';
import { isDatabaseUnavailable } from '../../db/errors.js';
import { cancelRequested, claim, finishCancelled, finishDone, finishFailed, reportProgress, requeue, requeueAfterOutage, unlock, type JobRow, type Lease } from './queue.js';
import { notifyJob, serviceBase } from './notify.js';
import { ensureOwnWorkDir } from '../work-dir.js';

export interface WorkerLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface WorkerOptions {
  /** How often an idle slot looks for work without being woken (also how soon an orphan is found). */
  pollMs?: number;
  /** How often a running job's progress is written and its cancel flag read. */
  progressMs?: number;
  /** How long stop() waits for running jobs to abort before requeueing them itself. */
  stopGraceMs?: number;
  /** Jobs of other kinds these workers run (e.g. 'import', src/publishing/import-job.ts), by kind. */
  handlers?: Record<string, JobHandler>;
  /** Claim only jobs of these kinds (default: downloads and every kind of `handlers`). */
  kinds?: string[];
}

/** A job failing for a reason its requester should read (the message is shown in the job's status). */
export class JobFailure extends Error {}

export interface JobContext {
  /** Aborted when the job is cancelled, its worker stops or loses the job. */
  signal: AbortSignal;
  setProgress(fraction: number, message?: string): void;
}

/** Runs a job of another kind than downloads: its result (shown in the status), or a JobFailure. */
export type JobHandler = (platform: Platform, job: JobRow, ctx: JobContext) => Promise<Record<string, unknown>>;

export interface DownloadWorkers {
  /** Abort running jobs, put them back in the queue, close the connections. */
  stop(): Promise<void>;
  /** Ids of the jobs running in this process now. */
  running(): string[];
}

export const DOWNLOAD_JOB_KIND = 'download';

/** Where results and work directories of jobs live. */
export const resultsRoot = (platform: Platform) => join(platform.config.download.workDir, 'results');
export const jobsWorkRoot = (platform: Platform) => join(platform.config.download.workDir, 'jobs');

export function startDownloadWorkers(platform: Platform, n: number, log: WorkerLog, opts: WorkerOptions = {}): DownloadWorkers {
  const pollMs = opts.pollMs ?? platform.config.download.jobPollMs;
  const KINDS = opts.kinds ?? [DOWNLOAD_JOB_KIND, ...Object.keys(opts.handlers ?? {})];
  const progressMs = opts.progressMs ?? 500;
  let stopping = false;
  const wakers = new Set<() => void>();
  const wakeAll = () => {
    for (const w of [...wakers]) w();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        wakers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      wakers.add(done);
    });
  const running = new Map<string, { lease: Lease; abort: (why: 'cancel' | 'stop' | 'lost') => void }>();

  // One listening connection per process: new jobs wake idle slots, cancels reach running jobs at once.
  let listener: pg.Client | undefined;
  const listen = async (): Promise<void> => {
    if (stopping) return;
    const c = new pg.Client({ connectionString: platform.config.databaseUrl, application_name: 'sdi-download-listener', keepAlive: true });
    // One reconnection per lost client, whether the loss shows as an 'error' event, a failed connect or both.
    let retried = false;
    const retry = () => {
      if (retried) return;
      retried = true;
      if (listener === c) listener = undefined;
      setTimeout(() => void listen().catch(() => undefined), pollMs).unref();
    };
    c.on('error', (err) => {
      log.warn({ err: String(err) }, 'job listener connection lost; polling until it is back');
      retry();
    });
    c.on('end', retry);
    c.on('notification', (msg) => {
      if (msg.channel === 'sdi_jobs') wakeAll();
      else if (msg.channel === 'sdi_jobs_cancel' && msg.payload) running.get(msg.payload)?.abort('cancel');
    });
    try {
      await c.connect();
      await c.query('LISTEN sdi_jobs');
      await c.query('LISTEN sdi_jobs_cancel');
      listener = c;
      if (stopping) await c.end().catch(() => undefined);
    } catch (err) {
      log.warn({ err: String(err) }, 'job listener could not connect; polling');
      await c.end().catch(() => undefined);
      retry();
    }
  };
  void listen();

  const slots = Array.from({ length: n }, (_, i) => slotLoop(i));

  async function slotLoop(slot: number): Promise<void> {
    const name = `${hostname()}:${process.pid}:${slot}`;
    let client: pg.Client | undefined;
    let broken = false;
    let current: ((why: 'cancel' | 'stop' | 'lost') => void) | undefined;
    while (!stopping) {
      try {
        if (!client || broken) {
          await client?.end().catch(() => undefined);
          broken = false;
          const c = new pg.Client({ connectionString: platform.config.databaseUrl, application_name: 'sdi-download-worker', keepAlive: true });
          // The job's advisory lock lives on this connection: losing it means losing the lease.
          c.on('error', (err) => {
            broken = true;
            log.warn({ err: String(err), worker: name }, 'worker connection lost');
            current?.('lost');
          });
          await c.connect();
          client = c;
        }
        // A directory stamped by another database is refused before any job is claimed (src/download/work-dir.ts).
        await ensureOwnWorkDir(platform);
        const lease = await claim(client, KINDS, name);
        if (!lease) {
          await sleep(pollMs);
          continue;
        }
        await runJob(lease, (abort) => (current = abort));
        current = undefined;
        if (!broken) await unlock(client, lease);
      } catch (err) {
        broken = true;
        if (!stopping) {
          log.warn({ err: String(err), worker: name }, 'worker error; retrying');
          await sleep(pollMs);
        }
      }
    }
    await client?.end().catch(() => undefined);
  }

  async function runJob(lease: Lease, setAbort: (a: (why: 'cancel' | 'stop' | 'lost') => void) => void): Promise<void> {
    const job = lease.job;
    const ac = new AbortController();
    let why: 'cancel' | 'stop' | 'lost' | undefined;
    const abort = (w: 'cancel' | 'stop' | 'lost') => {
      why ??= w;
      ac.abort();
    };
    running.set(job.id, { lease, abort });
    setAbort(abort);
    log.info({ job: job.id, attempt: lease.attempt, worker: lease.worker }, 'job started');
    const workDir = join(jobsWorkRoot(platform), `${job.id}-${lease.attempt}`);
    // Progress: the build reports often; we write at most every progressMs, and read the cancel flag then.
    let latest = 0;
    let written = 0;
    let message: string | undefined = 'preparing';
    let ticking = false;
    const tick = async () => {
      if (ticking || ac.signal.aborted) return;
      ticking = true;
      try {
        if (latest > written || message) {
          const f = latest;
          const r = await reportProgress(platform.pool, lease, f, message);
          written = f;
          message = undefined;
          if (r.lost) abort('lost');
          else if (r.cancel) abort('cancel');
        } else if (await cancelRequested(platform.pool, lease)) abort('cancel');
      } catch {
        /* a failed progress write is retried at the next tick */
      } finally {
        ticking = false;
      }
    };
    const timer = setInterval(() => void tick(), progressMs);
    const setProgress = (f: number, m?: string) => {
      latest = Math.max(latest, f);
      if (m) message = m;
    };
    let resultDir: string | undefined;
    try {
      await removeOtherAttempts(job.id, lease.attempt);
      await mkdir(workDir, { recursive: true });
      const handler = job.kind === DOWNLOAD_JOB_KIND ? undefined : opts.handlers?.[job.kind];
      if (job.kind !== DOWNLOAD_JOB_KIND) {
        if (!handler) throw new JobFailure(`No worker here runs jobs of kind ${job.kind}`);
        const result = await handler(platform, job, { signal: ac.signal, setProgress });
        clearInterval(timer);
        const finished = await finishDone(platform.pool, lease, result, Math.round(platform.config.download.resultTtlDays * 86_400));
        if (!finished && (await cancelRequested(platform.pool, lease))) await finishCancelled(platform.pool, lease);
        log.info({ job: job.id, kind: job.kind }, finished ? 'job done' : 'job result discarded (cancelled or taken over)');
        return;
      }
      const req = requestFromJson(job.request);
      // The owner with its grants as they are now (a territorial grant restricts the job's extract too).
      const owner = await principalOfJobOwner(platform.pool, job.principal);
      const p = await prepareExtract(platform, req, owner);
      if (ac.signal.aborted) throw new DownloadError(499, 'cancelled', 'The extract was cancelled');
      setProgress(0.02, `extracting ${p.estimate.features} feature(s)`);
      const base = serviceBase(platform, job);
      const built = await buildPreparedExtract(platform, p, {
        workDir,
        signal: ac.signal,
        onProgress: (f) => setProgress(0.02 + 0.96 * Math.max(0, Math.min(1, f))),
        requestUrl: `${base}/jobs/${job.id}`,
      });
      if (ac.signal.aborted) throw new DownloadError(499, 'cancelled', 'The extract was cancelled');
      resultDir = join(resultsRoot(platform), job.id, String(lease.attempt));
      await mkdir(resultDir, { recursive: true });
      const target = join(resultDir, built.filename);
      await moveFile(built.path, target);
      const features = Object.values(built.features).reduce((s, x) => s + x, 0);
      clearInterval(timer);
      const done = await finishDone(
        platform.pool,
        lease,
        { file: join(job.id, String(lease.attempt), built.filename), filename: built.filename, mediaType: built.mediaType, bytes: built.bytes, features: built.features, featureCount: features, area: p.area?.label ?? null },
        Math.round(platform.config.download.resultTtlDays * 86_400),
      );
      if (!done) {
        // Cancelled at the last moment, or another worker holds the job now: this result is not the job's.
        await rm(resultDir, { recursive: true, force: true });
        if (await cancelRequested(platform.pool, lease)) await finishCancelled(platform.pool, lease);
        log.info({ job: job.id }, 'job result discarded (cancelled or taken over)');
        return;
      }
      log.info({ job: job.id, features, bytes: built.bytes }, 'job done');
      await notifyJob(platform, done, log);
    } catch (err) {
      clearInterval(timer);
      if (resultDir) await rm(resultDir, { recursive: true, force: true }).catch(() => undefined);
      let closed: JobRow | undefined;
      if (why === 'stop') {
        await requeue(platform.pool, lease, 'requeued: its worker was stopping').catch(() => undefined);
        log.info({ job: job.id }, 'job put back in the queue (worker stopping)');
      } else if (why === 'lost') {
        log.warn({ job: job.id }, 'job lease lost; another worker will finish it');
      } else if (why === 'cancel' || (await cancelRequested(platform.pool, lease).catch(() => false))) {
        closed = await finishCancelled(platform.pool, lease);
        log.info({ job: job.id }, 'job cancelled');
      } else if (isDatabaseUnavailable(err) && (await requeueAfterOutage(platform.pool, lease).catch(() => true))) {
        log.warn({ job: job.id, err: String(err) }, 'job put back in the queue (database unavailable)');
      } else if (err instanceof JobFailure) {
        closed = await finishFailed(platform.pool, lease, err.message);
        log.info({ job: job.id, err: err.message }, 'job failed');
      } else if (err instanceof DownloadError) {
        closed = await finishFailed(platform.pool, lease, err.message);
        log.info({ job: job.id, err: err.message }, 'job failed');
      } else {
        log.error({ job: job.id, err: err instanceof Error ? err.stack : String(err) }, 'job failed (internal error)');
        closed = await finishFailed(platform.pool, lease, 'The extract could not be built (internal error); the operators have the details in their logs');
      }
      if (closed?.state === 'failed' && job.kind === DOWNLOAD_JOB_KIND) await notifyJob(platform, closed, log);
    } finally {
      clearInterval(timer);
      running.delete(job.id);
      await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Work directories of earlier attempts of this job (their worker died) on this machine's disk. */
  async function removeOtherAttempts(id: string, attempt: number): Promise<void> {
    const root = jobsWorkRoot(platform);
    const names = await readdir(root).catch(() => [] as string[]);
    await Promise.all(names.filter((f) => f.startsWith(`${id}-`) && f !== `${id}-${attempt}`).map((f) => rm(join(root, f), { recursive: true, force: true }).catch(() => undefined)));
    await rm(join(resultsRoot(platform), id), { recursive: true, force: true }).catch(() => undefined);
  }

  return {
    running: () => [...running.keys()],
    async stop() {
      if (stopping) return;
      stopping = true;
      for (const r of running.values()) r.abort('stop');
      wakeAll();
      // A build waiting inside PostgreSQL (a lock, a long statement) may not see the abort soon: after a
      // grace period put its job back in the queue from here; the slot's own late writes are then fenced out.
      const grace = new Promise<'late'>((r) => setTimeout(() => r('late'), opts.stopGraceMs ?? 5_000).unref());
      if ((await Promise.race([Promise.all(slots), grace])) === 'late') {
        for (const r of running.values()) await requeue(platform.pool, r.lease, 'requeued: its worker was stopping').catch(() => undefined);
        await listener?.end().catch(() => undefined);
        return;
      }
      await listener?.end().catch(() => undefined);
    },
  };
}

async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    await copyFile(from, to);
    await rm(from, { force: true });
  }
}
