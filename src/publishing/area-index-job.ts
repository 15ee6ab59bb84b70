/**
 * The area index of a polygon layer, GiST (geom, ST_Area(geom)), built in the background as a job of kind
 * 'layer-index' on the download job queue (sdi.jobs, the same workers: src/download/jobs/worker.ts).
 *
 * Why not at publication: on the million parcels the two-column index takes 12.5 s to build against about 4 s
 * for the plain GiST (geom), and only the vector tiles' generalisation rule needs the area (src/render/mvt-sql.ts:
 * `geom && box AND ST_Area(geom) >= one pixel squared` is then one index scan); every other reader needs the box
 * alone, which the plain index serves as well. So an import (src/import/staging.ts) publishes with the plain index,
 * readable at once, and queues this job; the tiles are right without the area index, only slower until it exists.
 *
 * The job: if the table is still a polygon table without an area index, build it, then drop the plain GiST of
 * that column in the same transaction (the two-column index serves the box too, and a second GiST costs every
 * write). DROP INDEX needs the table's ACCESS EXCLUSIVE lock, which waits for every reader and makes the readers
 * arriving after it wait too: it gets a short lock_timeout, and when readers hold the table longer (55P03) the
 * plain index is kept and the new one committed anyway (both serve; logged). The build holds SHARE ROW EXCLUSIVE
 * (writes wait, readers do not; two builds of one table take turns). Then ANALYZE, for the statistics of the
 * ST_Area(geom) expression, which the planner only gathers for an index expression.
 *
 * Measured (this machine, 2 cores shared, load average 6–9; a generated GeoPackage of 1M quadrilateral parcels,
 * `cli.js import` of main and of this change alternated, three runs each): the import's index-and-validity step
 * 17.4 / 13.7 / 18.7 s → 8.9 / 7.0 / 7.5 s (the GEOS validity scan beside it is now the longer of the two); the job afterwards:
 * build 16.9 s, 18.4 s with ANALYZE; index 91 MB where the plain one it replaces is 40 MB.
 *
 * One queued job per table (a transaction-scoped advisory lock on the table's name around the look-up and the
 * insert): two imports, or several processes sweeping at start, do not queue it twice. A job already running
 * does not count: it may have looked at the table before a new import replaced it.
 *
 * A swap of the table (re-import, append, rollback, delete) does not wait for a running build: it cancels it
 * (src/import/index-builds.ts; the build holds a mark on the table's oid for that), and the job ends 'superseded'
 * — the import that cancelled it queues the build of the table it published.
 */
import type pg from 'pg';
import { randomUUID } from 'node:crypto';
import type { Pool } from '../db/pool.js';
import type { Platform } from '../platform.js';
import { withTransaction } from '../db/pool.js';
import { quoteIdent } from '../db/identifiers.js';
import { enqueue } from '../download/jobs/queue.js';
import { JobFailure, type JobContext, type JobHandler } from '../download/jobs/worker.js';
import type { JobRow } from '../download/jobs/queue.js';
import { supersedeHeld, takeBuildMark } from '../import/index-builds.js';

export const AREA_INDEX_JOB_KIND = 'layer-index';
/** First key of the advisory lock serialising the queueing of one table's job (jobs use 727156, quotas 727157). */
export const AREA_INDEX_LOCK_CLASS = 727_158;
/** How long DROP INDEX of the plain index may wait for the table's readers before it is given up. */
export const DROP_LOCK_TIMEOUT_MS = 1_000;

type Queryable = Pick<pg.ClientBase, 'query'>;

export interface AreaIndexTarget {
  schema: string;
  table: string;
  column: string;
}

interface TableState {
  oid: number;
  /** A table (not a view) of a polygon column. */
  polygons: boolean;
  /** The platform's role owns it (or is a member of its owner): only an owner may index a table. */
  owned: boolean;
  /** Some index of the table has the column's area. */
  indexed: boolean;
}

