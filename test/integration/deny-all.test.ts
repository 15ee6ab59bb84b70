/**
 * Issue 8: no path skips the policy. The platform is built in this process on the suite's database with
 * the deny-all policy (SDI_ACCESS_POLICY=deny-all) and every route Fastify knows is walked, with real names
 * and ids (the demo layers, a catalogue record, the raster layer, a queued job, a finished job's signed
 * link): no feature, record or file comes out, and each refusal is in the protocol's own format. The routes
 * are enumerated from the Fastify instance, so a route added later without a sample here (or without the
 * policy) fails this test.
 */
import { describe, it, expect, beforeAll, afterAll, inject } from 'vitest';
import { createHmac, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ROOT, baseUrl, db } from '../helpers.js';
import { adminRights } from '../rights/admin-routes.js';

type Inject = (o: { method: string; url: string; headers?: Record<string, string>; payload?: string }) => Promise<{ statusCode: number; headers: Record<string, unknown>; body: string }>;
interface App {
  inject: Inject;
  ready(): Promise<unknown>;
  close(): Promise<unknown>;
  routeList: Array<{ method: string; url: string }>;
}

let app: App;
let publicApp: App;
let platform: { pool: { end(): Promise<void> } };
let recordId = '';
let queuedJob = '';
let doneJob = '';
let fileLink = '';

const WFS_XML = (inner: string) => `<wfs:GetFeature xmlns:wfs="http://www.opengis.net/wfs/2.0" service="WFS" version="2.0.0">${inner}</wfs:GetFeature>`;

