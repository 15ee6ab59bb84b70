/**
 * The CQL2 JSON reader (OGC 21-065 cql2-json, used by OGC API – Records filter-lang=cql2-json): each filter gives the
 * AST the CQL2 text reader gives for the same filter written as text, so both encodings compile alike; what is not
 * supported is refused with locator `filter`. Also the request classification of the Records API for usage statistics.
 */
import { describe, expect, test } from 'vitest';
import { parseCql2Json } from '../../src/filter/cql2-json-reader.js';
import { parseCql2Text } from '../../src/filter/cql2-text-reader.js';
import { OgcError } from '../../src/ogc/errors.js';
import { classifyRequest } from '../../src/usage/classify.js';

const p = (property: string) => ({ property });

describe('CQL2 JSON = CQL2 text', () => {
  const pairs: Array<[string, unknown]> = [
    [`title = 'Cadastre'`, { op: '=', args: [p('title'), 'Cadastre'] }],
    [`type <> 'service' AND updated >= TIMESTAMP('2020-01-01T00:00:00Z')`, { op: 'and', args: [{ op: '<>', args: [p('type'), 'service'] }, { op: '>=', args: [p('updated'), { timestamp: '2020-01-01T00:00:00Z' }] }] }],
    [`created < DATE('2019-05-01') OR NOT (title LIKE 'A%')`, { op: 'or', args: [{ op: '<', args: [p('created'), { date: '2019-05-01' }] }, { op: 'not', args: [{ op: 'like', args: [p('title'), 'A%'] }] }] }],
    [`CASEI(title) = CASEI('cadastre')`, { op: '=', args: [{ op: 'casei', args: [p('title')] }, { op: 'casei', args: ['cadastre'] }] }],
    [`CASEI(title) LIKE CASEI('%cad%')`, { op: 'like', args: [{ op: 'casei', args: [p('title')] }, { op: 'casei', args: ['%cad%'] }] }],
    [`title LIKE 'a\\%b_%'`, { op: 'like', args: [p('title'), 'a\\%b_%'] }],
    [`created BETWEEN DATE('2010-01-01') AND DATE('2011-01-01')`, { op: 'between', args: [p('created'), { date: '2010-01-01' }, { date: '2011-01-01' }] }],
    [`type IN ('dataset', 'series')`, { op: 'in', args: [p('type'), ['dataset', 'series']] }],
    [`formats IS NULL`, { op: 'isNull', args: [p('formats')] }],
    [`S_INTERSECTS(geometry, BBOX(1, 47, 2, 48))`, { op: 's_intersects', args: [p('geometry'), { bbox: [1, 47, 2, 48] }] }],
    [`S_WITHIN(geometry, POLYGON((1 47, 2 47, 2 48, 1 48, 1 47)))`, { op: 's_within', args: [p('geometry'), { type: 'Polygon', coordinates: [[[1, 47], [2, 47], [2, 48], [1, 48], [1, 47]]] }] }],
    // The literal first: S_WITHIN(literal, property) is S_CONTAINS(property, literal).
    [`S_WITHIN(POINT(1.5 47.5), geometry)`, { op: 's_within', args: [{ type: 'Point', coordinates: [1.5, 47.5] }, p('geometry')] }],
    [`S_DISJOINT(geometry, BBOX(1, 47, 2, 48))`, { op: 's_disjoint', args: [p('geometry'), { bbox: [1, 47, 2, 48] }] }],
    [`upper(title) = 'X'`, { op: '=', args: [{ op: 'upper', args: [p('title')] }, 'X'] }],
    // OGC 21-065 /req/temporal-functions and /req/array-functions in both encodings.
    [`T_AFTER(updated, TIMESTAMP('2020-01-01T00:00:00Z'))`, { op: 't_after', args: [p('updated'), { timestamp: '2020-01-01T00:00:00Z' }] }],
    [`T_DURING(updated, INTERVAL('2020-01-01', '..'))`, { op: 't_during', args: [p('updated'), { interval: ['2020-01-01', '..'] }] }],
    [`T_INTERSECTS(created, INTERVAL(DATE('2020-01-01'), TIMESTAMP('2021-01-01T00:00:00Z')))`, { op: 't_intersects', args: [p('created'), { interval: [{ date: '2020-01-01' }, { timestamp: '2021-01-01T00:00:00Z' }] }] }],
    [`T_BEFORE(DATE('2020-01-01'), updated)`, { op: 't_before', args: [{ date: '2020-01-01' }, p('updated')] }],
    [`A_CONTAINS(keywords, ('a', 'b'))`, { op: 'a_contains', args: [p('keywords'), ['a', 'b']] }],
    [`A_CONTAINEDBY(keywords, ('a'))`, { op: 'a_containedBy', args: [p('keywords'), ['a']] }],
    [`A_OVERLAPS(('a'), keywords)`, { op: 'a_overlaps', args: [['a'], p('keywords')] }],
  ];
  for (const [text, json] of pairs) {
    test(`OGC 21-065 §8 (cql2-json) ${text}`, () => {
      expect(parseCql2Json(JSON.stringify(json))).toEqual(parseCql2Text(text));
      expect(parseCql2Json(json)).toEqual(parseCql2Text(text));
    });
  }

  test('true and false are INCLUDE and EXCLUDE', () => {
    expect(parseCql2Json('true')).toEqual({ kind: 'include' });
    expect(parseCql2Json('false')).toEqual({ kind: 'exclude' });
  });
});

