/**
 * Issue 11, editing: WFS-T Transaction (WFS 2.0 §15 and the WFS 1.1.0 §12 XML QGIS sends even to a 2.0
 * server) and OGC API Features Part 4 (create, replace, update, delete), for holders of the edit right only,
 * inside their territory only, in one database transaction, validated against the layer's columns and geometry
 * type. A layer edit_communes (a serial id, a copy of a few communes inside and outside the département 45) is
 * served by a platform built in this process with the grants policy; the changes are read back from PostGIS.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, baseUrl, db, xmllint } from '../helpers.js';
import { closePlatform, inProcessPlatform, type App, type TestPlatform } from './in-process-platform.js';

const L = 'edit_communes';
const NS = 'https://sdi.example.org/sdi';
const ADMIN_TOKEN = 'editing-test-admin-token';
const PW = 'editing-test-password';
const basic = (login: string) => `Basic ${Buffer.from(`${login}:${PW}`).toString('base64')}`;
const EDITOR = basic('ed_editor');
const TERRI = basic('ed_terri');
const NOGRANT = basic('ed_nogrant');

let app: App;
let platform: TestPlatform;
let nsUri = NS;
let inside: number[] = [];
let outside: number[] = [];

const send = (method: string, url: string, authorization: string | undefined, payload?: string, type = 'application/xml') =>
  app.inject({ method, url, headers: { ...(authorization ? { authorization } : {}), ...(payload !== undefined ? { 'content-type': type } : {}) }, payload });
const admin = (method: string, url: string, payload?: unknown) => send(method, `/admin${url}`, `Bearer ${ADMIN_TOKEN}`, payload === undefined ? undefined : JSON.stringify(payload), 'application/json');
const snapshot = async () => (await db().query(`SELECT fid, code, nom, population, ST_AsText(geom) AS g FROM data.${L} ORDER BY fid`)).rows;
const row = async (fid: number) => (await db().query(`SELECT fid, code, nom, population, ST_AsText(geom) AS g, ST_SRID(geom) AS srid FROM data.${L} WHERE fid = $1`, [fid])).rows[0];
const updatedAt = async () => String((await db().query('SELECT updated_at FROM sdi.layers WHERE name = $1', [L])).rows[0].updated_at.toISOString());

/** A small square (metres, Lambert 93) around the centre of a feature, as a GML 3.2 polygon. */
async function squareNear(fid: number): Promise<string> {
  const { x, y } = (await db().query(`SELECT ST_X(c) AS x, ST_Y(c) AS y FROM (SELECT ST_PointOnSurface(geom) AS c FROM data.${L} WHERE fid = $1) s`, [fid])).rows[0];
  const d = 50;
  return `${x - d} ${y - d} ${x + d} ${y - d} ${x + d} ${y + d} ${x - d} ${y + d} ${x - d} ${y - d}`;
}

const wfs20 = (body: string) =>
  `<wfs:Transaction xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:sdi="${nsUri}" service="WFS" version="2.0.0">${body}</wfs:Transaction>`;
const insert20 = (posList: string, nom = 'Nouvelle', srs = 'urn:ogc:def:crs:EPSG::2154') =>
  `<wfs:Insert><sdi:${L}><sdi:code>99001</sdi:code><sdi:nom>${nom}</sdi:nom><sdi:population>12</sdi:population><sdi:geom><gml:MultiSurface srsName="${srs}" gml:id="m1"><gml:surfaceMember><gml:Polygon gml:id="p1"><gml:exterior><gml:LinearRing><gml:posList>${posList}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember></gml:MultiSurface></sdi:geom></sdi:${L}></wfs:Insert>`;
const update20 = (fid: number, nom: string) =>
  `<wfs:Update typeName="sdi:${L}"><wfs:Property><wfs:ValueReference>sdi:nom</wfs:ValueReference><wfs:Value>${nom}</wfs:Value></wfs:Property><wfs:Property><wfs:ValueReference>population</wfs:ValueReference></wfs:Property><fes:Filter><fes:ResourceId rid="${L}.${fid}"/></fes:Filter></wfs:Update>`;
const delete20 = (fid: number) => `<wfs:Delete typeName="sdi:${L}"><fes:Filter><fes:ResourceId rid="${L}.${fid}"/></fes:Filter></wfs:Delete>`;

