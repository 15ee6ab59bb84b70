/**
 * GetRecords searching and paging, with the requests real clients send (shared/research/csw.md §b):
 * csw:AnyText as MetaSearch sends it, accent- and case-insensitive French full text, BBOX in both axis
 * orders, queryable names in any case and with undeclared prefixes, CQL_TEXT, SortBy, exact counts and
 * nextRecord, the data.gouv.fr (udata) csw-iso-19139 POST sequence, geo.data.gouv.fr's parallel paging,
 * the GeoNetwork harvester and INSPIRE validator requests. Expected sets come from the database.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { db, get } from '../helpers.js';
import { CSW, GMD, allIdentifiers, cswUrl, loadFixtures, postCsw, recordIds, searchResults, validateCsw } from './setup.js';

beforeAll(async () => {
  expect((await loadFixtures()).failed).toEqual([]);
});

const getRecordsXml = (filter: string, attrs = 'resultType="results" maxRecords="100"', query = 'typeNames="csw:Record"', extra = '') =>
  `<csw:GetRecords xmlns:csw="${CSW}" xmlns:ogc="http://www.opengis.net/ogc" xmlns:gml="http://www.opengis.net/gml" service="CSW" version="2.0.2" ${attrs}>` +
  `<csw:Query ${query}><csw:ElementSetName>brief</csw:ElementSetName>${filter ? `<csw:Constraint version="1.1.0"><ogc:Filter>${filter}</ogc:Filter></csw:Constraint>` : ''}${extra}</csw:Query></csw:GetRecords>`;

const like = (prop: string, text: string, extra = '') => `<ogc:PropertyIsLike wildCard="%" singleChar="_" escapeChar="\\"${extra}><ogc:PropertyName>${prop}</ogc:PropertyName><ogc:Literal>${text}</ogc:Literal></ogc:PropertyIsLike>`;
const eq = (prop: string, v: string, extra = '') => `<ogc:PropertyIsEqualTo${extra}><ogc:PropertyName>${prop}</ogc:PropertyName><ogc:Literal>${v}</ogc:Literal></ogc:PropertyIsEqualTo>`;

async function ids(xml: string): Promise<string[]> {
  const r = await postCsw(xml);
  expect(r.status, r.body.slice(0, 500)).toBe(200);
  return recordIds(r.body).sort();
}

async function cql(constraint: string, extra = ''): Promise<string[]> {
  const r = await get(cswUrl(`service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=results&maxRecords=100&elementSetName=brief&constraintLanguage=CQL_TEXT&constraint_language_version=1.1.0&constraint=${encodeURIComponent(constraint)}${extra}`));
  expect(r.status, r.body.slice(0, 500)).toBe(200);
  return recordIds(r.body).sort();
}

/** Records with a word starting with `prefix` in their text, accents and case ignored (independently of the index). */
async function containing(prefix: string): Promise<string[]> {
  return allIdentifiers(`lower(sdi.immutable_unaccent(anytext)) ~ ('\\m' || $1)`, [prefix]);
}

/**
 * "Contains" through French stems: every record holding the word is found, and every record found holds a
 * word starting with its stem (so "adresse" also finds "adressage", never an unrelated record).
 */
async function expectContains(got: string[], word: string, stem: string): Promise<void> {
  const must = await containing(word);
  expect(must.length).toBeGreaterThan(0);
  for (const id of must) expect(got).toContain(id);
  const may = await containing(stem);
  for (const id of got) expect(may).toContain(id);
}

