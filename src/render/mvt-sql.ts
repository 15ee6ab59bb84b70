/**
 * Mapbox Vector Tiles from PostGIS (issue 9): the select list of one layer's rows in a WebMercatorQuad tile,
 * and the statement that aggregates them with ST_AsMVT. It goes into compileSelect as the custom select list
 * of a FeatureQuery planned by the one planner (`ordered: false`, the tile's box grown by the buffer as a
 * BBOX filter), so the policy's restriction and the bbox predicate come from the one compiler.
 *
 * Geometry: reprojected to EPSG:3857, simplified at half a tile unit, then ST_AsMVTGeom (clip to the tile and
 * its buffer, quantise to the 4096 extent; NULL when nothing is left, those rows are dropped). Attributes:
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

/** Select list: the tile geometry, the id, the attributes. */
export function mvtSelectList(layer: Layer, z: number, x: number, y: number, params: SqlParams): string {
  const g = layer.geometry!;
  let geom = `t.${quoteIdent(g.column)}`;
  if (g.srid !== 3857) geom = `ST_Transform(${geom}, 3857)`;
  // Half a tile unit at this level, in metres (WebMercatorQuad's level-0 tile spans 2 · 20037508.34 m).
  const tolerance = (2 * 20037508.3427892) / 2 ** z / MVT_EXTENT / 2;
  geom = `ST_Simplify(${geom}, ${params.add(tolerance, 'float8')}, true)`;
  const envelope = `ST_TileEnvelope(${params.add(z, 'integer')}, ${params.add(x, 'integer')}, ${params.add(y, 'integer')})`;
  const out = [`ST_AsMVTGeom(${geom}, ${envelope}, ${MVT_EXTENT}, ${MVT_BUFFER}, true) AS ${quoteIdent(GEOM)}`];
  out.push(`t.${quoteIdent(layer.idColumn)}${NATIVE_KINDS.has(layer.idKind) ? '' : '::text'} AS ${quoteIdent(layer.idColumn)}`);
  for (const c of layer.columns) out.push(attribute(c));
  return out.join(', ');
}

/** The tile: one bytea (empty when no feature reaches the tile). */
export function mvtStatement(layer: Layer, rows: CompiledSql, params: SqlParams): CompiledSql {
  const name = params.add(layer.name, 'text');
  return { text: `SELECT ST_AsMVT(m, ${name}, ${MVT_EXTENT}, '${GEOM}') AS mvt FROM (${rows.text}) AS m WHERE m.${quoteIdent(GEOM)} IS NOT NULL`, values: params.values, layer: layer.name };
}
