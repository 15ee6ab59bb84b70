/**
 * The filter AST shared by every filter language (FES 2.0 / Filter 1.1 / 1.0 XML, CQL2 text, OGC API
 * simple filters) and compiled to parameterised SQL by `compile-sql.ts`. Readers never produce SQL;
 * the compiler never sees protocol syntax.
 */

/** A geometry literal, already in x/y (easting/northing, lon/lat) order, with the SRID it is expressed in. */
export interface GeometryLiteral {
  /** GeoJSON geometry object (RFC 7946 shape, but coordinates in `srid`, x first). */
  geojson: { type: string; coordinates?: unknown; geometries?: unknown[] };
  /** EPSG code; undefined means "the layer's own CRS" (no srsName on the literal and none implied). */
  srid?: number;
}

export interface Envelope {
  minx: number;
  miny: number;
  maxx: number;
  maxy: number;
  /** EPSG code; undefined = the layer's CRS. Corners already in x/y order. */
  srid?: number;
}

export type Expression =
  | { kind: 'property'; name: string }
  | { kind: 'literal'; value: string | number | boolean | null }
  | { kind: 'function'; name: string; args: Expression[] }
  | { kind: 'arithmetic'; op: '+' | '-' | '*' | '/'; left: Expression; right: Expression };

export type ComparisonOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

export type SpatialOp =
  | 'intersects'
  | 'disjoint'
  | 'contains'
  | 'within'
  | 'touches'
  | 'crosses'
  | 'overlaps'
  | 'equals';

/**
 * One end of a temporal interval, validated by `src/filter/temporal.ts`: an RFC 3339 full-date (`2018-02-12`,
 * the whole UTC day) or date-time with its offset (`2018-02-12T23:20:50Z`, `…+01:00`).
 */
export type TemporalBound = { date: string } | { instant: string };

/**
 * The FES 2.0 temporal operators evaluated on an instant-valued property (a date or timestamp column): those
 * ISO 19108 defines between an instant and an instant or period. BegunBy, TContains, EndedBy, TOverlaps,
 * Meets, MetBy and OverlappedBy need a period-valued property and are refused.
 */
export const TEMPORAL_OPERATORS = ['After', 'Before', 'TEquals', 'During', 'Begins', 'Ends', 'AnyInteracts'] as const;
export type TemporalOperator = (typeof TEMPORAL_OPERATORS)[number];

export type Filter =
  | { kind: 'and'; operands: Filter[] }
  | { kind: 'or'; operands: Filter[] }
  | { kind: 'not'; operand: Filter }
  | { kind: 'compare'; op: ComparisonOp; left: Expression; right: Expression; matchCase: boolean }
  | {
      kind: 'like';
      expr: Expression;
      /** Pattern already translated to SQL LIKE syntax (% and _ wildcards, backslash escape). */
      pattern: string;
      matchCase: boolean;
    }
  | { kind: 'isNull'; expr: Expression }
  | { kind: 'between'; expr: Expression; lower: Expression; upper: Expression }
  | { kind: 'in'; expr: Expression; values: Expression[] }
  /** BBOX: property may be omitted (then the layer's default geometry). */
  /**
   * BBOX: property may be omitted (then the layer's default geometry). `boxOnly`: the index test alone (the
   * features' boxes meet the envelope) — for maps and tiles, which clip what they draw to their box anyway, so
   * the exact ST_Intersects would only cost (149,000 parcels of a 50 km map: 0.87 s of 2.3 s of query time).
   */
  | { kind: 'bbox'; property?: string; envelope: Envelope; boxOnly?: boolean }
  | { kind: 'spatial'; op: SpatialOp; property?: string; geometry: GeometryLiteral }
  | {
      kind: 'distance';
      op: 'dwithin' | 'beyond';
      property?: string;
      geometry: GeometryLiteral;
      /** Distance converted to metres by the reader (units given in the request). */
      distanceMetres: number;
    }
  | { kind: 'resourceId'; ids: string[] }
  /**
   * The layer's declared temporal property intersects [start, end] (both ends included; a missing end is open).
   * OGC API Features `datetime`; semantics in src/filter/temporal.ts.
   */
  | { kind: 'temporal'; start?: TemporalBound; end?: TemporalBound }
  /**
   * FES 2.0 §7.9 temporal operator between a date or timestamp property and a gml:TimeInstant (begin = end)
   * or gml:TimePeriod literal; semantics in src/filter/temporal.ts.
   */
  | { kind: 'timeOp'; op: TemporalOperator; property: string; begin: TemporalBound; end: TemporalBound }
  /**
   * CQL2 array predicate (OGC 21-065 requirements class /req/array-functions: A_EQUALS, A_CONTAINS, A_CONTAINEDBY, A_OVERLAPS)
   * between an array-valued property and a list of literals, the property first (the readers turn
   * A_CONTAINS(list, property) into A_CONTAINEDBY(property, list)). The arrays are compared as sets.
   */
  | { kind: 'array'; op: ArrayOperator; property: string; values: Expression[] }
  | { kind: 'include' }
  | { kind: 'exclude' };

export const ARRAY_OPERATORS = ['equals', 'contains', 'containedBy', 'overlaps'] as const;
export type ArrayOperator = (typeof ARRAY_OPERATORS)[number];

/** Convert a FES/CQL LIKE pattern with custom wildcard characters to a SQL LIKE pattern (escape `\`). */
export function toSqlLikePattern(pattern: string, wildCard: string, singleChar: string, escapeChar: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (escapeChar && c === escapeChar && i + 1 < pattern.length) {
      const next = pattern[++i]!;
      out += next === '%' || next === '_' || next === '\\' ? '\\' + next : next;
    } else if (c === wildCard) out += '%';
    else if (c === singleChar) out += '_';
    else if (c === '%' || c === '_' || c === '\\') out += '\\' + c;
    else out += c;
  }
  return out;
}

/**
 * The filter with every property name it uses passed through `rename` (comparisons, functions' arguments,
 * arithmetic, spatial, temporal and array operators; a spatial operator's absent property stays absent): the one
 * walk of the AST for the protocol adapters that map their names onto another set of queryables (OGC API –
 * Records onto the catalogue's) or check the names a request uses (a CSW profile).
 */
export function mapFilterProperties(f: Filter, rename: (name: string) => string): Filter {
  const expr = (e: Expression): Expression => {
    switch (e.kind) {
      case 'property':
        return { kind: 'property', name: rename(e.name) };
      case 'function':
        return { ...e, args: e.args.map(expr) };
      case 'arithmetic':
        return { ...e, left: expr(e.left), right: expr(e.right) };
      default:
        return e;
    }
  };
  const walk = (g: Filter): Filter => {
    switch (g.kind) {
      case 'and':
      case 'or':
        return { kind: g.kind, operands: g.operands.map(walk) };
      case 'not':
        return { kind: 'not', operand: walk(g.operand) };
      case 'compare':
        return { ...g, left: expr(g.left), right: expr(g.right) };
      case 'like':
      case 'isNull':
        return { ...g, expr: expr(g.expr) };
      case 'between':
        return { ...g, expr: expr(g.expr), lower: expr(g.lower), upper: expr(g.upper) };
      case 'in':
        return { ...g, expr: expr(g.expr), values: g.values.map(expr) };
      case 'bbox':
      case 'spatial':
      case 'distance':
        return g.property === undefined ? g : { ...g, property: rename(g.property) };
      case 'timeOp':
        return { ...g, property: rename(g.property) };
      case 'array':
        return { ...g, property: rename(g.property), values: g.values.map(expr) };
      default:
        return g;
    }
  };
  return walk(f);
}
