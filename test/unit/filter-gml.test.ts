import { describe, expect, test } from 'vitest';
import { readGmlEnvelope, readGmlGeometry } from '../../src/filter/gml-geometry-reader.js';
import { parseXml, type XmlElement } from '../../src/xml/tree.js';
import { OgcError } from '../../src/ogc/errors.js';
import { preloadTestCrs } from './preload-crs.js';

preloadTestCrs();

const GML32 = 'http://www.opengis.net/gml/3.2';
const GML = 'http://www.opengis.net/gml';

/** Parse a GML fragment, binding gml: to the given namespace. */
function el(xml: string, ns = GML32): XmlElement {
  return parseXml(xml.replace(/^<gml:(\w+)/, `<gml:$1 xmlns:gml="${ns}"`));
}

function errorOf(fn: () => unknown): OgcError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OgcError);
    return e as OgcError;
  }
  throw new Error('expected an OgcError, nothing was thrown');
}

describe('axis order', () => {
  test('urn:ogc:def:crs:EPSG::4326 is lat/lon → swapped to lon/lat', () => {
    expect(readGmlGeometry(el(`<gml:Point srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>48.85 2.35</gml:pos></gml:Point>`))).toEqual({
      geojson: { type: 'Point', coordinates: [2.35, 48.85] },
      srid: 4326,
    });
  });

  test('http://www.opengis.net/def/crs/EPSG/0/4326 is swapped too', () => {
    expect(readGmlGeometry(el(`<gml:Point srsName="http://www.opengis.net/def/crs/EPSG/0/4326"><gml:pos>48.85 2.35</gml:pos></gml:Point>`))).toEqual({
      geojson: { type: 'Point', coordinates: [2.35, 48.85] },
      srid: 4326,
    });
  });

  test('EPSG:4326 is x/y (lon/lat) as written: not swapped', () => {
    expect(readGmlGeometry(el(`<gml:Point srsName="EPSG:4326"><gml:pos>2.35 48.85</gml:pos></gml:Point>`))).toEqual({
      geojson: { type: 'Point', coordinates: [2.35, 48.85] },
      srid: 4326,
    });
  });

  test('CRS84 is lon/lat', () => {
    expect(readGmlGeometry(el(`<gml:Point srsName="urn:ogc:def:crs:OGC:1.3:CRS84"><gml:pos>2.35 48.85</gml:pos></gml:Point>`))).toEqual({
      geojson: { type: 'Point', coordinates: [2.35, 48.85] },
      srid: 4326,
    });
  });

  test('urn EPSG::2154 is easting/northing: not swapped', () => {
    expect(readGmlGeometry(el(`<gml:Point srsName="urn:ogc:def:crs:EPSG::2154"><gml:pos>651000 6860000</gml:pos></gml:Point>`))).toEqual({
      geojson: { type: 'Point', coordinates: [651000, 6860000] },
      srid: 2154,
    });
  });

  test('urn EPSG::3035 is northing/easting: swapped', () => {
    expect(readGmlGeometry(el(`<gml:Point srsName="urn:ogc:def:crs:EPSG::3035"><gml:pos>2800000 3900000</gml:pos></gml:Point>`))).toEqual({
      geojson: { type: 'Point', coordinates: [3900000, 2800000] },
      srid: 3035,
    });
  });

  test('inherited srsName applies when the geometry has none; its own wins otherwise', () => {
    const noSrs = el(`<gml:Point><gml:pos>48.85 2.35</gml:pos></gml:Point>`);
    expect(readGmlGeometry(noSrs)).toEqual({ geojson: { type: 'Point', coordinates: [48.85, 2.35] } });
    expect(readGmlGeometry(noSrs, 'urn:ogc:def:crs:EPSG::4326')).toEqual({ geojson: { type: 'Point', coordinates: [2.35, 48.85] }, srid: 4326 });
    const own = el(`<gml:Point srsName="EPSG:2154"><gml:pos>1 2</gml:pos></gml:Point>`);
    expect(readGmlGeometry(own, 'urn:ogc:def:crs:EPSG::4326')).toEqual({ geojson: { type: 'Point', coordinates: [1, 2] }, srid: 2154 });
  });

  test('members inherit the srsName of the multi-geometry', () => {
    const g = el(`<gml:MultiPoint srsName="urn:ogc:def:crs:EPSG::4326">
      <gml:pointMember><gml:Point><gml:pos>1 2</gml:pos></gml:Point></gml:pointMember>
      <gml:pointMembers><gml:Point><gml:pos>3 4</gml:pos></gml:Point><gml:Point><gml:pos>5 6</gml:pos></gml:Point></gml:pointMembers>
    </gml:MultiPoint>`);
    expect(readGmlGeometry(g)).toEqual({
      geojson: {
        type: 'MultiPoint',
        coordinates: [
          [2, 1],
          [4, 3],
          [6, 5],
        ],
      },
      srid: 4326,
    });
  });
});

