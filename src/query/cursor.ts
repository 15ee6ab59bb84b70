/**
 * Executes compiled feature statements on one connection, inside one read-only REPEATABLE READ transaction
 * (counts and rows see the same snapshot), with the configured statement timeout, reading rows from a
 * server-side cursor in batches so memory stays flat whatever the table size.
 */
import { featureCounter } from '../usage/context.js';
import Cursor from 'pg-cursor';
import type { Pool, PoolClient } from '../db/pool.js';
import type { CompiledSql } from '../db/sql.js';
import { isDatabaseUnavailable } from '../db/errors.js';

/** Longest wait for PostgreSQL to acknowledge a cursor close or the end of the transaction at release. */
const CLOSE_TIMEOUT_MS = 10_000;

export class FeatureSession {
  private closed = false;
  /** The connection was lost (backend terminated, database restarted): nothing more may be sent on it. */
  private broken = false;
  /** Cursors not yet read to the end: closed before the transaction ends, or COMMIT would queue behind them. */
  private readonly open = new Set<Cursor>();
  /**
   * Waits on PostgreSQL's answers, each failed at once when the connection is lost (see untilLost). A Set of
   * callbacks rather than one "lost" promise that every wait races: Promise.race against a promise that never
   * settles keeps every raced result alive through it (nodejs/node#17469): each batch of rows stayed in memory
   * for the whole session, and a 500,000-feature GetFeature peaked at 340 MB instead of 127 MB.
   */
  private readonly lostListeners = new Set<() => void>();
  private lost = false;
  private readonly onError = () => this.markLost();

  private constructor(private readonly client: PoolClient) {
    // pg-cursor's close() waits for a readyForQuery that a dead connection never sends, and the client's
    // 'error' event comes only when the socket ends, after the FATAL error (57P01) has already failed the
    // cursor's read: a session closed in between hung for ever and kept its pool client. Under a storm of
    // terminated backends (issue 13 §1) the pool was then empty and every request, /readyz included, waited.
    // So: an error of the database-gone kind marks the session lost at once, every wait is raced against
    // the loss and a timeout, and a lost session's client is destroyed at release without sending anything.
    client.on('error', this.onError);
    client.connection?.once?.('end', this.onError);
  }

  private markLost(): void {
    this.broken = true;
    if (this.lost) return;
    this.lost = true;
    for (const f of [...this.lostListeners]) f();
    this.lostListeners.clear();
  }

  /** `p`, or a ConnectionLost rejection as soon as the connection is lost; nothing stays attached once it settles. */
  private untilLost<T>(p: Promise<T>): Promise<T> {
    if (this.lost) return Promise.reject(new ConnectionLost());
    return new Promise<T>((resolve, reject) => {
      const onLost = () => reject(new ConnectionLost());
      this.lostListeners.add(onLost);
      p.then(
        (v) => {
          this.lostListeners.delete(onLost);
          resolve(v);
        },
        (e: unknown) => {
          this.lostListeners.delete(onLost);
          reject(e);
        },
      );
    });
  }

