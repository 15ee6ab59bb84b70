/**
 * Layer extents for capabilities and collection documents: ST_EstimatedExtent (statistics, no scan) with
 * an exact ST_Extent fallback for tables never analysed; cached per layer.
 */
import type { Pool } from '../db/pool.js';
import { quoteIdent } from '../db/identifiers.js';
import type { Bbox, CrsRegistry } from '../crs/registry.js';
import type { Layer } from './layers.js';

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

export async function layerExtentWgs84(pool: Pool, crs: CrsRegistry, layer: Layer): Promise<Bbox | null> {
  const b = await layerExtent(pool, layer);
  if (!b || !layer.geometry) return null;
  const w = crs.transformBbox(b, layer.geometry.srid, 4326);
  const r = (v: number) => Math.round(v * 1e6) / 1e6;
  return { minx: r(w.minx), miny: r(w.miny), maxx: r(w.maxx), maxy: r(w.maxy) };
}
