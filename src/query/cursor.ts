/**
 * Executes compiled feature statements on one connection, inside one read-only REPEATABLE READ transaction
 * (counts and rows see the same snapshot), with the configured statement timeout, reading rows from a
 * server-side cursor in batches so memory stays flat whatever the table size.
 */
import Cursor from 'pg-cursor';
import type { Pool, PoolClient } from '../db/pool.js';
import type { CompiledSql } from '../db/sql.js';

export class FeatureSession {
  private closed = false;
  /** The connection was lost (backend terminated, database restarted): nothing more may be sent on it. */
  private broken = false;
  /** Cursors not yet read to the end: closed before the transaction ends, or COMMIT would queue behind them. */
  private readonly open = new Set<Cursor>();
  private readonly onError = () => {
    this.broken = true;
  };

  private constructor(private readonly client: PoolClient) {
    // pg-cursor's close() waits for a readyForQuery that a dead connection never sends: a session that
    // closed its cursors after losing its backend hung for ever and kept its pool client, and after a few
    // such losses (a database restart under load) the pool was empty and every request waited. Once the
    // connection is gone, nothing is sent on it and the client is destroyed at release.
    client.on('error', this.onError);
    client.connection?.once?.('end', this.onError);
  }

  static async open(pool: Pool, statementTimeoutMs: number): Promise<FeatureSession> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query("SELECT set_config('statement_timeout', $1, true)", [String(statementTimeoutMs)]);
    } catch (e) {
      client.release(true);
      throw e;
    }
    return new FeatureSession(client);
  }

  async count(q: CompiledSql): Promise<number> {
    const { rows } = await this.client.query<{ n: number }>(q.text, q.values);
    return Number(rows[0]?.n ?? 0);
  }

  async scalarRows<T = Record<string, unknown>>(q: CompiledSql): Promise<T[]> {
    return (await this.client.query(q.text, q.values)).rows as T[];
  }

  /**
   * Yield batches of first-column values. The first batch is read before the generator is returned to the
   * caller (by `prefetch`), so that errors in the statement surface before any response byte is sent.
   */
  async rows(q: CompiledSql, batchSize = 2000): Promise<{ first: string[]; rest: AsyncGenerator<string[]> }> {
    const cursor = this.client.query(new Cursor(q.text, q.values, { rowMode: 'array' }));
    this.open.add(cursor);
    const open = this.open;
    const closeCursor = async () => {
      open.delete(cursor);
      if (!this.broken) await cursor.close().catch(() => undefined);
    };
    const read = (n: number) => {
      const p = cursor.read(n) as Promise<unknown[][]>;
      p.catch(() => undefined); // a read left pending by an early close must not become an unhandled rejection
      return p;
    };
    const first = (await read(batchSize)).map((r) => r[0] as string);
    const done = first.length < batchSize;
    // Ask for the next batch before handing this one over, so PostgreSQL produces rows while Node encodes
    // and writes the previous ones (a plain read-then-process loop leaves one of the two idle).
    let pending: Promise<unknown[][]> | null = done ? null : read(batchSize);
    async function* rest(): AsyncGenerator<string[]> {
      try {
        while (pending) {
          const batch = await pending;
          pending = batch.length === batchSize ? read(batchSize) : null;
          if (batch.length) yield batch.map((r) => r[0] as string);
        }
      } finally {
        if (pending) await pending.catch(() => undefined);
        await closeCursor();
      }
    }
    if (done) await closeCursor();
    return { first, rest: rest() };
  }

  async close(ok = true): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (!this.broken) for (const c of [...this.open]) await c.close().catch(() => undefined);
      this.open.clear();
      if (this.broken) throw new Error('connection lost');
      await this.client.query(ok ? 'COMMIT' : 'ROLLBACK');
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
