/**
 * The official FES 2.0 example documents (schemas.opengis.net/filter/2.0/examples, one folder per GML
 * version), read in place, through parseFesFilterText.
 */
import { describe, expect, test } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseFesFilterText } from '../../src/filter/fes-reader.js';
import { OgcError } from '../../src/ogc/errors.js';
import type { Filter } from '../../src/filter/ast.js';
import { preloadTestCrs } from './preload-crs.js';

preloadTestCrs();

const EXAMPLES = '/work/shared/schemas-ogc-local/filter/2.0/examples';

const prop = (name: string) => ({ kind: 'property', name }) as const;
const lit = (value: string) => ({ kind: 'literal', value }) as const;
const cmp = (op: '=' | '<' | '>', name: string, value: string): Filter => ({
  kind: 'compare',
  op,
  left: prop(name),
  right: lit(value),
  matchCase: true,
});

/** Envelope 13.0983 31.5899 / 35.5472 42.8143 in urn:ogc:def:crs:EPSG::4326 (lat/lon) → lon/lat. */
const ENVELOPE_XY = { minx: 31.5899, miny: 13.0983, maxx: 42.8143, maxy: 35.5472, srid: 4326 };
const ENVELOPE_POLYGON = {
  geojson: {
    type: 'Polygon',
    coordinates: [
      [
        [31.5899, 13.0983],
        [42.8143, 13.0983],
        [42.8143, 35.5472],
        [31.5899, 35.5472],
        [31.5899, 13.0983],
      ],
    ],
  },
  srid: 4326,
};
/** posList 10 10 20 20 30 30 40 40 10 10 (symmetric, so swapping does not change it). */
const POLYGON_P1 = {
  geojson: {
    type: 'Polygon',
    coordinates: [
      [
        [10, 10],
        [20, 20],
        [30, 30],
        [40, 40],
        [10, 10],
      ],
    ],
  },
  srid: 4326,
};
const notDisjoint: Filter = { kind: 'not', operand: { kind: 'spatial', op: 'disjoint', property: 'Geometry', geometry: ENVELOPE_POLYGON } };

/** `partial`: the AST must contain these fields (the property path of the temporal examples is kept as written). */
type Expected = { ast: Filter } | { partial: Record<string, unknown> } | { error: RegExp };

/** Expected results for the GML 3.2.1 folder; the other folders only differ where listed below. */
const BASE: Record<string, Expected> = {
  'filter01.xml': { ast: cmp('=', 'SomeProperty', '100') },
  'filter02.xml': { ast: cmp('<', 'DEPTH', '30') },
  'filter03.xml': { ast: notDisjoint },
  'filter04.xml': { ast: { kind: 'and', operands: [cmp('<', 'DEPTH', '30'), notDisjoint] } },
  'filter05.xml': {
    ast: {
      kind: 'resourceId',
      ids: ['TREESA_1M.1234', 'TREESA_1M.5678', 'TREESA_1M.9012', 'INWATERA_1M.3456', 'INWATERA_1M.7890', 'BUILTUPA_1M.4321'],
    },
  },
  'filter06.xml': {
    ast: {
      kind: 'compare',
      op: '=',
      left: { kind: 'function', name: 'SIN', args: [prop('DISPERSION_ANGLE')] },
      right: lit('1'),
      matchCase: true,
    },
  },
  'filter07.xml': {
    ast: {
      kind: 'compare',
      op: '=',
      left: prop('PROPA'),
      right: { kind: 'arithmetic', op: '+', left: prop('PROPB'), right: lit('100') },
      matchCase: true,
    },
  },
  'filter08.xml': { ast: { kind: 'between', expr: prop('DEPTH'), lower: lit('100'), upper: lit('200') } },
  'filter09.xml': {
    ast: { kind: 'between', expr: prop('SAMPLE_DATE'), lower: lit('2001-01-15T20:07:48.11'), upper: lit('2001-03-06T12:00:00.00') },
  },
  // wildCard="*" singleChar="#" escapeChar="!"
  'filter10.xml': { ast: { kind: 'like', expr: prop('LAST_NAME'), pattern: 'JOHN%', matchCase: true } },
  'filter11.xml': { ast: { kind: 'spatial', op: 'overlaps', property: 'Geometry', geometry: POLYGON_P1 } },
  'filter12.xml': {
    ast: {
      kind: 'and',
      operands: [{ kind: 'or', operands: [cmp('=', 'FIELD1', '10'), cmp('=', 'FIELD1', '20')] }, cmp('=', 'STATUS', 'VALID')],
    },
  },
  'filter13.xml': {
    ast: {
      kind: 'and',
      operands: [
        { kind: 'spatial', op: 'within', property: 'WKB_GEOM', geometry: POLYGON_P1 },
        { kind: 'between', expr: prop('DEPTH'), lower: lit('400'), upper: lit('800') },
      ],
    },
  },
  // Multi-step paths are kept (the compiler decides); only prefixes are dropped.
  'filter14.xml': { ast: { kind: 'and', operands: [cmp('>', 'Person/age', '50'), cmp('=', 'Person/mailAddress/Address/city', 'Toronto')] } },
  // FES 2.0 §7.9: TEquals and During between an instant property and a gml:TimeInstant / gml:TimePeriod are read.
  'filter15.xml': { partial: { kind: 'timeOp', op: 'TEquals', begin: { instant: '2005-05-19T09:28:40Z' }, end: { instant: '2005-05-19T09:28:40Z' } } },
  'filter16.xml': { error: /Temporal operator TContains is not supported/ },
  'filter17.xml': { partial: { kind: 'timeOp', op: 'During', begin: { instant: '2005-05-17T00:00:00Z' }, end: { instant: '2005-05-23T00:00:00Z' } } },
  'filter18.xml': { error: /Temporal operator TOverlaps is not supported/ },
  // 19–21 are Filter_Capabilities documents, not filters.
  'filter19.xml': { error: /Expected a fes:Filter/ },
  'filter20.xml': { error: /Expected a fes:Filter/ },
  'filter21.xml': { error: /Expected a fes:Filter/ },
  'filter22.xml': { error: /Unsupported filter operator myops:MyNewOperator/ },
  'filter24.xml': { error: /Unsupported filter operator myops:PropertyExists/ },
  // DWithin: gml:pos 43.716589 -79.340686 in urn:ogc:def:crs:EPSG::4326 → lon/lat.
  'filter25.xml': {
    ast: {
      kind: 'distance',
      op: 'dwithin',
      property: 'geometry',
      geometry: { geojson: { type: 'Point', coordinates: [-79.340686, 43.716589] }, srid: 4326 },
      distanceMetres: 10,
    },
  },
  'filter26.xml': { ast: { kind: 'bbox', envelope: ENVELOPE_XY } },
  'filter27.xml': { ast: { kind: 'bbox', property: 'Geometry', envelope: ENVELOPE_XY } },
  'filter28.xml': { error: /fes:BBOX with a Function operand is not supported/ },
  'filter29.xml': { error: /fes:DWithin with a Function operand is not supported/ },
  'filter30.xml': { error: /fes:Disjoint with a Function operand is not supported/ },
};