beforeAll(async () => {
  const { loadConfig } = await import(join(ROOT, 'dist/src/config/index.js'));
  const { createPlatform } = await import(join(ROOT, 'dist/src/platform.js'));
  const { buildApp } = await import(join(ROOT, 'dist/app/build-app.js'));
  const config = loadConfig({ ...process.env, DATABASE_URL: inject('databaseUrl'), BASE_URL: baseUrl(), SDI_ACCESS_POLICY: 'deny-all', SDI_DEMO: '0', LOG_LEVEL: 'silent', SDI_DOWNLOAD_DIR: inject('downloadDir'), SDI_TILE_CACHE_DIR: inject('tileCacheDir'), SDI_ADMIN_TOKEN: 'deny-all-test-admin-token' });
  expect(config.accessPolicy).toBe('deny-all');
  platform = await createPlatform(config);
  app = (await buildApp(platform)) as App;
  await app.ready();
  // The control: the same platform with the public policy, to show that the walk does see data when it flows.
  publicApp = (await buildApp({ ...platform, policy: new (await import(join(ROOT, 'dist/src/access/policy.js'))).PublicPolicy() })) as App;
  await publicApp.ready();

  recordId = (await db().query<{ identifier: string }>('SELECT identifier FROM sdi.metadata_records ORDER BY identifier LIMIT 1')).rows[0]!.identifier;
  // A queued job and a finished one with a signed link to its (pretended) file, as the public service made them.
  queuedJob = randomUUID();
  doneJob = randomUUID();
  const request = JSON.stringify({ layers: ['communes'], format: 'gpkg', crs: 2154, clip: false, zip: false });
  await db().query(
    `INSERT INTO sdi.jobs (id, kind, state, request, result, expires_at) VALUES
       ($1, 'download', 'queued', $3::jsonb, NULL, NULL),
       ($2, 'download', 'done', $3::jsonb, '{"file":"deny-all-test.gpkg","mediaType":"application/geopackage+sqlite3"}'::jsonb, now() + interval '1 day')`,
    [queuedJob, doneJob, request],
  );
  const secret = (await db().query("SELECT value FROM sdi.settings WHERE key = 'download.link_secret'")).rows[0]?.value as string | undefined;
  const expires = Math.floor(Date.now() / 1000) + 3600;
  const sig = secret ? createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${doneJob}.${expires}`).digest('base64url') : 'x';
  fileLink = `/download/files/${doneJob}?expires=${expires}&signature=${sig}`;
}, 120_000);

afterAll(async () => {
  await db().query('DELETE FROM sdi.jobs WHERE id = ANY($1::uuid[])', [[queuedJob, doneJob].filter(Boolean)]);
  await app?.close();
  await publicApp?.close();
  await platform?.pool.end();
});

/** Requests per route (method + path as Fastify declares it). Each must leak nothing. */
function samples(): Record<string, Array<{ url: string; payload?: string; headers?: Record<string, string> }>> {
  const post = (url: string, payload: string, type = 'application/xml') => ({ url, payload, headers: { 'content-type': type } });
  return {
    'GET /wfs': [
      { url: '/wfs?SERVICE=WFS&REQUEST=GetCapabilities' },
      { url: '/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAMES=sdi:communes' },
      { url: '/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&COUNT=5' },
      { url: '/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&RESOURCEID=communes.1' },
      { url: '/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&STOREDQUERY_ID=urn:ogc:def:query:OGC-WFS::GetFeatureById&ID=communes.1' },
      { url: '/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetPropertyValue&TYPENAMES=sdi:communes&VALUEREFERENCE=nom' },
      { url: '/wfs?SERVICE=WFS&VERSION=1.0.0&REQUEST=GetFeature&TYPENAME=communes&MAXFEATURES=5' },
    ],
    'POST /wfs': [post('/wfs', WFS_XML('<wfs:Query typeNames="sdi:communes"/>')), post('/wfs', 'SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes', 'application/x-www-form-urlencoded')],
    'GET /ogcapi': [{ url: '/ogcapi/' }],
    'GET /ogcapi/conformance': [{ url: '/ogcapi/conformance' }],
    'GET /ogcapi/api': [{ url: '/ogcapi/api' }],
    'GET /ogcapi/collections': [{ url: '/ogcapi/collections' }],
    'GET /ogcapi/collections/:collectionId': [{ url: '/ogcapi/collections/communes' }],
    'GET /ogcapi/collections/:collectionId/schema': [{ url: '/ogcapi/collections/communes/schema' }],
    'GET /ogcapi/collections/:collectionId/queryables': [{ url: '/ogcapi/collections/communes/queryables' }],
    'GET /ogcapi/collections/:collectionId/items': [{ url: '/ogcapi/collections/communes/items?limit=5' }],
    'GET /ogcapi/collections/:collectionId/items/:featureId': [{ url: '/ogcapi/collections/communes/items/1' }],
    'POST /ogcapi/collections/:collectionId/items': [post('/ogcapi/collections/communes/items', JSON.stringify({ type: 'Feature', properties: { nom: 'x' }, geometry: null }), 'application/geo+json')],
    'PUT /ogcapi/collections/:collectionId/items/:featureId': [post('/ogcapi/collections/communes/items/1', JSON.stringify({ type: 'Feature', properties: { nom: 'x' }, geometry: null }), 'application/geo+json')],
    'PATCH /ogcapi/collections/:collectionId/items/:featureId': [post('/ogcapi/collections/communes/items/1', JSON.stringify({ properties: { nom: 'x' } }), 'application/merge-patch+json')],
    'DELETE /ogcapi/collections/:collectionId/items/:featureId': [{ url: '/ogcapi/collections/communes/items/1' }],
    'GET /csw': [
      { url: '/csw?service=CSW&version=2.0.2&request=GetCapabilities' },
      { url: '/csw?service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=results&elementSetName=full' },
      { url: `/csw?service=CSW&version=2.0.2&request=GetRecordById&id=${encodeURIComponent(recordId)}&elementSetName=full` },
      { url: '/csw?service=CSW&version=2.0.2&request=GetDomain&PropertyName=dc:title' },
    ],
    'POST /csw': [
      post('/csw', `<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2" resultType="results"><csw:Query typeNames="csw:Record"><csw:ElementSetName>full</csw:ElementSetName></csw:Query></csw:GetRecords>`),
      // The administrator, even with the right credential, may not write under deny-all.
      { ...post('/csw', `<csw:Transaction xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2"><csw:Delete><csw:Constraint version="1.1.0"><csw:CqlText>dc:identifier like '%'</csw:CqlText></csw:Constraint></csw:Delete></csw:Transaction>`), headers: { 'content-type': 'application/xml', authorization: 'Bearer deny-all-test-admin-token' } },
    ],
    'GET /csw/opensearch': [{ url: '/csw/opensearch' }],
    'GET /csw/opensearch/search': [{ url: '/csw/opensearch/search?q=communes' }, { url: '/csw/opensearch/search?q=&bbox=1,47,3,49' }],
    'GET /records': [{ url: '/records/' }, { url: '/records/?f=html' }],
    'GET /records/conformance': [{ url: '/records/conformance' }],
    'GET /records/api': [{ url: '/records/api' }],
    'GET /records/collections': [{ url: '/records/collections' }],
    'GET /records/collections/:collectionId': [{ url: '/records/collections/metadata' }],
    'GET /records/collections/:collectionId/queryables': [{ url: '/records/collections/metadata/queryables' }],
    'GET /records/collections/:collectionId/sortables': [{ url: '/records/collections/metadata/sortables' }],
    'GET /records/collections/:collectionId/items': [{ url: '/records/collections/metadata/items' }, { url: '/records/collections/metadata/items?q=communes&f=html' }, { url: `/records/collections/metadata/items?ids=${encodeURIComponent(recordId)}` }],
    'GET /records/collections/:collectionId/items/:recordId': [{ url: `/records/collections/metadata/items/${encodeURIComponent(recordId)}` }, { url: `/records/collections/metadata/items/${encodeURIComponent(recordId)}?f=html` }],
    'GET /dcat': [{ url: '/dcat/' }],
    // The map viewer: a page and its bundle, no data (its map requests go to the map services).
    'GET /viewer': [{ url: '/viewer' }],
    'GET /viewer/viewer.js': [{ url: '/viewer/viewer.js' }],
    'GET /viewer/viewer.css': [{ url: '/viewer/viewer.css' }],
    'GET /viewer/favicon.svg': [{ url: '/viewer/favicon.svg' }],
    'GET /dcat/catalog.:ext': [{ url: '/dcat/catalog.jsonld' }, { url: '/dcat/catalog.ttl' }],
    'GET /dcat/records/:id': [{ url: `/dcat/records/${encodeURIComponent(recordId)}` }],
    'GET /download': [{ url: '/download/' }],
    'GET /download/api': [{ url: '/download/api' }],
    'GET /download/estimate': [{ url: '/download/estimate?layer=communes&format=gpkg' }, { url: '/download/estimate?layer=communes_densite&format=gtiff&commune=45234' }],
    'POST /download/estimate': [post('/download/estimate', JSON.stringify({ layers: ['communes'], format: 'gpkg' }), 'application/json')],
    'GET /download/extract': [{ url: '/download/extract?layer=communes&format=geojson&departement=45' }, { url: '/download/extract?layer=communes&format=gpkg&departement=45' }, { url: '/download/extract?layer=communes_densite&format=gtiff&commune=45234' }],
    'POST /download/extract': [post('/download/extract', JSON.stringify({ layers: ['communes'], format: 'geojson', area: { departement: '45' } }), 'application/json')],
    'POST /download/jobs': [post('/download/jobs', JSON.stringify({ layers: ['communes'], format: 'gpkg' }), 'application/json')],
    'GET /download/jobs/:id': [{ url: `/download/jobs/${queuedJob}` }, { url: `/download/jobs/${doneJob}` }],
    'DELETE /download/jobs/:id': [{ url: `/download/jobs/${queuedJob}` }],
    'GET /download/files/:id': [{ url: fileLink }],
    'GET /download/atom': [{ url: '/download/atom' }],
    'GET /download/atom/service.xml': [{ url: '/download/atom/service.xml' }],
    'GET /download/atom/opensearch.xml': [{ url: '/download/atom/opensearch.xml' }],
    'GET /download/atom/search': [{ url: '/download/atom/search?q=communes' }, { url: '/download/atom/search?spatial_dataset_identifier_code=communes' }, { url: '/download/atom/search?spatial_dataset_identifier_code=communes&crs=EPSG:2154' }],
    'GET /download/atom/:file': [{ url: '/download/atom/communes.xml' }, { url: '/download/atom/communes_densite.xml' }],
    'GET /download/atom/files/:layer/:format/:crs': [{ url: '/download/atom/files/communes/gpkg/2154' }, { url: '/download/atom/files/communes_densite/gtiff/2154' }],
    'GET /wms': [
      { url: '/wms?SERVICE=WMS&REQUEST=GetCapabilities' },
      { url: '/wms?VERSION=1.3.0&REQUEST=GetMap&LAYERS=communes&STYLES=&CRS=EPSG:2154&BBOX=500000,6600000,700000,6800000&WIDTH=64&HEIGHT=64&FORMAT=image/png' },
      { url: '/wms?VERSION=1.3.0&REQUEST=GetMap&LAYERS=communes&STYLES=&CRS=EPSG:2154&BBOX=500000,6600000,700000,6800000&WIDTH=64&HEIGHT=64&FORMAT=image/png&EXCEPTIONS=INIMAGE' },
      { url: '/wms?SERVICE=WMS&VERSION=1.1.1&REQUEST=GetCapabilities' },
      { url: '/wms?VERSION=1.3.0&REQUEST=GetMap&LAYERS=communes_densite&STYLES=&CRS=EPSG:2154&BBOX=500000,6600000,700000,6800000&WIDTH=64&HEIGHT=64&FORMAT=image/png' },
      { url: '/wms?VERSION=1.1.1&REQUEST=GetMap&LAYERS=communes_densite&STYLES=&SRS=EPSG:2154&BBOX=500000,6600000,700000,6800000&WIDTH=64&HEIGHT=64&FORMAT=image/png8' },
    ],
    // Tiles (issue 9): WMTS and vector tiles ask the same policy.
    'GET /wmts': [
      { url: '/wmts?SERVICE=WMTS&REQUEST=GetCapabilities' },
      { url: '/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=communes&STYLE=default&FORMAT=image/png&TILEMATRIXSET=WebMercatorQuad&TILEMATRIX=8&TILEROW=89&TILECOL=129' },
    ],
    'GET /wmts/1.0.0/WMTSCapabilities.xml': [{ url: '/wmts/1.0.0/WMTSCapabilities.xml' }],
    'GET /wmts/1.0.0/:layer/:style/:set/:matrix/:row/:file': [{ url: '/wmts/1.0.0/communes/default/LAMB93_10cm/8/36/6.png' }],
    'GET /wmts/1.0.0/:layer/:style/:set/:matrix/:row/:col/:j/:file': [{ url: '/wmts/1.0.0/communes/default/LAMB93_10cm/8/36/6/10/10.json' }],
    'GET /ogcapi/tileMatrixSets': [{ url: '/ogcapi/tileMatrixSets' }],
    'GET /ogcapi/tileMatrixSets/:tileMatrixSetId': [{ url: '/ogcapi/tileMatrixSets/WebMercatorQuad' }],
    'GET /ogcapi/collections/:collectionId/tiles': [{ url: '/ogcapi/collections/communes/tiles' }],
    'GET /ogcapi/collections/:collectionId/tiles/:tileMatrixSetId': [{ url: '/ogcapi/collections/communes/tiles/WebMercatorQuad' }],
    'GET /ogcapi/collections/:collectionId/tiles/:tileMatrixSetId/:tileMatrix/:tileRow/:tileCol': [{ url: '/ogcapi/collections/communes/tiles/WebMercatorQuad/8/89/129' }],
    'GET /tiles/:layer/tilejson.json': [{ url: '/tiles/communes/tilejson.json' }],
    'GET /tiles/:layer/style.json': [{ url: '/tiles/communes/style.json' }],
    'GET /tiles/:layer/:z/:x/:file': [{ url: '/tiles/communes/8/129/89.pbf' }],
    // Administration API (issue 10/11): every route refuses a caller the policy does not let administer.
    'GET /admin': [{ url: '/admin/' }, { url: '/admin/', headers: { authorization: 'Bearer wrong' } }],
    'GET /admin/openapi.json': [{ url: '/admin/openapi.json' }],
    // OpenID Connect sign-in: not configured here, so absent in effect (404 problem+json), with or without a credential.
    'GET /admin/auth/oidc/login': [{ url: '/admin/auth/oidc/login' }],
    'GET /admin/auth/oidc/callback': [{ url: '/admin/auth/oidc/callback?code=x&state=y', headers: { cookie: 'sdi-oidc-state=y' } }],
    'POST /admin/auth/oidc/logout': [{ url: '/admin/auth/oidc/logout', headers: { authorization: 'Bearer deny-all-test-admin-token' } }],
    'GET /admin/styles': [{ url: '/admin/styles' }, { url: '/admin/styles', headers: { authorization: 'Bearer deny-all-test-admin-token' } }],
    'GET /admin/styles/:layer': [{ url: '/admin/styles/communes', headers: { authorization: 'Bearer deny-all-test-admin-token' } }],
    'GET /admin/styles/:layer/:name': [{ url: '/admin/styles/communes/x', headers: { authorization: 'Bearer deny-all-test-admin-token' } }],
    'PUT /admin/styles/:layer/:name': [{ ...post('/admin/styles/communes/x', JSON.stringify({ rules: [{ symbolizers: [] }] }), 'application/json'), headers: { 'content-type': 'application/json', authorization: 'Bearer deny-all-test-admin-token' } }],
    'DELETE /admin/styles/:layer/:name': [{ url: '/admin/styles/communes/x', headers: { authorization: 'Bearer deny-all-test-admin-token' } }],
    'PUT /admin/styles/:layer/:name/default': [{ url: '/admin/styles/communes/x/default', headers: { authorization: 'Bearer deny-all-test-admin-token' } }],
    'GET /admin/default-styles/:kind': [{ url: '/admin/default-styles/polygon', headers: { authorization: 'Bearer deny-all-test-admin-token' } }],
    'PUT /admin/default-styles/:kind': [{ ...post('/admin/default-styles/polygon', JSON.stringify({ rules: [{ symbolizers: [] }] }), 'application/json'), headers: { 'content-type': 'application/json', authorization: 'Bearer deny-all-test-admin-token' } }],
    // Rights (issue 11): users, groups, tokens, grants, the public flag of layers; the admin may not, under deny-all.
    ...adminRights('Bearer deny-all-test-admin-token'),
    // Layers (issue 10): reading the registry is administering too.
    'GET /admin/layers': [{ url: '/admin/layers', headers: { authorization: 'Bearer deny-all-test-admin-token' } }],
    'POST /admin/layers': [{ ...post('/admin/layers', JSON.stringify({ name: 'x', table: 'data.communes' }), 'application/json'), headers: { 'content-type': 'application/json', authorization: 'Bearer deny-all-test-admin-token' } }],
    'GET /admin/layers/:name': [{ url: '/admin/layers/communes', headers: { authorization: 'Bearer deny-all-test-admin-token' } }],
    'PATCH /admin/layers/:name': [{ ...post('/admin/layers/communes', JSON.stringify({ title: 'x' }), 'application/json'), headers: { 'content-type': 'application/json', authorization: 'Bearer deny-all-test-admin-token' } }],
    'DELETE /admin/layers/:name': [{ url: '/admin/layers/communes?dropTable=true', headers: { authorization: 'Bearer deny-all-test-admin-token' } }],
    'POST /admin/layers/:name/publish': [{ url: '/admin/layers/communes/publish', headers: { authorization: 'Bearer deny-all-test-admin-token' } }],
    'POST /admin/layers/:name/unpublish': [{ url: '/admin/layers/communes/unpublish', headers: { authorization: 'Bearer deny-all-test-admin-token' } }],
    'GET /admin/layers/:name/record': [{ url: '/admin/layers/communes/record', headers: { authorization: 'Bearer deny-all-test-admin-token' } }],
    'PUT /admin/layers/:name/record': [{ ...post('/admin/layers/communes/record', '<gmd:MD_Metadata xmlns:gmd="http://www.isotc211.org/2005/gmd"/>'), headers: { 'content-type': 'application/xml', authorization: 'Bearer deny-all-test-admin-token' } }],
    'DELETE /admin/layers/:name/record': [{ url: '/admin/layers/communes/record', headers: { authorization: 'Bearer deny-all-test-admin-token' } }],
    // Imports (issue 10): refused before the body is read or a file touched.
    'POST /admin/imports': [{ ...post('/admin/imports', JSON.stringify({ url: 'https://example.org/x.gpkg' }), 'application/json'), headers: { 'content-type': 'application/json', authorization: 'Bearer deny-all-test-admin-token' } }],
    'GET /admin/imports/:id': [{ url: '/admin/imports/00000000-0000-4000-8000-000000000000', headers: { authorization: 'Bearer deny-all-test-admin-token' } }],
    'DELETE /admin/imports/:id': [{ url: '/admin/imports/00000000-0000-4000-8000-000000000000', headers: { authorization: 'Bearer deny-all-test-admin-token' } }],
    'GET /admin/layer-versions/:layer': [{ url: '/admin/layer-versions/communes', headers: { authorization: 'Bearer deny-all-test-admin-token' } }],
    'POST /admin/layer-versions/:layer/rollback': [{ ...post('/admin/layer-versions/communes/rollback', '{}', 'application/json'), headers: { 'content-type': 'application/json', authorization: 'Bearer deny-all-test-admin-token' } }],
    // Resumable uploads (tus 1.0.0, issue 10): refused before a byte is stored.
    'POST /admin/uploads': [{ url: '/admin/uploads', headers: { authorization: 'Bearer deny-all-test-admin-token', 'tus-resumable': '1.0.0', 'upload-length': '10' } }],
    'PATCH /admin/uploads/:id': [{ url: '/admin/uploads/0123456789abcdef0123456789abcdef', payload: 'x', headers: { authorization: 'Bearer deny-all-test-admin-token', 'tus-resumable': '1.0.0', 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' } }],
    'DELETE /admin/uploads/:id': [{ url: '/admin/uploads/0123456789abcdef0123456789abcdef', headers: { authorization: 'Bearer deny-all-test-admin-token', 'tus-resumable': '1.0.0' } }],
    // Service documents without data.
    'GET /healthz': [{ url: '/healthz' }],
    'GET /readyz': [{ url: '/readyz' }],
    'GET /': [{ url: '/' }],
  };
}

/**
 * Data that must never come out. Layer names alone are no test (the service description speaks of
 * "communes, EPCI"; a search echoes its terms): what is looked for is a layer exposed as a resource, a
 * feature's values, a record, a feed entry.
 */
const leaks = () => [
  /<(wfs:)?FeatureType>|sdi:communes|sdi:epci/, // WFS capabilities listing a type
  /"id":\s*"(communes|epci|communes_points|communes_densite)"|\/collections\/(communes|epci)/, // OGC API collections
  /"name":\s*"(communes|communes_points|communes_densite)"/, // download landing layers ("epci" is also a parameter name)
  /Orl[ée]ans|Saint-Jean-de-la-Ruelle|"code":\s*"45/, // feature values
  /<csw:(Brief|Summary)?Record>|<gmd:MD_Metadata|<csw:SearchResults[^>]*numberOfRecordsMatched="[1-9]/, // records
  /<entry>/, // Atom dataset entries
    /<Name>(communes|epci|communes_points|communes_densite)<\/Name>/, // WMS capabilities listing a layer (vector or raster)
  /<ows:Identifier>(communes|epci|communes_points)<\/ows:Identifier>/, // WMTS capabilities listing a layer
  /"id":\s*"communes"|"tilejson"/, // vector tileset metadata, TileJSON
  new RegExp(recordId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
];

/** What a refusal must look like in each service. */
function formatOf(path: string): RegExp {
  if (path.startsWith('/wfs') || path.startsWith('/csw') || path.startsWith('/wms') || path.startsWith('/wmts')) return /xml/;
  return /json/; // OGC API, DCAT, download: problem+json
}

/** Every sample through `target`: what leaked, and refusals not in their service's format. */
async function walk(target: App, take: (method: string, s: { url: string; headers?: Record<string, string> }) => boolean): Promise<string[]> {
  const problems: string[] = [];
  for (const [route, list] of Object.entries(samples())) {
    const method = route.split(' ')[0]!;
    for (const s of list) {
      if (!take(method, s)) continue;
      const r = await target.inject({ method, url: s.url, headers: s.headers, payload: s.payload });
      const type = String(r.headers['content-type'] ?? '');
      const where = `${method} ${s.url.slice(0, 100)} → ${r.statusCode} ${type}`;
      if (r.statusCode >= 500) problems.push(`${where}: server error`);
      else if (r.statusCode >= 400) {
        if (!formatOf(s.url).test(type)) problems.push(`${where}: refusal not in the service's format`);
      } else if (r.statusCode >= 300) {
        problems.push(`${where}: redirect (to ${String(r.headers.location)})`);
      } else if (s.url === '/viewer/favicon.svg') {
        // The viewer's icon: a fixed SVG of the page (an image, but no map).
        if (type !== 'image/svg+xml' || r.body.length > 1000) problems.push(`${where}: not the viewer's icon`);
      } else {
        // A 200 may only be a document without data: capabilities, landing pages, empty feeds.
        for (const re of leaks()) if (re.test(r.body)) problems.push(`${where}: body holds ${re} (${r.body.slice(0, 200)})`);
        if (/geopackage|octet-stream|zip|tiff/.test(type)) problems.push(`${where}: a file came out`);
        // A map image with anything drawn on it (an INIMAGE exception is drawn too: it must not be a map of the layer).
        if (/^image\//.test(type) && !s.url.includes('EXCEPTIONS=INIMAGE')) problems.push(`${where}: a map came out`);
        if (/vnd\.mapbox-vector-tile/.test(type)) problems.push(`${where}: a vector tile came out`);
      }
    }
  }
  return problems;
}

describe('issue 8: a deny-all policy, every route walked', () => {
  it('every route of every service has a sample here (a new route must be added, and must ask the policy)', () => {
    const known = samples();
    const routes = app.routeList.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS').map((r) => `${r.method} ${r.url.replace(/(.)\/$/, '$1')}`);
    expect(routes.length).toBeGreaterThan(30);
    expect(routes.filter((r) => !known[r])).toEqual([]);
  });

  it('no feature, record or file comes out; refusals are in the protocol\'s format', async () => {
    expect(await walk(app, () => true)).toEqual([]);
  }, 120_000);

  it('control: with the public policy the same walk (reads only) does see features, records and files', async () => {
    const seen = await walk(publicApp, (method, s) => method === 'GET' && !s.headers?.authorization);
    expect(seen.some((p) => p.includes('REQUEST=GetFeature'))).toBe(true);
    expect(seen.some((p) => p.includes('GetRecords'))).toBe(true);
    expect(seen.some((p) => p.includes('/ogcapi/collections/communes/items'))).toBe(true);
    expect(seen.some((p) => p.includes('/download/extract') && p.includes('a file came out'))).toBe(true);
    expect(seen.some((p) => p.includes('/wmts/1.0.0/communes') && p.includes('a map came out'))).toBe(true);
    expect(seen.some((p) => p.includes('/tiles/communes/8/129/89.pbf') && p.includes('a vector tile came out'))).toBe(true);
    expect(seen.length).toBeGreaterThan(15);
  }, 180_000);

  it('the queued job is not cancelled and no job was queued by the walk', async () => {
    const { rows } = await db().query<{ state: string; cancel_requested: boolean }>('SELECT state, cancel_requested FROM sdi.jobs WHERE id = $1', [queuedJob]);
    expect(rows[0]).toMatchObject({ state: 'queued', cancel_requested: false });
  });
});
