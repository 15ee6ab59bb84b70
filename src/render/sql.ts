/**
 * The select-list expression that prepares a layer's geometry for a map's pixel grid in PostGIS, so that
 * Node draws only what shows and reads it without parsing text (issue 9):
 *
 *   simplify at half a pixel and clip to the map (in the layer's CRS when the map box is known there, so
 *   that only the visible part is reprojected) → ST_Transform to the map CRS → ST_Affine to pixel
 *   coordinates → (else clip in pixel space) → rings oriented one way when the style fills (nonzero fill
 *   works for holes and for overlapping features) → ST_AsTWKB with one decimal: a tenth of a pixel, vertices that round to
 *   the same position dropped by PostGIS.
 *
 * It goes into compileSelect as the custom select list of a FeatureQuery planned with `ordered: false`, so
 * the bbox predicate, the policy's restriction and any filter come from the one planner and compiler.
 *
 * With a style of several rules or labels (`pixelSelectList`), each row also brings which rules' filters
 * it matches (compiled by the one filter compiler, in PostGIS: one character '1'/'0' per filtered rule), the
 * label attributes as text (columns the planner resolved from the style's properties), and the label point
 * (ST_PointOnSurface, in pixels, TWKB).
 *
 * The TWKB bytea reaches Node as hex text (node-postgres reads results in text format; pg-types' parseBytea
 * makes the Buffer), twice its size on the wire. Binary results are not an option with pg 8.23 / pg-protocol
 * 1.16: `binary: true` gave a wrong Buffer for each of 20,000 parcels (the parser decodes every field as UTF-8
 * before pg parses it; pg-cursor does not pass `binary` anyway). Measured on W5's 148,634 parcels (2.36 MB of
 * TWKB, 5.0 MB of hex; 2026-12-06, load average 7 on 2 shared cores): Node's share is the UTF-8 field string,
 * 15–28 ms, and hex → Buffer, 32–62 ms, of a 4.9 s map; `encode(…, 'base64')` (3.25 MB) decodes in the same
 * 31–48 ms (a Buffer a row dominates) and costs PostgreSQL the encoding: kept as bytea.
 */
import type { Layer } from '../catalog/layers.js';
import type { SqlParams } from '../db/sql.js';
import type { CrsRegistry } from '../crs/registry.js';
import type { Filter } from '../filter/ast.js';
import { compileFilter } from '../filter/compile-sql.js';
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
  /**
   * Whether some symbolizer fills polygons (default true): only a fill needs the rings oriented one way
   * (nonzero rule). Outlines alone skip ST_ForcePolygonCW: W5's 149,000 parcels, backend CPU 235 → 222 ms.
   */
  fills?: boolean;
}

/** What a styled map row brings besides its geometry. */
export interface StyleColumns {
  /** Filters of the rules that have one, in order: the row's second column is one '1'/'0' per filter. */
  filters: Filter[];
  /** Resolved column names of the label attributes: one text column each, after the rule column. */
  labelColumns: string[];
  /** Whether to add the label point (TWKB, pixels) as the last column. */
  labelPoint: boolean;
  /** Compiler context: filter problems are reported with this locator. */
  locator: string;
}

/**
 * The select list of a styled map row: [TWKB geometry, rule matches ('' when no filter), label texts…,
 * label point]. The label point of a point is the point itself (the renderer takes it from the geometry).
 */
export function pixelSelectList(layer: Layer, grid: MapGrid, params: SqlParams, opts: PixelGeometryOptions, cols: StyleColumns): string {
  const out = [pixelGeometrySql(layer, grid, params, opts)];
  const ctx = { layer, crs: opts.crs, params, locator: cols.locator };
  out.push(cols.filters.length ? `concat(${cols.filters.map((f) => `CASE WHEN ${compileFilter(f, ctx)} THEN '1' ELSE '0' END`).join(', ')})` : `''`);
  for (const c of cols.labelColumns) out.push(`t.${quoteIdent(c)}::text`);
  if (cols.labelPoint) out.push(labelPointSql(layer, grid, params));
  return out.join(', ');
}

/** `bytea` TWKB of a point on the surface of the geometry (on the line for lines), in pixels: where a label goes. */
function labelPointSql(layer: Layer, grid: MapGrid, params: SqlParams): string {
  const geom = layer.geometry!;
  const f = (v: number) => params.add(v, 'float8');
  let g = `ST_PointOnSurface(t.${quoteIdent(geom.column)})`;
  if (grid.srid !== geom.srid) g = `ST_Transform(${g}, ${params.add(grid.srid, 'integer')})`;
  const t = pixelAffine(grid);
  return `ST_AsTWKB(ST_Affine(${g}, ${f(t.a)}, 0, 0, ${f(t.e)}, ${f(t.xoff)}, ${f(t.yoff)}), ${PIXEL_DECIMALS})`;
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
  if (opts.fills !== false && (POLYGON_TYPES.has(type) || type === 'GEOMETRY' || type === 'GEOMETRYCOLLECTION')) g = `ST_ForcePolygonCW(${g})`;
  return `ST_AsTWKB(${g}, ${PIXEL_DECIMALS})`;
}

/**
 * The select list of an overview row (src/publishing/overview-job.ts) matching pixelSelectList's for a style
 * without rule filters and labels (the only styles the planner reads an overview for): its points' TWKB, no match,
 * and its lines' or polygons' SVG path data ('' for points), in integer cell coordinates of the layer's CRS (the
 * canvas maps them to pixels: src/render/canvas.ts OverviewFrames); then the features' parts the row's block holds
 * (points: one a cell), which usage statistics count (services/maps/wms/get-map.ts). The SVG column is never NULL:
 * the table's branch of the statement has NULL there and in the count (src/query/compile.ts).
 */
export function overviewSelectList(): string {
  return `o.twkb, '', coalesce(o.svg, ''), o.parts`;
}
