/**
 * Issue 10, layer administration: publish a table through /admin/layers (checked: geometry present, id column
 * unique and never NULL, the table's key when none is named), edit its metadata, unpublish, publish again,
 * delete (?dropTable); the CLI calls the same functions. Changes are made through a server process of the
 * test's own (the admin) and read at once from the suite's server, another process: its layer catalogue
 * follows the registry revision (migration 0017), not a TTL. WFS 2.0 (OGC 09-025r2 §8 GetCapabilities
 * FeatureTypeList), OGC API Features (OGC 17-069r4 §7.14 /collections), WMS 1.3.0 (§7.2.4.6 Layer), CSW 2.0.2
 * GetRecordById (OGC 07-006r1 §10.9), DCAT and the INSPIRE Atom dataset feed all see the same state.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { baseUrl, db, get, ROOT } from '../helpers.js';
import { startServerProcess, type ServerProcess } from '../server-process.js';
import { AREA_INDEX_JOB_KIND, buildAreaIndex } from '../../src/publishing/area-index-job.js';

const TOKEN = 'sdi-layer-admin-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
let admin: ServerProcess;

const api = (path: string, method = 'GET', body?: unknown) =>
  get(`${admin.base}/admin${path}`, { method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
const json = (r: { body: string }) => JSON.parse(r.body);
const problem = (r: { status: number; type: string; body: string }, status: number) => {
  expect(r.type).toContain('application/problem+json');
  expect(r.status, r.body).toBe(status);
  const p = json(r);
  expect(p.detail).not.toMatch(/SELECT|relation "|at .*\.js/);
  return p;
};

/** The suite's server (another process than the admin one). */
const wfsCaps = async () => (await get(`${baseUrl()}/wfs?service=WFS&version=2.0.0&request=GetCapabilities&sections=FeatureTypeList`)).body.replace(/<wfs:(OtherCRS|OutputFormats)>.*?<\/wfs:\1>/g, '');
const oapi = (name: string) => get(`${baseUrl()}/ogcapi/collections/${name}?f=json`);
const wmsCaps = async () => (await get(`${baseUrl()}/wms?service=WMS&version=1.3.0&request=GetCapabilities`)).body;
const atom = (name: string) => get(`${baseUrl()}/download/atom/${name}.xml`);
const record = async (identifier: string) =>
  (await get(`${baseUrl()}/csw?service=CSW&version=2.0.2&request=GetRecordById&outputSchema=http://www.isotc211.org/2005/gmd&elementSetName=full&id=${encodeURIComponent(identifier)}`)).body;
const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'dist/app/cli.js'), ...args], { env: { ...process.env, DATABASE_URL: inject('databaseUrl'), BASE_URL: '' }, encoding: 'utf8' });

beforeAll(async () => {
  await db().query(`DROP TABLE IF EXISTS data.la_sites, data.la_nogeom, data.la_dups, data.la_cli CASCADE`);
  await db().query(`DELETE FROM sdi.layers WHERE name LIKE 'la\\_%'`);
  await db().query(`CREATE TABLE data.la_sites (fid integer PRIMARY KEY, code text, nom text, geom geometry(Point, 2154))`);
  await db().query(`INSERT INTO data.la_sites VALUES (1, 'A', 'Orléans', ST_SetSRID(ST_MakePoint(619000, 6754000), 2154)),
                      (2, 'A', 'Tours', ST_SetSRID(ST_MakePoint(525000, 6701000), 2154)), (3, NULL, 'Blois', ST_SetSRID(ST_MakePoint(572000, 6723000), 2154))`);
  await db().query(`CREATE TABLE data.la_nogeom (id integer PRIMARY KEY, nom text)`);
  await db().query(`CREATE TABLE data.la_dups (gid integer, nom text, geom geometry(Point, 2154))`);
  await db().query(`INSERT INTO data.la_dups VALUES (1, 'a', 'SRID=2154;POINT(600000 6700000)'), (1, 'b', 'SRID=2154;POINT(600001 6700000)')`);
  await db().query(`CREATE TABLE data.la_cli (fid bigint PRIMARY KEY, nom text, geom geometry(Point, 2154))`);
  await db().query(`INSERT INTO data.la_cli VALUES (7, 'x', 'SRID=2154;POINT(600000 6700000)')`);
  admin = await startServerProcess({ DATABASE_URL: inject('databaseUrl'), SDI_DEMO: '0', SDI_ADMIN_TOKEN: TOKEN, SDI_HARVEST: '0', SDI_DOWNLOAD_WORKERS: '0' });
}, 120_000);

