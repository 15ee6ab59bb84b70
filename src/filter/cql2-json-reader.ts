/**
 * OGC CQL2 JSON encoding (OGC 21-065, cql2-json) → the shared filter AST, for the clients that send filters as
 * JSON (OGC API – Records and Features Part 3 `filter-lang=cql2-json`). The AST is the one the CQL2 text reader
 * produces, so a filter means the same in both encodings and goes through the same compiler.
 *
 * Supported: Basic CQL2 (`and`, `or`, `not`, `=`, `<>`, `<`, `<=`, `>`, `>=`, `isNull`), `like`, `between`,
 * `in`, `casei` on both sides of a comparison or LIKE (→ matchCase false), arithmetic `+ - * /`, other functions
 * as function calls, `{"property": …}`, string / number / boolean literals, `{"date": …}` and
 * `{"timestamp": …}` (as string literals, as the text reader does), and the spatial predicates `s_intersects`,
 * `s_within`, `s_contains`, `s_disjoint`, `s_equals`, `s_touches`, `s_crosses`, `s_overlaps` between a property
 * and a GeoJSON geometry or a `{"bbox": […]}` (CRS84, longitude first; the only filter CRS offered).
 *
 * The temporal predicates `t_after` … `t_starts` between a property and a `{"date"}`, `{"timestamp"}` or
 * `{"interval": [start, end]}` ('..' an open end), and the array predicates `a_equals`, `a_contains`,
 * `a_containedBy`, `a_overlaps` between a property and a JSON array of values: cql2-predicates.ts.
 *
 * Refused (InvalidParameterValue, locator `filter`): `accenti`, predicates between two properties or two
 * literals, intervals elsewhere than in a temporal predicate, nesting deeper than 100, more than 10,000 nodes.
 */
import type { ComparisonOp, Envelope, Expression, Filter, GeometryLiteral, SpatialOp } from './ast.js';
import { toSqlLikePattern } from './ast.js';
import { OgcError } from '../ogc/errors.js';
import { envelopeToPolygon } from './gml-geometry-reader.js';
import { MAX_NODES } from './cql2-text-reader.js';
import { arrayPredicate, instantLiteral, isTemporalPredicate, temporalPredicate, type ArrayOperand, type TemporalOperand } from './cql2-predicates.js';
import type { TemporalBound } from './ast.js';

const LOCATOR = 'filter';
const MAX_DEPTH = 100;

const fail = (message: string): never => {
  throw new OgcError('InvalidParameterValue', `Invalid CQL2 JSON filter: ${message}`, LOCATOR);
};

const COMPARISONS: Record<string, ComparisonOp> = { '=': '=', '<>': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };
const SPATIAL: Record<string, SpatialOp> = {
  s_intersects: 'intersects',
  s_disjoint: 'disjoint',
  s_contains: 'contains',
  s_within: 'within',
  s_touches: 'touches',
  s_crosses: 'crosses',
  s_overlaps: 'overlaps',
  s_equals: 'equals',
};
/** The predicate with its operands swapped: S_WITHIN(literal, property) is S_CONTAINS(property, literal). */
const CONVERSE: Record<SpatialOp, SpatialOp> = { intersects: 'intersects', disjoint: 'disjoint', equals: 'equals', touches: 'touches', crosses: 'crosses', overlaps: 'overlaps', within: 'contains', contains: 'within' };
const GEOMETRY_TYPES = new Set(['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon', 'GeometryCollection']);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };
const isObject = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A geometry operand: a GeoJSON geometry or a CQL2 bbox, in CRS84. */
type GeomOperand = { kind: 'geometry'; geojson: GeometryLiteral['geojson'] } | { kind: 'bbox'; envelope: Envelope };

class Reader {
  private nodes = 0;

