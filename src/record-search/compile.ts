/**
 * Filter AST (from OGC Filter 1.1 or CQL text) → a parameterised SQL predicate over the stored records `r` (src/records).
 *
 * - csw:AnyText: `=` and LIKE mean "contains" (a LIKE without wildcard included, as MetaSearch sends the
 *   words as typed): every word must occur, accent- and case-insensitively, with French stemming and prefix
 *   matching, through the GIN full-text index. A pattern with inner wildcards falls back to an unaccented
 *   ILIKE over the text.
 * - Text comparisons honour matchCase; matchCase="false" also ignores accents.
 * - Multi-valued queryables (keywords, organisations…) match when any value matches.
 * - BBOX and spatial operators apply to the record footprint (WGS 84); the literal's CRS and axis order were
 *   resolved by the reader (no srsName: lon/lat); other CRSs are reprojected.
 */
import { SPATIAL_FN, checkLiteralSize } from '../filter/compile-sql.js';
import type { ComparisonOp, Envelope, Expression, Filter, GeometryLiteral } from '../filter/ast.js';
import type { SqlParams } from '../db/sql.js';
import type { CrsRegistry } from '../crs/registry.js';
import { OgcError } from '../ogc/errors.js';
import { DatetimeError, timeOpOnSql } from '../filter/temporal.js';
import { findQueryable, type Queryable } from './queryables.js';
import { filterFunction, type FilterFunction } from './functions.js';
import { RECORDS_TABLE } from '../records/sql.js';

export const CONSTRAINT_LOCATOR = 'Constraint';

export interface CompileContext {
  params: SqlParams;
  crs: CrsRegistry;
}

const fail = (message: string): never => {
  throw new OgcError('InvalidParameterValue', message, CONSTRAINT_LOCATOR);
};

export function queryable(name: string): Queryable {
  const q = findQueryable(name);
  if (!q) return fail(`Unknown queryable '${name}'`);
  return q;
}


/** A queryable, possibly under filter functions (upper(dc:title)…): the functions innermost first. */
interface ValueExpression {
  q: Queryable;
  functions: FilterFunction[];
}

const isValue = (e: Expression) => e.kind === 'property' || e.kind === 'function';

function valueOf(e: Expression): ValueExpression {
  if (e.kind === 'property') return { q: queryable(e.name), functions: [] };
  if (e.kind !== 'function') return fail('A function argument must be a queryable or a function');
  const fn = filterFunction(e.name, e.args.length, CONSTRAINT_LOCATOR);
  const inner = valueOf(e.args[0]!);
  if (inner.q.kind === 'geometry' || inner.q.kind === 'anytext') fail(`${fn.name} does not apply to ${inner.q.name}`);
  if (inner.functions.at(-1)?.returns === 'number') fail(`${fn.name} takes a string argument`);
  return { q: inner.q, functions: [...inner.functions, fn] };
}

const SCALAR_TEXT = new Set(['text']);
const ARRAYS = new Set(['texts', 'dates', 'integers', 'numbers']);

/**
 * A predicate `test` on the value of a function expression, true when one of the queryable's values passes it
 * (CSW 2.0.2 §10.8.4.11 for repeated elements). `negated`: no value passes it (PropertyIsNotEqualTo).
 */
function onFunctionValues(v: ValueExpression, test: (value: string) => string, negated: boolean): string {
  const apply = (e: string) => v.functions.reduce((acc, f) => f.sql(acc), SCALAR_TEXT.has(v.q.kind) || v.q.kind === 'texts' ? e : `(${e})::text`);
  let any: string;
  if (ARRAYS.has(v.q.kind)) any = `EXISTS (SELECT 1 FROM unnest(${v.q.sql}) v WHERE ${test(apply('v'))})`;
  else {
    any = `coalesce(${test(apply(v.q.sql))}, false)`;
    if (v.q.extra) any = `(${any} OR EXISTS (SELECT 1 FROM unnest(${v.q.extra}) v WHERE ${test(apply('v'))}))`;
  }
  return negated ? `(NOT ${any})` : `(${any})`;
}