describe('csw:AnyText', () => {
  it('a LIKE without wildcard, as MetaSearch sends it, means "contains"', async () => {
    const got = await ids(getRecordsXml(like('csw:AnyText', 'cadastre')));
    await expectContains(got, 'cadastre', 'cadastr');
    expect(got).toContain('955c3e47-411e-4969-b61b-3556d1b9f879');
    expect(await ids(getRecordsXml(like('csw:AnyText', '%cadastre%')))).toEqual(got);
  });

  it('ignores accents and case: "departement" finds "Département", "DÉPARTEMENT" too', async () => {
    // Records that write it only with its accent (and capital) must be found by the plain spelling.
    const accentedOnly = await allIdentifiers(`anytext ~ 'Département' AND anytext !~* 'departement'`);
    expect(accentedOnly.length).toBeGreaterThan(0);
    const plain = await ids(getRecordsXml(like('csw:AnyText', 'departement')));
    for (const id of accentedOnly) expect(plain).toContain(id);
    await expectContains(plain, 'departement', 'depart');
    expect(await ids(getRecordsXml(like('csw:AnyText', 'DÉPARTEMENT')))).toEqual(plain);
  });

  it('several words must all occur; inner wildcards and stop words fall back to a substring match', async () => {
    const both = await ids(getRecordsXml(like('csw:AnyText', 'urbanisme Flesselles')));
    expect(both).toEqual(['fr-120066022-ldd-777b1c6b-36a7-4650-befa-e4be638cd694']);
    const wildcard = await ids(getRecordsXml(like('csw:AnyText', 'Fless_lles')));
    expect(wildcard).toEqual(['fr-120066022-ldd-777b1c6b-36a7-4650-befa-e4be638cd694']);
    expect(await ids(getRecordsXml(like('csw:AnyText', 'zzyzx-nothing')))).toEqual([]);
    const stop = await ids(getRecordsXml(like('csw:AnyText', 'de la')));
    expect(stop).toEqual(await allIdentifiers(`lower(sdi.immutable_unaccent(anytext)) LIKE '%de la%'`));
  });

  it('AnyText = is word equality through the same index; CQL LIKE works as in Filter', async () => {
    await expectContains(await cql("AnyText LIKE '%adresse%'"), 'adresse', 'adress');
    expect(await cql("csw:AnyText like '%cadastre%'")).toEqual(await ids(getRecordsXml(like('csw:AnyText', 'cadastre'))));
    expect(await ids(getRecordsXml(eq('csw:AnyText', 'Flesselles')))).toEqual(['fr-120066022-ldd-777b1c6b-36a7-4650-befa-e4be638cd694']);
  });
});

describe('BBOX and axis order', () => {
  // Brittany-ish box: lon -5..-1, lat 47..48.5. Intersects GéoBretagne's cadastre, not the Somme PLUs.
  const expected = async () => allIdentifiers(`bbox && ST_MakeEnvelope(-5, 47, -1, 48.5, 4326) AND ST_Intersects(bbox, ST_MakeEnvelope(-5, 47, -1, 48.5, 4326))`);
  const bbox = (env: string) => `<ogc:BBOX><ogc:PropertyName>ows:BoundingBox</ogc:PropertyName>${env}</ogc:BBOX>`;

  it('urn:ogc:def:crs:EPSG::4326 is lat/lon (MetaSearch); no srsName is the CSW default CRS, EPSG::4326 lat/lon (CSW 2.0.2 §10.2.5, as pycsw reads it: issue 12); EPSG:4326 is lon/lat', async () => {
    const want = await expected();
    expect(want).toContain('955c3e47-411e-4969-b61b-3556d1b9f879');
    expect(want).not.toContain('fr-120066022-ldd-777b1c6b-36a7-4650-befa-e4be638cd694');
    expect(await ids(getRecordsXml(bbox('<gml:Envelope srsName="urn:ogc:def:crs:EPSG::4326"><gml:lowerCorner>47 -5</gml:lowerCorner><gml:upperCorner>48.5 -1</gml:upperCorner></gml:Envelope>')))).toEqual(want);
    expect(await ids(getRecordsXml(bbox('<gml:Envelope><gml:lowerCorner>47 -5</gml:lowerCorner><gml:upperCorner>48.5 -1</gml:upperCorner></gml:Envelope>')))).toEqual(want);
    expect(await ids(getRecordsXml(bbox('<gml:Envelope srsName="EPSG:4326"><gml:lowerCorner>-5 47</gml:lowerCorner><gml:upperCorner>-1 48.5</gml:upperCorner></gml:Envelope>')))).toEqual(want);
    // Read the other way round, the same numbers are a box off Somalia: nothing of ours there except world-wide records.
    const swapped = await ids(getRecordsXml(bbox('<gml:Envelope srsName="urn:ogc:def:crs:EPSG::4326"><gml:lowerCorner>-5 47</gml:lowerCorner><gml:upperCorner>-1 48.5</gml:upperCorner></gml:Envelope>')));
    expect(swapped).toEqual(await allIdentifiers(`ST_Intersects(bbox, ST_MakeEnvelope(47, -5, 48.5, -1, 4326))`));
    expect(swapped).not.toContain('955c3e47-411e-4969-b61b-3556d1b9f879');
  });

  it('a Lambert-93 box is reprojected; CQL BBOX(the_geom, …) is lon/lat', async () => {
    // The Somme (Amiens area) in EPSG:2154.
    const l93 = await ids(getRecordsXml(bbox('<gml:Envelope srsName="urn:ogc:def:crs:EPSG::2154"><gml:lowerCorner>630000 6960000</gml:lowerCorner><gml:upperCorner>660000 6990000</gml:upperCorner></gml:Envelope>')));
    expect(l93).toEqual(await allIdentifiers(`ST_Intersects(bbox, ST_Transform(ST_MakeEnvelope(630000, 6960000, 660000, 6990000, 2154), 4326))`));
    expect(l93).toContain('fr-120066022-ldd-777b1c6b-36a7-4650-befa-e4be638cd694');
    expect(await cql('BBOX(the_geom, -5, 47, -1, 48.5)')).toEqual(await expected());
  });

  it('BBOX and AnyText together (ogc:And), as MetaSearch sends them', async () => {
    const got = await ids(getRecordsXml(`<ogc:And>${bbox('<gml:Envelope srsName="urn:ogc:def:crs:EPSG::4326"><gml:lowerCorner>47 -5</gml:lowerCorner><gml:upperCorner>48.5 -1</gml:upperCorner></gml:Envelope>')}${like('csw:AnyText', 'cadastre')}</ogc:And>`));
    expect(got).toEqual(['955c3e47-411e-4969-b61b-3556d1b9f879']);
  });
});

