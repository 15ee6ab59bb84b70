/**
 * A raster layer cut to a territory (issue 11): a caller whose grant on a raster layer is limited to a
 * territory sees only its pixels inside it, on maps (WMS GetMap) and in feature info (GetFeatureInfo). The
 * policy gives the territory as an SQL geometry (AccessDecision.territory, EPSG:2154); PostGIS brings it into
 * the raster's CRS, keeps only what lies in the map's box (grown by a few map pixels) and simplifies it to a
 * quarter of a map pixel, so that GDAL's cutline (src/render/raster.ts, gdalwarp -cutline from /vsimem/) holds
 * a few hundred vertices rather than the département's full outline. Pixels outside are no-data: transparent.
 *
 * Why a cutline rather than a mask drawn on the canvas: the cut then happens where the pixel values are made,
 * so feature info (a one-pixel warp) and the map agree pixel for pixel, and no value outside the territory
 * ever reaches Node.
 */
import type { Pool } from '../db/pool.js';
import { PositionalBinder } from '../db/sql.js';
import type { AccessDecision } from '../access/policy.js';
import type { MapGrid } from './grid.js';

/** undefined: the whole raster; 'empty': nothing of the territory in the map (draw nothing); else the cutline. */
export type RasterCut = undefined | 'empty' | { geojson: string; srid: number };

/** Map pixels the cutline reaches beyond the map's box (the warp's resampling kernel reads a little outside). */
const MARGIN_PIXELS = 4;

/**
 * The cutline of a map of `grid` for a caller whose decision on raster `r` is `decision`, in the raster's CRS.
 * `mapPixel`: a map pixel's size in the raster's CRS units (Infinity when unknown).
 */
export async function mapCut(pool: Pool, decision: AccessDecision, r: { srid: number }, grid: MapGrid, mapPixel: number): Promise<RasterCut> {
  if (!decision.territory) return undefined;
  const px = Number.isFinite(mapPixel) ? mapPixel : 0;
  const run = async (clipToMap: boolean) => {
    const p = new PositionalBinder();
    const territory = decision.territory!(p);
    const rs = p.add(r.srid, 'integer');
    let g = `ST_Transform(${territory}, ${rs})`;
    if (clipToMap) {
      const b = grid.bbox;
      const env = `ST_MakeEnvelope(${p.add(b.minx, 'float8')}, ${p.add(b.miny, 'float8')}, ${p.add(b.maxx, 'float8')}, ${p.add(b.maxy, 'float8')}, ${p.add(grid.srid, 'integer')})`;
      // The map box densified (its edges curve in the raster's CRS), in the raster's CRS, grown by the margin.
      const box = `ST_Expand(ST_Envelope(ST_Transform(ST_Segmentize(${env}, (ST_XMax(${env}) - ST_XMin(${env})) / 32 + 1e-9), ${rs})), ${p.add(px * MARGIN_PIXELS, 'float8')})`;
      g = `ST_Intersection(${g}, ${box})`;
    }
    const simplified = `ST_CollectionExtract(ST_MakeValid(ST_SimplifyPreserveTopology(${g}, ${p.add(px / 4, 'float8')})), 3)`;
    const { rows } = await pool.query<{ j: string | null }>(`SELECT CASE WHEN ST_IsEmpty(s.g) THEN NULL ELSE ST_AsGeoJSON(s.g, 9) END AS j FROM (SELECT ${simplified} AS g) s`, p.values);
    return rows[0]?.j ?? null;
  };
  let j: string | null;
  try {
    j = await run(true);
  } catch {
    // The map's box cannot be brought into the raster's CRS (a world map in 3857): the whole territory then.
    j = await run(false);
  }
  return j === null ? 'empty' : { geojson: j, srid: r.srid };
}
