import { describe, expect, test } from 'vitest';
import { parseCql2Text } from '../../src/filter/cql2-text-reader.js';
import { crsRef, parseCrs } from '../../src/crs/identifiers.js';
import { OgcError } from '../../src/ogc/errors.js';
import type { Expression, Filter } from '../../src/filter/ast.js';
import { preloadTestCrs } from './preload-crs.js';

preloadTestCrs();

const prop = (name: string): Expression => ({ kind: 'property', name });
const lit = (value: string | number | boolean | null): Expression => ({ kind: 'literal', value });
const cmp = (left: Expression, op: '=' | '<>' | '<' | '<=' | '>' | '>=', right: Expression, matchCase = true): Filter => ({
  kind: 'compare',
  op,
  left,
  right,
  matchCase,
});

function errorOf(fn: () => unknown): OgcError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OgcError);
    return e as OgcError;
  }
  throw new Error('expected an OgcError, nothing was thrown');
}

describe('CQL2 comparisons and logic', () => {
  test.each<[string, Filter]>([
    ["name = 'Paris'", cmp(prop('name'), '=', lit('Paris'))],
    ['pop > 1000', cmp(prop('pop'), '>', lit(1000))],
    ['pop >= -2.5e3', cmp(prop('pop'), '>=', lit(-2500))],
    ['pop <> 0', cmp(prop('pop'), '<>', lit(0))],
    ['pop != 0', cmp(prop('pop'), '<>', lit(0))],
    ['pop <= .5', cmp(prop('pop'), '<=', lit(0.5))],
    ['10 < pop', cmp(lit(10), '<', prop('pop'))],
    ['"nom commune" = \'L\'\'Haÿ-les-Roses\'', cmp(prop('nom commune'), '=', lit("L'Haÿ-les-Roses"))],
    ['"a""b" = 1', cmp(prop('a"b'), '=', lit(1))],
    ['flag = TRUE', cmp(prop('flag'), '=', lit(true))],
    ['flag = false', cmp(prop('flag'), '=', lit(false))],
    ["d = DATE('2024-05-02')", cmp(prop('d'), '=', lit('2024-05-02'))],
    ["t > TIMESTAMP('2024-05-02T10:00:00Z')", cmp(prop('t'), '>', lit('2024-05-02T10:00:00Z'))],
    ['id = 123456789012345678901', cmp(prop('id'), '=', lit('123456789012345678901'))],
    ['sdi:code = 1', cmp(prop('sdi:code'), '=', lit(1))],
    ['a.b = 1', cmp(prop('a.b'), '=', lit(1))],
  ])('%s', (text, ast) => {
    expect(parseCql2Text(text)).toEqual(ast);
  });

  test('AND binds tighter than OR; NOT; parentheses', () => {
    expect(parseCql2Text("a = 1 OR b = 2 AND NOT c = 3")).toEqual({
      kind: 'or',
      operands: [cmp(prop('a'), '=', lit(1)), { kind: 'and', operands: [cmp(prop('b'), '=', lit(2)), { kind: 'not', operand: cmp(prop('c'), '=', lit(3)) }] }],
    });
    expect(parseCql2Text('(a = 1 or b = 2) and c = 3')).toEqual({
      kind: 'and',
      operands: [{ kind: 'or', operands: [cmp(prop('a'), '=', lit(1)), cmp(prop('b'), '=', lit(2))] }, cmp(prop('c'), '=', lit(3))],
    });
    expect(parseCql2Text('a = 1 AND b = 2 AND c = 3')).toEqual({
      kind: 'and',
      operands: [cmp(prop('a'), '=', lit(1)), cmp(prop('b'), '=', lit(2)), cmp(prop('c'), '=', lit(3))],
    });
  });

  test('arithmetic with precedence and parenthesised operands', () => {
    expect(parseCql2Text('(a + 1) * 2 > b - c / 4')).toEqual(
      cmp(
        { kind: 'arithmetic', op: '*', left: { kind: 'arithmetic', op: '+', left: prop('a'), right: lit(1) }, right: lit(2) },
        '>',
        { kind: 'arithmetic', op: '-', left: prop('b'), right: { kind: 'arithmetic', op: '/', left: prop('c'), right: lit(4) } },
      ),
    );
    expect(parseCql2Text('((a + 1)) = 2 AND ((b = 3))')).toEqual({
      kind: 'and',
      operands: [cmp({ kind: 'arithmetic', op: '+', left: prop('a'), right: lit(1) }, '=', lit(2)), cmp(prop('b'), '=', lit(3))],
    });
  });

  test('functions', () => {
    expect(parseCql2Text("upper(name) = 'X'")).toEqual(cmp({ kind: 'function', name: 'upper', args: [prop('name')] }, '=', lit('X')));
    expect(parseCql2Text('now() > 0')).toEqual(cmp({ kind: 'function', name: 'now', args: [] }, '>', lit(0)));
    expect(parseCql2Text('isValid(geom)')).toEqual(cmp({ kind: 'function', name: 'isValid', args: [prop('geom')] }, '=', lit(true)));
  });

  test('CASEI on both sides → matchCase false', () => {
    expect(parseCql2Text("CASEI(name) = casei('PARIS')")).toEqual(cmp(prop('name'), '=', lit('PARIS'), false));
  });

  test('LIKE, NOT LIKE, ILIKE, CASEI pattern', () => {
    expect(parseCql2Text("name LIKE 'Par%_\\%'")).toEqual({ kind: 'like', expr: prop('name'), pattern: 'Par%_\\%', matchCase: true });
    expect(parseCql2Text("name NOT LIKE 'a%'")).toEqual({ kind: 'not', operand: { kind: 'like', expr: prop('name'), pattern: 'a%', matchCase: true } });
    expect(parseCql2Text("name ILIKE 'a%'")).toEqual({ kind: 'like', expr: prop('name'), pattern: 'a%', matchCase: false });
    expect(parseCql2Text("CASEI(name) LIKE CASEI('a%')")).toEqual({ kind: 'like', expr: prop('name'), pattern: 'a%', matchCase: false });
  });

  test('BETWEEN, NOT BETWEEN', () => {
    expect(parseCql2Text('pop BETWEEN 10 AND 20 AND x = 1')).toEqual({
      kind: 'and',
      operands: [{ kind: 'between', expr: prop('pop'), lower: lit(10), upper: lit(20) }, cmp(prop('x'), '=', lit(1))],
    });
    expect(parseCql2Text('pop NOT BETWEEN 10 AND 20')).toEqual({
      kind: 'not',
      operand: { kind: 'between', expr: prop('pop'), lower: lit(10), upper: lit(20) },
    });
  });

  test('IN, NOT IN', () => {
    expect(parseCql2Text("dep IN ('75', '92', 93)")).toEqual({ kind: 'in', expr: prop('dep'), values: [lit('75'), lit('92'), lit(93)] });
    expect(parseCql2Text("dep NOT IN ('75')")).toEqual({ kind: 'not', operand: { kind: 'in', expr: prop('dep'), values: [lit('75')] } });
  });

  test('IS NULL, IS NOT NULL', () => {
    expect(parseCql2Text('x IS NULL')).toEqual({ kind: 'isNull', expr: prop('x') });
    expect(parseCql2Text('x is not null')).toEqual({ kind: 'not', operand: { kind: 'isNull', expr: prop('x') } });
  });

  test('TRUE / FALSE / INCLUDE / EXCLUDE as whole filters', () => {
    expect(parseCql2Text('TRUE')).toEqual({ kind: 'include' });
    expect(parseCql2Text('false')).toEqual({ kind: 'exclude' });
    expect(parseCql2Text('INCLUDE')).toEqual({ kind: 'include' });
    expect(parseCql2Text('NOT EXCLUDE')).toEqual({ kind: 'not', operand: { kind: 'exclude' } });
  });
});

