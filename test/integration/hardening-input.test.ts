/**
 * Issue 13, points 3 and 6: hostile or malformed values get a 400 in the protocol's own format (OWS
 * ExceptionReport with code and locator; application/problem+json for download and OGC API), naming the
 * parameter, with no stack trace or SQL text — never a 500 from a stack overflow, never silently ignored.
 * The store and the download directory are unchanged afterwards.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readdirSync, existsSync } from 'node:fs';
import { baseUrl, get, wfsUrl, storeFingerprint } from '../helpers.js';

const enc = encodeURIComponent;
const DOWNLOAD_DIR = process.env.SDI_DOWNLOAD_DIR;
const listDownloads = () => (DOWNLOAD_DIR && existsSync(DOWNLOAD_DIR) ? readdirSync(DOWNLOAD_DIR).sort() : []);
let before: Record<string, number>;
let downloadsBefore: string[];

beforeAll(async () => {
  before = await storeFingerprint();
  downloadsBefore = listDownloads();
});

afterAll(async () => {
  expect(await storeFingerprint()).toEqual(before);
  expect(listDownloads()).toEqual(downloadsBefore);
});

const NO_LEAK = /SELECT|ST_[A-Z]|syntax error|RangeError|Maximum call stack|at .*\.[jt]s:\d+|node_modules/;

function expectOws(r: { status: number; body: string }, code: string, locator: RegExp): void {
  expect(r.status, r.body.slice(0, 300)).toBe(400);
  expect(r.body).toContain(`exceptionCode="${code}"`);
  expect(/locator="([^"]+)"/.exec(r.body)?.[1] ?? '').toMatch(locator);
  expect(r.body).not.toMatch(NO_LEAK);
}

function expectProblem(r: { status: number; type: string; body: string }, param: RegExp): Record<string, unknown> {
  expect(r.status, r.body.slice(0, 300)).toBe(400);
  expect(r.type).toContain('application/problem+json');
  expect(r.body).not.toMatch(NO_LEAK);
  const p = JSON.parse(r.body) as Record<string, unknown>;
  expect(p.status).toBe(400);
  expect(JSON.stringify(p)).toMatch(param);
  return p;
}

const postJson = (path: string, body: string) => get(`${baseUrl()}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('issue 13 pt 3: deep nesting is a 400, not a stack overflow', () => {
  // 3,000 × "NOT+" keeps the URL under the server's 16 KB header limit; the POST case sends 5,000.
  it('CSW GET constraint= with "NOT " repeated 3,000 times (CQL text) → InvalidParameterValue, locator constraint', async () => {
    const cql = 'NOT+'.repeat(3000) + enc("AnyText LIKE '%eau%'");
    const r = await get(`${baseUrl()}/csw?SERVICE=CSW&VERSION=2.0.2&REQUEST=GetRecords&typeNames=csw:Record&resultType=results&ElementSetName=brief&constraintLanguage=CQL_TEXT&constraint_language_version=1.1.0&constraint=${cql}`);
    expectOws(r, 'InvalidParameterValue', /constraint/i);
  });

  it('CSW POST csw:CqlText with "NOT " repeated 5,000 times → InvalidParameterValue, locator constraint', async () => {
    const xml = `<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2" resultType="results"><csw:Query typeNames="csw:Record"><csw:ElementSetName>brief</csw:ElementSetName><csw:Constraint version="1.1.0"><csw:CqlText>${'NOT '.repeat(5000)}AnyText LIKE '%eau%'</csw:CqlText></csw:Constraint></csw:Query></csw:GetRecords>`;
    expectOws(await get(`${baseUrl()}/csw`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml }), 'InvalidParameterValue', /constraint/i);
  });

  it('WFS POST GetFeature with a filter 5,000 fes:Not deep → OperationParsingFailed (400), no stack', async () => {
    const f = `<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0">${'<fes:Not>'.repeat(5000)}<fes:PropertyIsEqualTo><fes:ValueReference>nom</fes:ValueReference><fes:Literal>x</fes:Literal></fes:PropertyIsEqualTo>${'</fes:Not>'.repeat(5000)}</fes:Filter>`;
    const r = await get(wfsUrl(''), { method: 'POST', headers: { 'content-type': 'application/xml' }, body: `<wfs:GetFeature xmlns:wfs="http://www.opengis.net/wfs/2.0" service="WFS" version="2.0.0"><wfs:Query typeNames="sdi:communes">${f.replace('<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0">', '<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0">')}</wfs:Query></wfs:GetFeature>` });
    // The XML reader bounds element nesting before the filter reader sees it: a parsing failure, not a 500.
    expectOws(r, 'OperationParsingFailed', /request/i);
  });

  it('download filter with "NOT " 5,000 times → problem+json naming filter', async () => {
    const r = await postJson('/download/estimate', JSON.stringify({ layers: ['communes'], format: 'gpkg', filter: 'NOT '.repeat(5000) + "nom = 'x'" }));
    expectProblem(r, /filter/);
  });

  it('download polygon GeoJSON nested 5,000 levels deep → problem+json naming polygon', async () => {
    const deep = '['.repeat(5000) + '0' + ']'.repeat(5000);
    const r = await postJson('/download/estimate', `{"layers":["communes"],"format":"gpkg","area":{"polygon":{"type":"Polygon","coordinates":${deep}}}}`);
    expect(r.status).toBe(400);
    expect(r.body).not.toMatch(NO_LEAK);
  });
});

describe('issue 13 pt 6: download refuses bad values (problem+json, parameter named)', () => {
  const base = { layers: ['communes'], format: 'gpkg' };
  it('GET canton=1 → unknown parameter, with the list of known ones', async () => {
    const r = await get(`${baseUrl()}/download/estimate?layer=communes&format=gpkg&canton=1`);
    const p = expectProblem(r, /canton/);
    expect(JSON.stringify(p)).toContain('commune');
  });
  it('POST "area":{"iris":"1"} → unknown area property', async () => {
    expectProblem(await postJson('/download/estimate', JSON.stringify({ ...base, area: { iris: '1' } })), /iris/);
  });
  it('POST unknown top-level property → refused', async () => {
    expectProblem(await postJson('/download/estimate', JSON.stringify({ ...base, colour: 'red' })), /colour/);
  });
  for (const [name, coords] of [
    ['["a",47]', '[[["a",47],[2,47],[2,48],["a",47]]]'],
    ['null', '[[null,[2,47],[2,48],null]]'],
    ['"1e999"', '[[["1e999",47],[2,47],[2,48],["1e999",47]]]'],
    ['1e999 (Infinity)', '[[[1e999,47],[2,47],[2,48],[1e999,47]]]'],
  ] as const) {
    it(`polygon coordinate ${name} → refused`, async () => {
      expectProblem(await postJson('/download/estimate', `{"layers":["communes"],"format":"gpkg","area":{"polygon":{"type":"Polygon","coordinates":${coords}}}}`), /polygon/);
    });
  }
  it('"clip":"yes" → refused (JSON boolean expected)', async () => {
    expectProblem(await postJson('/download/estimate', JSON.stringify({ ...base, clip: 'yes' })), /clip/);
  });
  it('"crs":4326 (number) → refused', async () => {
    expectProblem(await postJson('/download/estimate', JSON.stringify({ ...base, crs: 4326 })), /crs/);
  });
  it('WKT with SRID=2154; is honoured as the polygon CRS', async () => {
    const wkt = 'SRID=2154;POLYGON((610000 6740000,620000 6740000,620000 6750000,610000 6750000,610000 6740000))';
    const r = await postJson('/download/estimate', JSON.stringify({ ...base, area: { polygon: wkt } }));
    expect(r.status, r.body.slice(0, 300)).toBe(200);
    // The same square read as lon/lat would be far outside EPSG:4326 bounds and refused or empty.
    const asCrs = await postJson('/download/estimate', JSON.stringify({ ...base, area: { polygon: wkt.replace('SRID=2154;', ''), crs: 'EPSG:2154' } }));
    expect(asCrs.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual(JSON.parse(asCrs.body));
  });
  it('WKT SRID=2154; contradicting area.crs → refused', async () => {
    const wkt = 'SRID=2154;POLYGON((610000 6740000,620000 6740000,620000 6750000,610000 6750000,610000 6740000))';
    expectProblem(await postJson('/download/estimate', JSON.stringify({ ...base, area: { polygon: wkt, crs: 'EPSG:4326' } })), /polygon/);
  });
});

describe('issue 13 pt 6: WFS, OGC API, CSW', () => {
  it('WFS BBOX= (empty) → InvalidParameterValue locator BBOX (WFS 2.0 §7.6.3)', async () => {
    expectOws(await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&BBOX=')), 'InvalidParameterValue', /^bbox$/i);
  });
  const items = (q: string) => get(`${baseUrl()}/ogcapi/collections/communes/items?${q}`);
  it('OGC API datetime=garbage → 400 naming datetime', async () => {
    expectProblem(await items('datetime=garbage'), /datetime/);
  });
  it('OGC API a valid datetime → 400: the collection has no temporal property (never ignored)', async () => {
    const p = expectProblem(await items('datetime=2024-01-01T00:00:00Z'), /datetime/);
    expect(JSON.stringify(p)).toMatch(/no temporal property/);
  });
  it('OGC API crs=EPSG:4326 (not a URI, Part 2 §6.2) → 400', async () => {
    expectProblem(await items('crs=EPSG:4326'), /crs/);
  });
  it('OGC API duplicate limit → 400', async () => {
    expectProblem(await items('limit=1&limit=1000'), /limit/);
  });
  it('CSW ElementName with ElementSetName → InvalidParameterValue (CSW 2.0.2 §10.8.4.9)', async () => {
    const r = await get(`${baseUrl()}/csw?SERVICE=CSW&VERSION=2.0.2&REQUEST=GetRecords&typeNames=csw:Record&resultType=results&ElementSetName=brief&ElementName=dc:title`);
    expectOws(r, 'InvalidParameterValue', /ElementName/i);
  });
  it('CSW POST ElementName with ElementSetName → InvalidParameterValue (CSW 2.0.2 §10.8.4.9)', async () => {
    const xml = `<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" xmlns:dc="http://purl.org/dc/elements/1.1/" service="CSW" version="2.0.2" resultType="results"><csw:Query typeNames="csw:Record"><csw:ElementSetName>brief</csw:ElementSetName><csw:ElementName>dc:title</csw:ElementName></csw:Query></csw:GetRecords>`;
    expectOws(await get(`${baseUrl()}/csw`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml }), 'InvalidParameterValue', /ElementName/i);
  });
});

describe('issue 13 pt 5: cheap limits are checked before any SQL', () => {
  // A ring of n vertices (closed) around Orléans, in lon/lat.
  const ring = (n: number) => {
    const pts: Array<[number, number]> = [];
    for (let i = 0; i < n - 1; i++) {
      const a = (2 * Math.PI * i) / (n - 1);
      pts.push([1.9 + 0.1 * Math.cos(a), 47.9 + 0.1 * Math.sin(a)]);
    }
    pts.push(pts[0]!);
    return pts;
  };
  const big = ring(200_002);

  it('download: a GeoJSON polygon of 200,002 vertices → 400 invalid-area with the count and the limit', async () => {
    const r = await postJson('/download/estimate', JSON.stringify({ layers: ['communes'], format: 'gpkg', area: { polygon: { type: 'Polygon', coordinates: [big] } } }));
    const p = expectProblem(r, /polygon/);
    expect(p).toMatchObject({ count: 200_002, limit: 100_000 });
  });

  it('download: the same polygon as WKT → 400 with the count', async () => {
    const wkt = `POLYGON((${big.map((p) => `${p[0]} ${p[1]}`).join(',')}))`;
    const p = expectProblem(await postJson('/download/estimate', JSON.stringify({ layers: ['communes'], format: 'gpkg', area: { polygon: wkt } })), /polygon/);
    expect(p).toMatchObject({ count: 200_002, limit: 100_000 });
  });

  it('download: a polygon of 100,000 vertices is within the limit (PostGIS counts the same)', async () => {
    const r = await postJson('/download/estimate', JSON.stringify({ layers: ['communes'], format: 'gpkg', area: { polygon: { type: 'Polygon', coordinates: [ring(100_000)] } } }));
    expect(r.status, r.body.slice(0, 300)).toBe(200);
  });

  it('WFS POST GetFeature whose fes:Intersects polygon has 200,002 vertices → InvalidParameterValue (FES 2.0 §7.8: the literal), no SQL', async () => {
    const posList = big.map((p) => `${p[1]} ${p[0]}`).join(' ');
    const body = `<wfs:GetFeature xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" service="WFS" version="2.0.0"><wfs:Query typeNames="sdi:communes"><fes:Filter><fes:Intersects><fes:ValueReference>geom</fes:ValueReference><gml:Polygon gml:id="p" srsName="urn:ogc:def:crs:EPSG::4326"><gml:exterior><gml:LinearRing><gml:posList>${posList}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></fes:Intersects></fes:Filter></wfs:Query></wfs:GetFeature>`;
    const r = await get(wfsUrl(''), { method: 'POST', headers: { 'content-type': 'application/xml' }, body });
    expect(r.status, r.body.slice(0, 300)).toBe(400);
    expect(r.body).toContain('exceptionCode="InvalidParameterValue"');
    expect(r.body).toContain('200002 vertices');
    expect(r.body).not.toMatch(NO_LEAK);
  });

  it('download CQL2 filter with a 200,002-vertex polygon → 400 naming filter', async () => {
    const wkt = `POLYGON((${big.map((p) => `${p[0]} ${p[1]}`).join(',')}))`;
    const r = await postJson('/download/estimate', JSON.stringify({ layers: ['communes'], format: 'gpkg', filter: `S_INTERSECTS(geom, ${wkt})` }));
    expectProblem(r, /filter/);
  });

  it('WFS TYPENAMES=sdi:communes repeated 100 times → InvalidParameterValue, locator TYPENAMES (a limit of 20 queries)', async () => {
    const r = await get(wfsUrl(`SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=${Array(100).fill('sdi:communes').join(',')}`));
    expectOws(r, 'InvalidParameterValue', /TYPENAMES/);
    expect(r.body).toContain('the limit is 20');
  });

  it('WFS POST with 21 wfs:Query elements → InvalidParameterValue, locator Query', async () => {
    const q = '<wfs:Query typeNames="sdi:communes"/>'.repeat(21);
    const r = await get(wfsUrl(''), { method: 'POST', headers: { 'content-type': 'application/xml' }, body: `<wfs:GetFeature xmlns:wfs="http://www.opengis.net/wfs/2.0" service="WFS" version="2.0.0">${q}</wfs:GetFeature>` });
    expectOws(r, 'InvalidParameterValue', /Query/);
  });

  it('WFS SORTBY with 11 keys → InvalidParameterValue, locator SORTBY; 2 keys work', async () => {
    expectOws(await get(wfsUrl(`SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&COUNT=1&SORTBY=${Array(11).fill('nom').join(',')}`)), 'InvalidParameterValue', /SORTBY/);
    expect((await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&COUNT=1&SORTBY=nom,code DESC'))).status).toBe(200);
  });

  it('CSW SortBy with 11 keys (KVP and XML) → InvalidParameterValue, locator SortBy', async () => {
    const kvp = await get(`${baseUrl()}/csw?SERVICE=CSW&VERSION=2.0.2&REQUEST=GetRecords&typeNames=csw:Record&resultType=results&ElementSetName=brief&SortBy=${Array(11).fill('dc:title:A').join(',')}`);
    expectOws(kvp, 'InvalidParameterValue', /SortBy/i);
    const props = '<ogc:SortProperty><ogc:PropertyName>dc:title</ogc:PropertyName></ogc:SortProperty>'.repeat(11);
    const xml = `<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" xmlns:ogc="http://www.opengis.net/ogc" service="CSW" version="2.0.2" resultType="results"><csw:Query typeNames="csw:Record"><csw:ElementSetName>brief</csw:ElementSetName><ogc:SortBy>${props}</ogc:SortBy></csw:Query></csw:GetRecords>`;
    expectOws(await get(`${baseUrl()}/csw`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml }), 'InvalidParameterValue', /SortBy/i);
  });
});

describe('issue 13: unknown KVP parameters are refused, not ignored (OGC 06-121r3 §7.4.1: InvalidParameterValue)', () => {
  it('WFS: a misspelt COUNT (COUNTT=5) → InvalidParameterValue, locator the parameter, the known ones listed', async () => {
    const r = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&COUNTT=5'));
    expectOws(r, 'InvalidParameterValue', /^COUNTT$/);
    expect(r.body).toContain('COUNT, ');
  });

  it('WFS: FILTER_LANGUAGE other than FES → OptionNotSupported; the FES one is accepted', async () => {
    const bad = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&COUNT=1&FILTER_LANGUAGE=urn:x:cql'));
    expect(bad.status).toBe(501); // OGC 06-121r9 §8.6 Table 28
    expect(bad.body).toContain('exceptionCode="OptionNotSupported"');
    const ok = await get(wfsUrl(`SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&COUNT=1&FILTER_LANGUAGE=${enc('urn:ogc:def:queryLanguage:OGC-FES:Filter')}`));
    expect(ok.status).toBe(200);
  });

  it('CSW: a misspelt maxRecords (maxRecord=5) → InvalidParameterValue, locator the parameter', async () => {
    const r = await get(`${baseUrl()}/csw?service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=results&maxRecord=5`);
    expectOws(r, 'InvalidParameterValue', /^MAXRECORD$/);
  });
});
