/**
 * The select-list expression that prepares a layer's geometry for a map's pixel grid in PostGIS, so that
 * Node draws only what shows and reads it without parsing text (issue 9):
 *
 *   simplify at half a pixel and clip to the map (in the layer's CRS when the map box is known there, so
 *   that only the visible part is reprojected) → ST_Transform to the map CRS → ST_Affine to pixel
 *   coordinates → (else clip in pixel space) → rings oriented one way (nonzero fill works for holes and
 *   for overlapping features) → ST_AsTWKB with one decimal: a tenth of a pixel, vertices that round to
 *   the same position dropped by PostGIS.
 *
 * It goes into compileSelect as the custom select list of a FeatureQuery planned with `ordered: false`, so
 * the bbox predicate, the policy's restriction and any filter come from the one planner and compiler.
 */
import type { Layer } from '../catalog/layers.js';
import type { SqlParams } from '../db/sql.js';
import type { CrsRegistry } from '../crs/registry.js';
import { quoteIdent } from '../db/identifiers.js';
import { bboxInLayerCrs, grownBbox, pixelAffine, type MapGrid } from './grid.js';

/** TWKB decimals of pixel coordinates: 1 = a tenth of a pixel, enough for anti-aliased edges. */
export const PIXEL_DECIMALS = 1;
/** Douglas-Peucker tolerance, in pixels. */
export const SIMPLIFY_PIXELS = 0.5;

const POINT_TYPES = new Set(['POINT', 'MULTIPOINT']);
const POLYGON_TYPES = new Set(['POLYGON', 'MULTIPOLYGON']);

export interface PixelGeometryOptions {
  crs: CrsRegistry;
  /** Pixels kept around the image (symbols of features just outside reach into it). */
  margin: number;
}

/** `bytea` TWKB of the geometry of row alias t, in pixel coordinates of the grid. */
export function pixelGeometrySql(layer: Layer, grid: MapGrid, params: SqlParams, opts: PixelGeometryOptions): string {
  const geom = layer.geometry!;
  const type = geom.type.toUpperCase();
  const points = POINT_TYPES.has(type);
  const f = (v: number) => params.add(v, 'float8');
  let g = `t.${quoteIdent(geom.column)}`;
  const mapBox = grownBbox(grid, opts.margin);
  const layerBox = bboxInLayerCrs(opts.crs, mapBox, grid.srid, geom.srid);
  if (layerBox && !points) {
    const pixel = Math.min((layerBox.maxx - layerBox.minx) / (grid.width + 2 * opts.margin), (layerBox.maxy - layerBox.miny) / (grid.height + 2 * opts.margin));
    g = `ST_ClipByBox2D(ST_Simplify(${g}, ${f(pixel * SIMPLIFY_PIXELS)}, true), ST_MakeEnvelope(${f(layerBox.minx)}, ${f(layerBox.miny)}, ${f(layerBox.maxx)}, ${f(layerBox.maxy)})::box2d)`;
  }
  if (grid.srid !== geom.srid) g = `ST_Transform(${g}, ${params.add(grid.srid, 'integer')})`;
  const t = pixelAffine(grid);
  g = `ST_Affine(${g}, ${f(t.a)}, 0, 0, ${f(t.e)}, ${f(t.xoff)}, ${f(t.yoff)})`;
  if (!layerBox && !points) {
    // Reprojected whole (the map box is not inside the layer CRS's area): simplify and clip in pixels.
    const m = opts.margin;
    g = `ST_ClipByBox2D(ST_Simplify(${g}, ${f(SIMPLIFY_PIXELS)}, true), ST_MakeEnvelope(${f(-m)}, ${f(-m)}, ${f(grid.width + m)}, ${f(grid.height + m)})::box2d)`;
  }
  if (POLYGON_TYPES.has(type) || type === 'GEOMETRY' || type === 'GEOMETRYCOLLECTION') g = `ST_ForcePolygonCW(${g})`;
  return `ST_AsTWKB(${g}, ${PIXEL_DECIMALS})`;
}
