/** Per-request context for CSW operations, and the read transaction every operation runs in. */
import type { Platform } from '../../../src/platform.js';
import type { PoolClient } from '../../../src/db/pool.js';
import { withCatalogueSnapshot } from '../../../src/records/repository.js';

export interface CswLimits {
  /** Largest maxRecords accepted (GDAL's CSW driver asks for 500 by default). */
  maxRecords: number;
  statementTimeoutMs: number;
}

/** The catalogue service's limits (CSW and DCAT): SDI_CSW_MAX_RECORDS, the features' statement timeout. */
export function catalogueLimits(platform: Platform): CswLimits {
  return {
    maxRecords: platform.config.catalogue.maxRecords,
    statementTimeoutMs: platform.config.features.statementTimeoutMs,
  };
}

export interface CswContext {
  platform: Platform;
  /** Public URL of the CSW endpoint, without query string (capabilities hrefs). */
  serviceUrl: string;
  limits: CswLimits;
  /** Records of resources this caller may not view (src/access/records.ts): left out of every answer. */
  hiddenRecords?: readonly string[];
  /** Identifiers of records sent without their data links to this caller (SDI_CATALOGUE_RESTRICTED=describe, src/access/record-links.ts). */
  linklessRecords?: ReadonlySet<string>;
}

export const XML_TYPE = 'application/xml; charset=utf-8';

/** The request's catalogue snapshot (src/records withCatalogueSnapshot) with the CSW limits' statement timeout. */
export function withCatalogueRead<T>(ctx: CswContext, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  return withCatalogueSnapshot(ctx.platform.pool, ctx.limits.statementTimeoutMs, fn);
}
