/** The one PostgreSQL pool of a process. Every service reads the shared PostGIS store through it. */
import pg from 'pg';
import { isDatabaseUnavailable } from './errors.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

// Return int8/numeric as JS numbers when safe: ids and counts are used as numbers everywhere.
pg.types.setTypeParser(20, (v: string) => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
});

export function createPool(databaseUrl: string, max = 10, applicationName = 'sdi'): pg.Pool {
  // A request waits at most 30 s for a connection, then fails (503) instead of hanging.
  const pool = new pg.Pool({ connectionString: databaseUrl, max, application_name: applicationName, connectionTimeoutMillis: 30_000 });
  // A client losing its connection must not crash the process. The pool only listens for 'error' on idle
  // clients; a checked-out client (a cursor session, a transaction, a request waiting for GDAL) whose backend
  // is terminated (57P01 on a database restart, pg_terminate_backend, idle_in_transaction_session_timeout)
  // emitted an unhandled 'error' and killed the server with every request in flight. The query in progress
  // rejects on its own, so the request using the client fails (503, see isDatabaseUnavailable) and the pool
  // discards the client on release (it is no longer queryable): the pool heals with fresh connections.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  return pool;
}

/**
 * Run `fn` in a read-only REPEATABLE READ transaction (every statement sees one snapshot) with a statement
 * timeout and optionally a session time zone; always releases the client.
 */
export async function withReadTransaction<T>(pool: pg.Pool, timeoutMs: number, fn: (c: pg.PoolClient) => Promise<T>, opts: { timeZone?: string } = {}, retry = true): Promise<T> {
  const client = await pool.connect();
  try {
    // BEGIN and the transaction's settings in one round trip (a simple-protocol query of three statements), not
    // two: a first-seen CSW search is a handful of short statements, and each round trip is a wake-up of both
    // processes, which on a loaded 2-core machine costs far more than the statement (issue 12).
    await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ${transactionSettingsSql(timeoutMs, opts.timeZone)}`);
  } catch (e) {
    client.release(e instanceof Error ? e : true);
    // A pooled idle connection terminated before the pool heard of it (a database restart): nothing was done
    // on it yet, so the transaction is opened once more on a fresh one (see FeatureSession.open).
    if (retry && isDatabaseUnavailable(e)) return withReadTransaction(pool, timeoutMs, fn, opts, false);
    throw e;
  }
  let lost: unknown;
  try {
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (e) {
    // A connection that is gone is destroyed, not offered to the next request (its 'error' event may come
    // only later, when the socket ends), and nothing more is sent on it.
    if (isDatabaseUnavailable(e)) lost = e;
    else await client.query('ROLLBACK').catch((r: unknown) => (lost = r));
    throw e;
  } finally {
    client.release(lost instanceof Error ? lost : lost ? true : undefined);
  }
}

/**
 * SET LOCAL statements for a transaction's statement timeout (milliseconds) and time zone, as literal text: they
 * go in one simple-protocol query with the BEGIN, which takes no parameters. The timeout is checked to be a
 * number (rounded to whole milliseconds) and the zone is quoted as a literal (callers pass constants such as 'UTC').
 */
export function transactionSettingsSql(timeoutMs: number, timeZone?: string): string {
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new Error(`statement timeout must be a number of milliseconds, not ${timeoutMs}`);
  const zone = timeZone === undefined ? '' : ` SET LOCAL TimeZone = '${timeZone.replace(/'/g, "''")}';`;
  return `SET LOCAL statement_timeout = ${Math.round(timeoutMs)};${zone}`;
}

/** `fn` on one connection inside BEGIN … COMMIT (ROLLBACK when it throws); the connection goes back to the pool. */
export async function withTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}