describe('GML 3.2 geometries', () => {
  test('Envelope', () => {
    const e = el(`<gml:Envelope srsName="urn:ogc:def:crs:EPSG::4326"><gml:lowerCorner>48 2</gml:lowerCorner><gml:upperCorner>49 3</gml:upperCorner></gml:Envelope>`);
    expect(readGmlEnvelope(e)).toEqual({ minx: 2, miny: 48, maxx: 3, maxy: 49, srid: 4326 });
    expect(readGmlEnvelope(el(`<gml:Envelope><gml:lowerCorner>0 1</gml:lowerCorner><gml:upperCorner>2 3</gml:upperCorner></gml:Envelope>`))).toEqual({
      minx: 0,
      miny: 1,
      maxx: 2,
      maxy: 3,
    });
  });

  test('Envelope with srsDimension=3 drops Z', () => {
    const e = el(`<gml:Envelope srsName="EPSG:4979" srsDimension="3"><gml:lowerCorner>2 48 0</gml:lowerCorner><gml:upperCorner>3 49 100</gml:upperCorner></gml:Envelope>`);
    expect(readGmlEnvelope(e)).toEqual({ minx: 2, miny: 48, maxx: 3, maxy: 49, srid: 4979 });
  });

  test('LineString with 3D posList (srsDimension on posList) drops Z', () => {
    const g = el(`<gml:LineString srsName="EPSG:2154"><gml:posList srsDimension="3" count="3">0 0 10 1 1 11 2 0 12</gml:posList></gml:LineString>`);
    expect(readGmlGeometry(g)).toEqual({
      geojson: {
        type: 'LineString',
        coordinates: [
          [0, 0],
          [1, 1],
          [2, 0],
        ],
      },
      srid: 2154,
    });
  });

  test('3D posList with srsDimension on the geometry, swapped in urn 4326', () => {
    const g = el(`<gml:LineString srsName="urn:ogc:def:crs:EPSG::4979" srsDimension="3"><gml:posList>48 2 100 49 3 200</gml:posList></gml:LineString>`);
    expect(readGmlGeometry(g)).toEqual({
      geojson: {
        type: 'LineString',
        coordinates: [
          [2, 48],
          [3, 49],
        ],
      },
      srid: 4979,
    });
  });

  test('LineString from pos elements and a 3D pos', () => {
    const g = el(`<gml:LineString><gml:pos>0 0 5</gml:pos><gml:pos>1 1 5</gml:pos></gml:LineString>`);
    expect(readGmlGeometry(g)).toEqual({
      geojson: {
        type: 'LineString',
        coordinates: [
          [0, 0],
          [1, 1],
        ],
      },
    });
  });

  test('Polygon with interior ring', () => {
    const g = el(`<gml:Polygon gml:id="p" srsName="EPSG:2154">
      <gml:exterior><gml:LinearRing><gml:posList>0 0 10 0 10 10 0 10 0 0</gml:posList></gml:LinearRing></gml:exterior>
      <gml:interior><gml:LinearRing><gml:posList>2 2 4 2 4 4 2 2</gml:posList></gml:LinearRing></gml:interior>
    </gml:Polygon>`);
    expect(readGmlGeometry(g)).toEqual({
      geojson: {
        type: 'Polygon',
        coordinates: [
          [
            [0, 0],
            [10, 0],
            [10, 10],
            [0, 10],
            [0, 0],
          ],
          [
            [2, 2],
            [4, 2],
            [4, 4],
            [2, 2],
          ],
        ],
      },
      srid: 2154,
    });
  });

  test('MultiSurface with surfaceMember Polygon and a Surface/PolygonPatch, in urn 4326', () => {
    const g = el(`<gml:MultiSurface srsName="urn:ogc:def:crs:EPSG::4326">
      <gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>0 0 0 1 1 1 0 0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
      <gml:surfaceMember><gml:Surface><gml:patches><gml:PolygonPatch><gml:exterior><gml:LinearRing>
        <gml:posList>10 10 10 11 11 11 10 10</gml:posList></gml:LinearRing></gml:exterior></gml:PolygonPatch></gml:patches></gml:Surface></gml:surfaceMember>
    </gml:MultiSurface>`);
    expect(readGmlGeometry(g)).toEqual({
      geojson: {
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
              [10, 10],
              [11, 10],
              [11, 11],
              [10, 10],
            ],
          ],
        ],
      },
      srid: 4326,
    });
  });

  test('MultiSurface with surfaceMembers', () => {
    const ring = (o: number) => `<gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>${o} ${o} ${o + 1} ${o} ${o + 1} ${o + 1} ${o} ${o}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>`;
    const g = el(`<gml:MultiSurface srsName="EPSG:2154"><gml:surfaceMembers>${ring(0)}${ring(5)}</gml:surfaceMembers></gml:MultiSurface>`);
    expect(readGmlGeometry(g)).toEqual({
      geojson: {
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
      },
      srid: 2154,
    });
  });

  test('Curve with two LineStringSegments (junction point not duplicated) in a MultiCurve', () => {
    const g = el(`<gml:MultiCurve srsName="EPSG:2154">
      <gml:curveMember><gml:Curve><gml:segments>
        <gml:LineStringSegment><gml:posList>0 0 1 1</gml:posList></gml:LineStringSegment>
        <gml:LineStringSegment><gml:posList>1 1 2 0</gml:posList></gml:LineStringSegment>
      </gml:segments></gml:Curve></gml:curveMember>
      <gml:curveMember><gml:LineString><gml:posList>5 5 6 6</gml:posList></gml:LineString></gml:curveMember>
    </gml:MultiCurve>`);
    expect(readGmlGeometry(g)).toEqual({
      geojson: {
        type: 'MultiLineString',
        coordinates: [
          [
            [0, 0],
            [1, 1],
            [2, 0],
          ],
          [
            [5, 5],
            [6, 6],
          ],
        ],
      },
      srid: 2154,
    });
  });

  test('MultiGeometry → GeometryCollection', () => {
    const g = el(`<gml:MultiGeometry srsName="EPSG:4326"><gml:geometryMember><gml:Point><gml:pos>1 2</gml:pos></gml:Point></gml:geometryMember>
      <gml:geometryMember><gml:LineString><gml:posList>0 0 1 1</gml:posList></gml:LineString></gml:geometryMember></gml:MultiGeometry>`);
    expect(readGmlGeometry(g)).toEqual({
      geojson: {
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
      },
      srid: 4326,
    });
  });
});

