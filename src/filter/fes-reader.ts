/**
 * FES 2.0 (`http://www.opengis.net/fes/2.0`) and OGC Filter 1.1 / 1.0 (`http://www.opengis.net/ogc`) XML
 * → filter AST. Operators are matched on namespace URI + local name (CITE binds random prefixes);
 * elements with no namespace at all (namespace-less WFS 1.0 KVP filters) are accepted too.
 *
 * Temporal operators (FES 2.0 §7.9) on a date or timestamp property: After, Before, TEquals, During, Begins, Ends,
 * AnyInteracts with a gml:TimeInstant / gml:TimePeriod operand (or a fes:Literal holding one, or a date text).
 * Not supported (→ InvalidParameterValue, locator FILTER): the other temporal operators, extension operators,
 * spatial operators whose first operand is a function, Literal values holding XML content (except a GML
 * geometry in a spatial operator), distances in angular units.
 */
import type { ComparisonOp, Expression, Filter, SpatialOp, TemporalBound, TemporalOperator } from './ast.js';
import { TEMPORAL_OPERATORS, toSqlLikePattern } from './ast.js';
import { DatetimeError, checkPeriod, parseTimePosition } from './temporal.js';
import { parseXml, XmlInputError, type XmlElement } from '../xml/tree.js';
import { NS } from '../xml/namespaces.js';
import { OgcError } from '../ogc/errors.js';
import { GML_ENVELOPE_NAMES, GML_GEOMETRY_NAMES, readGmlEnvelope, readGmlGeometry } from './gml-geometry-reader.js';

const LOCATOR = 'FILTER';

export interface FesReadOptions {
  /**
   * srsName applied to geometry literals that carry none (e.g. the query's srsName). When absent such
   * literals get no SRID, meaning "the layer's CRS".
   */
  defaultSrsName?: string;
}

function fail(message: string): never {
  throw new OgcError('InvalidParameterValue', message, LOCATOR);
}

const FILTER_NAMESPACES = new Set<string>([NS.fes20, NS.ogc, '']);
const GML_NAMESPACES = new Set<string>([NS.gml32, NS.gml, '']);

const isFilterEl = (el: XmlElement) => FILTER_NAMESPACES.has(el.ns);
const isGeometryEl = (el: XmlElement) =>
  GML_NAMESPACES.has(el.ns) && (GML_GEOMETRY_NAMES.has(el.name) || GML_ENVELOPE_NAMES.has(el.name));
const isEnvelopeEl = (el: XmlElement) => GML_NAMESPACES.has(el.ns) && GML_ENVELOPE_NAMES.has(el.name);

const COMPARISONS: Record<string, ComparisonOp> = {
  PropertyIsEqualTo: '=',
  PropertyIsNotEqualTo: '<>',
  PropertyIsLessThan: '<',
  PropertyIsGreaterThan: '>',
  PropertyIsLessThanOrEqualTo: '<=',
  PropertyIsGreaterThanOrEqualTo: '>=',
};

const SPATIAL: Record<string, SpatialOp> = {
  Intersects: 'intersects',
  Disjoint: 'disjoint',
  Contains: 'contains',
  Within: 'within',
  Touches: 'touches',
  Crosses: 'crosses',
  Overlaps: 'overlaps',
  Equals: 'equals',
};

const TEMPORAL = new Set([
  'After',
  'Before',
  'Begins',
  'BegunBy',
  'TContains',
  'During',
  'EndedBy',
  'Ends',
  'TEquals',
  'Meets',
  'MetBy',
  'TOverlaps',
  'OverlappedBy',
  'AnyInteracts',
]);

const ID_ELEMENTS = new Set(['ResourceId', 'FeatureId', 'GmlObjectId']);
const EXPRESSION_ELEMENTS = new Set(['ValueReference', 'PropertyName', 'Literal', 'Function', 'Add', 'Sub', 'Mul', 'Div']);
const ARITHMETIC: Record<string, '+' | '-' | '*' | '/'> = { Add: '+', Sub: '-', Mul: '*', Div: '/' };

const qname = (el: XmlElement) => (el.prefix ? `${el.prefix}:${el.name}` : el.name);

