/**
 * Issue 11: users, groups, tokens and grants on every route. A restricted copy of the communes layer
 * (rights_communes) is served by a platform built in this process on the suite's database with the grants
 * policy, and every route Fastify knows is walked as four callers — anonymous, a user without a grant, a user
 * whose group holds the grant, a user whose grant is limited to a territory (the département 45) — with the
 * expectations of the route's kind. The routes come from the Fastify instance, so a new route without a sample
 * here fails the walk. Then the territory (WFS, OGC API Features, downloads, GetMap pixels, GetFeatureInfo) and
 * the credentials (wrong password, disabled user, expired / revoked / out-of-scope token, access_token in the
 * URL) are checked one by one.
 */
import { describe, it, expect, beforeAll, afterAll, inject } from 'vitest';
import { createHash } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, baseUrl, db } from '../helpers.js';
import { decode, pixel, toPixel } from '../maps/image.js';
import { closePlatform, inProcessPlatform, type App, type Reply, type TestPlatform } from './in-process-platform.js';
import { samples, type Sample } from './route-samples.js';

const L = 'rights_communes';
const ADMIN_TOKEN = 'rights-test-admin-token';
const PW = 'rights-test-password';
const basic = (login: string, pw = PW) => `Basic ${Buffer.from(`${login}:${pw}`).toString('base64')}`;
const CALLERS = {
  anonymous: undefined,
  nogrant: basic('rt_nogrant'),
  reader: basic('rt_reader'),
  terri: basic('rt_terri'),
} as const;
type Caller = keyof typeof CALLERS;

let app: App;
let platform: TestPlatform;
/** Codes of the communes intersecting the territory (what the territorial user may get), and of all. */
let territoryCodes: string[] = [];
let allCount = 0;
let record: { id: string; identifier: string };

