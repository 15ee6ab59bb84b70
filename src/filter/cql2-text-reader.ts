/**
 * OGC CQL2 text encoding → filter AST (hand-written tokeniser + recursive-descent parser).
 *
 * Supported: Basic CQL2 (comparisons, AND/OR/NOT, LIKE, BETWEEN, IN, IS [NOT] NULL, parentheses, quoted
 * "property names", 'strings' with '' escaping, numbers, TRUE/FALSE, DATE('…')/TIMESTAMP('…') as string
 * literals), CASEI(…) on both sides of a comparison / LIKE (→ matchCase false), arithmetic + - * /,
 * functions, spatial predicates S_INTERSECTS, S_WITHIN, S_CONTAINS, S_DISJOINT, S_EQUALS, S_TOUCHES,
 * S_CROSSES, S_OVERLAPS (and their legacy CQL/ECQL names INTERSECTS, WITHIN …) on WKT literals (POINT,
 * LINESTRING, POLYGON, MULTI*, GEOMETRYCOLLECTION, BBOX(…)), and the ECQL extras DWITHIN/BEYOND,
 * BBOX(property, …), ILIKE, INCLUDE/EXCLUDE.
 *
 * Geometry literals are in the filter CRS: CRS84 (lon/lat, SRID 4326) unless `filterCrs` says otherwise;
 * when isYX(filterCrs) the coordinates are swapped to x/y.
 *
 * Temporal predicates T_AFTER … T_STARTS between a property and DATE('…'), TIMESTAMP('…') or
 * INTERVAL(start, end) ('..' an open end), and array predicates A_EQUALS, A_CONTAINS, A_CONTAINEDBY,
 * A_OVERLAPS between a property and a list ('a', 'b'): their meaning is in cql2-predicates.ts.
 *
 * Not supported (→ InvalidParameterValue, locator `filter`): INTERVAL outside a temporal predicate, temporal
 * and array predicates between two properties, spatial predicates on functions or between two properties/two
 * literals, EMPTY geometries, the `%`, `div` and `^` operators.
 */
import type { ComparisonOp, Envelope, Expression, Filter, GeometryLiteral, SpatialOp } from './ast.js';
import { toSqlLikePattern } from './ast.js';
import { isYX, type CrsRef } from '../crs/identifiers.js';
import { OgcError } from '../ogc/errors.js';
import { envelopeToPolygon } from './gml-geometry-reader.js';
import { metresPerUnit } from './fes-reader.js';
import { arrayPredicate, instantLiteral, isTemporalPredicate, temporalPredicate, type ArrayOperand, type TemporalOperand, type TemporalPredicate } from './cql2-predicates.js';
import type { TemporalBound } from './ast.js';

const LOCATOR = 'filter';

type TokType = 'ident' | 'qident' | 'string' | 'number' | 'op' | 'eof';
interface Token {
  type: TokType;
  /** Identifier / string / number text, or the operator. */
  value: string;
  /** 0-based offset in the input. */
  pos: number;
}

class Cql2SyntaxError extends OgcError {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super('InvalidParameterValue', `Invalid CQL2 filter: ${message} at position ${pos + 1}`, LOCATOR);
  }
}

const IDENT_START = /[\p{L}_:]/u;
const IDENT_PART = /[\p{L}\p{N}_:.\u0300-\u036F\u203F\u2040]/u;
const TWO_CHAR_OPS = new Set(['<>', '<=', '>=', '!=']);
const ONE_CHAR_OPS = new Set(['(', ')', ',', '=', '<', '>', '+', '-', '*', '/', '%', '^']);

const MAX_NESTING = 100;
/** Cap on boolean operators and predicates in one filter (issue 13: cheap limits before SQL). */
export const MAX_NODES = 10_000;

