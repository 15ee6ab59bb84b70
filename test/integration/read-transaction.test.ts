/**
 * withReadTransaction (src/db/pool.ts) opens its snapshot and sets its statement timeout and time zone in one
 * round trip (issue 12): the settings hold inside the transaction only, the timeout cancels a statement, and a
 * time zone is quoted as a literal.
 */
import { describe, expect, it } from 'vitest';
import { db } from '../helpers.js';
import { transactionSettingsSql, withReadTransaction } from '../../src/db/pool.js';

const show = async (c: { query: (s: string) => Promise<{ rows: Array<Record<string, string>> }> }, name: string) => Object.values((await c.query(`SHOW ${name}`)).rows[0]!)[0];

describe('read transaction settings', () => {
  it('REPEATABLE READ, read only, its timeout and time zone inside, the session unchanged after', async () => {
    const c = await db().connect();
    let pid: number;
    try {
      pid = (await c.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p;
    } finally {
      c.release();
    }
    const inside = await withReadTransaction(db(), 1500, async (t) => ({
      pid: (await t.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p,
      timeout: await show(t, 'statement_timeout'),
      zone: await show(t, 'TimeZone'),
      isolation: await show(t, 'transaction_isolation'),
      readOnly: await show(t, 'transaction_read_only'),
    }), { timeZone: 'UTC' });
    expect(inside).toMatchObject({ timeout: '1500ms', zone: 'UTC', isolation: 'repeatable read', readOnly: 'on' });
    // SET LOCAL: the pooled connection (the same one, idle in between) keeps its own settings afterwards
    if (inside.pid === pid!) {
      const after = await db().connect();
      try {
        expect(await show(after, 'statement_timeout')).not.toBe('1500ms');
      } finally {
        after.release();
      }
    }
  });

  it('the timeout cancels a longer statement (57014), and the zone left out keeps the session zone', async () => {
    await expect(withReadTransaction(db(), 200, (t) => t.query('SELECT pg_sleep(2)'))).rejects.toMatchObject({ code: '57014' });
    const session = (await db().query<{ z: string }>('SELECT current_setting($1) AS z', ['TimeZone'])).rows[0]!.z;
    expect(await withReadTransaction(db(), 1000, (t) => show(t, 'TimeZone'))).toBe(session);
  });

  it('a zone is quoted as a literal, a fractional timeout rounded, a negative or non-finite one refused', () => {
    expect(transactionSettingsSql(1500.4, "Europe/Paris'; DROP TABLE x; --")).toBe(`SET LOCAL statement_timeout = 1500; SET LOCAL TimeZone = 'Europe/Paris''; DROP TABLE x; --';`);
    expect(() => transactionSettingsSql(Number.NaN)).toThrow();
    expect(() => transactionSettingsSql(-1)).toThrow();
  });
});