/** Read a `Filter` element (FES 2.0, Filter 1.1 or 1.0). */
export function readFesFilter(root: XmlElement, options: FesReadOptions = {}): Filter {
  if (root.name !== 'Filter' || !isFilterEl(root)) {
    fail(`Expected a fes:Filter or ogc:Filter element, found ${qname(root)}`);
  }
  checkFilterSize(root);
  const reader = new Reader(options);
  const ops = root.children;
  if (ops.length === 0) fail('The Filter element is empty');
  if (ops.every((c) => isFilterEl(c) && ID_ELEMENTS.has(c.name))) {
    return { kind: 'resourceId', ids: ops.map((c) => reader.readId(c)) };
  }
  if (ops.length !== 1) fail('A Filter must contain exactly one operator (or only resource identifiers)');
  return reader.readOperator(ops[0]!);
}

/** Nesting levels of elements below fes:Filter, and elements in all, one filter may hold (issue 13). */
export const MAX_FILTER_DEPTH = 100;
export const MAX_FILTER_NODES = 10_000;

/**
 * Walk the element tree without recursion before reading it: the reader recurses per operator, so a filter
 * nested thousands of levels deep must be refused here with a 400 rather than overflow the stack.
 */
function checkFilterSize(root: XmlElement): void {
  const stack: Array<[XmlElement, number]> = [[root, 0]];
  let nodes = 0;
  while (stack.length > 0) {
    const [el, depth] = stack.pop()!;
    if (depth > MAX_FILTER_DEPTH) fail(`The filter is nested deeper than ${MAX_FILTER_DEPTH} levels`);
    if (++nodes > MAX_FILTER_NODES) fail(`The filter has more than ${MAX_FILTER_NODES} elements`);
    for (const c of el.children) stack.push([c, depth + 1]);
  }
}

/** Parse the XML text of a filter (the KVP FILTER parameter) and read it. */
export function parseFesFilterText(xml: string, options: FesReadOptions = {}): Filter {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (e) {
    if (e instanceof XmlInputError) throw new OgcError('InvalidParameterValue', `Invalid FILTER: ${e.message}`, LOCATOR);
    throw e;
  }
  return readFesFilter(root, options);
}

/**
 * Parse a KVP FILTER value that may hold one filter per query type in parentheses,
 * `(<Filter>…</Filter>)(<Filter>…</Filter>)`; a bare filter gives a one-element list.
 */
export function parseFesFilterList(text: string, options: FesReadOptions = {}): Filter[] {
  const t = text.trim();
  if (!t.startsWith('(')) return [parseFesFilterText(t, options)];
  if (!t.endsWith(')')) fail('Unbalanced parentheses in the FILTER list');
  return t
    .slice(1, -1)
    .split(/(?<=>)\s*\)\s*\(\s*(?=<)/)
    .map((part) => parseFesFilterText(part, options));
}

const TRAILING_WS = /^\s+|\s+$/g;

/**
 * Properties every feature inherits from gml:AbstractFeatureType (ISO 19136 §9.3; WFS 2.0 §7.9.2.4.1 lets
 * value references name them): kept with their `gml:` prefix so that they never meet a layer's own column of the
 * same local name. `@gml:id` is the feature's id attribute.
 */
export const GML_FEATURE_PROPERTIES = ['gml:id', 'gml:name', 'gml:description', 'gml:identifier', 'gml:boundedBy'] as const;
const GML_STEP = /^@?gml:(id|name|description|identifier|boundedBy)$/;

/** Property name as written in ValueReference / PropertyName, prefixes and trivial XPath forms removed. */
export function normalisePropertyName(text: string): string {
  let t = text.replace(TRAILING_WS, '');
  if (t.startsWith('./')) t = t.slice(2);
  else if (t.startsWith('/') && !t.startsWith('//')) t = t.slice(1);
  const gml = GML_STEP.exec(t);
  if (gml && (gml[1] === 'id') === t.startsWith('@')) return `gml:${gml[1]}`;
  const steps = t.split('/').map((step) => {
    let s = step.trim();
    if (s.startsWith('@')) s = s.slice(1);
    const bracket = s.indexOf('[');
    const head = bracket >= 0 ? s.slice(0, bracket) : s;
    const colon = head.lastIndexOf(':');
    return colon >= 0 ? s.slice(colon + 1) : s;
  });
  const name = steps.join('/');
  if (name === '' || steps.some((s) => s === '')) fail(`Invalid property name "${text}"`);
  return name;
}

