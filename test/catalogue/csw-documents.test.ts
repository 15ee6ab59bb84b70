/**
 * CSW documents: GetCapabilities, GetRecords (Dublin Core and ISO, every element set), GetRecordById,
 * DescribeRecord and GetDomain validate against the official schemas (xmllint --nonet, shared/schemas-ogc-local)
 * and carry what the clients read, compared with the fixture files and the database.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { db, get } from '../helpers.js';
import {
  CSW,
  FIXTURES,
  GMD,
  allIdentifiers,
  cswUrl,
  fixtureIdentifiers,
  isoRecords,
  loadFixtures,
  postCsw,
  recordIds,
  searchResults,
  validateApiso,
  validateCapabilities,
  validateCsw,
  validateGmd,
} from './setup.js';

const GEOBRETAGNE = '955c3e47-411e-4969-b61b-3556d1b9f879';
const BDTOPO = 'IGNF_BDTOPOr_3.xml';
const BAYERN = '01ef8e6a-df59-4c2d-8468-79da95046705';

let total = 0;

beforeAll(async () => {
  const report = await loadFixtures();
  expect(report.failed).toEqual([]);
  // A second load changes nothing (idempotent loader).
  const again = await loadFixtures();
  expect(again.created).toEqual([]);
  expect(again.updated).toEqual([]);
  expect(again.unchanged.sort()).toEqual([...fixtureIdentifiers().keys()].sort());
  total = (await allIdentifiers()).length;
  expect(total).toBeGreaterThanOrEqual(13);
});

describe('GetCapabilities', () => {
  it('validates, advertises absolute hrefs, output schemas, type names, constraint languages and the ISO/INSPIRE queryables', async () => {
    const r = await get(cswUrl('service=CSW&version=2.0.2&request=GetCapabilities'));
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/xml/);
    const v = validateCapabilities(r.body);
    expect(v.output).toContain('validates');
    expect(r.body).toMatch(/<csw:Capabilities version="2\.0\.2"/);
    for (const op of ['GetCapabilities', 'DescribeRecord', 'GetRecords', 'GetRecordById', 'GetDomain']) {
      expect(r.body).toMatch(new RegExp(`<ows:Operation name="${op}"><ows:DCP><ows:HTTP><ows:Get xlink:href="http://127\\.0\\.0\\.1:\\d+/csw"/><ows:Post xlink:href="http://127\\.0\\.0\\.1:\\d+/csw"/>`));
    }
    const getRecords = /<ows:Operation name="GetRecords">([\s\S]*?)<\/ows:Operation>/.exec(r.body)![1]!;
    const values = (name: string, kind = 'Parameter') => [...(new RegExp(`<ows:${kind} name="${name}">([\\s\\S]*?)</ows:${kind}>`).exec(getRecords)?.[1] ?? '').matchAll(/<ows:Value>([^<]*)<\/ows:Value>/g)].map((m) => m[1]);
    expect(values('outputSchema')).toEqual([CSW, GMD, 'http://www.w3.org/ns/dcat#', 'http://data.europa.eu/930/', 'http://www.w3.org/2005/Atom']);
    expect(values('typeNames')).toEqual(['csw:Record', 'gmd:MD_Metadata']);
    expect(values('CONSTRAINTLANGUAGE')).toEqual(['FILTER', 'CQL_TEXT']);
    expect(values('SupportedISOQueryables', 'Constraint')).toContain('Language');
    // The INSPIRE validator compares these ten names exactly, without prefix.
    for (const q of ['Degree', 'SpecificationTitle', 'SpecificationDate', 'SpecificationDateType', 'AccessConstraints', 'OtherConstraints', 'Classification', 'ConditionApplyingToAccessAndUse', 'Lineage', 'ResponsiblePartyRole']) {
      expect(values('AdditionalQueryables', 'Constraint')).toContain(q);
    }
    expect(r.body).toContain('<inspire_ds:ExtendedCapabilities>');
    expect(r.body).toContain('<inspire_common:SupportedLanguages><inspire_common:DefaultLanguage><inspire_common:Language>fre</inspire_common:Language></inspire_common:DefaultLanguage><inspire_common:SupportedLanguage><inspire_common:Language>eng</inspire_common:Language></inspire_common:SupportedLanguage></inspire_common:SupportedLanguages>');
    expect(r.body).toContain('<inspire_common:ResponseLanguage><inspire_common:Language>fre</inspire_common:Language></inspire_common:ResponseLanguage>');
    expect(r.body).toContain('<inspire_common:KeywordValue>infoCatalogueService</inspire_common:KeywordValue>');
    expect(r.body).toContain('<ogc:SpatialOperator name="BBOX"/>');
  });

  it('echoes a supported language= and falls back to the default for an unknown one (INSPIRE validator)', async () => {
    const eng = await get(cswUrl('service=CSW&request=GetCapabilities&version=2.0.2&language=eng'));
    expect(eng.body).toContain('<inspire_common:ResponseLanguage><inspire_common:Language>eng</inspire_common:Language>');
    expect(eng.body).toContain('citationInspireInteroperabilityRegulation_eng');
    const zzz = await get(cswUrl('service=CSW&request=GetCapabilities&version=2.0.2&language=zzz'));
    expect(zzz.status).toBe(200);
    expect(zzz.body).toContain('<inspire_common:ResponseLanguage><inspire_common:Language>fre</inspire_common:Language>');
  });

  it('builds hrefs from X-Forwarded-* behind a proxy, takes parameter names in any case, and answers POST', async () => {
    const r = await get(cswUrl('sErViCe=CSW&ReQuEsT=GetCapabilities'), { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'geo.example.fr', 'x-forwarded-prefix': '/sdi' } });
    expect(r.status).toBe(200);
    expect(r.body).toContain('<ows:Get xlink:href="https://geo.example.fr/sdi/csw"/>');
    expect(r.body).not.toContain('127.0.0.1');
    const p = await postCsw('<csw:GetCapabilities xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" xmlns:ows="http://www.opengis.net/ows" service="CSW"><ows:AcceptVersions><ows:Version>2.0.2</ows:Version></ows:AcceptVersions><ows:Sections><ows:Section>OperationsMetadata</ows:Section></ows:Sections></csw:GetCapabilities>');
    expect(p.status).toBe(200);
    expect(validateCapabilities(p.body).ok).toBe(true);
    expect(p.body).toContain('<ows:OperationsMetadata>');
    expect(p.body).not.toContain('<ows:ServiceIdentification>');
  });
});

describe('GetRecords documents', () => {
  for (const schema of [CSW, GMD]) {
    for (const esn of ['brief', 'summary', 'full']) {
      it(`${schema === CSW ? 'Dublin Core' : 'ISO'} ${esn}: validates and returns every record once`, async () => {
        const r = await get(cswUrl(`service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=results&elementSetName=${esn}&outputSchema=${encodeURIComponent(schema)}&maxRecords=100`));
        expect(r.status).toBe(200);
        const v = validateCsw(r.body);
        expect(v.output).toContain('validates');
        const sr = searchResults(r.body);
        expect(sr).toEqual({ matched: total, returned: total, next: 0, elementSet: esn, recordSchema: schema });
        expect(recordIds(r.body)).toEqual(await allIdentifiers());
        if (schema === GMD) {
          // Each ISO record also stands alone against the ISO 19139 schemas (gmd.xsd for datasets).
          const records = isoRecords(r.body);
          expect(records).toHaveLength(total);
          for (const rec of records) {
            // gmd.xsd alone for plain records; with gmx (Anchor, FileName) and srv, the ISO AP 1.0 wrapper
            // (gmd.xsd + gmx.xsd + srv.xsd).
            const alone = /<(srv|gmx):/.test(rec) ? validateApiso(rec) : validateGmd(rec);
            expect(alone.output, rec.slice(0, 300)).toContain('validates');
            // Harvesters (GeoNetwork) need the date stamp in every element set.
            expect(rec).toMatch(/<gmd:dateStamp>/);
          }
        } else if (esn !== 'brief') {
          expect(r.body.match(/<dct:modified>/g)?.length).toBe((await db().query('SELECT count(*)::int AS n FROM sdi.metadata_records WHERE date_stamp IS NOT NULL')).rows[0].n);
        }
      });
    }
  }

  it('ISO full is the stored document: the fixture file, XML declaration aside', async () => {
    const r = await get(cswUrl(`service=CSW&version=2.0.2&request=GetRecordById&outputSchema=${encodeURIComponent(GMD)}&elementSetName=full&id=${GEOBRETAGNE}`));
    const file = readFileSync(join(FIXTURES, 'owslib-geobretagne-cadastre-2018.xml'), 'utf8').replace(/^<\?xml[^>]*\?>\s*/, '').trim();
    const rec = isoRecords(r.body)[0]!;
    expect(rec.trim()).toBe(file);
  });

  it('accents come back in UTF-8 as written (GéoBretagne record)', async () => {
    const r = await get(cswUrl(`service=CSW&version=2.0.2&request=GetRecordById&outputSchema=${encodeURIComponent(GMD)}&elementSetName=full&id=${GEOBRETAGNE}`));
    expect(r.type).toMatch(/utf-8/i);
    expect(r.body).toContain('Le plan du cadastre est un document administratif qui propose l’unique plan parcellaire à grande échelle');
  });
});