function compareFunction(v: ValueExpression, op: ComparisonOp, literal: string | number | boolean | null, matchCase: boolean, ctx: CompileContext): string {
  const t = literalText(literal).trim();
  if (v.functions.at(-1)!.returns === 'number') {
    const n = Number(t);
    if (t === '' || !Number.isFinite(n)) return fail(`'${t.slice(0, 60)}' is not a number for ${v.functions.at(-1)!.name}`);
    const p = ctx.params.add(n, 'double precision');
    return onFunctionValues(v, (e) => `${e} ${op === '<>' ? '=' : op} ${p}`, op === '<>');
  }
  const p = ctx.params.add(literalText(literal), 'text');
  const o = op === '<>' ? '=' : op;
  return onFunctionValues(v, (e) => (matchCase ? `${e} ${o} ${p}` : `${fold(e)} ${o} ${fold(p)}`), op === '<>');
}

function likeFunction(v: ValueExpression, pattern: string, matchCase: boolean, ctx: CompileContext): string {
  if (v.functions.at(-1)!.returns === 'number') return fail(`PropertyIsLike needs a string, ${v.functions.at(-1)!.name} is a number`);
  const p = ctx.params.add(pattern, 'text');
  return onFunctionValues(v, (e) => (matchCase ? `${e} LIKE ${p} ESCAPE '\\'` : `${fold(e)} LIKE ${fold(p)} ESCAPE '\\'`), false);
}

const FLIP: Record<ComparisonOp, ComparisonOp> = { '=': '=', '<>': '<>', '<': '>', '>': '<', '<=': '>=', '>=': '<=' };

