/**
 * Mapbox Vector Tiles from PostGIS (issue 9): the select list of one layer's rows in a WebMercatorQuad tile,
 * and the statement that aggregates them with ST_AsMVT. It goes into compileSelect as the custom select list
 * of a FeatureQuery planned by the one planner (`ordered: false`, the tile's box grown by the buffer as a
 * BBOX filter), so the policy's restriction and the bbox predicate come from the one compiler.
 *
 * Geometry: polygons under one display pixel dropped (mvtSelectList), the rest reprojected to EPSG:3857,
 * simplified at half a tile unit, then ST_AsMVTGeom (clip to the tile and its buffer, quantise to the 4096
 * extent; NULL when nothing is left, those rows are dropped). Attributes:
 * the id and every attribute column; types MVT has no value type for (dates, numerics, JSON…) as text, so that
 * each client reads them the same.
 */
import type { Layer, LayerColumn } from '../catalog/layers.js';
import type { CompiledSql, SqlParams } from '../db/sql.js';
import { quoteIdent } from '../db/identifiers.js';

/** MVT extent (tile units per side) and buffer, as ST_AsMVT's and most servers' defaults. */
export const MVT_EXTENT = 4096;
export const MVT_BUFFER = 64;
/** The geometry column of the aggregated rows. */
const GEOM = '__mvt_geom';

const NATIVE_KINDS = new Set(['integer', 'bigint', 'boolean', 'string']);

function attribute(c: LayerColumn): string {
  const col = `t.${quoteIdent(c.name)}`;
  if (NATIVE_KINDS.has(c.kind)) return `${col} AS ${quoteIdent(c.name)}`;
  if (c.kind === 'number') return `${col}::float8 AS ${quoteIdent(c.name)}`;
  return `${col}::text AS ${quoteIdent(c.name)}`;
}

/**
 * The pixel the generalisation rule counts in: a cell of the tile matrix, WebMercatorQuad's tiles being 256
 * cells wide (OGC 17-083r4 Annex D, the cell size of each level). tippecanoe and martin likewise drop what
 * is smaller than their pixel at the zoom level.
 */
export const MVT_PIXELS_PER_TILE = 256;

/** WebMercatorQuad tile width at level z, in EPSG:3857 metres (the level-0 tile spans 2 · 20037508.34 m). */
const tileWidth = (z: number) => (2 * 20037508.3427892) / 2 ** z;

/**
 * Select list: the tile geometry, the id, the attributes.
 *
 * Generalisation (issue 9, T2): a polygon whose area is under one pixel squared (a cell of the tile matrix:
 * the tile's width / 256, squared, in EPSG:3857; measured in the layer's own SRID, so that the test costs an
 * area and no reprojection) gets no geometry, and the row is dropped. At level 9 a pixel is ~306 m of
 * EPSG:3857 (~205 m of ground at 47.9° N): parcels under ~4.2 ha vanish, as they do on the screen; at level 8
 * (the decoded-tile test) no commune is that small. Lines and points are all kept. The threshold is one scalar
 * sub-select (evaluated once per statement); only the rows kept are reprojected, simplified at half a tile
 * unit and cut by ST_AsMVTGeom.
 *
 * Measured (EXPLAIN ANALYZE and single requests, the shared bench's million parcels, tile 9/258/178, 145,346
 * rows in the box, no parallel workers, load average ~13 on 2 cores: relative figures): 10.4 s before (every
 * row reprojected, simplified and encoded: 144,446 features); with the rule at 512 px 0.75–1.0 s (7,614
 * features); at 256 px (this) 1,257 features, 78 kB, and through the server 0.72–0.99 s against main's 4.1 s
 * (7.4 MB) on the same run (bench/README.md *Maps*). The bare index and heap visit of the 145k rows is
 * 0.19–0.31 s here: below that, the small rows must not be read at all: for polygon layers the rule is now
 * a WHERE predicate (mvtWherePredicate) served by a GiST index on (geom, ST_Area(geom)); a column of generic
 * geometry type keeps it here, per row (only its polygons have an area).
 */