/** SQL: some index of the table `oid` has the area of the column named `col` (exact text, no LIKE wildcards). */
/**
 * Whether the table has the area index: an index led by the column whose expressions call ST_Area, read from the
 * catalogue's stored expression tree (pg_index.indexprs). Not pg_get_indexdef: it takes the table's lock, so a
 * look-up (the workers' start sweep) waited behind any long lock of a table (jobs.test.ts: a worker's sweep waited on
 * a locked data.communes, and its slot's extraction with it).
 */
const HAS_AREA_INDEX = (oid: string, col: string) =>
  `EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = ${oid} AND i.indexprs IS NOT NULL
     AND i.indkey[0] = (SELECT a.attnum FROM pg_attribute a WHERE a.attrelid = ${oid} AND a.attname = ${col})
     AND EXISTS (SELECT 1 FROM pg_proc p WHERE p.proname = 'st_area' AND strpos(i.indexprs::text, ':funcid ' || p.oid::text || ' ') > 0))`;

/** What the job finds about a table: undefined when it or its geometry column is gone. */
async function tableState(q: Queryable, t: AreaIndexTarget): Promise<TableState | undefined> {
  const { rows } = await q.query<TableState>(
    `SELECT c.oid::int AS oid, c.relkind = 'r' AND upper(g.type) LIKE '%POLYGON%' AS polygons,
            pg_has_role(c.relowner, 'USAGE') AS owned, ${HAS_AREA_INDEX('c.oid', '$3')} AS indexed
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN geometry_columns g ON g.f_table_schema = n.nspname AND g.f_table_name = c.relname AND g.f_geometry_column = $3
      WHERE n.nspname = $1 AND c.relname = $2`,
    [t.schema, t.table, t.column],
  );
  return rows[0];
}

export interface QueuedAreaIndex {
  id: string;
  /** False: a job for this table was already waiting (its id). */
  created: boolean;
}

/**
 * Queue the area index of a table's polygon column, unless it has one, is not a polygon table, or a job for it
 * is already queued (or running, with `orRunning`: the sweep) — then that job's id. Undefined when nothing is to be built.
 */
export async function queueAreaIndex(pool: Pool, schema: string, table: string, column: string, opts: { orRunning?: boolean } = {}): Promise<QueuedAreaIndex | undefined> {
  const target = { schema, table, column };
  return withTransaction(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [AREA_INDEX_LOCK_CLASS, `${schema}.${table}`]);
    const s = await tableState(c, target);
    if (!s || !s.polygons || !s.owned || s.indexed) return undefined;
    const waiting = await c.query<{ id: string }>(
      `SELECT id FROM sdi.jobs WHERE kind = $1 AND state = ANY($5::text[]) AND request->>'schema' = $2 AND request->>'table' = $3 AND request->>'column' = $4 LIMIT 1`,
      [AREA_INDEX_JOB_KIND, schema, table, column, opts.orRunning ? ['queued', 'running'] : ['queued']],
    );
    if (waiting.rows[0]) return { id: waiting.rows[0].id, created: false };
    // Below downloads (priority 0): a requester waits for those, nobody waits for this.
    const job = await enqueue(c, { id: randomUUID(), kind: AREA_INDEX_JOB_KIND, request: target, priority: -1 });
    return { id: job.id, created: true };
  });
}

/**
 * Queue the area index of every registered polygon layer's table that lacks it (a process that stopped between
 * a publication and the job's run, a store from before the job existed). Run where job workers start
 * (src/publishing/job-workers.ts).
 */
export async function sweepAreaIndexes(pool: Pool): Promise<QueuedAreaIndex[]> {
  const { rows } = await pool.query<{ schema: string; table: string; column: string }>(
    `SELECT l.table_schema AS schema, l.table_name AS table, l.geometry_column AS column
       FROM sdi.layers l
       JOIN pg_namespace n ON n.nspname = l.table_schema
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = l.table_name AND c.relkind = 'r'
       JOIN geometry_columns g ON g.f_table_schema = l.table_schema AND g.f_table_name = l.table_name AND g.f_geometry_column = l.geometry_column
      WHERE l.kind = 'feature' AND upper(g.type) LIKE '%POLYGON%' AND pg_has_role(c.relowner, 'USAGE')
        AND NOT ${HAS_AREA_INDEX('c.oid', 'l.geometry_column')}
      ORDER BY 1, 2`,
  );
  const out: QueuedAreaIndex[] = [];
  for (const r of rows) {
    // A build running counts here: a sweep comes after no swap (a swap cancels a running build and queues its own),
    // and a worker slot that claimed the queued job just before this look-up made the table queued twice (seen in
    // import-plain-role.test.ts: a second job ending 'exists').
    const q = await queueAreaIndex(pool, r.schema, r.table, r.column, { orRunning: true });
    if (q?.created) out.push(q);
  }
  return out;
}