async function cleanUp(): Promise<void> {
  await db().query(`DELETE FROM sdi.users WHERE login LIKE 'ed\\_%'`);
  await db().query(`DELETE FROM sdi.grants WHERE resource_name = $1`, [L]);
  await db().query(`DELETE FROM sdi.layers WHERE name = $1`, [L]);
  await db().query(`DROP TABLE IF EXISTS data.${L}`);
}

beforeAll(async () => {
  await cleanUp();
  await db().query(`CREATE TABLE data.${L} (fid serial PRIMARY KEY, code varchar(5), nom varchar NOT NULL, population integer, geom geometry(MultiPolygon, 2154))`);
  const dep45 = `(SELECT ST_Union(geom) FROM data.departements WHERE code = '45')`;
  await db().query(`INSERT INTO data.${L} (code, nom, geom) (SELECT code, nom, geom FROM data.communes WHERE ST_Within(geom, ${dep45}) ORDER BY code LIMIT 5)`);
  await db().query(`INSERT INTO data.${L} (code, nom, geom) (SELECT code, nom, geom FROM data.communes WHERE NOT ST_Intersects(geom, ${dep45}) ORDER BY code LIMIT 5)`);
  const ids = (await db().query<{ fid: number; inside: boolean }>(`SELECT fid, ST_Intersects(geom, ${dep45}) AS inside FROM data.${L} ORDER BY fid`)).rows;
  inside = ids.filter((r) => r.inside).map((r) => r.fid);
  outside = ids.filter((r) => !r.inside).map((r) => r.fid);
  await db().query(`INSERT INTO sdi.layers (name, table_schema, table_name, id_column, geometry_column, title) VALUES ($1, 'data', $1, 'fid', 'geom', 'Communes (édition)')`, [L]);

  ({ app, platform } = await inProcessPlatform(ADMIN_TOKEN));
  nsUri = platform.config.namespace.uri;
  for (const login of ['ed_editor', 'ed_terri', 'ed_nogrant']) expect((await admin('POST', '/users', { login, password: PW })).statusCode).toBe(201);
  expect((await admin('POST', '/grants', { user: 'ed_editor', resourceKind: 'layer', resourceName: L, action: 'edit' })).statusCode).toBe(201);
  const g = await admin('POST', '/grants', { user: 'ed_terri', resourceKind: 'layer', resourceName: L, action: 'edit', territory: { kind: 'departement', code: '45' } });
  expect(g.statusCode, g.body).toBe(201);
  expect(inside.length).toBe(5);
  expect(outside.length).toBe(5);
}, 180_000);

afterAll(async () => {
  await closePlatform({ app, platform });
  await cleanUp();
});

