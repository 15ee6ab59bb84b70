/**
 * Issue 10, attribute aliases: set by PATCH /admin/layers/{name} (attributeAliases) through the admin's own server
 * process, shown at once by the suite's server (another process):
 *  - WFS 2.0 DescribeFeatureType (OGC 09-025r2 §9): the property element carries xs:annotation/xs:documentation
 *    (XML Schema Part 1 §3.13) with the alias, as GeoServer writes descriptions; the schema still validates the
 *    layer's GetFeature answer (xmllint against the local GML 3.2.1 and WFS 2.0 schemas);
 *  - OGC API – Features /collections/{id}/schema (Part 5, OGC 23-058) and /queryables (Part 3, OGC 19-079r2 §6.2):
 *    the property's `title`, linked from the collection;
 *  - WMS 1.3.0 GetFeatureInfo text/html (OGC 06-042 §7.4): the alias heads the attribute's column.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { baseUrl, db, get, localApplicationSchema, xmllint } from '../helpers.js';
import { startServerProcess, type ServerProcess } from '../server-process.js';

const TOKEN = 'sdi-alias-test-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
let admin: ServerProcess;
const ALIASES = { nom: 'Nom de la commune', pop: 'Population « 2023 » & <estimée>' };

const api = (path: string, method = 'GET', body?: unknown) =>
  get(`${admin.base}/admin${path}`, { method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });

beforeAll(async () => {
  await db().query(`DELETE FROM sdi.layers WHERE name = 'al_sites'`);
  await db().query(`DROP TABLE IF EXISTS data.al_sites`);
  await db().query(`CREATE TABLE data.al_sites (fid integer PRIMARY KEY, nom text, pop integer, code text, geom geometry(Point, 2154))`);
  await db().query(`INSERT INTO data.al_sites VALUES (1, 'Orléans', 116000, 'A', ST_SetSRID(ST_MakePoint(619000, 6754000), 2154))`);
  admin = await startServerProcess({ DATABASE_URL: inject('databaseUrl'), SDI_DEMO: '0', SDI_ADMIN_TOKEN: TOKEN, SDI_HARVEST: '0', SDI_DOWNLOAD_WORKERS: '0' });
  const p = await api('/layers', 'POST', { name: 'al_sites', table: 'data.al_sites', title: 'Sites' });
  expect(p.status, p.body).toBe(201);
  const r = await api('/layers/al_sites', 'PATCH', { attributeAliases: ALIASES });
  expect(r.status, r.body).toBe(200);
  expect(JSON.parse(r.body).attributeAliases).toEqual(ALIASES);
}, 120_000);

afterAll(async () => {
  admin?.stop();
  await db().query(`DELETE FROM sdi.layers WHERE name = 'al_sites'`);
  await db().query(`DROP TABLE IF EXISTS data.al_sites`);
});

describe('attribute aliases reach every service at once', () => {
  it('WFS 2.0 DescribeFeatureType: xs:annotation/xs:documentation with the alias; the schema validates GetFeature (09-025r2 §9)', async () => {
    const r = await get(`${baseUrl()}/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAMES=sdi:al_sites`);
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/<xs:element name="nom" [^>]*><xs:annotation><xs:documentation>Nom de la commune<\/xs:documentation><\/xs:annotation><\/xs:element>/);
    expect(r.body).toContain('<xs:documentation>Population « 2023 » &amp; &lt;estimée&gt;</xs:documentation>');
    expect(r.body).toMatch(/<xs:element name="code" [^>]*\/>/); // no alias: as before
    const xsd = localApplicationSchema(r.body);
    const gf = await get(`${baseUrl()}/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:al_sites`);
    expect(gf.status).toBe(200);
    const ns = /targetNamespace="([^"]+)"/.exec(r.body)![1]!;
    const v = xmllint(gf.body, 'wfs/2.0/wfs.xsd', [{ ns, xsd }]);
    expect(v.output).toContain('validates');
  });

  it('OGC API /collections/{id}/schema and /queryables: the alias as the property title (Part 5, Part 3 §6.2)', async () => {
    const c = JSON.parse((await get(`${baseUrl()}/ogcapi/collections/al_sites`)).body);
    const rels = c.links.map((l: { rel: string }) => l.rel);
    expect(rels).toContain('http://www.opengis.net/def/rel/ogc/1.0/schema');
    expect(rels).toContain('http://www.opengis.net/def/rel/ogc/1.0/queryables');
    const s = await get(`${baseUrl()}/ogcapi/collections/al_sites/schema`);
    expect(s.status).toBe(200);
    expect(s.type).toContain('application/schema+json');
    const schema = JSON.parse(s.body);
    expect(schema).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', title: 'Sites' });
    expect(schema.properties.nom).toMatchObject({ title: 'Nom de la commune', type: 'string' });
    expect(schema.properties.pop).toMatchObject({ title: ALIASES.pop, type: 'integer' });
    expect(schema.properties.code).toEqual({ title: 'code', type: 'string' });
    expect(schema.properties.fid['x-ogc-role']).toBe('id');
    expect(schema.properties.geom).toMatchObject({ format: 'geometry-point', 'x-ogc-role': 'primary-geometry' });
    const q = JSON.parse((await get(`${baseUrl()}/ogcapi/collections/al_sites/queryables`)).body);
    expect(q.additionalProperties).toBe(false);
    expect(q.properties.nom.title).toBe('Nom de la commune');
    // Unknown parameters refused, unknown collections 404, both problem+json.
    const bad = await get(`${baseUrl()}/ogcapi/collections/al_sites/schema?foo=1`);
    expect([bad.status, bad.type]).toEqual([400, expect.stringContaining('problem+json')]);
    expect((await get(`${baseUrl()}/ogcapi/collections/nope/queryables`)).status).toBe(404);
  });

  it('WMS GetFeatureInfo text/html: the alias heads the column (06-042 §7.4.3)', async () => {
    const r = await get(`${baseUrl()}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=al_sites&QUERY_LAYERS=al_sites&STYLES=&CRS=EPSG:2154&BBOX=618900,6753900,619100,6754100&WIDTH=101&HEIGHT=101&I=50&J=50&INFO_FORMAT=text/html`);
    expect(r.status, r.body).toBe(200);
    expect(r.body).toContain('<th title="nom">Nom de la commune</th>');
    expect(r.body).toContain('<th title="pop">Population « 2023 » &amp; &lt;estimée&gt;</th>');
    expect(r.body).toContain('<th>code</th>');
    expect(r.body).toContain('<td>Orléans</td>');
  });

  it('removing the aliases puts the names back', async () => {
    expect((await api('/layers/al_sites', 'PATCH', { attributeAliases: {} })).status).toBe(200);
    const r = await get(`${baseUrl()}/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAMES=sdi:al_sites`);
    expect(r.body).not.toContain('xs:annotation');
    expect(JSON.parse((await get(`${baseUrl()}/ogcapi/collections/al_sites/schema`)).body).properties.nom.title).toBe('nom');
  });
});
