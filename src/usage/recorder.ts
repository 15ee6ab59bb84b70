/**
 * Usage rows written in batches (issue 11: "written without slowing the request path"): a request only
 * appends to an in-memory buffer; the buffer goes to sdi.usage_log in one multi-row INSERT every second, or at
 * once when it holds `maxRows` rows, and on close. Statistics are not worth failing or delaying a request:
 * a failed insert is logged and its rows dropped; beyond `maxBuffered` rows waiting (a database down), new rows
 * are dropped and counted in the log.
 */
import type { Pool } from '../db/pool.js';

export interface UsageRow {
  at: Date;
  service: string;
  operation: string;
  layer: string | null;
  principal: string | null;
  features: number | null;
  bytes: number | null;
  status: number;
}

export interface RecorderOptions {
  intervalMs?: number;
  maxRows?: number;
  maxBuffered?: number;
  onError?: (e: unknown, dropped: number) => void;
}

export class UsageRecorder {
  private buffer: UsageRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly maxRows: number;
  private readonly maxBuffered: number;
  /** Rows refused since the last flush because the buffer was full: reported once per flush, not per row. */
  private dropped = 0;

  constructor(
    private readonly pool: Pool,
    private readonly opts: RecorderOptions = {},
  ) {
    this.maxRows = opts.maxRows ?? 500;
    this.maxBuffered = opts.maxBuffered ?? 50_000;
    this.timer = setInterval(() => void this.flush(), opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  record(row: UsageRow): void {
    if (this.buffer.length >= this.maxBuffered) {
      this.dropped++;
      return;
    }
    this.buffer.push(row);
    if (this.buffer.length >= this.maxRows) void this.flush();
  }

  /** Write what is buffered (one INSERT per `maxRows` rows); resolves when written or dropped. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.dropped) {
        this.opts.onError?.(new Error('usage buffer full'), this.dropped);
        this.dropped = 0;
      }
      while (this.buffer.length) {
        const rows = this.buffer.splice(0, this.maxRows);
        try {
          await this.pool.query(
            `INSERT INTO sdi.usage_log (at, service, operation, layer, principal, features, bytes, detail)
             SELECT at, service, operation, layer, principal, features, bytes, jsonb_build_object('status', status)
               FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::int[])
                 AS r(at, service, operation, layer, principal, features, bytes, status)`,
            [rows.map((r) => r.at), rows.map((r) => r.service), rows.map((r) => r.operation), rows.map((r) => r.layer), rows.map((r) => r.principal), rows.map((r) => r.features), rows.map((r) => r.bytes), rows.map((r) => r.status)],
          );
        } catch (e) {
          this.opts.onError?.(e, rows.length);
        }
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
