/**
 * Filter AST → parameterised SQL predicate over a layer's row alias `t`.
 * Property names are resolved against the layer catalogue (unknown → 400); literals are validated
 * against the column's kind and bound as parameters cast to the column's own type (indexes stay usable).
 */
import type { Layer, LayerColumn, ColumnKind } from '../catalog/layers.js';
import type { CrsRegistry } from '../crs/registry.js';
import type { Expression, Filter, GeometryLiteral, Envelope, SpatialOp } from './ast.js';
import { SqlParams } from '../db/sql.js';
import { columnRef, resolveProperty } from '../db/identifiers.js';
import { OgcError } from '../ogc/errors.js';
import { isGeographic } from '../crs/facts.js';
import { countPositions, MAX_GEOMETRY_VERTICES } from '../ogc/limits.js';
import { temporalSql, timeOpSql, DatetimeError } from './temporal.js';

export interface FilterContext {
  layer: Layer;
  crs: CrsRegistry;
  params: SqlParams;
  /** Locator for errors: FILTER (WFS), filter (OGC API), … */
  locator: string;
}

/** FES / CQL2 spatial operators → PostGIS predicates (shared with the catalogue's compiler). */
export const SPATIAL_FN: Record<SpatialOp, string> = {
  intersects: 'ST_Intersects',
  disjoint: 'ST_Disjoint',
  contains: 'ST_Contains',
  within: 'ST_Within',
  touches: 'ST_Touches',
  crosses: 'ST_Crosses',
  overlaps: 'ST_Overlaps',
  equals: 'ST_Equals',
};

export function compileFilter(f: Filter, ctx: FilterContext): string {
  switch (f.kind) {
    case 'and':
    case 'or': {
      if (f.operands.length === 0) return f.kind === 'and' ? 'TRUE' : 'FALSE';
      return '(' + f.operands.map((o) => compileFilter(o, ctx)).join(f.kind === 'and' ? ' AND ' : ' OR ') + ')';
    }
    case 'not':
      return `(NOT ${compileFilter(f.operand, ctx)})`;
    case 'include':
      return 'TRUE';
    case 'exclude':
      return 'FALSE';
    case 'compare':
      return compileComparison(f.op, f.left, f.right, f.matchCase, ctx);
    case 'like': {
      const col = expressionColumn(f.expr, ctx);
      const target = col ? `${columnRef(col.name)}::text` : compileExpression(f.expr, ctx, 'string');
      const op = f.matchCase ? 'LIKE' : 'ILIKE';
      return `(${target} ${op} ${ctx.params.add(f.pattern, 'text')} ESCAPE '\\')`;
    }
    case 'isNull':
      return `(${compileExpression(f.expr, ctx)} IS NULL)`;
    case 'between': {
      const kind = expressionKind(f.expr, ctx);
      const e = compileExpression(f.expr, ctx);
      return `(${e} BETWEEN ${compileExpression(f.lower, ctx, kind, columnOf(f.expr, ctx))} AND ${compileExpression(f.upper, ctx, kind, columnOf(f.expr, ctx))})`;
    }
    case 'in': {
      if (f.values.length === 0) return 'FALSE';
      const kind = expressionKind(f.expr, ctx);
      const e = compileExpression(f.expr, ctx);
      return `(${e} IN (${f.values.map((v) => compileExpression(v, ctx, kind, columnOf(f.expr, ctx))).join(', ')}))`;
    }
    case 'bbox': {
      const g = geometryColumn(f.property, ctx);
      const env = envelopeSql(f.envelope, ctx);
      return f.boxOnly ? `(${g} && ${env})` : `(${g} && ${env} AND ST_Intersects(${g}, ${env}))`;
    }
    case 'spatial': {
      const g = geometryColumn(f.property, ctx);
      const lit = geometrySql(f.geometry, ctx);
      return `${SPATIAL_FN[f.op]}(${g}, ${lit})`;
    }
    case 'distance': {
      const g = geometryColumn(f.property, ctx);
      const lit = geometrySql(f.geometry, ctx);
      if (!Number.isFinite(f.distanceMetres) || f.distanceMetres < 0) throw new OgcError('InvalidParameterValue', 'Distance must be a non-negative number', ctx.locator);
      const d = ctx.params.add(f.distanceMetres, 'double precision');
      // Geographic layers measure on the spheroid; projected French CRSs are in metres.
      const test = isGeographic(ctx.layer.geometry!.srid) ? `ST_DWithin(${g}::geography, (${lit})::geography, ${d})` : `ST_DWithin(${g}, ${lit}, ${d})`;
      return f.op === 'dwithin' ? test : `(NOT ${test})`;
    }
    case 'temporal': {
      const t = ctx.layer.temporal;
      if (!t) throw new OgcError('InvalidParameterValue', `Feature type ${ctx.layer.name} has no temporal property`, ctx.locator);
      try {
        return temporalSql(f, t, ctx.params);
      } catch (e) {
        if (e instanceof DatetimeError) throw new OgcError('InvalidParameterValue', e.message, ctx.locator);
        throw e;
      }
    }
    case 'timeOp': {
      const col = column(ctx.layer, resolve(f.property, ctx));
      if (!col || (col.kind !== 'date' && col.kind !== 'datetime')) throw new OgcError('InvalidParameterValue', `Property '${f.property}' of ${ctx.layer.name} is not a date or time property`, ctx.locator);
      try {
        return timeOpSql(f, col, ctx.params);
      } catch (e) {
        if (e instanceof DatetimeError) throw new OgcError('InvalidParameterValue', e.message, ctx.locator);
        throw e;
      }
    }
    case 'array':
      // Feature layers have scalar columns only (src/catalog/layers.ts): no property is array-valued.
      throw new OgcError('InvalidParameterValue', `Property '${f.property.slice(0, 60)}' of ${ctx.layer.name} is not an array: array predicates do not apply`, ctx.locator);
    case 'resourceId': {
      const ids = f.ids.map((id) => localId(ctx.layer, id)).filter((id): id is string => id !== undefined);
      const valid = ids.filter((id) => literalFits(id, ctx.layer.idKind));
      if (valid.length === 0) return 'FALSE';
      return `${columnRef(ctx.layer.idColumn)} = ANY(${ctx.params.add(valid, arrayCast(ctx.layer.idKind, idPgType(ctx.layer)))})`;
    }
  }
}

