/**
 * The one cursor stream (src/query/cursor.ts) when a response is abandoned before its body is read: the
 * read-ahead batch already asked of PostgreSQL must not become an unhandled rejection when the connection is
 * then lost (a database restart, a terminated backend). An unhandled rejection ends a Node process: one
 * abandoned request would take every other request down with it. Vitest fails the run on an unhandled rejection;
 * the listener below makes the failure name this test.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { FeatureSession } from '../../src/query/cursor.js';

const pool = createPool(process.env.TEST_DATABASE_URL!, 4, 'sdi-cursor-abandoned');
afterAll(() => pool.end());

describe('cursor stream abandoned before its body is read', () => {
  it('a lost connection under a read-ahead batch that nobody awaits fails no one else (no unhandled rejection)', async () => {
    const unhandled: unknown[] = [];
    const listener = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', listener);
    try {
      const session = await FeatureSession.open(pool, 60_000);
      const pid = (await (session as unknown as { client: { query: (t: string) => Promise<{ rows: Array<{ pid: number }> }> } }).client.query('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      // 2 rows a batch: the first batch read, the second asked ahead and still being produced (row 3 takes
      // 5 s) when the backend is terminated; `rest` is never iterated.
      const { first } = await session.tuples<[number, string | null]>({ text: 'SELECT g, CASE WHEN g > 2 THEN pg_sleep(5)::text END FROM generate_series(1, 1000) g', values: [] }, 2);
      expect(first).toEqual([[1, null], [2, null]]);
      await pool.query('SELECT pg_terminate_backend($1)', [pid]);
      await new Promise((r) => setTimeout(r, 500));
      // The session still closes (its client destroyed, not returned to the pool).
      await session.close(false);
      await new Promise((r) => setTimeout(r, 100));
      expect(unhandled.map(String)).toEqual([]);
      // The pool serves the next request.
      expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    } finally {
      process.off('unhandledRejection', listener);
    }
  });
});
