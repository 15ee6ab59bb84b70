import { describe, expect, test } from 'vitest';
import {
  metresPerUnit,
  normalisePropertyName,
  parseFesFilterList,
  parseFesFilterText,
  readFesFilter,
} from '../../src/filter/fes-reader.js';
import { parseXml } from '../../src/xml/tree.js';
import { OgcError } from '../../src/ogc/errors.js';
import type { Filter } from '../../src/filter/ast.js';
import { preloadTestCrs } from './preload-crs.js';

preloadTestCrs();

const FES = 'xmlns:fes="http://www.opengis.net/fes/2.0"';
const OGC = 'xmlns:ogc="http://www.opengis.net/ogc"';
const GML32 = 'xmlns:gml="http://www.opengis.net/gml/3.2"';
const GML = 'xmlns:gml="http://www.opengis.net/gml"';

const fes = (body: string, extra = GML32) => `<fes:Filter ${FES} ${extra}>${body}</fes:Filter>`;
const ogc = (body: string, extra = GML) => `<ogc:Filter ${OGC} ${extra}>${body}</ogc:Filter>`;

function errorOf(fn: () => unknown): OgcError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OgcError);
    return e as OgcError;
  }
  throw new Error('expected an OgcError, nothing was thrown');
}

function expectFilterError(xml: string, message: RegExp): void {
  const err = errorOf(() => parseFesFilterText(xml));
  expect(err.code).toBe('InvalidParameterValue');
  expect(err.locator).toBe('FILTER');
  expect(err.status).toBe(400);
  expect(err.message).toMatch(message);
}

describe('QGIS filters (research §1.1.5)', () => {
  test('the exact QGIS 2.0 subset-string + view-extent filter', () => {
    const xml = `<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2">
 <fes:And>
  <fes:PropertyIsEqualTo><fes:ValueReference>code_insee</fes:ValueReference><fes:Literal>75056</fes:Literal></fes:PropertyIsEqualTo>
  <fes:BBOX><fes:ValueReference>geom</fes:ValueReference>
   <gml:Envelope srsName="urn:ogc:def:crs:EPSG::2154"><gml:lowerCorner>651000 6860000</gml:lowerCorner><gml:upperCorner>652000 6861000</gml:upperCorner></gml:Envelope>
  </fes:BBOX>
 </fes:And>
</fes:Filter>`;
    expect(parseFesFilterText(xml)).toEqual({
      kind: 'and',
      operands: [
        {
          kind: 'compare',
          op: '=',
          left: { kind: 'property', name: 'code_insee' },
          right: { kind: 'literal', value: '75056' },
          matchCase: true,
        },
        // EPSG:2154 is easting/northing even in URN form: no swap.
        { kind: 'bbox', property: 'geom', envelope: { minx: 651000, miny: 6860000, maxx: 652000, maxy: 6861000, srid: 2154 } },
      ],
    } satisfies Filter);
  });

  test('QGIS ILIKE, IS NOT NULL and IN', () => {
    const xml = fes(`<fes:And>
      <fes:PropertyIsLike wildCard="%" singleChar="_" escapeChar="\\" matchCase="false"><fes:ValueReference>nom</fes:ValueReference><fes:Literal>Saint\\_%</fes:Literal></fes:PropertyIsLike>
      <fes:Not><fes:PropertyIsNull><fes:ValueReference>surface</fes:ValueReference></fes:PropertyIsNull></fes:Not>
      <fes:Or>
        <fes:PropertyIsEqualTo><fes:ValueReference>dep</fes:ValueReference><fes:Literal>75</fes:Literal></fes:PropertyIsEqualTo>
        <fes:PropertyIsEqualTo><fes:ValueReference>dep</fes:ValueReference><fes:Literal>92</fes:Literal></fes:PropertyIsEqualTo>
      </fes:Or>
    </fes:And>`);
    expect(parseFesFilterText(xml)).toEqual({
      kind: 'and',
      operands: [
        { kind: 'like', expr: { kind: 'property', name: 'nom' }, pattern: 'Saint\\_%', matchCase: false },
        { kind: 'not', operand: { kind: 'isNull', expr: { kind: 'property', name: 'surface' } } },
        {
          kind: 'or',
          operands: [
            { kind: 'compare', op: '=', left: { kind: 'property', name: 'dep' }, right: { kind: 'literal', value: '75' }, matchCase: true },
            { kind: 'compare', op: '=', left: { kind: 'property', name: 'dep' }, right: { kind: 'literal', value: '92' }, matchCase: true },
          ],
        },
      ],
    } satisfies Filter);
  });

  test('QGIS Intersects with a GML 3.2 polygon (gml:id qgis_id_geom_1)', () => {
    const xml = fes(`<fes:Intersects><fes:ValueReference>geom</fes:ValueReference>
      <gml:Polygon gml:id="qgis_id_geom_1" srsName="urn:ogc:def:crs:EPSG::4326"><gml:exterior><gml:LinearRing>
        <gml:posList srsDimension="2">48 2 48 3 49 3 48 2</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>
    </fes:Intersects>`);
    expect(parseFesFilterText(xml)).toEqual({
      kind: 'spatial',
      op: 'intersects',
      property: 'geom',
      geometry: {
        geojson: {
          type: 'Polygon',
          coordinates: [
            [
              [2, 48],
              [3, 48],
              [3, 49],
              [2, 48],
            ],
          ],
        },
        srid: 4326,
      },
    } satisfies Filter);
  });
});