  /** Wait for `p`, unless the connection is lost or PostgreSQL does not answer in time. */
  private async settle(p: Promise<unknown>): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), CLOSE_TIMEOUT_MS)));
    try {
      const outcome = this.untilLost(p.then(() => 'ok' as const, (e: unknown) => (this.noteError(e), 'failed' as const))).catch(() => 'lost' as const);
      const r = await Promise.race([outcome, timeout]);
      if (r === 'timeout') this.broken = true;
      return r === 'ok';
    } finally {
      clearTimeout(timer);
    }
  }

  /** A statement failed: if the connection is gone with it, stop talking on it now. */
  private noteError(e: unknown): void {
    const sev = (e as { severity?: unknown } | null)?.severity;
    if (isDatabaseUnavailable(e) || sev === 'FATAL' || sev === 'PANIC') this.markLost();
  }

  /**
   * A session on a pooled connection. An idle connection whose backend was terminated (a database restart)
   * can be handed out before the pool hears of it: when the very first statement finds it dead, nothing has
   * been done yet, so the session is opened once more on a fresh connection instead of failing the request.
   */
  static async open(pool: Pool, statementTimeoutMs: number, retry = true): Promise<FeatureSession> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query("SELECT set_config('statement_timeout', $1, true)", [String(statementTimeoutMs)]);
    } catch (e) {
      client.release(true);
      if (retry && isDatabaseUnavailable(e)) return FeatureSession.open(pool, statementTimeoutMs, false);
      throw e;
    }
    return new FeatureSession(client);
  }

  /**
   * A session for `fn` alone (responses read whole before they are written: GetMap, GetFeatureInfo, a feature by
   * id): committed when `fn` succeeds, rolled back when it throws, released either way.
   */
  static async use<T>(pool: Pool, statementTimeoutMs: number, fn: (session: FeatureSession) => Promise<T>): Promise<T> {
    const session = await FeatureSession.open(pool, statementTimeoutMs);
    let ok = false;
    try {
      const out = await fn(session);
      ok = true;
      return out;
    } finally {
      await session.close(ok);
    }
  }

  private watch<T>(p: Promise<T>): Promise<T> {
    p.catch((e: unknown) => this.noteError(e));
    return p;
  }

  /**
   * Nothing may reach the connection once the session is closed: it is back in the pool, someone else's. A
   * response whose client left while its handler was still preparing closes the session at once (src/server/
   * release.ts); a cursor the handler then opened went into the connection's queue behind the ROLLBACK and was
   * started on the pooled connection, where nobody read or closed it: the connection stayed busy with it and
   * every later user of it waited for ever (seen in the bench, 2026-12-06: a token lookup, then the stop).
   */
  private usable(): void {
    if (this.closed) throw new SessionClosed();
  }

  async count(q: CompiledSql): Promise<number> {
    this.usable();
    const { rows } = await this.watch(this.client.query<{ n: number }>(q.text, q.values));
    return Number(rows[0]?.n ?? 0);
  }

  async scalarRows<T = Record<string, unknown>>(q: CompiledSql): Promise<T[]> {
    this.usable();
    return (await this.watch(this.client.query(q.text, q.values))).rows as T[];
  }

  /**
   * Yield batches of first-column values. The first batch is read before the generator is returned to the
   * caller (by `prefetch`), so that errors in the statement surface before any response byte is sent.
   * Text columns come as strings (the encoders' GML, GeoJSON, CSV); bytea columns as Buffers (the map
   * renderer's TWKB): `rows<Buffer>(…)`. The values are as node-postgres decodes the column's type.
   */
  async rows<T extends string | Buffer = string>(q: CompiledSql, batchSize = 2000): Promise<{ first: T[]; rest: AsyncGenerator<T[]> }> {
    return this.stream(q, batchSize, (r) => r[0] as T);
  }

  /**
   * Yield batches of whole rows (arrays of column values), read like `rows`: the map renderer's geometry with
   * the rule and label columns of its style.
   */
  async tuples<T extends unknown[]>(q: CompiledSql, batchSize = 2000, nextSize?: (first: T[]) => number): Promise<{ first: T[]; rest: AsyncGenerator<T[]> }> {
    return this.stream(q, batchSize, (r) => r as T, nextSize);
  }

  /** `nextSize`: the size of the batches after the first, from the first (a map's overview rows, or its table's). */
  private async stream<T>(q: CompiledSql, firstSize: number, pick: (row: unknown[]) => T, nextSize?: (first: T[]) => number): Promise<{ first: T[]; rest: AsyncGenerator<T[]> }> {
    this.usable();
    const cursor = this.client.query(new Cursor(q.text, q.values, { rowMode: 'array' }));
    this.open.add(cursor);
    const open = this.open;
    const closeCursor = async () => {
      open.delete(cursor);
      if (!this.broken && !cursorSettled(cursor)) await this.settle(cursor.close());
    };
    const read = (n: number) => {
      // The session closed under the body (the response closed): no more reads, the body ends.
      if (this.closed) return Promise.resolve([] as unknown[][]);
      const p = cursor.read(n) as Promise<unknown[][]>;
      // A read left pending by an early close must not become an unhandled rejection; a failed read whose
      // connection is gone marks the session lost before anyone tries to close the cursor.
      p.catch((e: unknown) => this.noteError(e));
      // pg-cursor does not always settle a read whose connection dies (seen under repeated terminations:
      // the first read of a fresh cursor never answered): the loss of the connection fails it.
      const r = this.untilLost(p);
      // The read-ahead batch is awaited only if the body is iterated: a response abandoned before its first
      // write (the client left) never starts `rest`, whose finally would settle it, and the loss of the
      // connection then rejected it unhandled, which ended the process (seen in the bench: O1 at c=8). Its
      // awaiters still get the rejection.
      r.catch(() => undefined);
      return r;
    };
    const countFeatures = featureCounter(q.layer);
    const first = (await read(firstSize)).map(pick);
    countFeatures(first.length);
    const done = first.length < firstSize;
    const batchSize = done ? firstSize : (nextSize?.(first) ?? firstSize);
    // Ask for the next batch before handing this one over, so PostgreSQL produces rows while Node encodes
    // and writes the previous ones (a plain read-then-process loop leaves one of the two idle).
    let pending: Promise<unknown[][]> | null = done ? null : read(batchSize);
    const settle = (p: Promise<unknown>) => this.settle(p);
    async function* rest(): AsyncGenerator<T[]> {
      try {
        while (pending) {
          const batch = await pending;
          pending = batch.length === batchSize ? read(batchSize) : null;
          countFeatures(batch.length);
          if (batch.length) yield batch.map(pick);
        }
      } finally {
        if (pending) await settle(pending);
        await closeCursor();
      }
    }
    if (done) await closeCursor();
    return { first, rest: rest() };
  }

  /**
   * The one stream-closing wrapper of feature responses: yield `body`, then end the session, committed when
   * the body was written to its end, rolled back when it failed or was abandoned (the client went away and the
   * stream was destroyed, which returns the generator). Callers still close on errors before streaming starts.
   */
  async *closeAfter<T>(body: AsyncIterable<T>): AsyncGenerator<T> {
    let ok = false;
    try {
      yield* body;
      ok = true;
    } finally {
      await this.close(ok);
    }
  }

  async close(ok = true): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      // A cursor still waiting in the connection's queue (not yet sent) cannot be closed: pg-cursor's close does
      // nothing before it is sent, and it would start later on the pooled connection. The connection is then
      // ended rather than returned.
      if ([...this.open].some((c) => !cursorSent(c))) this.broken = true;
      for (const c of [...this.open]) if (!this.broken && !cursorSettled(c)) await this.settle(c.close());
      this.open.clear();
      if (this.broken) throw new Error('connection lost');
      if (!(await this.settle(this.client.query(ok ? 'COMMIT' : 'ROLLBACK')))) throw new Error('end of transaction failed');
      this.release(false);
    } catch {
      this.release(true);
    }
  }

  private release(destroy: boolean): void {
    this.client.removeListener('error', this.onError);
    this.client.connection?.removeListener?.('end', this.onError);
    this.client.release(destroy || this.broken);
  }
}

/** The session's connection ended under a statement (recognised as a database outage: 503). */
export class ConnectionLost extends Error {
  constructor() {
    super('Connection terminated: the database connection was lost during the statement');
  }
}

/** The session was closed (its connection back in the pool) before this statement. */
export class SessionClosed extends Error {
  constructor() {
    super('The feature session is closed (the response was closed)');
  }
}

/** Whether pg-cursor has been handed the connection (its statement sent), as it records in `connection`. */
function cursorSent(c: Cursor): boolean {
  return Boolean((c as unknown as { connection?: unknown }).connection);
}

/** A cursor that failed or was read to its end has nothing to close (pg-cursor would wait for an answer). */
function cursorSettled(c: Cursor): boolean {
  const state = (c as unknown as { state?: string }).state;
  return state === 'done' || state === 'error';
}
