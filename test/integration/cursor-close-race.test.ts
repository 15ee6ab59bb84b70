/**
 * The one cursor stream (src/query/cursor.ts) when the response closes before or while the handler uses its
 * session: the release path (src/server/release.ts, the response's 'close') ends the session and returns its
 * connection to the pool. Nothing asked of the session afterwards may reach that connection: the pool has
 * given it to someone else. Seen in the bench (2026-12-06, issue 11): clients that left during the handler
 * (wrk ending a run) had their session closed at once; the handler then opened its cursor, which pg queued
 * behind the ROLLBACK and started on the pooled connection, where nobody read or closed it. Every later user
 * of that connection waited for ever (a token lookup, a usage-log insert), and the process could not stop.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { FeatureSession, SessionClosed } from '../../src/query/cursor.js';

// One connection: the session's, then the next user's.
const pool = createPool(process.env.TEST_DATABASE_URL!, 1, 'sdi-cursor-close-race');
afterAll(() => pool.end());

/** `p`, or 'no answer' after `ms` (a liveness check: a lost connection never answers at all). */
const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<'no answer'>((r) => setTimeout(() => r('no answer'), ms))]);

describe('cursor stream closed by the response while its generator runs', () => {
  it('a batch arriving after the session closed is not followed by any read on the released connection', async () => {
    const session = await FeatureSession.open(pool, 60_000);
    // 2 rows a batch; from row 3 on each row takes 150 ms, so the read-ahead batch is still pending below.
    const { first, rest } = await session.tuples<[number, string | null]>({ text: 'SELECT g, CASE WHEN g > 2 THEN pg_sleep(0.15)::text END FROM generate_series(1, 100) g', values: [] }, 2);
    expect(first).toEqual([[1, null], [2, null]]);
    // The body iterates (awaiting the read-ahead batch) when the response closes.
    const next = rest.next();
    await session.close(false);
    // The connection is back in the pool: the next user's statement runs on it.
    const other = pool.query<{ one: number }>('SELECT 1 AS one');
    // The generator resumes with the batch it was waiting for, then is returned (the stream destroyed).
    await within(next.catch(() => undefined), 5_000);
    await within(rest.return(undefined).catch(() => undefined), 5_000);
    const answer = await within(other, 10_000);
    expect(answer === 'no answer' ? answer : answer.rows[0]!.one).toBe(1);
    expect(await within(pool.query<{ n: number }>('SELECT 2 AS n').then((r) => r.rows[0]!.n), 10_000)).toBe(2);
  });

  it('a session closed before its body starts: the body reads nothing and ends', async () => {
    const session = await FeatureSession.open(pool, 60_000);
    const { rest } = await session.tuples<[number]>({ text: 'SELECT g FROM generate_series(1, 100) g', values: [] }, 2);
    await session.close(false);
    const other = pool.query<{ one: number }>('SELECT 1 AS one');
    const batches: number[][] = [];
    const consumed = (async () => {
      for await (const b of rest) batches.push(b.map((r) => r[0]));
    })().catch(() => undefined);
    await within(consumed, 5_000);
    const answer = await within(other, 10_000);
    expect(answer === 'no answer' ? answer : answer.rows[0]!.one).toBe(1);
    // At most the batch already asked before the close; never one asked after it.
    expect(batches.length).toBeLessThanOrEqual(1);
  });

  it('a statement asked of a session already closed (the client left during the handler) is refused and sends nothing', async () => {
    const session = await FeatureSession.open(pool, 60_000);
    await session.close(false);
    await expect(session.rows({ text: 'SELECT g::text FROM generate_series(1, 100) g', values: [] }, 2)).rejects.toBeInstanceOf(SessionClosed);
    await expect(session.count({ text: 'SELECT 1 AS n', values: [] })).rejects.toBeInstanceOf(SessionClosed);
    const answer = await within(pool.query<{ one: number }>('SELECT 1 AS one'), 10_000);
    expect(answer === 'no answer' ? answer : answer.rows[0]!.one).toBe(1);
  });

  it('a cursor still queued behind a statement when the session closes: its connection is ended, not returned busy (at once, not after the 10 s close timeout)', async () => {
    const session = await FeatureSession.open(pool, 60_000);
    // A statement in flight (300 ms), and the cursor asked meanwhile: pg queues it on the connection.
    const slow = session.count({ text: 'SELECT count(*) AS n FROM (SELECT pg_sleep(0.3)) s', values: [] });
    const streamed = session.rows({ text: 'SELECT g::text FROM generate_series(1, 100000) g', values: [] }, 2).catch((e: unknown) => e);
    await session.close(false);
    await slow.catch(() => undefined);
    await within(streamed, 5_000);
    const answer = await within(pool.query<{ one: number }>('SELECT 1 AS one'), 10_000);
    expect(answer === 'no answer' ? answer : answer.rows[0]!.one).toBe(1);
    expect(await within(pool.query<{ n: number }>('SELECT 2 AS n').then((r) => r.rows[0]!.n), 10_000)).toBe(2);
  });
});
