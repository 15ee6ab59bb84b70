/** Reading sdi.audit_log for the admin API (GET /admin/audit): filtered, newest first, paged by id (keyset). */
import type { Pool } from '../db/pool.js';
import type { AuditEvent } from './recorder.js';

export interface AuditQuery {
  /** First and last day (UTC, inclusive), YYYY-MM-DD. */
  from: string;
  to: string;
  event?: AuditEvent;
  principal?: string;
  status?: number;
  /** Rows with an id below this one (the next page of a previous answer). */
  before?: string;
  limit: number;
}

export interface AuditRow {
  id: string;
  at: string;
  event: string;
  principal: string | null;
  client: string | null;
  method: string | null;
  path: string | null;
  status: number | null;
  detail: Record<string, unknown> | null;
}

/** One page, and whether more rows follow (one row more is read to know). */
export async function readAudit(pool: Pool, q: AuditQuery): Promise<{ rows: AuditRow[]; more: boolean }> {
  const { rows } = await pool.query<AuditRow>(
    `SELECT a.id::text AS id, to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, a.event, a.principal, a.client, a.method, a.path, a.status, a.detail
       FROM sdi.audit_log a
      WHERE a.at >= ($1::date)::timestamp AT TIME ZONE 'UTC' AND a.at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'
        AND ($3::text IS NULL OR a.event = $3) AND ($4::text IS NULL OR a.principal = $4) AND ($5::int IS NULL OR a.status = $5)
        AND ($6::bigint IS NULL OR a.id < $6)
      ORDER BY a.id DESC
      LIMIT $7`,
    [q.from, q.to, q.event ?? null, q.principal ?? null, q.status ?? null, q.before ?? null, q.limit + 1],
  );
  return { rows: rows.slice(0, q.limit), more: rows.length > q.limit };
}
