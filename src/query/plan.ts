/**
 * The typed feature query plan: what every protocol (WFS, OGC API Features, WMS GetFeatureInfo, downloads)
 * reduces a request to, built by planner.ts (planFeatureQuery). Compiled to SQL by compile.ts, executed by cursor.ts, encoded by src/formats/*.
 */
import type { Layer } from '../catalog/layers.js';
import type { Filter } from '../filter/ast.js';
import type { CrsRef } from '../crs/identifiers.js';
import type { AccessDecision } from '../access/policy.js';

export interface SortKey {
  /** Column name as in the catalogue (already resolved). */
  column: string;
  descending: boolean;
}

export interface FeatureQuery {
  layer: Layer;
  /** Access-policy decision for the caller; its restriction is ANDed into every statement. */
  access: AccessDecision;
  filter?: Filter;
  /** Output CRS as the client wrote it. */
  outputCrs: CrsRef;
  /** Selected attribute columns (resolved names), in layer order; undefined = all. */
  properties?: string[];
  includeGeometry: boolean;
  sortBy: SortKey[];
  offset: number;
  /** null = no limit (the service's own cap is applied before this point). */
  limit: number | null;
  /** Stable order (requested keys, then the id) for paging; false for maps, tiles and whole extracts. */
  ordered: boolean;
  /** Only features intersecting this area, clipped to it when `clip`. */
  area?: QueryArea;
  /** Nearest features to this point (x/y in `srid`) first, before the sort keys (WMS GetFeatureInfo). */
  nearest?: NearestPoint;
  /**
   * A generalised copy of the layer read instead of its table while it is fresh (maps at small scales; chosen by
   * the planner, compiled by compile.ts into one statement that reads the table when the copy is stale).
   */
  overview?: OverviewSource;
}

/** An overview level a map reads (src/publishing/overview-job.ts). */
export interface OverviewSource {
  /** Table in schema sdi_overviews. */
  table: string;
  level: number;
  /** Layer CRS units of one integer of its TWKB coordinates. */
  cell: number;
  /** The rows touching this box (layer CRS = map CRS). */
  box: { minx: number; miny: number; maxx: number; maxy: number };
  srid: number;
}

export interface NearestPoint {
  x: number;
  y: number;
  srid: number;
}

/** An extraction area, bound as EWKB (hex) with its SRID. */
export interface QueryArea {
  ewkbHex: string;
  srid: number;
  clip: boolean;
  /**
   * Polygon features with less than this share of their area inside are left out (boundary slivers between
   * reference tables of different origins; set for administrative units). Unset: any intersection counts.
   */
  minShare?: number;
}