afterAll(async () => {
  admin?.stop();
  await db().query(`DELETE FROM sdi.layers WHERE name LIKE 'la\\_%'`);
  await db().query(`DROP TABLE IF EXISTS data.la_sites, data.la_nogeom, data.la_dups, data.la_cli CASCADE`);
});

describe('publish: checked before anything is registered', () => {
  it('needs the administrator credential (401 problem+json)', async () => {
    const r = await get(`${admin.base}/admin/layers`);
    problem(r, 401);
  });

  it('refuses a table without geometry, an id column that is not there, repeated or NULL ids, an unknown table', async () => {
    expect(problem(await api('/layers', 'POST', { name: 'la_nogeom', table: 'data.la_nogeom' }), 422)).toMatchObject({ type: 'urn:sdi:problem:admin:no-geometry', parameter: 'table' });
    // The defect of issue 10: `publish --id id` on a table whose key is fid printed "published" and the layer vanished.
    const noId = problem(await api('/layers', 'POST', { name: 'la_sites', table: 'data.la_sites', idColumn: 'id' }), 422);
    expect(noId).toMatchObject({ parameter: 'idColumn' });
    expect(noId.detail).toContain('fid');
    expect(problem(await api('/layers', 'POST', { name: 'la_sites', table: 'data.la_sites', idColumn: 'code' }), 422).detail).toMatch(/NULL in 1 rows/);
    expect(problem(await api('/layers', 'POST', { name: 'la_dups', table: 'data.la_dups', idColumn: 'gid' }), 422).detail).toMatch(/1 repeated values/);
    expect(problem(await api('/layers', 'POST', { name: 'la_dups', table: 'data.la_dups' }), 422)).toMatchObject({ parameter: 'idColumn' });
    problem(await api('/layers', 'POST', { name: 'la_x', table: 'data.la_missing' }), 404);
    problem(await api('/layers', 'POST', { name: 'la_sites', table: 'data.la_sites', colour: 'red' }), 400);
    problem(await api('/layers', 'POST', { name: 'la sites!', table: 'data.la_sites' }), 400);
    const { rows } = await db().query(`SELECT name FROM sdi.layers WHERE name LIKE 'la\\_%'`);
    expect(rows).toEqual([]);
  });
});