export function compileFilter(f: Filter, ctx: CompileContext): string {
  switch (f.kind) {
    case 'and':
    case 'or':
      if (f.operands.length === 0) return f.kind === 'and' ? 'TRUE' : 'FALSE';
      return '(' + f.operands.map((o) => compileFilter(o, ctx)).join(f.kind === 'and' ? ' AND ' : ' OR ') + ')';
    case 'not':
      return `(NOT coalesce(${compileFilter(f.operand, ctx)}, false))`;
    case 'include':
      return 'TRUE';
    case 'exclude':
      return 'FALSE';
    case 'compare': {
      let { left, right, op } = f;
      if (!isValue(left) && isValue(right)) [left, right, op] = [right, left, FLIP[op]];
      if (!isValue(left)) return fail('A comparison needs a queryable on one side');
      if (right.kind !== 'literal') return fail('A comparison needs a literal value on one side');
      const fn = valueOf(left);
      if (fn.functions.length) return compareFunction(fn, op, right.value, f.matchCase, ctx);
      return compare(fn.q, op, right.value, f.matchCase, ctx);
    }
    case 'like': {
      if (!isValue(f.expr)) return fail('PropertyIsLike needs a queryable');
      const fn = valueOf(f.expr);
      if (fn.functions.length) return likeFunction(fn, f.pattern, f.matchCase, ctx);
      return like(fn.q, f.pattern, f.matchCase, ctx);
    }
    case 'isNull': {
      if (f.expr.kind !== 'property') return fail('PropertyIsNull needs a queryable');
      const q = queryable(f.expr.name);
      if (q.kind === 'texts' || q.kind === 'dates' || q.kind === 'integers' || q.kind === 'numbers') return `(cardinality(${q.sql}) = 0)`;
      if (q.kind === 'text') return `(${q.sql} IS NULL OR ${q.sql} = '')`;
      if (q.kind === 'anytext') return `(r.anytext = '')`;
      return `(${q.sql} IS NULL)`;
    }
    case 'between': {
      const e = f.expr;
      if (e.kind !== 'property' || f.lower.kind !== 'literal' || f.upper.kind !== 'literal') return fail('PropertyIsBetween needs a queryable and two literal bounds');
      const q = queryable(e.name);
      return `(${compare(q, '>=', f.lower.value, true, ctx)} AND ${compare(q, '<=', f.upper.value, true, ctx)})`;
    }
    case 'in': {
      if (f.expr.kind !== 'property') return fail('IN needs a queryable');
      const q = queryable(f.expr.name);
      if (f.values.length === 0) return 'FALSE';
      return '(' + f.values.map((v) => (v.kind === 'literal' ? compare(q, '=', v.value, true, ctx) : fail('IN needs literal values'))).join(' OR ') + ')';
    }
    case 'bbox': {
      const col = geometryColumn(f.property);
      const env = envelopeSql(f.envelope, ctx);
      // ST_Intersects alone: PostGIS 3 adds the index condition (&&) and estimates its selectivity itself. An
      // explicit `&&` beside it counted the box twice (5,986 matches of 100,000 estimated 32), and the planner
      // then walked the footprint index testing each record's words instead of combining the two indexes.
      return `ST_Intersects(${col}, ${env})`;
    }
    case 'spatial': {
      const col = geometryColumn(f.property);
      return `coalesce(${SPATIAL_FN[f.op]}(${col}, ${geometrySql(f.geometry, ctx)}), false)`;
    }
    case 'distance': {
      const col = geometryColumn(f.property);
      if (!Number.isFinite(f.distanceMetres) || f.distanceMetres < 0) return fail('Distance must be a non-negative number');
      const test = `ST_DWithin(${col}::geography, (${geometrySql(f.geometry, ctx)})::geography, ${ctx.params.add(f.distanceMetres, 'double precision')})`;
      return f.op === 'dwithin' ? `coalesce(${test}, false)` : `(NOT coalesce(${test}, true))`;
    }
    case 'temporal':
      return fail('temporal filters are not supported by the catalogue');
    case 'timeOp': {
      // FES 2.0 §7.9 / CQL2 temporal predicates (src/filter/cql2-predicates.ts) on a date or date-time queryable.
      const q = queryable(f.property);
      if (q.kind !== 'date' && q.kind !== 'timestamp') return fail(`'${f.property.slice(0, 60)}' is not a date or date-time queryable`);
      try {
        return timeOpOnSql(f, { sql: q.sql, kind: q.kind === 'date' ? 'date' : 'timestamptz' }, ctx.params);
      } catch (e) {
        if (e instanceof DatetimeError) return fail(e.message);
        throw e;
      }
    }
    case 'array': {
      // CQL2 array predicates on a multi-valued text queryable (keywords, formats…), compared as sets; the
      // array operators of PostgreSQL (@>, <@, &&) with the list bound as one text[] parameter.
      const q = queryable(f.property);
      if (q.kind !== 'texts') return fail(`'${f.property.slice(0, 60)}' is not a multi-valued text queryable: array predicates do not apply`);
      const values = f.values.map((v) => (v.kind === 'literal' && v.value !== null ? String(v.value) : fail('An array predicate compares with a list of literal values')));
      const list = ctx.params.add(values, 'text[]');
      const sql = { equals: `(${q.sql} @> ${list} AND ${q.sql} <@ ${list})`, contains: `${q.sql} @> ${list}`, containedBy: `${q.sql} <@ ${list}`, overlaps: `${q.sql} && ${list}` }[f.op];
      return `coalesce(${sql}, false)`;
    }
    case 'resourceId':
      return `(r.identifier = ANY(${ctx.params.add(f.ids, 'text[]')}))`;
  }
}

function geometryColumn(property: string | undefined): string {
  if (property === undefined) return 'r.bbox';
  const q = queryable(property);
  if (q.kind !== 'geometry') fail(`'${property}' is not a spatial queryable (use ows:BoundingBox)`);
  return q.sql;
}

/** Unaccented lower-case form of a text expression (for matchCase="false"). */
const fold = (sql: string) => `lower(sdi.immutable_unaccent(${sql}))`;