describe('Dublin Core content', () => {
  it('full csw:Record of GéoBretagne carries its fixture values, a lat/lon BoundingBox and dct:modified', async () => {
    const r = await get(cswUrl(`service=CSW&version=2.0.2&request=GetRecordById&outputSchema=${encodeURIComponent(CSW)}&elementSetName=full&id=${GEOBRETAGNE}`));
    expect(r.status).toBe(200);
    expect(validateCsw(r.body).ok).toBe(true);
    expect(r.body).toContain(`<dc:identifier>${GEOBRETAGNE}</dc:identifier>`);
    expect(r.body).toContain('<dc:title>Cadastre 2018 en Bretagne</dc:title>');
    expect(r.body).toContain('<dc:type>dataset</dc:type>');
    expect(r.body).toContain('<dct:modified>2018-07-30T14:19:40</dct:modified>');
    expect(r.body).toContain('<dc:subject>parcelles cadastrales</dc:subject>');
    expect(r.body).toContain('<dc:language>fre</dc:language>');
    expect(r.body).toContain('<dct:references scheme="WWW:LINK-1.0-http--link">http://www.cadastre.gouv.fr</dct:references>');
    // Fixture: west -5.23515625, east -1.1921875, south 46.755859375, north 49.30468750000001; urn EPSG::4326 is lat/lon.
    expect(r.body).toContain('<ows:BoundingBox crs="urn:ogc:def:crs:EPSG::4326" dimensions="2"><ows:LowerCorner>46.755859375 -5.23515625</ows:LowerCorner><ows:UpperCorner>49.30468750000001 -1.1921875</ows:UpperCorner></ows:BoundingBox>');
  });

  it('INSPIRE/CNIG gmx:Anchor WFS protocol becomes dct:references scheme="OGC:WFS" (MetaSearch "Add WFS")', async () => {
    const r = await get(cswUrl(`service=CSW&version=2.0.2&request=GetRecordById&outputSchema=${encodeURIComponent(CSW)}&elementSetName=full&id=${BDTOPO}`));
    expect(r.body).toContain('<dct:references scheme="OGC:WFS">https://data.geopf.fr/wfs?service=WFS&amp;version=2.0.0&amp;request=GetCapabilities</dct:references>');
    const sandre = await get(cswUrl(`service=CSW&version=2.0.2&request=GetRecordById&elementSetName=full&id=95dfaccc-529c-47b3-b2cf-cf71c64f5cf1`));
    expect(sandre.body).toContain('<dct:references scheme="OGC:WMS">https://services.sandre.eaufrance.fr/geo/MasseDEau_VRAP2022?</dct:references>');
    expect(sandre.body).toContain('<dct:references scheme="OGC:WFS">https://services.sandre.eaufrance.fr/geo/MasseDEau_VRAP2022?</dct:references>');
  });

  it('brief and summary follow the csw:BriefRecord / csw:SummaryRecord element order', async () => {
    const brief = await get(cswUrl(`service=CSW&version=2.0.2&request=GetRecordById&elementSetName=brief&id=${BAYERN}`));
    expect(brief.body).toMatch(/<csw:BriefRecord><dc:identifier>01ef8e6a-df59-4c2d-8468-79da95046705<\/dc:identifier><dc:title>ALKIS®-vereinfacht ohne Eigentümer - Web Feature Service<\/dc:title><dc:type>service<\/dc:type><ows:BoundingBox/);
    const summary = await get(cswUrl(`service=CSW&version=2.0.2&request=GetRecordById&id=${BAYERN}`));
    expect(summary.body).toContain('<csw:SummaryRecord>');
    expect(summary.body).toContain('<dct:modified>2021-06-28</dct:modified>');
    expect(validateCsw(summary.body).ok).toBe(true);
  });
});