describe('CQL2 spatial', () => {
  test('S_INTERSECTS with a POINT in the default CRS84 (srid 4326, lon/lat)', () => {
    expect(parseCql2Text('S_INTERSECTS(geom, POINT(2.35 48.85))')).toEqual({
      kind: 'spatial',
      op: 'intersects',
      property: 'geom',
      geometry: { geojson: { type: 'Point', coordinates: [2.35, 48.85] }, srid: 4326 },
    });
  });

  test('S_INTERSECTS with BBOX → bbox filter', () => {
    expect(parseCql2Text('S_INTERSECTS(geom, BBOX(-1.5, 40, 3, 50.25))')).toEqual({
      kind: 'bbox',
      property: 'geom',
      envelope: { minx: -1.5, miny: 40, maxx: 3, maxy: 50.25, srid: 4326 },
    });
    expect(parseCql2Text('S_INTERSECTS(geom, BBOX(0, 1, -10, 2, 3, 10))')).toEqual({
      kind: 'bbox',
      property: 'geom',
      envelope: { minx: 0, miny: 1, maxx: 2, maxy: 3, srid: 4326 },
    });
  });

  test('S_WITHIN with BBOX → polygon', () => {
    expect(parseCql2Text('s_within(geom, bbox(0,0,1,2))')).toEqual({
      kind: 'spatial',
      op: 'within',
      property: 'geom',
      geometry: {
        geojson: {
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              [1, 0],
              [1, 2],
              [0, 2],
              [0, 0],
            ],
          ],
        },
        srid: 4326,
      },
    });
  });

  test('literal first: S_CONTAINS(literal, prop) → within, S_WITHIN(literal, prop) → contains', () => {
    const poly = 'POLYGON((0 0, 1 0, 1 1, 0 0))';
    const geometry = {
      geojson: {
        type: 'Polygon',
        coordinates: [
          [
            [0, 0],
            [1, 0],
            [1, 1],
            [0, 0],
          ],
        ],
      },
      srid: 4326,
    };
    expect(parseCql2Text(`S_CONTAINS(${poly}, geom)`)).toEqual({ kind: 'spatial', op: 'within', property: 'geom', geometry });
    expect(parseCql2Text(`S_WITHIN(${poly}, "geom")`)).toEqual({ kind: 'spatial', op: 'contains', property: 'geom', geometry });
    expect(parseCql2Text(`S_TOUCHES(${poly}, geom)`)).toEqual({ kind: 'spatial', op: 'touches', property: 'geom', geometry });
  });

  test.each([
    ['S_DISJOINT', 'disjoint'],
    ['S_EQUALS', 'equals'],
    ['S_TOUCHES', 'touches'],
    ['S_CROSSES', 'crosses'],
    ['S_OVERLAPS', 'overlaps'],
    ['INTERSECTS', 'intersects'],
    ['WITHIN', 'within'],
    ['CONTAINS', 'contains'],
    ['DISJOINT', 'disjoint'],
    ['EQUALS', 'equals'],
    ['TOUCHES', 'touches'],
    ['CROSSES', 'crosses'],
    ['OVERLAPS', 'overlaps'],
  ])('%s', (fn, op) => {
    expect(parseCql2Text(`${fn}(geom, LINESTRING(0 0, 1 1, 2 0))`)).toEqual({
      kind: 'spatial',
      op,
      property: 'geom',
      geometry: {
        geojson: {
          type: 'LineString',
          coordinates: [
            [0, 0],
            [1, 1],
            [2, 0],
          ],
        },
        srid: 4326,
      },
    });
  });

  test('WKT: POINT Z, POLYGON with hole, MULTIPOINT both forms, MULTILINESTRING, MULTIPOLYGON, GEOMETRYCOLLECTION', () => {
    const g = (text: string) => (parseCql2Text(`S_INTERSECTS(geom, ${text})`) as { geometry: { geojson: unknown } }).geometry.geojson;
    expect(g('POINT Z (1 2 3)')).toEqual({ type: 'Point', coordinates: [1, 2] });
    expect(g('POLYGON((0 0,10 0,10 10,0 0),(1 1,2 1,2 2,1 1))')).toEqual({
      type: 'Polygon',
      coordinates: [
        [
          [0, 0],
          [10, 0],
          [10, 10],
          [0, 0],
        ],
        [
          [1, 1],
          [2, 1],
          [2, 2],
          [1, 1],
        ],
      ],
    });
    expect(g('MULTIPOINT((1 2),(3 4))')).toEqual({
      type: 'MultiPoint',
      coordinates: [
        [1, 2],
        [3, 4],
      ],
    });
    expect(g('MULTIPOINT(1 2, -3 -4)')).toEqual({
      type: 'MultiPoint',
      coordinates: [
        [1, 2],
        [-3, -4],
      ],
    });
    expect(g('MULTILINESTRING((0 0,1 1),(2 2,3 3))')).toEqual({
      type: 'MultiLineString',
      coordinates: [
        [
          [0, 0],
          [1, 1],
        ],
        [
          [2, 2],
          [3, 3],
        ],
      ],
    });
    expect(g('MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))')).toEqual({
      type: 'MultiPolygon',
      coordinates: [
        [
          [
            [0, 0],
            [1, 0],
            [1, 1],
            [0, 0],
          ],
        ],
        [
          [
            [5, 5],
            [6, 5],
            [6, 6],
            [5, 5],
          ],
        ],
      ],
    });
    expect(g('GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 1 1))')).toEqual({
      type: 'GeometryCollection',
      geometries: [
        { type: 'Point', coordinates: [1, 2] },
        {
          type: 'LineString',
          coordinates: [
            [0, 0],
            [1, 1],
          ],
        },
      ],
    });
  });

  test('filter-crs: EPSG/0/4326 URI is lat/lon → swapped; EPSG/0/2154 not swapped', () => {
    const crs4326 = parseCrs('http://www.opengis.net/def/crs/EPSG/0/4326')!;
    expect(parseCql2Text('S_INTERSECTS(geom, POINT(48.85 2.35))', crs4326)).toEqual({
      kind: 'spatial',
      op: 'intersects',
      property: 'geom',
      geometry: { geojson: { type: 'Point', coordinates: [2.35, 48.85] }, srid: 4326 },
    });
    expect(parseCql2Text('S_INTERSECTS(geom, BBOX(48, 2, 49, 3))', crs4326)).toEqual({
      kind: 'bbox',
      property: 'geom',
      envelope: { minx: 2, miny: 48, maxx: 3, maxy: 49, srid: 4326 },
    });
    expect(parseCql2Text('S_INTERSECTS(geom, POINT(651000 6860000))', crsRef(2154, 'uri'))).toEqual({
      kind: 'spatial',
      op: 'intersects',
      property: 'geom',
      geometry: { geojson: { type: 'Point', coordinates: [651000, 6860000] }, srid: 2154 },
    });
    expect(parseCql2Text('S_INTERSECTS(geom, POINT(2.35 48.85))', crsRef(4326, 'crs84'))).toEqual({
      kind: 'spatial',
      op: 'intersects',
      property: 'geom',
      geometry: { geojson: { type: 'Point', coordinates: [2.35, 48.85] }, srid: 4326 },
    });
  });

  test('ECQL DWITHIN / BEYOND and BBOX(property, …)', () => {
    expect(parseCql2Text('DWITHIN(geom, POINT(1 2), 1.5, kilometers)')).toEqual({
      kind: 'distance',
      op: 'dwithin',
      property: 'geom',
      geometry: { geojson: { type: 'Point', coordinates: [1, 2] }, srid: 4326 },
      distanceMetres: 1500,
    });
    expect(parseCql2Text('BEYOND(geom, POINT(1 2), 100)')).toEqual({
      kind: 'distance',
      op: 'beyond',
      property: 'geom',
      geometry: { geojson: { type: 'Point', coordinates: [1, 2] }, srid: 4326 },
      distanceMetres: 100,
    });
    expect(parseCql2Text('DWITHIN(geom, POINT(1 2), 2, statute miles)')).toMatchObject({ distanceMetres: 2 * 1609.344 });
    expect(parseCql2Text('BBOX(geom, 1, 2, 3, 4)')).toEqual({
      kind: 'bbox',
      property: 'geom',
      envelope: { minx: 1, miny: 2, maxx: 3, maxy: 4, srid: 4326 },
    });
  });

  test('spatial predicate combined with attribute filter', () => {
    expect(parseCql2Text("S_INTERSECTS(geom, POINT(2 48)) AND NOT (type = 'x')")).toEqual({
      kind: 'and',
      operands: [
        { kind: 'spatial', op: 'intersects', property: 'geom', geometry: { geojson: { type: 'Point', coordinates: [2, 48] }, srid: 4326 } },
        { kind: 'not', operand: cmp(prop('type'), '=', lit('x')) },
      ],
    });
  });
});