function literalText(v: string | number | boolean | null): string {
  if (v === null) return fail('A null literal cannot be compared');
  return String(v);
}

const DATE_RE = /^\s*\d{4}(-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?)?)?\s*$/i;

function typedLiteral(q: Queryable, v: string | number | boolean | null, ctx: CompileContext): string {
  const t = literalText(v).trim();
  switch (q.kind) {
    case 'date':
    case 'dates':
    case 'timestamp': {
      if (!DATE_RE.test(t)) return fail(`'${t.slice(0, 60)}' is not an ISO 8601 date for ${q.name}`);
      const full = /^\d{4}$/.test(t) ? `${t}-01-01` : /^\d{4}-\d{2}$/.test(t) ? `${t}-01` : t;
      return ctx.params.add(full, q.kind === 'timestamp' ? 'timestamptz' : 'date');
    }
    case 'integers':
    case 'numbers': {
      const n = Number(t);
      if (t === '' || !Number.isFinite(n)) return fail(`'${t.slice(0, 60)}' is not a number for ${q.name}`);
      return ctx.params.add(n, 'double precision');
    }
    case 'boolean': {
      const b = t.toLowerCase();
      if (!['true', 'false', '1', '0'].includes(b)) return fail(`'${t.slice(0, 60)}' is not a boolean for ${q.name}`);
      return ctx.params.add(b === 'true' || b === '1', 'boolean');
    }
    default:
      return ctx.params.add(literalText(v), 'text');
  }
}

function compare(q: Queryable, op: ComparisonOp, v: string | number | boolean | null, matchCase: boolean, ctx: CompileContext): string {
  switch (q.kind) {
    case 'geometry':
      return fail(`${q.name} is spatial: use BBOX or a spatial operator`);
    case 'anytext': {
      if (op === '=') return anyTextContains(literalText(v), false, ctx);
      if (op === '<>') return `(NOT ${anyTextContains(literalText(v), false, ctx)})`;
      return fail(`AnyText supports only equality and LIKE`);
    }
    case 'text': {
      const p = typedLiteral(q, v, ctx);
      const test = (e: string, o: ComparisonOp) => (matchCase ? `(${e} ${o} ${p})` : `(${fold(e)} ${o} ${fold(p)})`);
      if (!q.extra) return test(q.sql, op);
      if (op === '=' && matchCase && q.normalise) {
        // Only records whose column holds the literal's normal form can hold the literal itself: the column's index
        // answers, and the documents of those candidates alone are read.
        const normal = q.normalise(literalText(v).trim());
        if (normal === literalText(v).trim()) return test(q.sql, op);
        return `(${test(q.sql, op)} OR (${q.sql} = ${ctx.params.add(normal, 'text')} AND EXISTS (SELECT 1 FROM unnest(${q.extra}) v WHERE ${test('v', op)})))`;
      }
      // Either the stored value or one of the record's own values (`extra`); <> is "no value is equal".
      const any = (o: ComparisonOp) => `(${test(q.sql, o)} OR EXISTS (SELECT 1 FROM unnest(${q.extra}) v WHERE ${test('v', o)}))`;
      return op === '<>' ? `(NOT coalesce(${any('=')}, false))` : any(op);
    }
    case 'texts': {
      const p = typedLiteral(q, v, ctx);
      if (op === '=' && matchCase) return `(${q.sql} @> ARRAY[${p}])`;
      const test = matchCase ? `v ${op === '<>' ? '=' : op} ${p}` : `${fold('v')} ${op === '<>' ? '=' : op} ${fold(p)}`;
      const exists = `EXISTS (SELECT 1 FROM unnest(${q.sql}) v WHERE ${test})`;
      return op === '<>' ? `(NOT ${exists})` : `(${exists})`;
    }
    case 'dates':
    case 'integers':
    case 'numbers': {
      const p = typedLiteral(q, v, ctx);
      const exists = `EXISTS (SELECT 1 FROM unnest(${q.sql}) v WHERE v ${op === '<>' ? '=' : op} ${p})`;
      return op === '<>' ? `(NOT ${exists})` : `(${exists})`;
    }
    default:
      return `coalesce(${q.sql} ${op} ${typedLiteral(q, v, ctx)}, false)`;
  }
}

