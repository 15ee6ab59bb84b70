/** Per-request context for CSW operations, and the read transaction every operation runs in. */
import type { Platform } from '../../../src/platform.js';
import type { PoolClient } from '../../../src/db/pool.js';

export interface CswLimits {
  /** Largest maxRecords accepted (GDAL's CSW driver asks for 500 by default). */
  maxRecords: number;
  statementTimeoutMs: number;
}

export interface CswContext {
  platform: Platform;
  /** Public URL of the CSW endpoint, without query string (capabilities hrefs). */
  serviceUrl: string;
  limits: CswLimits;
}

export const XML_TYPE = 'application/xml; charset=utf-8';

/**
 * A read-only REPEATABLE READ transaction (count and page see one snapshot), with the statement timeout and
 * UTC as the session time zone (date literals without offset are read as UTC, like the stored dates).
 */
export async function withCatalogueRead<T>(ctx: CswContext, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const client = await ctx.platform.pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query("SELECT set_config('statement_timeout', $1, true), set_config('TimeZone', 'UTC', true)", [String(ctx.limits.statementTimeoutMs)]);
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}
