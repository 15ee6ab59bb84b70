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
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseUrl, db } from '../helpers.js';
import { decode, pixel, toPixel } from '../maps/image.js';
import { adminRights } from './admin-routes.js';
import { closePlatform, inProcessPlatform, type App, type TestPlatform } from './in-process-platform.js';

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
  await db().query(`DELETE FROM sdi.grants WHERE resource_name = $1`, [L]);
  await db().query(`DELETE FROM sdi.jobs WHERE request->'layers' ? $1`, [L]);
  await db().query(`DELETE FROM sdi.layers WHERE name = $1`, [L]);
  await db().query(`DROP TABLE IF EXISTS data.rights_communes`);
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

  ({ app, platform } = await inProcessPlatform(ADMIN_TOKEN, { SDI_ADMIN_LOGIN: 'rt_root', SDI_ADMIN_PASSWORD: 'rt-root-password' }));

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

/**
 * What a route must do for each caller:
 *  list  — a listing: 200 for all; the restricted layer in it only for the two holders of a grant;
 *  data  — the layer itself: 2xx with the grant, whole or territorial; to anonymous and nogrant, exactly what the
 *          same request naming a layer that does not exist gets (no enumeration of restricted names);
 *  whole — the whole layer at once (Atom pre-defined file): as data, but 403 for the territorial user;
 *  admin — the administration API: 401 anonymous, 403 for every one of these (none is an administrator);
 *  other — no data of the layer: never a server error, never the layer's name in a 2xx to anonymous or nogrant.
 *  edit  — changes the layer (OGC API Features Part 4): 403 to the holders of other rights (they see the layer),
 *          and to anonymous and nogrant what an unknown layer gets.
 */
type Kind = 'list' | 'data' | 'whole' | 'admin' | 'other' | 'edit';
interface Sample {
  url: string;
  kind: Kind;
  payload?: string;
  type?: string;
}

