/**
 * Real clients against the catalogue: OWSLib's CatalogueServiceWeb used as QGIS MetaSearch uses it
 * (owslib_csw_check.py), and GDAL's CSW driver (ogrinfo CSW:…). Results are compared with the database
 * and with values read from the fixture files.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { db, hasCommand, run } from '../helpers.js';
import { allIdentifiers, cswUrl, loadFixtures } from './setup.js';

const PYTHON = process.env.OWSLIB_PYTHON ?? '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, 'owslib_csw_check.py');
// MetaSearch-style search: "cadastre" in Brittany (lat 47..48.5, lon -5..-1).
const TERM = 'cadastre';
const BOX = { miny: 47, minx: -5, maxy: 48.5, maxx: -1 };
const PAGE = 4;

interface Rec { identifier: string; title: string; type: string; modified: string | null; references: Array<{ scheme: string | null; url: string }>; bbox: { minx: number; miny: number; maxx: number; maxy: number; crs: string | null } | null }
interface Search { matches: number; returned: number; nextrecord: number; ids: string[]; records: Record<string, Rec> | null; request: string; iso?: Record<string, { identifier: string; title: string; hierarchy: string; datestamp: string }> }
interface Step<T> { result?: T; exception?: string; traceback?: string }
let report: { owslibVersion: string; steps: Record<string, Step<any>> };

const step = <T>(name: string): T => {
  const s = report.steps[name];
  expect(s, `step ${name} missing`).toBeDefined();
  expect(s!.exception, s!.traceback).toBeUndefined();
  return s!.result as T;
};

const fullTextIds = (term: string) => allIdentifiers(`anytext_tsv @@ sdi.anytext_query($1, true)`, [term]);
const boxIds = () => allIdentifiers(`ST_Intersects(bbox, ST_MakeEnvelope($1, $2, $3, $4, 4326))`, [BOX.minx, BOX.miny, BOX.maxx, BOX.maxy]);

beforeAll(async () => {
  expect((await loadFixtures()).failed).toEqual([]);
  expect(existsSync(PYTHON), `${PYTHON} (with python3-owslib) must exist`).toBe(true);
  const out = join(mkdtempSync(join(tmpdir(), 'sdi-owslib-csw-')), 'report.json');
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONIOENCODING: 'utf-8' };
  for (const k of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY']) delete env[k];
  await new Promise<void>((resolve, reject) =>
    execFile(PYTHON, [SCRIPT, cswUrl(), out, TERM, String(BOX.miny), String(BOX.minx), String(BOX.maxy), String(BOX.maxx), String(PAGE)], { env, timeout: 240_000 }, (err, _o, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(),
    ),
  );
  report = JSON.parse(readFileSync(out, 'utf8'));
}, 300_000);

describe('OWSLib CatalogueServiceWeb (QGIS MetaSearch)', () => {
  it('reads the capabilities: version, operations, the POST URL of GetRecords, the ISO queryables', () => {
    const caps = step<{ version: string; type: string; operations: string[]; getRecordsPost: string[]; constraints: Record<string, string[]>; parameters: Record<string, string[]> }>('capabilities');
    expect(caps.version).toBe('2.0.2');
    expect(caps.type).toBe('CSW');
    expect(caps.operations.slice(0, 5)).toEqual(['GetCapabilities', 'DescribeRecord', 'GetRecords', 'GetRecordById', 'GetDomain']);
    expect(caps.operations).toContain('Transaction');
    expect(caps.getRecordsPost).toEqual([cswUrl()]);
    expect(caps.constraints['SupportedISOQueryables']).toContain('Language');
    expect(caps.parameters['outputSchema']).toContain('http://www.isotc211.org/2005/gmd');
  });

  it('AnyText search with the words as typed (PropertyIsLike, no wildcard) finds the records containing them', async () => {
    const r = step<Search>('anytext');
    expect(r.request).toContain('<ogc:PropertyIsLike wildCard="%" singleChar="_" escapeChar="\\"><ogc:PropertyName>csw:AnyText</ogc:PropertyName><ogc:Literal>cadastre</ogc:Literal>');
    const expected = await fullTextIds(TERM);
    expect(r.matches).toBe(expected.length);
    expect(r.ids.sort()).toEqual(expected);
    const gb = r.records!['955c3e47-411e-4969-b61b-3556d1b9f879']!;
    expect(gb.title).toBe('Cadastre 2018 en Bretagne');
    expect(gb.type).toBe('dataset');
    expect(gb.modified).toBe('2018-07-30T14:19:40');
    // OWSLib honours the crs of ows:BoundingBox: it must come back as the fixture's lon/lat values.
    expect(gb.bbox).toEqual({ minx: -5.23515625, miny: 46.755859375, maxx: -1.1921875, maxy: 49.30468750000001, crs: 'urn:ogc:def:crs:EPSG::4326' });
  });

  it('BBOX search in urn:ogc:def:crs:EPSG::4326 lat/lon order, alone and with the words (ogc:And)', async () => {
    const b = step<Search>('bbox');
    expect(b.request).toContain('<gml:Envelope srsName="urn:ogc:def:crs:EPSG::4326"><gml:lowerCorner>47.0 -5.0</gml:lowerCorner><gml:upperCorner>48.5 -1.0</gml:upperCorner>');
    expect(b.ids.sort()).toEqual(await boxIds());
    const both = step<Search>('both');
    expect(both.request).toContain('<ogc:And>');
    const boxes = new Set(await boxIds());
    expect(both.ids.sort()).toEqual((await fullTextIds(TERM)).filter((i) => boxes.has(i)));
    expect(both.ids).toContain('955c3e47-411e-4969-b61b-3556d1b9f879');
  });

  it('paging with startposition visits every record once, with exact matches/returned/nextrecord', async () => {
    const pages = step<Array<{ matches: number; returned: number; nextrecord: number; ids: string[] }>>('paging');
    const all = await allIdentifiers();
    expect(pages).toHaveLength(Math.ceil(all.length / PAGE));
    pages.forEach((p, i) => {
      expect(p.matches).toBe(all.length);
      expect(p.returned).toBe(p.ids.length);
      expect(p.nextrecord).toBe(i === pages.length - 1 ? 0 : (i + 1) * PAGE + 1);
    });
    expect(pages.flatMap((p) => p.ids)).toEqual(all);
  });

  it('getrecordbyid of each hit gives back the record under exactly its identifier (MetaSearch "View metadata")', async () => {
    const hits = step<Search>('anytext').ids;
    const byId = step<Record<string, Rec>>('getrecordbyid');
    expect(Object.keys(byId).sort()).toEqual([...hits].sort());
    const { rows } = await db().query<{ identifier: string; title: string }>(`SELECT identifier, title FROM sdi.metadata_records WHERE identifier = ANY($1)`, [hits]);
    for (const row of rows) {
      expect(byId[row.identifier]!.identifier).toBe(row.identifier);
      expect(byId[row.identifier]!.title).toBe(row.title);
    }
  });

  it('links reach MetaSearch as dct:references with the OGC:WFS / OGC:WMS schemes it recognises', async () => {
    // The BD TOPO and Sandre records write their services as CNIG gmx:Anchor / OGC:WMS protocols.
    const byId = step<Search>('bbox').records!;
    const sandre = byId['95dfaccc-529c-47b3-b2cf-cf71c64f5cf1']!;
    const schemes = sandre.references.map((r) => `${r.scheme} ${r.url}`);
    expect(schemes).toContain('OGC:WMS https://services.sandre.eaufrance.fr/geo/MasseDEau_VRAP2022?');
    expect(schemes).toContain('OGC:WFS https://services.sandre.eaufrance.fr/geo/MasseDEau_VRAP2022?');
    const bdtopo = byId['IGNF_BDTOPOr_3.xml']!;
    expect(bdtopo.references).toContainEqual({ scheme: 'OGC:WFS', url: 'https://data.geopf.fr/wfs?service=WFS&version=2.0.0&request=GetCapabilities' });
  });

  it('the ISO output schema parses into OWSLib MD_Metadata with identifier, title, hierarchy and dateStamp', async () => {
    const r = step<Search>('iso');
    const { rows } = await db().query<{ identifier: string; title: string; type: string; date_stamp: string }>(`SELECT identifier, title, type, date_stamp FROM sdi.metadata_records WHERE identifier = ANY($1)`, [r.ids]);
    expect(rows.length).toBe(r.ids.length);
    for (const row of rows) expect(r.iso![row.identifier]).toEqual({ identifier: row.identifier, title: row.title, hierarchy: row.type, datestamp: row.date_stamp });
  });
});

describe('GDAL CSW driver', () => {
  it('ogrinfo CSW:<url> lists every record with its identifier, type and footprint', async () => {
    expect(hasCommand('ogrinfo')).toBe(true);
    const out = run('ogrinfo', ['-ro', '-al', '-q', `CSW:${cswUrl()}`]);
    const features = out.split(/\n(?=OGRFeature\(records\):)/).filter((f) => f.startsWith('OGRFeature'));
    const { rows } = await db().query<{ identifier: string; type: string; minx: number | null; miny: number | null; maxx: number | null; maxy: number | null }>(
      `SELECT identifier, type, ST_XMin(bbox) minx, ST_YMin(bbox) miny, ST_XMax(bbox) maxx, ST_YMax(bbox) maxy FROM sdi.metadata_records ORDER BY identifier`,
    );
    expect(features).toHaveLength(rows.length);
    const byId = new Map(features.map((f) => [/identifier \(String\) = (.*)/.exec(f)![1]!.trim(), f]));
    expect([...byId.keys()].sort()).toEqual(rows.map((r) => r.identifier));
    for (const r of rows) {
      const f = byId.get(r.identifier)!;
      expect(f).toContain(`type (String) = ${r.type}`);
      if (r.minx === null) {
        expect(f).not.toMatch(/POLYGON/);
        continue;
      }
      // GDAL swaps the urn lat/lon box back to lon/lat: the first vertex is (minx miny).
      const m = /POLYGON \(\(([-\d.e]+) ([-\d.e]+),/.exec(f)!;
      expect(Number(m[1])).toBeCloseTo(r.minx, 6);
      expect(Number(m[2])).toBeCloseTo(r.miny!, 6);
    }
  });

  it('ogrinfo -so counts with resultType=hits, and a spatial filter goes to the server as a lat/lon BBOX', async () => {
    const so = run('ogrinfo', ['-ro', '-so', `CSW:${cswUrl()}`, 'records']);
    expect(/Feature Count: (\d+)/.exec(so)![1]).toBe(String((await allIdentifiers()).length));
    const filtered = run('ogrinfo', ['-ro', '-al', '-q', '-spat', String(BOX.minx), String(BOX.miny), String(BOX.maxx), String(BOX.maxy), `CSW:${cswUrl()}`]);
    const ids = [...filtered.matchAll(/identifier \(String\) = (.*)/g)].map((m) => m[1]!.trim()).sort();
    expect(ids).toEqual(await boxIds());
  });
});