describe('GetRecordById', () => {
  it('returns the records asked for, in that order, with exactly the requested identifiers; unknown ids are absent', async () => {
    const ids = [BDTOPO, GEOBRETAGNE, 'no-such-record'];
    const r = await get(cswUrl(`service=CSW&version=2.0.2&request=GetRecordById&outputSchema=${encodeURIComponent(GMD)}&elementSetName=summary&id=${ids.join(',')}`));
    expect(r.status).toBe(200);
    expect(validateCsw(r.body).output).toContain('validates');
    expect(recordIds(r.body)).toEqual([BDTOPO, GEOBRETAGNE]);
    const none = await get(cswUrl('service=CSW&version=2.0.2&request=GetRecordById&id=no-such-record'));
    expect(none.status).toBe(200);
    expect(none.body).toMatch(/<csw:GetRecordByIdResponse[^>]*><\/csw:GetRecordByIdResponse>/);
  });

  it('answers POST with csw:Id and an ElementSetName', async () => {
    const r = await postCsw(`<csw:GetRecordById xmlns:csw="${CSW}" service="CSW" version="2.0.2" outputSchema="${GMD}"><csw:Id>${BAYERN}</csw:Id><csw:ElementSetName>brief</csw:ElementSetName></csw:GetRecordById>`);
    expect(r.status).toBe(200);
    expect(validateCsw(r.body).output).toContain('validates');
    expect(recordIds(r.body)).toEqual([BAYERN]);
    expect(r.body).toContain('<srv:serviceType>');
    expect(r.body).not.toContain('<gmd:distributionInfo>');
  });
});

