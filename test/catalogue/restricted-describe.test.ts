/**
 * Issue 11, "CSW and DCAT: restricted records hidden, or shown without data links, by configuration". With
 * SDI_CATALOGUE_RESTRICTED=describe, the record of a restricted layer is listed to everyone, but a caller who may
 * not view the layer gets it without its data links: no gmd:onLine to WFS / OGC API / download / Atom in ISO, no
 * dct:references to them in Dublin Core, no dcat:distribution in DCAT; a holder of the view grant gets them all.
 * A platform is built in this process on the suite's database (grants policy, describe mode) with a restricted
 * layer (describe_region, a copy of the regions table) described by the demo region's record, whose links are WFS, OGC API, GeoJSON download
 * and Atom. Outputs are validated against the CSW 2.0.2 / ISO AP schemas (xmllint --nonet).
 */
import { describe, it, expect, beforeAll, afterAll, inject } from 'vitest';
import { join } from 'node:path';
import { ROOT, baseUrl, db } from '../helpers.js';
import { validateCsw } from './setup.js';
import { isDataLink } from '../../src/access/record-links.js';

type Reply = { statusCode: number; headers: Record<string, unknown>; body: string };
interface App {
  inject(o: { method: string; url: string; headers?: Record<string, string>; payload?: string }): Promise<Reply>;
  ready(): Promise<unknown>;
  close(): Promise<unknown>;
}

const L = 'describe_region';
const ADMIN_TOKEN = 'describe-test-admin-token';
const PW = 'describe-test-password';
const VIEWER = `Basic ${Buffer.from(`dr_viewer:${PW}`).toString('base64')}`;
const NOGRANT = `Basic ${Buffer.from(`dr_nogrant:${PW}`).toString('base64')}`;
const GMD_NS = 'http://www.isotc211.org/2005/gmd';

let app: App;
let hideApp: App;
let platform: { pool: { end(): Promise<void> } };
let hidePlatform: { pool: { end(): Promise<void> } };
let identifier = '';

const get = (a: App, url: string, authorization?: string) => a.inject({ method: 'GET', url, headers: authorization ? { authorization } : {} });
const byId = (id: string, schema: 'csw' | 'gmd', set = 'full') =>
  `/csw?service=CSW&version=2.0.2&request=GetRecordById&elementSetName=${set}&id=${encodeURIComponent(id)}${schema === 'gmd' ? `&outputSchema=${encodeURIComponent(GMD_NS)}` : ''}`;
const search = (id: string, schema: 'csw' | 'gmd') =>
  `/csw?service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=results&elementSetName=full&constraintLanguage=CQL_TEXT&constraint_language_version=1.1.0&constraint=${encodeURIComponent(`dc:identifier = '${id}'`)}${schema === 'gmd' ? `&outputSchema=${encodeURIComponent(GMD_NS)}` : ''}`;