/** `communes.42` → `42` for layer communes; ids of other layers → undefined; bare ids kept. */
export function localId(layer: Layer, id: string): string | undefined {
  const dot = id.lastIndexOf('.');
  if (dot < 0) return id;
  const prefix = id.slice(0, dot);
  const local = prefix.includes(':') ? prefix.slice(prefix.indexOf(':') + 1) : prefix;
  return local === layer.name ? id.slice(dot + 1) : layer.idKind === 'string' ? id : undefined;
}

function idPgType(layer: Layer): string {
  return layer.idKind === 'integer' ? 'integer' : layer.idKind === 'bigint' ? 'bigint' : 'text';
}

function arrayCast(kind: ColumnKind, pgType: string): string {
  return kind === 'integer' || kind === 'bigint' ? `${pgType}[]` : 'text[]';
}

function column(layer: Layer, name: string): LayerColumn | undefined {
  if (name === layer.idColumn) return { name, pgType: idPgType(layer), kind: layer.idKind };
  return layer.columns.find((c) => c.name === name);
}

function resolve(name: string, ctx: FilterContext): string {
  const c = resolveProperty(ctx.layer, name);
  if (!c) throw new OgcError('InvalidParameterValue', `Unknown property '${name}' for feature type ${ctx.layer.name}`, ctx.locator);
  return c;
}

/**
 * The gml:AbstractFeatureType properties as SQL (see GML_FEATURE_PROPERTIES): `@gml:id` is the feature's gml:id
 * (`<layer>.<id>`, as the encoders write it); gml:name, gml:description and gml:identifier are not stored, so they
 * are NULL for every feature (PropertyIsNull on gml:name matches all, a comparison none).
 */
function gmlPropertySql(name: string, ctx: FilterContext): string | undefined {
  if (name === 'gml:id') return `(${ctx.params.add(`${ctx.layer.name}.`, 'text')} || ${columnRef(ctx.layer.idColumn)}::text)`;
  if (name === 'gml:name' || name === 'gml:description' || name === 'gml:identifier') return 'NULL::text';
  // A complex property (an envelope) has no value to compare: ISO 19142 §11.4, the OGC suite's invalidOperand_boundedBy.
  if (name === 'gml:boundedBy') throw new OgcError('OperationProcessingFailed', 'gml:boundedBy cannot be evaluated as a value; use it in a spatial operator', ctx.locator, 400);
  return undefined;
}