describe('issue 11 editing: WFS-T Transaction', () => {
  it('capabilities advertise Transaction and ImplementsTransactionalWFS only to a caller who may edit (WFS 2.0 §8.3.5.1 Table 13)', async () => {
    const anon = await send('GET', '/wfs?SERVICE=WFS&REQUEST=GetCapabilities&VERSION=2.0.0', undefined);
    expect(anon.statusCode).toBe(200);
    expect(anon.body).not.toContain('name="Transaction"');
    expect(anon.body).toMatch(/name="ImplementsTransactionalWFS"><ows:NoValues\/><ows:DefaultValue>FALSE/);
    const nogrant = await send('GET', '/wfs?SERVICE=WFS&REQUEST=GetCapabilities&VERSION=2.0.0', NOGRANT);
    expect(nogrant.body).not.toContain('name="Transaction"');
    const editor = await send('GET', '/wfs?SERVICE=WFS&REQUEST=GetCapabilities&VERSION=2.0.0', EDITOR);
    expect(editor.body).toContain('<ows:Operation name="Transaction">');
    expect(editor.body).toMatch(/name="ImplementsTransactionalWFS"><ows:NoValues\/><ows:DefaultValue>TRUE/);
    const v = xmllint(editor.body, 'wfs/2.0/wfs.xsd');
    expect(v.ok, v.output).toBe(true);
    // WFS 1.1.0 §13.3.2: the type's own Operations list Insert/Update/Delete (QGIS reads them).
    const e11 = await send('GET', '/wfs?SERVICE=WFS&REQUEST=GetCapabilities&VERSION=1.1.0', EDITOR);
    expect(e11.body).toContain('<ows:Operation name="Transaction">');
    expect(e11.body).toContain('<wfs:Operation>Insert</wfs:Operation>');
    // The editor's document, Transaction included, is valid (OWS 1.0 parameters, Filter 1.1 operands).
    const v11 = xmllint(e11.body, 'wfs/1.1.0/wfs.xsd');
    expect(v11.ok, v11.output).toBe(true);
    const anon11 = await send('GET', '/wfs?SERVICE=WFS&REQUEST=GetCapabilities&VERSION=1.1.0', undefined);
    expect(anon11.body).not.toContain('name="Transaction"');
    // WFS 1.0.0: Capability/Request/Transaction and the type's Operations (WFS-capabilities.xsd).
    const e10 = await send('GET', '/wfs?SERVICE=WFS&REQUEST=GetCapabilities&VERSION=1.0.0', EDITOR);
    expect(e10.body).toContain('<Transaction><DCPType>');
    expect(e10.body).toContain('<Operations><Query/><Insert/><Update/><Delete/></Operations>');
    const v10 = xmllint(e10.body, 'wfs/1.0.0/WFS-capabilities.xsd');
    expect(v10.ok, v10.output).toBe(true);
    const anon10 = await send('GET', '/wfs?SERVICE=WFS&REQUEST=GetCapabilities&VERSION=1.0.0', undefined);
    expect(anon10.body).not.toContain('<Transaction>');
  });

  it('WFS 2.0 Insert, Update and Delete in one transaction; the TransactionResponse is valid (WFS 2.0 §15.3); the layer revision moves', async () => {
    const before = await updatedAt();
    // The tile cache's revision of the layer (src/tiles/revision.ts): a cached tile's key changes with the edit.
    const { layerRevision } = await import(join(ROOT, 'dist/src/tiles/revision.js'));
    const tileRevision = async () => layerRevision((platform as unknown as { pool: unknown }).pool, await (platform as unknown as { layers: { get(n: string): Promise<unknown> } }).layers.get(L));
    const tilesBefore = await tileRevision();
    expect(tilesBefore).toBeTruthy();
    const body = wfs20(insert20(await squareNear(inside[0]!)) + update20(inside[1]!, 'Renommée') + delete20(inside[2]!));
    const r = await send('POST', '/wfs', EDITOR, body);
    expect(r.statusCode, r.body).toBe(200);
    const v = xmllint(r.body, 'wfs/2.0/wfs.xsd');
    expect(v.ok, v.output).toBe(true);
    expect(r.body).toContain('<wfs:totalInserted>1</wfs:totalInserted><wfs:totalUpdated>1</wfs:totalUpdated>');
    expect(r.body).toContain('<wfs:totalDeleted>1</wfs:totalDeleted>');
    const newId = Number(/<wfs:InsertResults><wfs:Feature><fes:ResourceId rid="edit_communes\.(\d+)"/.exec(r.body)![1]);
    expect(await row(newId)).toMatchObject({ code: '99001', nom: 'Nouvelle', population: 12, srid: 2154 });
    expect((await row(newId)).g).toMatch(/^MULTIPOLYGON/);
    expect(await row(inside[1]!)).toMatchObject({ nom: 'Renommée', population: null });
    expect(await row(inside[2]!)).toBeUndefined();
    expect(await updatedAt()).not.toBe(before);
    expect(await tileRevision()).not.toBe(tilesBefore);
    // The edit is visible through the read path at once.
    const read = await send('GET', `/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&RESOURCEID=${L}.${inside[1]}`, undefined);
    expect(read.body).toContain('Renommée');
  });

  it('the WFS 1.1.0 Transaction QGIS sends to a 2.0 server: GML 3.1 geometry in WGS 84 (reprojected), ogc:FeatureId; a 1.1.0 TransactionResponse', async () => {
    // A point of Orléans in EPSG:4326 given as urn (lat/lon order), reprojected to Lambert 93 by the server.
    const lat = 47.9029;
    const lon = 1.9093;
    const d = 0.0005;
    const ring = [
      [lat - d, lon - d],
      [lat - d, lon + d],
      [lat + d, lon + d],
      [lat + d, lon - d],
      [lat - d, lon - d],
    ]
      .map((p) => p.join(' '))
      .join(' ');
    const xml = `<Transaction xmlns="http://www.opengis.net/wfs" version="1.1.0" service="WFS" xmlns:gml="http://www.opengis.net/gml" xmlns:sdi="${nsUri}">
 <Insert><${L} xmlns="${nsUri}"><code>45999</code><nom>Par QGIS</nom><geom><gml:MultiSurface srsName="urn:ogc:def:crs:EPSG::4326"><gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList srsDimension="2">${ring}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember></gml:MultiSurface></geom></${L}></Insert>
 <Update typeName="sdi:${L}"><Property><Name>sdi:population</Name><Value>4321</Value></Property><Filter xmlns="http://www.opengis.net/ogc"><FeatureId fid="${L}.${inside[3]}"/></Filter></Update>
</Transaction>`;
    const r = await send('POST', '/wfs?SERVICE=WFS', EDITOR, xml, 'text/xml');
    expect(r.statusCode, r.body).toBe(200);
    const v = xmllint(r.body, 'wfs/1.1.0/wfs.xsd');
    expect(v.ok, v.output).toBe(true);
    expect(r.body).toContain('<wfs:totalInserted>1</wfs:totalInserted><wfs:totalUpdated>1</wfs:totalUpdated>');
    const fid = Number(/<ogc:FeatureId fid="edit_communes\.(\d+)"\/>/.exec(r.body)![1]);
    const { x, y } = (await db().query(`SELECT ST_X(ST_Centroid(geom)) AS x, ST_Y(ST_Centroid(geom)) AS y FROM data.${L} WHERE fid = $1`, [fid])).rows[0];
    // Orléans in Lambert 93: about x 619 000, y 6 755 000 (a swapped axis would land far away).
    expect(Math.abs(x - 619_000)).toBeLessThan(3_000);
    expect(Math.abs(y - 6_755_000)).toBeLessThan(3_000);
    expect((await row(inside[3]!)).population).toBe(4321);
  });

  it('the WFS 1.0.0 Transaction QGIS 3.22 really sends (GML 2 coordinates): a WFS_TransactionResponse valid against WFS-transaction.xsd (WFS 1.0.0 §12.3)', async () => {
    const ring = (await squareNear(inside[3]!)).split(' ').reduce<string[]>((acc, v, i, a) => (i % 2 ? acc : [...acc, `${v},${a[i + 1]}`]), []).join(' ');
    const xml = `<Transaction xmlns="http://www.opengis.net/wfs" version="1.0.0" service="WFS" xmlns:sdi="${nsUri}" xmlns:gml="http://www.opengis.net/gml"><Insert xmlns="http://www.opengis.net/wfs"><${L} xmlns="${nsUri}"><code>45888</code><nom>WFS 1.0</nom><geom><gml:MultiPolygon srsName="urn:ogc:def:crs:EPSG::2154"><gml:polygonMember><gml:Polygon><gml:outerBoundaryIs><gml:LinearRing><gml:coordinates cs="," ts=" ">${ring}</gml:coordinates></gml:LinearRing></gml:outerBoundaryIs></gml:Polygon></gml:polygonMember></gml:MultiPolygon></geom></${L}></Insert></Transaction>`;
    const r = await send('POST', '/wfs?SERVICE=WFS', EDITOR, xml, 'text/xml');
    expect(r.statusCode, r.body).toBe(200);
    const v = xmllint(r.body, 'wfs/1.0.0/WFS-transaction.xsd');
    expect(v.ok, v.output).toBe(true);
    expect(r.body).toContain('<wfs:SUCCESS/>');
    const fid = Number(/<ogc:FeatureId fid="edit_communes\.(\d+)"\/>/.exec(r.body)![1]);
    expect(await row(fid)).toMatchObject({ code: '45888', nom: 'WFS 1.0', srid: 2154 });
  });

  it('refused to an anonymous caller (401) and to a user without the edit grant (403), in the WFS format; nothing changes', async () => {
    const before = await snapshot();
    const body = wfs20(update20(inside[0]!, 'Pirate') + delete20(outside[0]!));
    const anon = await send('POST', '/wfs', undefined, body);
    expect(anon.statusCode).toBe(401);
    expect(String(anon.headers['www-authenticate'])).toMatch(/Basic/);
    expect(anon.body).toContain('ExceptionReport');
    const nogrant = await send('POST', '/wfs', NOGRANT, body);
    expect(nogrant.statusCode).toBe(403);
    expect(nogrant.body).toContain('ExceptionReport');
    expect(await snapshot()).toEqual(before);
  });

  it('a territorial editor edits inside its territory; an edit touching a feature outside, or moving one out, is refused (403) and nothing changes', async () => {
    const ok = await send('POST', '/wfs', TERRI, wfs20(update20(inside[0]!, 'Dans le Loiret')));
    expect(ok.statusCode, ok.body).toBe(200);
    expect((await row(inside[0]!)).nom).toBe('Dans le Loiret');
    const before = await snapshot();
    // One action inside, one outside: the whole transaction is refused.
    const mixed = await send('POST', '/wfs', TERRI, wfs20(update20(inside[0]!, 'Encore') + delete20(outside[1]!)));
    expect(mixed.statusCode, mixed.body).toBe(403);
    expect(mixed.body).toContain('ExceptionReport');
    // An insert whose geometry lies outside the territory.
    const out = await send('POST', '/wfs', TERRI, wfs20(insert20(await squareNear(outside[2]!))));
    expect(out.statusCode, out.body).toBe(403);
    // Moving a feature of the territory out of it.
    const move = `<wfs:Update typeName="sdi:${L}"><wfs:Property><wfs:ValueReference>geom</wfs:ValueReference><wfs:Value><gml:Polygon srsName="urn:ogc:def:crs:EPSG::2154"><gml:exterior><gml:LinearRing><gml:posList>${await squareNear(outside[2]!)}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></wfs:Value></wfs:Property><fes:Filter><fes:ResourceId rid="${L}.${inside[0]}"/></fes:Filter></wfs:Update>`;
    const moved = await send('POST', '/wfs', TERRI, wfs20(move));
    expect(moved.statusCode, moved.body).toBe(403);
    expect(await snapshot()).toEqual(before);
  });

  it('validation: a geometry of another type, an unknown property, a value of the wrong kind, a missing required value are 400 and change nothing', async () => {
    const before = await snapshot();
    const point = `<wfs:Insert><sdi:${L}><sdi:nom>Point</sdi:nom><sdi:geom><gml:Point srsName="urn:ogc:def:crs:EPSG::2154"><gml:pos>619000 6755000</gml:pos></gml:Point></sdi:geom></sdi:${L}></wfs:Insert>`;
    const r1 = await send('POST', '/wfs', EDITOR, wfs20(point));
    expect(r1.statusCode).toBe(400);
    expect(r1.body).toContain('MULTIPOLYGON');
    expect(r1.body).toContain('InvalidParameterValue');
    const unknown = `<wfs:Update typeName="sdi:${L}"><wfs:Property><wfs:ValueReference>owner</wfs:ValueReference><wfs:Value>x</wfs:Value></wfs:Property><fes:Filter><fes:ResourceId rid="${L}.${inside[0]}"/></fes:Filter></wfs:Update>`;
    expect((await send('POST', '/wfs', EDITOR, wfs20(unknown))).statusCode).toBe(400);
    const wrongKind = `<wfs:Update typeName="sdi:${L}"><wfs:Property><wfs:ValueReference>population</wfs:ValueReference><wfs:Value>1; DROP TABLE data.${L}</wfs:Value></wfs:Property><fes:Filter><fes:ResourceId rid="${L}.${inside[0]}"/></fes:Filter></wfs:Update>`;
    expect((await send('POST', '/wfs', EDITOR, wfs20(wrongKind))).statusCode).toBe(400);
    const noName = `<wfs:Insert><sdi:${L}><sdi:code>1</sdi:code></sdi:${L}></wfs:Insert>`;
    const r4 = await send('POST', '/wfs', EDITOR, wfs20(insert20(await squareNear(inside[0]!)) + noName));
    expect(r4.statusCode, r4.body).toBe(400);
    expect(r4.body).not.toMatch(/INSERT|violates/);
    expect(await snapshot()).toEqual(before);
  });
});