function like(q: Queryable, pattern: string, matchCase: boolean, ctx: CompileContext): string {
  switch (q.kind) {
    case 'geometry':
      return fail(`${q.name} is spatial: use BBOX or a spatial operator`);
    case 'anytext':
      return anyTextLike(pattern, ctx);
    case 'text': {
      const p = ctx.params.add(pattern, 'text');
      const test = (e: string) => (matchCase ? `(${e} LIKE ${p} ESCAPE '\\')` : `(${fold(e)} LIKE ${fold(p)} ESCAPE '\\')`);
      if (!q.extra) return test(q.sql);
      return `(${test(q.sql)} OR EXISTS (SELECT 1 FROM unnest(${q.extra}) v WHERE ${test('v')}))`;
    }
    case 'texts': {
      const p = ctx.params.add(pattern, 'text');
      const test = matchCase ? `v LIKE ${p} ESCAPE '\\'` : `${fold('v')} LIKE ${fold(p)} ESCAPE '\\'`;
      return `(EXISTS (SELECT 1 FROM unnest(${q.sql}) v WHERE ${test}))`;
    }
    default: {
      const p = ctx.params.add(pattern, 'text');
      return `coalesce(${q.sql}::text ${matchCase ? 'LIKE' : 'ILIKE'} ${p} ESCAPE '\\', false)`;
    }
  }
}

/**
 * AnyText "contains" these words: the full-text index (French stems, accents and case ignored; with `prefix`
 * each word may also be the start of a longer one). Text with no lexeme at all (only stop words) falls back
 * to an accent-insensitive substring match.
 */
function anyTextContains(text: string, prefix: boolean, ctx: CompileContext): string {
  const t = text.trim();
  if (t === '') return 'TRUE';
  const p = ctx.params.add(t, 'text');
  const q = `sdi.anytext_query(${p}, ${prefix ? 'true' : 'false'})`;
  const escaped = `replace(replace(replace(${p}, '\\', '\\\\'), '%', '\\%'), '_', '\\_')`;
  // sdi.anytext_query is IMMUTABLE: with the value known when the statement is planned, the CASE folds away
  // and the GIN index on anytext_tsv is used. The fallback reads the text by record id (an uncorrelated, hashed
  // sub-select) rather than as `r.anytext`, so that the predicate reads only columns of the narrow search table
  // (src/records/sql.ts, readsSearchColumnsOnly) and an AnyText search is counted there.
  const fallback = `r.id IN (SELECT w.id FROM ${RECORDS_TABLE} w WHERE ${fold('w.anytext')} LIKE '%' || ${fold(escaped)} || '%')`;
  return `(CASE WHEN ${q} IS NULL THEN ${fallback} ELSE r.anytext_tsv @@ ${q} END)`;
}

/**
 * AnyText LIKE is "contains" (pycsw wraps the value in %…%): a pattern with no wildcard ('cadastre', as
 * MetaSearch sends it) or with wildcards only at its ends ('%cadastre%') goes to the full-text index, each
 * word matching as a prefix of stems ("cadastre" finds "cadastral"); a pattern with inner wildcards is
 * matched with an accent-insensitive LIKE over the whole text. AnyText = 'words' matches whole stems.
 */
function anyTextLike(sqlPattern: string, ctx: CompileContext): string {
  let core = sqlPattern;
  while (core.startsWith('%')) core = core.slice(1);
  while (core.endsWith('%') && !core.endsWith('\\%')) core = core.slice(0, -1);
  if (!/(^|[^\\])[%_]/.test(core)) return anyTextContains(core.replace(/\\(.)/g, '$1'), true, ctx);
  const p = ctx.params.add(`%${core}%`, 'text');
  return `(${fold('r.anytext')} LIKE ${fold(p)} ESCAPE '\\')`;
}

