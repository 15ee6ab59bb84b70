/**
 * Issue 10, detection with overrides: source CRS parameters (EPSG codes, OGC URN/URI, IGNF names through the
 * alias table, PROJ not always resolving them: 3liz/QgisCadastrePlugin#530), a CRS GDAL describes identified to
 * EPSG (an ESRI .prj; AutoIdentifyEPSG then FindMatches), and the encoding of text files (BOM, UTF-8, Latin-1,
 * Windows-1252 by its C1 bytes).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { describe, expect, it } from 'vitest';
import { crsFromParameter, identifyEpsg } from '../../src/import/crs.js';
import { encodingFromParameter, textFileEncoding } from '../../src/import/encoding.js';

describe('source CRS parameter', () => {
  it('reads EPSG codes in every usual spelling and IGNF names', () => {
    for (const v of ['EPSG:2154', '2154', 'epsg:2154', 'urn:ogc:def:crs:EPSG::2154', 'http://www.opengis.net/def/crs/EPSG/0/2154', 'IGNF:LAMB93', 'ignf:lamb93']) expect(crsFromParameter(v), v).toBe(2154);
    expect(crsFromParameter('IGNF:RGF93CC47')).toBe(3947);
    expect(crsFromParameter('IGNF:LAMBE')).toBe(27572);
    expect(crsFromParameter('IGNF:RGR92UTM40S')).toBe(2975);
  });
  it('refuses what it cannot read, saying what it reads', () => {
    expect(() => crsFromParameter('IGNF:NOWHERE')).toThrow(/no known EPSG equivalent/);
    expect(() => crsFromParameter('Lambert 93')).toThrow(/EPSG:2154, 2154, IGNF:LAMB93/);
  });
});

describe('a CRS GDAL describes, identified to EPSG', () => {
  it('an ESRI Lambert-93 .prj (no AUTHORITY node), WGS 84, CC47 from PROJ strings', async () => {
    const esri = gdal.SpatialReference.fromESRI([
      'PROJCS["RGF93_Lambert_93",GEOGCS["GCS_RGF_1993",DATUM["D_RGF_1993",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic"],PARAMETER["False_Easting",700000.0],PARAMETER["False_Northing",6600000.0],PARAMETER["Central_Meridian",3.0],PARAMETER["Standard_Parallel_1",44.0],PARAMETER["Standard_Parallel_2",49.0],PARAMETER["Latitude_Of_Origin",46.5],UNIT["Meter",1.0]]',
    ]);
    expect((await identifyEpsg(esri)).epsg).toBe(2154);
    expect((await identifyEpsg(gdal.SpatialReference.fromEPSG(4326))).epsg).toBe(4326);
    expect((await identifyEpsg(gdal.SpatialReference.fromUserInput('IGNF:LAMB93'))).epsg).toBe(2154);
  });
});

describe('encoding of a text file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdi-enc-'));
  const file = (name: string, bytes: Buffer) => {
    const f = join(dir, name);
    writeFileSync(f, bytes);
    return f;
  };
  it('BOM, UTF-8, Latin-1, Windows-1252 (C1 bytes: € ’), pure ASCII', async () => {
    expect(await textFileEncoding(file('bom.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('nom\nÉcole\n')])))).toMatchObject({ name: 'utf-8', source: 'bom' });
    expect(await textFileEncoding(file('utf8.csv', Buffer.from('nom\nÉcole\n')))).toMatchObject({ name: 'utf-8', source: 'heuristic' });
    expect(await textFileEncoding(file('latin1.csv', Buffer.from('nom\nÉcole\n', 'latin1')))).toMatchObject({ name: 'iso-8859-1', gdal: 'ISO-8859-1' });
    expect(await textFileEncoding(file('cp1252.csv', Buffer.from([0x6e, 0x0a, 0x80, 0x20, 0x92, 0x0a])))).toMatchObject({ name: 'windows-1252', gdal: 'CP1252' });
    expect(await textFileEncoding(file('ascii.csv', Buffer.from('a,b\n1,2\n')))).toMatchObject({ name: 'utf-8' });
  });
  it('the encoding parameter: usual names, refused unknown ones', () => {
    expect(encodingFromParameter('latin1')).toMatchObject({ gdal: 'CP1252' }); // WHATWG: latin1 is windows-1252, its superset
    expect(encodingFromParameter('UTF8')).toMatchObject({ name: 'utf-8', gdal: 'UTF-8' });
    expect(encodingFromParameter('iso-8859-15')).toMatchObject({ gdal: 'ISO-8859-15' });
    expect(() => encodingFromParameter('klingon-8')).toThrow(/Unknown encoding/);
  });
});