const send = (method: string, url: string, authorization?: string, payload?: unknown, headers: Record<string, string> = {}) =>
  app.inject({
    method,
    url,
    headers: { ...headers, ...(authorization ? { authorization } : {}), ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
    payload: payload === undefined ? undefined : typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
const admin = (method: string, url: string, payload?: unknown) => send(method, `/admin${url}`, `Bearer ${ADMIN_TOKEN}`, payload);

async function cleanUp(): Promise<void> {
  await db().query(`DELETE FROM sdi.users WHERE login LIKE 'rt\\_%'`);
  await db().query(`DELETE FROM sdi.groups WHERE name LIKE 'rt\\_%'`);
  await db().query(`DELETE FROM sdi.grants WHERE resource_name IN ($1, 'rt_dataset', 'rt_other_dataset')`, [L]);
  await db().query(`DELETE FROM sdi.jobs WHERE request->'layers' ? $1`, [L]);
  await db().query(`DELETE FROM sdi.layers WHERE name = $1`, [L]);
  await db().query(`DROP TABLE IF EXISTS data.rights_communes`);
  await db().query(`DELETE FROM sdi.datasets WHERE name = 'rt_dataset'`);
}

beforeAll(async () => {
  await cleanUp();
  await db().query(`CREATE TABLE data.rights_communes AS SELECT fid, code, nom, geom FROM data.communes`);
  await db().query(`ALTER TABLE data.rights_communes ADD PRIMARY KEY (fid)`);
  await db().query(`CREATE INDEX ON data.rights_communes USING gist (geom)`);
  await db().query(`INSERT INTO sdi.layers (name, table_schema, table_name, id_column, geometry_column, title) VALUES ($1, 'data', 'rights_communes', 'fid', 'geom', 'Communes (accès restreint)')`, [L]);
  territoryCodes = (
    await db().query<{ code: string }>(`SELECT c.code FROM data.rights_communes c WHERE ST_Intersects(c.geom, (SELECT ST_Union(geom) FROM data.departements WHERE code = '45')) ORDER BY 1`)
  ).rows.map((r) => r.code);
  allCount = Number((await db().query('SELECT count(*) AS n FROM data.rights_communes')).rows[0].n);
  // The layer described by a record of the catalogue: that record is hidden with the layer.
  record = (await db().query<{ id: string; identifier: string }>('SELECT id, identifier FROM sdi.metadata_records ORDER BY identifier LIMIT 1')).rows[0]!;
  await db().query('UPDATE sdi.layers SET metadata_record_id = $2 WHERE name = $1', [L, record.id]);

  // With the suite's tile cache: a cached tile must never come out to a caller who may not see it.
  ({ app, platform } = await inProcessPlatform(ADMIN_TOKEN, { SDI_ADMIN_LOGIN: 'rt_root', SDI_ADMIN_PASSWORD: 'rt-root-password', SDI_TILE_CACHE_DIR: inject('tileCacheDir') }));

  // Through the admin API: the layer restricted; a group holding the download grant; a territorial grant.
  expect((await admin('PUT', `/access/layers/${L}`, { public: false })).statusCode).toBe(200);
  for (const login of ['rt_nogrant', 'rt_reader', 'rt_terri']) expect((await admin('POST', '/users', { login, password: PW })).statusCode).toBe(201);
  expect((await admin('POST', '/groups', { name: 'rt_partners', title: 'Partenaires' })).statusCode).toBe(201);
  expect((await admin('PUT', '/groups/rt_partners/members/rt_reader')).statusCode).toBe(204);
  expect((await admin('POST', '/grants', { group: 'rt_partners', resourceKind: 'layer', resourceName: L, action: 'download' })).statusCode).toBe(201);
  const g = await admin('POST', '/grants', { user: 'rt_terri', resourceKind: 'layer', resourceName: L, action: 'download', territory: { kind: 'departement', code: '45' } });
  expect(g.statusCode, g.body).toBe(201);
  expect(JSON.parse(g.body)).toMatchObject({ user: 'rt_terri', territoryKind: 'departement', territoryCode: '45', action: 'download' });
}, 180_000);

afterAll(async () => {
  await closePlatform({ app, platform });
  await cleanUp();
});

/** What a refusal must look like in each service. */
const formatOf = (path: string) => (path.startsWith('/wfs') || path.startsWith('/csw') || path.startsWith('/wms') || path.startsWith('/wmts') ? /xml/ : /json/);

/** A name that no layer has: a restricted layer must answer exactly as it to whoever may not see the restricted one. */
const NOWHERE = 'rights_nowhere';

/**
 * No enumeration of restricted names (issue 11; README "Rights"): to a caller who may not see the restricted layer
 * (anonymous or signed in without a grant), the same request naming a layer that does not exist answers the same
 * status, the same media type and the same body once the names are swapped — a refusal, never 2xx.
 */
async function sameAsUnknown(method: string, s: Sample, auth: string | undefined, r: Reply, where: string): Promise<string[]> {
  const twin = await app.inject({ method, url: s.url.split(L).join(NOWHERE), headers: { ...(auth ? { authorization: auth } : {}), ...(s.type ? { 'content-type': s.type } : {}) }, payload: s.payload?.split(L).join(NOWHERE) });
  const out: string[] = [];
  if (r.statusCode < 400) out.push(`${where}: served to a caller who may not see it`);
  if (r.statusCode !== twin.statusCode) out.push(`${where}: status differs from an unknown layer's (${twin.statusCode})`);
  if (r.headers['content-type'] !== twin.headers['content-type']) out.push(`${where}: media type differs from an unknown layer's (${String(twin.headers['content-type'])})`);
  if (r.headers['www-authenticate'] !== twin.headers['www-authenticate']) out.push(`${where}: challenge differs from an unknown layer's`);
  if (r.body !== twin.body.split(NOWHERE).join(L)) out.push(`${where}: body differs from an unknown layer's: ${r.body.slice(0, 200)} ≠ ${twin.body.slice(0, 200)}`);
  return out;
}

async function walk(caller: Caller): Promise<string[]> {
  const auth = CALLERS[caller];
  const problems: string[] = [];
  for (const [route, list] of Object.entries(samples(L, auth ?? ''))) {
    const method = route.split(' ')[0]!;
    for (const s of list) {
      const r = await app.inject({ method, url: s.url, headers: { ...(auth ? { authorization: auth } : {}), ...(s.type ? { 'content-type': s.type } : {}) }, payload: s.payload });
      const type = String(r.headers['content-type'] ?? '');
      const where = `${caller} ${method} ${s.url.slice(0, 90)} → ${r.statusCode} ${type}`;
      const ok = r.statusCode < 300;
      const granted = caller === 'reader' || caller === 'terri';
      const expect401or403 = caller === 'anonymous' ? 401 : 403;
      if (r.statusCode >= 500) problems.push(`${where}: server error`);
      if (r.statusCode >= 400 && !formatOf(s.url).test(type)) problems.push(`${where}: refusal not in the service's format`);
      if (r.statusCode === 401 && !/Basic/.test(String(r.headers['www-authenticate']))) problems.push(`${where}: 401 without a Basic challenge`);
      const holds = r.body.includes(L);
      switch (s.kind) {
        case 'list':
          if (!ok) problems.push(`${where}: a listing refused`);
          else if (granted !== holds) problems.push(`${where}: ${granted ? 'the layer is missing' : 'the layer is listed'}`);
          break;
        case 'data':
        case 'whole':
          if (granted && !(s.kind === 'whole' && caller === 'terri')) {
            if (!ok) problems.push(`${where}: refused to a holder of the grant (${r.body.slice(0, 160)})`);
          } else if (granted) {
            if (r.statusCode !== 403) problems.push(`${where}: expected 403`);
          } else problems.push(...(await sameAsUnknown(method, s, auth, r, where)));
          break;
        case 'edit':
          if (granted) {
            if (r.statusCode !== 403) problems.push(`${where}: expected 403`);
          } else problems.push(...(await sameAsUnknown(method, s, auth, r, where)));
          break;
        case 'admin':
          if (r.statusCode !== expect401or403) problems.push(`${where}: expected ${expect401or403}`);
          break;
        case 'other':
          if (ok && !granted && holds) problems.push(`${where}: names the restricted layer`);
          break;
      }
    }
  }
  return problems;
}

describe('issue 11: every route × {anonymous, no grant, grant through a group, territorial grant}', () => {
  it('every route of every service has a sample here (a new route must be added)', () => {
    const known = samples(L, '');
    const routes = app.routeList.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS').map((r) => `${r.method} ${r.url.replace(/(.)\/$/, '$1')}`);
    expect(routes.length).toBeGreaterThan(50);
    expect(routes.filter((r) => !known[r])).toEqual([]);
  });

  for (const caller of Object.keys(CALLERS) as Caller[]) {
    it(`as ${caller}: each route answers as its kind says (listings, 401/403 in the protocol's format, data to holders)`, async () => {
      expect(await walk(caller)).toEqual([]);
    }, 180_000);
  }
});

describe('issue 11: the admin REST API is described by its OpenAPI document', () => {
  it('every /admin route of the route list, with its method, is a path of /admin/openapi.json (OpenAPI 3.0)', async () => {
    const r = await admin('GET', '/openapi.json');
    expect(r.statusCode).toBe(200);
    const doc = JSON.parse(r.body) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\.0\./);
    const shape = (p: string) => p.replace(/\{[^}]+\}|:[^/]+/g, '{}');
    const declared = new Set(Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${shape(p)}`)));
    const routes = app.routeList
      .filter((x) => x.url.startsWith('/admin') && x.method !== 'HEAD' && x.method !== 'OPTIONS')
      .map((x) => `${x.method} ${shape(x.url.slice('/admin'.length).replace(/(.)\/$/, '$1') || '/')}`);
    expect(routes.length).toBeGreaterThan(40);
    expect(routes.filter((x) => !declared.has(x))).toEqual([]);
  });
});

describe('issue 11: a territorial grant (département 45) restricts every query to its territory', () => {
  const terri = CALLERS.terri;
  it('the territory is a real part of the layer', () => {
    expect(territoryCodes.length).toBeGreaterThan(300);
    expect(territoryCodes.length).toBeLessThan(allCount);
  });

  it('WFS 2.0 GetFeature (hits and GeoJSON): only the communes inside', async () => {
    const hits = await send('GET', `/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:${L}&RESULTTYPE=hits`, terri);
    expect(hits.body).toContain(`numberMatched="${territoryCodes.length}"`);
    const json = await send('GET', `/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:${L}&OUTPUTFORMAT=application/json&PROPERTYNAME=code`, terri);
    expect(json.statusCode).toBe(200);
    const codes = (JSON.parse(json.body).features as Array<{ properties: { code: string } }>).map((f) => f.properties.code).sort();
    expect(codes).toEqual(territoryCodes);
    const reader = await send('GET', `/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:${L}&RESULTTYPE=hits`, CALLERS.reader);
    expect(reader.body).toContain(`numberMatched="${allCount}"`);
  });

  it('OGC API Features items: only the communes inside, numberMatched too', async () => {
    const r = await send('GET', `/ogcapi/collections/${L}/items?limit=2000`, terri);
    expect(r.statusCode).toBe(200);
    const doc = JSON.parse(r.body);
    expect(doc.numberMatched).toBe(territoryCodes.length);
    expect((doc.features as Array<{ properties: { code: string } }>).map((f) => f.properties.code).sort()).toEqual(territoryCodes);
    const outside = (await db().query<{ fid: number }>(`SELECT fid FROM data.rights_communes WHERE code NOT IN (SELECT unnest($1::text[])) LIMIT 1`, [territoryCodes])).rows[0]!.fid;
    expect((await send('GET', `/ogcapi/collections/${L}/items/${outside}`, terri)).statusCode).toBe(404);
    expect((await send('GET', `/ogcapi/collections/${L}/items/${outside}`, CALLERS.reader)).statusCode).toBe(200);
  });

  it('download service: estimate and extract hold only the territory', async () => {
    const est = JSON.parse((await send('GET', `/download/estimate?layer=${L}&format=geojson`, terri)).body);
    expect(est.features).toBe(territoryCodes.length);
    const r = await send('GET', `/download/extract?layer=${L}&format=geojson&crs=EPSG:4326`, terri);
    expect(r.statusCode).toBe(200);
    const codes = (JSON.parse(r.body).features as Array<{ properties: { code: string } }>).map((f) => f.properties.code).sort();
    expect(codes).toEqual(territoryCodes);
  });

  it('download jobs: the result of a territorial grant holds only the territory; its link stops once the grant is withdrawn', async () => {
    expect((await admin('POST', '/users', { login: 'rt_jobs', password: PW })).statusCode).toBe(201);
    const g = await admin('POST', '/grants', { user: 'rt_jobs', resourceKind: 'layer', resourceName: L, action: 'download', territory: { kind: 'departement', code: '45' } });
    expect(g.statusCode, g.body).toBe(201);
    const auth = basic('rt_jobs');
    const posted = await send('POST', '/download/jobs', auth, { layers: [L], format: 'geojson', crs: 'EPSG:4326' });
    expect(posted.statusCode, posted.body).toBe(202);
    const id = JSON.parse(posted.body).id as string;
    const { startDownloadWorkers } = await import(join(ROOT, 'dist/src/download/jobs/worker.js'));
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const workers = startDownloadWorkers(platform, 1, quiet, { pollMs: 200, kinds: ['download'] });
    let status: { state: string; result?: { href: string; features: number } } = { state: 'queued' };
    try {
      for (let i = 0; i < 600 && !['done', 'failed', 'cancelled'].includes(status.state); i++) {
        await new Promise((r) => setTimeout(r, 200));
        status = JSON.parse((await send('GET', `/download/jobs/${id}`, auth)).body);
      }
    } finally {
      await workers.stop();
    }
    expect(status.state, JSON.stringify(status)).toBe('done');
    expect(status.result!.features).toBe(territoryCodes.length);
    const link = status.result!.href.slice(baseUrl().length);
    const file = await send('GET', link);
    expect(file.statusCode).toBe(200);
    const codes = (JSON.parse(file.body).features as Array<{ properties: { code: string } }>).map((f) => f.properties.code).sort();
    expect(codes).toEqual(territoryCodes);
    // The signed link says who may fetch; the policy, asked again, whether the data may still go out.
    expect((await admin('DELETE', `/grants/${JSON.parse(g.body).id}`)).statusCode).toBe(204);
    const after = await send('GET', link);
    expect(after.statusCode).toBe(403);
    expect(after.headers['content-type']).toMatch(/problem\+json/);
  }, 180_000);

  it('WMS GetMap: pixels outside the territory stay empty; GetFeatureInfo finds nothing there', async () => {
    const pt = async (where: string) =>
      (await db().query<{ x: number; y: number }>(`SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_PointOnSurface(c.geom) AS p FROM data.rights_communes c WHERE ${where} ORDER BY c.code LIMIT 1) s`)).rows[0]!;
    const inside = await pt(`c.code = '45234'`);
    const outside = await pt(`c.code LIKE '41%' AND NOT ST_Intersects(c.geom, (SELECT ST_Union(geom) FROM data.departements WHERE code = '45'))`);
    const box = { minx: Math.min(inside.x, outside.x) - 5000, miny: Math.min(inside.y, outside.y) - 5000, maxx: Math.max(inside.x, outside.x) + 5000, maxy: Math.max(inside.y, outside.y) + 5000 };
    const size = 256;
    const q = `SERVICE=WMS&VERSION=1.3.0&LAYERS=${L}&STYLES=&CRS=EPSG:2154&BBOX=${box.minx},${box.miny},${box.maxx},${box.maxy}&WIDTH=${size}&HEIGHT=${size}&FORMAT=image/png&TRANSPARENT=TRUE`;
    const alphaAt = async (auth: string, p: { x: number; y: number }) => {
      const r = await send('GET', `/wms?${q}&REQUEST=GetMap`, auth);
      expect(r.statusCode).toBe(200);
      const [i, j] = toPixel(box, size, size, p.x, p.y);
      return pixel(await decode(r.rawPayload), i, j)[3];
    };
    expect(await alphaAt(CALLERS.reader, outside)).toBeGreaterThan(0);
    expect(await alphaAt(terri!, outside)).toBe(0);
    expect(await alphaAt(terri!, inside)).toBeGreaterThan(0);
    const info = async (auth: string, p: { x: number; y: number }) => {
      const [i, j] = toPixel(box, size, size, p.x, p.y);
      const r = await send('GET', `/wms?${q}&REQUEST=GetFeatureInfo&QUERY_LAYERS=${L}&INFO_FORMAT=application/json&I=${i}&J=${j}`, auth);
      expect(r.statusCode).toBe(200);
      return JSON.parse(r.body).features.length as number;
    };
    expect(await info(CALLERS.reader, outside)).toBeGreaterThan(0);
    expect(await info(terri!, outside)).toBe(0);
    expect(await info(terri!, inside)).toBeGreaterThan(0);
  });

  it('tiles: a WMTS tile leaves the communes outside the territory empty; vector tiles (OGC API – Tiles and /tiles) hold only those inside', async () => {
    // Blois (Loir-et-Cher) does not touch the Loiret; Orléans is in it. The LAMB93_10cm level-9 tile (105 km) holding Orléans holds both.
    const { rows } = await db().query<{ code: string; x: number; y: number; touches: boolean }>(
      `SELECT code, ST_X(c) AS x, ST_Y(c) AS y, ST_Intersects(geom, (SELECT ST_Union(geom) FROM data.departements WHERE code = '45')) AS touches
         FROM (SELECT code, geom, (ST_MaximumInscribedCircle(geom)).center AS c FROM data.rights_communes WHERE code IN ('45234', '41018')) s`,
    );
    const at = (code: string) => rows.find((r) => r.code === code)!;
    expect([at('45234').touches, at('41018').touches]).toEqual([true, false]);
    const span = 0.1 * 2 ** (21 - 9) * 256;
    const col = Math.floor(+at('45234').x / span);
    const row = Math.floor((12_000_000 - +at('45234').y) / span);
    const px = (r: { x: number; y: number }): [number, number] => [Math.floor(((+r.x - col * span) / span) * 256), Math.floor(((12_000_000 - row * span - +r.y) / span) * 256)];
    const tile = `/wmts/1.0.0/${L}/default/LAMB93_10cm/9/${row}/${col}.png`;
    const alpha = async (auth: string, code: string) => {
      const r = await send('GET', tile, auth);
      expect(r.statusCode, r.body.slice(0, 200)).toBe(200);
      return pixel(await decode(r.rawPayload), ...px(at(code)))[3];
    };
    expect(await alpha(CALLERS.reader!, '41018')).toBeGreaterThan(50);
    // Asked by the whole grant first: a cached tile must not come out for the territorial user.
    expect(await alpha(terri!, '41018')).toBe(0);
    expect(await alpha(terri!, '45234')).toBeGreaterThan(50);
    // Vector tiles, read by GDAL's MVT driver: the level-8 WebMercatorQuad tile of Orléans (x 129, y 89).
    const codesOf = async (url: string, auth: string) => {
      const r = await send('GET', url, auth);
      expect(r.statusCode, r.body.slice(0, 200)).toBe(200);
      const dir = mkdtempSync(join(tmpdir(), 'sdi-rights-mvt-'));
      try {
        mkdirSync(join(dir, '8', '129'), { recursive: true });
        writeFileSync(join(dir, '8', '129', '89.pbf'), r.rawPayload);
        const out = execFileSync('ogrinfo', ['-ro', '-al', join(dir, '8', '129', '89.pbf')], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
        return [...new Set([...out.matchAll(/code \(String\) = (\S+)/g)].map((m) => m[1]!))].sort();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    for (const url of [`/tiles/${L}/8/129/89.pbf`, `/ogcapi/collections/${L}/tiles/WebMercatorQuad/8/89/129`]) {
      const whole = await codesOf(url, CALLERS.reader!);
      const mine = await codesOf(url, terri!);
      expect(whole.filter((c) => !territoryCodes.includes(c)).length, url).toBeGreaterThan(0);
      expect(mine.length, url).toBeGreaterThan(0);
      expect(mine.filter((c) => !territoryCodes.includes(c)), url).toEqual([]);
      expect(mine, url).toEqual(whole.filter((c) => territoryCodes.includes(c)));
    }
  });

  it('a polygon territory (GeoJSON, WGS 84) made through the admin API restricts the same way', async () => {
    expect((await admin('POST', '/users', { login: 'rt_poly', password: PW })).statusCode).toBe(201);
    const square = (await db().query<{ g: string }>(`SELECT ST_AsGeoJSON(ST_Transform(ST_Buffer(ST_PointOnSurface(geom), 3000), 4326)) AS g FROM data.rights_communes WHERE code = '45234'`)).rows[0]!.g;
    const r = await admin('POST', '/grants', { user: 'rt_poly', resourceKind: 'layer', resourceName: L, action: 'read', territory: { kind: 'polygon', geometry: JSON.parse(square) } });
    expect(r.statusCode, r.body).toBe(201);
    const expected = Number((await db().query(`SELECT count(*) AS n FROM data.rights_communes c, sdi.grants g WHERE g.id = $1 AND ST_Intersects(c.geom, g.territory)`, [JSON.parse(r.body).id])).rows[0].n);
    expect(expected).toBeGreaterThan(0);
    const hits = await send('GET', `/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:${L}&RESULTTYPE=hits`, basic('rt_poly'));
    expect(hits.body).toContain(`numberMatched="${expected}"`);
    // read does not imply download.
    expect((await send('GET', `/download/estimate?layer=${L}&format=gpkg`, basic('rt_poly'))).statusCode).toBe(403);
    // A polygon that is not one: refused, nothing stored.
    const before = Number((await db().query('SELECT count(*) AS n FROM sdi.grants')).rows[0].n);
    const bad = await admin('POST', '/grants', { user: 'rt_poly', resourceKind: 'layer', resourceName: L, action: 'read', territory: { kind: 'polygon', geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]] } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/problem\+json/);
    expect(Number((await db().query('SELECT count(*) AS n FROM sdi.grants')).rows[0].n)).toBe(before);
  });
});

describe('issue 11: QGIS headless with Basic auth (an authcfg of its authentication database)', () => {
  it('loads the restricted layer through WFS 2.0 and WMS 1.3.0 and gets only the territory; without the authcfg, nothing', async () => {
    // The suite's server (another process, same database) sees the new layer once its catalogue reloads.
    const auth = { authorization: CALLERS.terri! };
    for (let i = 0; i < 60 && !(await (await fetch(`${baseUrl()}/wfs?SERVICE=WFS&REQUEST=GetCapabilities`, { headers: auth })).text()).includes(L); i++) await new Promise((r) => setTimeout(r, 500));
    const pt = async (where: string) =>
      (await db().query<{ x: number; y: number }>(`SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_PointOnSurface(c.geom) AS p FROM data.rights_communes c WHERE ${where} ORDER BY c.code LIMIT 1) s`)).rows[0]!;
    const inside = await pt(`c.code = '45234'`);
    const outside = await pt(`c.code LIKE '41%' AND NOT ST_Intersects(c.geom, (SELECT ST_Union(geom) FROM data.departements WHERE code = '45'))`);
    const box = [Math.min(inside.x, outside.x) - 5000, Math.min(inside.y, outside.y) - 5000, Math.max(inside.x, outside.x) + 5000, Math.max(inside.y, outside.y) + 5000];
    const dir = mkdtempSync(join(tmpdir(), 'sdi-qgis-rights-'));
    const out = join(dir, 'report.json');
    try {
      await new Promise<void>((resolve, reject) =>
        execFile(
          process.env.QGIS_PYTHON ?? '/usr/bin/python3',
          [join(import.meta.dirname, 'qgis_rights.py'), '--base', baseUrl(), '--layer', L, '--user', 'rt_terri', '--password', PW, '--out', out, '--bbox', box.join(','), '--points', [inside.x, inside.y, outside.x, outside.y].join(',')],
          { timeout: 240_000 },
          (err) => (err ? reject(err) : resolve()),
        ),
      );
      const r = JSON.parse(readFileSync(out, 'utf8'));
      expect(r.error).toBeUndefined();
      expect(r.wfsAuth.valid).toBe(true);
      expect(r.wfsAuth.codes).toEqual(territoryCodes);
      expect(r.wfsNoAuth.valid).toBe(false);
      expect(r.wmsAuth.valid).toBe(true);
      expect(r.wmsAuth.first[3]).toBeGreaterThan(0);
      expect(r.wmsAuth.second[3]).toBe(0);
      expect(r.wmsNoAuth.valid).toBe(false);
      // The credential travelled in the Authorization header, never in a URL.
      expect((r.wmsAuth.requests as string[]).some((u) => u.includes('REQUEST=GetMap'))).toBe(true);
      expect((r.wmsAuth.requests as string[]).filter((u) => u.includes(PW) || /access_token/i.test(u))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

describe('issue 11: catalogue records of restricted layers', () => {
  it('CSW GetRecords / GetRecordById and DCAT leave out the record of a layer the caller may not view', async () => {
    const hits = async (auth?: string) => Number(/numberOfRecordsMatched="(\d+)"/.exec((await send('GET', '/csw?service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=hits', auth)).body)![1]);
    const total = Number((await db().query('SELECT count(*) AS n FROM sdi.metadata_records')).rows[0].n);
    expect(await hits(CALLERS.reader)).toBe(total);
    expect(await hits(CALLERS.terri)).toBe(total);
    expect(await hits()).toBe(total - 1);
    expect(await hits(CALLERS.nogrant)).toBe(total - 1);
    const byId = `/csw?service=CSW&version=2.0.2&request=GetRecordById&id=${encodeURIComponent(record.identifier)}&elementSetName=brief`;
    expect((await send('GET', byId)).body).not.toContain(record.identifier);
    // No enumeration: the hidden record's answer is the answer for an identifier no record has.
    const unknownId = `${record.identifier}-nowhere`;
    for (const auth of [undefined, CALLERS.nogrant]) {
      const hidden = await send('GET', byId, auth);
      const unknown = await send('GET', byId.replace(encodeURIComponent(record.identifier), encodeURIComponent(unknownId)), auth);
      expect([hidden.statusCode, hidden.headers['content-type']]).toEqual([unknown.statusCode, unknown.headers['content-type']]);
      expect(hidden.body).toBe(unknown.body);
      const dcatHidden = await send('GET', `/dcat/records/${encodeURIComponent(record.identifier)}`, auth);
      const dcatUnknown = await send('GET', `/dcat/records/${encodeURIComponent(unknownId)}`, auth);
      expect(dcatHidden.statusCode).toBe(dcatUnknown.statusCode);
      expect(dcatHidden.body.split(record.identifier).join('ID')).toBe(dcatUnknown.body.split(unknownId).join('ID'));
    }
    expect((await send('GET', byId, CALLERS.reader)).body).toContain(record.identifier);
    const dcat = `/dcat/records/${encodeURIComponent(record.identifier)}`;
    expect((await send('GET', dcat)).statusCode).toBe(404);
    expect((await send('GET', dcat, CALLERS.reader)).statusCode).toBe(200);
    // The page cache never hands one caller's count to another: asked again, in the other order.
    expect(await hits()).toBe(total - 1);
    expect(await hits(CALLERS.reader)).toBe(total);
  });

  it('the DCAT catalogue page leaves it out too (the listing, not only the record by id; Atom feeds: the route walk)', async () => {
    const total = Number((await db().query('SELECT count(*) AS n FROM sdi.metadata_records')).rows[0].n);
    const page = async (auth?: string) => {
      const r = await send('GET', '/dcat?format=ttl&page_size=1000', auth);
      expect(r.statusCode).toBe(200);
      return { total: Number(/hydra:totalItems "?(\d+)/.exec(r.body)?.[1]), has: r.body.includes(record.identifier) };
    };
    expect(await page()).toEqual({ total: total - 1, has: false });
    expect(await page(CALLERS.nogrant)).toEqual({ total: total - 1, has: false });
    const granted = await page(CALLERS.terri);
    expect(granted.total).toBe(total);
    if (total <= 1000) expect(granted.has).toBe(true);
  });

  it('the record of a raster layer made non-public by another process (SQL) is hidden from the next request, shown again after (issue 11)', async () => {
    const R = 'rt_raster_record';
    const hits = async () => Number(/numberOfRecordsMatched="(\d+)"/.exec((await send('GET', '/csw?service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=hits')).body)![1]);
    // another record than the restricted layer's
    const other = (await db().query<{ id: string }>('SELECT id FROM sdi.metadata_records WHERE id <> $1 ORDER BY identifier LIMIT 1', [record.id])).rows[0]!.id;
    const total = Number((await db().query('SELECT count(*) AS n FROM sdi.metadata_records')).rows[0].n);
    // unpublished while it is prepared: no service lists it (its file does not exist)
    await db().query(
      `INSERT INTO sdi.raster_layers (name, title, file_path, srid, pixel_size_x, pixel_size_y, width, height, bands, data_type, extent, metadata_record_id, published, public)
       VALUES ($1, 'Raster (test)', '/nonexistent/rt.tif', 2154, 1, 1, 1, 1, 1, 'Byte', ST_MakeEnvelope(0, 0, 1, 1, 2154), $2, false, true)`,
      [R, other],
    );
    try {
      expect(await hits()).toBe(total - 1);
      expect(await hits()).toBe(total - 1); // held now
      await db().query('UPDATE sdi.raster_layers SET published = true, public = false WHERE name = $1', [R]);
      expect(await hits()).toBe(total - 2);
      await db().query('UPDATE sdi.raster_layers SET published = false, public = true WHERE name = $1', [R]);
      expect(await hits()).toBe(total - 1);
    } finally {
      await db().query('DELETE FROM sdi.raster_layers WHERE name = $1', [R]);
    }
  });

  it('OGC API – Records (issue 12) leaves it out too: numberMatched, ids=, the record itself (404)', async () => {
    const total = Number((await db().query('SELECT count(*) AS n FROM sdi.metadata_records')).rows[0].n);
    const matched = async (query: string, auth?: string) => {
      const r = await send('GET', `/records/collections/metadata/items?${query}`, auth);
      expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
      return JSON.parse(r.body).numberMatched as number;
    };
    expect(await matched('limit=1')).toBe(total - 1);
    expect(await matched('limit=1', CALLERS.nogrant)).toBe(total - 1);
    expect(await matched('limit=1', CALLERS.reader)).toBe(total);
    expect(await matched(`ids=${encodeURIComponent(record.identifier)}`)).toBe(0);
    expect(await matched(`ids=${encodeURIComponent(record.identifier)}`, CALLERS.terri)).toBe(1);
    const item = `/records/collections/metadata/items/${encodeURIComponent(record.identifier)}`;
    expect((await send('GET', item)).statusCode).toBe(404);
    expect((await send('GET', item, CALLERS.nogrant)).statusCode).toBe(404);
    const r = await send('GET', item, CALLERS.reader);
    expect(r.statusCode).toBe(200);
    expect(JSON.parse(r.body).id).toBe(record.identifier);
    // The page cache never hands one caller's count to another.
    expect(await matched('limit=1')).toBe(total - 1);
  });
});

describe('issue 11: credentials', () => {
  const caps = `/wfs?SERVICE=WFS&REQUEST=GetCapabilities`;
  const newToken = async (login: string, scopes: string[]) => {
    const r = await admin('POST', `/users/${login}/tokens`, { name: 'test', scopes });
    expect(r.statusCode).toBe(201);
    expect(r.headers['cache-control']).toMatch(/no-store/);
    return JSON.parse(r.body) as { id: string; token: string };
  };

  it('a wrong password, an unknown login: 401 in the protocol format with a challenge; nothing served', async () => {
    for (const auth of [basic('rt_reader', 'not-the-password'), basic('rt_nobody')]) {
      const wfs = await send('GET', caps, auth);
      expect(wfs.statusCode).toBe(401);
      expect(wfs.body).toMatch(/ExceptionReport/);
      expect(String(wfs.headers['www-authenticate'])).toMatch(/Basic realm="sdi"/);
      const oapi = await send('GET', `/ogcapi/collections`, auth);
      expect(oapi.statusCode).toBe(401);
      expect(oapi.headers['content-type']).toMatch(/problem\+json/);
      const wms = await send('GET', '/wms?SERVICE=WMS&REQUEST=GetCapabilities', auth);
      expect(wms.statusCode).toBe(401);
      expect(wms.body).toMatch(/ServiceExceptionReport/);
    }
  });

  it('a disabled user is refused at once (the credential cache is emptied), and served again once enabled', async () => {
    expect((await send('GET', caps, CALLERS.reader)).body).toContain(L);
    expect((await admin('PATCH', '/users/rt_reader', { disabled: true })).statusCode).toBe(200);
    expect((await send('GET', caps, CALLERS.reader)).statusCode).toBe(401);
    expect((await admin('PATCH', '/users/rt_reader', { disabled: false })).statusCode).toBe(200);
    expect((await send('GET', caps, CALLERS.reader)).body).toContain(L);
  });

  it('an API token: Bearer or access_token in the URL (taken out before the protocol checks its parameters); revoked → 401', async () => {
    const t = await newToken('rt_reader', ['features', 'maps']);
    expect(t.token).toMatch(/^sdi_/);
    // Only its SHA-256 is stored.
    const stored = (await db().query<{ h: Buffer }>('SELECT secret_sha256 AS h FROM sdi.api_tokens WHERE id = $1', [t.id])).rows[0]!.h;
    expect(stored.equals(createHash('sha256').update(t.token).digest())).toBe(true);
    expect((await send('GET', caps, `Bearer ${t.token}`)).body).toContain(L);
    expect((await send('GET', `${caps}&access_token=${encodeURIComponent(t.token)}`)).body).toContain(L);
    // WMS refuses unknown parameters: access_token is not one it sees.
    const map = await send('GET', `/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=${L}&STYLES=&CRS=EPSG:2154&BBOX=500000,6600000,700000,6800000&WIDTH=32&HEIGHT=32&FORMAT=image/png&ACCESS_TOKEN=${encodeURIComponent(t.token)}`);
    expect(map.statusCode).toBe(200);
    expect(map.headers['content-type']).toBe('image/png');
    expect(map.headers['cache-control']).toMatch(/private/);
    // QGIS follows the capabilities' URLs for legends and GetFeatureInfo without adding the token: they carry it.
    const wmsCaps = await send('GET', `/wms?SERVICE=WMS&REQUEST=GetCapabilities&access_token=${encodeURIComponent(t.token)}`);
    const legend = new RegExp(`xlink:href="([^"]*REQUEST=GetLegendGraphic[^"]*LAYER=${L}[^"]*)"`).exec(wmsCaps.body)?.[1]?.replace(/&amp;/g, '&');
    expect(legend).toContain(`access_token=${encodeURIComponent(t.token)}`);
    const fetched = await send('GET', legend!.slice(baseUrl().length));
    expect(fetched.statusCode).toBe(200);
    expect(fetched.headers['content-type']).toBe('image/png');
    expect(wmsCaps.headers['cache-control']).toMatch(/private, no-store/);
    // With the header, the document holds no secret.
    expect((await send('GET', '/wms?SERVICE=WMS&REQUEST=GetCapabilities', `Bearer ${t.token}`)).body).not.toContain('access_token');
    // Two tokens in the URL: which one would be a guess.
    expect((await send('GET', `${caps}&access_token=${t.token}&access_token=${t.token}`)).statusCode).toBe(401);
    const list = JSON.parse((await admin('GET', '/users/rt_reader/tokens')).body).tokens;
    expect(list.find((x: { id: string }) => x.id === t.id)).toBeDefined();
    expect(JSON.stringify(list)).not.toContain(t.token);
    expect((await admin('DELETE', `/tokens/${t.id}`)).statusCode).toBe(204);
    expect((await send('GET', caps, `Bearer ${t.token}`)).statusCode).toBe(401);
    expect((await send('GET', `${caps}&access_token=${encodeURIComponent(t.token)}`)).statusCode).toBe(401);
  });

  it('a whole grant: the restricted layer\'s tiles come from the cache, never with a Cache-Control a shared cache may keep (RFC 9111 §5.2.2.7)', async () => {
    for (const url of [`/wmts/1.0.0/${L}/default/LAMB93_10cm/8/36/6.png`, `/tiles/${L}/8/129/89.pbf`]) {
      const seen: string[] = [];
      for (let k = 0; k < 2; k++) {
        const r = await send('GET', url, CALLERS.reader);
        expect(r.statusCode, url).toBeLessThan(300);
        seen.push(String(r.headers['x-tile-cache']));
        const cc = String(r.headers['cache-control']);
        expect(cc, url).toMatch(/^private\b/);
        expect(cc, url).not.toMatch(/public|s-maxage/);
      }
      // A whole grant's tile is the same for every holder: kept by our cache (miss or hit, then hit).
      expect(seen[1], url).toBe('hit');
    }
  });

  it('an expired token: 401', async () => {
    const t = await newToken('rt_reader', ['features']);
    await db().query(`UPDATE sdi.api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [t.id]);
    // This process verified it already? No: never used before; the first use finds it expired.
    expect((await send('GET', caps, `Bearer ${t.token}`)).statusCode).toBe(401);
    // An expiry in the past is refused at creation.
    expect((await admin('POST', '/users/rt_reader/tokens', { scopes: ['features'], expiresAt: '2000-01-01T00:00:00Z' })).statusCode).toBe(400);
  });

  it('a token of another scope: 403 insufficient_scope in the service format; admin scope needed for the admin API', async () => {
    const t = await newToken('rt_reader', ['features']);
    const dl = await send('GET', `/download/estimate?layer=${L}&format=gpkg`, `Bearer ${t.token}`);
    expect(dl.statusCode).toBe(403);
    expect(dl.headers['content-type']).toMatch(/problem\+json/);
    expect(String(dl.headers['www-authenticate'])).toMatch(/insufficient_scope/);
    const wms = await send('GET', '/wms?SERVICE=WMS&REQUEST=GetCapabilities', `Bearer ${t.token}`);
    expect(wms.statusCode).toBe(403);
    expect(wms.body).toMatch(/ServiceExceptionReport/);
    expect((await send('GET', '/admin/users', `Bearer ${t.token}`)).statusCode).toBe(403);
  });

  it('refused credentials are logged: a wrong password, an expired, a revoked and an out-of-scope token are rows of the audit log', async () => {
    const from = '198.51.100.71';
    const at = (url: string, authorization: string) => app.inject({ method: 'GET', url, remoteAddress: from, headers: { authorization } });
    await db().query(`DELETE FROM sdi.audit_log WHERE client = $1`, [from]);
    const expired = await newToken('rt_reader', ['features']);
    await db().query(`UPDATE sdi.api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [expired.id]);
    const revoked = await newToken('rt_reader', ['features']);
    expect((await admin('DELETE', `/tokens/${revoked.id}`)).statusCode).toBe(204);
    const narrow = await newToken('rt_reader', ['features']);
    expect((await at(caps, basic('rt_reader', 'not-the-password'))).statusCode).toBe(401);
    expect((await at(caps, `Bearer ${expired.token}`)).statusCode).toBe(401);
    expect((await at(caps, `Bearer ${revoked.token}`)).statusCode).toBe(401);
    expect((await at(`/download/estimate?layer=${L}&format=gpkg`, `Bearer ${narrow.token}`)).statusCode).toBe(403);
    await platform.audit?.flush();
    const rows = (await db().query(`SELECT event, principal, path, status, detail->>'scheme' AS scheme FROM sdi.audit_log WHERE client = $1 ORDER BY id`, [from])).rows;
    expect(rows).toEqual([
      { event: 'sign-in-failed', principal: 'rt_reader', path: '/wfs', status: 401, scheme: 'basic' },
      { event: 'sign-in-failed', principal: null, path: '/wfs', status: 401, scheme: 'bearer' },
      { event: 'sign-in-failed', principal: null, path: '/wfs', status: 401, scheme: 'bearer' },
      { event: 'sign-in', principal: 'rt_reader', path: '/download/estimate', status: null, scheme: 'bearer' },
      { event: 'refusal', principal: 'rt_reader', path: '/download/estimate', status: 403, scheme: null },
    ]);
    // Never the secret.
    expect(JSON.stringify(rows)).not.toContain('not-the-password');
  });

  it('administrators: the first one from the environment (Basic), a user made admin, the environment token (Bearer or Basic password)', async () => {
    expect((await send('GET', '/admin/users', basic('rt_root', 'rt-root-password'))).statusCode).toBe(200);
    expect((await send('GET', '/admin/users', basic('rt_nogrant'))).statusCode).toBe(403);
    expect((await admin('PATCH', '/users/rt_nogrant', { admin: true })).statusCode).toBe(200);
    expect((await send('GET', '/admin/users', basic('rt_nogrant'))).statusCode).toBe(200);
    // An administrator sees every layer.
    expect((await send('GET', caps, basic('rt_nogrant'))).body).toContain(L);
    expect((await admin('PATCH', '/users/rt_nogrant', { admin: false })).statusCode).toBe(200);
    expect((await send('GET', '/admin/users', basic('rt_nogrant'))).statusCode).toBe(403);
    expect((await send('GET', '/admin/users', basic('anyone', ADMIN_TOKEN))).statusCode).toBe(200);
    const hash = (await db().query<{ h: string }>(`SELECT password_hash AS h FROM sdi.users WHERE login = 'rt_root'`)).rows[0]!.h;
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$/);
  });

  it('admin API bad input: problem+json, nothing changed', async () => {
    const before = Number((await db().query('SELECT count(*) AS n FROM sdi.users')).rows[0].n);
    for (const body of [{ login: 'rt_short', password: 'short' }, { login: 'rt_x', password: PW, role: 'admin' }, { login: "rt_'; DROP TABLE sdi.users; --", password: PW }, []]) {
      const r = await admin('POST', '/users', body);
      expect(r.statusCode).toBe(400);
      expect(r.headers['content-type']).toMatch(/problem\+json/);
    }
    expect((await admin('POST', '/users', { login: 'rt_reader', password: PW })).statusCode).toBe(409);
    expect((await admin('POST', '/grants', { user: 'rt_reader', group: 'rt_partners', resourceKind: 'layer', resourceName: L, action: 'read' })).statusCode).toBe(400);
    expect((await admin('POST', '/grants', { user: 'rt_reader', resourceKind: 'layer', resourceName: L, action: 'read', territory: { kind: 'departement', code: '99' } })).statusCode).toBe(400);
    expect(Number((await db().query('SELECT count(*) AS n FROM sdi.users')).rows[0].n)).toBe(before);
  });
});

