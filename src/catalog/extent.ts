/**
 * Layer extents for capabilities and collection documents: ST_EstimatedExtent (statistics, no scan) with
 * an exact ST_Extent fallback for tables never analysed; cached per layer.
 */
import type { Pool } from '../db/pool.js';
import { quoteIdent } from '../db/identifiers.js';
import type { Bbox } from '../crs/registry.js';
import type { Layer, LayerColumn } from './layers.js';

const cache = new Map<string, { at: number; bbox: Bbox | null }>();
const TTL_MS = 60_000;

/** What an extent is read from: a published Layer, or a layer's registry row (src/catalog/published.ts). */
export type ExtentSource = Pick<Layer, 'schema' | 'table' | 'updatedAt'> & { geometry?: { column: string } };

export async function layerExtent(pool: Pool, layer: ExtentSource): Promise<Bbox | null> {
  if (!layer.geometry) return null;
  const key = `${layer.schema}.${layer.table}.${layer.geometry.column}.${layer.updatedAt.getTime()}`;
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.bbox;
  let row: { minx: number | null; miny: number; maxx: number; maxy: number } | undefined;
  try {
    row = (
      await pool.query(
        `SELECT ST_XMin(e) AS minx, ST_YMin(e) AS miny, ST_XMax(e) AS maxx, ST_YMax(e) AS maxy
           FROM (SELECT ST_EstimatedExtent($1, $2, $3) AS e) s`,
        [layer.schema, layer.table, layer.geometry.column],
      )
    ).rows[0];
  } catch {
    row = undefined; // views have no statistics
  }
  if (!row || row.minx === null) {
    const { rows } = await pool.query(
      `SELECT ST_XMin(e) AS minx, ST_YMin(e) AS miny, ST_XMax(e) AS maxx, ST_YMax(e) AS maxy
         FROM (SELECT ST_Extent(${quoteIdent(layer.geometry.column)})::box2d AS e
                 FROM ${quoteIdent(layer.schema)}.${quoteIdent(layer.table)}) s`,
    );
    row = rows[0];
  }
  const bbox = row && row.minx !== null ? { minx: Number(row.minx), miny: Number(row.miny), maxx: Number(row.maxx), maxy: Number(row.maxy) } : null;
  cache.set(key, { at: Date.now(), bbox });
  return bbox;
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
