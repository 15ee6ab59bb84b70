/**
 * Usage rows written in batches (issue 11: "written without slowing the request path"), by the batch writer
 * shared with the audit log (src/db/batch-writer.ts): one multi-row INSERT every second or every `maxRows` rows.
 * Statistics are not worth failing or delaying a request: a failed insert is logged and its rows dropped.
 */
import type { Pool } from '../db/pool.js';
import { BatchWriter, type BatchOptions } from '../db/batch-writer.js';

export interface UsageRow {
  at: Date;
  service: string;
  operation: string;
  layer: string | null;
  principal: string | null;
  features: number | null;
  bytes: number | null;
  status: number;
  /** Features read per layer, when the request read several. */
  layerFeatures?: Record<string, number>;
}

export type RecorderOptions = BatchOptions;

/** sdi.usage_log's batching writer (src/db/batch-writer.ts). */
export class UsageRecorder {
  private readonly writer: BatchWriter<UsageRow>;

  constructor(pool: Pool, opts: RecorderOptions = {}) {
    this.writer = new BatchWriter<UsageRow>(
      (rows) =>
        pool.query(
          `INSERT INTO sdi.usage_log (at, service, operation, layer, principal, features, bytes, detail)
           SELECT at, service, operation, layer, principal, features, bytes,
                  jsonb_strip_nulls(jsonb_build_object('status', status, 'layerFeatures', layer_features))
             FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::int[], $9::jsonb[])
               AS r(at, service, operation, layer, principal, features, bytes, status, layer_features)`,
          [
            rows.map((r) => r.at),
            rows.map((r) => r.service),
            rows.map((r) => r.operation),
            rows.map((r) => r.layer),
            rows.map((r) => r.principal),
            rows.map((r) => r.features),
            rows.map((r) => r.bytes),
            rows.map((r) => r.status),
            rows.map((r) => (r.layerFeatures ? JSON.stringify(r.layerFeatures) : null)),
          ],
        ),
      opts,
    );
  }

  record(row: UsageRow): void {
    this.writer.add(row);
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}