describe('queryables', () => {
  it('names match in any case, with undeclared or foreign prefixes (apiso:type, apiso:Language, dc:TYPE, Type)', async () => {
    const datasets = await allIdentifiers(`type = 'dataset'`);
    for (const name of ['apiso:type', 'apiso:Type', 'dc:type', 'DC:TYPE', 'Type', 'foo:type']) expect(await ids(getRecordsXml(eq(name, 'dataset')))).toEqual(datasets);
    expect(await ids(getRecordsXml(eq('apiso:Language', 'eng')))).toEqual(await allIdentifiers(`language = 'eng'`));
    expect(await cql("language = 'eng'")).toEqual(await allIdentifiers(`language = 'eng'`));
    expect(await cql("language = 'zzz'")).toEqual([]);
  });

  it('ISO and INSPIRE queryables: ResourceIdentifier (code or codeSpace/code), OrganisationName, TopicCategory, ServiceType, OperatesOn, Degree, dates', async () => {
    expect(await ids(getRecordsXml(eq('apiso:ResourceIdentifier', 'fr-120066022-orphan-residentifier-6cf6120b-678c-41f1-aaa5-dccbb8efdafd')))).toEqual(['fr-120066022-ldd-777b1c6b-36a7-4650-befa-e4be638cd694']);
    expect(await ids(getRecordsXml(eq('ResourceIdentifier', 'http://catalogue.geo-ide.developpement-durable.gouv.fr/fr-120066022-orphan-residentifier-6cf6120b-678c-41f1-aaa5-dccbb8efdafd')))).toEqual(['fr-120066022-ldd-777b1c6b-36a7-4650-befa-e4be638cd694']);
    expect(await ids(getRecordsXml(like('apiso:OrganisationName', '%ddtm 80%', ' matchCase="false"')))).toEqual(await allIdentifiers(`EXISTS (SELECT 1 FROM unnest(organisations) o WHERE o ILIKE '%DDTM 80%')`));
    expect(await ids(getRecordsXml(eq('apiso:TopicCategory', 'planningCadastre')))).toEqual(await allIdentifiers(`'planningCadastre' = ANY(topic_categories)`));
    // The fixture's service record, and the platform's own WFS record when the layer records are synced.
    expect(await ids(getRecordsXml(eq('apiso:ServiceType', 'download')))).toEqual(await allIdentifiers(`service_type = 'download'`));
    expect(await allIdentifiers(`service_type = 'download'`)).toContain('01ef8e6a-df59-4c2d-8468-79da95046705');
    expect(await ids(getRecordsXml(eq('apiso:OperatesOn', '083f524b-7474-4e05-a937-1bac657f0344')))).toEqual(['01ef8e6a-df59-4c2d-8468-79da95046705']);
    expect(await ids(getRecordsXml(eq('Degree', 'true')))).toEqual(await allIdentifiers(`'true' = ANY(degrees)`));
    expect(await ids(getRecordsXml(like('title', '%Département%', ' matchCase="false"')))).toEqual(await allIdentifiers(`lower(sdi.immutable_unaccent(title)) LIKE '%departement%'`));
    const after = `<ogc:PropertyIsGreaterThanOrEqualTo><ogc:PropertyName>apiso:Modified</ogc:PropertyName><ogc:Literal>2019-01-01</ogc:Literal></ogc:PropertyIsGreaterThanOrEqualTo>`;
    expect(await ids(getRecordsXml(after))).toEqual(await allIdentifiers(`modified >= '2019-01-01T00:00:00Z'`));
    expect(await cql("RevisionDate > '2019-01-01'")).toEqual(await allIdentifiers(`revision_date > '2019-01-01'`));
    expect(await cql("PublicationDate BETWEEN '2017-01-01' AND '2017-12-31'")).toEqual(await allIdentifiers(`publication_date BETWEEN '2017-01-01' AND '2017-12-31'`));
  });

  it('Not, Or, IsNull and FeatureId-style ids', async () => {
    const all = await allIdentifiers();
    const services = await allIdentifiers(`type = 'service'`);
    expect(await ids(getRecordsXml(`<ogc:Not>${eq('apiso:Type', 'service')}</ogc:Not>`))).toEqual(all.filter((i) => !services.includes(i)));
    expect(await ids(getRecordsXml(`<ogc:PropertyIsNull><ogc:PropertyName>apiso:ResourceIdentifier</ogc:PropertyName></ogc:PropertyIsNull>`))).toEqual(await allIdentifiers(`cardinality(resource_identifier_codes) = 0`));
    expect(await cql("identifier IN ('GPF.Itineraire.xml', 'IGNF_BDTOPOr_3.xml')")).toEqual(['GPF.Itineraire.xml', 'IGNF_BDTOPOr_3.xml']);
  });
});

