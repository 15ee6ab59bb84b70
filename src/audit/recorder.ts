/**
 * The audit log (issue 11): who signed in, who was refused (401, 403, 429, failed sign-ins), who changed users,
 * groups, tokens and grants, who edited which features, who downloaded what. One row per event in sdi.audit_log
 * (migration 0019), written in batches like the usage statistics (src/db/batch-writer.ts): an event is appended to a
 * buffer and the request goes on; never a password, a token, a request body or a query string (a URL may carry an
 * access_token; only the path is kept).
 */
import type { Pool } from '../db/pool.js';
import { BatchWriter } from '../db/batch-writer.js';

export const AUDIT_EVENTS = ['sign-in', 'sign-in-failed', 'sign-out', 'refusal', 'rights', 'edit', 'download'] as const;
export type AuditEvent = (typeof AUDIT_EVENTS)[number];

export interface AuditEntry {
  event: AuditEvent;
  /** The login acting; for a failed sign-in, the login it tried (null for a token or anonymous). */
  principal?: string | null;
  /** The client's address (src/net/client-address.ts). */
  client?: string | null;
  method?: string | null;
  /** The path, without its query string. */
  path?: string | null;
  status?: number | null;
  /** What happened, as a small JSON object (layer, counts, scheme, reason…). */
  detail?: Record<string, unknown>;
}

interface AuditRow extends AuditEntry {
  at: Date;
}

/** Anything that takes audit entries (the recorder, or nothing for code run outside a server). */
export interface AuditSink {
  record(e: AuditEntry): void;
}

const clip = (s: string | null | undefined, max: number) => (s === null || s === undefined ? null : s.slice(0, max));

export class AuditRecorder implements AuditSink {
  private readonly writer: BatchWriter<AuditRow>;

  constructor(pool: Pool, onError: (e: unknown, dropped: number) => void = () => undefined) {
    this.writer = new BatchWriter<AuditRow>(
      (rows) =>
        pool.query(
          `INSERT INTO sdi.audit_log (at, event, principal, client, method, path, status, detail)
           SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::jsonb[])`,
          [
            rows.map((r) => r.at),
            rows.map((r) => r.event),
            rows.map((r) => clip(r.principal, 128)),
            rows.map((r) => clip(r.client, 64)),
            rows.map((r) => clip(r.method, 10)),
            rows.map((r) => clip(r.path?.split('?')[0], 300)),
            rows.map((r) => r.status ?? null),
            rows.map((r) => (r.detail ? JSON.stringify(r.detail) : null)),
          ],
        ),
      { onError },
    );
  }

  record(e: AuditEntry): void {
    this.writer.add({ ...e, at: new Date() });
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}
