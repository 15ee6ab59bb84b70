/**
 * Direct extracts through HTTP, checked with GDAL's own tools: every format opens with ogrinfo, holds the
 * features PostGIS says it should, reports the requested CRS by its EPSG code and keeps accents; clips lie
 * within their polygon; a commune extract matches a PostGIS query on that commune; baskets are one zip
 * with the layers, their ISO records and a README.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { baseUrl, db } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sdi-dl-test-'));
let fileNo = 0;

/** GET an extract, save it (unzipping zips), return the path of the layer file(s) and the response. */
async function download(query: string): Promise<{ status: number; type: string; path: string; headers: Headers; body?: unknown }> {
  const r = await fetch(`${baseUrl()}/download/extract?${query}`);
  const buf = Buffer.from(await r.arrayBuffer());
  const type = r.headers.get('content-type') ?? '';
  if (r.status !== 200) return { status: r.status, type, path: '', headers: r.headers, body: JSON.parse(buf.toString('utf8')) };
  const name = /filename="([^"]+)"/.exec(r.headers.get('content-disposition') ?? '')?.[1] ?? 'out';
  const d = join(dir, String(++fileNo));
  execFileSync('mkdir', ['-p', d]);
  const path = join(d, name);
  writeFileSync(path, buf);
  if (type === 'application/zip') execFileSync('unzip', ['-q', path, '-d', join(d, 'unzipped')]);
  return { status: r.status, type, path, headers: r.headers };
}