/** The GML 2 and GML 3.2.0 variants use the non-existent `urn:fes:def:crs:EPSG::4326`: refused. */
const unknownCrs = (on: string): Expected => ({ error: new RegExp(`Unknown or unsupported srsName "urn:fes:def:crs:EPSG::4326" on gml:${on}`) });
const OVERRIDES: Record<string, Record<string, Expected>> = {
  '3.2.1': {},
  '3.1.1': {},
  '3.2.0': {
    'filter03.xml': unknownCrs('Envelope'),
    'filter04.xml': unknownCrs('Envelope'),
    'filter11.xml': unknownCrs('Polygon'),
    'filter13.xml': unknownCrs('Polygon'),
  },
  '2.1.2': {
    'filter03.xml': unknownCrs('Box'),
    'filter04.xml': unknownCrs('Box'),
    'filter11.xml': unknownCrs('Polygon'),
    'filter13.xml': unknownCrs('Polygon'),
    'filter26.xml': unknownCrs('Box'),
    'filter27.xml': unknownCrs('Box'),
  },
};

describe('FES 2.0 official examples', () => {
  test('the examples folder is present', () => {
    expect(existsSync(EXAMPLES)).toBe(true);
    expect(readdirSync(EXAMPLES).sort()).toEqual(['2.1.2', '3.1.1', '3.2.0', '3.2.1']);
  });

  for (const version of Object.keys(OVERRIDES)) {
    const dir = join(EXAMPLES, version);
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.xml')).sort() : [];
    describe(`GML ${version}`, () => {
      test('every example file has an expectation', () => {
        expect(files.length).toBeGreaterThan(20);
        for (const f of files) expect(BASE[f] ?? OVERRIDES[version]![f], f).toBeDefined();
      });
      for (const file of files) {
        const expected = OVERRIDES[version]![file] ?? BASE[file]!;
        test(file, () => {
          const xml = readFileSync(join(dir, file), 'utf8');
          if ('ast' in expected) {
            expect(parseFesFilterText(xml)).toEqual(expected.ast);
          } else if ('partial' in expected) {
            expect(parseFesFilterText(xml)).toMatchObject(expected.partial);
          } else {
            let err: unknown;
            try {
              parseFesFilterText(xml);
            } catch (e) {
              err = e;
            }
            expect(err).toBeInstanceOf(OgcError);
            expect((err as OgcError).code).toBe('InvalidParameterValue');
            expect((err as OgcError).locator).toBe('FILTER');
            expect((err as OgcError).message).toMatch(expected.error);
          }
        });
      }
    });
  }
});