function parseBool(raw: string | undefined, dflt: boolean, what: string): boolean {
  if (raw === undefined) return dflt;
  const v = raw.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return fail(`Invalid ${what} value "${raw}" (true or false expected)`);
}

/** Metres per unit, by lower-cased name or EPSG unit code. */
const UNITS: Record<string, number> = {
  m: 1,
  metre: 1,
  meter: 1,
  metres: 1,
  meters: 1,
  '9001': 1,
  km: 1000,
  kilometre: 1000,
  kilometer: 1000,
  kilometres: 1000,
  kilometers: 1000,
  '9036': 1000,
  cm: 0.01,
  centimetre: 0.01,
  centimeter: 0.01,
  mm: 0.001,
  millimetre: 0.001,
  millimeter: 0.001,
  ft: 0.3048,
  foot: 0.3048,
  feet: 0.3048,
  '9002': 0.3048,
  'us-ft': 1200 / 3937,
  us_survey_foot: 1200 / 3937,
  '9003': 1200 / 3937,
  yd: 0.9144,
  yard: 0.9144,
  yards: 0.9144,
  '9096': 0.9144,
  in: 0.0254,
  inch: 0.0254,
  inches: 0.0254,
  mi: 1609.344,
  mile: 1609.344,
  miles: 1609.344,
  'statute mile': 1609.344,
  'statute miles': 1609.344,
  '9093': 1609.344,
  nmi: 1852,
  'nautical mile': 1852,
  'nautical miles': 1852,
  nautical_mile: 1852,
  '9030': 1852,
};

const ANGULAR = new Set(['deg', 'degree', 'degrees', 'rad', 'radian', 'radians', '9102', '9101', '9122']);