const inRange = (e: Envelope) => [e.minx, e.miny, e.maxx, e.maxy].every(Number.isFinite);

export function envelopeSql(e: Envelope, ctx: CompileContext): string {
  if (!inRange(e)) fail('Bounding box coordinates must be numbers');
  if (e.miny > e.maxy) fail('Bounding box lower corner must be below the upper corner');
  const srid = e.srid ?? 4326;
  const p = ctx.params;
  if (srid === 4326) {
    const env = (minx: number, maxx: number) => `ST_MakeEnvelope(${p.add(minx, 'float8')}, ${p.add(e.miny, 'float8')}, ${p.add(maxx, 'float8')}, ${p.add(e.maxy, 'float8')}, 4326)`;
    // A box whose west edge is east of its east edge crosses the antimeridian.
    if (e.minx > e.maxx) return `ST_Collect(${env(e.minx, 180)}, ${env(-180, e.maxx)})`;
    return env(e.minx, e.maxx);
  }
  if (e.minx > e.maxx) fail('Bounding box lower corner must be left of the upper corner');
  if (!ctx.crs.isKnown(srid)) fail(`Unknown CRS EPSG:${srid}`);
  const span = Math.max(e.maxx - e.minx, e.maxy - e.miny) / 16 || 1;
  return `ST_Transform(ST_Segmentize(ST_MakeEnvelope(${p.add(e.minx, 'float8')}, ${p.add(e.miny, 'float8')}, ${p.add(e.maxx, 'float8')}, ${p.add(e.maxy, 'float8')}, ${p.add(srid, 'integer')}), ${p.add(span, 'float8')}), 4326)`;
}

export function geometrySql(g: GeometryLiteral, ctx: CompileContext): string {
  checkLiteralSize(g, 'Constraint');
  const srid = g.srid ?? 4326;
  const geom = `ST_SetSRID(ST_GeomFromGeoJSON(${ctx.params.add(JSON.stringify(g.geojson), 'text')}), ${ctx.params.add(srid, 'integer')})`;
  if (srid === 4326) return geom;
  if (!ctx.crs.isKnown(srid)) fail(`Unknown CRS EPSG:${srid}`);
  return `ST_Transform(${geom}, 4326)`;
}

/** Columns that are never NULL: sorted without NULLS LAST, so that their indexes serve both directions. */
const NOT_NULL = new Set(['r.title', 'r.abstract', 'r.type', 'r.identifier', 'r.has_security_constraints']);

/**
 * ORDER BY item for a sort key. Records without a value come after the others in both directions (issue 12;
 * PostgreSQL puts NULLs first in a DESC order unless told): an empty array sorts as NULL.
 */
export function sortItem(name: string, descending: boolean): string {
  const q = findQueryable(name);
  if (!q) throw new OgcError('InvalidParameterValue', `Unknown sort queryable '${name}'`, 'SortBy');
  if (!descending) return `${sortExpression(q)} ASC`;
  return NOT_NULL.has(q.sql) ? `${sortExpression(q)} DESC` : `${sortExpression(q)} DESC NULLS LAST`;
}

function sortExpression(q: Queryable): string {
  switch (q.kind) {
    case 'anytext':
      throw new OgcError('InvalidParameterValue', `${q.name} cannot be sorted on`, 'SortBy');
    case 'geometry':
      return 'ST_Area(r.bbox)';
    case 'text':
      return q.name === 'Identifier' ? 'r.identifier' : `lower(${q.sql})`;
    case 'texts':
      return `lower((${q.sql})[1])`;
    case 'dates':
    case 'integers':
    case 'numbers':
      return `(${q.sql})[1]`;
    default:
      return q.sql;
  }
}