function tokenise(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let depth = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= n) throw new Cql2SyntaxError('unterminated string literal', start);
        const d = text[i]!;
        if (d === "'" && text[i + 1] === "'") {
          v += "'";
          i += 2;
        } else if (d === '\\' && text[i + 1] === "'") {
          v += "'";
          i += 2;
        } else if (d === "'") {
          i++;
          break;
        } else {
          v += d;
          i++;
        }
      }
      out.push({ type: 'string', value: v, pos: start });
    } else if (c === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= n) throw new Cql2SyntaxError('unterminated quoted property name', start);
        const d = text[i]!;
        if (d === '"' && text[i + 1] === '"') {
          v += '"';
          i += 2;
        } else if (d === '"') {
          i++;
          break;
        } else {
          v += d;
          i++;
        }
      }
      if (v === '') throw new Cql2SyntaxError('empty quoted property name', start);
      out.push({ type: 'qident', value: v, pos: start });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i))!;
      i += m[0].length;
      if (i < n && IDENT_START.test(text[i]!)) throw new Cql2SyntaxError(`invalid number "${m[0]}${text[i]}"`, start);
      out.push({ type: 'number', value: m[0], pos: start });
    } else if (IDENT_START.test(c)) {
      i++;
      while (i < n && IDENT_PART.test(text[i]!)) i++;
      out.push({ type: 'ident', value: text.slice(start, i), pos: start });
    } else if (TWO_CHAR_OPS.has(text.slice(i, i + 2))) {
      out.push({ type: 'op', value: text.slice(i, i + 2), pos: start });
      i += 2;
    } else if (ONE_CHAR_OPS.has(c)) {
      if (c === '(' && ++depth > MAX_NESTING) throw new Cql2SyntaxError(`parentheses nested deeper than ${MAX_NESTING}`, start);
      if (c === ')') depth--;
      out.push({ type: 'op', value: c, pos: start });
      i++;
    } else {
      throw new Cql2SyntaxError(`unexpected character "${c}"`, start);
    }
  }
  out.push({ type: 'eof', value: '', pos: n });
  return out;
}

/** Words that cannot be unquoted property names. */
const RESERVED = new Set(['AND', 'OR', 'NOT', 'LIKE', 'ILIKE', 'BETWEEN', 'IN', 'IS', 'NULL', 'TRUE', 'FALSE']);