/** Data links of an ISO text: (URL, protocol) of each gmd:onLine. */
function isoLinks(xml: string): Array<{ url: string; protocol: string }> {
  return [...xml.matchAll(/<gmd:onLine>([\s\S]*?)<\/gmd:onLine>/g)].map((m) => ({
    url: /<gmd:URL>([^<]*)<\/gmd:URL>/.exec(m[1]!)?.[1] ?? '',
    protocol: /<gmd:protocol>\s*<(?:gco:CharacterString|gmx:Anchor)[^>]*>([^<]*)</.exec(m[1]!)?.[1] ?? '',
  }));
}
const dcReferences = (xml: string) => [...xml.matchAll(/<dct:references(?: scheme="([^"]*)")?>([^<]*)<\/dct:references>/g)].map((m) => ({ scheme: m[1] ?? '', url: m[2]! }));

async function cleanUp(): Promise<void> {
  await db().query(`DELETE FROM sdi.users WHERE login LIKE 'dr\\_%'`);
  await db().query(`DELETE FROM sdi.grants WHERE resource_name = $1`, [L]);
  await db().query(`DELETE FROM sdi.layers WHERE name = $1`, [L]);
  await db().query(`DROP TABLE IF EXISTS data.describe_region`);
}

async function build(extra: Record<string, string>): Promise<{ app: App; platform: { pool: { end(): Promise<void> } } }> {
  const { loadConfig } = await import(join(ROOT, 'dist/src/config/index.js'));
  const { createPlatform } = await import(join(ROOT, 'dist/src/platform.js'));
  const { buildApp } = await import(join(ROOT, 'dist/app/build-app.js'));
  const config = loadConfig({ ...process.env, DATABASE_URL: inject('databaseUrl'), BASE_URL: baseUrl(), SDI_ACCESS_POLICY: 'grants', SDI_DEMO: '0', LOG_LEVEL: 'silent', SDI_DOWNLOAD_WORKERS: '0', SDI_HARVEST: '0', SDI_ADMIN_TOKEN: ADMIN_TOKEN, ...extra });
  const p = await createPlatform(config);
  const a = (await buildApp(p, ['catalogue', 'admin'])) as App;
  await a.ready();
  return { app: a, platform: p };
}

beforeAll(async () => {
  await cleanUp();
  const rec = (
    await db().query<{ id: string; identifier: string }>(
      `SELECT r.id, r.identifier FROM sdi.metadata_records r JOIN sdi.layers l ON l.metadata_record_id = r.id WHERE l.name = 'region'`,
    )
  ).rows[0]!;
  identifier = rec.identifier;
  await db().query(`CREATE TABLE data.describe_region AS SELECT fid, code, nom, geom FROM data.region`);
  await db().query(`ALTER TABLE data.describe_region ADD PRIMARY KEY (fid)`);
  await db().query(
    `INSERT INTO sdi.layers (name, table_schema, table_name, id_column, geometry_column, title, public, metadata_record_id) VALUES ($1, 'data', 'describe_region', 'fid', 'geom', 'Région (accès restreint)', false, $2)`,
    [L, rec.id],
  );
  ({ app, platform } = await build({ SDI_CATALOGUE_RESTRICTED: 'describe' }));
  ({ app: hideApp, platform: hidePlatform } = await build({}));
  const admin = (method: string, url: string, body: unknown) => app.inject({ method, url: `/admin${url}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  for (const login of ['dr_viewer', 'dr_nogrant']) expect((await admin('POST', '/users', { login, password: PW })).statusCode).toBe(201);
  expect((await admin('POST', '/grants', { user: 'dr_viewer', resourceKind: 'layer', resourceName: L, action: 'view' })).statusCode).toBe(201);
}, 120_000);

afterAll(async () => {
  await app?.close();
  await hideApp?.close();
  await platform?.pool.end();
  await hidePlatform?.pool.end();
  await cleanUp();
});

describe('issue 11: SDI_CATALOGUE_RESTRICTED=describe — restricted records listed without their data links', () => {
  it('the link classifier: OGC services, OGC API, downloads and Atom are data links; the catalogue and web pages are not', () => {
    expect(isDataLink('https://x.fr/wfs?service=WFS&request=GetCapabilities', 'OGC:WFS')).toBe(true);
    expect(isDataLink('https://x.fr/ogcapi/collections/region', 'OGC API - Features')).toBe(true);
    expect(isDataLink('https://x.fr/geo/ogcapi/collections/region/items?f=json', undefined)).toBe(true);
    expect(isDataLink('https://x.fr/download/atom/region.xml', 'INSPIRE Atom')).toBe(true);
    expect(isDataLink('https://elsewhere.org/file.zip', 'WWW:DOWNLOAD-1.0-http--download')).toBe(true);
    expect(isDataLink('https://elsewhere.org/geoserver/ows?SERVICE=WMS&REQUEST=GetMap', undefined)).toBe(true);
    expect(isDataLink('https://x.fr/csw?service=CSW&request=GetRecordById&id=1', 'WWW:LINK-1.0-http--link')).toBe(false);
    expect(isDataLink('https://www.region-centre.fr/page-download-guide', 'WWW:LINK')).toBe(false);
  });

  it('control: the record has data links, and in hide mode (the default) anonymous callers do not get it at all', async () => {
    const admin = await get(app, byId(identifier, 'gmd'), `Bearer ${ADMIN_TOKEN}`);
    expect(isoLinks(admin.body).filter((l) => isDataLink(l.url, l.protocol)).length).toBeGreaterThanOrEqual(3);
    const hidden = await get(hideApp, byId(identifier, 'gmd'));
    expect(hidden.statusCode).toBe(200);
    expect(hidden.body).not.toContain(identifier);
  });

  for (const [who, auth] of [['anonymous', undefined], ['a user without the grant', NOGRANT]] as const) {
    it(`CSW 2.0.2 §10.9 GetRecordById, ISO AP full and summary, ${who}: the record, valid, without any data link`, async () => {
      for (const set of ['full', 'summary']) {
        const r = await get(app, byId(identifier, 'gmd', set), auth);
        expect(r.statusCode).toBe(200);
        expect(r.body).toContain(identifier);
        expect(isoLinks(r.body).filter((l) => isDataLink(l.url, l.protocol)), set).toEqual([]);
        expect(r.body).not.toMatch(/\/(wfs|ogcapi|download)[/?]/);
        expect(validateCsw(r.body).output).toContain('validates');
      }
    });

    it(`CSW 2.0.2 §10.8 GetRecords (stored ISO documents and Dublin Core), ${who}: listed (matched 1), no data link`, async () => {
      const iso = await get(app, search(identifier, 'gmd'), auth);
      expect(iso.body).toMatch(/numberOfRecordsMatched="1"/);
      expect(iso.body).toContain(identifier);
      expect(isoLinks(iso.body).filter((l) => isDataLink(l.url, l.protocol))).toEqual([]);
      expect(validateCsw(iso.body).output).toContain('validates');
      const dc = await get(app, search(identifier, 'csw'), auth);
      expect(dc.body).toMatch(/numberOfRecordsMatched="1"/);
      expect(dcReferences(dc.body).filter((l) => isDataLink(l.url, l.scheme))).toEqual([]);
      expect(validateCsw(dc.body).output).toContain('validates');
      const byIdDc = await get(app, byId(identifier, 'csw'), auth);
      expect(byIdDc.body).toContain(identifier);
      expect(dcReferences(byIdDc.body)).toEqual([]);
      // Atom entries (outputSchema RFC 4287, as the OpenSearch feed writes them): the record's own link stays, no data link.
      const atom = await get(app, `${search(identifier, 'csw')}&outputSchema=${encodeURIComponent('http://www.w3.org/2005/Atom')}`, auth);
      expect(atom.body).toMatch(/<atom:entry/);
      expect(atom.body).toMatch(/<atom:link rel="alternate"/);
      expect(atom.body).not.toMatch(/<atom:link rel="(enclosure|related)"/);
    });

    it(`OGC API – Records (OGC 20-004 §7, record and items), ${who}: the record, its self and alternate links, no data link`, async () => {
      const one = await get(app, `/records/collections/metadata/items/${encodeURIComponent(identifier)}?f=json`, auth);
      expect(one.statusCode).toBe(200);
      const links = (JSON.parse(one.body) as { links: Array<{ href: string; rel: string }> }).links;
      expect(links.some((l) => l.rel === 'self')).toBe(true);
      expect(links.filter((l) => /\/(wfs|ogcapi|download)[/?]/.test(l.href))).toEqual([]);
      const items = await get(app, `/records/collections/metadata/items?f=json&limit=1000`, auth);
      const feature = (JSON.parse(items.body) as { features: Array<{ id: string; links: Array<{ href: string }> }> }).features.find((f) => f.id === identifier)!;
      expect(feature).toBeDefined();
      expect(feature.links.filter((l) => /\/(wfs|ogcapi|download)[/?]/.test(l.href))).toEqual([]);
    });

    it(`DCAT (record and catalogue page), ${who}: the dataset, without dcat:distribution`, async () => {
      const one = await get(app, `/dcat/records/${encodeURIComponent(identifier)}?format=ttl`, auth);
      expect(one.statusCode).toBe(200);
      expect(one.body).toContain('dcat:Dataset');
      expect(one.body).not.toMatch(/dcat:distribution|dcat:accessURL|dcat:downloadURL/);
      const page = await get(app, '/dcat?format=jsonld&page_size=1000', auth);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain(identifier);
      // The record's own data links (its layer's collection, Atom feed) are nowhere in the page; other datasets keep theirs.
      expect(page.body).not.toMatch(/\/(ogcapi|download|wfs|wms)[^"\s]*\bregion\b/);
      expect(page.body).toMatch(/\/(ogcapi|download|wfs|wms)[^"\s]*\bcommunes\b/);
    });
  }

  it('a holder of the view grant gets the same record with every data link (ISO, Dublin Core, DCAT)', async () => {
    const admin = await get(app, byId(identifier, 'gmd'), `Bearer ${ADMIN_TOKEN}`);
    const iso = await get(app, byId(identifier, 'gmd'), VIEWER);
    expect(isoLinks(iso.body)).toEqual(isoLinks(admin.body));
    expect(isoLinks(iso.body).filter((l) => isDataLink(l.url, l.protocol)).length).toBeGreaterThanOrEqual(3);
    const raw = await get(app, search(identifier, 'gmd'), VIEWER);
    expect(isoLinks(raw.body).length).toBe(isoLinks(admin.body).length);
    const dc = await get(app, byId(identifier, 'csw'), VIEWER);
    expect(dcReferences(dc.body).filter((l) => isDataLink(l.url, l.scheme)).length).toBeGreaterThanOrEqual(3);
    const atom = await get(app, `${search(identifier, 'csw')}&outputSchema=${encodeURIComponent('http://www.w3.org/2005/Atom')}`, VIEWER);
    expect(atom.body).toMatch(/<atom:link rel="(enclosure|related)"/);
    const one = await get(app, `/dcat/records/${encodeURIComponent(identifier)}?format=ttl`, VIEWER);
    expect(one.body).toMatch(/dcat:distribution/);
    const rec = await get(app, `/records/collections/metadata/items/${encodeURIComponent(identifier)}?f=json`, VIEWER);
    expect((JSON.parse(rec.body) as { links: Array<{ href: string }> }).links.filter((l) => /\/(wfs|ogcapi|download)[/?]/.test(l.href)).length).toBeGreaterThanOrEqual(3);
    expect((await get(app, '/dcat?format=jsonld&page_size=1000', VIEWER)).body).toMatch(/\/(ogcapi|download|wfs|wms)[^"\s]*\bregion\b/);
  });

  it('the other records are untouched: a public record is sent byte for byte as in hide mode', async () => {
    const other = (await db().query<{ identifier: string }>(`SELECT r.identifier FROM sdi.metadata_records r JOIN sdi.layers l ON l.metadata_record_id = r.id WHERE l.name = 'communes'`)).rows[0]!.identifier;
    const strip = (s: string) => s.replace(/timestamp="[^"]*"/, '');
    expect(strip((await get(app, search(other, 'gmd'))).body)).toBe(strip((await get(hideApp, search(other, 'gmd'))).body));
  });
});
