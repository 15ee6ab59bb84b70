/**
 * The queue of deferred jobs, on the table sdi.jobs (migration 0005).
 *
 * Why our own queue and not pg-boss: what the download service needs most is that a job whose worker died
 * (kill -9, machine lost) is picked up again at once and never run twice at the same time. pg-boss only
 * notices a dead worker when the job's expiry timeout passes (so a long extract needs a long timeout, and a
 * crash then waits that long), and it keeps its jobs in tables of its own, beside sdi.jobs which the status
 * API reads. Here:
 *  - claiming is `SELECT … FOR UPDATE SKIP LOCKED` (no two workers take the same row, none waits on another);
 *  - the claiming worker then takes a *session* advisory lock (class JOB_LOCK_CLASS, key = the job's
 *    lock_key) on a connection of its own, held for the whole run. When its process dies, PostgreSQL closes
 *    the connection and drops the lock: a job 'running' whose lock is free (pg_locks) is an orphan, and the
 *    next claim takes it (up to max_attempts claims);
 *  - each claim increments `attempts`, and every write of a worker names (worker, attempts): a worker that
 *    lost its lock (its connection broke) cannot overwrite the work of the one that took the job over;
 *  - LISTEN/NOTIFY (trigger of migration 0005) wakes idle workers and tells running ones about a cancel;
 *    workers poll as well, which also finds orphans (a death sends no notification).
 */
import type pg from 'pg';
import type { Pool } from '../../db/pool.js';

/** First key of the two-key advisory locks of jobs (harvest runs use 727155). */
export const JOB_LOCK_CLASS = 727_156;

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'expired';
export const FINAL_STATES: readonly JobState[] = ['done', 'failed', 'cancelled', 'expired'];

export interface JobRow {
  id: string;
  kind: string;
  state: JobState;
  request: unknown;
  progress: number;
  result: Record<string, unknown> | null;
  error: string | null;
  created_at: Date;
  updated_at: Date;
  lock_key: number;
  priority: number;
  attempts: number;
  max_attempts: number;
  worker: string | null;
  principal: string | null;
  base_url: string | null;
  message: string | null;
  started_at: Date | null;
  finished_at: Date | null;
  expires_at: Date | null;
  cancel_requested: boolean;
  notified_at: Date | null;
  /** Outcome per channel of the finished job's notification (migration 0021). */
  notification: Record<string, { state: string; at: string; reason?: string }> | null;
  /** Address of the client that asked (migration 0012), for the per-client quota of anonymous callers. */
  client_ip: string | null;
  /** Hex SHA-256 of the job's secret cancel token (the token itself is never stored). */
  cancel_token_hash: string | null;
}

export interface NewJob {
  id: string;
  kind: string;
  request: unknown;
  principal?: string;
  baseUrl?: string;
  priority?: number;
  maxAttempts?: number;
  /** Shown in the status until a worker takes the job (e.g. the estimate). */
  result?: Record<string, unknown>;
  clientIp?: string;
  cancelTokenHash?: string;
}

const INSERT = `INSERT INTO sdi.jobs (id, kind, state, request, principal, base_url, priority, max_attempts, result, client_ip, cancel_token_hash)
     VALUES ($1, $2, 'queued', $3::jsonb, $4, $5, $6, $7, $8::jsonb, $9, $10) RETURNING *`;
const insertParams = (j: NewJob) => [
  j.id, j.kind, JSON.stringify(j.request), j.principal ?? null, j.baseUrl ?? null, j.priority ?? 0, j.maxAttempts ?? 3,
  j.result ? JSON.stringify(j.result) : null, j.clientIp ?? null, j.cancelTokenHash ?? null,
];

/** Queue a job, on the pool or inside the caller's transaction (a client). */
export async function enqueue(pool: Pool | pg.ClientBase, j: NewJob): Promise<JobRow> {
  const { rows } = await pool.query<JobRow>(INSERT, insertParams(j));
  return rows[0]!;
}

/** Unfinished jobs: the quotas count these. */
const ACTIVE = `state IN ('queued', 'running')`;
/** Advisory lock (two keys: class, 0) serialising quota checks with their inserts, across processes. */
export const JOB_QUOTA_LOCK_CLASS = 727_157;

export interface JobQuota {
  /** Unfinished jobs of one client: its principal when authenticated, else its address. */
  perClient: number;
  /** Unfinished jobs of everyone. */
  total: number;
}

export class QuotaExceeded extends Error {
  constructor(
    readonly quota: 'per-client' | 'total',
    readonly limit: number,
  ) {
    super(`quota ${quota} (${limit}) reached`);
  }
}

/**
 * Queue a job unless its client already has `perClient` unfinished jobs of this kind or everyone together
 * `total` (QuotaExceeded; nothing is written). Count and insert happen under one transaction-scoped advisory
 * lock, so that concurrent requests (from any process) cannot all pass the count before one of them inserts.
 */