describe('GML 3.1.1 and GML 2', () => {
  test('GML 3.1.1 MultiPolygon/polygonMember with exterior and pos-sequence ring', () => {
    const g = el(
      `<gml:MultiPolygon srsName="EPSG:4326"><gml:polygonMember><gml:Polygon><gml:exterior><gml:LinearRing>
        <gml:pos>0 0</gml:pos><gml:pos>1 0</gml:pos><gml:pos>1 1</gml:pos><gml:pos>0 0</gml:pos>
      </gml:LinearRing></gml:exterior></gml:Polygon></gml:polygonMember></gml:MultiPolygon>`,
      GML,
    );
    expect(readGmlGeometry(g)).toEqual({
      geojson: {
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
        ],
      },
      srid: 4326,
    });
  });

  test('GML 2 Polygon outerBoundaryIs / innerBoundaryIs with coordinates', () => {
    const g = el(
      `<gml:Polygon srsName="http://www.opengis.net/gml/srs/epsg.xml#4326">
        <gml:outerBoundaryIs><gml:LinearRing><gml:coordinates>0,0 10,0 10,10 0,0</gml:coordinates></gml:LinearRing></gml:outerBoundaryIs>
        <gml:innerBoundaryIs><gml:LinearRing><gml:coordinates>1,1 2,1 2,2 1,1</gml:coordinates></gml:LinearRing></gml:innerBoundaryIs>
      </gml:Polygon>`,
      GML,
    );
    expect(readGmlGeometry(g)).toEqual({
      geojson: {
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
      },
      srid: 4326,
    });
  });

  test('gml:coordinates with custom cs / ts / decimal', () => {
    const g = el(`<gml:LineString srsName="EPSG:2154"><gml:coordinates cs=";" ts="|" decimal=",">1,5;2,5|3;4,25</gml:coordinates></gml:LineString>`, GML);
    expect(readGmlGeometry(g)).toEqual({
      geojson: {
        type: 'LineString',
        coordinates: [
          [1.5, 2.5],
          [3, 4.25],
        ],
      },
      srid: 2154,
    });
  });

  test('gml:coordinates tolerates spaces after the comma and 3D tuples', () => {
    const g = el(`<gml:LineString><gml:coordinates>1, 2,9 3,4,9</gml:coordinates></gml:LineString>`, GML);
    expect(readGmlGeometry(g).geojson).toEqual({
      type: 'LineString',
      coordinates: [
        [1, 2],
        [3, 4],
      ],
    });
  });

  test('GML 2 Point with coord, MultiLineString/lineStringMember, Box', () => {
    expect(readGmlGeometry(el(`<gml:Point srsName="EPSG:4326"><gml:coord><gml:X>2</gml:X><gml:Y>48</gml:Y></gml:coord></gml:Point>`, GML))).toEqual({
      geojson: { type: 'Point', coordinates: [2, 48] },
      srid: 4326,
    });
    expect(
      readGmlGeometry(
        el(`<gml:MultiLineString><gml:lineStringMember><gml:LineString><gml:coordinates>0,0 1,1</gml:coordinates></gml:LineString></gml:lineStringMember></gml:MultiLineString>`, GML),
      ),
    ).toEqual({
      geojson: {
        type: 'MultiLineString',
        coordinates: [
          [
            [0, 0],
            [1, 1],
          ],
        ],
      },
    });
    expect(readGmlEnvelope(el(`<gml:Box srsName="EPSG:4326"><gml:coordinates>-1,40 3,50</gml:coordinates></gml:Box>`, GML))).toEqual({
      minx: -1,
      miny: 40,
      maxx: 3,
      maxy: 50,
      srid: 4326,
    });
    expect(readGmlEnvelope(el(`<gml:Box><gml:coord><gml:X>0</gml:X><gml:Y>1</gml:Y></gml:coord><gml:coord><gml:X>2</gml:X><gml:Y>3</gml:Y></gml:coord></gml:Box>`, GML))).toEqual({
      minx: 0,
      miny: 1,
      maxx: 2,
      maxy: 3,
    });
  });

  test('Box in urn 4326 is swapped', () => {
    expect(readGmlEnvelope(el(`<gml:Box srsName="urn:ogc:def:crs:EPSG::4326"><gml:coordinates>40,-1 50,3</gml:coordinates></gml:Box>`, GML))).toEqual({
      minx: -1,
      miny: 40,
      maxx: 3,
      maxy: 50,
      srid: 4326,
    });
  });

  test('Envelope read as a geometry is a polygon', () => {
    expect(readGmlGeometry(el(`<gml:Envelope srsName="EPSG:2154"><gml:lowerCorner>0 0</gml:lowerCorner><gml:upperCorner>1 2</gml:upperCorner></gml:Envelope>`))).toEqual({
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
      srid: 2154,
    });
  });
});

