/**
 * Retention of usage statistics and of the audit log (issue 11): rows older than SDI_USAGE_RETENTION_DAYS /
 * SDI_AUDIT_RETENTION_DAYS (0: kept for ever) are deleted, in slices of 10,000 rows so that a first purge of a
 * long history holds no long lock nor one huge transaction. Run by every serving process on a timer (the
 * statements are idempotent: two processes purging at once delete each row once).
 */
import type { Pool } from '../db/pool.js';
import type { RetentionSettings } from '../config/index.js';

const SLICE = 10_000;

async function purgeTable(pool: Pool, table: 'sdi.usage_log' | 'sdi.audit_log', days: number): Promise<number> {
  if (days <= 0) return 0;
  let total = 0;
  for (;;) {
    const r = await pool.query(
      `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE at < now() - make_interval(days => $1) LIMIT ${SLICE})`,
      [days],
    );
    total += r.rowCount ?? 0;
    if ((r.rowCount ?? 0) < SLICE) return total;
  }
}

/** Delete the rows past their retention; how many of each. */
export async function purgeExpired(pool: Pool, r: RetentionSettings): Promise<{ usage: number; audit: number }> {
  return { usage: await purgeTable(pool, 'sdi.usage_log', r.usageDays), audit: await purgeTable(pool, 'sdi.audit_log', r.auditDays) };
}

/** Purge now (a little after start) and then every `purgeIntervalMs`; stop() ends it. */
export function schedulePurge(pool: Pool, r: RetentionSettings, onError: (e: unknown) => void): { stop(): void } {
  const run = () => void purgeExpired(pool, r).catch(onError);
  const first = setTimeout(run, Math.min(10_000, r.purgeIntervalMs));
  const every = setInterval(run, r.purgeIntervalMs);
  first.unref();
  every.unref();
  return {
    stop() {
      clearTimeout(first);
      clearInterval(every);
    },
  };
}