export async function enqueueWithinQuota(pool: Pool, j: NewJob, quota: JobQuota): Promise<JobRow> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, 0)', [JOB_QUOTA_LOCK_CLASS]);
    const { rows: counts } = await client.query<{ mine: number; total: number }>(
      `SELECT count(*) FILTER (WHERE CASE WHEN $2::text IS NOT NULL THEN principal = $2 ELSE principal IS NULL AND client_ip = $3 END)::int AS mine,
              count(*)::int AS total
         FROM sdi.jobs WHERE ${ACTIVE} AND kind = $1`,
      [j.kind, j.principal ?? null, j.clientIp ?? null],
    );
    const { mine, total } = counts[0]!;
    if (mine >= quota.perClient) throw new QuotaExceeded('per-client', quota.perClient);
    if (total >= quota.total) throw new QuotaExceeded('total', quota.total);
    const { rows } = await client.query<JobRow>(INSERT, insertParams(j));
    await client.query('COMMIT');
    return rows[0]!;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

export async function getJob(pool: Pool, id: string): Promise<JobRow | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await pool.query<JobRow>('SELECT * FROM sdi.jobs WHERE id = $1', [id]);
  return rows[0];
}

export function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}

/**
 * Ask for a job to stop: a queued one is cancelled at once, a running one is flagged (its worker is told by
 * NOTIFY and by polling, aborts, and marks it cancelled). Returns the row after the change, or undefined when
 * the job is not queued or running (the caller reads it to tell 404 from 409).
 */
export async function requestCancel(pool: Pool, id: string): Promise<JobRow | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await pool.query<JobRow>(
    `UPDATE sdi.jobs
        SET cancel_requested = true,
            state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END,
            finished_at = CASE WHEN state = 'queued' THEN now() ELSE finished_at END,
            message = CASE WHEN state = 'queued' THEN 'cancelled before it started' ELSE 'cancelling' END,
            updated_at = now()
      WHERE id = $1 AND state IN ('queued', 'running')
      RETURNING *`,
    [id],
  );
  return rows[0];
}

/** A job held by a worker: the fencing pair (worker, attempt) goes into every write of its outcome. */
export interface Lease {
  job: JobRow;
  worker: string;
  attempt: number;
}

/** The advisory lock of a job is held by some session of this database? (SQL fragment, job alias j) */
const LOCK_HELD = `EXISTS (SELECT 1 FROM pg_locks l
   WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND l.classid = ${JOB_LOCK_CLASS}::oid AND l.objid = j.lock_key::oid)`;

/**
 * Claim the next job on `client` — a connection the worker keeps for the whole run, since the advisory lock
 * taken here lives as long as that session. Orphans (running, lock free) come first, then queued jobs by
 * priority and age. Orphans cancelled or out of attempts are closed here instead of being run.
 */
