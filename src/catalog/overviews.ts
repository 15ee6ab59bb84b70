/**
 * The registered overview levels of layers (sdi.layer_overviews, migration 0037; built by
 * src/publishing/overview-job.ts): what the map planner may choose from. Being listed says nothing of freshness:
 * the map's statement itself checks it in its snapshot (sdi.overview_fresh), and reads the layer's table when
 * the level is stale (src/query/compile.ts).
 */
import type { Pool } from '../db/pool.js';

export interface OverviewLevel {
  layer: string;
  level: number;
  /** Cell in layer CRS units: the level's coordinates are integers of it. */
  cell: number;
  /** Layer CRS units per pixel from which the level is detailed enough (its cell is an eighth of a pixel there). */
  minResolution: number;
  srid: number;
  /** Table in schema sdi_overviews. */
  table: string;
}

/** The levels of these layers, by layer name (one small query; none registered: an empty map). */
export async function overviewLevels(pool: Pool, layers: readonly string[]): Promise<Map<string, OverviewLevel[]>> {
  const out = new Map<string, OverviewLevel[]>();
  if (!layers.length) return out;
  const { rows } = await pool.query<OverviewLevel>(
    `SELECT layer_name AS layer, level, cell, min_resolution AS "minResolution", srid, overview_table AS table
       FROM sdi.layer_overviews WHERE layer_name = ANY($1::text[]) ORDER BY layer_name, level`,
    [layers],
  );
  for (const r of rows) {
    const list = out.get(r.layer) ?? [];
    list.push(r);
    out.set(r.layer, list);
  }
  return out;
}