describe('errors', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['unknown srsName', `<gml:Point srsName="EPSG:WGS84"><gml:pos>1 2</gml:pos></gml:Point>`, /Unknown or unsupported srsName "EPSG:WGS84"/],
    ['unknown inherited srsName', `<gml:Point><gml:pos>1 2</gml:pos></gml:Point>`, /Unknown or unsupported srsName "foo"/],
    ['pos with one number', `<gml:Point><gml:pos>1</gml:pos></gml:Point>`, /must hold 2 numbers/],
    ['posList not a multiple of the dimension', `<gml:LineString><gml:posList srsDimension="3">0 0 0 1 1</gml:posList></gml:LineString>`, /not a multiple/],
    ['bad srsDimension', `<gml:LineString><gml:posList srsDimension="4">0 0 0 0</gml:posList></gml:LineString>`, /srsDimension/],
    ['non-numeric', `<gml:Point><gml:pos>1 x</gml:pos></gml:Point>`, /Invalid coordinate "x"/],
    ['open ring', `<gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>0 0 1 0 1 1 0 1</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>`, /not closed/],
    ['short ring', `<gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>0 0 1 0 0 0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>`, /at least 4 positions/],
    ['polygon without exterior', `<gml:Polygon/>`, /exactly one exterior/],
    ['one-point line', `<gml:LineString><gml:posList>0 0</gml:posList></gml:LineString>`, /at least 2 positions/],
    ['unsupported geometry', `<gml:Arc><gml:posList>0 0 1 1 2 0</gml:posList></gml:Arc>`, /Unsupported GML geometry gml:Arc/],
    ['arc segment', `<gml:Curve><gml:segments><gml:Arc><gml:posList>0 0 1 1 2 0</gml:posList></gml:Arc></gml:segments></gml:Curve>`, /Unsupported curve segment gml:Arc/],
    ['xlink member', `<gml:MultiPoint><gml:pointMember xlink:href="#p1" xmlns:xlink="http://www.w3.org/1999/xlink"/></gml:MultiPoint>`, /xlink/],
    ['mixed CRS', `<gml:MultiPoint srsName="EPSG:4326"><gml:pointMember><gml:Point srsName="EPSG:2154"><gml:pos>1 2</gml:pos></gml:Point></gml:pointMember><gml:pointMember><gml:Point><gml:pos>1 2</gml:pos></gml:Point></gml:pointMember></gml:MultiPoint>`, /mixes coordinate reference systems/],
    ['envelope missing a corner', `<gml:Envelope><gml:lowerCorner>0 0</gml:lowerCorner></gml:Envelope>`, /both lowerCorner and upperCorner/],
    ['Box with three tuples', `<gml:Box><gml:coordinates>0,0 1,1 2,2</gml:coordinates></gml:Box>`, /exactly two corners/],
    ['coordinates with a one-value tuple', `<gml:Box><gml:coordinates>13.0983,31.5899 35.5472 42.8143</gml:coordinates></gml:Box>`, /must have 2 or 3 values/],
  ];
  test.each(cases)('%s', (_name, xml, message) => {
    const read = () => {
      const e = el(xml);
      return ['Envelope', 'Box'].includes(e.name) ? readGmlEnvelope(e) : readGmlGeometry(e, _name === 'unknown inherited srsName' ? 'foo' : undefined);
    };
    const err = errorOf(read);
    expect(err.code).toBe('InvalidParameterValue');
    expect(err.locator).toBe('FILTER');
    expect(err.message).toMatch(message);
  });

  test('a custom locator is used', () => {
    const err = errorOf(() => readGmlGeometry(el(`<gml:Point srsName="nope"><gml:pos>1 2</gml:pos></gml:Point>`), undefined, 'Transaction'));
    expect(err.locator).toBe('Transaction');
  });

  test('not a GML element', () => {
    const err = errorOf(() => readGmlGeometry(parseXml(`<x:Point xmlns:x="urn:x"><x:pos>1 2</x:pos></x:Point>`)));
    expect(err.message).toMatch(/Expected a GML geometry/);
    const err2 = errorOf(() => readGmlEnvelope(el(`<gml:Point><gml:pos>1 2</gml:pos></gml:Point>`)));
    expect(err2.message).toMatch(/Expected gml:Envelope or gml:Box/);
  });
});