describe('CQL2 errors', () => {
  test.each<[string, RegExp]>([
    ['', /empty filter, found end of input at position 1/],
    ['   ', /empty filter/],
    ["name = 'unterminated", /unterminated string literal at position 8/],
    ['"unterminated = 1', /unterminated quoted property name/],
    ['a = ', /expected a value or property name, found end of input at position 5/],
    ['a = 1 b = 2', /unexpected token, found "b" at position 7/],
    ['(a = 1', /expected "\)"/],
    ['a = 1)', /unexpected token/],
    ['a # 1', /unexpected character "#" at position 3/],
    ['a BETWEEN 1 OR 2', /expected AND/],
    ['a IN 1', /expected "\("/],
    ['a IS 1', /expected NULL/],
    ['a LIKE b', /expected a string pattern after LIKE/],
    ['a = AND', /expected a value or property name/],
    ['1 + 2', /expected a comparison operator/],
    ['12abc = 1', /invalid number "12a"/],
    ["d = DATE('2024-13')", /invalid DATE value/],
    ["d = DATE(2024)", /DATE expects a quoted string/],
    ['S_INTERSECTS(geom, POINT(1))', /expected a number/],
    ['S_INTERSECTS(geom, POLYGON((0 0, 1 0, 1 1, 0 1)))', /polygon ring is not closed/],
    ['S_INTERSECTS(geom, LINESTRING(0 0))', /needs at least 2 positions/],
    ['S_INTERSECTS(geom, BBOX(1, 2, 3))', /BBOX needs 4 or 6 numbers/],
    ['S_INTERSECTS(geom POINT(1 2))', /expected ","/],
    ['(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((a = 1', /nested deeper than 100/],
  ])('syntax error: %s', (text, message) => {
    const err = errorOf(() => parseCql2Text(text));
    expect(err.code).toBe('InvalidParameterValue');
    expect(err.locator).toBe('filter');
    expect(err.message).toMatch(message);
  });

  test.each<[string, RegExp]>([
    ["T_LATER(d, TIMESTAMP('2024-01-01T00:00:00Z'))", /Unknown temporal predicate T_LATER/],
    ["d = INTERVAL('2024-01-01', '..')", /INTERVAL is not supported/],
    ['T_AFTER(d, e)', /between two properties is not supported/],
    ["T_DURING(d, INTERVAL('2024-01-02', '2024-01-01'))", /begins after it ends/],
    ["T_DURING(d, INTERVAL('..', '..'))", /at least one end/],
    ["T_AFTER(d, TIMESTAMP('2024-01-01T25:00:00Z'))", /not a valid date-time/],
    ["A_SHUFFLES(tags, ('a'))", /Unknown array predicate A_SHUFFLES/],
    ["A_CONTAINS(tags, other)", /needs a property and a list/],
    ['S_INTERSECTS(geom, other_geom)', /between two properties is not supported/],
    ['S_INTERSECTS(POINT(1 2), POINT(1 2))', /between two literals is not supported/],
    ['S_INTERSECTS(buffer(geom, 1), POINT(1 2))', /Function buffer is not supported as a spatial operand/],
    ['S_INTERSECTS(geom, POINT EMPTY)', /EMPTY geometries are not supported/],
    ['geom = POINT(1 2)', /only allowed in a spatial predicate/],
    ['a % 2 = 0', /Operator % is not supported/],
    ["name LIKE ACCENTI('a')", /ACCENTI is not supported/],
    ['DWITHIN(geom, POINT(1 2), 1, degrees)', /angular units/],
    ["BBOX(geom, 1, 2, 3, 4, 'EPSG:4326')", /CRS argument in BBOX/],
  ])('unsupported: %s', (text, message) => {
    const err = errorOf(() => parseCql2Text(text));
    expect(err.code).toBe('InvalidParameterValue');
    expect(err.locator).toBe('filter');
    expect(err.message).toMatch(message);
  });
});