describe('issue 11 editing: OGC API Features Part 4 (OGC 20-002)', () => {
  const items = `/ogcapi/collections/${L}/items`;
  const json = (o: unknown) => JSON.stringify(o);
  /** A small square around Orléans in CRS84 (lon/lat), inside the département 45. */
  const orleans = { type: 'Polygon', coordinates: [[[1.909, 47.902], [1.91, 47.902], [1.91, 47.903], [1.909, 47.903], [1.909, 47.902]]] };
  /** The same square near Paris, outside it. */
  const paris = { type: 'Polygon', coordinates: [[[2.35, 48.85], [2.351, 48.85], [2.351, 48.851], [2.35, 48.851], [2.35, 48.85]]] };

  it('conformance declares Part 4 to a caller who may edit only', async () => {
    const anon = JSON.parse((await send('GET', '/ogcapi/conformance', undefined)).body);
    expect(anon.conformsTo.join(' ')).not.toContain('ogcapi-features-4');
    const editor = JSON.parse((await send('GET', '/ogcapi/conformance', EDITOR)).body);
    expect(editor.conformsTo).toContain('http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete');
    // The OpenAPI document declares the Part 4 operations of the collections the caller may edit only.
    const api = (auth?: string) => send('GET', '/ogcapi/api', auth).then((r) => JSON.parse(r.body).paths);
    expect((await api())[`/collections/${L}/items`].post).toBeUndefined();
    const paths = await api(EDITOR);
    expect(paths[`/collections/${L}/items`].post.operationId).toBe(`createFeature_${L}`);
    expect(Object.keys(paths[`/collections/${L}/items/{featureId}`]).sort()).toEqual(['delete', 'get', 'patch', 'put']);
    expect(paths['/collections/communes/items'].post).toBeUndefined();
  });

  it('RFC 9110 §9.3.7 / OGC 20-002 §6: OPTIONS says Allow GET, HEAD, OPTIONS to every caller, and POST on items, PUT, PATCH, DELETE on an item to an editor only; a CORS preflight gets the same Allow', async () => {
    const allow = async (url: string, auth?: string, headers: Record<string, string> = {}) => {
      const r = await app.inject({ method: 'OPTIONS', url, headers: { ...(auth ? { authorization: auth } : {}), ...headers } });
      expect(r.statusCode, url).toBe(204);
      return String(r.headers['allow'] ?? '').split(/,\s*/).sort();
    };
    const READ = ['GET', 'HEAD', 'OPTIONS'];
    for (const url of ['/ogcapi/', '/ogcapi/conformance', '/ogcapi/api', '/ogcapi/collections', `/ogcapi/collections/${L}`]) {
      expect(await allow(url, EDITOR), url).toEqual(READ);
      expect(await allow(url), url).toEqual(READ);
    }
    expect(await allow(items, EDITOR)).toEqual([...READ, 'POST'].sort());
    expect(await allow(`${items}/${inside[0]}`, EDITOR)).toEqual([...READ, 'PUT', 'PATCH', 'DELETE'].sort());
    for (const auth of [undefined, NOGRANT]) {
      expect(await allow(items, auth)).toEqual(READ);
      expect(await allow(`${items}/${inside[0]}`, auth)).toEqual(READ);
    }
    // A collection that does not exist answers as one the caller may not edit: OPTIONS names no restricted collection.
    expect(await allow('/ogcapi/collections/no_such_layer/items', EDITOR)).toEqual(READ);
    // A browser's preflight for a PUT is answered by @fastify/cors (PUT among the allowed methods), with the same Allow.
    const pre = await app.inject({ method: 'OPTIONS', url: `${items}/${inside[0]}`, headers: { authorization: EDITOR, origin: 'https://carto.example.org', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type,content-crs' } });
    expect(pre.statusCode).toBe(204);
    expect(String(pre.headers['access-control-allow-methods'])).toMatch(/PUT.*PATCH/);
    expect(String(pre.headers['access-control-allow-headers'])).toMatch(/Content-Crs/i);
    expect(String(pre.headers['allow']).split(/,\s*/).sort()).toEqual([...READ, 'PUT', 'PATCH', 'DELETE'].sort());
    const anonPre = await app.inject({ method: 'OPTIONS', url: items, headers: { origin: 'https://carto.example.org', 'access-control-request-method': 'POST' } });
    expect(anonPre.statusCode).toBe(204);
    expect(String(anonPre.headers['allow']).split(/,\s*/).sort()).toEqual(READ);
  });

  it('POST creates (201 + Location, §7.2.2), PATCH merges (RFC 7396), PUT replaces, DELETE removes (204); a second DELETE is 404', async () => {
    const before = await updatedAt();
    const post = await send('POST', items, EDITOR, json({ type: 'Feature', properties: { code: '45998', nom: 'Par OGC API', population: 7 }, geometry: orleans }), 'application/geo+json');
    expect(post.statusCode, post.body).toBe(201);
    const location = String(post.headers['location']);
    expect(location).toMatch(new RegExp(`/ogcapi/collections/${L}/items/\\d+$`));
    const fid = Number(location.split('/').pop());
    const created = await row(fid);
    expect(created).toMatchObject({ code: '45998', nom: 'Par OGC API', population: 7, srid: 2154 });
    expect(created.g).toMatch(/^MULTIPOLYGON/);
    expect(await updatedAt()).not.toBe(before);
    // The created feature is served at its Location.
    expect((await send('GET', `${items}/${fid}`, undefined)).statusCode).toBe(200);

    const patch = await send('PATCH', `${items}/${fid}`, EDITOR, json({ properties: { population: null, nom: 'Patchée' } }), 'application/merge-patch+json');
    expect(patch.statusCode, patch.body).toBe(204);
    expect(await row(fid)).toMatchObject({ code: '45998', nom: 'Patchée', population: null });
    expect((await row(fid)).g).toBe(created.g);

    const put = await send('PUT', `${items}/${fid}`, EDITOR, json({ type: 'Feature', properties: { nom: 'Remplacée' }, geometry: orleans }), 'application/geo+json');
    expect(put.statusCode, put.body).toBe(204);
    expect(await row(fid)).toMatchObject({ code: null, nom: 'Remplacée', population: null });

    expect((await send('DELETE', `${items}/${fid}`, EDITOR)).statusCode).toBe(204);
    expect(await row(fid)).toBeUndefined();
    const again = await send('DELETE', `${items}/${fid}`, EDITOR);
    expect(again.statusCode).toBe(404);
    expect(String(again.headers['content-type'])).toContain('application/problem+json');
  });

  it('Content-Crs (Part 2 §6.5 / Part 4): EPSG:4326 coordinates are read lat/lon, EPSG:2154 as is; a CRS the collection does not offer is 400', async () => {
    const latlon = { type: 'Polygon', coordinates: orleans.coordinates.map((r) => r.map(([x, y]) => [y, x])) };
    const post = (geometry: unknown, crs: string) => app.inject({ method: 'POST', url: items, headers: { authorization: EDITOR, 'content-type': 'application/geo+json', 'content-crs': crs }, payload: json({ type: 'Feature', properties: { nom: 'CRS' }, geometry }) });
    const a = await post(latlon, '<http://www.opengis.net/def/crs/EPSG/0/4326>');
    expect(a.statusCode, a.body).toBe(201);
    const fid = Number(String(a.headers['location']).split('/').pop());
    const { x, y } = (await db().query(`SELECT ST_X(ST_Centroid(geom)) AS x, ST_Y(ST_Centroid(geom)) AS y FROM data.${L} WHERE fid = $1`, [fid])).rows[0];
    expect(Math.abs(x - 619_000)).toBeLessThan(3_000);
    expect(Math.abs(y - 6_755_000)).toBeLessThan(3_000);
    const square = { type: 'Polygon', coordinates: [[[x - 10, y - 10], [x + 10, y - 10], [x + 10, y + 10], [x - 10, y + 10], [x - 10, y - 10]]] };
    const b = await post(square, '<http://www.opengis.net/def/crs/EPSG/0/2154>');
    expect(b.statusCode, b.body).toBe(201);
    const bad = await post(square, '<http://www.opengis.net/def/crs/EPSG/0/32631>');
    expect(bad.statusCode).toBe(400);
    expect(String(bad.headers['content-type'])).toContain('application/problem+json');
    for (const r of [a, b]) expect((await send('DELETE', new URL(String(r.headers['location'])).pathname, EDITOR)).statusCode).toBe(204);
  });

  it('refused to anonymous (401) and to a user without the grant (403) as problem+json; nothing changes', async () => {
    const before = await snapshot();
    const body = json({ type: 'Feature', properties: { nom: 'Pirate' }, geometry: orleans });
    const anon = await send('POST', items, undefined, body, 'application/geo+json');
    expect(anon.statusCode).toBe(401);
    expect(String(anon.headers['content-type'])).toContain('application/problem+json');
    const nogrant = await send('DELETE', `${items}/${inside[0]}`, NOGRANT);
    expect(nogrant.statusCode).toBe(403);
    expect(String(nogrant.headers['content-type'])).toContain('application/problem+json');
    expect((await send('PATCH', `${items}/${inside[0]}`, NOGRANT, json({ properties: { nom: 'x' } }), 'application/merge-patch+json')).statusCode).toBe(403);
    expect(await snapshot()).toEqual(before);
  });

  it('a territorial editor: inside is accepted; a feature outside, or a geometry leaving the territory, is 403 and nothing changes', async () => {
    const ok = await send('PATCH', `${items}/${inside[4]}`, TERRI, json({ properties: { population: 45 } }), 'application/merge-patch+json');
    expect(ok.statusCode, ok.body).toBe(204);
    expect((await row(inside[4]!)).population).toBe(45);
    const before = await snapshot();
    expect((await send('DELETE', `${items}/${outside[3]}`, TERRI)).statusCode).toBe(403);
    expect((await send('PATCH', `${items}/${outside[3]}`, TERRI, json({ properties: { nom: 'x' } }), 'application/merge-patch+json')).statusCode).toBe(403);
    expect((await send('POST', items, TERRI, json({ type: 'Feature', properties: { nom: 'Paris' }, geometry: paris }), 'application/geo+json')).statusCode).toBe(403);
    expect((await send('PATCH', `${items}/${inside[4]}`, TERRI, json({ geometry: paris }), 'application/merge-patch+json')).statusCode).toBe(403);
    expect(await snapshot()).toEqual(before);
  });

  it('validation: a Point for a MULTIPOLYGON layer, an unknown property, bad JSON, a value of the wrong kind are 400 problem+json', async () => {
    const before = await snapshot();
    const point = await send('POST', items, EDITOR, json({ type: 'Feature', properties: { nom: 'P' }, geometry: { type: 'Point', coordinates: [1.9, 47.9] } }), 'application/geo+json');
    expect(point.statusCode).toBe(400);
    expect(String(point.headers['content-type'])).toContain('application/problem+json');
    expect(point.body).toContain('MULTIPOLYGON');
    expect((await send('POST', items, EDITOR, json({ type: 'Feature', properties: { nom: 'P', owner: 'x' }, geometry: orleans }), 'application/geo+json')).statusCode).toBe(400);
    expect((await send('POST', items, EDITOR, '{"type": "Feature",', 'application/geo+json')).statusCode).toBe(400);
    expect((await send('PATCH', `${items}/${inside[4]}`, EDITOR, json({ properties: { population: 'beaucoup' } }), 'application/merge-patch+json')).statusCode).toBe(400);
    expect(await snapshot()).toEqual(before);
  });
});

describe('issue 11 editing: QGIS headless (python3-qgis, Basic authcfg) edits through WFS-T', () => {
  it('changes an attribute and adds a feature inside the territory (in PostGIS after); a change outside is refused and nothing changes', async () => {
    const code = async (fid: number) => (await row(fid)).code as string;
    const insideCode = await code(inside[4]!);
    const outsideCode = await code(outside[4]!);
    const outsideBefore = await row(outside[4]!);
    const { x, y } = (await db().query(`SELECT ST_X(c) AS x, ST_Y(c) AS y FROM (SELECT ST_PointOnSurface(geom) AS c FROM data.${L} WHERE fid = $1) s`, [inside[4]])).rows[0];
    const dir = mkdtempSync(join(tmpdir(), 'sdi-qgis-edit-'));
    const out = join(dir, 'report.json');
    try {
      await new Promise<void>((resolve, reject) =>
        execFile(
          process.env.QGIS_PYTHON ?? '/usr/bin/python3',
          [join(import.meta.dirname, 'qgis_edit.py'), '--base', baseUrl(), '--layer', L, '--user', 'ed_terri', '--password', PW, '--inside', insideCode, '--outside', outsideCode, '--point', `${x},${y}`, '--out', out],
          { timeout: 240_000 },
          (err) => (err ? reject(err) : resolve()),
        ),
      );
      const r = JSON.parse(readFileSync(out, 'utf8'));
      expect(r.error).toBeUndefined();
      expect(r).toMatchObject({ valid: true, canEdit: true, foundInside: true, foundOutside: true });
      expect(r.update.ok, JSON.stringify({ ...r.update, posted: r.posted, log: r.log })).toBe(true);
      expect((await row(inside[4]!)).nom).toBe('Edité par QGIS');
      expect(r.insert.ok, JSON.stringify(r.insert)).toBe(true);
      const added = (await db().query(`SELECT nom, ST_Intersects(geom, ST_SetSRID(ST_MakePoint($1, $2), 2154)) AS here FROM data.${L} WHERE code = '45777'`, [x, y])).rows;
      expect(added).toEqual([{ nom: 'Ajoutée par QGIS', here: true }]);
      expect(r.outside.ok).toBe(false);
      expect(await row(outside[4]!)).toEqual(outsideBefore);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
