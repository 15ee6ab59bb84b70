/**
 * Issue 10, imports: each defect of the list as a test, through POST /admin/imports (multipart) on a
 * server process of the test's own (admin token) and through `cli.js import` (the same function).
 *  - a Latin-1 Shapefile with an ESRI .prj ("RGF93_Lambert_93", which GDAL 3.6 matches to IGNF:LAMB93) and no
 *    .cpg, written here with GDAL: EPSG:2154, accents intact in WFS, the user's name made safe and kept as title;
 *  - a GeoPackage of two layers in EPSG:4326 (several layers in one file), a CSV with x/y, a CSV with WKT;
 *  - refused, with the reason, and the published layer, its sdi.layers row, its catalogue record and a WFS
 *    GetFeature of it unchanged: a file without geometry, a corrupt file, a wrong source CRS giving
 *    out-of-territory geometries (extent_check=error), a Shapefile without .prj; no orphan table left;
 *  - readers during a replace get the old or the new layer whole; append; rollback restores the previous
 *    table, title and record.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { db, get, ROOT } from '../helpers.js';
import { startServerProcess, type ServerProcess } from '../server-process.js';
import { safeName } from '../../src/import/names.js';

const TOKEN = 'sdi-import-test-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
/** The ESRI WKT ArcGIS writes for Lambert-93 (no AUTHORITY node). */
const ESRI_L93 =
  'PROJCS["RGF93_Lambert_93",GEOGCS["GCS_RGF_1993",DATUM["D_RGF_1993",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic"],PARAMETER["False_Easting",700000.0],PARAMETER["False_Northing",6600000.0],PARAMETER["Central_Meridian",3.0],PARAMETER["Standard_Parallel_1",44.0],PARAMETER["Standard_Parallel_2",49.0],PARAMETER["Latitude_Of_Origin",46.5],UNIT["Meter",1.0]]';

let admin: ServerProcess;
let dir: string;
let downloadDir: string;

/** A Shapefile of `n` squares near Orléans, names with accents, written in Latin-1 without .cpg nor language driver id, with an ESRI .prj. */
function latin1Shapefile(folder: string, base: string, names: string[], opts: { prj?: boolean; dx?: number } = {}): string[] {
  mkdirSync(folder, { recursive: true });
  const shp = join(folder, `${base}.shp`);
  const ds = gdal.drivers.get('ESRI Shapefile').create(shp);
  const l = ds.layers.create(base, null, gdal.wkbPolygon, ['ENCODING=ISO-8859-1']);
  l.fields.add(new gdal.FieldDefn('nom', gdal.OFTString));
  names.forEach((n, i) => {
    const f = new gdal.Feature(l);
    f.fields.set('nom', n);
    const x = 619000 + i * 2000 + (opts.dx ?? 0);
    f.setGeometry(gdal.Geometry.fromWKT(`POLYGON((${x} 6700000,${x + 1000} 6700000,${x + 1000} 6701000,${x} 6701000,${x} 6700000))`));
    l.features.add(f);
  });
  ds.close();
  // As a 2012 desktop GIS wrote it: no .cpg, language driver id 0, bytes in Latin-1.
  const dbf = join(folder, `${base}.dbf`);
  const b = readFileSync(dbf);
  b[29] = 0;
  writeFileSync(dbf, b);
  rmSync(join(folder, `${base}.cpg`), { force: true });
  if (opts.prj !== false) writeFileSync(join(folder, `${base}.prj`), ESRI_L93);
  return ['shp', 'shx', 'dbf', ...(opts.prj !== false ? ['prj'] : [])].map((e) => join(folder, `${base}.${e}`));
}