  filter(node: Json, depth: number): Filter {
    this.count(depth);
    if (node === true) return { kind: 'include' };
    if (node === false) return { kind: 'exclude' };
    if (!isObject(node) || typeof node.op !== 'string') return fail('a predicate must be an object {"op": …, "args": […]} or a boolean');
    const op = node.op.toLowerCase();
    const args = this.args(node);
    if (op === 'and' || op === 'or') {
      if (args.length < 2) fail(`"${op}" takes at least two arguments`);
      return { kind: op, operands: args.map((a) => this.filter(a, depth + 1)) };
    }
    if (op === 'not') return { kind: 'not', operand: this.filter(this.arity(op, args, 1)[0]!, depth + 1) };
    if (COMPARISONS[op]) {
      const [a, b] = this.arity(op, args, 2);
      const left = this.expression(a!, depth + 1);
      const right = this.expression(b!, depth + 1);
      const l = casei(left);
      const r = casei(right);
      // CASEI on both sides (the CQL2 case-insensitive comparison): compared without regard to case.
      if (l && r) return { kind: 'compare', op: COMPARISONS[op]!, left: l, right: r, matchCase: false };
      return { kind: 'compare', op: COMPARISONS[op]!, left, right, matchCase: true };
    }
    switch (op) {
      case 'like': {
        const [a, b] = this.arity(op, args, 2);
        const expr = this.expression(a!, depth + 1);
        const pattern = this.expression(b!, depth + 1);
        const p = casei(pattern) ?? pattern;
        if (p.kind !== 'literal' || typeof p.value !== 'string') return fail('the pattern of "like" must be a string');
        const ci = casei(expr);
        // CQL2 patterns: % any characters, _ one character, \ escapes.
        return { kind: 'like', expr: ci ?? expr, pattern: toSqlLikePattern(p.value, '%', '_', '\\'), matchCase: casei(pattern) === undefined };
      }
      case 'between': {
        const [a, b, c] = this.arity(op, args, 3);
        return { kind: 'between', expr: this.expression(a!, depth + 1), lower: this.expression(b!, depth + 1), upper: this.expression(c!, depth + 1) };
      }
      case 'in': {
        const [a, list] = this.arity(op, args, 2);
        if (!Array.isArray(list)) return fail('the second argument of "in" must be an array of values');
        return { kind: 'in', expr: this.expression(a!, depth + 1), values: list.map((v) => this.expression(v, depth + 1)) };
      }
      case 'isnull':
        return { kind: 'isNull', expr: this.expression(this.arity(op, args, 1)[0]!, depth + 1) };
    }
    if (SPATIAL[op]) return this.spatial(SPATIAL[op]!, this.arity(op, args, 2), depth);
    if (isTemporalPredicate(op)) {
      const [a, b] = this.arity(op, args, 2);
      return temporalPredicate(op, this.temporalOperand(a!, depth + 1), this.temporalOperand(b!, depth + 1), fail);
    }
    if (op.startsWith('a_')) {
      const [a, b] = this.arity(op, args, 2);
      return arrayPredicate(op, this.arrayOperand(a!, depth + 1), this.arrayOperand(b!, depth + 1), fail);
    }
    if (op.startsWith('t_')) return fail(`unknown temporal predicate "${node.op.slice(0, 40)}"`);
    return fail(`unknown operator "${node.op.slice(0, 40)}"`);
  }

  expression(node: Json, depth: number): Expression {
    this.count(depth);
    if (typeof node === 'string' || typeof node === 'boolean') return { kind: 'literal', value: node };
    if (typeof node === 'number') return Number.isFinite(node) ? { kind: 'literal', value: node } : fail('numbers must be finite');
    if (node === null || Array.isArray(node)) return fail('a value must be a property, a literal or a function');
    if (typeof node.property === 'string') return { kind: 'property', name: node.property };
    if (typeof node.date === 'string') return /^\d{4}-\d{2}-\d{2}$/.test(node.date) ? { kind: 'literal', value: node.date } : fail(`'${node.date.slice(0, 40)}' is not a date (YYYY-MM-DD)`);
    if (typeof node.timestamp === 'string') {
      return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(node.timestamp) ? { kind: 'literal', value: node.timestamp } : fail(`'${node.timestamp.slice(0, 40)}' is not an RFC 3339 timestamp`);
    }
    if ('interval' in node) return fail('an interval is only an operand of a temporal predicate');
    if ('bbox' in node || (typeof node.type === 'string' && GEOMETRY_TYPES.has(node.type))) return fail('a geometry is only an operand of a spatial predicate');
    if (typeof node.op === 'string') {
      const op = node.op.toLowerCase();
      const args = this.args(node);
      if (op === 'casei') return { kind: 'function', name: 'CASEI', args: [this.expression(this.arity(op, args, 1)[0]!, depth + 1)] };
      if (op === 'accenti') return fail('accenti is not supported');
      if (op === '+' || op === '-' || op === '*' || op === '/') {
        const [a, b] = this.arity(op, args, 2);
        return { kind: 'arithmetic', op, left: this.expression(a!, depth + 1), right: this.expression(b!, depth + 1) };
      }
      return { kind: 'function', name: node.op, args: args.map((a) => this.expression(a, depth + 1)) };
    }
    return fail('a value must be a property, a literal or a function');
  }

  /** A property, a date, a timestamp or an interval (CQL2 JSON temporal literals). */
  private temporalOperand(node: Json, depth: number): TemporalOperand {
    this.count(depth);
    if (!isObject(node)) return fail('a temporal predicate takes a property and a {"date"}, {"timestamp"} or {"interval"}');
    if (typeof node.property === 'string') return { kind: 'property', name: node.property };
    if ('interval' in node) {
      const iv = node.interval;
      if (!Array.isArray(iv) || iv.length !== 2) return fail('an interval is [start, end]');
      const [begin, end] = iv.map((x) => (x === '..' ? undefined : this.instant(x)));
      return { kind: 'period', ...(begin ? { begin } : {}), ...(end ? { end } : {}) };
    }
    const t = this.instant(node);
    return { kind: 'period', begin: t, end: t };
  }