describe('DescribeRecord and GetDomain', () => {
  it('DescribeRecord gives the schema components of csw:Record and gmd:MD_Metadata', async () => {
    const r = await get(cswUrl('service=CSW&version=2.0.2&request=DescribeRecord'));
    expect(r.status).toBe(200);
    expect(validateCsw(r.body).output).toContain('validates');
    expect(r.body).toContain(`<csw:SchemaComponent schemaLanguage="http://www.w3.org/XML/Schema" targetNamespace="${CSW}">`);
    expect(r.body).toContain(`targetNamespace="${GMD}"`);
    const one = await get(cswUrl(`service=CSW&version=2.0.2&request=DescribeRecord&typeName=gmd:MD_Metadata&namespace=xmlns(gmd=${GMD})`));
    expect(one.body.match(/<csw:SchemaComponent /g)).toHaveLength(1);
  });

  it('GetDomain lists parameter values and the stored values of a queryable', async () => {
    const p = await get(cswUrl('service=CSW&version=2.0.2&request=GetDomain&parameterName=GetRecords.outputSchema'));
    expect(validateCsw(p.body).output).toContain('validates');
    expect(p.body).toContain(`<csw:Value>${GMD}</csw:Value>`);
    const t = await get(cswUrl('service=CSW&version=2.0.2&request=GetDomain&propertyName=apiso:Type'));
    expect(validateCsw(t.body).output).toContain('validates');
    const { rows } = await db().query<{ type: string }>('SELECT DISTINCT type FROM sdi.metadata_records ORDER BY 1');
    expect([...t.body.matchAll(/<csw:Value>([^<]*)<\/csw:Value>/g)].map((m) => m[1])).toEqual(rows.map((r) => r.type));
  });
});
