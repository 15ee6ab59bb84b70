/**
 * A swap (a re-import, an append, a rollback, a delete dropping the table) never waits for the background build
 * of the table's area index (src/publishing/area-index-job.ts): it cancels it.
 *
 * Why: every index build holds a lock that conflicts with the swap's ACCESS EXCLUSIVE (CREATE INDEX holds SHARE,
 * CONCURRENTLY still SHARE UPDATE EXCLUSIVE), and on the million parcels the build holds it ~17 s (then ANALYZE):
 * a re-import arriving then waited that long, or failed with 409 past its lock timeout (30 s), for an index of a
 * table it was about to move out of the way. The build's work is lost, which costs nothing: the table it indexed
 * becomes a kept version (or is rewritten by an append), and the import queues a build of the new table.
 *
 * How: a build holds a transaction-scoped advisory lock keyed on the table's oid (the oid follows the table
 * through its moves, the name does not) before it locks the table, in each of its transactions; it takes that
 * mark while holding nothing of the table, and after it checks that the name still means the same table. A swap
 * first takes the table's supersede lock (so a cancelled build can tell a swap from an administrator's cancel),
 * then takes the build mark itself, cancelling (pg_cancel_backend) whoever holds it until it gets it; a
 * build starting meanwhile waits on the mark holding nothing the swap needs, then finds the table replaced.
 * A backend the swap's role may not cancel (another role, without pg_signal_backend): the swap waits for the mark
 * under its lock timeout and says why when it runs out.
 */
import type pg from 'pg';

/** First key of the mark a build holds on the table's oid (jobs use 727156, quotas 727157, queueing 727158). */
export const BUILD_MARK_CLASS = 727_159;
/** First key of the lock a swap holds on the table's oid while and after it cancels the table's build. */
export const SUPERSEDE_CLASS = 727_160;
/** How often a swap asks again for the mark after cancelling its holder (a cancel is heard at once by a running
 * statement; a backend between two statements ignores it, so it is sent again). */
const RETRY_MS = 20;

type Queryable = Pick<pg.ClientBase, 'query'>;

export class IndexBuildBusyError extends Error {}

/** The build's mark on the table `oid`; waits for a swap holding it (the build holds nothing of the table yet). */
export async function takeBuildMark(c: Queryable, oid: number): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock($1, $2::oid::int4)', [BUILD_MARK_CLASS, oid]);
}

/** Some backend (a swap of the table `oid`) holds its supersede lock now. */
export async function supersedeHeld(c: Queryable, oid: number): Promise<boolean> {
  const { rows } = await c.query<{ held: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2::oid AND objsubid = 2 AND granted) AS held`,
    [SUPERSEDE_CLASS, oid],
  );
  return rows[0]!.held;
}

/**
 * In a swap's transaction, before it moves or writes schema.table: cancel the table's running area-index build
 * and hold its mark until the commit. Returns how many cancels were sent. `timeoutMs` bounds the whole.
 */
export async function abandonIndexBuilds(c: Queryable, schema: string, table: string, timeoutMs: number): Promise<number> {
  const { rows } = await c.query<{ oid: number }>(
    `SELECT c.oid::int8 AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'r'`,
    [schema, table],
  );
  const oid = rows[0]?.oid;
  if (oid === undefined) return 0;
  await c.query('SELECT pg_advisory_xact_lock($1, $2::oid::int4)', [SUPERSEDE_CLASS, oid]);
  const deadline = Date.now() + timeoutMs;
  let sent = 0;
  for (;;) {
    const got = await c.query<{ got: boolean }>('SELECT pg_try_advisory_xact_lock($1, $2::oid::int4) AS got', [BUILD_MARK_CLASS, oid]);
    if (got.rows[0]!.got) return sent;
    if (Date.now() >= deadline) break;
    await c.query('SAVEPOINT cancel_build');
    try {
      const r = await c.query<{ n: number }>(
        `SELECT count(*) FILTER (WHERE pg_cancel_backend(pid))::int AS n FROM pg_locks
          WHERE locktype = 'advisory' AND classid = $1 AND objid = $2::oid AND objsubid = 2 AND granted AND pid <> pg_backend_pid()`,
        [BUILD_MARK_CLASS, oid],
      );
      await c.query('RELEASE SAVEPOINT cancel_build');
      sent += r.rows[0]!.n;
    } catch (e) {
      // 42501: the build runs under a role this one may not signal. Wait for it instead (below).
      if ((e as { code?: string }).code !== '42501') throw e;
      await c.query('ROLLBACK TO SAVEPOINT cancel_build');
      break;
    }
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
  await c.query('SAVEPOINT wait_build');
  try {
    await c.query('SELECT pg_advisory_xact_lock($1, $2::oid::int4)', [BUILD_MARK_CLASS, oid]); // under the swap's lock_timeout
    await c.query('RELEASE SAVEPOINT wait_build');
    return sent;
  } catch (e) {
    if ((e as { code?: string }).code !== '55P03') throw e;
    await c.query('ROLLBACK TO SAVEPOINT wait_build');
    throw new IndexBuildBusyError(
      `The area index of ${schema}.${table} is being built by a database session this role may not cancel (another role): try again when the build is over, or grant pg_signal_backend to the platform's role`,
    );
  }
}