describe('a layer published, edited, withdrawn and deleted through the API, seen at once by another process', () => {
  let identifier = '';

  it('publishes with the table key as id column; WFS, OGC API, WMS, CSW and Atom of the other process serve it at once', async () => {
    // Load the other process's catalogue first, so that the publication is a change to a cache.
    expect(await wfsCaps()).not.toContain('la_sites');
    const r = await api('/layers', 'POST', { name: 'la_sites', table: 'data.la_sites', title: 'Sites de test', keywords: ['sites'] });
    expect(r.status, r.body).toBe(201);
    const l = json(r);
    expect(l).toMatchObject({ name: 'la_sites', idColumn: 'fid', geometryColumn: 'geom', published: true, title: 'Sites de test' });
    expect(l.metadataIdentifier).toMatch(/^[0-9a-f-]{36}$/);
    identifier = l.metadataIdentifier;
    expect(await wfsCaps()).toContain(':la_sites</wfs:Name>');
    expect((await oapi('la_sites')).status).toBe(200);
    expect(await wmsCaps()).toContain('<Name>la_sites</Name>');
    expect((await atom('la_sites')).status).toBe(200);
    expect(await record(identifier)).toContain('Sites de test');
    const items = JSON.parse((await get(`${baseUrl()}/ogcapi/collections/la_sites/items?f=json`)).body);
    expect(items.features.map((f: { id: number }) => f.id).sort()).toEqual([1, 2, 3]);
  });

  it('lists and reads the layer; the OpenAPI document describes the routes', async () => {
    expect(json(await api('/layers')).layers.map((x: { name: string }) => x.name)).toContain('la_sites');
    expect(json(await api('/layers/la_sites'))).toMatchObject({ table: 'data.la_sites', keywords: ['sites'] });
    problem(await api('/layers/la_nothing'), 404);
    const doc = json(await api('/openapi.json'));
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/layers', '/layers/{name}', '/layers/{name}/unpublish', '/layers/{name}/publish']));
  });

  it('edits title, abstract and keywords: WFS, OGC API and CSW of the other process show them at once', async () => {
    const r = await api('/layers/la_sites', 'PATCH', { title: 'Sites remarquables', abstract: 'Trois sites du Val de Loire.', keywords: ['patrimoine', 'Val de Loire'] });
    expect(r.status, r.body).toBe(200);
    const caps = await wfsCaps();
    expect(caps).toContain('<wfs:Title>Sites remarquables</wfs:Title>');
    expect(caps).toContain('<wfs:Abstract>Trois sites du Val de Loire.</wfs:Abstract>');
    const c = json(await oapi('la_sites'));
    expect(c).toMatchObject({ title: 'Sites remarquables', description: 'Trois sites du Val de Loire.' });
    const rec = await record(identifier);
    expect(rec).toContain('Sites remarquables');
    expect(rec).toContain('Trois sites du Val de Loire.');
    expect(rec).toContain('patrimoine');
  });

  it('checks what it is given: unknown members, topic categories, CRS, id column and aliases against the table', async () => {
    problem(await api('/layers/la_sites', 'PATCH', { colour: 'red' }), 400);
    expect(problem(await api('/layers/la_sites', 'PATCH', { topicCategories: ['parks'] }), 400).parameter).toBe('topicCategories');
    expect(problem(await api('/layers/la_sites', 'PATCH', { inspireThemes: ['zz'] }), 400).parameter).toBe('inspireThemes');
    expect(problem(await api('/layers/la_sites', 'PATCH', { defaultCrs: 999999 }), 422).parameter).toBe('defaultCrs');
    expect(problem(await api('/layers/la_sites', 'PATCH', { offeredCrs: [2154, 123456789] }), 422).parameter).toBe('offeredCrs');
    expect(problem(await api('/layers/la_sites', 'PATCH', { idColumn: 'code' }), 422).parameter).toBe('idColumn');
    expect(problem(await api('/layers/la_sites', 'PATCH', { attributeAliases: { colour: 'Couleur' } }), 422).parameter).toBe('attributeAliases/colour');
    expect(problem(await api('/layers/la_sites', 'PATCH', { contact: { organisation: 'X', email: 'not an address' } }), 400).parameter).toBe('contact/email');
    problem(await api('/layers/la_sites', 'PATCH', [1, 2]), 400);
    const ok = json(await api('/layers/la_sites', 'PATCH', { idColumn: 'nom', defaultCrs: 2154, offeredCrs: [2154, 4326], attributeAliases: { nom: 'Nom du site' } }));
    expect(ok).toMatchObject({ idColumn: 'nom', offeredCrs: [2154, 4326], attributeAliases: { nom: 'Nom du site' } });
    const items = JSON.parse((await get(`${baseUrl()}/ogcapi/collections/la_sites/items?f=json`)).body);
    expect(items.features.map((f: { id: string }) => f.id).sort()).toEqual(['Blois', 'Orléans', 'Tours']);
    await api('/layers/la_sites', 'PATCH', { idColumn: 'fid' });
  });

  it('unpublishes: gone from WFS, OGC API, WMS, Atom and DCAT of the other process, its record withdrawn from CSW', async () => {
    const r = await api('/layers/la_sites/unpublish', 'POST');
    expect(r.status, r.body).toBe(200);
    expect(json(r)).toMatchObject({ published: false, metadataIdentifier: null });
    expect(await wfsCaps()).not.toContain('la_sites');
    const gf = await get(`${baseUrl()}/wfs?service=WFS&version=2.0.0&request=GetFeature&typeNames=la_sites`);
    expect(gf.status).toBe(400);
    expect(gf.body).toContain('locator="typeNames"');
    expect((await oapi('la_sites')).status).toBe(404);
    expect(await wmsCaps()).not.toContain('<Name>la_sites</Name>');
    expect((await atom('la_sites')).status).toBe(404);
    expect(await record(identifier)).not.toContain('Sites remarquables');
    const { rows } = await db().query(`SELECT count(*)::int AS n FROM sdi.metadata_records WHERE identifier = $1`, [identifier]);
    expect(rows[0].n).toBe(0);
    const dcat = await get(`${baseUrl()}/dcat/catalog.ttl`);
    expect(dcat.body).not.toContain(identifier);
  });

  it('publishes again (checked) with its metadata kept; deletes with ?dropTable=true: layer, record and table gone', async () => {
    const r = await api('/layers/la_sites/publish', 'POST');
    expect(r.status, r.body).toBe(200);
    expect(json(r)).toMatchObject({ published: true, title: 'Sites remarquables', metadataIdentifier: identifier });
    expect(await wfsCaps()).toContain('<wfs:Title>Sites remarquables</wfs:Title>');
    problem(await api('/layers/la_sites?dropTable=yes', 'DELETE'), 400);
    problem(await api('/layers/la_sites?cascade=true', 'DELETE'), 400);
    const d = await api('/layers/la_sites?dropTable=true', 'DELETE');
    expect(d.status, d.body).toBe(200);
    expect(json(d)).toEqual({ name: 'la_sites', table: 'data.la_sites', tableDropped: true });
    expect(await wfsCaps()).not.toContain('la_sites');
    expect((await oapi('la_sites')).status).toBe(404);
    const { rows } = await db().query(`SELECT to_regclass('data.la_sites') AS t, (SELECT count(*)::int FROM sdi.metadata_records WHERE identifier = $1) AS n`, [identifier]);
    expect(rows[0]).toEqual({ t: null, n: 0 });
    problem(await api('/layers/la_sites', 'DELETE'), 404);
  });
});

