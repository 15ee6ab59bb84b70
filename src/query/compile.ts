/**
 * FeatureQuery → parameterised SQL. One short function per fragment (FROM, WHERE, area, ORDER BY, paging),
 * one statement per query; the encoders only supply the select-list expression. Select, count and the
 * clipped select of downloads are built by the same functions (issue 8), with any binder: positional
 * parameters for node-postgres, or the parameters row the statements GDAL runs read (src/db/binder.ts).
 *
 * The area is bound once (EWKB) and used twice: in the index-backed ST_Intersects predicate, and, for a
 * true clip, in ST_Intersection — skipped for features the area covers, repaired with ST_MakeValid when a
 * source geometry is invalid, reduced to the layer's dimension (no slivers of lower dimension) and dropped
 * when empty.
 */
import type { CrsRegistry } from '../crs/registry.js';
import type { Layer } from '../catalog/layers.js';
import type { FeatureQuery } from './plan.js';
import { PositionalBinder, type SqlParams, type CompiledSql } from '../db/sql.js';
import { columnRef, quoteIdent } from '../db/identifiers.js';
import { compileFilter } from '../filter/compile-sql.js';

export interface CompileOptions {
  crs: CrsRegistry;
  /** Error locator for filter problems (FILTER for WFS, filter for OGC API and downloads). */
  locator?: string;
  /**
   * One more predicate over row alias t, ANDed with the others (the vector tiles' generalisation rule,
   * src/render/mvt-sql.ts: in the WHERE clause so that an index on the area can serve it).
   */
  extraPredicate?: (params: SqlParams) => string;
  /**
   * The select list over an overview row (alias o: box, parts, twkb, svg) when the query reads an overview: the
   * layer's select list's columns and one more, never NULL, which is NULL in rows of the table's branch
   * (src/render/sql.ts overviewSelectList).
   */
  overviewSelect?: (params: SqlParams) => string;
}

/** Name of the clipped geometry in the clipping sub-select (encoders read it instead of the layer's column). */
export const CLIPPED = '__sdi_geom';

const DIMENSION: Record<string, number> = { POINT: 1, MULTIPOINT: 1, LINESTRING: 2, MULTILINESTRING: 2, POLYGON: 3, MULTIPOLYGON: 3 };

export function fromClause(q: FeatureQuery): string {
  return `FROM ${quoteIdent(q.layer.schema)}.${quoteIdent(q.layer.table)} AS t`;
}

/** The area in the layer's CRS, as a scalar sub-select: one evaluation per statement however it is bound. */
function areaSql(q: FeatureQuery, params: SqlParams): string {
  const a = q.area!;
  const g = params.add(a.ewkbHex, 'geometry');
  const srid = q.layer.geometry!.srid;
  return a.srid === srid ? `(SELECT ${g})` : `(SELECT ST_Transform(${g}, ${params.add(srid, 'integer')}))`;
}

/** Policy restriction, filter and area predicate. */
function predicates(q: FeatureQuery, params: SqlParams, opts: CompileOptions, area: string | undefined): string[] {
  const parts: string[] = [];
  if (q.access.restriction) parts.push(q.access.restriction(params, 't'));
  if (q.filter) parts.push(compileFilter(q.filter, { layer: q.layer, crs: opts.crs, params, locator: opts.locator ?? 'FILTER' }));
  if (opts.extraPredicate) parts.push(opts.extraPredicate(params));
  if (area) {
    const g = `t.${quoteIdent(q.layer.geometry!.column)}`;
    parts.push(`ST_Intersects(${g}, ${area})`);
    // A polygon that only touches the area has nothing left once clipped: leave it out of counts too, so
    // that an estimate is the exact number of features of the file. ST_Touches is not prepared (94 s for
    // 194k parcels against a département): only the few features not properly inside reach it.
    const polygons = DIMENSION[q.layer.geometry!.type.toUpperCase()] === 3;
    const minShare = q.area!.minShare ?? 0;
    if (polygons && minShare > 0) {
      // Only the features not properly inside pay for the intersection; one that touches has a share of 0.
      parts.push(`(ST_ContainsProperly(${area}, ${g}) OR ST_Area(ST_Intersection(ST_MakeValid(${g}), ${area})) >= ${params.add(minShare, 'float8')} * ST_Area(${g}))`);
    } else if (q.area!.clip && polygons) parts.push(`(ST_ContainsProperly(${area}, ${g}) OR NOT ST_Touches(${g}, ${area}))`);
  }
  return parts;
}

export function whereClause(q: FeatureQuery, params: SqlParams, opts: CompileOptions, area?: string): string {
  const parts = predicates(q, params, opts, area);
  return parts.length ? `WHERE ${parts.join(' AND ')}` : '';
}

/**
 * Requested sort keys, then the id: a total order, so that pages never overlap or skip. None when unordered.
 * A `nearest` point comes first (distance from the geometry, in the layer's CRS; needs the binder).
 */
export function orderByClause(q: FeatureQuery, params?: SqlParams): string {
  if (!q.ordered) return '';
  const keys = q.sortBy.map((k) => `${columnRef(k.column)} ${k.descending ? 'DESC' : 'ASC'}`);
  if (q.nearest && params) {
    const n = q.nearest;
    const srid = q.layer.geometry!.srid;
    let p = `ST_SetSRID(ST_MakePoint(${params.add(n.x, 'float8')}, ${params.add(n.y, 'float8')}), ${params.add(n.srid, 'integer')})`;
    if (n.srid !== srid) p = `ST_Transform(${p}, ${params.add(srid, 'integer')})`;
    keys.unshift(`(t.${quoteIdent(q.layer.geometry!.column)} <-> ${p}) ASC`);
  }
  if (!q.sortBy.some((k) => k.column === q.layer.idColumn)) keys.push(columnRef(q.layer.idColumn));
  return `ORDER BY ${keys.join(', ')}`;
}

