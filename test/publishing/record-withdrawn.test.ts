/**
 * Issue 10, "its record withdrawn or kept marked as withdrawn": DELETE /admin/layers/{name} and POST
 * /admin/layers/{name}/unpublish take record=withdraw (default: the generated record leaves the catalogue) or
 * record=keep-withdrawn: the ISO 19139 record stays in the catalogue (CSW 2.0.2 GetRecordById, OGC 07-006r1 §10.9,
 * read from the suite's server, another process) with MD_DataIdentification/status MD_ProgressCode "obsolete"
 * (ISO 19115 B.5.23), no online resource left, a newer dateStamp, still valid against the ISO 19139 schema; the
 * WFS service record no longer operates on it. Publishing the layer again makes it the layer's record again, with
 * its links and no obsolete status. Unknown values are 400 problem+json.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { baseUrl, db, get, xmllint } from '../helpers.js';
import { startServerProcess, type ServerProcess } from '../server-process.js';

const TOKEN = 'sdi-withdrawn-test-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
let admin: ServerProcess;

const api = (path: string, method = 'GET', body?: unknown) =>
  get(`${admin.base}/admin${path}`, { method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
const record = async (identifier: string) =>
  (await get(`${baseUrl()}/csw?service=CSW&version=2.0.2&request=GetRecordById&outputSchema=http://www.isotc211.org/2005/gmd&elementSetName=full&id=${encodeURIComponent(identifier)}`)).body;
const dateStamp = (xml: string) => /<gmd:dateStamp><gco:DateTime>([^<]+)</.exec(xml)?.[1];

async function publish(name: string): Promise<string> {
  const p = await api('/layers', 'POST', { name, table: `data.${name}`, title: `Sites ${name}`, abstract: 'Sites de test' });
  expect(p.status, p.body).toBe(201);
  return JSON.parse(p.body).metadataIdentifier as string;
}

beforeAll(async () => {
  for (const t of ['wd_keep', 'wd_drop']) {
    await db().query(`DELETE FROM sdi.layers WHERE name = $1`, [t]);
    await db().query(`DELETE FROM sdi.metadata_records WHERE managed_by = $1`, [`withdrawn:${t}`]);
    await db().query(`DROP TABLE IF EXISTS data.${t}`);
    await db().query(`CREATE TABLE data.${t} (fid integer PRIMARY KEY, nom text, geom geometry(Point, 2154))`);
    await db().query(`INSERT INTO data.${t} VALUES (1, 'Orléans', ST_SetSRID(ST_MakePoint(619000, 6754000), 2154))`);
  }
  admin = await startServerProcess({ DATABASE_URL: inject('databaseUrl'), SDI_DEMO: '0', SDI_ADMIN_TOKEN: TOKEN, SDI_HARVEST: '0', SDI_DOWNLOAD_WORKERS: '0' });
}, 120_000);

afterAll(async () => {
  admin?.stop();
  for (const t of ['wd_keep', 'wd_drop']) {
    await db().query(`DELETE FROM sdi.layers WHERE name = $1`, [t]);
    await db().query(`DELETE FROM sdi.metadata_records WHERE managed_by = $1`, [`withdrawn:${t}`]);
    await db().query(`DROP TABLE IF EXISTS data.${t}`);
  }
});

describe('record=withdraw|keep-withdrawn on unpublish and delete', () => {
  it('refuses an unknown value (400 problem+json), changing nothing', async () => {
    await publish('wd_keep');
    for (const r of [await api('/layers/wd_keep?record=archive', 'DELETE'), await api('/layers/wd_keep/unpublish?record=yes', 'POST')]) {
      expect(r.status).toBe(400);
      expect(r.type).toContain('problem+json');
      expect(JSON.parse(r.body).parameter).toBe('record');
    }
    expect(JSON.parse((await api('/layers/wd_keep')).body).published).toBe(true);
  });

  it('unpublish with keep-withdrawn: the record stays, obsolete, without links, valid ISO 19139 (ISO AP 1.0 schemas); publishing again restores it', async () => {
    const id = JSON.parse((await api('/layers/wd_keep')).body).metadataIdentifier as string;
    const before = await record(id);
    expect(before).toContain('<gmd:MD_Metadata');
    expect(before).toContain('<gmd:onLine>');
    expect(before).not.toContain('obsolete');
    // gco:DateTime has whole seconds: let one pass, so that the new dateStamp can be seen to be later.
    await new Promise((r) => setTimeout(r, 1100));
    const r = await api('/layers/wd_keep/unpublish?record=keep-withdrawn', 'POST');
    expect(r.status, r.body).toBe(200);
    // Gone from the services…
    expect((await get(`${baseUrl()}/ogcapi/collections/wd_keep`)).status).toBe(404);
    // …its record still in the catalogue, marked.
    const after = await record(id);
    expect(after).toContain('<gmd:status><gmd:MD_ProgressCode codeList="http://standards.iso.org/iso/19139/resources/gmxCodelists.xml#MD_ProgressCode" codeListValue="obsolete">obsolete</gmd:MD_ProgressCode></gmd:status>');
    expect(after).not.toContain('<gmd:onLine>');
    expect(after).not.toContain('/wfs?');
    expect(after).toContain('Sites wd_keep');
    expect(dateStamp(after)! > dateStamp(before)!).toBe(true);
    // With gmx (Anchor) and srv: the ISO AP 1.0 wrapper of gmd.xsd, gmx.xsd and srv.xsd.
    expect(xmllint(/<gmd:MD_Metadata[\s\S]*<\/gmd:MD_Metadata>/.exec(after)![0], 'csw/2.0.2/profiles/apiso/1.0.0/apiso.xsd').output).toContain('validates');
    // The WFS service record no longer operates on it.
    const wfsRecord = (await db().query(`SELECT document FROM sdi.metadata_records WHERE managed_by = 'service:wfs'`)).rows[0]?.document ?? '';
    expect(wfsRecord).not.toContain(id);
    // Published again: the layer's record again, with links, no obsolete status.
    expect((await api('/layers/wd_keep/publish', 'POST')).status).toBe(200);
    const again = await record(id);
    expect(again).toContain('<gmd:onLine>');
    expect(again).not.toContain('obsolete');
    expect((await db().query(`SELECT managed_by FROM sdi.metadata_records WHERE identifier = $1`, [id])).rows[0].managed_by).toBe('layer:wd_keep');
  });

  it('delete with keep-withdrawn keeps the record; delete by default withdraws it', async () => {
    const kept = JSON.parse((await api('/layers/wd_keep')).body).metadataIdentifier as string;
    const d = await api('/layers/wd_keep?record=keep-withdrawn', 'DELETE');
    expect(d.status, d.body).toBe(200);
    expect(JSON.parse(d.body)).toMatchObject({ name: 'wd_keep', record: kept, tableDropped: false });
    expect(await record(kept)).toContain('codeListValue="obsolete"');
    expect((await get(`${baseUrl()}/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAMES=sdi:wd_keep`)).status).toBeGreaterThanOrEqual(400);

    const gone = await publish('wd_drop');
    expect((await api('/layers/wd_drop', 'DELETE')).status).toBe(200);
    expect(await record(gone)).not.toContain('<gmd:MD_Metadata');
  });
});
