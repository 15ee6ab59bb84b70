/**
 * Layer extents for capabilities and collection documents, robust to stale statistics and stray geometries
 * (issues 9 and 11): a layer's extent is what clients zoom to, so one stray geometry (a feature at 0,0, a
 * typo in a coordinate) or statistics from before a reload must not make it span a continent.
 *
 * - A table of up to SMALL_TABLE_ROWS rows (pg_class.reltuples) gets its exact extent,
 *   ST_Extent: ~13 ms for 10,000 small polygons, ~150 ms for 100,000 (EXPLAIN-less timing in psql on this
 *   shared 2-core machine, each repeated; ST_EstimatedExtent 0.2–0.4 ms), cached 60 s. ST_EstimatedExtent
 *   reads the statistics of the last ANALYZE: a table reloaded or moved since keeps its old extent there
 *   (the test moves a table 320 km without ANALYZE: the estimate stays where it was).
 * - A larger table gets ST_EstimatedExtent (statistics, no scan; PostGIS trims outliers from the sample's
 *   histogram: 2,300 strays among 25,000 points left it unmoved). Its statistics, when missing or stale (more
 *   changed since the last ANALYZE than autovacuum waits for), are renewed first by ANALYZE: a sample, so
 *   bounded whatever the size (~120 ms for 27,000 points, ~320 ms for 100,000 polygons).
 *   A view gets the exact extent.
 * - Either way only geometries inside the area of use of the layer's CRS (EPSG, from PROJ: src/crs/facts.ts)
 *   count: the exact extent skips those outside (&& with the area's box), the estimate is clipped to it. A
 *   layer whose geometries all lie outside its CRS's area keeps its plain extent. Cached per layer.
 */
import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import { quoteIdent } from '../db/identifiers.js';
import type { Bbox } from '../crs/registry.js';
import { ensureCrsFacts } from '../crs/facts.js';
import type { Layer, LayerColumn } from './layers.js';

const cache = new Map<string, { at: number; bbox: Bbox | null }>();
const TTL_MS = 60_000;
/** Up to this many rows a layer's extent is computed exactly (see the header for the cost). */
export const SMALL_TABLE_ROWS = 20_000;

/** What an extent is read from: a published Layer, or a layer's registry row (src/catalog/published.ts). */
export type ExtentSource = Pick<Layer, 'schema' | 'table' | 'updatedAt'> & { geometry?: { column: string; srid?: number } };

type BoxRow = { minx: number | null; miny: number; maxx: number; maxy: number };
const toBbox = (row: BoxRow | undefined): Bbox | null =>
  row && row.minx !== null ? { minx: Number(row.minx), miny: Number(row.miny), maxx: Number(row.maxx), maxy: Number(row.maxy) } : null;
const BOX_COLUMNS = 'ST_XMin(e) AS minx, ST_YMin(e) AS miny, ST_XMax(e) AS maxx, ST_YMax(e) AS maxy';

/** The area of use of a CRS in that CRS (densified envelope transformed by PostGIS); null when unknown or global. */
async function nativeAreaOfUse(pool: Pool, srid: number | undefined): Promise<Bbox | null> {
  if (!srid) return null;
  let area: Bbox | null;
  try {
    area = (await ensureCrsFacts(srid)).area;
  } catch {
    return null; // the probe failed: no clipping rather than no extent
  }
  if (!area || (area.minx <= -180 && area.maxx >= 180 && area.miny <= -90 && area.maxy >= 90)) return null;
  if (srid === 4326) return area;
  try {
    const { rows } = await pool.query<BoxRow>(
      `SELECT ${BOX_COLUMNS} FROM (SELECT ST_Transform(ST_Segmentize(ST_MakeEnvelope($1, $2, $3, $4, 4326), greatest($3 - $1, $4 - $2) / 32), $5::int) AS e) s`,
      [area.minx, area.miny, area.maxx, area.maxy, srid],
    );
    return toBbox(rows[0]);
  } catch {
    return null; // PROJ cannot transform the whole area (a polar CRS): no clipping
  }
}