describe('a polygon table published as it is gets the GiST (geom, ST_Area(geom)) index of the vector tiles (src/render/mvt-sql.ts), by a background job', () => {
  it('queued once on publication, built by the job; a point table gets none', async () => {
    await db().query(`DROP TABLE IF EXISTS data.la_zones CASCADE`);
    await db().query(`DELETE FROM sdi.jobs WHERE kind = $1 AND request->>'table' IN ('la_zones', 'la_cli')`, [AREA_INDEX_JOB_KIND]);
    await db().query(`CREATE TABLE data.la_zones (fid integer PRIMARY KEY, nom text, geom geometry(MultiPolygon, 2154))`);
    await db().query(`INSERT INTO data.la_zones VALUES (1, 'Zone', ST_Multi(ST_MakeEnvelope(618000, 6756000, 618400, 6756400, 2154)))`);
    const areaIndexes = async (t: string) =>
      (await db().query(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'data' AND tablename = $1 AND indexdef ILIKE '%st_area(geom)%'`, [t])).rows.map((r) => r.indexdef);
    const jobs = async (t: string) => (await db().query(`SELECT id, state, request FROM sdi.jobs WHERE kind = $1 AND request->>'table' = $2`, [AREA_INDEX_JOB_KIND, t])).rows;
    try {
      const r = await api('/layers', 'POST', { name: 'la_zones', table: 'data.la_zones' });
      expect(r.status, r.body).toBe(201);
      // Published at once, the index queued (this admin server runs no worker).
      expect(await areaIndexes('la_zones')).toEqual([]);
      const queued = await jobs('la_zones');
      expect(queued).toEqual([expect.objectContaining({ state: 'queued', request: { schema: 'data', table: 'la_zones', column: 'geom' } })]);
      // Published again while it waits: the same job.
      expect((await api('/layers', 'POST', { name: 'la_zones', table: 'data.la_zones' })).status).toBe(201);
      expect(await jobs('la_zones')).toHaveLength(1);
      // The job's work (the worker's handler calls this with the job's request; test/publishing/import-area-index runs a worker process).
      expect(await buildAreaIndex(db(), queued[0].request)).toMatchObject({ outcome: 'built' });
      expect(await areaIndexes('la_zones')).toEqual([expect.stringMatching(/USING gist \(geom, st_area\(geom\)\)/)]);
      await db().query(`DELETE FROM sdi.jobs WHERE id = $1`, [queued[0].id]);
      // Published again: nothing to queue, no second index.
      expect((await api('/layers', 'POST', { name: 'la_zones', table: 'data.la_zones' })).status).toBe(201);
      expect(await jobs('la_zones')).toEqual([]);
      expect(await areaIndexes('la_zones')).toHaveLength(1);
      expect(await areaIndexes('la_cli')).toEqual([]);
      expect(await jobs('la_cli')).toEqual([]);
    } finally {
      await api('/layers/la_zones?dropTable=true', 'DELETE');
      await db().query(`DROP TABLE IF EXISTS data.la_zones CASCADE`);
      await db().query(`DELETE FROM sdi.jobs WHERE kind = $1 AND request->>'table' = 'la_zones'`, [AREA_INDEX_JOB_KIND]);
    }
  });
});

describe('the CLI calls the same functions', () => {
  it('publish without --id takes the key (fid); a wrong --id fails with the reason, exit 1; unpublish and delete', async () => {
    const bad = cli('publish', '--table', 'data.la_cli', '--name', 'la_cli', '--id', 'id');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/has no column id .*fid/);
    const ok = cli('publish', '--table', 'data.la_cli', '--name', 'la_cli');
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('id column fid');
    expect((await oapi('la_cli')).status).toBe(200);
    expect(cli('unpublish', '--name', 'la_cli').status).toBe(0);
    expect((await oapi('la_cli')).status).toBe(404);
    const del = cli('delete', '--name', 'la_cli');
    expect(del.status, del.stderr).toBe(0);
    expect(del.stdout).toContain('table data.la_cli kept');
    const { rows } = await db().query(`SELECT to_regclass('data.la_cli')::text AS t, (SELECT count(*)::int FROM sdi.layers WHERE name = 'la_cli') AS n`);
    expect(rows[0]).toEqual({ t: 'data.la_cli', n: 0 });
    void execFileSync;
  });
});
