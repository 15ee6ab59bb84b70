/**
 * Download statistics: one sdi.usage_log row per delivered extract (who, which layers, area, format, CRS,
 * features, bytes). Written after the last byte left, so failed or abandoned downloads are not counted.
 */
import type { Platform } from '../platform.js';
import type { Principal } from '../access/policy.js';
import type { ExtractRequest } from './request.js';

export interface DownloadLogEntry {
  operation: 'direct' | 'job';
  principal?: Principal;
  req: ExtractRequest;
  areaLabel?: string;
  features: number;
  bytes: number;
  jobId?: string;
}

export async function logDownload(platform: Platform, e: DownloadLogEntry): Promise<void> {
  // The audit log's entry (issue 11): who downloaded which layers, where, in what (a job's worker has no request).
  platform.audit?.record({
    event: 'download',
    principal: e.principal?.login ?? null,
    detail: { operation: e.operation, layers: e.req.layers, format: e.req.format, crs: `EPSG:${e.req.crs}`, area: e.areaLabel ?? null, features: e.features, bytes: e.bytes, job: e.jobId ?? null },
  });
  await platform.pool.query(
    `INSERT INTO sdi.usage_log (service, operation, layer, principal, features, bytes, detail)
     VALUES ('download', $1, $2, $3, $4, $5, $6::jsonb)`,
    [
      e.operation,
      e.req.layers.join(','),
      e.principal?.login ?? null,
      e.features,
      e.bytes,
      JSON.stringify({ format: e.req.format, crs: `EPSG:${e.req.crs}`, area: e.areaLabel ?? null, clip: e.req.clip, filter: e.req.filter ?? null, job: e.jobId ?? null }),
    ],
  );
}