export interface AreaIndexOutcome {
  /** superseded: a swap of the table (an import, a rollback) cancelled the build, or replaced the table while it waited. */
  outcome: 'built' | 'exists' | 'not-polygon' | 'gone' | 'not-owner' | 'superseded';
  /** The area index built. */
  index?: string;
  /** Plain GiST indexes of the column dropped with it. */
  dropped?: string[];
  /** Plain GiST indexes kept: readers held the table past the DROP's lock_timeout (55P03). */
  kept?: string[];
  /** Build time of the index. */
  ms?: number;
  /** False: the ANALYZE after the build was cancelled by a swap (the index stays; autovacuum gathers them later). */
  analyzed?: boolean;
}

export interface BuildOptions {
  dropLockTimeoutMs?: number;
  /** Cancels the statement running (pg_cancel_backend): the transaction rolls back, nothing is left. */
  signal?: AbortSignal;
  log?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

const codeOf = (e: unknown) => (e as { code?: string }).code;

/** Build the area index of a table's polygon column if it still needs one; the plain index of the column goes. */
export async function buildAreaIndex(pool: Pool, target: AreaIndexTarget, opts: BuildOptions = {}): Promise<AreaIndexOutcome> {
  const c = await pool.connect();
  const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const cancel = () => void pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
  opts.signal?.addEventListener('abort', cancel, { once: true });
  const t = `${quoteIdent(target.schema)}.${quoteIdent(target.table)}`;
  const col = quoteIdent(target.column);
  let oid: number | undefined;
  try {
    await c.query('BEGIN');
    const unfit = (s: TableState | undefined): AreaIndexOutcome['outcome'] | undefined =>
      !s ? 'gone' : !s.polygons ? 'not-polygon' : !s.owned ? 'not-owner' : s.indexed ? 'exists' : undefined;
    const first = await tableState(c, target);
    const before = unfit(first);
    if (before) return await rollback(c, { outcome: before });
    oid = first!.oid;
    // The mark a swap of this table cancels us by (src/import/index-builds.ts); taken holding nothing of the table.
    await takeBuildMark(c, oid);
    // Writes wait, readers do not; a second build of this table waits at the mark, then finds the index made.
    await c.query(`LOCK TABLE ${t} IN SHARE ROW EXCLUSIVE MODE`);
    const s = (await tableState(c, target))!;
    const after = unfit(s);
    if (after) return await rollback(c, { outcome: after });
    // A swap committed while we waited for the mark: the name is another table's now, whose build is queued apart.
    if (s.oid !== oid) return await rollback(c, { outcome: 'superseded' });
    // Named with the table's oid, which it keeps through the renames and schema moves of imports and rollbacks:
    // a kept version in sdi_versions never holds an index of the same name.
    const index = `${`${target.table}_${target.column}`.slice(0, 44)}_area_${s.oid}`;
    const started = performance.now();
    await c.query(`CREATE INDEX ${quoteIdent(index)} ON ${t} USING gist (${col}, ST_Area(${col}))`);
    const ms = Math.round(performance.now() - started);
    const plain = await c.query<{ name: string }>(
      `SELECT ic.relname AS name FROM pg_index i
         JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
        WHERE i.indrelid = $1 AND am.amname = 'gist' AND i.indnatts = 1 AND i.indexprs IS NULL AND i.indpred IS NULL
          AND i.indkey[0] = (SELECT attnum FROM pg_attribute WHERE attrelid = $1 AND attname = $2)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY 1`,
      [s.oid, target.column],
    );
    const dropped: string[] = [];
    const kept: string[] = [];
    for (const { name } of plain.rows) {
      await c.query('SAVEPOINT drop_plain');
      try {
        await c.query(`SELECT set_config('lock_timeout', $1, true)`, [`${opts.dropLockTimeoutMs ?? DROP_LOCK_TIMEOUT_MS}ms`]);
        await c.query(`DROP INDEX ${quoteIdent(target.schema)}.${quoteIdent(name)}`);
        await c.query('RELEASE SAVEPOINT drop_plain');
        dropped.push(name);
      } catch (e) {
        // 55P03: readers held the table past the timeout; 40P01: a deadlock (a session that took the table's
        // lock without the mark). Either way the new index serves, the old one costs writes only.
        if (codeOf(e) !== '55P03' && codeOf(e) !== '40P01') throw e;
        await c.query('ROLLBACK TO SAVEPOINT drop_plain');
        kept.push(name);
      }
    }
    await c.query(`SELECT set_config('lock_timeout', '0', true)`);
    await c.query('COMMIT');
    if (kept.length) opts.log?.warn({ table: `${target.schema}.${target.table}`, index, kept }, 'area index built; the plain index was kept (readers held the table past the lock timeout)');
    const analyzed = await analyzeUnderMark(c, t, target, oid, opts);
    return { outcome: 'built', index, dropped, kept, ms, ...(analyzed ? {} : { analyzed }) };
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    // Cancelled, not by our job's cancel: by a swap of the table (it holds the supersede lock until its commit),
    // or the swap committed already and the name means another table.
    if (codeOf(e) === '57014' && !opts.signal?.aborted && oid !== undefined && (await superseded(c, target, oid))) return { outcome: 'superseded' };
    // The index exists (a concurrent build of another name won) or the table is not the platform's role's.
    if (codeOf(e) === '42P07') return { outcome: 'exists' };
    if (codeOf(e) === '42501') return { outcome: 'not-owner' };
    if (codeOf(e) === '42P01') return { outcome: 'gone' }; // dropped between the look-up and the lock
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', cancel);
    c.release();
  }
}

/** A swap holds the table's supersede lock, or the name no longer means the table `oid`. */
async function superseded(c: pg.PoolClient, target: AreaIndexTarget, oid: number): Promise<boolean> {
  if (await supersedeHeld(c, oid)) return true;
  return (await tableState(c, target))?.oid !== oid;
}

/**
 * ANALYZE after the build, for the statistics of the ST_Area(geom) expression (gathered for an index expression
 * only), in a transaction of its own under the mark again: a swap cancels it as it cancels a build. False when
 * it was (the index is committed; autovacuum's ANALYZE gathers them later) or the table was replaced meanwhile.
 */
async function analyzeUnderMark(c: pg.PoolClient, t: string, target: AreaIndexTarget, oid: number, opts: BuildOptions): Promise<boolean> {
  try {
    await c.query('BEGIN');
    await takeBuildMark(c, oid);
    if ((await tableState(c, target))?.oid !== oid) {
      await c.query('ROLLBACK');
      return false;
    }
    await c.query(`ANALYZE ${t}`);
    await c.query('COMMIT');
    return true;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    if (codeOf(e) === '57014' && !opts.signal?.aborted) return false;
    throw e;
  }
}

async function rollback(c: pg.PoolClient, out: AreaIndexOutcome): Promise<AreaIndexOutcome> {
  await c.query('ROLLBACK');
  return out;
}

/** The job's handler, logging to `log` (services/download/index.ts, cli.js download-worker). */
export function areaIndexJobHandler(log?: BuildOptions['log']): JobHandler {
  return async (platform: Platform, job: JobRow, ctx: JobContext) => {
    const r = job.request as Partial<AreaIndexTarget>;
    if (typeof r?.schema !== 'string' || typeof r.table !== 'string' || typeof r.column !== 'string') throw new JobFailure('The job names no table');
    ctx.setProgress(0, `indexing ${r.schema}.${r.table}`);
    const out = await buildAreaIndex(platform.pool, { schema: r.schema, table: r.table, column: r.column }, { signal: ctx.signal, log });
    return { ...r, ...out };
  };
}