export function pagingClause(q: FeatureQuery, params: SqlParams, extraRows = 0): string {
  let s = '';
  if (q.limit !== null) s += ` LIMIT ${params.add(q.limit + extraRows, 'bigint')}`;
  if (q.offset > 0) s += ` OFFSET ${params.add(q.offset, 'bigint')}`;
  return s;
}

/** Clipped geometry expression over row alias t, given the area expression. */
function clipExpression(layer: Layer, area: string): string {
  const g = `t.${quoteIdent(layer.geometry!.column)}`;
  const type = layer.geometry!.type.toUpperCase();
  const dim = DIMENSION[type];
  const valid = `CASE WHEN ST_IsValid(${g}) THEN ${g} ELSE ST_MakeValid(${g}) END`;
  let cut = `ST_Intersection(${valid}, ${area})`;
  if (dim) cut = `ST_CollectionExtract(${cut}, ${dim})`;
  if (type.startsWith('MULTI')) cut = `ST_Multi(${cut})`;
  // ST_ContainsProperly(area, g) runs on a prepared area (PostGIS caches it across rows): features well
  // inside skip the intersection; ST_CoveredBy(g, area) would not be prepared (measured 70× slower).
  return `CASE WHEN ST_ContainsProperly(${area}, ${g}) THEN ${g} ELSE ${cut} END`;
}

/**
 * The layer as the encoders see it: when clipping, its geometry column is the clipped expression of the
 * sub-select, so reprojection, axis order and precision are applied to the clipped geometry.
 */
export function encodedLayer(q: FeatureQuery): Layer {
  if (!q.area?.clip) return q.layer;
  return { ...q.layer, geometry: { ...q.layer.geometry!, column: CLIPPED } };
}

/**
 * SELECT <selectList> (row alias t). `selectList` receives the binder so that encoders can bind their own
 * values (srsName text, precision…). `extraRows` fetches rows past the limit to learn whether a next page
 * exists without counting.
 */
export function compileSelect(q: FeatureQuery, opts: CompileOptions, selectList: (params: SqlParams) => string, extraRows = 0, params: SqlParams = new PositionalBinder()): CompiledSql {
  const area = q.area ? areaSql(q, params) : undefined;
  if (area && q.area!.clip) {
    const inner = `SELECT t.*, ${clipExpression(q.layer, area)} AS ${quoteIdent(CLIPPED)} ${fromClause(q)} ${whereClause(q, params, opts, area)}`;
    const select = selectList(params);
    const text = `SELECT ${select} FROM (${inner}) AS t WHERE NOT ST_IsEmpty(t.${quoteIdent(CLIPPED)}) ${orderByClause(q, params)}${pagingClause(q, params, extraRows)}`;
    return { text, values: params.values, layer: q.layer.name };
  }
  if (q.overview && opts.overviewSelect) return compileOverviewSelect(q, opts, selectList, params);
  const where = whereClause(q, params, opts, area);
  const select = selectList(params);
  const text = `SELECT ${select} ${fromClause(q)} ${where} ${orderByClause(q, params)}${pagingClause(q, params, extraRows)}`;
  return { text, values: params.values, layer: q.layer.name };
}

/**
 * A map query that may read an overview (src/publishing/overview-job.ts): the overview's rows touching the box
 * when it is fresh, else the layer's rows as always, in ONE statement: `sdi.overview_fresh($n)` has only constant
 * arguments, so PostgreSQL evaluates it once as each branch's one-time filter and runs only the branch it lets
 * through, in the statement's snapshot (an edit committed before the snapshot makes the overview stale for it).
 * The overview's marker column tells the reader which branch a row came from (NULL: the table's).
 */
function compileOverviewSelect(q: FeatureQuery, opts: CompileOptions, selectList: (params: SqlParams) => string, params: SqlParams): CompiledSql {
  const o = q.overview!;
  const table = params.add(o.table, 'text');
  const f = (v: number) => params.add(v, 'float8');
  const box = `ST_MakeEnvelope(${f(o.box.minx)}, ${f(o.box.miny)}, ${f(o.box.maxx)}, ${f(o.box.maxy)}, ${params.add(o.srid, 'integer')})`;
  const overview = `SELECT ${opts.overviewSelect!(params)} FROM sdi_overviews.${quoteIdent(o.table)} AS o WHERE o.box && ${box} AND sdi.overview_fresh(${table})`;
  const parts = predicates(q, params, opts, undefined);
  parts.push(`NOT sdi.overview_fresh(${table})`);
  // The overview's last two columns (a marker and a count: src/render/sql.ts overviewSelectList) NULL in the table's rows.
  const base = `SELECT ${selectList(params)}, NULL, NULL ${fromClause(q)} WHERE ${parts.join(' AND ')}`;
  return { text: `${overview} UNION ALL ${base}`, values: params.values, layer: q.layer.name };
}

/** Features the query matches (a clip may drop a few that only touch the area: those are not counted). */
export function compileCount(q: FeatureQuery, opts: CompileOptions): CompiledSql {
  const params = new PositionalBinder();
  const area = q.area ? areaSql(q, params) : undefined;
  const text = `SELECT count(*)::bigint AS n ${fromClause(q)} ${whereClause(q, params, opts, area)}`;
  return { text, values: params.values };
}