// OGC 21-065 /req/temporal-functions: on an instant-valued property v and a literal [B, E], each predicate is its
// interval definition with [v, v] (src/filter/cql2-predicates.ts), as a FES timeOp node.
describe('CQL2 temporal functions (OGC 21-065 /req/temporal-functions)', () => {
  const day = (date: string) => ({ date });
  const at = (instant: string) => ({ instant });
  const op = (o: string, begin: unknown, end: unknown) => ({ kind: 'timeOp', op: o, property: 'd', begin, end });
  test.each<[string, unknown]>([
    ["T_AFTER(d, TIMESTAMP('2024-01-01T00:00:00Z'))", op('After', at('2024-01-01T00:00:00Z'), at('2024-01-01T00:00:00Z'))],
    ["T_BEFORE(d, DATE('2024-01-01'))", op('Before', day('2024-01-01'), day('2024-01-01'))],
    ["T_DURING(d, INTERVAL('2024-01-01', '2024-02-01'))", op('During', day('2024-01-01'), day('2024-02-01'))],
    ["T_INTERSECTS(d, INTERVAL(DATE('2024-01-01'), '..'))", op('AnyInteracts', day('2024-01-01'), day('9999-12-31'))],
    ["T_INTERSECTS(d, INTERVAL('..', TIMESTAMP('2024-01-01T10:00:00Z')))", op('AnyInteracts', day('0001-01-01'), at('2024-01-01T10:00:00Z'))],
    ["T_EQUALS(d, TIMESTAMP('2024-01-01T00:00:00Z'))", op('TEquals', at('2024-01-01T00:00:00Z'), at('2024-01-01T00:00:00Z'))],
    ["T_STARTS(d, INTERVAL('2024-01-01', '2024-02-01'))", op('Begins', day('2024-01-01'), day('2024-02-01'))],
    ["T_FINISHES(d, INTERVAL('2024-01-01', '2024-02-01'))", op('Ends', day('2024-01-01'), day('2024-02-01'))],
    ["T_MEETS(d, INTERVAL('2024-01-01', '2024-02-01'))", op('Begins', day('2024-01-01'), day('2024-02-01'))],
    ["T_METBY(d, INTERVAL('2024-01-01', '2024-02-01'))", op('Ends', day('2024-01-01'), day('2024-02-01'))],
    ["T_DISJOINT(d, DATE('2024-01-01'))", { kind: 'or', operands: [op('Before', day('2024-01-01'), day('2024-01-01')), op('After', day('2024-01-01'), day('2024-01-01'))] }],
    // The literal first: the converse predicate.
    ["T_AFTER(DATE('2024-01-01'), d)", op('Before', day('2024-01-01'), day('2024-01-01'))],
    ["T_CONTAINS(INTERVAL('2024-01-01', '2024-02-01'), d)", op('During', day('2024-01-01'), day('2024-02-01'))],
    // Never true of an instant: still a predicate on d (its property checked where compiled), false.
    ["T_CONTAINS(d, INTERVAL('2024-01-01', '2024-02-01'))", { kind: 'and', operands: [op('AnyInteracts', day('2024-01-01'), day('2024-02-01')), { kind: 'exclude' }] }],
    ["T_STARTS(d, DATE('2024-01-01'))", { kind: 'and', operands: [op('AnyInteracts', day('2024-01-01'), day('2024-01-01')), { kind: 'exclude' }] }],
  ])('%s', (text, ast) => {
    expect(parseCql2Text(text)).toEqual(ast);
  });
});