describe('CITE-style filters (research TL;DR 20)', () => {
  test('random prefixes, Literal before ValueReference, wildCard="*" singleChar="?" escapeChar="\\"', () => {
    const xml = `<ns17:Filter xmlns:ns17="http://www.opengis.net/fes/2.0" xmlns:ns42="http://cite.opengeospatial.org/gmlsf">
      <ns17:And>
        <ns17:PropertyIsLike wildCard="*" singleChar="?" escapeChar="\\">
          <ns17:ValueReference>ns42:strProperty</ns17:ValueReference>
          <ns17:Literal>*na?e\\*x_1%</ns17:Literal>
        </ns17:PropertyIsLike>
        <ns17:PropertyIsGreaterThan>
          <ns17:Literal>10</ns17:Literal>
          <ns17:ValueReference>ns42:intProperty</ns17:ValueReference>
        </ns17:PropertyIsGreaterThan>
        <ns17:PropertyIsEqualTo matchCase="false">
          <ns17:Literal>Abc</ns17:Literal>
          <ns17:ValueReference>ns42:code</ns17:ValueReference>
        </ns17:PropertyIsEqualTo>
      </ns17:And>
    </ns17:Filter>`;
    expect(parseFesFilterText(xml)).toEqual({
      kind: 'and',
      operands: [
        // * → %, ? → _, \* → literal *, and the SQL specials _ and % in the text are escaped.
        { kind: 'like', expr: { kind: 'property', name: 'strProperty' }, pattern: '%na_e*x\\_1\\%', matchCase: true },
        // Operand order is kept as written: literal on the left.
        { kind: 'compare', op: '>', left: { kind: 'literal', value: '10' }, right: { kind: 'property', name: 'intProperty' }, matchCase: true },
        { kind: 'compare', op: '=', left: { kind: 'literal', value: 'Abc' }, right: { kind: 'property', name: 'code' }, matchCase: false },
      ],
    } satisfies Filter);
  });

  test('PropertyIsLike with the Literal first', () => {
    const xml = fes(`<fes:PropertyIsLike wildCard="*" singleChar="?" escapeChar="\\"><fes:Literal>a*</fes:Literal><fes:ValueReference>ns42:name</fes:ValueReference></fes:PropertyIsLike>`);
    expect(parseFesFilterText(xml)).toEqual({ kind: 'like', expr: { kind: 'property', name: 'name' }, pattern: 'a%', matchCase: true });
  });

  test('prefix on the root only, default namespace operators', () => {
    const xml = `<Filter xmlns="http://www.opengis.net/fes/2.0"><PropertyIsNotEqualTo><ValueReference>a</ValueReference><Literal/></PropertyIsNotEqualTo></Filter>`;
    // Empty <Literal/> is the empty string.
    expect(parseFesFilterText(xml)).toEqual({
      kind: 'compare',
      op: '<>',
      left: { kind: 'property', name: 'a' },
      right: { kind: 'literal', value: '' },
      matchCase: true,
    });
  });
});