function ogrinfo(path: string, extra: string[] = []): string {
  return execFileSync('ogrinfo', ['-ro', '-al', ...extra, path], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

const featureCount = (info: string) => Number(/Feature Count: (\d+)/.exec(info)?.[1]);
/** The EPSG code GDAL identifies for the layer's CRS: the last top-level ID of the WKT. */
const epsgOf = (info: string) => {
  const ids = [...info.matchAll(/^ {4}ID\["EPSG",(\d+)\]\]/gm)];
  return ids.length ? Number(ids[ids.length - 1]![1]) : undefined;
};

let dept45Communes: number;

beforeAll(async () => {
  // What a user means by "the communes of département 45": its own communes (INSEE code 45…), not the
  // neighbours that overlap its boundary by a sliver (issue 12; the rule is tested in extract-admin-units).
  const { rows } = await db().query(`SELECT count(*)::int AS n FROM data.communes WHERE code LIKE '45%'`);
  dept45Communes = rows[0].n;
  expect(dept45Communes).toBe(326);
});

describe('every format opens with GDAL, with the right count, CRS and accents', () => {
  const cases: Array<{ format: string; crs: number; file: (p: string) => string; driver: RegExp; epsg: boolean }> = [
    { format: 'gpkg', crs: 4326, file: (p) => p, driver: /GPKG/, epsg: true },
    { format: 'shp', crs: 2154, file: (p) => join(p, '..', 'unzipped', 'communes.shp'), driver: /ESRI Shapefile/, epsg: true },
    { format: 'shp', crs: 4326, file: (p) => join(p, '..', 'unzipped', 'communes.shp'), driver: /ESRI Shapefile/, epsg: true },
    { format: 'geojson', crs: 2154, file: (p) => p, driver: /GeoJSON/, epsg: true },
    { format: 'geojson', crs: 4326, file: (p) => p, driver: /GeoJSON/, epsg: true },
    { format: 'csv', crs: 2154, file: (p) => p, driver: /CSV/, epsg: false },
    { format: 'kml', crs: 4326, file: (p) => p, driver: /KML/, epsg: true },
    { format: 'gml', crs: 2154, file: (p) => p, driver: /GML/, epsg: true },
    { format: 'gml', crs: 4326, file: (p) => p, driver: /GML/, epsg: true },
    { format: 'fgb', crs: 3946, file: (p) => p, driver: /FlatGeobuf/, epsg: true },
    { format: 'tab', crs: 2154, file: (p) => join(p, '..', 'unzipped', 'communes.tab'), driver: /MapInfo/, epsg: true },
  ];
  for (const c of cases) {
    it(`${c.format} in EPSG:${c.crs}`, async () => {
      const r = await download(`layer=communes&format=${c.format}&crs=EPSG:${c.crs}&departement=45`);
      expect(r.status).toBe(200);
      const path = c.file(r.path);
      expect(existsSync(path)).toBe(true);
      const info = ogrinfo(path, c.format === 'csv' ? ['-oo', 'GEOM_POSSIBLE_NAMES=wkt', '-oo', 'KEEP_GEOM_COLUMNS=NO'] : []);
      expect(info).toMatch(c.driver);
      expect(featureCount(info)).toBe(dept45Communes);
      if (c.epsg) expect(epsgOf(info)).toBe(c.crs);
      // Accents survive (UTF-8 end to end, .cpg for Shapefile, charset for MapInfo).
      expect(info).toMatch(/nom \([A-Za-z]+\) = Orléans/);
      expect(info).toMatch(/= Saint-Jean-de-la-Ruelle/);
      if (c.format === 'shp') {
        const files = readdirSync(join(r.path, '..', 'unzipped'));
        expect(files).toEqual(expect.arrayContaining(['communes.shp', 'communes.shx', 'communes.dbf', 'communes.prj', 'communes.cpg', 'README.txt', 'metadata']));
        expect(readFileSync(join(r.path, '..', 'unzipped', 'communes.cpg'), 'utf8').trim()).toBe('UTF-8');
      }
      if (c.format === 'csv') {
        // CSV has no CRS of its own: coordinates must be Lambert-93 metres (x 480 000–760 000 here).
        const x = Number(/POLYGON \(\(\((\d+(?:\.\d+)?) /.exec(info)?.[1]);
        expect(x).toBeGreaterThan(480_000);
        expect(x).toBeLessThan(760_000);
      }
    });
  }

  it('CSV with x/y columns (points as they are; polygons by a point on their surface)', async () => {
    const pts = await download('layer=communes_points&format=csv&crs=EPSG:4326&departement=45&csv-geometry=xy');
    const info = ogrinfo(pts.path, ['-oo', 'X_POSSIBLE_NAMES=x', '-oo', 'Y_POSSIBLE_NAMES=y', '-oo', 'KEEP_GEOM_COLUMNS=NO']);
    const { rows } = await db().query(`SELECT count(*)::int AS n FROM data.communes_points p JOIN data.departements d ON ST_Intersects(p.geom, d.geom) WHERE d.code = '45'`);
    expect(featureCount(info)).toBe(rows[0].n);
    expect(info).toMatch(/POINT \(1\.9174\d* 47\.8732\d*\)/); // Orléans, lon/lat
    const polys = await download('layer=communes&format=csv&crs=EPSG:2154&commune=45234&csv-geometry=xy');
    const text = readFileSync(polys.path, 'utf8');
    expect(text.split('\r\n')[0]).toBe('\ufeff"fid","code","nom","x","y"');
    const [x, y] = text.split('\r\n')[1]!.split(',').slice(-2).map(Number);
    const { rows: inside } = await db().query(`SELECT ST_Contains(geom, ST_SetSRID(ST_MakePoint($1, $2), 2154)) AS ok FROM data.communes WHERE code = '45234'`, [x, y]);
    expect(inside[0].ok).toBe(true);
  });

  it('the Shapefile .prj is recognised as EPSG:2154 by QGIS', async () => {
    const r = await download('layer=communes&format=shp&crs=EPSG:2154&commune=45234');
    const shp = join(r.path, '..', 'unzipped', 'communes.shp');
    const out = execFileSync('/usr/bin/python3', ['-c', `
import os, sys
os.environ['QT_QPA_PLATFORM'] = 'offscreen'
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False); app.initQgis()
l = QgsVectorLayer(sys.argv[1], 'c', 'ogr')
print(l.isValid(), l.crs().authid(), l.featureCount(), [f['nom'] for f in l.getFeatures()][0])
`, shp], { encoding: 'utf8', env: { ...process.env, QT_QPA_PLATFORM: 'offscreen' } });
    expect(out.trim()).toBe('True EPSG:2154 1 Orléans');
  }, 60_000);
});

describe('areas', () => {
  const HEXAGON = 'POLYGON((631000 6756400,625000 6767200,612000 6767800,605500 6756400,612500 6745200,624800 6745600,631000 6756400))';

  it('a polygon clip: every output geometry lies within the polygon, and the count matches PostGIS', async () => {
    const r = await download(`layer=communes&format=gpkg&crs=EPSG:2154&polygon=${encodeURIComponent(HEXAGON)}&polygon-crs=EPSG:2154`);
    expect(r.status).toBe(200);
    const ds = gdal.open(r.path);
    const layer = ds.layers.get(0);
    const poly = gdal.Geometry.fromWKT(HEXAGON).buffer(0.01, 8);
    let n = 0;
    for (const f of layer.features) {
      n++;
      expect(poly.contains(f.getGeometry()!)).toBe(true);
    }
    ds.close();
    const { rows } = await db().query(
      `SELECT count(*)::int AS n FROM data.communes c
        WHERE ST_Intersects(c.geom, ST_GeomFromText($1, 2154))
          AND NOT ST_IsEmpty(ST_CollectionExtract(ST_Intersection(c.geom, ST_GeomFromText($1, 2154)), 3))`,
      [HEXAGON],
    );
    expect(n).toBe(rows[0].n);
    expect(n).toBeGreaterThan(10);
  });

  it('clip=false keeps whole features (some extend beyond the polygon)', async () => {
    const r = await download(`layer=communes&format=geojson&crs=EPSG:2154&polygon=${encodeURIComponent(HEXAGON)}&polygon-crs=EPSG:2154&clip=false`);
    const fc = JSON.parse(readFileSync(r.path, 'utf8'));
    const { rows } = await db().query(`SELECT count(*)::int AS n FROM data.communes c WHERE ST_Intersects(c.geom, ST_GeomFromText($1, 2154))`, [HEXAGON]);
    expect(fc.features.length).toBe(rows[0].n);
    const poly = gdal.Geometry.fromWKT(HEXAGON).buffer(0.01, 8);
    const outside = fc.features.filter((f: { geometry: unknown }) => !poly.contains(gdal.Geometry.fromGeoJson(f.geometry as object)));
    expect(outside.length).toBeGreaterThan(0);
  });

  it('a commune extract matches a PostGIS query on that commune (points, GeoJSON in WGS 84)', async () => {
    const r = await download('layer=communes_points&format=geojson&crs=EPSG:4326&commune=45234');
    expect(r.status).toBe(200);
    const fc = JSON.parse(readFileSync(r.path, 'utf8'));
    const ids = fc.features.map((f: { id: number }) => f.id).sort((a: number, b: number) => a - b);
    const { rows } = await db().query(
      `SELECT p.fid FROM data.communes_points p JOIN data.communes c ON ST_Intersects(p.geom, c.geom) WHERE c.code = '45234' ORDER BY 1`,
    );
    expect(ids).toEqual(rows.map((x) => x.fid));
    expect(ids.length).toBeGreaterThan(0);
    // lon/lat order, near Orléans.
    const [lon, lat] = fc.features[0].geometry.coordinates;
    expect(lon).toBeGreaterThan(1.8);
    expect(lon).toBeLessThan(2.0);
    expect(lat).toBeGreaterThan(47.8);
    expect(lat).toBeLessThan(48);
  });

  it('an EPCI (SIREN) and a bbox in WGS 84 give what PostGIS gives', async () => {
    const { rows: e } = await db().query(`SELECT siren FROM data.epci ORDER BY siren LIMIT 1`);
    const siren = e[0].siren as string;
    const epci = await download(`layer=communes_points&format=geojson&epci=${siren}`);
    const { rows } = await db().query(`SELECT count(*)::int AS n FROM data.communes_points p JOIN data.epci e ON ST_Intersects(p.geom, e.geom) WHERE e.siren = $1`, [siren]);
    expect(JSON.parse(readFileSync(epci.path, 'utf8')).features.length).toBe(rows[0].n);
    const bbox = await download('layer=communes_points&format=geojson&bbox=1.8,47.8,2.0,48.0&bbox-crs=EPSG:4326');
    const { rows: b } = await db().query(`SELECT count(*)::int AS n FROM data.communes_points p WHERE ST_Intersects(p.geom, ST_Transform(ST_Segmentize(ST_MakeEnvelope(1.8, 47.8, 2.0, 48.0, 4326), 0.01), 2154))`);
    expect(JSON.parse(readFileSync(bbox.path, 'utf8')).features.length).toBe(b[0].n);
  });

  it('a WFS GetFeature and a download of the same layer, area and CRS return the same features', async () => {
    const bbox = '610000,6740000,630000,6760000';
    const wfs = await (await fetch(`${baseUrl()}/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&BBOX=${bbox},urn:ogc:def:crs:EPSG::2154&SRSNAME=urn:ogc:def:crs:EPSG::2154&OUTPUTFORMAT=application/json`)).json();
    const r = await download(`layer=communes&format=geojson&crs=EPSG:2154&bbox=${bbox}&bbox-crs=EPSG:2154&clip=false`);
    const dl = JSON.parse(readFileSync(r.path, 'utf8'));
    type F = { id: string | number; properties: Record<string, unknown>; geometry: unknown };
    const byId = (fs: F[]) => new Map(fs.map((f) => [String(f.id).replace(/^communes\./, ''), f]));
    const a = byId(wfs.features);
    const b = byId(dl.features);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    expect(a.size).toBeGreaterThan(20);
    for (const [id, f] of a) {
      expect(b.get(id)!.properties).toEqual(f.properties);
      expect(b.get(id)!.geometry).toEqual(f.geometry);
    }
  });

  it('a CQL2 attribute filter applies', async () => {
    const r = await download(`layer=communes&format=geojson&departement=45&filter=${encodeURIComponent("nom LIKE 'Saint-%'")}`);
    const fc = JSON.parse(readFileSync(r.path, 'utf8'));
    expect(fc.features.length).toBeGreaterThan(5);
    expect(fc.features.every((f: { properties: { nom: string } }) => f.properties.nom.startsWith('Saint-'))).toBe(true);
  });
});

describe('baskets and estimates', () => {
  it('a GeoPackage basket is one zip holding one GeoPackage with a table per layer, each layer ISO record, a README with the licence and the request (issue 12)', async () => {
    const r = await download('layers=communes,epci&format=gpkg&crs=EPSG:2154&departement=45');
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/zip');
    const u = join(r.path, '..', 'unzipped');
    expect(readdirSync(u).sort()).toEqual(['README.txt', 'extraction.gpkg', 'metadata']);
    expect(readdirSync(join(u, 'metadata')).sort()).toEqual(['communes.xml', 'epci.xml']);
    expect(readFileSync(join(u, 'metadata', 'communes.xml'), 'utf8')).toMatch(/gmd:MD_Metadata/);
    const readme = readFileSync(join(u, 'README.txt'), 'utf8');
    expect(readme).toMatch(/Licence Ouverte/);
    expect(readme).toMatch(/departement 45 Loiret/);
    expect(readme).toMatch(/layers=communes,epci&format=gpkg/);
    const gpkg = join(u, 'extraction.gpkg');
    const tables = execFileSync('ogrinfo', ['-ro', '-q', gpkg], { encoding: 'utf8' });
    expect(tables.match(/^\d+: \w+/gm)).toEqual(['1: communes', '2: epci']);
    const countOf = (table: string) => featureCount(execFileSync('ogrinfo', ['-ro', '-so', gpkg, table], { encoding: 'utf8' }));
    expect(countOf('communes')).toBe(dept45Communes);
    expect(countOf('epci')).toBeGreaterThan(5);
  });

  it('split=true: one GeoPackage per layer; split with another format is refused', async () => {
    const r = await download('layers=communes,epci&format=gpkg&crs=EPSG:2154&departement=45&split=true');
    expect(r.status).toBe(200);
    const u = join(r.path, '..', 'unzipped');
    expect(readdirSync(u).sort()).toEqual(['README.txt', 'communes.gpkg', 'epci.gpkg', 'metadata']);
    expect(featureCount(ogrinfo(join(u, 'communes.gpkg'), ['-so']))).toBe(dept45Communes);
    const bad = await fetch(`${baseUrl()}/download/extract?layers=communes,epci&format=shp&split=true`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).parameter).toBe('split');
  });

  it('the estimate states count, size, mode and the limit that applies', async () => {
    const small = await (await fetch(`${baseUrl()}/download/estimate?layer=communes&format=shp&departement=45`)).json();
    expect(small).toMatchObject({ features: dept45Communes, mode: 'direct', limit: { name: 'directMaxFeatures', value: 400 } });
    expect(small.bytes).toBeGreaterThan(0);
    const big = await (await fetch(`${baseUrl()}/download/estimate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ layers: ['communes'], format: 'gpkg', crs: 'EPSG:4326' }) })).json();
    expect(big).toMatchObject({ features: 1776, mode: 'deferred', limit: { name: 'directMaxFeatures', value: 400 } });
  });

  it('direct downloads are logged for statistics (who, what, area, format, size)', async () => {
    const r = await download('layer=epci&format=fgb&crs=EPSG:2154&commune=45234');
    expect(r.status).toBe(200);
    await new Promise((res) => setTimeout(res, 300));
    const { rows } = await db().query(`SELECT layer, features, bytes, detail FROM sdi.usage_log WHERE service = 'download' AND layer = 'epci' AND detail->>'format' = 'fgb' ORDER BY id DESC LIMIT 1`);
    expect(rows[0]).toMatchObject({ layer: 'epci', detail: { format: 'fgb', crs: 'EPSG:2154', area: 'commune 45234 Orléans' } });
    expect(Number(rows[0].bytes)).toBeGreaterThan(0);
    expect(Number(rows[0].features)).toBeGreaterThan(0);
  });

  it('the OpenAPI description lists the routes', async () => {
    const api = await (await fetch(`${baseUrl()}/download/api`)).json();
    expect(api.openapi).toMatch(/^3\./);
    expect(Object.keys(api.paths)).toEqual(expect.arrayContaining(['/estimate', '/extract', '/jobs', '/jobs/{id}', '/files/{id}']));
  });
});

describe('bad input: problem+json with status, parameter and figures; no SQL, no stack', () => {
  const cases: Array<{ name: string; query: string; status: number; code: string; parameter?: string; detail?: RegExp; extra?: Record<string, unknown> }> = [
    { name: 'unknown layer', query: 'layer=nope&format=gpkg', status: 404, code: 'unknown-layer', parameter: 'layer' },
    { name: 'unknown format', query: 'layer=communes&format=dwg', status: 400, code: 'invalid-parameter', parameter: 'format', detail: /dwg/ },
    { name: 'unknown CRS', query: 'layer=communes&format=gpkg&crs=EPSG:99999', status: 400, code: 'unknown-crs', parameter: 'crs' },
    { name: 'not a CRS', query: 'layer=communes&format=gpkg&crs=lambert', status: 400, code: 'invalid-parameter', parameter: 'crs' },
    { name: 'malformed polygon', query: `layer=communes&format=gpkg&polygon=${encodeURIComponent('POLYGON((1 2, 3')}`, status: 400, code: 'invalid-area', parameter: 'polygon' },
    { name: 'self-intersecting polygon', query: `layer=communes&format=gpkg&polygon-crs=EPSG:2154&polygon=${encodeURIComponent('POLYGON((600000 6700000,620000 6720000,620000 6700000,600000 6720000,600000 6700000))')}`, status: 400, code: 'invalid-area', parameter: 'polygon', detail: /Self-intersection/ },
    { name: 'a line is not an area', query: `layer=communes&format=gpkg&polygon=${encodeURIComponent('LINESTRING(1 47, 2 48)')}`, status: 400, code: 'invalid-area', parameter: 'polygon' },
    // Issue 12: coordinates that do not fit the given or default CRS are named as such, with the figures.
    { name: 'Lambert-93 polygon without polygon-crs (read as degrees)', query: `layer=communes&format=gpkg&polygon=${encodeURIComponent('POLYGON((600000 6700000,620000 6700000,620000 6720000,600000 6720000,600000 6700000))')}`, status: 400, code: 'invalid-area', parameter: 'polygon', detail: /do not fit EPSG:4326.*polygon-crs/ },
    { name: 'GeoJSON polygon in Lambert-93 without polygon-crs', query: `layer=communes&format=gpkg&polygon=${encodeURIComponent(JSON.stringify({ type: 'Polygon', coordinates: [[[600000, 6700000], [620000, 6700000], [620000, 6720000], [600000, 6700000]]] }))}`, status: 400, code: 'invalid-area', parameter: 'polygon', detail: /x 600000 to 620000/ },
    { name: 'degrees given as Lambert-93 (bbox-crs=EPSG:2154)', query: 'layer=communes&format=gpkg&bbox=1.5,47.6,2.2,48.0&bbox-crs=EPSG:2154', status: 400, code: 'invalid-area', parameter: 'bbox', detail: /do not fit EPSG:2154/ },
    { name: 'area outside the data', query: 'layer=communes&format=gpkg&bbox=-5,40,-4,41', status: 422, code: 'area-outside-data', parameter: 'bbox' },
    { name: 'unknown commune', query: 'layer=communes&format=gpkg&commune=99999', status: 400, code: 'unknown-area', parameter: 'commune' },
    { name: 'two areas', query: 'layer=communes&format=gpkg&commune=45234&departement=45', status: 400, code: 'invalid-parameter' },
    { name: 'bad bbox', query: 'layer=communes&format=gpkg&bbox=3,2,1', status: 400, code: 'invalid-parameter', parameter: 'bbox' },
    { name: 'bad filter', query: `layer=communes&format=gpkg&filter=${encodeURIComponent("nom = = 'x'")}`, status: 400, code: 'invalid-filter', parameter: 'filter' },
    { name: 'filter on an unknown property', query: `layer=communes&format=gpkg&departement=45&filter=${encodeURIComponent("population > 3")}`, status: 400, code: 'invalid-filter', parameter: 'filter' },
    { name: 'raster format on a vector layer', query: 'layer=communes&format=gtiff', status: 400, code: 'format-not-applicable', parameter: 'format' },
    { name: 'csv-geometry on another format', query: 'layer=communes&format=gpkg&csv-geometry=xy', status: 400, code: 'invalid-parameter', parameter: 'csv-geometry' },
    { name: 'KML in Lambert-93', query: 'layer=communes&format=kml&crs=EPSG:2154', status: 400, code: 'invalid-parameter', parameter: 'crs' },
    { name: 'too big for a direct download: count and limit stated', query: 'layer=communes&format=gpkg', status: 413, code: 'too-big-for-direct', detail: /1776 features.*400 features/, extra: { count: 1776, limit: 400 } },
    { name: 'over the hard limit: count and limit stated', query: 'layers=communes,communes_points&format=gpkg', status: 413, code: 'over-limit', detail: /3552 features; the limit is 3000/, extra: { count: 3552, limit: 3000 } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await fetch(`${baseUrl()}/download/extract?${c.query}`);
      expect(r.status).toBe(c.status);
      expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const text = await r.text();
      expect(text).not.toMatch(/SELECT|ST_|at \w+ \(|node_modules|\.ts:\d+/);
      const p = JSON.parse(text);
      expect(p.type).toMatch(new RegExp(`/${c.code}$`));
      expect(p.status).toBe(c.status);
      if (c.parameter) expect(p.parameter).toBe(c.parameter);
      if (c.detail) expect(p.detail).toMatch(c.detail);
      if (c.extra) expect(p).toMatchObject(c.extra);
    });
  }

  it('a malformed JSON body or a wrong member type is a 400', async () => {
    const r1 = await fetch(`${baseUrl()}/download/estimate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"layers": [' });
    expect(r1.status).toBe(400);
    const r2 = await fetch(`${baseUrl()}/download/estimate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ layers: ['communes'], format: 'gpkg', area: { bbox: 'abc' } }) });
    expect(r2.status).toBe(400);
    expect((await r2.json()).parameter).toBe('bbox');
  });
});