export async function layerExtent(pool: Pool, layer: ExtentSource): Promise<Bbox | null> {
  if (!layer.geometry) return null;
  const key = `${layer.schema}.${layer.table}.${layer.geometry.column}.${layer.geometry.srid ?? ''}.${layer.updatedAt.getTime()}`;
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.bbox;
  const area = await nativeAreaOfUse(pool, layer.geometry.srid);
  const relation = `${quoteIdent(layer.schema)}.${quoteIdent(layer.table)}`;
  let rel = await relationFacts(pool, relation);
  // Statistics missing or stale (as autovacuum would judge them: 50 rows + 10 % changed since the last ANALYZE,
  // and autovacuum has not come yet, or is off for the table): analysed now, a bounded sample
  // (300 × default_statistics_target rows whatever the table's size). All columns: an ANALYZE of some columns
  // leaves the count of changes as it was (PostgreSQL's analyze.c), so the table would look stale again.
  // Refused (not the owner): the statistics there are.
  if (rel && rel.kind !== 'v' && rel.kind !== 'm' && (rel.reltuples < 0 || (rel.reltuples > SMALL_TABLE_ROWS && rel.changed > 50 + rel.reltuples / 10))) {
    try {
      await withLockTimeout(pool, (c) => c.query(`ANALYZE ${relation}`));
      rel = (await relationFacts(pool, relation)) ?? rel;
    } catch {
      // keep the statistics there are (not the owner, or the table is locked)
    }
  }
  let bbox: Bbox | null = null;
  if (rel && rel.kind !== 'v' && rel.kind !== 'm' && rel.reltuples > SMALL_TABLE_ROWS) {
    bbox = await estimatedExtent(pool, layer.schema, layer.table, layer.geometry.column);
    if (bbox && area) bbox = clip(bbox, area) ?? bbox;
  }
  let provisional = false;
  if (!bbox) {
    const g = quoteIdent(layer.geometry.column);
    const exact = async (inside: Bbox | null) =>
      toBbox(
        (
          await withLockTimeout(pool, (c) =>
            c.query<BoxRow>(
              `SELECT ${BOX_COLUMNS} FROM (SELECT ST_Extent(${g})::box2d AS e FROM ${relation}${inside ? ` WHERE ${g} && ST_MakeEnvelope($1, $2, $3, $4, $5::int)` : ''}) s`,
              inside ? [inside.minx, inside.miny, inside.maxx, inside.maxy, layer.geometry!.srid] : [],
            ),
          )
        ).rows[0],
      );
    try {
      bbox = (area ? await exact(area) : null) ?? (await exact(null));
    } catch (e) {
      if ((e as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw e;
      // The table is locked (an import swapping it, a maintenance job): the statistics' extent for now, not
      // cached, rather than a server start or a capabilities document waiting behind the lock.
      bbox = await estimatedExtent(pool, layer.schema, layer.table, layer.geometry.column);
      provisional = true;
    }
  }
  if (!provisional) cache.set(key, { at: Date.now(), bbox });
  return bbox;
}

/** SQLSTATE lock_not_available, raised when lock_timeout expires. */
const LOCK_NOT_AVAILABLE = '55P03';
/** How long an extent waits for a lock on the layer's table before it falls back to the statistics. */
const EXTENT_LOCK_TIMEOUT = '250ms';

/** `fn` on one connection in a transaction whose statements wait at most EXTENT_LOCK_TIMEOUT for a lock. */
function withLockTimeout<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  return withTransaction(pool, async (c) => {
    await c.query(`SET LOCAL lock_timeout = '${EXTENT_LOCK_TIMEOUT}'`);
    return fn(c);
  });
}

async function estimatedExtent(pool: Pool, schema: string, table: string, column: string): Promise<Bbox | null> {
  try {
    const { rows } = await pool.query<BoxRow>(`SELECT ${BOX_COLUMNS} FROM (SELECT ST_EstimatedExtent($1, $2, $3) AS e) s`, [schema, table, column]);
    return toBbox(rows[0]);
  } catch {
    return null; // no statistics for this column
  }
}

/** Rows (pg_class.reltuples: -1 never analysed), kind, and rows changed since the last ANALYZE of a relation. */
async function relationFacts(pool: Pool, relation: string): Promise<{ reltuples: number; kind: string; changed: number } | undefined> {
  const { rows } = await pool.query<{ reltuples: number; kind: string; changed: string | null }>(
    `SELECT c.reltuples, c.relkind AS kind, s.n_mod_since_analyze AS changed FROM pg_class c LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid WHERE c.oid = to_regclass($1)`,
    [relation],
  );
  const r = rows[0];
  return r ? { reltuples: Number(r.reltuples), kind: r.kind, changed: Number(r.changed ?? 0) } : undefined;
}

/** The part of `b` inside `area`; null when they do not meet. */
function clip(b: Bbox, area: Bbox): Bbox | null {
  const out = { minx: Math.max(b.minx, area.minx), miny: Math.max(b.miny, area.miny), maxx: Math.min(b.maxx, area.maxx), maxy: Math.min(b.maxy, area.maxy) };
  return out.minx <= out.maxx && out.miny <= out.maxy ? out : null;
}

const wgsCache = new Map<string, { at: number; bbox: Bbox | null }>();

/**
 * The one WGS 84 extent of a layer (lon/lat), for WFS and OGC API (as is, to 1e-6), the catalogue records
 * (rounded outwards to 2 decimals, CNIG) and the Atom feeds, so that they all agree (issue 8): the native
 * extent's envelope densified (32 steps an edge, so that its curved image is enclosed) and transformed by
 * PostGIS, which knows every CRS of spatial_ref_sys (proj4 in Node knew only the offered ones).
 */
export async function layerExtentWgs84(pool: Pool, layer: ExtentSource & { geometry?: { column: string; srid: number } }): Promise<Bbox | null> {
  const b = await layerExtent(pool, layer);
  if (!b || !layer.geometry) return null;
  const srid = layer.geometry.srid;
  const key = `${layer.schema}.${layer.table}.${layer.geometry.column}.${srid}.${b.minx},${b.miny},${b.maxx},${b.maxy}`;
  const hit = wgsCache.get(key);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.bbox;
  let w: Bbox | null = b;
  if (srid !== 4326) {
    const { rows } = await pool.query<{ minx: number; miny: number; maxx: number; maxy: number }>(
      `SELECT ST_XMin(e) AS minx, ST_YMin(e) AS miny, ST_XMax(e) AS maxx, ST_YMax(e) AS maxy FROM (
         SELECT ST_Transform(ST_Segmentize(ST_MakeEnvelope($1, $2, $3, $4, $5), greatest($3 - $1, $4 - $2, 1e-6) / 32), 4326) AS e) s`,
      [b.minx, b.miny, b.maxx, b.maxy, srid],
    );
    w = rows[0] ?? null;
  }
  const r = (v: number) => Math.round(Number(v) * 1e6) / 1e6;
  const bbox = w ? { minx: r(w.minx), miny: r(w.miny), maxx: r(w.maxx), maxy: r(w.maxy) } : null;
  wgsCache.set(key, { at: Date.now(), bbox });
  return bbox;
}

/** ISO 8601 Gregorian calendar: the temporal reference system of OGC API extents. */
export const GREGORIAN_TRS = 'http://www.opengis.net/def/uom/ISO-8601/0/Gregorian';

const temporalCache = new Map<string, { at: number; interval: [string, string | null] | null }>();

/**
 * The temporal extent of a layer with a temporal property, as OGC API Features writes it: [first, last] in
 * UTC (RFC 3339), last null when a feature's interval is still open (declared end property NULL). A date
 * column's extent runs from the first day's 00:00:00Z to the last day's 23:59:59Z; timestamps without time
 * zone are read as UTC. min/max in SQL (an index on the column makes it cheap), cached like the bbox.
 */
export async function layerTemporalExtent(pool: Pool, layer: Layer): Promise<[string, string | null] | null> {
  const t = layer.temporal;
  if (!t) return null;
  const key = `${layer.schema}.${layer.table}.${t.start.name}.${t.end?.name ?? ''}.${layer.updatedAt.getTime()}`;
  const hit = temporalCache.get(key);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.interval;
  const fmt = (expr: string, col: LayerColumn, side: 'first' | 'last') => {
    if (col.kind === 'date') return `to_char(${expr}, 'YYYY-MM-DD') || '${side === 'first' ? 'T00:00:00Z' : 'T23:59:59Z'}'`;
    const utc = /with time zone/i.test(col.pgType) ? `(${expr} AT TIME ZONE 'UTC')` : expr;
    return `to_char(${utc}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  };
  const s = quoteIdent(t.start.name);
  const last = t.end ? quoteIdent(t.end.name) : s;
  const { rows } = await pool.query<{ lo: string | null; hi: string | null; open: boolean | null }>(
    `SELECT ${fmt(`min(${s})`, t.start, 'first')} AS lo, ${fmt(`max(${last})`, t.end ?? t.start, 'last')} AS hi,
            ${t.end ? `bool_or(${quoteIdent(t.end.name)} IS NULL AND ${s} IS NOT NULL)` : 'false'} AS open
       FROM ${quoteIdent(layer.schema)}.${quoteIdent(layer.table)}`,
  );
  const r = rows[0];
  const tidy = (v: string) => v.replace(/\.000000Z$/, 'Z').replace(/(\.\d*?)0+Z$/, '$1Z');
  const interval: [string, string | null] | null = r?.lo ? [tidy(r.lo), r.open || !r.hi ? null : tidy(r.hi)] : null;
  temporalCache.set(key, { at: Date.now(), interval });
  return interval;
}