describe('FES 2.0 operators', () => {
  const v = (name: string) => `<fes:ValueReference>${name}</fes:ValueReference>`;
  const l = (value: string) => `<fes:Literal>${value}</fes:Literal>`;

  test.each([
    ['PropertyIsEqualTo', '='],
    ['PropertyIsNotEqualTo', '<>'],
    ['PropertyIsLessThan', '<'],
    ['PropertyIsGreaterThan', '>'],
    ['PropertyIsLessThanOrEqualTo', '<='],
    ['PropertyIsGreaterThanOrEqualTo', '>='],
  ])('%s', (el, op) => {
    expect(parseFesFilterText(fes(`<fes:${el}>${v('x')}${l('1')}</fes:${el}>`))).toEqual({
      kind: 'compare',
      op,
      left: { kind: 'property', name: 'x' },
      right: { kind: 'literal', value: '1' },
      matchCase: true,
    });
  });

  test('PropertyIsNil is read as isNull', () => {
    expect(parseFesFilterText(fes(`<fes:PropertyIsNil nilReason="missing">${v('x')}</fes:PropertyIsNil>`))).toEqual({
      kind: 'isNull',
      expr: { kind: 'property', name: 'x' },
    });
  });

  test('Function with nested arithmetic function and literal whitespace kept', () => {
    const xml = fes(`<fes:PropertyIsLessThan>
      <fes:Function name="Mul">${v('a')}<fes:Function name="abs">${v('b')}</fes:Function></fes:Function>
      ${l(' 2 ')}</fes:PropertyIsLessThan>`);
    expect(parseFesFilterText(xml)).toEqual({
      kind: 'compare',
      op: '<',
      left: {
        kind: 'arithmetic',
        op: '*',
        left: { kind: 'property', name: 'a' },
        right: { kind: 'function', name: 'abs', args: [{ kind: 'property', name: 'b' }] },
      },
      right: { kind: 'literal', value: ' 2 ' },
      matchCase: true,
    });
  });

  test('Equals, Touches, Crosses, Contains without a property; Beyond in km', () => {
    const point = `<gml:Point srsName="EPSG:4326"><gml:pos>2.35 48.85</gml:pos></gml:Point>`;
    const geometry = { geojson: { type: 'Point', coordinates: [2.35, 48.85] }, srid: 4326 };
    for (const [el, op] of [
      ['Equals', 'equals'],
      ['Touches', 'touches'],
      ['Crosses', 'crosses'],
      ['Contains', 'contains'],
    ] as const) {
      expect(parseFesFilterText(fes(`<fes:${el}>${point}</fes:${el}>`))).toEqual({ kind: 'spatial', op, geometry });
    }
    expect(parseFesFilterText(fes(`<fes:Beyond>${v('geom')}${point}<fes:Distance uom="km">1.5</fes:Distance></fes:Beyond>`))).toEqual({
      kind: 'distance',
      op: 'beyond',
      property: 'geom',
      geometry,
      distanceMetres: 1500,
    });
  });

  test('Intersects with a gml:Envelope operand becomes a polygon', () => {
    const xml = fes(`<fes:Intersects>${v('geom')}<gml:Envelope srsName="EPSG:2154"><gml:lowerCorner>0 1</gml:lowerCorner><gml:upperCorner>2 3</gml:upperCorner></gml:Envelope></fes:Intersects>`);
    expect(parseFesFilterText(xml)).toEqual({
      kind: 'spatial',
      op: 'intersects',
      property: 'geom',
      geometry: {
        geojson: {
          type: 'Polygon',
          coordinates: [
            [
              [0, 1],
              [2, 1],
              [2, 3],
              [0, 3],
              [0, 1],
            ],
          ],
        },
        srid: 2154,
      },
    });
  });

  test('geometry without srsName: no srid, unless a default srsName is given', () => {
    const xml = fes(`<fes:Within>${v('geom')}<gml:Point><gml:pos>48.85 2.35</gml:pos></gml:Point></fes:Within>`);
    expect(parseFesFilterText(xml)).toEqual({
      kind: 'spatial',
      op: 'within',
      property: 'geom',
      geometry: { geojson: { type: 'Point', coordinates: [48.85, 2.35] } },
    });
    expect(parseFesFilterText(xml, { defaultSrsName: 'urn:ogc:def:crs:EPSG::4326' })).toEqual({
      kind: 'spatial',
      op: 'within',
      property: 'geom',
      geometry: { geojson: { type: 'Point', coordinates: [2.35, 48.85] }, srid: 4326 },
    });
  });

  test('DWithin without a unit means metres', () => {
    const xml = fes(`<fes:DWithin>${v('geom')}<gml:Point srsName="EPSG:2154"><gml:pos>1 2</gml:pos></gml:Point><fes:Distance>25</fes:Distance></fes:DWithin>`);
    expect(parseFesFilterText(xml)).toEqual({
      kind: 'distance',
      op: 'dwithin',
      property: 'geom',
      geometry: { geojson: { type: 'Point', coordinates: [1, 2] }, srid: 2154 },
      distanceMetres: 25,
    });
  });

  test('readFesFilter takes an already parsed element', () => {
    const root = parseXml(fes(`<fes:ResourceId rid="parcelles.12"/>`));
    expect(readFesFilter(root)).toEqual({ kind: 'resourceId', ids: ['parcelles.12'] });
  });
});