async function upload(files: string[], fields: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const form = new FormData();
  for (const f of files) form.append('file', new Blob([readFileSync(f)]), basename(f));
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const r = await fetch(`${admin.base}/admin/imports`, { method: 'POST', headers: auth, body: form });
  const text = await r.text();
  return { status: r.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

const wfs = (q: string) => get(`${admin.base}/wfs?SERVICE=WFS&VERSION=2.0.0&${q}`);
/** GetFeature of a layer, sorted, its timeStamp (the time of the answer) left out. */
const getFeature = async (layer: string) => {
  const r = await wfs(`REQUEST=GetFeature&TYPENAMES=sdi:${layer}&SORTBY=fid`);
  expect(r.status, r.body.slice(0, 300)).toBe(200);
  return r.body.replace(/timeStamp="[^"]*"/, '');
};

/** What must not move when an import over `layer` fails: its registration, its record, its features as WFS serves them, the staging schema. */
async function snapshot(layer: string) {
  const row = await db().query(`SELECT to_jsonb(l) AS j FROM sdi.layers l WHERE name = $1`, [layer]);
  const rec = await db().query(`SELECT m.document, m.updated_at FROM sdi.metadata_records m JOIN sdi.layers l ON l.metadata_record_id = m.id WHERE l.name = $1`, [layer]);
  const tables = await db().query(`SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema IN ('data', 'sdi_import') ORDER BY 1`);
  return { row: row.rows[0]?.j, record: rec.rows[0], features: await getFeature(layer), tables: tables.rows.map((r) => r.t) };
}

let startedAt: Date;

beforeAll(async () => {
  startedAt = (await db().query<{ now: Date }>('SELECT now()')).rows[0]!.now;
  dir = mkdtempSync(join(tmpdir(), 'sdi-import-test-'));
  downloadDir = mkdtempSync(join(tmpdir(), 'sdi-import-test-jobs-'));
  admin = await startServerProcess({ DATABASE_URL: inject('databaseUrl'), SDI_DEMO: '0', SDI_ADMIN_TOKEN: TOKEN, SDI_SERVICES: 'features,catalogue,admin', SDI_IMPORT_KEEP_VERSIONS: '2', SDI_DOWNLOAD_DIR: downloadDir });
}, 120_000);

/**
 * The store as this file found it, for the files after it: the layers it created, their tables, kept versions,
 * import jobs, then the records of layers no longer published removed (cli.js records: the same sync).
 */
async function removeWhatThisFileCreated(since: Date): Promise<void> {
  const { rows } = await db().query<{ name: string; s: string; t: string }>(`SELECT name, table_schema AS s, table_name AS t FROM sdi.layers WHERE created_at >= $1`, [since]);
  for (const r of rows) {
    await db().query('DELETE FROM sdi.layers WHERE name = $1', [r.name]);
    await db().query(`DROP TABLE IF EXISTS "${r.s}"."${r.t}"`);
  }
  const v = await db().query<{ table_name: string }>('DELETE FROM sdi.layer_versions RETURNING table_name');
  for (const r of v.rows) await db().query(`DROP TABLE IF EXISTS sdi_versions."${r.table_name}"`);
  await db().query(`DELETE FROM sdi.jobs WHERE kind = 'import'`);
  await db().query(`DELETE FROM sdi.jobs WHERE kind = 'layer-index' AND request->>'table' = ANY($1)`, [rows.map((r) => r.t)]);
  execFileSync(process.execPath, [join(ROOT, 'dist/app/cli.js'), 'records'], { env: { ...process.env, DATABASE_URL: inject('databaseUrl') }, stdio: 'ignore' });
}

afterAll(async () => {
  if (startedAt) await removeWhatThisFileCreated(startedAt);
  admin?.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(downloadDir, { recursive: true, force: true });
});

describe('safe names (issue 10: "--name PLU_Orleans or Zones-Activité fails")', () => {
  it('makes lower-case ASCII identifiers, accents folded', () => {
    expect(safeName('PLU_Orleans')).toBe('plu_orleans');
    expect(safeName('Zones-Activité')).toBe('zones_activite');
    expect(safeName('  Équipements sportifs (2024) ')).toBe('equipements_sportifs_2024');
    expect(safeName('2024 parcelles')).toBe('l_2024_parcelles');
    expect(() => safeName('---')).toThrow(/no letter or digit/);
  });
});

describe('POST /admin/imports', () => {
  it('needs the administrator (401 without credentials) and is in the OpenAPI document', async () => {
    const r = await fetch(`${admin.base}/admin/imports`, { method: 'POST', body: new FormData() });
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const api = JSON.parse((await get(`${admin.base}/admin/openapi.json`, { headers: auth })).body);
    expect(Object.keys(api.paths)).toEqual(expect.arrayContaining(['/imports', '/layer-versions/{layer}', '/layer-versions/{layer}/rollback']));
    expect(api.components.schemas.ImportReport).toBeDefined();
  });

  it('a Latin-1 Shapefile with an ESRI .prj and no .cpg: EPSG:2154, accents intact, safe name, the user\'s name as title', async () => {
    const files = latin1Shapefile(join(dir, 'za'), 'Zones-Activité', ['Orléans Hôtel de Ville', 'Zône Écluse', 'Châteaudun']);
    const r = await upload(files);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const l = r.body.layers[0];
    expect(l).toMatchObject({ layer: 'zones_activite', title: 'Zones-Activité', count: 3, geometryType: 'POLYGON', srid: 2154, created: true });
    expect(l.sourceCrs).toMatchObject({ epsg: 2154, source: 'file' });
    expect(l.encoding).toMatchObject({ name: 'iso-8859-1', source: 'heuristic' });
    // Not moved by a datum transformation (IGNF:LAMB93 and EPSG:2154 are the same CRS).
    expect(l.extent).toEqual([619000, 6700000, 624000, 6701000]);
    const gf = await getFeature('zones_activite');
    expect(gf).toContain('Orléans Hôtel de Ville');
    expect(gf).toContain('Zône Écluse');
    const caps = await wfs('REQUEST=GetCapabilities');
    expect(caps.status).toBe(200);
    expect(caps.body).toContain('<wfs:Title>Zones-Activité</wfs:Title>');
    // Its catalogue record carries the layer's title.
    const rec = await db().query(`SELECT m.title FROM sdi.metadata_records m JOIN sdi.layers l ON l.metadata_record_id = m.id WHERE l.name = 'zones_activite'`);
    expect(rec.rows[0]?.title).toBe('Zones-Activité');
    // A polygon layer is published with the plain spatial index; its area index (the vector tiles'
    // generalisation rule) is a background job's (src/publishing/area-index-job.ts, test/publishing/import-area-index).
    const idx = await db().query(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'data' AND tablename = 'zones_activite' AND indexdef ILIKE '%USING gist%'`);
    expect(idx.rows.map((r) => r.indexdef)).toEqual([expect.stringMatching(/USING gist \(geom\)$/)]);
    expect(l.areaIndexJob).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a GeoPackage of two layers in EPSG:4326: both published, reprojected to Lambert-93', async () => {
    const file = join(dir, 'pcrs.gpkg');
    const ds = gdal.drivers.get('GPKG').create(file);
    const wgs84 = gdal.SpatialReference.fromEPSG(4326);
    for (const [name, type, wkt] of [
      ['Regards', gdal.wkbPoint, ['POINT(1.909 47.902)', 'POINT(1.91 47.903)']],
      ['Bordures', gdal.wkbLineString, ['LINESTRING(1.90 47.90,1.91 47.91)']],
    ] as const) {
      const l = ds.layers.create(name, wgs84, type);
      l.fields.add(new gdal.FieldDefn('libellé', gdal.OFTString));
      for (const w of wkt) {
        const f = new gdal.Feature(l);
        f.fields.set('libellé', `élément ${w.slice(0, 5)}`);
        f.setGeometry(gdal.Geometry.fromWKT(w));
        l.features.add(f);
      }
    }
    ds.close();
    const r = await upload([file], { name: 'PCRS' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const byName = Object.fromEntries(r.body.layers.map((l: any) => [l.layer, l]));
    expect(byName.pcrs_regards).toMatchObject({ count: 2, geometryType: 'POINT', sourceCrs: { epsg: 4326, source: 'file' }, srid: 2154 });
    expect(byName.pcrs_bordures).toMatchObject({ count: 1, geometryType: 'LINESTRING' });
    const g = await db().query(`SELECT srid, type FROM geometry_columns WHERE f_table_schema = 'data' AND f_table_name = 'pcrs_regards'`);
    expect(g.rows[0]).toEqual({ srid: 2154, type: 'POINT' });
    // Points keep the plain spatial index (no area).
    const idx = await db().query(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'data' AND tablename = 'pcrs_regards' AND indexdef ILIKE '%USING gist%'`);
    expect(idx.rows.map((r) => r.indexdef).join('\n')).toMatch(/USING gist \(geom\)/);
    const x = await db().query(`SELECT ST_X(geom) AS x FROM data.pcrs_regards ORDER BY fid LIMIT 1`);
    expect(Math.abs(x.rows[0].x - 618_700)).toBeLessThan(2_000); // Orléans in Lambert-93
  });

  it('a CSV with x/y (the first defect: it had no geometry and broke GetCapabilities) and one with WKT', async () => {
    const xy = join(dir, 'equipements.csv');
    writeFileSync(xy, 'id;nom;x;y\n1;Mairie;619500;6700500\n2;École;620500;6701500\n3;Gymnase;621000;6702000\n');
    const r = await upload([xy], { source_crs: 'IGNF:LAMB93' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.layers[0]).toMatchObject({ layer: 'equipements', count: 3, geometryType: 'POINT', sourceCrs: { epsg: 2154, source: 'parameter' } });
    const wkt = join(dir, 'voies.csv');
    writeFileSync(wkt, 'nom,WKT\n"Rue Jeanne d\'Arc","LINESTRING(1.90 47.90,1.91 47.91)"\n"Quai","MULTILINESTRING((1.92 47.90,1.93 47.92))"\n');
    const w = await upload([wkt]);
    expect(w.status, JSON.stringify(w.body)).toBe(201);
    // Mixed single and multi lines: one type, the multi one. Degrees without a CRS: WGS 84, said in a warning.
    expect(w.body.layers[0]).toMatchObject({ layer: 'voies', count: 2, geometryType: 'MULTILINESTRING', sourceCrs: { epsg: 4326, source: 'assumed' } });
    expect(w.body.layers[0].warnings.join()).toMatch(/WGS 84/);
    expect((await wfs('REQUEST=GetCapabilities')).status).toBe(200);
    expect((await get(`${admin.base}/ogcapi/collections`)).status).toBe(200);
  });

  it('a wrong source CRS giving geometries outside the territory: published, with a warning that gives the figures', async () => {
    const files = latin1Shapefile(join(dir, 'cc47w'), 'imp_far', ['a']);
    const r = await upload(files, { source_crs: 'EPSG:3947' });
    expect(r.status).toBe(201);
    expect(r.body.layers[0].warnings.join()).toMatch(/1 of 1 features lie outside the platform's territory/);
  });

  it('QGIS 3.22 headless loads an imported layer (WFS 2.0.0 and OGC API Features), accents intact', () => {
    const out = join(dir, 'qgis.json');
    const env: NodeJS.ProcessEnv = { ...process.env, QT_QPA_PLATFORM: 'offscreen', PYTHONIOENCODING: 'utf-8' };
    execFileSync('/usr/bin/python3', [join(ROOT, 'test/clients/qgis_load.py'), '--base', admin.base, '--out', out, '--layers', 'zones_activite:nom', '--variants', 'wfs-2.0.0,oapif'], { env, timeout: 300_000, stdio: 'ignore' });
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.error).toBeUndefined();
    expect(report.results).toHaveLength(2);
    for (const r of report.results) {
      expect(r.valid, `${r.variant}: ${r.error ?? ''}`).toBe(true);
      expect(r.iterated).toBe(3);
      expect(r.geometryProblems).toEqual([]);
      expect(JSON.stringify(r.features)).toContain('Orléans Hôtel de Ville');
    }
  });

  it('drops staging tables a crashed import left (older than a day), not those of imports under way', async () => {
    const old = `s_${Math.floor((Date.now() - 2 * 86_400_000) / 1000).toString(36)}_0badc0ffee`;
    const fresh = `s_${Math.floor(Date.now() / 1000).toString(36)}_0000c0ffee`;
    for (const t of [old, fresh]) await db().query(`CREATE TABLE sdi_import.${t} (fid int)`);
    const f = join(dir, 'stale.csv');
    writeFileSync(f, 'nom,lon,lat\nA,1.9,47.9\n');
    expect((await upload([f], { name: 'imp_stale' })).status).toBe(201);
    const left = await db().query(`SELECT tablename FROM pg_tables WHERE schemaname = 'sdi_import' ORDER BY 1`);
    expect(left.rows.map((r) => r.tablename)).toEqual([fresh]);
    await db().query(`DROP TABLE sdi_import.${fresh}`);
  });

  it('the CLI imports through the same function (CSV x/y with named columns, Latin-1)', () => {
    const f = join(dir, 'abris.csv');
    writeFileSync(f, Buffer.from('num;libellé;coord_e;coord_n\n1;Abri vélo gare;619800;6701200\n2;Abri vélo Hôtel;619900;6701300\n', 'latin1'));
    const out = execFileSync(process.execPath, [join(ROOT, 'dist/app/cli.js'), 'import', f, '--name', 'Abris-Vélo', '--x', 'coord_e', '--y', 'coord_n', '--source-crs', 'EPSG:2154'], {
      env: { ...process.env, DATABASE_URL: inject('databaseUrl') },
      encoding: 'utf8',
    });
    const report = JSON.parse(out);
    expect(report.layers[0]).toMatchObject({ layer: 'abris_velo', title: 'Abris-Vélo', count: 2, geometryType: 'POINT', encoding: { name: 'iso-8859-1' } });
  });

  it('the CLI refuses a CSV without geometry with the reason and exit status 1, creating nothing', async () => {
    const f = join(dir, 'cli-nogeom.csv');
    writeFileSync(f, 'code,nom\n1,a\n');
    const before = await db().query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema IN ('data', 'sdi_import')`);
    let failure: { status?: number; stderr?: string } = {};
    try {
      execFileSync(process.execPath, [join(ROOT, 'dist/app/cli.js'), 'import', f, '--name', 'imp_cli_nogeom'], { env: { ...process.env, DATABASE_URL: inject('databaseUrl') }, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      failure = e as typeof failure;
    }
    expect(failure.status).toBe(1);
    expect(failure.stderr).toMatch(/has no geometry \(columns: code, nom\).*x_column/);
    const after = await db().query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema IN ('data', 'sdi_import')`);
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('CSV codes with a leading zero (INSEE 01001, postcodes) stay text; other numbers and booleans keep their types', async () => {
    const f = join(dir, 'communes-codes.csv');
    writeFileSync(f, 'insee,nom,population,littoral,lon,lat\n01001,L\'Abergement-Clémenciat,832,false,4.92,46.15\n45234,Orléans,116617,true,1.909,47.902\n');
    const r = await upload([f], { name: 'imp_codes' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const rows = await db().query(`SELECT insee, population, littoral FROM data.imp_codes ORDER BY fid`);
    expect(rows.rows).toEqual([{ insee: '01001', population: 832, littoral: false }, { insee: '45234', population: 116617, littoral: true }]);
  });
});

describe('failed imports leave the published layer, its record and its features as they were', () => {
  let before: Awaited<ReturnType<typeof snapshot>>;

  beforeAll(async () => {
    const r = await upload(latin1Shapefile(join(dir, 'guard'), 'guard', ['Gué', 'Pré']), { name: 'Imp_Guard', title: 'Garde' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    before = await snapshot('imp_guard');
    expect(before.record).toBeDefined();
  });

  const refused = async (files: string[], fields: Record<string, string>, reason: RegExp, parameter?: string) => {
    const r = await upload(files, { name: 'imp_guard', ...fields });
    expect(r.status, JSON.stringify(r.body)).toBe(422);
    expect(r.body.type).toBe('urn:sdi:problem:admin:import-refused');
    expect(r.body.detail).toMatch(reason);
    expect(r.body.detail).not.toMatch(/SELECT|INSERT|ALTER|at .*\.js/);
    if (parameter) expect(r.body.parameter).toBe(parameter);
    expect(await snapshot('imp_guard')).toEqual(before);
  };

  it('a file without geometry', async () => {
    const f = join(dir, 'sans-geometrie.csv');
    writeFileSync(f, 'code,libelle\n1,a\n2,b\n');
    await refused([f], {}, /has no geometry \(columns: code, libelle\).*x_column.*nothing was published/, 'x_column');
  });

  it('a corrupt Shapefile', async () => {
    const files = latin1Shapefile(join(dir, 'corrupt'), 'guard', ['a', 'b', 'c']);
    writeFileSync(files[0]!, readFileSync(files[0]!).subarray(0, 140)); // truncated .shp
    await refused(files, {}, /layer guard of guard\.shp/);
  });

  it('a wrong source CRS giving geometries outside the territory, with extent_check=error (the figures in the reason)', async () => {
    const files = latin1Shapefile(join(dir, 'cc47'), 'guard', ['a']);
    await refused(files, { source_crs: 'EPSG:3947', extent_check: 'error' }, /1 of 1 features lie outside the platform's territory: data extent \[-?\d+, \d+, -?\d+, \d+\], territory \[\d+, \d+, \d+, \d+\] \(EPSG:2154\)/, 'source_crs');
  });

  it('a Shapefile without .prj', async () => {
    const files = latin1Shapefile(join(dir, 'noprj'), 'guard', ['a'], { prj: false });
    await refused(files, {}, /no \.prj file.*source_crs=/, 'source_crs');
  });

  it('a name whose table exists but is not that layer\'s (a reference table): 409, the table untouched', async () => {
    const f = join(dir, 'clash.csv');
    writeFileSync(f, 'nom,lon,lat\nA,1.9,47.9\n');
    const count = async () => (await db().query('SELECT count(*)::int AS n FROM data.communes_epci')).rows[0].n;
    const n = await count();
    const r = await upload([f], { name: 'Communes-EPCI' });
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body.detail).toMatch(/data\.communes_epci already exists and is not the table of a layer named communes_epci/);
    expect(await count()).toBe(n);
    expect(await snapshot('imp_guard')).toEqual(before);
  });

  it('an unknown source CRS or encoding, an unknown field', async () => {
    const files = latin1Shapefile(join(dir, 'bad'), 'guard', ['a']);
    await refused(files, { source_crs: 'IGNF:NOWHERE' }, /IGNF:NOWHERE/, 'source_crs');
    await refused(files, { encoding: 'klingon-8' }, /Unknown encoding/, 'encoding');
    const r = await upload(files, { name: 'imp_guard', srs: '2154' });
    expect(r.status).toBe(400);
    expect(r.body.parameter).toBe('srs');
    expect(await snapshot('imp_guard')).toEqual(before);
  });
});

describe('replace, append, versions and rollback', () => {
  const count = async (layer: string) => JSON.parse((await get(`${admin.base}/ogcapi/collections/${layer}/items?limit=10000&f=json`)).body).features.length as number;

  it('readers during a replace get the old layer or the new one, whole, never an error', async () => {
    const v1 = latin1Shapefile(join(dir, 'r1'), 'imp_readers', Array.from({ length: 5 }, (_, i) => `v1-${i}`));
    expect((await upload(v1)).status).toBe(201);
    const v2 = latin1Shapefile(join(dir, 'r2'), 'imp_readers', Array.from({ length: 12 }, (_, i) => `v2-${i}`));
    let done = false;
    const seen: number[] = [];
    const readers = Array.from({ length: 3 }, async () => {
      while (!done) {
        const r = await get(`${admin.base}/ogcapi/collections/imp_readers/items?limit=1000&f=json`);
        expect(r.status, r.body.slice(0, 200)).toBe(200);
        seen.push(JSON.parse(r.body).features.length);
      }
    });
    const imports = (async () => {
      for (let i = 0; i < 3; i++) expect((await upload(i % 2 ? v1 : v2)).status).toBe(201);
      done = true;
    })();
    await Promise.all([imports, ...readers]);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((n) => n === 5 || n === 12), JSON.stringify(seen)).toBe(true);
  });

  it('append adds the file\'s features; a re-import without title keeps the title; versions are kept up to the configured count', async () => {
    const base = latin1Shapefile(join(dir, 'a1'), 'imp_append', ['un', 'deux']);
    expect((await upload(base, { title: 'Titre choisi' })).status).toBe(201);
    const more = latin1Shapefile(join(dir, 'a2'), 'imp_append', ['trois'], { dx: 50_000 });
    const r = await upload(more, { mode: 'append' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.layers[0]).toMatchObject({ count: 3, keptVersion: 1 });
    expect(await count('imp_append')).toBe(3);
    const again = await upload(base);
    expect(again.body.layers[0]).toMatchObject({ title: 'imp_append', count: 2 });
    const row = await db().query(`SELECT title FROM sdi.layers WHERE name = 'imp_append'`);
    expect(row.rows[0].title).toBe('Titre choisi');
    expect((await upload(more)).status).toBe(201);
    const v = JSON.parse((await get(`${admin.base}/admin/layer-versions/imp_append`, { headers: auth })).body);
    expect(v.versions.map((x: any) => x.version)).toEqual([3, 2]); // SDI_IMPORT_KEEP_VERSIONS=2
  });

  it('rollback restores the previous table, its title and its record', async () => {
    expect((await upload(latin1Shapefile(join(dir, 'b1'), 'imp_rollback', ['a', 'b']), { title: 'Première' })).status).toBe(201);
    expect((await upload(latin1Shapefile(join(dir, 'b2'), 'imp_rollback', ['a', 'b', 'c', 'd']), { title: 'Seconde' })).status).toBe(201);
    expect(await count('imp_rollback')).toBe(4);
    const rb = await fetch(`${admin.base}/admin/layer-versions/imp_rollback/rollback`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
    expect(rb.status).toBe(200);
    expect(await count('imp_rollback')).toBe(2);
    const rec = await db().query(`SELECT l.title, m.title AS record_title FROM sdi.layers l JOIN sdi.metadata_records m ON m.id = l.metadata_record_id WHERE l.name = 'imp_rollback'`);
    expect(rec.rows[0]).toEqual({ title: 'Première', record_title: 'Première' });
    const none = await fetch(`${admin.base}/admin/layer-versions/nothing_here/rollback`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
    expect(none.status).toBe(404);
  });

  it('a zipped Shapefile (folders inside) imports like loose files', async () => {
    const files = latin1Shapefile(join(dir, 'z', 'dossier'), 'imp_zip', ['Zéro', 'Un']);
    const zip = join(dir, 'imp_zip.zip');
    execFileSync('python3', ['-c', `import zipfile,sys\nz=zipfile.ZipFile(sys.argv[1],'w')\nfor f in sys.argv[2:]: z.write(f, 'dossier/'+f.split('/')[-1])`, zip, ...files]);
    const r = await upload([zip]);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.layers[0]).toMatchObject({ layer: 'imp_zip', count: 2, encoding: { name: 'iso-8859-1' } });
    expect(await getFeature('imp_zip')).toContain('Zéro');
  });
});

describe('formats GDAL reads', () => {
  /** Two features with accents near Orléans, in WGS 84, written by GDAL's own driver for the format. */
  function write(driver: string, file: string, opts: string[] = [], layerName = 'lieux'): string {
    const ds = gdal.drivers.get(driver).create(file, 0, 0, 0, gdal.GDT_Byte, opts);
    const l = ds.layers.create(layerName, gdal.SpatialReference.fromEPSG(4326), gdal.wkbPoint);
    l.fields.add(new gdal.FieldDefn('nom', gdal.OFTString));
    for (const [n, x] of [['Cathédrale Sainte-Croix', 1.909], ['Hôtel Groslot', 1.905]] as const) {
      const f = new gdal.Feature(l);
      f.fields.set('nom', n);
      f.setGeometry(gdal.Geometry.fromWKT(`POINT(${x} 47.902)`));
      l.features.add(f);
    }
    ds.close();
    return file;
  }

  for (const [driver, ext] of [['GeoJSON', 'geojson'], ['FlatGeobuf', 'fgb'], ['KML', 'kml'], ['GML', 'gml'], ['MapInfo File', 'tab']] as const) {
    it(`${driver}: EPSG:4326 identified, two points in Lambert-93, accents intact`, async () => {
      const folder = join(dir, `fmt-${ext}`);
      mkdirSync(folder, { recursive: true });
      const main = write(driver, join(folder, `lieux.${ext}`));
      const files = [main, ...(ext === 'tab' ? ['dat', 'map', 'id'].map((e) => join(folder, `lieux.${e}`)) : []), ...(ext === 'gml' ? [join(folder, 'lieux.xsd')] : [])];
      const r = await upload(files, { name: `imp_fmt_${ext}` });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body.layers).toHaveLength(1);
      expect(r.body.layers[0]).toMatchObject({ layer: `imp_fmt_${ext}`, count: 2, srid: 2154, sourceCrs: { epsg: 4326 } });
      expect(['POINT', 'MULTIPOINT']).toContain(r.body.layers[0].geometryType);
      expect(await getFeature(`imp_fmt_${ext}`)).toContain('Cathédrale Sainte-Croix');
    });
  }
});

describe('long imports as jobs on the download queue (async=true)', () => {
  it('queued (202 with its status), run by a download worker process, its report in the status; failures give their reason', async () => {
    const worker = spawn(process.execPath, [join(ROOT, 'dist/app/cli.js'), 'download-worker', '--kinds', 'import', '--poll-ms', '200'], {
      env: { ...process.env, DATABASE_URL: inject('databaseUrl'), SDI_DOWNLOAD_DIR: downloadDir, LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    try {
      const wait = async (href: string) => {
        for (let i = 0; i < 600; i++) {
          const st = JSON.parse((await get(href, { headers: auth })).body);
          if (['done', 'failed', 'cancelled'].includes(st.state)) return st;
          await new Promise((r) => setTimeout(r, 200));
        }
        throw new Error('the job did not finish');
      };
      const r = await upload(latin1Shapefile(join(dir, 'job'), 'imp_job', ['Pâture', 'Étang', 'Forêt']), { async: 'true', title: 'Par tâche' });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      expect(r.body.state).toBe('queued');
      const done = await wait(r.body.href);
      expect(done.state, JSON.stringify(done)).toBe('done');
      expect(done.report.layers[0]).toMatchObject({ layer: 'imp_job', title: 'Par tâche', count: 3, encoding: { name: 'iso-8859-1' } });
      // Published by the worker process (the serving process's layer cache learns it within its TTL: issue 10's
      // cross-process freshness is the layer administration's part): checked in the store.
      const rows = await db().query(`SELECT l.title, t.nom FROM sdi.layers l, data.imp_job t WHERE l.name = 'imp_job' ORDER BY t.fid`);
      expect(rows.rows).toEqual([{ title: 'Par tâche', nom: 'Pâture' }, { title: 'Par tâche', nom: 'Étang' }, { title: 'Par tâche', nom: 'Forêt' }]);
      const f = join(dir, 'job-nogeom.csv');
      writeFileSync(f, 'a,b\n1,2\n');
      const bad = await upload([f], { async: 'true' });
      const failed = await wait(bad.body.href);
      expect(failed.state).toBe('failed');
      expect(failed.error).toMatch(/has no geometry/);
      expect((await get(`${admin.base}/admin/imports/00000000-0000-4000-8000-000000000000`, { headers: auth })).status).toBe(404);
    } finally {
      worker.kill('SIGTERM');
    }
  });

  it('a queued import cancelled (DELETE) before a worker took it: cancelled, its upload removed, nothing published', async () => {
    const r = await upload(latin1Shapefile(join(dir, 'job2'), 'imp_job_cancelled', ['x']), { async: 'true' });
    expect(r.status).toBe(202);
    expect(existsSync(join(downloadDir, 'imports', r.body.id))).toBe(true);
    const d = await fetch(r.body.href, { method: 'DELETE', headers: auth });
    expect(d.status).toBe(202);
    expect((await d.json()).state).toBe('cancelled');
    expect(existsSync(join(downloadDir, 'imports', r.body.id))).toBe(false);
    expect((await db().query(`SELECT 1 FROM sdi.layers WHERE name = 'imp_job_cancelled'`)).rowCount).toBe(0);
  });
});

describe('imports publish through the checks of POST /admin/layers (one publishing path)', () => {
  it('an append that would repeat the values of a layer\'s id column is refused like POST /admin/layers refuses it, nothing changed', async () => {
    await db().query(`DROP TABLE IF EXISTS data.imp_ref_codes`);
    await db().query(`CREATE TABLE data.imp_ref_codes (fid serial, code text NOT NULL, nom text, geom geometry(Point, 2154))`);
    await db().query(`INSERT INTO data.imp_ref_codes (code, nom, geom) VALUES ('A', 'Mairie', ST_SetSRID(ST_MakePoint(619500, 6700500), 2154)), ('B', 'École', ST_SetSRID(ST_MakePoint(620500, 6701500), 2154))`);
    const pub = await fetch(`${admin.base}/admin/layers`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'imp_ref_codes', table: 'data.imp_ref_codes', idColumn: 'code' }) });
    expect(pub.status, await pub.clone().text()).toBe(201);
    const before = await snapshot('imp_ref_codes');
    const f = join(dir, 'codes.csv');
    writeFileSync(f, 'code;nom;x;y\nA;Gymnase;621000;6702000\n');
    const r = await upload([f], { name: 'imp_ref_codes', mode: 'append', source_crs: 'EPSG:2154' });
    expect(r.status, JSON.stringify(r.body)).toBe(422);
    // The same reason and field as POST /admin/layers on such a table (test/publishing/layer-admin.test.ts).
    expect(r.body.detail).toMatch(/Column code of data\.imp_ref_codes has 1 repeated values: an id column is unique/);
    expect(r.body.parameter).toBe('idColumn');
    expect(await snapshot('imp_ref_codes')).toEqual(before);
    expect((await db().query('SELECT count(*)::int AS n FROM data.imp_ref_codes')).rows[0].n).toBe(2);
  });

  it('a new layer is served at once by another server process (the layers revision moved in the import\'s transaction)', async () => {
    const rev = async () => Number((await db().query('SELECT revision FROM sdi.layers_revision')).rows[0].revision);
    const other = `${inject('baseUrl')}/ogcapi/collections/imp_revision`;
    expect((await get(other)).status).toBe(404);
    const before = await rev();
    const f = join(dir, 'revision.csv');
    writeFileSync(f, 'nom;x;y\nMairie;619500;6700500\n');
    const r = await upload([f], { name: 'imp_revision', source_crs: 'EPSG:2154' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(await rev()).toBeGreaterThan(before);
    const served = await get(other, { headers: { accept: 'application/json' } });
    expect(served.status, served.body.slice(0, 300)).toBe(200);
    expect(JSON.parse(served.body).id).toBe('imp_revision');
  });
});