export async function claim(client: pg.ClientBase, kinds: readonly string[], worker: string): Promise<Lease | undefined> {
  for (let tries = 0; tries < 20; tries++) {
    await client.query('BEGIN');
    try {
      // Two statements, each on its partial index (the table keeps the history of finished jobs).
      const row =
        (await client.query<JobRow>(
          `SELECT * FROM sdi.jobs j WHERE j.state = 'running' AND j.kind = ANY($1::text[]) AND NOT ${LOCK_HELD}
            ORDER BY j.created_at LIMIT 1 FOR UPDATE OF j SKIP LOCKED`,
          [kinds],
        )).rows[0] ??
        (await client.query<JobRow>(
          `SELECT * FROM sdi.jobs j WHERE j.state = 'queued' AND j.kind = ANY($1::text[])
            ORDER BY j.priority DESC, j.created_at LIMIT 1 FOR UPDATE OF j SKIP LOCKED`,
          [kinds],
        )).rows[0];
      if (!row) {
        await client.query('COMMIT');
        return undefined;
      }
      const locked = (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2::int) AS ok', [JOB_LOCK_CLASS, row.lock_key])).rows[0]!.ok;
      if (!locked) {
        // Another session took it between its commit and our look at pg_locks: try the next one.
        await client.query('ROLLBACK');
        continue;
      }
      const orphan = row.state === 'running';
      if (orphan && (row.cancel_requested || row.attempts >= row.max_attempts)) {
        await client.query(
          `UPDATE sdi.jobs SET state = $2, finished_at = now(), updated_at = now(), worker = NULL,
                  error = CASE WHEN $2 = 'failed' THEN $3 ELSE error END, message = $3
            WHERE id = $1`,
          [row.id, row.cancel_requested ? 'cancelled' : 'failed', row.cancel_requested ? 'cancelled (its worker had stopped)' : `The job was interrupted ${row.attempts} time(s): its worker stopped before the end`],
        );
        await client.query('COMMIT');
        await client.query('SELECT pg_advisory_unlock($1, $2::int)', [JOB_LOCK_CLASS, row.lock_key]);
        continue;
      }
      const { rows: claimed } = await client.query<JobRow>(
        `UPDATE sdi.jobs
            SET state = 'running', attempts = attempts + 1, worker = $2, progress = 0,
                started_at = COALESCE(started_at, now()), updated_at = now(),
                message = CASE WHEN $3 THEN 'resumed after its worker stopped' ELSE 'started' END
          WHERE id = $1 RETURNING *`,
        [row.id, worker, orphan],
      );
      await client.query('COMMIT');
      const job = claimed[0]!;
      return { job, worker, attempt: job.attempts };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }
  return undefined;
}

/** Give the job's advisory lock back (the run is over, whatever its outcome). */
export async function unlock(client: pg.ClientBase, lease: Lease): Promise<void> {
  await client.query('SELECT pg_advisory_unlock($1, $2::int)', [JOB_LOCK_CLASS, lease.job.lock_key]);
}

const FENCE = 'id = $1 AND state = \'running\' AND worker = $2 AND attempts = $3';

/**
 * Record progress; answers whether the job should stop (cancel asked) and whether the lease is lost
 * (another worker has it, or it was closed).
 */
export async function reportProgress(pool: Pool, lease: Lease, fraction: number, message?: string): Promise<{ cancel: boolean; lost: boolean }> {
  const { rows } = await pool.query<{ cancel_requested: boolean }>(
    `UPDATE sdi.jobs SET progress = GREATEST(progress, LEAST(1, $4::real)), message = COALESCE($5, message), updated_at = now()
      WHERE ${FENCE} RETURNING cancel_requested`,
    [lease.job.id, lease.worker, lease.attempt, Math.max(0, Math.min(1, fraction)), message ?? null],
  );
  if (!rows[0]) return { cancel: true, lost: true };
  return { cancel: rows[0].cancel_requested, lost: false };
}

export async function cancelRequested(pool: Pool, lease: Lease): Promise<boolean> {
  const { rows } = await pool.query<{ c: boolean }>(`SELECT cancel_requested OR NOT (${FENCE}) AS c FROM sdi.jobs WHERE id = $1`, [lease.job.id, lease.worker, lease.attempt]);
  return rows[0]?.c ?? true;
}

/** The job is done: its result (file, counts) and when its link expires. Undefined: the lease was lost. */
export async function finishDone(pool: Pool, lease: Lease, result: Record<string, unknown>, ttlSeconds: number): Promise<JobRow | undefined> {
  const { rows } = await pool.query<JobRow>(
    `UPDATE sdi.jobs
        SET state = 'done', progress = 1, result = $4::jsonb, error = NULL, message = NULL,
            finished_at = now(), expires_at = now() + make_interval(secs => $5), updated_at = now()
      WHERE ${FENCE} AND NOT cancel_requested RETURNING *`,
    [lease.job.id, lease.worker, lease.attempt, JSON.stringify(result), ttlSeconds],
  );
  return rows[0];
}

export async function finishFailed(pool: Pool, lease: Lease, error: string): Promise<JobRow | undefined> {
  const { rows } = await pool.query<JobRow>(
    `UPDATE sdi.jobs SET state = 'failed', error = $4, message = NULL, finished_at = now(), updated_at = now()
      WHERE ${FENCE} RETURNING *`,
    [lease.job.id, lease.worker, lease.attempt, error],
  );
  return rows[0];
}

export async function finishCancelled(pool: Pool, lease: Lease): Promise<JobRow | undefined> {
  const { rows } = await pool.query<JobRow>(
    `UPDATE sdi.jobs SET state = 'cancelled', message = 'cancelled while running', finished_at = now(), updated_at = now()
      WHERE ${FENCE} RETURNING *`,
    [lease.job.id, lease.worker, lease.attempt],
  );
  return rows[0];
}

/** Put a job back in the queue (its worker is stopping): another worker takes it from the start. */
export async function requeue(pool: Pool, lease: Lease, why: string): Promise<void> {
  await pool.query(
    `UPDATE sdi.jobs SET state = 'queued', worker = NULL, progress = 0, message = $4, updated_at = now(),
            attempts = attempts - 1
      WHERE ${FENCE}`,
    [lease.job.id, lease.worker, lease.attempt, why],
  );
}

/**
 * Put a job back in the queue after its attempt failed because the database went away (a restart, a
 * failover): the attempt counts, so a job that keeps meeting outages ends failed after max_attempts. False
 * when it has no attempt left (the caller marks it failed). If the database is still down this throws, and
 * the expired lease brings the job back to the next claim anyway.
 */
export async function requeueAfterOutage(pool: Pool, lease: Lease): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE sdi.jobs SET state = 'queued', worker = NULL, progress = 0, message = 'requeued: the database was unavailable', updated_at = now()
      WHERE ${FENCE} AND attempts < max_attempts`,
    [lease.job.id, lease.worker, lease.attempt],
  );
  return rowCount === 1;
}

/** Mark the notification of a finished job as sent (at most once); false if it already was. */
export async function takeNotification(pool: Pool, id: string): Promise<boolean> {
  const { rowCount } = await pool.query('UPDATE sdi.jobs SET notified_at = now() WHERE id = $1 AND notified_at IS NULL', [id]);
  return rowCount === 1;
}
