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
 *
 * Cost (this shared 2-core machine, GetMap of the demo raster through app.inject, a whole grant against a
 * département grant, medians of 11 to 31 alternated requests; noisy, relative figures only): a map wholly
 * inside the territory takes no cutline (ST_Covers) and costs the PostGIS query alone, 85 → 92 ms for 256²;
 * a map across the territory's edge costs GDAL's cutline, +15 to +30 % (512² of 60 km: 985 → 1139 ms; a 256²
 * 3857 tile: 68 → 97 ms); a region map from the overview VRT +6 %; an extract is not slower (fewer pixels).
 */
import type { Pool } from '../db/pool.js';
import { PositionalBinder } from '../db/sql.js';
import type { AccessDecision } from '../access/policy.js';
import type { MapGrid } from './grid.js';

/** undefined: no cut (no territory, or the map lies wholly inside it); 'empty': nothing of the territory in the map; else the cutline. */
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
  const run = async (clipToMap: boolean): Promise<{ covered: boolean; j: string | null }> => {
    const p = new PositionalBinder();
    const territory = decision.territory!(p);
    const rs = p.add(r.srid, 'integer');
    let box = 'NULL::geometry';
    if (clipToMap) {
      const b = grid.bbox;
      const env = `ST_MakeEnvelope(${p.add(b.minx, 'float8')}, ${p.add(b.miny, 'float8')}, ${p.add(b.maxx, 'float8')}, ${p.add(b.maxy, 'float8')}, ${p.add(grid.srid, 'integer')})`;
      // The map box densified (its edges curve in the raster's CRS), in the raster's CRS, grown by the margin.
      box = `ST_Expand(ST_Envelope(ST_Transform(ST_Segmentize(${env}, (ST_XMax(${env}) - ST_XMin(${env})) / 32 + 1e-9), ${rs})), ${p.add(px * MARGIN_PIXELS, 'float8')})`;
    }
    const tol = p.add(px / 4, 'float8');
    // A map wholly inside the territory needs no cut (most maps of a territorial user): GDAL's cutline costs
    // 20–30 ms a map (this machine, 256² maps); PostGIS's covers test and intersection 2–3 ms.
    const { rows } = await pool.query<{ covered: boolean; j: string | null }>(
      `WITH t AS (SELECT ST_Transform(${territory}, ${rs}) AS g), b AS (SELECT ${box} AS g),
            s AS (SELECT b.g IS NOT NULL AND t.g IS NOT NULL AND ST_Covers(t.g, b.g) AS covered,
                         ST_CollectionExtract(ST_MakeValid(ST_SimplifyPreserveTopology(CASE WHEN b.g IS NULL THEN t.g ELSE ST_Intersection(t.g, b.g) END, ${tol})), 3) AS g
                    FROM t, b)
       SELECT covered, CASE WHEN covered OR g IS NULL OR ST_IsEmpty(g) THEN NULL ELSE ST_AsGeoJSON(g, 9) END AS j FROM s`,
      p.values,
    );
    return rows[0] ?? { covered: false, j: null };
  };
  let out: { covered: boolean; j: string | null };
  try {
    out = await run(true);
  } catch {
    // The map's box cannot be brought into the raster's CRS (a world map in 3857): the whole territory then.
    out = await run(false);
  }
  if (out.covered) return undefined;
  return out.j === null ? 'empty' : { geojson: out.j, srid: r.srid };
}