describe('OGC Filter 1.1 / 1.0', () => {
  test('Filter 1.1 (QGIS WFS-T): FeatureId/@fid', () => {
    expect(parseFesFilterText(ogc(`<ogc:FeatureId fid="parcelles.1"/><ogc:FeatureId fid="parcelles.2"/>`))).toEqual({
      kind: 'resourceId',
      ids: ['parcelles.1', 'parcelles.2'],
    });
  });

  test('Filter 1.1: GmlObjectId/@gml:id', () => {
    expect(parseFesFilterText(ogc(`<ogc:GmlObjectId gml:id="communes.7"/>`))).toEqual({ kind: 'resourceId', ids: ['communes.7'] });
  });

  test('Filter 1.1: PropertyName, Add/Sub/Div, PropertyIsBetween, Envelope BBOX in EPSG:4326 (not swapped)', () => {
    const xml = ogc(`<ogc:And>
      <ogc:PropertyIsGreaterThanOrEqualTo matchCase="true">
        <ogc:Sub><ogc:PropertyName>sdi:a</ogc:PropertyName><ogc:Literal>1</ogc:Literal></ogc:Sub>
        <ogc:Div><ogc:Add><ogc:PropertyName>b</ogc:PropertyName><ogc:Literal>2</ogc:Literal></ogc:Add><ogc:Literal>3</ogc:Literal></ogc:Div>
      </ogc:PropertyIsGreaterThanOrEqualTo>
      <ogc:PropertyIsBetween><ogc:PropertyName>c</ogc:PropertyName>
        <ogc:LowerBoundary><ogc:Literal>1</ogc:Literal></ogc:LowerBoundary><ogc:UpperBoundary><ogc:Literal>9</ogc:Literal></ogc:UpperBoundary>
      </ogc:PropertyIsBetween>
      <ogc:BBOX><ogc:PropertyName>geom</ogc:PropertyName>
        <gml:Envelope srsName="EPSG:4326"><gml:lowerCorner>2 48</gml:lowerCorner><gml:upperCorner>3 49</gml:upperCorner></gml:Envelope>
      </ogc:BBOX>
    </ogc:And>`);
    expect(parseFesFilterText(xml)).toEqual({
      kind: 'and',
      operands: [
        {
          kind: 'compare',
          op: '>=',
          left: { kind: 'arithmetic', op: '-', left: { kind: 'property', name: 'a' }, right: { kind: 'literal', value: '1' } },
          right: {
            kind: 'arithmetic',
            op: '/',
            left: { kind: 'arithmetic', op: '+', left: { kind: 'property', name: 'b' }, right: { kind: 'literal', value: '2' } },
            right: { kind: 'literal', value: '3' },
          },
          matchCase: true,
        },
        { kind: 'between', expr: { kind: 'property', name: 'c' }, lower: { kind: 'literal', value: '1' }, upper: { kind: 'literal', value: '9' } },
        { kind: 'bbox', property: 'geom', envelope: { minx: 2, miny: 48, maxx: 3, maxy: 49, srid: 4326 } },
      ],
    } satisfies Filter);
  });

  test('Filter 1.0: PropertyIsLike with escape=, gml:Box with coordinates, DWithin units=', () => {
    const xml = ogc(`<ogc:Or>
      <ogc:PropertyIsLike wildCard="*" singleChar="." escape="!"><ogc:PropertyName>name</ogc:PropertyName><ogc:Literal>a!*b.*</ogc:Literal></ogc:PropertyIsLike>
      <ogc:BBOX><ogc:PropertyName>the_geom</ogc:PropertyName>
        <gml:Box srsName="http://www.opengis.net/gml/srs/epsg.xml#4326"><gml:coordinates>-1,40.5 3,50</gml:coordinates></gml:Box>
      </ogc:BBOX>
      <ogc:DWithin><ogc:PropertyName>the_geom</ogc:PropertyName>
        <gml:Point srsName="EPSG:3857"><gml:coordinates>100,200</gml:coordinates></gml:Point>
        <ogc:Distance units="ft">10</ogc:Distance>
      </ogc:DWithin>
    </ogc:Or>`);
    expect(parseFesFilterText(xml)).toEqual({
      kind: 'or',
      operands: [
        { kind: 'like', expr: { kind: 'property', name: 'name' }, pattern: 'a*b_%', matchCase: true },
        { kind: 'bbox', property: 'the_geom', envelope: { minx: -1, miny: 40.5, maxx: 3, maxy: 50, srid: 4326 } },
        {
          kind: 'distance',
          op: 'dwithin',
          property: 'the_geom',
          geometry: { geojson: { type: 'Point', coordinates: [100, 200] }, srid: 3857 },
          distanceMetres: 3.048,
        },
      ],
    } satisfies Filter);
  });

  test('Filter 1.0 without any namespace declaration (WFS 1.0 KVP)', () => {
    const xml = `<Filter><Within><PropertyName>the_geom</PropertyName><Polygon><outerBoundaryIs><LinearRing><coordinates>0,0 1,0 1,1 0,0</coordinates></LinearRing></outerBoundaryIs></Polygon></Within></Filter>`;
    expect(parseFesFilterText(xml)).toEqual({
      kind: 'spatial',
      op: 'within',
      property: 'the_geom',
      geometry: {
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
      },
    });
  });
});