// OGC 21-065 /req/array-functions: a property and a list, the property first.
describe('CQL2 array functions (OGC 21-065 /req/array-functions)', () => {
  const lit = (value: string) => ({ kind: 'literal', value });
  test.each<[string, unknown]>([
    ["A_CONTAINS(tags, ('a', 'b'))", { kind: 'array', op: 'contains', property: 'tags', values: [lit('a'), lit('b')] }],
    ["A_CONTAINEDBY(tags, ('a'))", { kind: 'array', op: 'containedBy', property: 'tags', values: [lit('a')] }],
    ["A_OVERLAPS(tags, ())", { kind: 'array', op: 'overlaps', property: 'tags', values: [] }],
    ["A_EQUALS(\"tags\", ('a'))", { kind: 'array', op: 'equals', property: 'tags', values: [lit('a')] }],
    ["A_CONTAINS(('a'), tags)", { kind: 'array', op: 'containedBy', property: 'tags', values: [lit('a')] }],
  ])('%s', (text, ast) => {
    expect(parseCql2Text(text)).toEqual(ast);
  });
});

describe('issue 13: depth and size limits (no stack overflow)', () => {
  test('NOT repeated 5,000 times is an InvalidParameterValue, not a RangeError', () => {
    expect(() => parseCql2Text('NOT '.repeat(5000) + "nom = 'x'")).toThrow(/nested deeper than 100/);
  });
  test('100 NOTs are fine, 101 are refused', () => {
    expect(parseCql2Text('NOT '.repeat(99) + "nom = 'x'").kind).toBe('not');
    expect(() => parseCql2Text('NOT '.repeat(101) + "nom = 'x'")).toThrow(/nested deeper/);
  });
  test('more than 10,000 predicates are refused', () => {
    expect(() => parseCql2Text(Array.from({ length: 10_001 }, (_, i) => `a = ${i}`).join(' OR '))).toThrow(/more than 10000/);
  });
});
