/**
 * One basket layer → a FeatureQuery (the same plan WFS and OGC API Features run) plus the extraction area,
 * compiled to parameterised SQL. The area is bound once (EWKB) and used twice: in the index-backed
 * ST_Intersects predicate, and, for a true clip, in ST_Intersection — skipped for features the area covers,
 * repaired with ST_MakeValid when a source geometry is invalid, reduced to the layer's dimension (no
 * slivers of lower dimension) and dropped when empty.
 */
import type { Platform } from '../platform.js';
import type { Layer } from '../catalog/layers.js';
import type { Principal } from '../access/policy.js';
import type { FeatureQuery } from '../query/plan.js';
import type { CompileOptions } from '../query/compile.js';
import { fromClause, whereClause } from '../query/compile.js';
import { PositionalBinder, type SqlParams, type CompiledSql } from '../db/sql.js';
import { quoteIdent } from '../db/pool.js';
import { parseCql2Text } from '../filter/cql2-text-reader.js';
import { crsRef } from '../crs/identifiers.js';
import { OgcError } from '../ogc/errors.js';
import { DownloadError } from './errors.js';
import type { ExtractRequest } from './request.js';
import type { ResolvedArea } from './area.js';

/** Name of the clipped geometry in the extraction sub-select (encoders read it instead of the layer's column). */
export const CLIPPED = '__sdi_geom';

export interface LayerExtractPlan {
  layer: Layer;
  query: FeatureQuery;
  area?: ResolvedArea;
  clip: boolean;
}

export function planLayer(platform: Platform, layer: Layer, req: ExtractRequest, area: ResolvedArea | undefined, principal: Principal): LayerExtractPlan {
  const access = platform.policy.decide(principal, layer, 'download');
  if (!access.allowed) throw new DownloadError(403, 'forbidden', `You may not download layer ${layer.name}`, 'layer');
  let filter;
  if (req.filter) {
    try {
      filter = parseCql2Text(req.filter);
    } catch (e) {
      throw new DownloadError(400, 'invalid-filter', e instanceof OgcError ? e.message : 'The CQL2 filter could not be parsed', 'filter');
    }
  }
  const query: FeatureQuery = {
    layer,
    access,
    filter,
    outputCrs: crsRef(req.crs, 'epsg'),
    includeGeometry: true,
    sortBy: [],
    offset: 0,
    limit: null,
  };
  return { layer, query, area: layer.geometry ? area : undefined, clip: req.clip };
}

const DIMENSION: Record<string, number> = { POINT: 1, MULTIPOINT: 1, LINESTRING: 2, MULTILINESTRING: 2, POLYGON: 3, MULTIPOLYGON: 3 };

/** The area in the layer's CRS, bound as EWKB. */
function areaSql(p: LayerExtractPlan, params: SqlParams): string {
  const a = p.area!;
  const g = params.add(a.ewkbHex, 'geometry');
  const srid = p.layer.geometry!.srid;
  // A scalar sub-select: one evaluation per statement however it is bound (a ParamsRowBinder's values are sub-selects already).
  return a.srid === srid ? `(SELECT ${g})` : `(SELECT ST_Transform(${g}, ${params.add(srid, 'integer')}))`;
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

function where(p: LayerExtractPlan, params: SqlParams, opts: CompileOptions, area: string | undefined): string {
  const w = whereClause(p.query, params, opts);
  if (!area) return w;
  const g = `t.${quoteIdent(p.layer.geometry!.column)}`;
  let pred = `ST_Intersects(${g}, ${area})`;
  // A polygon that only touches the area has nothing left once clipped: leave it out of counts too, so the
  // estimate is the exact number of features of the file.
  // ST_Touches is not prepared (94 s for 194k parcels against a département): only the few features not
  // properly inside the area reach it.
  if (p.clip && DIMENSION[p.layer.geometry!.type.toUpperCase()] === 3) pred += ` AND (ST_ContainsProperly(${area}, ${g}) OR NOT ST_Touches(${g}, ${area}))`;
  return w ? `${w} AND ${pred}` : `WHERE ${pred}`;
}

/**
 * The layer as the encoders see it: when clipping, its geometry column is the clipped expression of the
 * sub-select, so reprojection, axis order and precision are applied to the clipped geometry.
 */
export function encodedLayer(p: LayerExtractPlan): Layer {
  if (!p.area || !p.clip) return p.layer;
  return { ...p.layer, geometry: { ...p.layer.geometry!, column: CLIPPED } };
}

/** SELECT <selectList> over the layer's extracted rows (row alias t). */
export function compileExtract(p: LayerExtractPlan, opts: CompileOptions, selectList: (params: SqlParams) => string, params: SqlParams = new PositionalBinder()): CompiledSql {
  const area = p.area ? areaSql(p, params) : undefined;
  if (area && p.clip) {
    const inner = `SELECT t.*, ${clipExpression(p.layer, area)} AS ${quoteIdent(CLIPPED)} ${fromClause(p.query)} ${where(p, params, opts, area)}`;
    const select = selectList(params);
    return { text: `SELECT ${select} FROM (${inner}) AS t WHERE NOT ST_IsEmpty(t.${quoteIdent(CLIPPED)})`, values: params.values };
  }
  const w = where(p, params, opts, area);
  const select = selectList(params);
  return { text: `SELECT ${select} ${fromClause(p.query)} ${w}`, values: params.values };
}

/** Features the extract will hold (intersecting the area and passing the filter; a clip may drop a few that only touch it). */
export function compileExtractCount(p: LayerExtractPlan, opts: CompileOptions): CompiledSql {
  const params = new PositionalBinder();
  const area = p.area ? areaSql(p, params) : undefined;
  return { text: `SELECT count(*)::bigint AS n ${fromClause(p.query)} ${where(p, params, opts, area)}`, values: params.values };
}