describe('paging and sorting', () => {
  it('numberOfRecordsMatched/Returned are exact, nextRecord is the next position and 0 on the last page, pages neither overlap nor miss', async () => {
    const all = await allIdentifiers();
    const seen: string[] = [];
    let start = 1;
    for (;;) {
      const r = await postCsw(getRecordsXml('', `resultType="results" startPosition="${start}" maxRecords="4"`));
      const sr = searchResults(r.body);
      expect(sr.matched).toBe(all.length);
      const page = recordIds(r.body);
      expect(sr.returned).toBe(page.length);
      expect(page.length).toBe(Math.min(4, all.length - start + 1));
      seen.push(...page);
      if (start + 4 > all.length) {
        expect(sr.next).toBe(0);
        break;
      }
      expect(sr.next).toBe(start + 4);
      start = sr.next;
    }
    expect(seen).toEqual(all);
  });

  it('hits gives the count and no record; past the end is empty with nextRecord 0; maxRecords 0 returns no record (CSW-discovery.xsd)', async () => {
    const all = await allIdentifiers();
    const hits = await postCsw(getRecordsXml('', 'resultType="hits"'));
    expect(searchResults(hits.body)).toMatchObject({ matched: all.length, returned: 0 });
    expect(recordIds(hits.body)).toEqual([]);
    const past = await postCsw(getRecordsXml('', `resultType="results" startPosition="${all.length + 1}" maxRecords="10"`));
    expect(searchResults(past.body)).toMatchObject({ matched: all.length, returned: 0, next: 0 });
    const zero = await get(cswUrl('service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=results&maxRecords=0'));
    expect(zero.status).toBe(200);
    expect(searchResults(zero.body)).toMatchObject({ matched: all.length, returned: 0 });
    // Defaults: resultType hits (CSW 2.0.2), maxRecords 10.
    const dflt = await get(cswUrl('service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record'));
    expect(searchResults(dflt.body)).toMatchObject({ matched: all.length, returned: 0 });
    const ten = await get(cswUrl('service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=results'));
    expect(searchResults(ten.body)).toMatchObject({ returned: Math.min(10, all.length), next: all.length > 10 ? 11 : 0 });
  });

  it('SortBy on any queryable with the identifier as tie-breaker (POST and KVP)', async () => {
    const sortBy = (prop: string, order: string) => `<ogc:SortBy><ogc:SortProperty><ogc:PropertyName>${prop}</ogc:PropertyName><ogc:SortOrder>${order}</ogc:SortOrder></ogc:SortProperty></ogc:SortBy>`;
    const byType = await postCsw(getRecordsXml('', 'resultType="results" maxRecords="100"', 'typeNames="csw:Record"', sortBy('dc:type', 'DESC')));
    const { rows } = await db().query<{ identifier: string }>(`SELECT identifier FROM sdi.metadata_records ORDER BY lower(type) DESC, identifier ASC`);
    expect(recordIds(byType.body)).toEqual(rows.map((r) => r.identifier));
    const byTitle = await get(cswUrl('service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=results&maxRecords=100&sortBy=dc:title:D'));
    const t = await db().query<{ identifier: string }>(`SELECT identifier FROM sdi.metadata_records ORDER BY lower(title) DESC, identifier ASC`);
    expect(recordIds(byTitle.body)).toEqual(t.rows.map((r) => r.identifier));
  });

  it('resultType=validate acknowledges a valid request without running it', async () => {
    const r = await postCsw(getRecordsXml(like('csw:AnyText', 'cadastre'), 'resultType="validate"'));
    expect(r.status).toBe(200);
    expect(validateCsw(r.body).output).toContain('validates');
    expect(r.body).toMatch(/<csw:Acknowledgement [^>]*timeStamp="/);
    expect(r.body).toContain('<csw:EchoedRequest><csw:GetRecords');
  });

  it('ElementName picks Dublin Core elements', async () => {
    const r = await get(cswUrl('service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=results&maxRecords=100&ElementName=dc:title,dct:modified'));
    expect(r.status).toBe(200);
    expect(validateCsw(r.body).output).toContain('validates');
    expect(searchResults(r.body).elementSet).toBeNull();
    expect(r.body).toContain('<csw:Record><dc:identifier>');
    expect(r.body).not.toContain('<dct:abstract>');
    expect(r.body.match(/<dc:title>/g)?.length).toBe((await allIdentifiers()).length);
  });
});

describe('harvesters', () => {
  /** data.gouv.fr csw-iso-19139: the literal CSW_REQUEST of udata's dcat backend (research note §b(ii)). */
  const udataBody = (start: number, pageSize = 25) => `<csw:GetRecords xmlns:apiso="http://www.opengis.net/cat/csw/apiso/1.0"
                xmlns:csw="http://www.opengis.net/cat/csw/2.0.2"
                xmlns:ogc="http://www.opengis.net/ogc"
                xmlns:gmd="http://www.isotc211.org/2005/gmd"
                service="CSW" version="2.0.2" outputFormat="application/xml"
                resultType="results" startPosition="${start}" maxRecords="${pageSize}"
                outputSchema="http://www.isotc211.org/2005/gmd">
  <csw:Query typeNames="gmd:MD_Metadata">
    <csw:ElementSetName>full</csw:ElementSetName>
    <csw:Constraint version="1.1.0">
      <ogc:Filter>
        <ogc:Or>
          <ogc:PropertyIsEqualTo><ogc:PropertyName>apiso:type</ogc:PropertyName><ogc:Literal>dataset</ogc:Literal></ogc:PropertyIsEqualTo>
          <ogc:PropertyIsEqualTo><ogc:PropertyName>apiso:type</ogc:PropertyName><ogc:Literal>nonGeographicDataset</ogc:Literal></ogc:PropertyIsEqualTo>
          <ogc:PropertyIsEqualTo><ogc:PropertyName>apiso:type</ogc:PropertyName><ogc:Literal>series</ogc:Literal></ogc:PropertyIsEqualTo>
          <ogc:PropertyIsEqualTo><ogc:PropertyName>apiso:type</ogc:PropertyName><ogc:Literal>service</ogc:Literal></ogc:PropertyIsEqualTo>
        </ogc:Or>
      </ogc:Filter>
    </csw:Constraint>
    <ogc:SortBy>
      <ogc:SortProperty>
        <ogc:PropertyName>apiso:identifier</ogc:PropertyName>
        <ogc:SortOrder>ASC</ogc:SortOrder>
      </ogc:SortProperty>
    </ogc:SortBy>
  </csw:Query>
</csw:GetRecords>`;

  /** udata's _next_position stop rules, applied to each page; returns the fileIdentifiers in harvest order. */
  async function harvestLikeUdata(pageSize: number): Promise<{ ids: string[]; pages: number }> {
    const got: string[] = [];
    let start = 1;
    let pages = 0;
    for (;;) {
      const r = await get(cswUrl(), { method: 'POST', headers: { 'content-type': 'application/xml', 'user-agent': 'uData/0.1 csw-iso-19139' }, body: udataBody(start, pageSize) });
      expect(r.status, r.body.slice(0, 400)).toBe(200);
      expect(r.body).not.toMatch(/ExceptionReport/);
      pages++;
      const sr = searchResults(r.body);
      // udata calls int() on the three attributes: all must be present.
      for (const v of [sr.matched, sr.returned, sr.next]) expect(Number.isInteger(v)).toBe(true);
      const page = recordIds(r.body);
      expect(page).toHaveLength(sr.returned);
      got.push(...page);
      const next = sr.next;
      if (next === 0 || next > sr.matched || sr.returned === 0 || next < start) break;
      start = next;
      expect(pages).toBeLessThan(1000);
    }
    return { ids: got, pages };
  }

  it('data.gouv.fr csw-iso-19139 sequence pages through the whole catalogue, no record missed or repeated', async () => {
    const expected = await allIdentifiers(`type IN ('dataset', 'nonGeographicDataset', 'series', 'service')`);
    expect(expected.length).toBeGreaterThanOrEqual(13);
    const one = await harvestLikeUdata(25);
    expect(one.ids).toEqual(expected);
    // The same request with udata's test page size (2): many pages, same result, stops on nextRecord 0.
    const small = await harvestLikeUdata(2);
    expect(small.pages).toBe(Math.ceil(expected.length / 2));
    expect(small.ids).toEqual(expected);
    expect(new Set(small.ids).size).toBe(small.ids.length);
  });

  it('each udata page is a set of standalone gmd:MD_Metadata with the resource identifier udata needs', async () => {
    const r = await postCsw(udataBody(1, 5));
    expect(validateCsw(r.body).output).toContain('validates');
    const { rows } = await db().query<{ identifier: string; n: number }>(`SELECT identifier, cardinality(resource_identifier_codes) AS n FROM sdi.metadata_records ORDER BY identifier LIMIT 5`);
    expect(recordIds(r.body)).toEqual(rows.map((x) => x.identifier));
  });

  it('geo.data.gouv.fr: hits with GET KVP, then pages of 20 two at a time by startPosition, nextRecord ignored', async () => {
    const base = `maxRecords=20&elementSetName=full&typeNames=gmd%3AMD_Metadata&outputSchema=${encodeURIComponent(GMD)}&service=CSW&version=2.0.2&request=GetRecords`;
    const hits = await get(cswUrl(`${base}&resultType=hits`));
    const matched = searchResults(hits.body).matched;
    expect(matched).toBe((await allIdentifiers()).length);
    const got: string[] = [];
    for (let offset = 0; offset < matched; offset += 40) {
      const pages = await Promise.all([offset, offset + 20].filter((o) => o < matched).map((o) => get(cswUrl(`${base}&resultType=results&startPosition=${o + 1}`))));
      for (const p of pages) got.push(...recordIds(p.body));
    }
    expect(got).toEqual(await allIdentifiers());
  });

  // GeoNetwork's harvester writes the corners of a box without srsName; read in the CSW default CRS (lat/lon),
  // as pycsw reads them too (issue 12). The corners here are latitude first.
  it('GeoNetwork harvester: typeNames "csw:Record,gmd:MD_Metadata", summary ISO records with dateStamp, BBOX without srsName (lat/lon)', async () => {
    const body = `<csw:GetRecords xmlns:csw="${CSW}" xmlns:dc="http://purl.org/dc/elements/1.1/" service="CSW" version="2.0.2" resultType="results" outputFormat="application/xml" outputSchema="${GMD}" startPosition="1" maxRecords="20">
      <csw:Query typeNames="csw:Record,gmd:MD_Metadata"><csw:ElementSetName>summary</csw:ElementSetName>
      <csw:Constraint version="1.1.0"><ogc:Filter xmlns:ogc="http://www.opengis.net/ogc"><ogc:BBOX><ogc:PropertyName>ows:BoundingBox</ogc:PropertyName><gml:Envelope xmlns:gml="http://www.opengis.net/gml"><gml:lowerCorner>49 1</gml:lowerCorner><gml:upperCorner>51 3.5</gml:upperCorner></gml:Envelope></ogc:BBOX></ogc:Filter></csw:Constraint>
      <ogc:SortBy xmlns:ogc="http://www.opengis.net/ogc"><ogc:SortProperty><ogc:PropertyName>identifier</ogc:PropertyName><ogc:SortOrder>ASC</ogc:SortOrder></ogc:SortProperty></ogc:SortBy></csw:Query></csw:GetRecords>`;
    const r = await postCsw(body);
    expect(r.status).toBe(200);
    expect(validateCsw(r.body).output).toContain('validates');
    expect(recordIds(r.body)).toEqual(await allIdentifiers(`ST_Intersects(bbox, ST_MakeEnvelope(1, 49, 3.5, 51, 4326))`));
    expect(r.body.match(/<gmd:dateStamp>/g)?.length).toBe(searchResults(r.body).returned);
  });

  it('GeoNetwork harvester GET variant: NAMESPACE=xmlns(…), constraintLanguage=CQL, BBOX(the_geom, …) in lon/lat', async () => {
    const q =
      `request=GetRecords&service=CSW&version=2.0.2&resultType=results&namespace=${encodeURIComponent(`xmlns(csw=${CSW}),xmlns(gmd=${GMD})`)}` +
      `&outputFormat=application/xml&outputSchema=${encodeURIComponent(GMD)}&startPosition=1&maxRecords=20&elementSetName=summary` +
      `&constraint=${encodeURIComponent('BBOX(the_geom, 1, 49, 3.5, 51)')}&constraintLanguage=CQL&constraint_language_version=1.1.0&typeNames=gmd:MD_Metadata`;
    const r = await get(cswUrl(q));
    expect(r.status, r.body.slice(0, 300)).toBe(200);
    expect(recordIds(r.body)).toEqual(await allIdentifiers(`ST_Intersects(bbox, ST_MakeEnvelope(1, 49, 3.5, 51, 4326))`));
  });

  it('INSPIRE validator: GET full ISO records are MD_Metadata with a hierarchyLevel; POST language filter with undeclared apiso prefix', async () => {
    const r = await get(cswUrl(`service=CSW&request=GetRecords&version=2.0.2&typeNames=csw:Record&resultType=results&outputFormat=application/xml&outputSchema=${encodeURIComponent(GMD)}&elementSetName=full&maxRecords=10`));
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/xml/);
    const n = searchResults(r.body).returned;
    expect(n).toBe(10);
    expect(r.body.match(/<gmd:MD_Metadata\b/g)?.length).toBe(n);
    const post = `<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2" resultType="results" startPosition="1" maxRecords="10">
      <csw:Query typeNames="csw:Record"><csw:ElementSetName typeNames="gmd:MD_Metadata">full</csw:ElementSetName>
      <csw:Constraint version="1.1.0"><ogc:Filter xmlns:ogc="http://www.opengis.net/ogc"><ogc:PropertyIsEqualTo><ogc:PropertyName>apiso:Language</ogc:PropertyName><ogc:Literal>eng</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter></csw:Constraint></csw:Query></csw:GetRecords>`;
    const p = await postCsw(post);
    expect(p.status).toBe(200);
    expect(recordIds(p.body).sort()).toEqual(await allIdentifiers(`language = 'eng'`));
  });

  it('a POST body declared ISO-8859-1 is decoded as such', async () => {
    const xml = `<?xml version="1.0" encoding="ISO-8859-1"?>${getRecordsXml(like('dc:title', '%Géoplateforme%'))}`;
    const r = await postCsw(Buffer.from(xml, 'latin1'), 'text/xml');
    expect(r.status).toBe(200);
    expect(recordIds(r.body)).toEqual(['GPF.Itineraire.xml']);
  });
});