describe('issue 11: grants on a dataset cover its layers', () => {
  it('a read grant on the dataset opens the restricted layer (whole, or cut to its territory); another dataset\'s grant does not', async () => {
    await db().query(`INSERT INTO sdi.datasets (name, title) VALUES ('rt_dataset', 'Données restreintes')`);
    await db().query(`UPDATE sdi.layers SET dataset_id = (SELECT id FROM sdi.datasets WHERE name = 'rt_dataset') WHERE name = $1`, [L]);
    try {
      for (const login of ['rt_ds_whole', 'rt_ds_terri', 'rt_ds_other']) expect((await admin('POST', '/users', { login, password: PW })).statusCode).toBe(201);
      const grant = (user: string, resourceName: string, territory?: unknown) => admin('POST', '/grants', { user, resourceKind: 'dataset', resourceName, action: 'read', ...(territory ? { territory } : {}) });
      expect((await grant('rt_ds_whole', 'rt_dataset')).statusCode).toBe(201);
      expect((await grant('rt_ds_terri', 'rt_dataset', { kind: 'departement', code: '45' })).statusCode).toBe(201);
      expect((await grant('rt_ds_other', 'rt_other_dataset')).statusCode).toBe(201);
      const hits = async (login: string) => {
        const r = await send('GET', `/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:${L}&RESULTTYPE=hits`, basic(login));
        return { status: r.statusCode, matched: Number(/numberMatched="(\d+)"/.exec(r.body)?.[1] ?? -1) };
      };
      expect(await hits('rt_ds_whole')).toEqual({ status: 200, matched: allCount });
      expect(await hits('rt_ds_terri')).toEqual({ status: 200, matched: territoryCodes.length });
      expect((await hits('rt_ds_other')).status).toBe(400);
      expect((await send('GET', '/ogcapi/collections', basic('rt_ds_whole'))).body).toContain(L);
      expect((await send('GET', '/ogcapi/collections', basic('rt_ds_other'))).body).not.toContain(L);
      // read does not imply download, on a dataset as on a layer.
      expect((await send('GET', `/download/estimate?layer=${L}&format=gpkg`, basic('rt_ds_whole'))).statusCode).toBe(403);
    } finally {
      await db().query(`UPDATE sdi.layers SET dataset_id = NULL WHERE name = $1`, [L]);
    }
  });
});