function samples(auth: string): Record<string, Sample[]> {
  const get = (url: string, kind: Kind): Sample => ({ url, kind });
  const post = (url: string, kind: Kind, payload: string, type = 'application/json'): Sample => ({ url, kind, payload, type });
  const bbox = 'BBOX=500000,6600000,700000,6800000&WIDTH=64&HEIGHT=64';
  const adminSamples: Record<string, Sample[]> = {};
  for (const [route, list] of Object.entries(adminRights(auth))) adminSamples[route] = list.map((s) => ({ url: s.url, kind: 'admin', payload: s.payload, type: s.headers?.['content-type'] }));
  const style = JSON.stringify({ rules: [{ symbolizers: [] }] });
  return {
    'GET /wfs': [
      get('/wfs?SERVICE=WFS&REQUEST=GetCapabilities', 'list'),
      get(`/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAMES=sdi:${L}`, 'data'),
      get(`/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:${L}&COUNT=5`, 'data'),
      get(`/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&RESOURCEID=${L}.1`, 'other'),
      get(`/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetPropertyValue&TYPENAMES=sdi:${L}&VALUEREFERENCE=nom&COUNT=5`, 'data'),
      get(`/wfs?SERVICE=WFS&VERSION=1.0.0&REQUEST=GetFeature&TYPENAME=${L}&MAXFEATURES=5`, 'data'),
    ],
    'POST /wfs': [post('/wfs', 'data', `<wfs:GetFeature xmlns:wfs="http://www.opengis.net/wfs/2.0" service="WFS" version="2.0.0" count="5"><wfs:Query typeNames="sdi:${L}"/></wfs:GetFeature>`, 'application/xml')],
    'GET /ogcapi': [get('/ogcapi/', 'other')],
    'GET /ogcapi/conformance': [get('/ogcapi/conformance', 'other')],
    'GET /ogcapi/api': [get('/ogcapi/api', 'list')],
    'GET /ogcapi/collections': [get('/ogcapi/collections', 'list')],
    'GET /ogcapi/collections/:collectionId': [get(`/ogcapi/collections/${L}`, 'data')],
    'GET /ogcapi/collections/:collectionId/schema': [get(`/ogcapi/collections/${L}/schema`, 'data')],
    'GET /ogcapi/collections/:collectionId/queryables': [get(`/ogcapi/collections/${L}/queryables`, 'data')],
    'GET /ogcapi/collections/:collectionId/items': [get(`/ogcapi/collections/${L}/items?limit=5`, 'data')],
    'GET /ogcapi/collections/:collectionId/items/:featureId': [get(`/ogcapi/collections/${L}/items/1`, 'other')],
    'POST /ogcapi/collections/:collectionId/items': [post(`/ogcapi/collections/${L}/items`, 'edit', JSON.stringify({ type: 'Feature', properties: { nom: 'x' }, geometry: null }), 'application/geo+json')],
    'PUT /ogcapi/collections/:collectionId/items/:featureId': [post(`/ogcapi/collections/${L}/items/1`, 'edit', JSON.stringify({ type: 'Feature', properties: { nom: 'x' }, geometry: null }), 'application/geo+json')],
    'PATCH /ogcapi/collections/:collectionId/items/:featureId': [post(`/ogcapi/collections/${L}/items/1`, 'edit', JSON.stringify({ properties: { nom: 'x' } }), 'application/merge-patch+json')],
    'DELETE /ogcapi/collections/:collectionId/items/:featureId': [get(`/ogcapi/collections/${L}/items/1`, 'edit')],
    'GET /csw': [get('/csw?service=CSW&version=2.0.2&request=GetCapabilities', 'other'), get('/csw?service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=results&elementSetName=brief', 'other')],
    'POST /csw': [post('/csw', 'other', `<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2" resultType="hits"><csw:Query typeNames="csw:Record"><csw:ElementSetName>brief</csw:ElementSetName></csw:Query></csw:GetRecords>`, 'application/xml')],
    'GET /csw/opensearch': [get('/csw/opensearch', 'other')],
    // Not searched by the layer's name: the feed echoes its query (its id and self link).
    'GET /csw/opensearch/search': [get('/csw/opensearch/search?q=restreint', 'other'), get('/csw/opensearch/search?bbox=1,47,3,49', 'other')],
    'GET /records': [get('/records/', 'other')],
    'GET /records/conformance': [get('/records/conformance', 'other')],
    'GET /records/api': [get('/records/api', 'other')],
    'GET /records/collections': [get('/records/collections', 'other')],
    'GET /records/collections/:collectionId': [get('/records/collections/metadata', 'other')],
    'GET /records/collections/:collectionId/queryables': [get('/records/collections/metadata/queryables', 'other')],
    'GET /records/collections/:collectionId/sortables': [get('/records/collections/metadata/sortables', 'other')],
    'GET /records/collections/:collectionId/items': [get('/records/collections/metadata/items?q=restreint', 'other'), get('/records/collections/metadata/items?bbox=1,47,3,49', 'other')],
    'GET /records/collections/:collectionId/items/:recordId': [get('/records/collections/metadata/items/none', 'other')],
    'GET /dcat': [get('/dcat/', 'other')],
    'GET /dcat/catalog.:ext': [get('/dcat/catalog.jsonld', 'other')],
    'GET /dcat/records/:id': [get('/dcat/records/none', 'other')],
    'GET /download': [get('/download/', 'list')],
    'GET /download/api': [get('/download/api', 'other')],
    'GET /download/estimate': [get(`/download/estimate?layer=${L}&format=gpkg`, 'data')],
    'POST /download/estimate': [post('/download/estimate', 'data', JSON.stringify({ layers: [L], format: 'gpkg' }))],
    'GET /download/extract': [get(`/download/extract?layer=${L}&format=geojson&commune=45234`, 'data')],
    'POST /download/extract': [post('/download/extract', 'data', JSON.stringify({ layers: [L], format: 'geojson', area: { commune: '45234' } }))],
    'POST /download/jobs': [post('/download/jobs', 'data', JSON.stringify({ layers: [L], format: 'gpkg' }))],
    'GET /download/jobs/:id': [get('/download/jobs/00000000-0000-4000-8000-000000000000', 'other')],
    'DELETE /download/jobs/:id': [get('/download/jobs/00000000-0000-4000-8000-000000000000', 'other')],
    'GET /download/files/:id': [get('/download/files/00000000-0000-4000-8000-000000000000?expires=1&signature=x', 'other')],
    'GET /download/atom': [get('/download/atom', 'list')],
    'GET /download/atom/service.xml': [get('/download/atom/service.xml', 'list')],
    'GET /download/atom/opensearch.xml': [get('/download/atom/opensearch.xml', 'list')],
    'GET /download/atom/search': [get(`/download/atom/search?q=restreint`, 'other')],
    'GET /download/atom/:file': [get(`/download/atom/${L}.xml`, 'data')],
    'GET /download/atom/files/:layer/:format/:crs': [get(`/download/atom/files/${L}/geojson/4326`, 'whole')],
    'GET /wms': [
      get('/wms?SERVICE=WMS&REQUEST=GetCapabilities', 'list'),
      get(`/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=${L}&STYLES=&CRS=EPSG:2154&${bbox}&FORMAT=image/png`, 'data'),
      get(`/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=${L}&QUERY_LAYERS=${L}&STYLES=&CRS=EPSG:2154&${bbox}&FORMAT=image/png&INFO_FORMAT=application/json&I=32&J=32`, 'data'),
      get(`/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=${L}&FORMAT=image/png`, 'data'),
    ],
    'GET /admin': [get('/admin/', 'admin')],
    'GET /admin/openapi.json': [get('/admin/openapi.json', 'admin')],
    // OpenID Connect sign-in (not configured here: 404 for everyone; the flow itself is test/rights/oidc.test.ts).
    'GET /admin/auth/oidc/login': [get('/admin/auth/oidc/login', 'other')],
    'GET /admin/auth/oidc/callback': [get('/admin/auth/oidc/callback?code=x&state=y', 'other')],
    'POST /admin/auth/oidc/logout': [post('/admin/auth/oidc/logout', 'other', '')],
    'GET /admin/styles': [get('/admin/styles', 'admin')],
    'GET /admin/styles/:layer': [get(`/admin/styles/${L}`, 'admin')],
    'GET /admin/styles/:layer/:name': [get(`/admin/styles/${L}/x`, 'admin')],
    'PUT /admin/styles/:layer/:name': [post(`/admin/styles/${L}/x`, 'admin', style)],
    'DELETE /admin/styles/:layer/:name': [get(`/admin/styles/${L}/x`, 'admin')],
    'PUT /admin/styles/:layer/:name/default': [get(`/admin/styles/${L}/x/default`, 'admin')],
    'GET /admin/default-styles/:kind': [get('/admin/default-styles/polygon', 'admin')],
    'PUT /admin/default-styles/:kind': [post('/admin/default-styles/polygon', 'admin', style)],
    // Map viewer (static page and bundle: the layers come from the capabilities at run time).
    'GET /viewer': [get('/viewer', 'other')],
    'GET /viewer/favicon.svg': [get('/viewer/favicon.svg', 'other')],
    'GET /viewer/viewer.js': [get('/viewer/viewer.js', 'other')],
    'GET /viewer/viewer.css': [get('/viewer/viewer.css', 'other')],
    // Tiles: WMTS and vector tiles ask the same policy (a territorial tile is drawn for its holder, never cached).
    'GET /wmts': [
      get('/wmts?SERVICE=WMTS&REQUEST=GetCapabilities', 'list'),
      get(`/wmts?SERVICE=WMTS&VERSION=1.0.0&REQUEST=GetTile&LAYER=${L}&STYLE=default&TILEMATRIXSET=LAMB93_10cm&TILEMATRIX=8&TILEROW=36&TILECOL=6&FORMAT=image/png`, 'data'),
    ],
    'GET /wmts/1.0.0/WMTSCapabilities.xml': [get('/wmts/1.0.0/WMTSCapabilities.xml', 'list')],
    'GET /wmts/1.0.0/:layer/:style/:set/:matrix/:row/:file': [get(`/wmts/1.0.0/${L}/default/LAMB93_10cm/8/36/6.png`, 'data')],
    'GET /wmts/1.0.0/:layer/:style/:set/:matrix/:row/:col/:j/:file': [get(`/wmts/1.0.0/${L}/default/LAMB93_10cm/8/36/6/10/10.json`, 'data')],
    'GET /ogcapi/tileMatrixSets': [get('/ogcapi/tileMatrixSets', 'other')],
    'GET /ogcapi/tileMatrixSets/:tileMatrixSetId': [get('/ogcapi/tileMatrixSets/WebMercatorQuad', 'other')],
    'GET /ogcapi/collections/:collectionId/tiles': [get(`/ogcapi/collections/${L}/tiles`, 'data')],
    'GET /ogcapi/collections/:collectionId/tiles/:tileMatrixSetId': [get(`/ogcapi/collections/${L}/tiles/WebMercatorQuad`, 'data')],
    'GET /ogcapi/collections/:collectionId/tiles/:tileMatrixSetId/:tileMatrix/:tileRow/:tileCol': [get(`/ogcapi/collections/${L}/tiles/WebMercatorQuad/8/89/129`, 'data')],
    'GET /tiles/:layer/tilejson.json': [get(`/tiles/${L}/tilejson.json`, 'data')],
    'GET /tiles/:layer/style.json': [get(`/tiles/${L}/style.json`, 'data')],
    'GET /tiles/:layer/:z/:x/:file': [get(`/tiles/${L}/8/129/89.pbf`, 'data')],
    // Layer administration and imports (issue 10): administrators only.
    'GET /admin/layers': [get('/admin/layers', 'admin')],
    'POST /admin/layers': [post('/admin/layers', 'admin', JSON.stringify({ name: 'x', table: 'data.communes' }))],
    'GET /admin/layers/:name': [get(`/admin/layers/${L}`, 'admin')],
    'PATCH /admin/layers/:name': [post(`/admin/layers/${L}`, 'admin', JSON.stringify({ title: 'x' }))],
    'POST /admin/layers/:name/publish': [post(`/admin/layers/${L}/publish`, 'admin', '{}')],
    'POST /admin/layers/:name/unpublish': [post(`/admin/layers/${L}/unpublish`, 'admin', '{}')],
    'GET /admin/layers/:name/record': [get(`/admin/layers/${L}/record`, 'admin')],
    'PUT /admin/layers/:name/record': [post(`/admin/layers/${L}/record`, 'admin', '<gmd:MD_Metadata xmlns:gmd="http://www.isotc211.org/2005/gmd"/>', 'application/xml')],
    'DELETE /admin/layers/:name/record': [get(`/admin/layers/${L}/record`, 'admin')],
    'DELETE /admin/layers/:name': [get(`/admin/layers/${L}`, 'admin')],
    'POST /admin/imports': [post('/admin/imports', 'admin', JSON.stringify({ url: 'https://example.org/x.gpkg' }))],
    'GET /admin/imports/:id': [get('/admin/imports/00000000-0000-4000-8000-000000000000', 'admin')],
    'DELETE /admin/imports/:id': [get('/admin/imports/00000000-0000-4000-8000-000000000000', 'admin')],
    'GET /admin/layer-versions/:layer': [get(`/admin/layer-versions/${L}`, 'admin')],
    'POST /admin/layer-versions/:layer/rollback': [post(`/admin/layer-versions/${L}/rollback`, 'admin', '{}')],
    'POST /admin/uploads': [get('/admin/uploads', 'admin')],
    'PATCH /admin/uploads/:id': [post('/admin/uploads/0123456789abcdef0123456789abcdef', 'admin', 'x', 'application/offset+octet-stream')],
    'DELETE /admin/uploads/:id': [get('/admin/uploads/0123456789abcdef0123456789abcdef', 'admin')],
    ...adminSamples,
    'GET /healthz': [get('/healthz', 'other')],
    'GET /readyz': [get('/readyz', 'other')],
    'GET /': [get('/', 'other')],
  };
}

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
  for (const [route, list] of Object.entries(samples(auth ?? ''))) {
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
    const known = samples('');
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
