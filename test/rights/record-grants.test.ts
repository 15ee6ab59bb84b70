/**
 * Issue 11: grants apply to "layers, raster layers, datasets and records". A catalogue record restricted on its
 * own (`PUT /admin/access/records/{identifier}` {public:false}, sdi.restricted_records, migration 0036) is seen
 * only by holders of a `record` grant on its identifier (view, or an action implying it) — in CSW (GetRecords,
 * GetRecordById, GetDomain), DCAT and OGC API – Records; to anyone else it answers exactly as an identifier no
 * record has (no enumeration), and no count is shared between them by the page cache. With
 * SDI_CATALOGUE_RESTRICTED=describe it is listed to everyone, without its data links to the others.
 * The record used is the record of a public feature layer (so its visibility is its own, not its layer's) with
 * data links (WFS, OGC API, downloads) for describe mode; not the one rights.test.ts restricts with its layer.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { db } from '../helpers.js';
import { closePlatform, inProcessPlatform, type App, type TestPlatform } from './in-process-platform.js';

const ADMIN_TOKEN = 'record-grants-admin-token';
const PW = 'record-grants-password';
const basic = (login: string) => `Basic ${Buffer.from(`${login}:${PW}`).toString('base64')}`;
const NOGRANT = basic('rg_nogrant');
const VIEWER = basic('rg_viewer'); // a user grant: view
const MEMBER = basic('rg_member'); // through its group: read (implies view)

let app: App;
let platform: TestPlatform;
let identifier = '';
let total = 0;

const send = (method: string, url: string, authorization?: string, payload?: unknown) =>
  app.inject({
    method,
    url,
    headers: { ...(authorization ? { authorization } : {}), ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
  });
const admin = (method: string, url: string, payload?: unknown) => send(method, `/admin${url}`, `Bearer ${ADMIN_TOKEN}`, payload);
const enc = encodeURIComponent;

const hits = async (auth?: string) => {
  const r = await send('GET', '/csw?service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=hits', auth);
  expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
  return Number(/numberOfRecordsMatched="(\d+)"/.exec(r.body)![1]);
};
const byId = (id: string) => `/csw?service=CSW&version=2.0.2&request=GetRecordById&elementSetName=full&id=${enc(id)}`;
const matched = async (query: string, auth?: string) => {
  const r = await send('GET', `/records/collections/metadata/items?${query}`, auth);
  expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
  return JSON.parse(r.body).numberMatched as number;
};

async function cleanUp(): Promise<void> {
  await db().query(`DELETE FROM sdi.users WHERE login LIKE 'rg\\_%'`);
  await db().query(`DELETE FROM sdi.groups WHERE name LIKE 'rg\\_%'`);
  if (identifier) {
    await db().query(`DELETE FROM sdi.grants WHERE resource_kind = 'record' AND resource_name = $1`, [identifier]);
    await db().query(`DELETE FROM sdi.restricted_records WHERE identifier = $1`, [identifier]);
  }
}

beforeAll(async () => {
  identifier = (
    await db().query<{ identifier: string }>(
      `SELECT r.identifier FROM sdi.metadata_records r JOIN sdi.layers l ON l.metadata_record_id = r.id
        WHERE l.public AND l.published AND r.type = 'dataset' ORDER BY r.identifier DESC LIMIT 1`,
    )
  ).rows[0]!.identifier;
  await cleanUp();
  total = Number((await db().query('SELECT count(*) AS n FROM sdi.metadata_records')).rows[0].n);
  ({ app, platform } = await inProcessPlatform(ADMIN_TOKEN));
  for (const login of ['rg_nogrant', 'rg_viewer', 'rg_member']) expect((await admin('POST', '/users', { login, password: PW })).statusCode).toBe(201);
  expect((await admin('POST', '/groups', { name: 'rg_readers' })).statusCode).toBe(201);
  expect((await admin('PUT', '/groups/rg_readers/members/rg_member')).statusCode).toBe(204);
}, 180_000);

afterAll(async () => {
  await closePlatform({ app, platform });
  await cleanUp();
});

describe('issue 11: a catalogue record restricted on its own, opened by a record grant', () => {
  it('admin API: GET/PUT /admin/access/records/{identifier}; unknown record 404; a record grant takes no territory', async () => {
    expect(JSON.parse((await admin('GET', `/access/records/${enc(identifier)}`)).body)).toEqual({ identifier, public: true });
    // Seen by everyone before it is restricted.
    expect(await hits()).toBe(total);
    const put = await admin('PUT', `/access/records/${enc(identifier)}`, { public: false });
    expect(put.statusCode, put.body).toBe(200);
    expect(JSON.parse(put.body)).toEqual({ identifier, public: false });
    expect((await admin('PUT', `/access/records/${enc(identifier)}`, { public: false })).statusCode).toBe(200); // idempotent
    expect(JSON.parse((await admin('GET', `/access/records/${enc(identifier)}`)).body)).toEqual({ identifier, public: false });
    expect((await db().query('SELECT identifier FROM sdi.restricted_records WHERE identifier = $1', [identifier])).rowCount).toBe(1);
    for (const [m, body] of [['GET', undefined], ['PUT', { public: false }]] as const) {
      const r = await admin(m, `/access/records/${enc(`${identifier}-nowhere`)}`, body);
      expect(r.statusCode).toBe(404);
      expect(r.headers['content-type']).toMatch(/problem\+json/);
    }
    expect((await db().query('SELECT 1 FROM sdi.restricted_records WHERE identifier = $1', [`${identifier}-nowhere`])).rowCount).toBe(0);
    expect((await admin('PUT', `/access/records/${enc(identifier)}`, { public: 'no' })).statusCode).toBe(400);
    expect((await admin('PUT', `/access/records/${enc(identifier)}`, { public: false, extra: 1 })).statusCode).toBe(400);
    const terr = await admin('POST', '/grants', { user: 'rg_viewer', resourceKind: 'record', resourceName: identifier, action: 'view', territory: { kind: 'departement', code: '45' } });
    expect(terr.statusCode).toBe(400);
    expect(JSON.parse(terr.body)).toMatchObject({ status: 400 });
    // Not an administrator: refused.
    expect((await send('PUT', `/admin/access/records/${enc(identifier)}`, NOGRANT, { public: true })).statusCode).toBe(403);

    expect((await admin('POST', '/grants', { user: 'rg_viewer', resourceKind: 'record', resourceName: identifier, action: 'view' })).statusCode).toBe(201);
    expect((await admin('POST', '/grants', { group: 'rg_readers', resourceKind: 'record', resourceName: identifier, action: 'read' })).statusCode).toBe(201);
  });

  it('CSW 2.0.2 GetRecords (§10.8, numberOfRecordsMatched) and GetRecordById (§10.9): hidden from anonymous and a user without the grant, as an unknown identifier', async () => {
    // Alternating callers: the page cache never hands one caller's count to another.
    expect(await hits()).toBe(total - 1);
    expect(await hits(VIEWER)).toBe(total);
    expect(await hits(NOGRANT)).toBe(total - 1);
    expect(await hits(MEMBER)).toBe(total);
    expect(await hits()).toBe(total - 1);
    const unknownId = `${identifier}-nowhere`;
    for (const auth of [undefined, NOGRANT]) {
      const hidden = await send('GET', byId(identifier), auth);
      const unknown = await send('GET', byId(unknownId), auth);
      expect(hidden.statusCode).toBe(unknown.statusCode);
      expect(hidden.headers['content-type']).toBe(unknown.headers['content-type']);
      expect(hidden.body).toBe(unknown.body);
      expect(hidden.body).not.toContain(identifier);
    }
    for (const auth of [VIEWER, MEMBER]) {
      const r = await send('GET', byId(identifier), auth);
      expect(r.statusCode).toBe(200);
      expect(r.body).toContain(`<dc:identifier>${identifier}</dc:identifier>`);
    }
    // A search by the identifier itself: nothing to those who may not see it.
    const q = `/csw?service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=hits&constraintLanguage=CQL_TEXT&constraint_language_version=1.1.0&constraint=${enc(`dc:identifier = '${identifier}'`)}`;
    const n = async (auth?: string) => Number(/numberOfRecordsMatched="(\d+)"/.exec((await send('GET', q, auth)).body)![1]);
    expect([await n(), await n(NOGRANT), await n(VIEWER), await n(MEMBER)]).toEqual([0, 0, 1, 1]);
  });

  it('CSW 2.0.2 GetDomain (§10.5): the restricted record\'s identifier is not among the values of others', async () => {
    const values = async (auth?: string) => {
      const r = await send('GET', '/csw?service=CSW&version=2.0.2&request=GetDomain&propertyName=apiso:Identifier', auth);
      expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
      return [...r.body.matchAll(/<csw:Value[^>]*>([^<]*)<\/csw:Value>/g)].map((m) => m[1]);
    };
    const granted = await values(VIEWER);
    expect(granted).toContain(identifier);
    expect(await values()).not.toContain(identifier);
    expect(await values(NOGRANT)).not.toContain(identifier);
    expect((await values()).length).toBe(granted.length - 1);
  });

  it('DCAT: the record by identifier 404 as an unknown one; the catalogue page counts it only for holders', async () => {
    const unknownId = `${identifier}-nowhere`;
    for (const auth of [undefined, NOGRANT]) {
      const hidden = await send('GET', `/dcat/records/${enc(identifier)}`, auth);
      const unknown = await send('GET', `/dcat/records/${enc(unknownId)}`, auth);
      expect(hidden.statusCode).toBe(404);
      expect(hidden.statusCode).toBe(unknown.statusCode);
      expect(hidden.body.split(identifier).join('ID')).toBe(unknown.body.split(unknownId).join('ID'));
    }
    expect((await send('GET', `/dcat/records/${enc(identifier)}`, VIEWER)).statusCode).toBe(200);
    const page = async (auth?: string) => {
      const r = await send('GET', '/dcat?format=ttl&page_size=1000', auth);
      expect(r.statusCode).toBe(200);
      return { total: Number(/hydra:totalItems "?(\d+)/.exec(r.body)?.[1]), has: r.body.includes(identifier) };
    };
    expect(await page()).toEqual({ total: total - 1, has: false });
    expect(await page(NOGRANT)).toEqual({ total: total - 1, has: false });
    const granted = await page(MEMBER);
    expect(granted.total).toBe(total);
    if (total <= 1000) expect(granted.has).toBe(true);
  });

  it('OGC API – Records: numberMatched, ids=, the record itself (404 as an unknown one) only for holders', async () => {
    expect(await matched('limit=1')).toBe(total - 1);
    expect(await matched('limit=1', VIEWER)).toBe(total);
    expect(await matched('limit=1', NOGRANT)).toBe(total - 1);
    expect(await matched(`ids=${enc(identifier)}`)).toBe(0);
    expect(await matched(`ids=${enc(identifier)}`, MEMBER)).toBe(1);
    const item = (id: string) => `/records/collections/metadata/items/${enc(id)}`;
    for (const auth of [undefined, NOGRANT]) {
      const hidden = await send('GET', item(identifier), auth);
      const unknown = await send('GET', item(`${identifier}-nowhere`), auth);
      expect(hidden.statusCode).toBe(404);
      expect(hidden.body.split(identifier).join('ID')).toBe(unknown.body.split(`${identifier}-nowhere`).join('ID'));
    }
    const r = await send('GET', item(identifier), VIEWER);
    expect(r.statusCode).toBe(200);
    expect(JSON.parse(r.body).id).toBe(identifier);
  });

  it('a grant withdrawn closes the record again; made public, everyone sees it', async () => {
    const g = JSON.parse((await admin('GET', `/grants?user=rg_viewer&resourceKind=record&resourceName=${enc(identifier)}`)).body).grants;
    expect(g).toHaveLength(1);
    expect((await admin('DELETE', `/grants/${g[0].id}`)).statusCode).toBe(204);
    expect(await hits(VIEWER)).toBe(total - 1);
    expect(await hits(MEMBER)).toBe(total);
    expect((await admin('PUT', `/access/records/${enc(identifier)}`, { public: true })).statusCode).toBe(200);
    expect(await hits()).toBe(total);
    expect(await hits(VIEWER)).toBe(total);
    expect((await db().query('SELECT 1 FROM sdi.restricted_records WHERE identifier = $1', [identifier])).rowCount).toBe(0);
    // Restricted again for the describe-mode test below.
    expect((await admin('PUT', `/access/records/${enc(identifier)}`, { public: false })).statusCode).toBe(200);
  });
});

describe('issue 11: SDI_CATALOGUE_RESTRICTED=describe and a record restricted on its own', () => {
  let dApp: App;
  let dPlatform: TestPlatform;
  beforeAll(async () => {
    ({ app: dApp, platform: dPlatform } = await inProcessPlatform(ADMIN_TOKEN, { SDI_CATALOGUE_RESTRICTED: 'describe' }));
  }, 180_000);
  afterAll(async () => closePlatform({ app: dApp, platform: dPlatform }));

  it('listed to everyone; its data links (gmd:onLine to services and downloads) only to holders of the grant', async () => {
    const get = (url: string, auth?: string) => dApp.inject({ method: 'GET', url, headers: auth ? { authorization: auth } : {} });
    const count = async (auth?: string) => Number(/numberOfRecordsMatched="(\d+)"/.exec((await get('/csw?service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=hits', auth)).body)![1]);
    expect(await count()).toBe(total);
    expect(await count(NOGRANT)).toBe(total);
    const iso = (auth?: string) => get(`${byId(identifier)}&outputSchema=${enc('http://www.isotc211.org/2005/gmd')}`, auth);
    const granted = await iso(MEMBER);
    const anon = await iso();
    expect(granted.statusCode).toBe(200);
    expect(anon.statusCode).toBe(200);
    expect(anon.body).toContain(identifier);
    const serviceLinks = (xml: string) => [...xml.matchAll(/<gmd:URL>([^<]*)<\/gmd:URL>/g)].map((m) => m[1]!).filter((u) => /\/(wfs|wms|wmts|ogcapi|download|tiles)\b|SERVICE=W/i.test(u));
    expect(serviceLinks(anon.body)).toEqual([]);
    expect(serviceLinks((await iso(NOGRANT)).body)).toEqual([]);
    expect(serviceLinks(granted.body).length).toBeGreaterThan(0);
  });
});