const isGmlProperty = (e: Expression) => e.kind === 'property' && e.name.startsWith('gml:');

function columnOf(e: Expression, ctx: FilterContext): LayerColumn | undefined {
  if (isGmlProperty(e)) return undefined;
  return e.kind === 'property' ? column(ctx.layer, resolve(e.name, ctx)) : undefined;
}

function expressionColumn(e: Expression, ctx: FilterContext): LayerColumn | undefined {
  return columnOf(e, ctx);
}

function expressionKind(e: Expression, ctx: FilterContext): ColumnKind | undefined {
  if (isGmlProperty(e)) return 'string';
  if (e.kind === 'property') {
    const name = resolve(e.name, ctx);
    if (ctx.layer.geometry && name === ctx.layer.geometry.column) throw new OgcError('InvalidParameterValue', `Geometry property '${name}' cannot be compared as a value`, ctx.locator);
    return column(ctx.layer, name)?.kind;
  }
  if (e.kind === 'arithmetic') return 'number';
  return undefined;
}

function compileComparison(op: string, left: Expression, right: Expression, matchCase: boolean, ctx: FilterContext): string {
  const lk = expressionKind(left, ctx);
  const rk = expressionKind(right, ctx);
  const kind = lk ?? rk;
  const lc = columnOf(left, ctx);
  const rc = columnOf(right, ctx);
  let l = compileExpression(left, ctx, kind, lc ?? rc);
  let r = compileExpression(right, ctx, kind, lc ?? rc);
  const sqlOp = op === '<>' ? '<>' : op;
  if (!matchCase && (kind === 'string' || kind === undefined)) {
    l = `lower(${l}::text)`;
    r = `lower(${r}::text)`;
  }
  return `(${l} ${sqlOp} ${r})`;
}

const NUMERIC: ColumnKind[] = ['integer', 'bigint', 'number'];

function literalFits(v: string, kind: ColumnKind | undefined): boolean {
  if (kind === 'integer' || kind === 'bigint') return /^[+-]?\d+$/.test(v.trim());
  if (kind === 'number') return v.trim() !== '' && Number.isFinite(Number(v));
  return true;
}

function compileExpression(e: Expression, ctx: FilterContext, kind?: ColumnKind, col?: LayerColumn): string {
  switch (e.kind) {
    case 'property':
      return gmlPropertySql(e.name, ctx) ?? columnRef(resolve(e.name, ctx));
    case 'literal':
      return literalSql(e.value, ctx, kind, col);
    case 'arithmetic': {
      const l = compileExpression(e.left, ctx, 'number');
      const r = compileExpression(e.right, ctx, 'number');
      return `(${l} ${e.op} ${r})`;
    }
    case 'function':
      throw new OgcError('InvalidParameterValue', `Function '${e.name}' is not supported`, ctx.locator);
  }
}

function literalSql(value: string | number | boolean | null, ctx: FilterContext, kind?: ColumnKind, col?: LayerColumn): string {
  if (value === null) return 'NULL';
  const text = String(value);
  const bad = () => new OgcError('InvalidParameterValue', `Literal '${text.slice(0, 100)}' is not a valid ${kind} value${col ? ` for property ${col.name}` : ''}`, ctx.locator);
  if (kind && NUMERIC.includes(kind)) {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) throw bad();
    // Keep the column's own type when the literal fits it, so that its index is used.
    if ((kind === 'integer' || kind === 'bigint') && Number.isInteger(n) && col) return ctx.params.add(text.trim(), col.pgType === 'smallint' ? 'integer' : col.pgType);
    return ctx.params.add(n, 'double precision');
  }
  if (kind === 'boolean') {
    const t = text.trim().toLowerCase();
    if (!['true', 'false', '1', '0'].includes(t)) throw bad();
    return ctx.params.add(t === 'true' || t === '1', 'boolean');
  }
  if (kind === 'date' || kind === 'datetime' || kind === 'time') {
    if (!/^[0-9TZ:+\-. ]+$/i.test(text.trim())) throw bad();
    return ctx.params.add(text.trim(), col?.pgType ?? (kind === 'date' ? 'date' : 'timestamptz'));
  }
  if (typeof value === 'number') return ctx.params.add(value, 'double precision');
  if (typeof value === 'boolean') return ctx.params.add(value, 'boolean');
  return ctx.params.add(text, 'text');
}