  /** A date or timestamp: {"date": …}, {"timestamp": …}, or (inside an interval) the bare string. */
  private instant(node: Json | undefined): TemporalBound {
    const text = typeof node === 'string' ? node : isObject(node) ? (typeof node.date === 'string' ? node.date : typeof node.timestamp === 'string' ? node.timestamp : undefined) : undefined;
    if (text === undefined) return fail('a temporal literal is {"date": "YYYY-MM-DD"}, {"timestamp": "…Z"} or an interval of them');
    if (isObject(node) && typeof node.date === 'string' && !/^\d{4}-\d{2}-\d{2}$/.test(text)) return fail(`'${text.slice(0, 40)}' is not a date (YYYY-MM-DD)`);
    return instantLiteral(text, fail);
  }

  /** A property or a JSON array of values (CQL2 JSON arrays). */
  private arrayOperand(node: Json, depth: number): ArrayOperand {
    this.count(depth);
    if (Array.isArray(node)) return { kind: 'list', values: node.map((v) => this.expression(v, depth + 1)) };
    if (isObject(node) && typeof node.property === 'string') return { kind: 'property', name: node.property };
    return fail('an array predicate takes a property and an array of values');
  }

  private spatial(op: SpatialOp, [a, b]: Json[], depth: number): Filter {
    this.count(depth + 1);
    const propertyOf = (n: Json | undefined) => (isObject(n) && typeof n.property === 'string' ? n.property : undefined);
    let property = propertyOf(a);
    let other = b;
    let effective = op;
    if (property === undefined) {
      property = propertyOf(b);
      if (property === undefined) return fail(`${op} needs a property and a geometry`);
      other = a;
      effective = CONVERSE[op];
    }
    const g = this.geometry(other);
    if (g.kind === 'bbox') {
      if (effective === 'intersects') return { kind: 'bbox', property, envelope: g.envelope };
      return { kind: 'spatial', op: effective, property, geometry: { geojson: envelopeToPolygon(g.envelope), srid: 4326 } };
    }
    return { kind: 'spatial', op: effective, property, geometry: { geojson: g.geojson, srid: 4326 } };
  }

  private geometry(node: Json | undefined): GeomOperand {
    if (!isObject(node)) return fail('a spatial predicate needs a property and a geometry');
    if ('property' in node) return fail('spatial predicates between two properties are not supported');
    if (Array.isArray(node.bbox) && !('type' in node)) {
      const n = node.bbox;
      if ((n.length !== 4 && n.length !== 6) || n.some((v) => typeof v !== 'number' || !Number.isFinite(v))) return fail('a bbox is 4 or 6 numbers');
      const [minx, miny, maxx, maxy] = n.length === 4 ? (n as number[]) : [n[0], n[1], n[3], n[4]].map(Number);
      if (miny! > maxy!) fail('the bbox south edge is north of its north edge');
      return { kind: 'bbox', envelope: { minx: minx!, miny: miny!, maxx: maxx!, maxy: maxy!, srid: 4326 } };
    }
    if (typeof node.type !== 'string' || !GEOMETRY_TYPES.has(node.type)) return fail('a geometry must be a GeoJSON geometry or {"bbox": […]}');
    if (node.type === 'GeometryCollection' ? !Array.isArray(node.geometries) : !Array.isArray(node.coordinates)) return fail(`a ${node.type} needs its ${node.type === 'GeometryCollection' ? 'geometries' : 'coordinates'}`);
    return { kind: 'geometry', geojson: node as GeometryLiteral['geojson'] };
  }

  private args(node: Obj): Json[] {
    if (node.args === undefined) return [];
    if (!Array.isArray(node.args)) return fail(`the args of "${String(node.op).slice(0, 40)}" must be an array`);
    return node.args;
  }

  private arity(op: string, args: Json[], n: number): Json[] {
    if (args.length !== n) fail(`"${op}" takes ${n} argument${n > 1 ? 's' : ''}, not ${args.length}`);
    return args;
  }

  private count(depth: number): void {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    if (++this.nodes > MAX_NODES) fail(`more than ${MAX_NODES} nodes`);
  }
}

function casei(e: Expression): Expression | undefined {
  return e.kind === 'function' && e.name === 'CASEI' && e.args.length === 1 ? e.args[0] : undefined;
}

/** Parse a CQL2 JSON filter (the text of the `filter` parameter, or an already parsed JSON value). */
export function parseCql2Json(input: string | unknown): Filter {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      return fail('the filter is not JSON');
    }
  }
  return new Reader().filter(value as Json, 0);
}