/** Metres per unit for a FES `uom` / Filter 1.x `units` value; empty means metres. */
export function metresPerUnit(uom: string | undefined, fail_: (m: string) => never = fail): number {
  const raw = (uom ?? '').trim();
  if (raw === '') return 1;
  let key = raw.toLowerCase();
  if (!(key in UNITS)) {
    // urn:ogc:def:uom:EPSG::9001, http://www.opengis.net/def/uom/EPSG/0/9001, EPSG:9001,
    // urn:ogc:def:uom:OGC:1.0:metre, http://www.opengis.net/def/uom/UCUM/0/km …: the last segment names it.
    const m = /[:/#]([^:/#]+)$/.exec(key);
    if (m) key = m[1]!;
  }
  const f = UNITS[key];
  if (f !== undefined) return f;
  if (ANGULAR.has(key)) return fail_(`Distances in angular units ("${raw}") are not supported; use a linear unit such as m`);
  return fail_(`Unknown unit of measure "${raw}"`);
}

class Reader {
  constructor(private readonly options: FesReadOptions) {}

  readId(el: XmlElement): string {
    const id = el.name === 'ResourceId' ? el.attrs['rid'] : el.name === 'FeatureId' ? el.attrs['fid'] : el.attrs['id'];
    if (id === undefined || id.trim() === '') fail(`${qname(el)} has no identifier attribute`);
    return id!.trim();
  }

  readOperator(el: XmlElement): Filter {
    if (!isFilterEl(el)) fail(`Unsupported filter operator ${qname(el)}`);
    const name = el.name;
    if (name === 'And' || name === 'Or') {
      if (el.children.length === 0) fail(`${qname(el)} needs at least one operand`);
      return { kind: name === 'And' ? 'and' : 'or', operands: el.children.map((c) => this.readOperator(c)) };
    }
    if (name === 'Not') {
      if (el.children.length !== 1) fail(`${qname(el)} needs exactly one operand`);
      return { kind: 'not', operand: this.readOperator(el.children[0]!) };
    }
    const cmp = COMPARISONS[name];
    if (cmp) return this.readComparison(el, cmp);
    if (name === 'PropertyIsLike') return this.readLike(el);
    if (name === 'PropertyIsNull' || name === 'PropertyIsNil') {
      const ops = this.expressionChildren(el);
      if (ops.length !== 1) fail(`${qname(el)} needs exactly one expression`);
      return { kind: 'isNull', expr: ops[0]! };
    }
    if (name === 'PropertyIsBetween') return this.readBetween(el);
    if (name === 'BBOX') return this.readBbox(el);
    const sp = SPATIAL[name];
    if (sp) {
      const { property, geometry } = this.spatialOperands(el, false);
      if (!geometry) fail(`${qname(el)} needs a GML geometry operand`);
      const f: Filter = { kind: 'spatial', op: sp, geometry: readGmlGeometry(geometry!, this.options.defaultSrsName, LOCATOR) };
      if (property !== undefined) f.property = property;
      return f;
    }
    if (name === 'DWithin' || name === 'Beyond') return this.readDistance(el, name === 'DWithin' ? 'dwithin' : 'beyond');
    if (ID_ELEMENTS.has(name)) return { kind: 'resourceId', ids: [this.readId(el)] };
    if ((TEMPORAL_OPERATORS as readonly string[]).includes(name)) return this.readTemporal(el, name as TemporalOperator);
    if (TEMPORAL.has(name)) fail(`Temporal operator ${name} is not supported (it needs a period-valued property)`);
    return fail(`Unsupported filter operator ${qname(el)}`);
  }

  /** A temporal operator: a ValueReference and a time literal (gml:TimeInstant, gml:TimePeriod, fes:Literal). */
  readTemporal(el: XmlElement, op: TemporalOperator): Filter {
    if (el.children.length !== 2) fail(`${qname(el)} needs a ValueReference and a time literal`);
    const ref = el.children.find((c) => isFilterEl(c) && (c.name === 'ValueReference' || c.name === 'PropertyName'));
    const lit = el.children.find((c) => c !== ref);
    if (!ref || !lit) fail(`${qname(el)} needs a ValueReference and a time literal`);
    const property = normalisePropertyName(ref!.text);
    const { begin, end } = this.readTimeLiteral(lit!);
    if (op === 'TEquals' && begin !== end) fail(`${qname(el)} compares an instant property with a gml:TimeInstant`);
    return { kind: 'timeOp', op, property, begin, end };
  }

  readTimeLiteral(el: XmlElement): { begin: TemporalBound; end: TemporalBound } {
    const position = (text: string, what: string): TemporalBound => {
      try {
        return parseTimePosition(text);
      } catch (e) {
        if (e instanceof DatetimeError) fail(`Invalid ${what}: ${e.message}`);
        throw e;
      }
    };
    const instantOf = (inst: XmlElement): TemporalBound => {
      const tp = inst.children.find((c) => GML_NAMESPACES.has(c.ns) && c.name === 'timePosition');
      if (!tp) fail('gml:TimeInstant needs a gml:timePosition');
      return position(tp!.text, 'gml:timePosition');
    };
    if (isFilterEl(el) && el.name === 'Literal') {
      if (el.children.length === 0) {
        const b = position(el.text, 'time literal');
        return { begin: b, end: b };
      }
      if (el.children.length !== 1) fail('A time Literal holds one gml:TimeInstant or gml:TimePeriod');
      return this.readTimeLiteral(el.children[0]!);
    }
    if (!GML_NAMESPACES.has(el.ns)) fail(`Unsupported time literal ${qname(el)}`);
    if (el.name === 'TimeInstant') {
      const b = instantOf(el);
      return { begin: b, end: b };
    }
    if (el.name === 'TimePeriod') {
      const endOf = (posName: string, wrapName: string): TemporalBound => {
        const pos = el.children.find((c) => GML_NAMESPACES.has(c.ns) && c.name === posName);
        if (pos) return position(pos.text, `gml:${posName}`);
        const wrap = el.children.find((c) => GML_NAMESPACES.has(c.ns) && c.name === wrapName);
        const inst = wrap?.children.find((c) => GML_NAMESPACES.has(c.ns) && c.name === 'TimeInstant');
        if (!inst) fail(`gml:TimePeriod needs a gml:${posName} (or gml:${wrapName}/gml:TimeInstant)`);
        return instantOf(inst!);
      };
      const begin = endOf('beginPosition', 'begin');
      const end = endOf('endPosition', 'end');
      try {
        checkPeriod(begin, end);
      } catch (e) {
        if (e instanceof DatetimeError) fail(`Invalid gml:TimePeriod: ${e.message}`);
        throw e;
      }
      return { begin, end };
    }
    return fail(`Unsupported time literal ${qname(el)} (gml:TimeInstant or gml:TimePeriod expected)`);
  }

  readExpression(el: XmlElement): Expression {
    if (!isFilterEl(el) || !EXPRESSION_ELEMENTS.has(el.name)) fail(`Unsupported expression ${qname(el)}`);
    switch (el.name) {
      case 'ValueReference':
      case 'PropertyName':
        if (el.children.length) fail(`${qname(el)} must hold text only`);
        return { kind: 'property', name: normalisePropertyName(el.text) };
      case 'Literal':
        // A literal holding XML (a gml:Envelope compared with gml:boundedBy, as the OGC suite sends) is well formed
        // but cannot be evaluated as a value: ISO 19142 §11.4 / Table 3 OperationProcessingFailed, not a bad parameter.
        if (el.children.length) throw new OgcError('OperationProcessingFailed', `${qname(el)} with XML content cannot be evaluated as a value here`, LOCATOR, 400);
        return { kind: 'literal', value: el.text };
      case 'Function': {
        const fname = (el.attrs['name'] ?? '').trim();
        if (!fname) fail(`${qname(el)} has no name`);
        const args = el.children.map((c) => this.readExpression(c));
        const arith = ARITHMETIC[fname];
        if (arith && args.length === 2) return { kind: 'arithmetic', op: arith, left: args[0]!, right: args[1]! };
        return { kind: 'function', name: fname, args };
      }
      default: {
        const op = ARITHMETIC[el.name]!;
        if (el.children.length !== 2) fail(`${qname(el)} needs exactly two operands`);
        return { kind: 'arithmetic', op, left: this.readExpression(el.children[0]!), right: this.readExpression(el.children[1]!) };
      }
    }
  }

  private expressionChildren(el: XmlElement): Expression[] {
    return el.children.map((c) => this.readExpression(c));
  }

  private readComparison(el: XmlElement, op: ComparisonOp): Filter {
    const ops = this.expressionChildren(el);
    if (ops.length !== 2) fail(`${qname(el)} needs exactly two expressions`);
    return { kind: 'compare', op, left: ops[0]!, right: ops[1]!, matchCase: parseBool(el.attrs['matchCase'], true, 'matchCase') };
  }

  private readLike(el: XmlElement): Filter {
    const wildCard = el.attrs['wildCard'];
    const singleChar = el.attrs['singleChar'];
    const escape = el.attrs['escapeChar'] ?? el.attrs['escape'] ?? '';
    if (wildCard === undefined || singleChar === undefined) fail(`${qname(el)} requires the wildCard and singleChar attributes`);
    if (wildCard!.length !== 1 || singleChar!.length !== 1 || escape.length > 1) {
      fail(`${qname(el)} wildCard, singleChar and escapeChar must be single characters`);
    }
    if (wildCard === singleChar || (escape !== '' && (escape === wildCard || escape === singleChar))) {
      fail(`${qname(el)} wildCard, singleChar and escapeChar must differ`);
    }
    const literals = el.children.filter((c) => isFilterEl(c) && c.name === 'Literal');
    const others = el.children.filter((c) => !(isFilterEl(c) && c.name === 'Literal'));
    if (el.children.length !== 2 || literals.length < 1) fail(`${qname(el)} needs an expression and a Literal pattern`);
    // With two Literals, the first is the value and the second the pattern.
    const patternEl = others.length === 0 ? literals[1]! : literals[0]!;
    const exprEl = others.length === 0 ? literals[0]! : others[0]!;
    if (patternEl.children.length) fail(`${qname(el)} pattern must be text`);
    return {
      kind: 'like',
      expr: this.readExpression(exprEl),
      pattern: toSqlLikePattern(patternEl.text, wildCard!, singleChar!, escape),
      matchCase: parseBool(el.attrs['matchCase'], true, 'matchCase'),
    };
  }

  private readBetween(el: XmlElement): Filter {
    let expr: Expression | undefined;
    let lower: Expression | undefined;
    let upper: Expression | undefined;
    const boundary = (b: XmlElement): Expression => {
      if (b.children.length !== 1) fail(`${qname(b)} needs exactly one expression`);
      return this.readExpression(b.children[0]!);
    };
    for (const c of el.children) {
      if (isFilterEl(c) && c.name === 'LowerBoundary') {
        if (lower) fail(`${qname(el)} has two LowerBoundary elements`);
        lower = boundary(c);
      } else if (isFilterEl(c) && c.name === 'UpperBoundary') {
        if (upper) fail(`${qname(el)} has two UpperBoundary elements`);
        upper = boundary(c);
      } else {
        if (expr) fail(`${qname(el)} has more than one expression`);
        expr = this.readExpression(c);
      }
    }
    if (!expr || !lower || !upper) fail(`${qname(el)} needs an expression, a LowerBoundary and an UpperBoundary`);
    return { kind: 'between', expr: expr!, lower: lower!, upper: upper! };
  }

  /** Split the operands of a spatial operator: optional property, geometry, and (for distance ops) Distance. */
  private spatialOperands(el: XmlElement, withDistance: boolean): { property?: string; geometry?: XmlElement; distance?: XmlElement } {
    const out: { property?: string; geometry?: XmlElement; distance?: XmlElement } = {};
    for (const c of el.children) {
      if (isFilterEl(c) && (c.name === 'ValueReference' || c.name === 'PropertyName')) {
        if (out.property !== undefined) fail(`${qname(el)} comparing two properties is not supported`);
        const e = this.readExpression(c);
        out.property = (e as { name: string }).name;
      } else if (isGeometryEl(c)) {
        if (out.geometry) fail(`${qname(el)} has more than one geometry`);
        out.geometry = c;
      } else if (isFilterEl(c) && c.name === 'Literal' && c.children.length === 1 && isGeometryEl(c.children[0]!)) {
        if (out.geometry) fail(`${qname(el)} has more than one geometry`);
        out.geometry = c.children[0]!;
      } else if (withDistance && isFilterEl(c) && c.name === 'Distance') {
        if (out.distance) fail(`${qname(el)} has more than one Distance`);
        out.distance = c;
      } else if (isFilterEl(c) && EXPRESSION_ELEMENTS.has(c.name)) {
        fail(`${qname(el)} with a ${c.name} operand is not supported (a property name and a GML geometry are expected)`);
      } else {
        fail(`Unexpected ${qname(c)} in ${qname(el)}`);
      }
    }
    return out;
  }

  private readBbox(el: XmlElement): Filter {
    const { property, geometry } = this.spatialOperands(el, false);
    if (!geometry || !isEnvelopeEl(geometry)) fail(`${qname(el)} needs a gml:Envelope (or gml:Box)`);
    const f: Filter = { kind: 'bbox', envelope: readGmlEnvelope(geometry!, this.options.defaultSrsName, LOCATOR) };
    if (property !== undefined) f.property = property;
    return f;
  }

  private readDistance(el: XmlElement, op: 'dwithin' | 'beyond'): Filter {
    const { property, geometry, distance } = this.spatialOperands(el, true);
    if (!geometry) fail(`${qname(el)} needs a GML geometry operand`);
    if (!distance) fail(`${qname(el)} needs a Distance`);
    const text = distance!.text.trim();
    const value = Number(text);
    if (text === '' || !Number.isFinite(value) || value < 0) fail(`Invalid Distance "${distance!.text}" in ${qname(el)}`);
    const factor = metresPerUnit(distance!.attrs['uom'] ?? distance!.attrs['units']);
    const f: Filter = {
      kind: 'distance',
      op,
      geometry: readGmlGeometry(geometry!, this.options.defaultSrsName, LOCATOR),
      distanceMetres: value * factor,
    };
    if (property !== undefined) f.property = property;
    return f;
  }
}