describe('CQL2 JSON refused with locator filter', () => {
  const refused: Array<[string, string]> = [
    ['not JSON', '{"op":'],
    ['a string at the top', '"title"'],
    ['unknown operator', '{"op":"nope","args":[]}'],
    ['wrong arity', '{"op":"=","args":[{"property":"a"}]}'],
    ['and with one argument', '{"op":"and","args":[true]}'],
    ['unknown temporal predicate', '{"op":"t_later","args":[{"property":"updated"},{"timestamp":"2020-01-01T00:00:00Z"}]}'],
    ['temporal predicate between two properties', '{"op":"t_after","args":[{"property":"updated"},{"property":"created"}]}'],
    ['an interval backwards', '{"op":"t_during","args":[{"property":"updated"},{"interval":["2021-01-01","2020-01-01"]}]}'],
    ['an interval of three', '{"op":"t_during","args":[{"property":"updated"},{"interval":["2020-01-01","2021-01-01","2022-01-01"]}]}'],
    ['a temporal literal that is no date', '{"op":"t_after","args":[{"property":"updated"},{"timestamp":"soon"}]}'],
    ['array predicate without an array', '{"op":"a_contains","args":[{"property":"keywords"},"a"]}'],
    ['unknown array predicate', '{"op":"a_shuffles","args":[{"property":"keywords"},["a"]]}'],
    ['accenti', '{"op":"=","args":[{"op":"accenti","args":[{"property":"title"}]},"e"]}'],
    ['a bad date', '{"op":"=","args":[{"property":"created"},{"date":"2020-13"}]}'],
    ['a bad timestamp', '{"op":"=","args":[{"property":"updated"},{"timestamp":"2020-01-01"}]}'],
    ['a geometry outside a spatial predicate', '{"op":"=","args":[{"property":"geometry"},{"type":"Point","coordinates":[1,2]}]}'],
    ['a spatial predicate between two properties', '{"op":"s_intersects","args":[{"property":"a"},{"property":"b"}]}'],
    ['a bbox of 3 numbers', '{"op":"s_intersects","args":[{"property":"geometry"},{"bbox":[1,2,3]}]}'],
    ['a bbox upside down', '{"op":"s_intersects","args":[{"property":"geometry"},{"bbox":[1,48,2,47]}]}'],
    ['an interval', '{"op":"=","args":[{"property":"updated"},{"interval":["2020-01-01","2021-01-01"]}]}'],
    ['like on a number', '{"op":"like","args":[{"property":"title"},3]}'],
    ['nesting over 100', `${'{"op":"not","args":['.repeat(120)}true${']}'.repeat(120)}`],
  ];
  for (const [name, text] of refused) {
    test(name, () => {
      let err: unknown;
      try {
        parseCql2Json(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OgcError);
      expect((err as OgcError).locator).toBe('filter');
      expect((err as OgcError).status).toBe(400);
    });
  }
});

describe('usage statistics: OGC API – Records requests', () => {
  test('classified as the records service, by resource', () => {
    expect(classifyRequest('GET', '/records/')).toEqual({ service: 'records', operation: 'landing', layers: [] });
    expect(classifyRequest('GET', '/records/conformance')).toEqual({ service: 'records', operation: 'conformance', layers: [] });
    expect(classifyRequest('GET', '/records/collections/metadata')).toEqual({ service: 'records', operation: 'collection', layers: [] });
    expect(classifyRequest('GET', '/records/collections/metadata/queryables')).toEqual({ service: 'records', operation: 'queryables', layers: [] });
    expect(classifyRequest('GET', '/records/collections/metadata/items?q=x')).toEqual({ service: 'records', operation: 'items', layers: [] });
    expect(classifyRequest('GET', '/records/collections/metadata/items/abc')).toEqual({ service: 'records', operation: 'record', layers: [] });
  });
});