describe('helpers', () => {
  test('normalisePropertyName', () => {
    expect(normalisePropertyName('ns42:code')).toBe('code');
    expect(normalisePropertyName('  code \n')).toBe('code');
    expect(normalisePropertyName('@code')).toBe('code');
    expect(normalisePropertyName('/code')).toBe('code');
    expect(normalisePropertyName('./sdi:code')).toBe('code');
    expect(normalisePropertyName('Person/mailAddress')).toBe('Person/mailAddress');
    expect(normalisePropertyName('a:Person/b:mailAddress[1]')).toBe('Person/mailAddress[1]');
  });

  test('metresPerUnit', () => {
    expect(metresPerUnit(undefined)).toBe(1);
    expect(metresPerUnit('')).toBe(1);
    expect(metresPerUnit('m')).toBe(1);
    expect(metresPerUnit('metre')).toBe(1);
    expect(metresPerUnit('Meters')).toBe(1);
    expect(metresPerUnit('urn:ogc:def:uom:EPSG::9001')).toBe(1);
    expect(metresPerUnit('http://www.opengis.net/def/uom/EPSG/0/9001')).toBe(1);
    expect(metresPerUnit('urn:ogc:def:uom:OGC:1.0:metre')).toBe(1);
    expect(metresPerUnit('km')).toBe(1000);
    expect(metresPerUnit('kilometre')).toBe(1000);
    expect(metresPerUnit('urn:ogc:def:uom:EPSG::9036')).toBe(1000);
    expect(metresPerUnit('mi')).toBe(1609.344);
    expect(metresPerUnit('ft')).toBe(0.3048);
    expect(metresPerUnit('nautical miles')).toBe(1852);
    expect(errorOf(() => metresPerUnit('deg')).message).toMatch(/angular/);
    expect(errorOf(() => metresPerUnit('furlong')).message).toMatch(/Unknown unit/);
  });

  test('parseFesFilterList: parenthesised list and bare filter', () => {
    const a = fes(`<fes:ResourceId rid="a.1"/>`);
    const b = fes(`<fes:ResourceId rid="b.(2)"/>`);
    expect(parseFesFilterList(`(${a})(${b})`)).toEqual([
      { kind: 'resourceId', ids: ['a.1'] },
      { kind: 'resourceId', ids: ['b.(2)'] },
    ]);
    expect(parseFesFilterList(a)).toEqual([{ kind: 'resourceId', ids: ['a.1'] }]);
  });
});

