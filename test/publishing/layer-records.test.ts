/**
 * Issue 10, metadata that stays true: a layer's generated ISO 19139 record takes its fields from the layer's
 * metadata (ISO 19115 topic categories B.5.27, INSPIRE themes of the GEMET thesaurus, licence, originator and
 * point of contact: the INSPIRE / CNIG mandatory elements) and its facts from the data (extent, CRS, count,
 * attributes); it validates against the ISO 19139 XSD. Links are written with the configured public URL: a
 * server or CLI without BASE_URL rewrites none. A record edited through CSW-T (OGC 07-006r1 §10.11 Update)
 * keeps following its layer (extent, links, dateStamp) unless frozen, and its abstract reaches the layer.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { baseUrl, db, get, ROOT } from '../helpers.js';
import { startServerProcess, type ServerProcess } from '../server-process.js';
import { isoRecords, validateApiso } from '../catalogue/setup.js';

const TOKEN = 'sdi-layer-records-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
let admin: ServerProcess;
let identifier = '';

const api = (path: string, method = 'GET', body?: unknown) =>
  get(`${admin.base}/admin${path}`, { method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
const record = async () => {
  const r = await get(`${baseUrl()}/csw?service=CSW&version=2.0.2&request=GetRecordById&outputSchema=http://www.isotc211.org/2005/gmd&elementSetName=full&id=${encodeURIComponent(identifier)}`);
  return isoRecords(r.body)[0] ?? '';
};
const bbox = (doc: string) =>
  ['westBoundLongitude', 'eastBoundLongitude', 'southBoundLatitude', 'northBoundLatitude'].map((t) => Number(new RegExp(`<gmd:${t}><gco:Decimal>([^<]+)<`).exec(doc)?.[1]));
const managedDocuments = async () =>
  (await db().query<{ identifier: string; document: string }>(`SELECT identifier, document FROM sdi.metadata_records WHERE managed_by IS NOT NULL ORDER BY identifier`)).rows;

beforeAll(async () => {
  await db().query(`DELETE FROM sdi.layers WHERE name = 'lr_sites'`);
  await db().query(`DROP TABLE IF EXISTS data.lr_sites`);
  await db().query(`CREATE TABLE data.lr_sites (fid integer PRIMARY KEY, nom text, visite date, geom geometry(Point, 2154))`);
  await db().query(`INSERT INTO data.lr_sites VALUES (1, 'Orléans', '2026-05-01', 'SRID=2154;POINT(619000 6754000)'), (2, 'Tours', NULL, 'SRID=2154;POINT(525000 6701000)'),
                      (3, 'Blois', '2026-06-01', 'SRID=2154;POINT(572000 6723000)')`);
  await db().query(`ANALYZE data.lr_sites`);
  // No BASE_URL: this process must not write its own address into the records.
  admin = await startServerProcess({ DATABASE_URL: inject('databaseUrl'), SDI_DEMO: '0', SDI_ADMIN_TOKEN: TOKEN, SDI_HARVEST: '0', SDI_DOWNLOAD_WORKERS: '0' });
}, 120_000);

afterAll(async () => {
  admin?.stop();
  await db().query(`DELETE FROM sdi.layers WHERE name = 'lr_sites'`);
  await db().query(`DROP TABLE IF EXISTS data.lr_sites`);
  await db().query(`DELETE FROM sdi.metadata_records WHERE identifier = $1`, [identifier]);
});

describe('the generated record', () => {
  it("carries the layer's metadata (INSPIRE / CNIG elements) and the data's facts, and validates against ISO 19139 (gmd + gmx, the ISO AP schema)", async () => {
    const r = await api('/layers', 'POST', {
      name: 'lr_sites', table: 'data.lr_sites', title: 'Sites visités', abstract: 'Sites du Val de Loire visités en 2026.', keywords: ['patrimoine'],
      topicCategories: ['society', 'structure'], inspireThemes: ['ps'], licence: 'https://www.etalab.gouv.fr/licence-ouverte-open-licence',
      producer: { organisation: 'Agglomération de Blois', email: 'sig@agglo-blois.fr' }, contact: { organisation: 'Service SIG régional', individual: 'Camille Martin', email: 'sig@region-centre.fr' },
      attributeAliases: { nom: 'Nom du site' },
    });
    expect(r.status, r.body).toBe(201);
    identifier = JSON.parse(r.body).metadataIdentifier;
    const doc = await record();
    const v = validateApiso(doc);
    expect(v.ok, v.output).toBe(true);
    expect(doc).toContain('<gmd:MD_TopicCategoryCode>society</gmd:MD_TopicCategoryCode>');
    expect(doc).toContain('<gmd:MD_TopicCategoryCode>structure</gmd:MD_TopicCategoryCode>');
    expect(doc).toContain('<gmx:Anchor xlink:href="http://inspire.ec.europa.eu/theme/ps">Sites protégés</gmx:Anchor>');
    expect(doc).toContain('<gmd:otherConstraints><gmx:Anchor xlink:href="https://www.etalab.gouv.fr/licence-ouverte-open-licence">');
    expect(doc).toMatch(/Agglomération de Blois<\/gco:CharacterString><\/gmd:organisationName>.*sig@agglo-blois\.fr.*codeListValue="originator"/);
    expect(doc).toMatch(/<gmd:individualName><gco:CharacterString>Camille Martin<\/gco:CharacterString><\/gmd:individualName>.*codeListValue="pointOfContact"/);
    expect(doc).toContain('Nombre d’objets : 3.');
    expect(doc).toContain('nom (text, « Nom du site »), visite (date)');
    expect(doc).toContain('>EPSG:2154</gmx:Anchor>');
    const [w, e, s, n] = bbox(doc);
    expect([w! <= 0.66, e! >= 1.92, s! <= 47.39, n! >= 47.88]).toEqual([true, true, true, true]);
    // Links: the suite's public URL (the first server's), never this admin process's address.
    expect(doc).toContain(`<gmd:URL>${baseUrl()}/wfs?service=WFS&amp;version=2.0.0&amp;request=GetCapabilities</gmd:URL>`);
    expect(doc).not.toContain(admin.base);
  });

  it('a raster layer gets its record too (grid, GeoTIFF / COG through its Atom feed), coupled with the Atom service', async () => {
    const { rows } = await db().query<{ name: string; identifier: string }>(
      `SELECT r.name, m.identifier FROM sdi.raster_layers r JOIN sdi.metadata_records m ON m.id = r.metadata_record_id WHERE r.published ORDER BY r.name LIMIT 1`);
    expect(rows.length).toBe(1);
    const r = await get(`${baseUrl()}/csw?service=CSW&version=2.0.2&request=GetRecordById&outputSchema=http://www.isotc211.org/2005/gmd&elementSetName=full&id=${rows[0]!.identifier}`);
    const doc = isoRecords(r.body)[0]!;
    const v = validateApiso(doc);
    expect(v.ok, v.output).toBe(true);
    expect(doc).toContain('codeListValue="grid"');
    expect(doc).toContain(`<gmd:URL>${baseUrl()}/download/atom/${rows[0]!.name}.xml</gmd:URL>`);
    expect(doc).toMatch(/Raster de \d+ × \d+ pixels/);
    const atom = await db().query(`SELECT operates_on FROM sdi.metadata_records WHERE managed_by = 'service:atom'`);
    expect(atom.rows[0].operates_on).toContain(rows[0]!.identifier);
    // The feed links the record back.
    expect((await get(`${baseUrl()}/download/atom/${rows[0]!.name}.xml`)).body).toContain(rows[0]!.identifier);
  });

  it('a CLI run without BASE_URL nor identity settings rewrites no record (the defect of issue 10: every link moved to its address)', async () => {
    const before = await managedDocuments();
    const env = { ...process.env, DATABASE_URL: inject('databaseUrl'), PORT: '1', HOST: '127.0.0.9' };
    // Nor does one without the platform's identity (the run's processes have SDI_CONTACT_EMAIL, SDI_PROVIDER_SITE).
    for (const k of ['BASE_URL', 'SDI_CONTACT_EMAIL', 'SDI_PROVIDER_SITE']) delete env[k];
    const out = spawnSync(process.execPath, [join(ROOT, 'dist/app/cli.js'), 'records'], { env, encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    expect(await managedDocuments()).toEqual(before);
    expect(before.some((d) => d.document.includes('127.0.0.9'))).toBe(false);
  });
});

describe('a record edited through CSW-T', () => {
  const tx = (inner: string) => `<csw:Transaction xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2">${inner}</csw:Transaction>`;

  it('keeps following the layer: extent and links corrected, its abstract served by WFS and OGC API of another process', async () => {
    const generated = await record();
    const edited = generated
      .replace(/<gmd:abstract><gco:CharacterString>[^<]*</, '<gmd:abstract><gco:CharacterString>Résumé rédigé par le producteur<')
      .replace(/<gmd:westBoundLongitude><gco:Decimal>[^<]+</, '<gmd:westBoundLongitude><gco:Decimal>-5.00<')
      .replace(/(<gmd:URL>)[^<]*?(\/(wfs|ogcapi|download)[^<]*<\/gmd:URL>)/g, '$1http://old-host.invalid:8080$2');
    const r = await get(`${admin.base}/csw`, { method: 'POST', headers: { ...auth, 'content-type': 'application/xml' }, body: tx(`<csw:Update>${edited}</csw:Update>`) });
    expect(r.body).toContain('<csw:totalUpdated>1</csw:totalUpdated>');
    const doc = await record();
    expect(doc).toContain('Résumé rédigé par le producteur');
    expect(bbox(doc)[0]).toBe(bbox(generated)[0]);
    expect(doc).not.toContain('old-host.invalid');
    // The OGC API landing page (the collection is named in gmd:name) and the whole-layer files (issue 12).
    expect(doc).toContain(`<gmd:URL>${baseUrl()}/ogcapi</gmd:URL>`);
    expect(doc).toContain(`<gmd:URL>${baseUrl()}/download/atom/files/lr_sites/geojson/4326</gmd:URL>`);
    const { rows } = await db().query(`SELECT m.managed_by FROM sdi.layers l JOIN sdi.metadata_records m ON m.id = l.metadata_record_id WHERE l.name = 'lr_sites'`);
    expect(rows).toEqual([{ managed_by: null }]);
    expect(JSON.parse((await get(`${baseUrl()}/ogcapi/collections/lr_sites?f=json`)).body).description).toBe('Résumé rédigé par le producteur');
    expect((await get(`${baseUrl()}/wfs?service=WFS&version=2.0.0&request=GetCapabilities&sections=FeatureTypeList`)).body).toContain('<wfs:Abstract>Résumé rédigé par le producteur</wfs:Abstract>');
  });

  it('follows new data (extent, dateStamp) and a later edit of the layer; frozen, it is left as written', async () => {
    const stamp = (d: string) => /<gmd:dateStamp><gco:DateTime>([^<]+)</.exec(d)?.[1];
    const before = await record();
    await db().query(`INSERT INTO data.lr_sites VALUES (4, 'Paris', NULL, 'SRID=2154;POINT(652000 6862000)')`);
    await db().query(`ANALYZE data.lr_sites`);
    await new Promise((r) => setTimeout(r, 1100)); // dateStamps are written to the second
    expect((await api('/layers/lr_sites', 'PATCH', { title: 'Sites visités et Paris' })).status).toBe(200);
    const after = await record();
    expect(bbox(after)[3]).toBeGreaterThan(48.8);
    expect(after).toContain('Sites visités et Paris');
    expect(after).toContain('Résumé rédigé par le producteur');
    expect(stamp(after)! > stamp(before)!).toBe(true);

    expect(JSON.parse((await api('/layers/lr_sites', 'PATCH', { recordFrozen: true })).body).recordFrozen).toBe(true);
    const frozen = await record();
    await db().query(`INSERT INTO data.lr_sites VALUES (5, 'Lille', NULL, 'SRID=2154;POINT(704000 7059000)')`);
    await db().query(`ANALYZE data.lr_sites`);
    expect((await api('/layers/lr_sites', 'PATCH', { keywords: ['patrimoine', 'nord'] })).status).toBe(200);
    expect(await record()).toBe(frozen);
  });
});

describe('a record edited through the admin API', () => {
  const put = (xml: string, type = 'application/xml') => get(`${admin.base}/admin/layers/lr_sites/record`, { method: 'PUT', headers: { ...auth, 'content-type': type }, body: xml });

  it('PUT replaces it (same fileIdentifier), it follows the layer; DELETE gives back the generated one', async () => {
    expect((await api('/layers/lr_sites', 'PATCH', { recordFrozen: false })).status).toBe(200);
    const current = await api('/layers/lr_sites/record');
    expect(current.status).toBe(200);
    expect(current.type).toContain('application/xml');
    const edited = current.body
      .replace(/<gmd:abstract><gco:CharacterString>[^<]*</, '<gmd:abstract><gco:CharacterString>Résumé saisi dans l’administration<')
      .replace(/<gmd:northBoundLatitude><gco:Decimal>[^<]+</, '<gmd:northBoundLatitude><gco:Decimal>10.00<');
    const r = await put(edited);
    expect(r.status, r.body).toBe(200);
    expect(r.headers.get('x-record-generated')).toBe('false');
    expect(r.body).toContain('Résumé saisi dans l’administration');
    expect(bbox(r.body)[3]).toBeGreaterThan(50); // followed: Lille is in the data
    expect(await record()).toBe(r.body);
    expect(JSON.parse((await get(`${baseUrl()}/ogcapi/collections/lr_sites?f=json`)).body).description).toBe('Résumé saisi dans l’administration');

    expect((await put(edited.replace(identifier, 'another-identifier'))).status).toBe(422);
    expect((await put('<gmd:MD_Metadata')).status).toBe(400);
    expect((await put(edited, 'text/plain')).status).toBe(415);

    const back = await api('/layers/lr_sites/record', 'DELETE');
    expect(back.status, back.body).toBe(200);
    expect(back.headers.get('x-record-generated')).toBe('true');
    expect(back.body).toContain('Résumé saisi dans l’administration'); // the layer kept the abstract it took
  });
});

describe('raster layers in the admin API', () => {
  it('lists, edits the metadata of (into its record), unpublishes and publishes again a raster layer', async () => {
    const { rows } = await db().query<{ name: string; abstract: string }>(`SELECT name, abstract FROM sdi.raster_layers WHERE published ORDER BY name LIMIT 1`);
    const name = rows[0]!.name;
    const layers = JSON.parse((await api('/layers')).body).layers as Array<{ name: string; kind: string }>;
    expect(layers.find((l) => l.name === name)).toMatchObject({ kind: 'raster' });
    try {
      expect((await api(`/layers/${name}`, 'PATCH', { idColumn: 'fid' })).status).toBe(400);
      const r = await api(`/layers/${name}`, 'PATCH', { abstract: 'Densité de population, grille de 25 m.', topicCategories: ['society'], inspireThemes: ['pd'] });
      expect(r.status, r.body).toBe(200);
      const { metadataIdentifier } = JSON.parse(r.body);
      const doc = isoRecords((await get(`${baseUrl()}/csw?service=CSW&version=2.0.2&request=GetRecordById&outputSchema=http://www.isotc211.org/2005/gmd&elementSetName=full&id=${metadataIdentifier}`)).body)[0]!;
      expect(doc).toContain('Densité de population, grille de 25 m.');
      expect(doc).toContain('<gmd:MD_TopicCategoryCode>society</gmd:MD_TopicCategoryCode>');
      expect(doc).toContain('http://inspire.ec.europa.eu/theme/pd');

      expect(JSON.parse((await api(`/layers/${name}/unpublish`, 'POST')).body)).toMatchObject({ published: false, metadataIdentifier: null });
      expect((await get(`${baseUrl()}/download/atom/${name}.xml`)).status).toBe(404);
      expect((await db().query(`SELECT 1 FROM sdi.metadata_records WHERE identifier = $1`, [metadataIdentifier])).rowCount).toBe(0);
      expect(JSON.parse((await api(`/layers/${name}/publish`, 'POST')).body)).toMatchObject({ published: true, metadataIdentifier });
      expect((await get(`${baseUrl()}/download/atom/${name}.xml`)).status).toBe(200);
      expect((await api(`/layers/${name}?dropTable=true`, 'DELETE')).status).toBe(400);
    } finally {
      await api(`/layers/${name}/publish`, 'POST');
      await api(`/layers/${name}`, 'PATCH', { abstract: rows[0]!.abstract, topicCategories: [], inspireThemes: [] });
    }
  });
});