// The catalogue compiler (src/record-search) evaluates the temporal and array predicates for every reader: CQL2
// text in a CQL_TEXT constraint (OGC 21-065 /req/temporal-functions, /req/array-functions) and FES 2.0 temporal
// operators (§7.9) in an XML one, on the date queryables (dct:modified, apiso:CreationDate) and the multi-valued
// ones (dc:subject), with the counts PostgreSQL gives.
describe('temporal and array predicates in CSW constraints (issue 12)', () => {
  const hits = async (q: string) => {
    const r = await get(cswUrl(`service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=hits&${q}`));
    expect(r.status, r.body.slice(0, 500)).toBe(200);
    return Number(/numberOfRecordsMatched="(\d+)"/.exec(r.body)![1]);
  };
  const cqlHits = (c: string) => hits(`constraintLanguage=CQL_TEXT&constraint_language_version=1.1.0&constraint=${encodeURIComponent(c)}`);
  const count = async (where: string, params: unknown[] = []) => Number((await db().query(`SELECT count(*) FROM sdi.metadata_records WHERE ${where}`, params)).rows[0].count);

  it('CQL2 T_AFTER / T_BEFORE / T_DURING on dct:modified and apiso:CreationDate, A_CONTAINS / A_OVERLAPS on dc:subject', async () => {
    const { rows } = await db().query<{ k: string }>(`SELECT k FROM sdi.metadata_records, unnest(keywords || topic_categories) k GROUP BY k ORDER BY count(*) DESC, k LIMIT 1`);
    const k = rows[0]!.k.replace(/'/g, "''");
    const cases: Array<[string, string, unknown[]]> = [
      ["T_AFTER(dct:modified, TIMESTAMP('2020-01-01T00:00:00Z'))", "modified > '2020-01-01T00:00:00Z'", []],
      ["T_BEFORE(dct:modified, DATE('2020-01-01'))", "modified < '2020-01-01T00:00:00Z'", []],
      ["T_DURING(apiso:CreationDate, INTERVAL('2000-01-01', '..'))", "creation_date > '2000-01-01'", []],
      [`A_CONTAINS(dc:subject, ('${k}'))`, '$1 = ANY(keywords || topic_categories)', [rows[0]!.k]],
      [`A_OVERLAPS(dc:subject, ('${k}', 'no-such-keyword'))`, '$1 = ANY(keywords || topic_categories)', [rows[0]!.k]],
    ];
    for (const [c, where, params] of cases) expect(await cqlHits(c), c).toBe(await count(where, params));
    expect(await count("modified > '2020-01-01T00:00:00Z'")).toBeGreaterThan(0);
  });

  it('FES 2.0 §7.9 After on dct:modified in an XML constraint (no longer refused by the catalogue)', async () => {
    const f =
      '<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2"><fes:After><fes:ValueReference>dct:modified</fes:ValueReference>' +
      '<gml:TimeInstant gml:id="t"><gml:timePosition>2020-01-01T00:00:00Z</gml:timePosition></gml:TimeInstant></fes:After></fes:Filter>';
    expect(await hits(`constraintLanguage=FILTER&constraint_language_version=1.1.0&constraint=${encodeURIComponent(f)}`)).toBe(await count("modified > '2020-01-01T00:00:00Z'"));
  });

  it('a temporal predicate on a text queryable, an array predicate on a single-valued one: InvalidParameterValue, locator Constraint', async () => {
    for (const c of ["T_AFTER(dc:title, DATE('2020-01-01'))", "A_CONTAINS(dc:title, ('x'))"]) {
      const r = await get(cswUrl(`service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=hits&constraintLanguage=CQL_TEXT&constraint_language_version=1.1.0&constraint=${encodeURIComponent(c)}`));
      expect(r.status, c).toBe(400);
      expect(r.body).toContain('exceptionCode="InvalidParameterValue"');
      expect(r.body).toContain('locator="Constraint"');
    }
  });
});