describe('malformed and refused input', () => {
  test('DOCTYPE is refused by parseXml', () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
      <fes:Filter ${FES}><fes:PropertyIsEqualTo><fes:ValueReference>a</fes:ValueReference><fes:Literal>&xxe;</fes:Literal></fes:PropertyIsEqualTo></fes:Filter>`;
    expectFilterError(xml, /DOCTYPE/);
  });

  test('not XML', () => expectFilterError('<fes:Filter', /malformed XML|Invalid FILTER/));
  test('wrong root', () => expectFilterError(`<fes:Query ${FES}/>`, /Expected a fes:Filter/));
  test('root in a foreign namespace', () => expectFilterError(`<x:Filter xmlns:x="urn:x"/>`, /Expected a fes:Filter/));
  test('empty Filter', () => expectFilterError(fes(''), /empty/));
  test('two operators at the top', () =>
    expectFilterError(fes(`<fes:PropertyIsNull><fes:ValueReference>a</fes:ValueReference></fes:PropertyIsNull><fes:PropertyIsNull><fes:ValueReference>b</fes:ValueReference></fes:PropertyIsNull>`), /exactly one operator/));
  test('unknown operator', () => expectFilterError(fes(`<fes:PropertyIsSimilar/>`), /Unsupported filter operator fes:PropertyIsSimilar/));
  test('temporal operator that needs a period-valued property', () =>
    expectFilterError(fes(`<fes:Meets><fes:ValueReference>d</fes:ValueReference><fes:Literal>2020-01-01</fes:Literal></fes:Meets>`), /Temporal operator Meets is not supported/));
  test('temporal operator read (FES 2.0 §7.9)', () =>
    expect(parseFesFilterText(fes(`<fes:During><fes:ValueReference>d</fes:ValueReference><gml:TimePeriod><gml:beginPosition>2020-01-01</gml:beginPosition><gml:endPosition>2020-02-01T10:00:00</gml:endPosition></gml:TimePeriod></fes:During>`))).toEqual({
      kind: 'timeOp', op: 'During', property: 'd', begin: { date: '2020-01-01' }, end: { instant: '2020-02-01T10:00:00Z' },
    }));
  test('comparison with one operand', () =>
    expectFilterError(fes(`<fes:PropertyIsEqualTo><fes:ValueReference>a</fes:ValueReference></fes:PropertyIsEqualTo>`), /exactly two expressions/));
  test('bad matchCase', () =>
    expectFilterError(fes(`<fes:PropertyIsEqualTo matchCase="maybe"><fes:ValueReference>a</fes:ValueReference><fes:Literal>1</fes:Literal></fes:PropertyIsEqualTo>`), /matchCase/));
  test('Not with two operands', () =>
    expectFilterError(fes(`<fes:Not><fes:PropertyIsNull><fes:ValueReference>a</fes:ValueReference></fes:PropertyIsNull><fes:PropertyIsNull><fes:ValueReference>b</fes:ValueReference></fes:PropertyIsNull></fes:Not>`), /exactly one operand/));
  test('empty And', () => expectFilterError(fes(`<fes:And/>`), /at least one operand/));
  test('PropertyIsLike without wildCard', () =>
    expectFilterError(fes(`<fes:PropertyIsLike singleChar="_" escapeChar="\\"><fes:ValueReference>a</fes:ValueReference><fes:Literal>x</fes:Literal></fes:PropertyIsLike>`), /wildCard/));
  test('PropertyIsBetween without UpperBoundary', () =>
    expectFilterError(fes(`<fes:PropertyIsBetween><fes:ValueReference>a</fes:ValueReference><fes:LowerBoundary><fes:Literal>1</fes:Literal></fes:LowerBoundary></fes:PropertyIsBetween>`), /UpperBoundary/));
  test('empty ValueReference', () =>
    expectFilterError(fes(`<fes:PropertyIsNull><fes:ValueReference> </fes:ValueReference></fes:PropertyIsNull>`), /Invalid property name/));
  test('ResourceId without rid', () => expectFilterError(fes(`<fes:ResourceId/>`), /no identifier/));
  test('BBOX with a Point instead of an Envelope', () =>
    expectFilterError(fes(`<fes:BBOX><gml:Point><gml:pos>1 2</gml:pos></gml:Point></fes:BBOX>`), /needs a gml:Envelope/));
  test('spatial operator without geometry', () =>
    expectFilterError(fes(`<fes:Intersects><fes:ValueReference>g</fes:ValueReference></fes:Intersects>`), /needs a GML geometry/));
  test('unknown srsName', () =>
    expectFilterError(fes(`<fes:Intersects><gml:Point srsName="EPSG:abc"><gml:pos>1 2</gml:pos></gml:Point></fes:Intersects>`), /Unknown or unsupported srsName "EPSG:abc"/));
  test('DWithin without Distance', () =>
    expectFilterError(fes(`<fes:DWithin><gml:Point><gml:pos>1 2</gml:pos></gml:Point></fes:DWithin>`), /needs a Distance/));
  test('DWithin with a negative / non-numeric distance', () => {
    expectFilterError(fes(`<fes:DWithin><gml:Point><gml:pos>1 2</gml:pos></gml:Point><fes:Distance uom="m">-1</fes:Distance></fes:DWithin>`), /Invalid Distance/);
    expectFilterError(fes(`<fes:DWithin><gml:Point><gml:pos>1 2</gml:pos></gml:Point><fes:Distance uom="m">ten</fes:Distance></fes:DWithin>`), /Invalid Distance/);
  });
  test('DWithin in degrees', () =>
    expectFilterError(fes(`<fes:DWithin><gml:Point><gml:pos>1 2</gml:pos></gml:Point><fes:Distance uom="deg">1</fes:Distance></fes:DWithin>`), /angular units/));
  test('Literal with XML content in a comparison: well formed but not a value, OperationProcessingFailed 400 (ISO 19142 §11.4, the OGC suite)', () => {
    const err = errorOf(() => parseFesFilterText(fes(`<fes:PropertyIsEqualTo><fes:ValueReference>a</fes:ValueReference><fes:Literal><x>1</x></fes:Literal></fes:PropertyIsEqualTo>`)));
    expect(err.code).toBe('OperationProcessingFailed');
    expect(err.locator).toBe('FILTER');
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/XML content/);
  });
  test('bad coordinates', () =>
    expectFilterError(fes(`<fes:Intersects><gml:Point><gml:pos>1 two</gml:pos></gml:Point></fes:Intersects>`), /Invalid coordinate "two"/));
});

describe('issue 13: FES depth and size limits', () => {
  const eq = '<fes:PropertyIsEqualTo><fes:ValueReference>nom</fes:ValueReference><fes:Literal>x</fes:Literal></fes:PropertyIsEqualTo>';
  const wrap = (inner: string) => `<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0">${inner}</fes:Filter>`;
  test('5,000 nested fes:Not are an InvalidParameterValue, not a RangeError', () => {
    // The XML reader's own nesting bound answers first here; either way an OgcError (400), never a RangeError.
    expect(() => parseFesFilterText(wrap('<fes:Not>'.repeat(5000) + eq + '</fes:Not>'.repeat(5000)))).toThrow(OgcError);
  });
  test('a tree 150 fes:Not deep (built by another reader) is refused by the filter depth limit', () => {
    const root = parseXml(wrap('<fes:Not>' + eq + '</fes:Not>'));
    let not = root.children[0]!;
    const leaf = not.children[0]!;
    for (let i = 0; i < 150; i++) {
      const inner = { ...not, children: [leaf] };
      not.children = [inner];
      not = inner;
    }
    expect(() => readFesFilter(root)).toThrow(/nested deeper than 100/);
  });
  test('20 nested fes:Not are read', () => {
    expect(parseFesFilterText(wrap('<fes:Not>'.repeat(20) + eq + '</fes:Not>'.repeat(20))).kind).toBe('not');
  });
  test('more than 10,000 elements are refused', () => {
    expect(() => parseFesFilterText(wrap('<fes:Or>' + eq.repeat(4000) + '</fes:Or>'))).toThrow(/more than 10000/);
  });
});