export function mvtSelectList(layer: Layer, z: number, x: number, y: number, params: SqlParams): string {
  const g = layer.geometry!;
  const column = `t.${quoteIdent(g.column)}`;
  let geom = column;
  if (g.srid !== 3857) geom = `ST_Transform(${geom}, 3857)`;
  // Half a tile unit at this level, in metres.
  const tolerance = tileWidth(z) / MVT_EXTENT / 2;
  geom = `ST_Simplify(${geom}, ${params.add(tolerance, 'float8')}, true)`;
  const envelope = `ST_TileEnvelope(${params.add(z, 'integer')}, ${params.add(x, 'integer')}, ${params.add(y, 'integer')})`;
  let tileGeom = `ST_AsMVTGeom(${geom}, ${envelope}, ${MVT_EXTENT}, ${MVT_BUFFER}, true)`;
  // Generic geometry columns: the rule applies to their polygons only (lines and points have no area).
  if (!/POINT|LINE|POLYGON/.test(g.type.toUpperCase())) tileGeom = `CASE WHEN ST_Dimension(${column}) = 2 AND ST_Area(${column}) < ${pixelArea(layer, z, x, y, params)} THEN NULL ELSE ${tileGeom} END`;
  const out = [`${tileGeom} AS ${quoteIdent(GEOM)}`];
  out.push(`t.${quoteIdent(layer.idColumn)}${NATIVE_KINDS.has(layer.idKind) ? '' : '::text'} AS ${quoteIdent(layer.idColumn)}`);
  for (const c of layer.columns) out.push(attribute(c));
  return out.join(', ');
}

/** One display pixel at the tile's centre, as an area in the layer's SRID: a scalar sub-select, run once. */
function pixelArea(layer: Layer, z: number, x: number, y: number, params: SqlParams): string {
  const srid = layer.geometry!.srid;
  const px = tileWidth(z) / MVT_PIXELS_PER_TILE;
  const cx = -20037508.3427892 + (x + 0.5) * tileWidth(z);
  const cy = 20037508.3427892 - (y + 0.5) * tileWidth(z);
  const square = `ST_MakeEnvelope(${params.add(cx, 'float8')}, ${params.add(cy, 'float8')}, ${params.add(cx + px, 'float8')}, ${params.add(cy + px, 'float8')}, 3857)`;
  return `(SELECT ST_Area(${srid === 3857 ? square : `ST_Transform(${square}, ${params.add(srid, 'integer')})`}))`;
}

/**
 * The generalisation rule as a WHERE predicate, for polygon layers (none for the others): the area is not
 * under one pixel squared. In the WHERE clause, as the second column of the layer's GiST index
 * (geom, ST_Area(geom)) (btree_gist; src/import/staging.ts, migrations/0033), the box and the area are one
 * index scan: the small rows are never read. Measured (EXPLAIN (ANALYZE, BUFFERS), a million parcels, tile
 * 9/258/178, shared noisy machine, relative figures): box on the geometry index then area as a filter 207 ms
 * (145,643 index rows, 5,215 buffers, 144,338 rows removed); with the two-column index 1.9–3.5 ms (1,305 rows,
 * 229 index buffers + 103 heap blocks). Without that index the predicate is a filter, as the CASE was.
 */
export function mvtWherePredicate(layer: Layer, z: number, x: number, y: number, params: SqlParams): string | undefined {
  const g = layer.geometry;
  if (!g || !/POLYGON/.test(g.type.toUpperCase())) return undefined;
  return `ST_Area(t.${quoteIdent(g.column)}) >= ${pixelArea(layer, z, x, y, params)}`;
}

/** The tile: one bytea (empty when no feature reaches the tile). */
export function mvtStatement(layer: Layer, rows: CompiledSql, params: SqlParams): CompiledSql {
  const name = params.add(layer.name, 'text');
  // OFFSET 0 keeps the rows a subquery of their own: the filter on the tile geometry is not pushed into the
  // scan, where PostgreSQL would compute the geometry once to test it and once more to return it.
  return { text: `SELECT ST_AsMVT(m, ${name}, ${MVT_EXTENT}, '${GEOM}') AS mvt FROM (SELECT * FROM (${rows.text}) AS r OFFSET 0) AS m WHERE m.${quoteIdent(GEOM)} IS NOT NULL`, values: params.values, layer: layer.name };
}
