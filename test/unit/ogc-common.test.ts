/** OGC common pieces: KVP decoding, CRS identifiers and axis order, configuration validation. */
import { describe, it, expect } from 'vitest';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kvp } from '../../src/ogc/kvp.js';
import { parseCrs, isYX } from '../../src/crs/identifiers.js';
import { loadConfig } from '../../src/config/index.js';
import { parseBbox, parseNamespaces } from '../../services/features/wfs/kvp-reader.js';
import { outputFormat } from '../../services/features/wfs/output-formats.js';
import { numberGeometryIds } from '../../src/formats/gml/feature.js';
import { preloadTestCrs } from './preload-crs.js';

preloadTestCrs();

describe('KVP', () => {
  it('names are case-insensitive, values %xx and + decoded, first occurrence wins', () => {
    const k = new Kvp('service=WFS&ReQuEsT=GetFeature&TYPENAMES=sdi%3Acommunes&OUTPUTFORMAT=application%2Fgml%2Bxml%3B+version%3D3.2&typenames=other');
    expect(k.get('REQUEST')).toBe('GetFeature');
    expect(k.get('typeNames')).toBe('sdi:communes');
    expect(k.get('outputformat')).toBe('application/gml+xml; version=3.2');
    expect(new Kvp('A=%E9%ZZ').get('a')).toBe('%E9%ZZ');
  });

  it('an unencoded + in an output format still selects GML 3.2', () => {
    const k = new Kvp('OUTPUTFORMAT=application/gml+xml;+version=3.2');
    expect(outputFormat(k.get('OUTPUTFORMAT'), '2.0.0')).toMatchObject({ kind: 'gml', gml: '3.2' });
  });

  it('NAMESPACES in the 2.0 and 1.x spellings', () => {
    expect([...parseNamespaces('xmlns(sdi,https://x/f),xmlns(b,urn:b)')]).toEqual([['sdi', 'https://x/f'], ['b', 'urn:b']]);
    expect([...parseNamespaces('xmlns(sdi=https://x/f)')]).toEqual([['sdi', 'https://x/f']]);
  });
});

describe('CRS identifiers and axis order', () => {
  it.each([
    ['EPSG:4326', 4326, false],
    ['urn:ogc:def:crs:EPSG::4326', 4326, true],
    ['urn:x-ogc:def:crs:EPSG:4326', 4326, true],
    ['http://www.opengis.net/def/crs/EPSG/0/4326', 4326, true],
    ['http://www.opengis.net/gml/srs/epsg.xml#4326', 4326, false],
    ['CRS:84', 4326, false],
    ['http://www.opengis.net/def/crs/OGC/1.3/CRS84', 4326, false],
    ['urn:ogc:def:crs:EPSG::2154', 2154, false],
    ['urn:ogc:def:crs:EPSG::3035', 3035, true],
    ['urn:ogc:def:crs:EPSG::4258', 4258, true],
    ['EPSG:3035', 3035, false],
  ])('%s → %i, northing first: %s', (text, srid, yx) => {
    const ref = parseCrs(text)!;
    expect(ref.srid).toBe(srid);
    expect(ref.text).toBe(text);
    expect(isYX(ref)).toBe(yx);
  });

  it('rejects what is not a CRS identifier', () => {
    expect(parseCrs('lambert93')).toBeUndefined();
    expect(parseCrs('EPSG:abc')).toBeUndefined();
  });

  it('BBOX corners are swapped to x/y for lat/lon URNs only', () => {
    expect(parseBbox('47.8,1.8,48.0,2.0,urn:ogc:def:crs:EPSG::4326')).toEqual({ minx: 1.8, miny: 47.8, maxx: 2, maxy: 48, srid: 4326 });
    expect(parseBbox('1.8,47.8,2.0,48.0,EPSG:4326')).toEqual({ minx: 1.8, miny: 47.8, maxx: 2, maxy: 48, srid: 4326 });
    expect(parseBbox('600000,6700000,700000,6800000')).toEqual({ minx: 600000, miny: 6700000, maxx: 700000, maxy: 6800000, srid: undefined });
  });
});

describe('GML geometry ids', () => {
  it('renumbers the repeats of one geometry id and leaves the feature id alone', () => {
    const f = '<sdi:c gml:id="c.1"><sdi:geom><gml:MultiSurface gml:id="c.1.geom"><gml:surfaceMember><gml:Polygon gml:id="c.1.geom"/></gml:surfaceMember><gml:surfaceMember><gml:Polygon gml:id="c.1.geom"/></gml:surfaceMember></gml:MultiSurface></sdi:geom></sdi:c>';
    expect(numberGeometryIds(f)).toBe(f.replace('<gml:Polygon gml:id="c.1.geom"/>', '<gml:Polygon gml:id="c.1.geom.1"/>').replace('<gml:Polygon gml:id="c.1.geom"/>', '<gml:Polygon gml:id="c.1.geom.2"/>'));
  });
});

describe('configuration', () => {
  const file = (content: unknown) => {
    const p = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'c.json');
    writeFileSync(p, JSON.stringify(content));
    return p;
  };

  it('merges a valid file under environment variables', () => {
    const c = loadConfig({ SDI_CONFIG: file({ port: 9000, features: { maxFeatures: 500 }, service: { title: 'GéoCentre' } }), PORT: '9100' });
    expect(c.port).toBe(9100);
    expect(c.features.maxFeatures).toBe(500);
    expect(c.features.oapiLimitMax).toBe(10000);
    expect(c.service.title).toBe('GéoCentre');
  });

  it('refuses an invalid file with the offending path', () => {
    expect(() => loadConfig({ SDI_CONFIG: file({ features: { maxFeatures: -1 }, colour: 'red' }) })).toThrow(/maxFeatures|colour/);
  });
});
