/**
 * CSW-T Transaction (services/catalogue/csw/transaction.ts): Insert / Update (whole record) / Delete (Filter or
 * CQL constraint) of ISO and Dublin Core records, atomic, for the administrator only. The suite's server runs
 * without an admin credential (transactions refused), so this file starts a second server process on the same
 * test database with SDI_ADMIN_TOKEN set. OWSLib's CatalogueServiceWeb.transaction() is used as a real client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { freePort } from '../free-port.js';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { answerBeforeBody, baseUrl, db, get, ROOT, storeFingerprint, xmllint } from '../helpers.js';
import { exception, isoRecords } from './setup.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { datasetRecordXml, layerRecordIdentifier } from '../../src/metadata/layer-records.js';
import { syncLayerRecords } from '../../src/publishing/index.js';

const TOKEN = 'sdi-test-admin-token-0123456789';
const CSW_NS = 'http://www.opengis.net/cat/csw/2.0.2';
const PYTHON = process.env.OWSLIB_PYTHON ?? '/usr/bin/python3';
const PREFIX = 'sdi-test-tx-';

let server: ChildProcess | undefined;
let txUrl = '';
let config: Config;

const iso = (id: string, title: string) =>
  datasetRecordXml(config, {
    identifier: id,
    layerName: 'tx_test',
    title,
    abstract: 'Fiche de test de la transaction CSW',
    keywords: ['test', 'transaction'],
    srid: 2154,
    dateStamp: '2026-01-02T03:04:05Z',
    created: '2026-01-01',
    bbox: { west: 1.1, east: 2.2, south: 47.1, north: 48.2 },
  });
const dc = (id: string, title: string) =>
  `<csw:Record xmlns:csw="${CSW_NS}" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dct="http://purl.org/dc/terms/"><dc:identifier>${id}</dc:identifier><dc:title>${title}</dc:title><dc:type>dataset</dc:type><dct:abstract>Notice Dublin Core de test</dct:abstract></csw:Record>`;
const tx = (inner: string, attrs = '') =>
  `<csw:Transaction xmlns:csw="${CSW_NS}" xmlns:ogc="http://www.opengis.net/ogc" service="CSW" version="2.0.2"${attrs}>${inner}</csw:Transaction>`;
const deleteLike = (pattern: string) =>
  `<csw:Delete typeName="csw:Record"><csw:Constraint version="1.1.0"><ogc:Filter><ogc:PropertyIsLike wildCard="%" singleChar="_" escapeChar="\\"><ogc:PropertyName>dc:identifier</ogc:PropertyName><ogc:Literal>${pattern}</ogc:Literal></ogc:PropertyIsLike></ogc:Filter></csw:Constraint></csw:Delete>`;

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const post = (xml: string, authorization?: string, url = txUrl) =>
  get(url, { method: 'POST', headers: { 'content-type': 'application/xml', ...(authorization ? { authorization } : {}) }, body: xml });
const byId = (id: string, url = txUrl) => get(`${url}?service=CSW&version=2.0.2&request=GetRecordById&outputSchema=http://www.isotc211.org/2005/gmd&elementSetName=full&id=${encodeURIComponent(id)}`);
const ids = async () => (await db().query<{ identifier: string }>(`SELECT identifier FROM sdi.metadata_records WHERE identifier LIKE $1 ORDER BY identifier`, [`${PREFIX}%`])).rows.map((r) => r.identifier);
const summary = (xml: string) => ({
  inserted: Number(/<csw:totalInserted>(\d+)</.exec(xml)?.[1]),
  updated: Number(/<csw:totalUpdated>(\d+)</.exec(xml)?.[1]),
  deleted: Number(/<csw:totalDeleted>(\d+)</.exec(xml)?.[1]),
});
const validatePublication = (xml: string) => xmllint(xml, 'csw/2.0.2/CSW-publication.xsd');

beforeAll(async () => {
  const port = await freePort();
  txUrl = `http://127.0.0.1:${port}/csw`;
  config = loadConfig({ ...process.env, PORT: new URL(baseUrl()).port, HOST: '127.0.0.1' });
  let log = '';
  server = spawn(process.execPath, [join(ROOT, 'dist/app/server.js')], {
    env: { ...process.env, DATABASE_URL: inject('databaseUrl'), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', SDI_DEMO: '0', SDI_ADMIN_TOKEN: TOKEN, SDI_SERVICES: 'catalogue' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout!.on('data', (d) => (log += d));
  server.stderr!.on('data', (d) => (log += d));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`transaction test server exited: ${log}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`transaction test server did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await db().query(`DELETE FROM sdi.metadata_records WHERE identifier LIKE $1`, [`${PREFIX}%`]);
}, 120_000);

afterAll(async () => {
  await db().query(`DELETE FROM sdi.metadata_records WHERE identifier LIKE $1`, [`${PREFIX}%`]);
  server?.kill('SIGTERM');
});

describe('authentication', () => {
  it('the capabilities list Transaction (POST only)', async () => {
    const r = await get(`${baseUrl()}/csw?service=CSW&request=GetCapabilities`);
    const op = /<ows:Operation name="Transaction">([\s\S]*?)<\/ows:Operation>/.exec(r.body)?.[1];
    expect(op).toBeDefined();
    expect(op).toContain('<ows:Post xlink:href=');
    expect(op).not.toContain('<ows:Get ');
  });

  it('without credentials: 401 with a challenge, an OWS exception, nothing changed', async () => {
    const before = await storeFingerprint();
    const r = await post(tx(`<csw:Insert>${iso(`${PREFIX}anon`, 'Anonyme')}</csw:Insert>`));
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/Basic/);
    expect(r.headers.get('www-authenticate')).toMatch(/Bearer/);
    expect(exception(r.body).code).toBe('NoApplicableCode');
    // Records are only read after authentication: an invalid one is still a 401.
    const invalid = await post(tx(`<csw:Insert><foo xmlns="urn:x"/></csw:Insert>`));
    expect(invalid.status).toBe(401);
    expect(await storeFingerprint()).toEqual(before);
    expect(await ids()).toEqual([]);
  });

  it('wrong token (Bearer or Basic): refused, nothing changed; a delete-everything request changes nothing either', async () => {
    const before = await storeFingerprint();
    for (const auth of ['Bearer not-the-token', basic('admin', 'not-the-token'), 'Digest xyz']) {
      const r = await post(tx(`<csw:Insert>${dc(`${PREFIX}wrong`, 'Refusé')}</csw:Insert>`), auth);
      expect([401, 403], auth).toContain(r.status);
      expect(exception(r.body).code).toBe('NoApplicableCode');
    }
    const all = await post(tx(deleteLike('%')));
    expect(all.status).toBe(401);
    expect(await storeFingerprint()).toEqual(before);
  });

  it('issue 13 §4: the credential is checked before the body is read: a 9.9 MB anonymous or wrong-token Transaction is refused (401) after its first bytes', async () => {
    const head = `<?xml version="1.0" encoding="UTF-8"?>\n<csw:Transaction xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2"><csw:Insert>`;
    for (const headers of [{}, { authorization: 'Bearer not-the-token' }]) {
      const r = await answerBeforeBody(txUrl, head, 9_900_000, headers);
      expect(r.status).toBe(401);
      expect(exception(r.body).code).toBe('NoApplicableCode');
      expect(r.sentBytes).toBeLessThan(1024);
    }
  });

  it('issue 13 §4: a Transaction of over 256 KB (parsed on a worker thread) is applied as a small one is', async () => {
    const id = `${PREFIX}large`;
    const body = tx(`<!--${'p'.repeat(300_000)}--><csw:Insert>${iso(id, 'Grand enregistrement')}</csw:Insert>`);
    expect(body.length).toBeGreaterThan(300_000);
    const r = await post(body, `Bearer ${TOKEN}`);
    expect(r.status, r.body.slice(0, 300)).toBe(200);
    expect(await ids()).toContain(id);
    const del = await post(tx(deleteLike(id)), `Bearer ${TOKEN}`);
    expect(del.status, del.body.slice(0, 300)).toBe(200);
  });

  it('the suite server has no admin credential: transactions refused (403), nothing changed', async () => {
    const before = await storeFingerprint();
    const r = await post(tx(`<csw:Insert>${dc(`${PREFIX}nocred`, 'Refusé')}</csw:Insert>`), `Bearer ${TOKEN}`, `${baseUrl()}/csw`);
    expect([401, 403]).toContain(r.status);
    expect(exception(r.body).code).toBe('NoApplicableCode');
    expect(await storeFingerprint()).toEqual(before);
  });

  it('Transaction is XML POST only: KVP answers OperationNotSupported', async () => {
    const r = await get(`${txUrl}?service=CSW&version=2.0.2&request=Transaction`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(400);
    expect(exception(r.body)).toMatchObject({ code: 'OperationNotSupported', locator: 'request' });
  });
});

describe('insert, update, delete', () => {
  const isoId = `${PREFIX}iso-0001`;
  const dcId = `${PREFIX}dc-0001`;

  it('Insert an ISO and a Dublin Core record (Bearer): totals, one BriefRecord per record, schema-valid response', async () => {
    const r = await post(tx(`<csw:Insert handle="iso">${iso(isoId, 'Fiche ISO de test')}</csw:Insert><csw:Insert handle="dc">${dc(dcId, 'Notice DC de test')}</csw:Insert>`, ' requestId="req-1"'), `Bearer ${TOKEN}`);
    expect(r.status, r.body).toBe(200);
    expect(summary(r.body)).toEqual({ inserted: 2, updated: 0, deleted: 0 });
    expect(r.body).toContain('<csw:TransactionSummary requestId="req-1">');
    const results = [...r.body.matchAll(/<csw:InsertResult handleRef="([^"]*)">([\s\S]*?)<\/csw:InsertResult>/g)].map((m) => ({ handle: m[1], id: /<dc:identifier>([^<]*)</.exec(m[2]!)?.[1], title: /<dc:title>([^<]*)</.exec(m[2]!)?.[1] }));
    expect(results).toEqual([
      { handle: 'iso', id: isoId, title: 'Fiche ISO de test' },
      { handle: 'dc', id: dcId, title: 'Notice DC de test' },
    ]);
    const v = validatePublication(r.body);
    expect(v.ok, v.output).toBe(true);
    expect(await ids()).toEqual([dcId, isoId]);
    const got = isoRecords((await byId(isoId)).body);
    expect(got).toHaveLength(1);
    expect(got[0]).toContain('Fiche ISO de test');
    const { rows } = await db().query(`SELECT schema, title, type, managed_by, ST_AsText(ST_Envelope(bbox)) AS box FROM sdi.metadata_records WHERE identifier = ANY($1) ORDER BY identifier`, [[dcId, isoId]]);
    expect(rows).toEqual([
      { schema: 'dublincore', title: 'Notice DC de test', type: 'dataset', managed_by: null, box: null },
      { schema: 'iso19139', title: 'Fiche ISO de test', type: 'dataset', managed_by: null, box: 'POLYGON((1.1 47.1,1.1 48.2,2.2 48.2,2.2 47.1,1.1 47.1))' },
    ]);
  });

  it('all or nothing: an Insert of an existing identifier fails the whole transaction', async () => {
    const before = await storeFingerprint();
    const r = await post(tx(`<csw:Insert>${dc(`${PREFIX}dc-0002`, 'Nouvelle')}${dc(dcId, 'Doublon')}</csw:Insert>`), `Bearer ${TOKEN}`);
    expect(r.status).toBe(400);
    expect(exception(r.body)).toMatchObject({ code: 'InvalidParameterValue', locator: 'Insert' });
    expect(await ids()).toEqual([dcId, isoId]);
    expect(await storeFingerprint()).toEqual(before);
  });

  it('Update replaces the whole record (Basic admin:token): new title, dateStamp, queryables', async () => {
    const updated = iso(isoId, 'Fiche ISO de test, modifiée').replace('2026-01-02T03:04:05Z', '2026-02-03T04:05:06Z');
    const r = await post(tx(`<csw:Update>${updated}</csw:Update><csw:Update>${dc(dcId, 'Notice DC modifiée')}</csw:Update>`), basic('admin', TOKEN));
    expect(r.status, r.body).toBe(200);
    expect(summary(r.body)).toEqual({ inserted: 0, updated: 2, deleted: 0 });
    expect(validatePublication(r.body).ok).toBe(true);
    const got = isoRecords((await byId(isoId)).body)[0]!;
    expect(got).toContain('Fiche ISO de test, modifiée');
    expect(got).toContain('<gco:DateTime>2026-02-03T04:05:06Z</gco:DateTime>');
    const { rows } = await db().query(`SELECT title FROM sdi.metadata_records WHERE identifier = $1`, [dcId]);
    expect(rows[0].title).toBe('Notice DC modifiée');
  });

  it('Update errors: unknown identifier (InvalidParameterValue), RecordProperty (OptionNotSupported), invalid record; nothing changed', async () => {
    const before = await storeFingerprint();
    const unknown = await post(tx(`<csw:Update>${dc(`${PREFIX}nope`, 'X')}</csw:Update>`), `Bearer ${TOKEN}`);
    expect(unknown.status).toBe(400);
    expect(exception(unknown.body)).toMatchObject({ code: 'InvalidParameterValue', locator: 'Update' });
    const prop = await post(
      tx(`<csw:Update><csw:RecordProperty><csw:Name>dc:title</csw:Name><csw:Value>X</csw:Value></csw:RecordProperty><csw:Constraint version="1.1.0"><csw:CqlText>identifier = '${dcId}'</csw:CqlText></csw:Constraint></csw:Update>`),
      `Bearer ${TOKEN}`,
    );
    expect(prop.status).toBe(400);
    expect(exception(prop.body).code).toBe('OptionNotSupported');
    const bad = await post(tx(`<csw:Insert><foo xmlns="urn:x"><bar/></foo></csw:Insert>`), `Bearer ${TOKEN}`);
    expect(bad.status).toBe(400);
    expect(exception(bad.body)).toMatchObject({ code: 'InvalidParameterValue', locator: 'Insert' });
    const noConstraint = await post(tx(`<csw:Delete typeName="csw:Record"/>`), `Bearer ${TOKEN}`);
    expect(noConstraint.status).toBe(400);
    expect(exception(noConstraint.body).code).toBe('MissingParameterValue');
    expect(await storeFingerprint()).toEqual(before);
  });

  it('Delete with an OGC Filter and with a CQL constraint', async () => {
    const r = await post(tx(deleteLike(`${PREFIX}dc-%`)), `Bearer ${TOKEN}`);
    expect(r.status, r.body).toBe(200);
    expect(summary(r.body)).toEqual({ inserted: 0, updated: 0, deleted: 1 });
    expect(validatePublication(r.body).ok).toBe(true);
    expect(await ids()).toEqual([isoId]);
    const cql = await post(tx(`<csw:Delete><csw:Constraint version="1.1.0"><csw:CqlText>identifier = '${isoId}'</csw:CqlText></csw:Constraint></csw:Delete>`), `Bearer ${TOKEN}`);
    expect(summary(cql.body)).toEqual({ inserted: 0, updated: 0, deleted: 1 });
    expect(await ids()).toEqual([]);
    expect(isoRecords((await byId(isoId)).body)).toEqual([]);
  });
});

describe('transactions and the layer records', () => {
  it("an administrator's Update of a layer's generated record wins over the sync, its abstract reaches the layer (issue 10); deleting it brings the generated one back", async () => {
    await syncLayerRecords(db(), config);
    const id = layerRecordIdentifier(config, 'region');
    const original = (await db().query<{ abstract: string }>(`SELECT abstract FROM sdi.layers WHERE name = 'region'`)).rows[0]!.abstract;
    const generated = isoRecords((await byId(id)).body)[0]!;
    expect(generated).toBeDefined();
    const edited = generated.replace(/<gmd:abstract><gco:CharacterString>[^<]*</, '<gmd:abstract><gco:CharacterString>Résumé rédigé à la main<');
    try {
      const r = await post(tx(`<csw:Update>${edited}</csw:Update>`), `Bearer ${TOKEN}`);
      expect(summary(r.body).updated).toBe(1);
      const report = await syncLayerRecords(db(), config);
      expect(report.kept).toContain('region');
      expect(isoRecords((await byId(id)).body)[0]).toContain('Résumé rédigé à la main');
      const { rows } = await db().query(`SELECT m.identifier, m.managed_by, l.abstract FROM sdi.layers l JOIN sdi.metadata_records m ON m.id = l.metadata_record_id WHERE l.name = 'region'`);
      expect(rows).toEqual([{ identifier: id, managed_by: null, abstract: 'Résumé rédigé à la main' }]);
      // The suite's server (another process) serves the record's abstract as the layer's at once.
      const c = JSON.parse((await get(`${baseUrl()}/ogcapi/collections/region?f=json`)).body);
      expect(c.description).toBe('Résumé rédigé à la main');
    } finally {
      await db().query(`UPDATE sdi.layers SET abstract = $1, updated_at = now() WHERE name = 'region'`, [original]);
      const d = await post(tx(`<csw:Delete><csw:Constraint version="1.1.0"><csw:CqlText>identifier = '${id}'</csw:CqlText></csw:Constraint></csw:Delete>`), `Bearer ${TOKEN}`);
      expect(summary(d.body).deleted).toBe(1);
      // The Delete's own sync (services/catalogue/csw/transaction.ts) already wrote the generated record again.
      const report = await syncLayerRecords(db(), config);
      expect([...report.created, ...report.unchanged]).toContain(id);
    }
    const back = isoRecords((await byId(id)).body)[0]!;
    expect(back).not.toContain('Résumé rédigé à la main');
    const { rows } = await db().query(`SELECT m.managed_by FROM sdi.layers l JOIN sdi.metadata_records m ON m.id = l.metadata_record_id WHERE l.name = 'region'`);
    expect(rows).toEqual([{ managed_by: 'layer:region' }]);
  });
});

describe('OWSLib CatalogueServiceWeb.transaction()', () => {
  it('insert, update, delete with HTTP Basic credentials; refused without', async () => {
    expect(existsSync(PYTHON), `${PYTHON} (with python3-owslib) must exist`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'sdi-owslib-tx-'));
    const id = `${PREFIX}owslib-0001`;
    writeFileSync(join(dir, 'record.xml'), iso(id, 'Fiche OWSLib'));
    writeFileSync(join(dir, 'updated.xml'), iso(id, 'Fiche OWSLib modifiée'));
    const out = join(dir, 'report.json');
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONIOENCODING: 'utf-8' };
    for (const k of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY']) delete env[k];
    await new Promise<void>((resolve, reject) =>
      execFile(PYTHON, [join(import.meta.dirname, 'owslib_csw_transaction.py'), txUrl, 'admin', TOKEN, join(dir, 'record.xml'), join(dir, 'updated.xml'), id, out], { env, timeout: 120_000 }, (err, _o, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(),
      ),
    );
    const report = JSON.parse(readFileSync(out, 'utf8')) as { steps: Record<string, { result?: any; exception?: string; traceback?: string }> };
    const ok = (name: string) => {
      const s = report.steps[name]!;
      expect(s.exception, `${name}: ${s.traceback}`).toBeUndefined();
      return s.result;
    };
    // Without credentials OWSLib gets the 401 (as an HTTP error or as the exception report): nothing inserted.
    expect(report.steps['anonymousInsert']!.exception).toBeDefined();
    expect(ok('afterAnonymous')).toEqual({});
    expect(ok('insert')).toMatchObject({ response_inserted: 1, response_updated: 0, response_deleted: 0, insertresults: [id] });
    expect(ok('afterInsert')[id].title).toBe('Fiche OWSLib');
    expect(ok('update')).toMatchObject({ response_inserted: 0, response_updated: 1, response_deleted: 0 });
    expect(ok('afterUpdate')[id].title).toBe('Fiche OWSLib modifiée');
    expect(ok('delete')).toMatchObject({ response_inserted: 0, response_updated: 0, response_deleted: 1 });
    expect(ok('afterDelete')).toEqual({});
  });
});
