/**
 * ISO 19139 reading and storage: queryables extracted from the real fixture records (values checked
 * against the files), element sets that stay schema-valid, idempotent loading, replacement by identifier,
 * and the accent-insensitive French full-text index in PostGIS.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { db, get } from '../helpers.js';
import { parseRecord } from '../../src/metadata/store.js';
import { upsertRecord } from '../../src/records/repository.js';
import { FIXTURES, GMD, VARIANT, cswUrl, fixtureIdentifiers, isoRecords, loadFixtures, validateApiso } from './setup.js';

const file = (name: string) => readFileSync(join(FIXTURES, name));

beforeAll(async () => {
  expect((await loadFixtures()).failed).toEqual([]);
});

describe('ISO 19139 queryables', () => {
  it('every fixture parses, under the fileIdentifier written in the file', () => {
    const ids = fixtureIdentifiers();
    expect(ids.size).toBe(13);
    for (const [id, f] of ids) expect(parseRecord(file(f)).identifier).toBe(id);
  });

  it('Géo-IDE PLU: RS_Identifier code + codeSpace, swapped west/east put back in order, INSPIRE texts, licence, dates', () => {
    const r = parseRecord(file('udata-geoide-fr-120066022-ldd-777b1c6b-36a7-4650-befa-e4be638cd694.xml'));
    expect(r.title).toBe("Plan local d'urbanisme de la commune de Flesselles");
    expect(r.type).toBe('dataset');
    expect(r.language).toBe('fre');
    expect(r.resourceIdentifiers).toEqual([{ code: 'fr-120066022-orphan-residentifier-6cf6120b-678c-41f1-aaa5-dccbb8efdafd', codeSpace: 'http://catalogue.geo-ide.developpement-durable.gouv.fr' }]);
    // The file says west 3.28133559, east 1.31279111 (swapped).
    expect(r.boxes).toEqual([{ west: 1.31279111, east: 3.28133559, south: 49.38547516, north: 50.48188019 }]);
    expect(r.otherConstraints).toContain("Pas de restriction d'accès public selon INSPIRE");
    expect(r.licences).toEqual(['Licence Ouverte 1.0 http://www.data.gouv.fr/Licence-Ouverte-Open-Licence.']);
    expect(r.dateStamp).toBe('2019-03-25T22:58:02.431+01:00');
    expect(r.creationDate).toBe('2000-02-04');
    expect(r.publicationDate).toBe('2017-10-07');
    expect(r.organisations).toEqual(['DDTM 80 (Direction Départementale des Territoires et de la Mer de la Somme)']);
    expect(r.keywords).toContain('flesselles');
    expect(r.links.some((l) => l.protocol === 'WWW:DOWNLOAD-1.0-http--download' && l.name === 'Vue XML des métadonnées')).toBe(true);
  });

  it('the Combles variant writes its resource identifier as an MD_Identifier URI', () => {
    const r = parseRecord(file(VARIANT));
    expect(r.identifier).toBe('fr-120066022-ldd-3f4cc8c8-5c3e-4a0e-8b56-0a569a7e12f6');
    expect(r.resourceIdentifiers).toEqual([{ code: 'http://catalogue.geo-ide.developpement-durable.gouv.fr/fr-120066022-orphan-residentifier-c46794fd-005d-499a-9a9b-0627761d31a4' }]);
  });

  it('CNIG BD TOPO: series, nine boxes (metropole and overseas), EPSG anchors, Anchor WFS protocol → OGC:WFS, conformity degree', () => {
    const r = parseRecord(file('cnig-conforme-IGNF_BDTOPOr_3.xml'));
    expect(r.type).toBe('series');
    expect(r.boxes).toHaveLength(9);
    expect(r.boxes[0]).toEqual({ west: -5.15, east: 9.57, south: 41.32, north: 51.1 });
    expect(r.crs).toContain('http://www.opengis.net/def/crs/EPSG/0/2154');
    expect(r.geographicDescriptionCodes).toEqual(['FXX', 'GLP', 'GUF', 'MTQ', 'MYT', 'REU', 'BLM', 'MAF', 'SPM']);
    expect(r.links).toEqual([
      expect.objectContaining({ url: 'https://data.geopf.fr/wfs?service=WFS&version=2.0.0&request=GetCapabilities', protocolHref: 'http://www.opengis.net/def/serviceType/ogc/wfs', protocol: 'OGC Web Feature Service', scheme: 'OGC:WFS' }),
    ]);
    expect(r.specifications).toEqual([expect.objectContaining({ degree: 'true', date: '2010-12-08', dateType: 'publication' })]);
    expect(r.specifications[0]!.title).toMatch(/^Commission Regulation \(EU\) No 1089\/2010/);
    expect(r.hasSecurityConstraints).toBe(true);
    expect(r.classification).toEqual(['unclassified']);
  });

  it('services: serviceType, versions, operations, operatesOn (uuidref) and coupled resources', () => {
    const r = parseRecord(file('owslib-service-wfs-ldbv-bayern.xml'));
    expect(r.type).toBe('service');
    expect(r.serviceType).toBe('download');
    expect(r.serviceTypeVersions).toEqual(['OGC:WFS 2.0']);
    expect(r.operations).toEqual(['GetCapabilities', 'DescribeFeatureType', 'GetFeature', 'GetPropertyValue', 'ListStoredQueries', 'DescribeStoredQueries']);
    expect(r.operatesOn).toEqual(['083f524b-7474-4e05-a937-1bac657f0344']);
    expect(r.language).toBe('ger');
    const gp = parseRecord(file('cnig-conforme-IGNF_GP_Itineraire.xml'));
    expect(gp.type).toBe('service');
    expect(gp.couplingType).toBe('lose'); // as written in the file
  });

  it('"eng; CAN" normalises to eng; no hierarchyLevel means dataset; the XML declaration is not stored', () => {
    const r = parseRecord(file('owslib-service-environment-canada-latin1.xml'));
    expect(r.language).toBe('eng');
    expect(r.type).toBe('dataset');
    expect(r.document.startsWith('<?xml')).toBe(false);
  });

  it('a record in ISO-8859-1 is decoded by its XML declaration', () => {
    // The "latin1" fixture is in fact plain ASCII: build one with accents, encoded as it declares.
    const text = `<?xml version="1.0" encoding="ISO-8859-1"?>
<gmd:MD_Metadata xmlns:gmd="${GMD}" xmlns:gco="http://www.isotc211.org/2005/gco"><gmd:fileIdentifier><gco:CharacterString>latin1-test</gco:CharacterString></gmd:fileIdentifier>
<gmd:identificationInfo><gmd:MD_DataIdentification><gmd:citation><gmd:CI_Citation><gmd:title><gco:CharacterString>Périmètres des zones à risque (Indre-et-Loire), façades</gco:CharacterString></gmd:title></gmd:CI_Citation></gmd:citation>
<gmd:abstract><gco:CharacterString>Données départementales</gco:CharacterString></gmd:abstract></gmd:MD_DataIdentification></gmd:identificationInfo></gmd:MD_Metadata>`;
    const bytes = Buffer.from(text, 'latin1');
    expect(bytes.includes(Buffer.from('é', 'utf8'))).toBe(false);
    const r = parseRecord(bytes);
    expect(r.title).toBe('Périmètres des zones à risque (Indre-et-Loire), façades');
    expect(r.abstract).toBe('Données départementales');
  });

  it('brief and summary element sets of every fixture stay valid ISO 19139 and keep the date stamp', () => {
    for (const f of readdirSync(FIXTURES).filter((x) => x.endsWith('.xml'))) {
      const r = parseRecord(file(f));
      for (const set of [r.isoBrief!, r.isoSummary!]) {
        expect(validateApiso(set).output, `${f}`).toContain('validates');
        expect(set).toContain('<gmd:dateStamp>');
        expect(set).toContain(`<gco:CharacterString>${r.identifier}</gco:CharacterString>`);
      }
      expect(r.isoBrief!.length).toBeLessThan(r.isoSummary!.length);
      expect(r.isoBrief).not.toContain('<gmd:distributionInfo>');
    }
  });
});

describe('storage', () => {
  it('loading twice changes nothing; an unchanged document keeps its updated_at', async () => {
    const before = await db().query(`SELECT identifier, updated_at FROM sdi.metadata_records ORDER BY identifier`);
    const again = await loadFixtures();
    expect(again.created.length + again.updated.length).toBe(0);
    const after = await db().query(`SELECT identifier, updated_at FROM sdi.metadata_records ORDER BY identifier`);
    expect(after.rows).toEqual(before.rows);
  });

  it('a new document under the same fileIdentifier replaces the record, and the CSW answers the new content', async () => {
    const id = 'fr-120066022-ldd-3f4cc8c8-5c3e-4a0e-8b56-0a569a7e12f6';
    const original = parseRecord(file('udata-geoide-fr-120066022-ldd-3f4cc8c8-5c3e-4a0e-8b56-0a569a7e12f6.xml'));
    try {
      const res = await upsertRecord(db(), parseRecord(file(VARIANT)));
      expect(res.outcome).toBe('updated');
      const { rows } = await db().query(`SELECT count(*)::int AS n, min(resource_identifier_codes[1]) AS code FROM sdi.metadata_records WHERE identifier = $1`, [id]);
      expect(rows[0]).toEqual({ n: 1, code: 'http://catalogue.geo-ide.developpement-durable.gouv.fr/fr-120066022-orphan-residentifier-c46794fd-005d-499a-9a9b-0627761d31a4' });
      const r = await get(cswUrl(`service=CSW&version=2.0.2&request=GetRecordById&outputSchema=${encodeURIComponent(GMD)}&elementSetName=full&id=${id}`));
      expect(isoRecords(r.body)[0]).toContain('<gmd:MD_Identifier>');
    } finally {
      expect((await upsertRecord(db(), original)).outcome).toBe('updated');
    }
    const { rows } = await db().query(`SELECT resource_identifier_codes FROM sdi.metadata_records WHERE identifier = $1`, [id]);
    expect(rows[0].resource_identifier_codes[0]).toBe('fr-120066022-orphan-residentifier-c46794fd-005d-499a-9a9b-0627761d31a4');
  });

  it('full text ignores case and accents and stems French: "departement" finds "Département", "cadastre" finds "cadastrale"', async () => {
    const q = (text: string, prefix = false) => db().query<{ identifier: string }>(`SELECT identifier FROM sdi.metadata_records WHERE anytext_tsv @@ sdi.anytext_query($1, $2) ORDER BY 1`, [text, prefix]);
    const dep = (await q('departement')).rows.map((r) => r.identifier);
    const written = (await db().query<{ identifier: string }>(`SELECT identifier FROM sdi.metadata_records WHERE anytext ~* 'départements?\\M' ORDER BY 1`)).rows.map((r) => r.identifier);
    expect(written.length).toBeGreaterThan(0);
    for (const id of written) expect(dep).toContain(id);
    expect((await q('DÉPARTEMENTS')).rows).toEqual((await q('departement')).rows);
    const cad = (await q('cadastre', true)).rows.map((r) => r.identifier);
    const cadastrale = (await db().query<{ identifier: string }>(`SELECT identifier FROM sdi.metadata_records WHERE anytext ~* '\\mcadastrale' ORDER BY 1`)).rows.map((r) => r.identifier);
    for (const id of cadastrale) expect(cad).toContain(id);
    // The GIN index can serve the query (with a handful of rows the planner would rather scan: forbid it).
    const c = await db().connect();
    try {
      await c.query('BEGIN');
      await c.query('SET LOCAL enable_seqscan = off');
      const plan = await c.query(`EXPLAIN SELECT identifier FROM sdi.metadata_records r WHERE r.anytext_tsv @@ sdi.anytext_query('cadastre', true)`);
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('metadata_records_anytext_idx');
    } finally {
      await c.query('ROLLBACK');
      c.release();
    }
  });
});