function geometryColumn(property: string | undefined, ctx: FilterContext): string {
  const g = ctx.layer.geometry;
  if (!g) throw new OgcError('InvalidParameterValue', `Feature type ${ctx.layer.name} has no geometry`, ctx.locator);
  // gml:boundedBy: the feature's envelope (ISO 19136 §9.3.2), drawn from its geometry.
  if (property === 'gml:boundedBy') return `ST_Envelope(${columnRef(g.column)})`;
  if (property !== undefined) {
    const name = resolveProperty(ctx.layer, property);
    if (name !== g.column) throw new OgcError('InvalidParameterValue', `'${property}' is not a geometry property of ${ctx.layer.name}`, ctx.locator);
  }
  return columnRef(g.column);
}

function checkSrid(srid: number, ctx: FilterContext): void {
  if (!ctx.crs.isKnown(srid)) throw new OgcError('InvalidParameterValue', `Unknown CRS EPSG:${srid}`, ctx.locator);
}

function toLayerSrid(geomSql: string, srid: number | undefined, ctx: FilterContext, segmentize?: number): string {
  const layerSrid = ctx.layer.geometry!.srid;
  if (srid === undefined || srid === layerSrid) return `ST_SetSRID(${geomSql}, ${layerSrid})`;
  checkSrid(srid, ctx);
  const g = `ST_SetSRID(${geomSql}, ${ctx.params.add(srid, 'integer')})`;
  const dense = segmentize ? `ST_Segmentize(${g}, ${ctx.params.add(segmentize, 'double precision')})` : g;
  return `ST_Transform(${dense}, ${layerSrid})`;
}

export function envelopeSql(input: Envelope, ctx: FilterContext): string {
  for (const v of [input.minx, input.miny, input.maxx, input.maxy]) {
    if (!Number.isFinite(v)) throw new OgcError('InvalidParameterValue', 'Bounding box coordinates must be numbers', ctx.locator);
  }
  if (input.minx > input.maxx || input.miny > input.maxy) throw new OgcError('InvalidParameterValue', 'Bounding box lower corner must be below and left of the upper corner', ctx.locator);
  let e = input;
  const layerSrid = ctx.layer.geometry!.srid;
  if (e.srid !== undefined && e.srid !== layerSrid) {
    checkSrid(e.srid, ctx);
    const clamped = ctx.crs.clampToAreaOfUse(e, e.srid, layerSrid);
    if (!clamped) return `ST_SetSRID('POLYGON EMPTY'::geometry, ${layerSrid})`;
    e = { ...clamped, srid: e.srid };
  }
  const p = ctx.params;
  const box = `ST_MakeEnvelope(${p.add(e.minx, 'float8')}, ${p.add(e.miny, 'float8')}, ${p.add(e.maxx, 'float8')}, ${p.add(e.maxy, 'float8')})`;
  // Densify before reprojecting so the box's edges follow the curvature (degrees → metres).
  const span = Math.max(e.maxx - e.minx, e.maxy - e.miny) / 16 || undefined;
  return toLayerSrid(box, e.srid, ctx, span);
}

/** Refuse a geometry literal over the vertex limit, before PostGIS spends seconds building and testing it. */
export function checkLiteralSize(g: GeometryLiteral, locator: string): void {
  const vertices = countPositions(g.geojson);
  if (vertices > MAX_GEOMETRY_VERTICES) throw new OgcError('InvalidParameterValue', `A geometry in the filter has ${vertices} vertices; the limit is ${MAX_GEOMETRY_VERTICES}`, locator);
}

export function geometrySql(g: GeometryLiteral, ctx: FilterContext): string {
  checkLiteralSize(g, ctx.locator);
  return toLayerSrid(`ST_GeomFromGeoJSON(${ctx.params.add(JSON.stringify(g.geojson), 'text')})`, g.srid, ctx);
}