const COMPARISON_OPS: Record<string, ComparisonOp> = { '=': '=', '<>': '<>', '!=': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

const SPATIAL_FUNCTIONS: Record<string, SpatialOp> = {
  S_INTERSECTS: 'intersects',
  S_DISJOINT: 'disjoint',
  S_CONTAINS: 'contains',
  S_WITHIN: 'within',
  S_TOUCHES: 'touches',
  S_CROSSES: 'crosses',
  S_OVERLAPS: 'overlaps',
  S_EQUALS: 'equals',
  INTERSECTS: 'intersects',
  DISJOINT: 'disjoint',
  CONTAINS: 'contains',
  WITHIN: 'within',
  TOUCHES: 'touches',
  CROSSES: 'crosses',
  OVERLAPS: 'overlaps',
  EQUALS: 'equals',
};

/** Operator when the two operands are given in the other order. */
const CONVERSE: Record<SpatialOp, SpatialOp> = {
  intersects: 'intersects',
  disjoint: 'disjoint',
  contains: 'within',
  within: 'contains',
  touches: 'touches',
  crosses: 'crosses',
  overlaps: 'overlaps',
  equals: 'equals',
};

const WKT_TYPES: Record<string, string> = {
  POINT: 'Point',
  LINESTRING: 'LineString',
  POLYGON: 'Polygon',
  MULTIPOINT: 'MultiPoint',
  MULTILINESTRING: 'MultiLineString',
  MULTIPOLYGON: 'MultiPolygon',
  GEOMETRYCOLLECTION: 'GeometryCollection',
};

type Position = [number, number];
type GeoJson = GeometryLiteral['geojson'];

/** Operand of a spatial predicate. */
type GeomArg =
  | { kind: 'property'; name: string; pos: number }
  | { kind: 'geometry'; geojson: GeoJson; pos: number }
  | { kind: 'bbox'; corners: [Position, Position]; pos: number };

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Token[],
    private readonly filterCrs: CrsRef | undefined,
  ) {}

  // ---- token helpers -------------------------------------------------------------------------------

  private peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }
  private next(): Token {
    const t = this.peek();
    if (t.type !== 'eof') this.i++;
    return t;
  }
  private isOp(v: string, k = 0): boolean {
    const t = this.peek(k);
    return t.type === 'op' && t.value === v;
  }
  private isKw(word: string, k = 0): boolean {
    const t = this.peek(k);
    return t.type === 'ident' && t.value.toUpperCase() === word;
  }
  private acceptOp(v: string): boolean {
    if (this.isOp(v)) {
      this.i++;
      return true;
    }
    return false;
  }
  private acceptKw(word: string): boolean {
    if (this.isKw(word)) {
      this.i++;
      return true;
    }
    return false;
  }
  private expectOp(v: string): Token {
    if (!this.isOp(v)) this.error(`expected "${v}"`);
    return this.next();
  }
  private expectKw(word: string): void {
    if (!this.acceptKw(word)) this.error(`expected ${word}`);
  }
  private describe(t: Token): string {
    if (t.type === 'eof') return 'end of input';
    if (t.type === 'string') return `'${t.value}'`;
    if (t.type === 'qident') return `"${t.value}"`;
    return `"${t.value}"`;
  }
  error(message: string, tok: Token = this.peek()): never {
    throw new Cql2SyntaxError(`${message}, found ${this.describe(tok)}`, tok.pos);
  }
  private unsupported(message: string, pos: number): never {
    throw new OgcError('InvalidParameterValue', `${message} (at position ${pos + 1})`, LOCATOR);
  }

  // ---- boolean expressions -------------------------------------------------------------------------

  parseFilter(): Filter {
    if (this.peek().type === 'eof') this.error('empty filter');
    const f = this.parseOr();
    if (this.peek().type !== 'eof') this.error('unexpected token');
    return f;
  }

  private parseOr(): Filter {
    const operands = [this.parseAnd()];
    while (this.acceptKw('OR')) operands.push(this.parseAnd());
    return operands.length === 1 ? operands[0]! : { kind: 'or', operands };
  }

  private parseAnd(): Filter {
    const operands = [this.parseNot()];
    while (this.acceptKw('AND')) operands.push(this.parseNot());
    return operands.length === 1 ? operands[0]! : { kind: 'and', operands };
  }

  /** Boolean nesting (NOT chains and parenthesised groups) so far; bounded so hostile input gets a 400, not a stack overflow. */
  private depth = 0;
  /** Boolean/predicate nodes read so far; bounded so the compiled SQL stays reasonable. */
  private nodes = 0;

  private enter(pos: number): void {
    if (++this.depth > MAX_NESTING) throw new Cql2SyntaxError(`boolean expressions nested deeper than ${MAX_NESTING} levels`, pos);
    if (++this.nodes > MAX_NODES) throw new Cql2SyntaxError(`more than ${MAX_NODES} operators or predicates`, pos);
  }

  private parseNot(): Filter {
    const t = this.peek();
    if (this.acceptKw('NOT')) {
      this.enter(t.pos);
      try {
        return { kind: 'not', operand: this.parseNot() };
      } finally {
        this.depth--;
      }
    }
    return this.parseBooleanPrimary();
  }

  private parseBooleanPrimary(): Filter {
    const t = this.peek();
    this.enter(t.pos);
    try {
      return this.parseBooleanPrimaryInner(t);
    } finally {
      this.depth--;
    }
  }

  private parseBooleanPrimaryInner(t: Token): Filter {
    if (this.isOp('(')) {
      // Either a parenthesised boolean expression or the start of an arithmetic operand: try the former,
      // fall back to the latter, and report whichever attempt got further.
      const save = this.i;
      let groupError: Cql2SyntaxError | undefined;
      try {
        this.next();
        const inner = this.parseOr();
        this.expectOp(')');
        if (!this.continuesPredicate()) return inner;
      } catch (e) {
        if (!(e instanceof Cql2SyntaxError)) throw e;
        groupError = e;
      }
      this.i = save;
      try {
        return this.parsePredicate();
      } catch (e) {
        if (groupError && e instanceof Cql2SyntaxError && groupError.pos > e.pos) throw groupError;
        throw e;
      }
    }
    if (t.type === 'ident' && this.isOp('(', 1)) {
      const word = t.value.toUpperCase();
      const sp = SPATIAL_FUNCTIONS[word];
      if (sp) return this.parseSpatialPredicate(sp);
      if (word === 'DWITHIN' || word === 'BEYOND' || word === 'S_DWITHIN' || word === 'S_BEYOND') {
        return this.parseDistancePredicate(word.endsWith('DWITHIN') ? 'dwithin' : 'beyond');
      }
      if (word === 'BBOX') return this.parseBboxPredicate();
      if (isTemporalPredicate(word.toLowerCase())) return this.parseBinaryPredicate(() => this.parseTemporalOperand(), (op, a, b, fail) => temporalPredicate(op as TemporalPredicate, a, b, fail));
      if (/^A_(EQUALS|CONTAINS|CONTAINEDBY|OVERLAPS)$/.test(word)) return this.parseBinaryPredicate(() => this.parseArrayOperand(), arrayPredicate);
      if (/^T_[A-Z]+$/.test(word)) this.unsupported(`Unknown temporal predicate ${t.value}`, t.pos);
      if (/^A_[A-Z]+$/.test(word)) this.unsupported(`Unknown array predicate ${t.value}`, t.pos);
    }
    if (t.type === 'ident' && !this.isOp('(', 1)) {
      const word = t.value.toUpperCase();
      if (word === 'INCLUDE' || word === 'EXCLUDE') {
        this.next();
        return { kind: word === 'INCLUDE' ? 'include' : 'exclude' };
      }
    }
    return this.parsePredicate();
  }

  /** After a closing parenthesis: does what follows make the group an operand rather than a boolean? */
  private continuesPredicate(): boolean {
    const t = this.peek();
    if (t.type === 'op') return t.value in COMPARISON_OPS || ['+', '-', '*', '/', '%', '^'].includes(t.value);
    if (t.type === 'ident') {
      const w = t.value.toUpperCase();
      if (['LIKE', 'ILIKE', 'BETWEEN', 'IN', 'IS', 'DIV'].includes(w)) return true;
      if (w === 'NOT') return this.isKw('LIKE', 1) || this.isKw('ILIKE', 1) || this.isKw('BETWEEN', 1) || this.isKw('IN', 1);
    }
    return false;
  }

  private parsePredicate(): Filter {
    const left = this.parseScalar();
    const t = this.peek();
    if (t.type === 'op' && t.value in COMPARISON_OPS) {
      this.next();
      const right = this.parseScalar();
      const l = unwrapCasei(left);
      const r = unwrapCasei(right);
      if (l && r) return { kind: 'compare', op: COMPARISON_OPS[t.value]!, left: l, right: r, matchCase: false };
      return { kind: 'compare', op: COMPARISON_OPS[t.value]!, left, right, matchCase: true };
    }
    const negated = this.isKw('NOT') && (this.isKw('LIKE', 1) || this.isKw('ILIKE', 1) || this.isKw('BETWEEN', 1) || this.isKw('IN', 1));
    if (negated) this.next();
    const wrap = (f: Filter): Filter => (negated ? { kind: 'not', operand: f } : f);
    if (this.isKw('LIKE') || this.isKw('ILIKE')) {
      const ilike = this.next().value.toUpperCase() === 'ILIKE';
      const { pattern, casei } = this.parsePattern();
      const l = unwrapCasei(left);
      const matchCase = !(ilike || casei);
      return wrap({
        kind: 'like',
        expr: casei && l ? l : left,
        pattern: toSqlLikePattern(pattern, '%', '_', '\\'),
        matchCase,
      });
    }
    if (this.acceptKw('BETWEEN')) {
      const lower = this.parseScalar();
      this.expectKw('AND');
      const upper = this.parseScalar();
      return wrap({ kind: 'between', expr: left, lower, upper });
    }
    if (this.acceptKw('IN')) {
      this.expectOp('(');
      const values = [this.parseScalar()];
      while (this.acceptOp(',')) values.push(this.parseScalar());
      this.expectOp(')');
      return wrap({ kind: 'in', expr: left, values });
    }
    if (this.acceptKw('IS')) {
      const not = this.acceptKw('NOT');
      this.expectKw('NULL');
      const f: Filter = { kind: 'isNull', expr: left };
      return not ? { kind: 'not', operand: f } : f;
    }
    // A boolean-valued operand on its own: TRUE / FALSE, a boolean property, a boolean function.
    if (left.kind === 'literal' && typeof left.value === 'boolean') return { kind: left.value ? 'include' : 'exclude' };
    if (left.kind === 'property' || left.kind === 'function') {
      return { kind: 'compare', op: '=', left, right: { kind: 'literal', value: true }, matchCase: true };
    }
    return this.error('expected a comparison operator, LIKE, BETWEEN, IN or IS NULL');
  }

  /** LIKE pattern: a string literal, optionally inside CASEI(…) / ACCENTI(…). */
  private parsePattern(): { pattern: string; casei: boolean } {
    const t = this.peek();
    if (t.type === 'string') {
      this.next();
      return { pattern: t.value, casei: false };
    }
    if (t.type === 'ident' && this.isOp('(', 1)) {
      const w = t.value.toUpperCase();
      if (w === 'CASEI') {
        this.next();
        this.next();
        const inner = this.parsePattern();
        this.expectOp(')');
        return { pattern: inner.pattern, casei: true };
      }
      if (w === 'ACCENTI') this.unsupported('ACCENTI is not supported', t.pos);
    }
    return this.error('expected a string pattern after LIKE');
  }

  // ---- scalar expressions --------------------------------------------------------------------------

  private parseScalar(): Expression {
    let left = this.parseTerm();
    for (;;) {
      if (this.acceptOp('+')) left = { kind: 'arithmetic', op: '+', left, right: this.parseTerm() };
      else if (this.acceptOp('-')) left = { kind: 'arithmetic', op: '-', left, right: this.parseTerm() };
      else return left;
    }
  }

  private parseTerm(): Expression {
    let left = this.parseUnary();
    for (;;) {
      if (this.acceptOp('*')) left = { kind: 'arithmetic', op: '*', left, right: this.parseUnary() };
      else if (this.acceptOp('/')) left = { kind: 'arithmetic', op: '/', left, right: this.parseUnary() };
      else if (this.isOp('%') || this.isOp('^') || (this.isKw('DIV') && this.peek(1).type !== 'eof')) {
        this.unsupported(`Operator ${this.peek().value} is not supported`, this.peek().pos);
      } else return left;
    }
  }

  private parseUnary(): Expression {
    if (this.isOp('-') || this.isOp('+')) {
      const sign = this.next().value;
      const t = this.peek();
      if (t.type === 'number') {
        this.next();
        return { kind: 'literal', value: numberValue(sign === '-' ? '-' + t.value : t.value) };
      }
      const operand = this.parseUnary();
      return sign === '-' ? { kind: 'arithmetic', op: '-', left: { kind: 'literal', value: 0 }, right: operand } : operand;
    }
    return this.parseOperand();
  }

  private parseOperand(): Expression {
    const t = this.peek();
    switch (t.type) {
      case 'number':
        this.next();
        return { kind: 'literal', value: numberValue(t.value) };
      case 'string':
        this.next();
        return { kind: 'literal', value: t.value };
      case 'qident':
        this.next();
        return { kind: 'property', name: t.value };
      case 'op':
        if (t.value === '(') {
          this.next();
          const e = this.parseScalar();
          this.expectOp(')');
          return e;
        }
        return this.error('expected a value or property name');
      case 'eof':
        return this.error('expected a value or property name');
      case 'ident':
        break;
    }
    const word = t.value.toUpperCase();
    const call = this.isOp('(', 1);
    if (word === 'TRUE' || word === 'FALSE') {
      this.next();
      return { kind: 'literal', value: word === 'TRUE' };
    }
    if (word === 'NULL') {
      this.next();
      return { kind: 'literal', value: null };
    }
    if (RESERVED.has(word)) return this.error('expected a value or property name');
    if ((word === 'DATE' || word === 'TIMESTAMP') && call) {
      this.next();
      this.next();
      const s = this.peek();
      if (s.type !== 'string') this.error(`${word} expects a quoted string`);
      this.next();
      const ok =
        word === 'DATE'
          ? /^\d{4}-\d{2}-\d{2}$/.test(s.value)
          : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(s.value);
      if (!ok) throw new Cql2SyntaxError(`invalid ${word} value '${s.value}'`, s.pos);
      this.expectOp(')');
      return { kind: 'literal', value: s.value };
    }
    if (word === 'INTERVAL' && call) this.unsupported('INTERVAL is not supported', t.pos);
    if ((word in WKT_TYPES && this.startsWkt()) || (word === 'BBOX' && call)) {
      this.unsupported('A geometry literal is only allowed in a spatial predicate', t.pos);
    }
    if (call) {
      this.next();
      this.next();
      const args: Expression[] = [];
      if (!this.isOp(')')) {
        args.push(this.parseScalar());
        while (this.acceptOp(',')) args.push(this.parseScalar());
      }
      this.expectOp(')');
      return { kind: 'function', name: word === 'CASEI' || word === 'ACCENTI' ? word : t.value, args };
    }
    this.next();
    return { kind: 'property', name: t.value };
  }

  // ---- spatial -------------------------------------------------------------------------------------

  /** Is the current identifier the start of a WKT literal (type name followed by '(' / Z / M / ZM / EMPTY)? */
  private startsWkt(): boolean {
    const t = this.peek();
    if (t.type !== 'ident' || !(t.value.toUpperCase() in WKT_TYPES)) return false;
    if (this.isOp('(', 1)) return true;
    const n = this.peek(1);
    return n.type === 'ident' && ['Z', 'M', 'ZM', 'EMPTY'].includes(n.value.toUpperCase());
  }

  private parseGeomArg(): GeomArg {
    const t = this.peek();
    if (t.type === 'qident') {
      this.next();
      return { kind: 'property', name: t.value, pos: t.pos };
    }
    if (t.type === 'ident') {
      const word = t.value.toUpperCase();
      if (this.startsWkt()) return { kind: 'geometry', geojson: this.parseWkt(), pos: t.pos };
      if (word === 'BBOX' && this.isOp('(', 1)) {
        this.next();
        this.next();
        const nums = [this.parseSignedNumber()];
        while (this.acceptOp(',')) nums.push(this.parseSignedNumber());
        this.expectOp(')');
        if (nums.length !== 4 && nums.length !== 6) throw new Cql2SyntaxError('BBOX needs 4 or 6 numbers', t.pos);
        const [a, b, c, d] = nums.length === 4 ? nums : [nums[0]!, nums[1]!, nums[3]!, nums[4]!];
        return { kind: 'bbox', corners: [this.orient([a!, b!]), this.orient([c!, d!])], pos: t.pos };
      }
      if (this.isOp('(', 1)) this.unsupported(`Function ${t.value} is not supported as a spatial operand`, t.pos);
      if (RESERVED.has(word)) this.error('expected a property name or a geometry');
      this.next();
      return { kind: 'property', name: t.value, pos: t.pos };
    }
    return this.error('expected a property name or a geometry');
  }

  private orient(p: Position): Position {
    return this.filterCrs && isYX(this.filterCrs) ? [p[1], p[0]] : p;
  }

  private literal(geojson: GeoJson): GeometryLiteral {
    return { geojson, srid: this.filterCrs?.srid ?? 4326 };
  }

  private envelope(corners: [Position, Position]): Envelope {
    const [lo, hi] = corners;
    return { minx: lo[0], miny: lo[1], maxx: hi[0], maxy: hi[1], srid: this.filterCrs?.srid ?? 4326 };
  }

  /** Two operands in either order: returns the property, the literal, and whether they were swapped. */
  private pairOperands(fname: Token): { property: string; other: Exclude<GeomArg, { kind: 'property' }>; swapped: boolean } {
    const a = this.parseGeomArg();
    this.expectOp(',');
    const b = this.parseGeomArg();
    if (a.kind === 'property' && b.kind !== 'property') return { property: a.name, other: b, swapped: false };
    if (b.kind === 'property' && a.kind !== 'property') return { property: b.name, other: a, swapped: true };
    if (a.kind === 'property') this.unsupported(`${fname.value} between two properties is not supported`, fname.pos);
    return this.unsupported(`${fname.value} between two literals is not supported`, fname.pos);
  }

  // ---- temporal and array predicates (cql2-predicates.ts) ------------------------------------------

  /** NAME(operand, operand): a temporal or array predicate, its meaning given by `build`. */
  private parseBinaryPredicate<T>(operand: () => T, build: (op: string, a: T, b: T, fail: (m: string) => never) => Filter): Filter {
    const fname = this.next();
    this.expectOp('(');
    const a = operand();
    this.expectOp(',');
    const b = operand();
    this.expectOp(')');
    return build(fname.value.toLowerCase(), a, b, (m) => {
      throw new Cql2SyntaxError(m, fname.pos);
    });
  }

  /** A property, DATE('…'), TIMESTAMP('…') or INTERVAL(start, end). */
  private parseTemporalOperand(): TemporalOperand {
    const t = this.peek();
    const word = t.type === 'ident' ? t.value.toUpperCase() : '';
    if (word === 'INTERVAL' && this.isOp('(', 1)) {
      this.next();
      this.next();
      const begin = this.parseIntervalEnd();
      this.expectOp(',');
      const end = this.parseIntervalEnd();
      this.expectOp(')');
      return { kind: 'period', ...(begin ? { begin } : {}), ...(end ? { end } : {}) };
    }
    if ((word === 'DATE' || word === 'TIMESTAMP') && this.isOp('(', 1)) {
      const b = this.instant(this.parseOperand(), t.pos);
      return { kind: 'period', begin: b, end: b };
    }
    if ((t.type === 'ident' && !this.isOp('(', 1) && !RESERVED.has(word)) || t.type === 'qident') {
      this.next();
      return { kind: 'property', name: t.value };
    }
    return this.error("expected a property, DATE('…'), TIMESTAMP('…') or INTERVAL(…)");
  }

  /** An end of an INTERVAL: DATE('…'), TIMESTAMP('…'), a date or timestamp string, or '..' (open). */
  private parseIntervalEnd(): TemporalBound | undefined {
    const t = this.peek();
    if (t.type === 'string' && t.value === '..') {
      this.next();
      return undefined;
    }
    if (t.type === 'string' || (t.type === 'ident' && ['DATE', 'TIMESTAMP'].includes(t.value.toUpperCase()))) return this.instant(this.parseOperand(), t.pos);
    return this.error("an INTERVAL end is DATE('…'), TIMESTAMP('…'), a date or timestamp string, or '..'");
  }

  private instant(e: Expression, pos: number): TemporalBound {
    return instantLiteral(e.kind === 'literal' && typeof e.value === 'string' ? e.value : '', (m) => {
      throw new Cql2SyntaxError(m, pos);
    });
  }

  /** A property or a list of values in parentheses, ('a', 'b') or (). */
  private parseArrayOperand(): ArrayOperand {
    if (this.acceptOp('(')) {
      const values: Expression[] = [];
      if (!this.isOp(')')) {
        values.push(this.parseScalar());
        while (this.acceptOp(',')) values.push(this.parseScalar());
      }
      this.expectOp(')');
      return { kind: 'list', values };
    }
    const t = this.peek();
    if ((t.type === 'ident' && !this.isOp('(', 1) && !RESERVED.has(t.value.toUpperCase())) || t.type === 'qident') {
      this.next();
      return { kind: 'property', name: t.value };
    }
    return this.error("expected a property or a list of values ('a', 'b')");
  }

  private parseSpatialPredicate(op: SpatialOp): Filter {
    const fname = this.next();
    this.expectOp('(');
    const { property, other, swapped } = this.pairOperands(fname);
    this.expectOp(')');
    const effective = swapped ? CONVERSE[op] : op;
    if (other.kind === 'bbox') {
      if (effective === 'intersects') return { kind: 'bbox', property, envelope: this.envelope(other.corners) };
      return { kind: 'spatial', op: effective, property, geometry: this.literal(envelopeToPolygon(other.corners)) };
    }
    return { kind: 'spatial', op: effective, property, geometry: this.literal(other.geojson) };
  }

  /** DWITHIN(property, geometry, distance[, units]) — ECQL; units default to metres. */
  private parseDistancePredicate(op: 'dwithin' | 'beyond'): Filter {
    const fname = this.next();
    this.expectOp('(');
    const { property, other } = this.pairOperands(fname);
    this.expectOp(',');
    const distTok = this.peek();
    const distance = this.parseSignedNumber();
    if (distance < 0) throw new Cql2SyntaxError('distance must not be negative', distTok.pos);
    let units = '';
    if (this.acceptOp(',')) {
      const u = this.peek();
      if (u.type === 'string') {
        this.next();
        units = u.value;
      } else {
        const words: string[] = [];
        while (this.peek().type === 'ident') words.push(this.next().value);
        if (words.length === 0) this.error('expected a unit of measure');
        units = words.join(' ');
      }
      metresPerUnit(units, (m) => this.unsupported(m, u.pos));
    }
    this.expectOp(')');
    const factor = metresPerUnit(units, (m) => this.unsupported(m, distTok.pos));
    const geometry = other.kind === 'bbox' ? this.literal(envelopeToPolygon(other.corners)) : this.literal(other.geojson);
    return { kind: 'distance', op, property, geometry, distanceMetres: distance * factor };
  }

  /** ECQL BBOX(property, minx, miny, maxx, maxy[, 'crs']) — the CRS argument is not supported. */
  private parseBboxPredicate(): Filter {
    const fname = this.next();
    this.expectOp('(');
    const p = this.parseGeomArg();
    if (p.kind !== 'property') this.unsupported('BBOX(…) predicate needs a property name first', fname.pos);
    const nums: number[] = [];
    while (this.acceptOp(',')) {
      if (this.peek().type === 'string') this.unsupported('A CRS argument in BBOX(…) is not supported; use filter-crs', this.peek().pos);
      nums.push(this.parseSignedNumber());
    }
    this.expectOp(')');
    if (nums.length !== 4) throw new Cql2SyntaxError('BBOX predicate needs a property and 4 numbers', fname.pos);
    return {
      kind: 'bbox',
      property: (p as { name: string }).name,
      envelope: this.envelope([this.orient([nums[0]!, nums[1]!]), this.orient([nums[2]!, nums[3]!])]),
    };
  }

  private parseSignedNumber(): number {
    let sign = 1;
    if (this.acceptOp('-')) sign = -1;
    else this.acceptOp('+');
    const t = this.peek();
    if (t.type !== 'number') this.error('expected a number');
    this.next();
    return sign * Number(t.value);
  }

  private parseWkt(): GeoJson {
    const t = this.next();
    const type = WKT_TYPES[t.value.toUpperCase()]!;
    const dimTok = this.peek();
    if (dimTok.type === 'ident') {
      const d = dimTok.value.toUpperCase();
      if (d === 'EMPTY') this.unsupported('EMPTY geometries are not supported', dimTok.pos);
      if (d === 'Z' || d === 'M' || d === 'ZM') this.next();
      if (this.isKw('EMPTY')) this.unsupported('EMPTY geometries are not supported', this.peek().pos);
    }
    switch (type) {
      case 'Point': {
        this.expectOp('(');
        const p = this.parsePoint();
        this.expectOp(')');
        return { type, coordinates: p };
      }
      case 'LineString':
        return { type, coordinates: this.parseLine(2, t) };
      case 'Polygon':
        return { type, coordinates: this.parsePolygonText(t) };
      case 'MultiPoint': {
        this.expectOp('(');
        const pts: Position[] = [];
        do {
          if (this.acceptOp('(')) {
            pts.push(this.parsePoint());
            this.expectOp(')');
          } else pts.push(this.parsePoint());
        } while (this.acceptOp(','));
        this.expectOp(')');
        return { type, coordinates: pts };
      }
      case 'MultiLineString':
        return { type, coordinates: this.parseList(() => this.parseLine(2, t)) };
      case 'MultiPolygon':
        return { type, coordinates: this.parseList(() => this.parsePolygonText(t)) };
      default: {
        this.expectOp('(');
        const geometries: GeoJson[] = [];
        do {
          if (!this.startsWkt()) this.error('expected a WKT geometry');
          geometries.push(this.parseWkt());
        } while (this.acceptOp(','));
        this.expectOp(')');
        return { type, geometries };
      }
    }
  }

  private parseList<T>(item: () => T): T[] {
    this.expectOp('(');
    const out = [item()];
    while (this.acceptOp(',')) out.push(item());
    this.expectOp(')');
    return out;
  }

  /** x y [z [m]] → [x, y] in x/y order. */
  private parsePoint(): Position {
    const x = this.parseSignedNumber();
    const y = this.parseSignedNumber();
    let extra = 0;
    while (this.peek().type === 'number' || ((this.isOp('-') || this.isOp('+')) && this.peek(1).type === 'number')) {
      if (++extra > 2) this.error('too many coordinates in a position');
      this.parseSignedNumber();
    }
    return this.orient([x, y]);
  }

  private parseLine(min: number, typeTok: Token): Position[] {
    const start = this.peek();
    const pts = this.parseList(() => this.parsePoint());
    if (pts.length < min) throw new Cql2SyntaxError(`${typeTok.value} needs at least ${min} positions`, start.pos);
    return pts;
  }

  private parsePolygonText(typeTok: Token): Position[][] {
    return this.parseList(() => {
      const start = this.peek();
      const ring = this.parseLine(4, typeTok);
      const a = ring[0]!;
      const b = ring[ring.length - 1]!;
      if (a[0] !== b[0] || a[1] !== b[1]) throw new Cql2SyntaxError('polygon ring is not closed', start.pos);
      return ring;
    });
  }
}

function unwrapCasei(e: Expression): Expression | undefined {
  return e.kind === 'function' && e.name === 'CASEI' && e.args.length === 1 ? e.args[0] : undefined;
}

function numberValue(text: string): number | string {
  const n = Number(text);
  // Integers beyond 2^53 stay as text so that no digit is lost; the compiler coerces to the column type.
  if (/^-?\d+$/.test(text) && !Number.isSafeInteger(n)) return text;
  return n;
}

/**
 * Parse a CQL2 text filter. Geometry literals are read in `filterCrs` (default CRS84: lon/lat, SRID 4326)
 * and returned in x/y order.
 */
export function parseCql2Text(text: string, filterCrs?: CrsRef): Filter {
  return new Parser(tokenise(text), filterCrs).parseFilter();
}
