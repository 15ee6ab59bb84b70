/**
 * OGC API – Records – Part 1 (OGC 20-004) at /records, issue 12: landing page, conformance, the `metadata`
 * catalogue, its queryables and sortables, record search (q, bbox, datetime, type, ids, externalIds, sortby,
 * CQL2 text and JSON filters, limit/offset and next links) and single records, in JSON (validated against the
 * minimal OGC 20-004 schemas in schemas/ogcapi-records.schema.json) and HTML; bad input as problem+json; and
 * OWSLib's Records client. Requirement ids of OGC 20-004 (and OGC API – Features Part 3, CQL2) in the names.
 * Expected sets come from the database (the fixtures plus the demo layers' records).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { ROOT, baseUrl, db, get } from '../helpers.js';
import { loadFixtures } from './setup.js';
import { parseRecord } from '../../src/metadata/store.js';
import { deleteRecord, managedRecord, setHarvestOrigin, upsertRecord } from '../../src/records/repository.js';
import { saveSource } from '../../src/harvest/sources.js';
import { withCrsFacts } from '../../src/crs/facts.js';

type Json = Record<string, any>;

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
ajv.addSchema(JSON.parse(readFileSync(join(ROOT, 'schemas/ogcapi-records.schema.json'), 'utf8')));
const SCHEMA = 'https://sdi.invalid/schemas/ogcapi-records.schema.json#/definitions/';
function expectValid(doc: unknown, definition: string): void {
  const validate = ajv.getSchema(`${SCHEMA}${definition}`)!;
  expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
}

const R = () => `${baseUrl()}/records`;
const ITEMS = () => `${R()}/collections/metadata/items`;

async function json(url: string, status = 200, accept?: string): Promise<Json> {
  const r = await get(url, accept ? { headers: { accept } } : undefined);
  expect(r.status, `${url} → ${r.body.slice(0, 400)}`).toBe(status);
  return JSON.parse(r.body);
}

/** Identifiers a search returns, all pages read (limit 1000). */
async function search(query: string): Promise<string[]> {
  const fc = await json(`${ITEMS()}?limit=1000&${query}`);
  expect(fc.numberReturned).toBe(fc.numberMatched);
  return (fc.features as Json[]).map((f) => f.id as string).sort();
}

async function idsWhere(where: string, params: unknown[] = []): Promise<string[]> {
  const { rows } = await db().query<{ identifier: string }>(`SELECT identifier FROM sdi.metadata_records r WHERE ${where} ORDER BY identifier`, params);
  return rows.map((r) => r.identifier).sort();
}

async function problem(url: string, status = 400, init?: RequestInit): Promise<Json> {
  const r = await get(url, init);
  expect(r.status, `${url} → ${r.body.slice(0, 300)}`).toBe(status);
  expect(r.type).toMatch(/^application\/problem\+json/);
  const p = JSON.parse(r.body);
  expect(p.status).toBe(status);
  // No stack trace, no SQL text.
  expect(r.body).not.toMatch(/\bat \S+\.(js|ts):\d+|SELECT |sdi\.metadata_records|ST_\w+\(/);
  return p;
}

const CADASTRE = '955c3e47-411e-4969-b61b-3556d1b9f879';
let total = 0;
let sourceId = 0;

/** Records with a temporal extent (the fixtures have none): a period, an open period, an instant, an ongoing one. */
const TEMPORAL_PREFIX = 'ogcapi-records-test-time-';
const TEMPORAL: Array<[number, string]> = [
  [1, '<gml:TimePeriod gml:id="t1"><gml:beginPosition>2010-01-01</gml:beginPosition><gml:endPosition>2012-12-31</gml:endPosition></gml:TimePeriod>'],
  [2, '<gml:TimePeriod gml:id="t2"><gml:beginPosition>2015-06-01T10:00:00Z</gml:beginPosition><gml:endPosition indeterminatePosition="now"/></gml:TimePeriod>'],
  [3, '<gml:TimeInstant gml:id="t3"><gml:timePosition>2015-06-01</gml:timePosition></gml:TimeInstant>'],
  [4, '<gml:TimePeriod gml:id="t4"><gml:beginPosition>2020-01-01</gml:beginPosition><gml:endPosition indeterminatePosition="unknown"/></gml:TimePeriod>'],
];
const temporalRecord = (n: number, time: string) =>
  `<gmd:MD_Metadata xmlns:gmd="http://www.isotc211.org/2005/gmd" xmlns:gco="http://www.isotc211.org/2005/gco" xmlns:gml="http://www.opengis.net/gml">` +
  `<gmd:fileIdentifier><gco:CharacterString>${TEMPORAL_PREFIX}${n}</gco:CharacterString></gmd:fileIdentifier>` +
  `<gmd:language><gmd:LanguageCode codeList="http://www.loc.gov/standards/iso639-2/" codeListValue="fre">fre</gmd:LanguageCode></gmd:language>` +
  `<gmd:hierarchyLevel><gmd:MD_ScopeCode codeList="http://standards.iso.org/iso/19139/resources/gmxCodelists.xml#MD_ScopeCode" codeListValue="dataset">dataset</gmd:MD_ScopeCode></gmd:hierarchyLevel>` +
  `<gmd:dateStamp><gco:DateTime>2024-03-0${n}T00:00:00Z</gco:DateTime></gmd:dateStamp>` +
  `<gmd:identificationInfo><gmd:MD_DataIdentification><gmd:citation><gmd:CI_Citation><gmd:title><gco:CharacterString>Série temporelle ${n}</gco:CharacterString></gmd:title></gmd:CI_Citation></gmd:citation>` +
  `<gmd:abstract><gco:CharacterString>Fiche de test à étendue temporelle</gco:CharacterString></gmd:abstract>` +
  `<gmd:extent><gmd:EX_Extent><gmd:temporalElement><gmd:EX_TemporalExtent><gmd:extent>${time}</gmd:extent></gmd:EX_TemporalExtent></gmd:temporalElement></gmd:EX_Extent></gmd:extent>` +
  `</gmd:MD_DataIdentification></gmd:identificationInfo></gmd:MD_Metadata>`;

beforeAll(async () => {
  expect((await loadFixtures()).failed).toEqual([]);
  // Through the catalogue's own loader path (parseRecord + the repository's upsert), as own-catalogue.ts does.
  for (const [n, time] of TEMPORAL) await upsertRecord(db(), await withCrsFacts(() => parseRecord(temporalRecord(n, time))));
  // Two of them harvested from a source of their own (the source's catalogue holds them alone).
  sourceId = Number((await saveSource(db(), { kind: 'csw', url: 'https://catalogue.example.test/csw', name: 'Catalogue partenaire (test Records)' })).id);
  for (const n of [1, 2]) await setHarvestOrigin(db(), (await managedRecord(db(), { identifier: `${TEMPORAL_PREFIX}${n}` }))!.id, { sourceId, remoteId: `remote-${n}` });
  total = Number((await db().query('SELECT count(*) AS n FROM sdi.metadata_records')).rows[0].n);
  expect(total).toBeGreaterThan(10);
});

afterAll(async () => {
  for (const [n] of TEMPORAL) await deleteRecord(db(), `${TEMPORAL_PREFIX}${n}`);
  if (sourceId) await db().query('DELETE FROM sdi.harvest_sources WHERE id = $1', [sourceId]);
});

describe('OGC 20-004 core: landing page, conformance, API definition, catalogues', () => {
  it('/req/core/root-success: the landing page links the API definition, the conformance and the catalogues', async () => {
    const lp = await json(`${R()}/`);
    expectValid(lp, 'landingPage');
    const rels = (lp.links as Json[]).map((l) => l.rel);
    for (const rel of ['self', 'service-desc', 'conformance', 'data']) expect(rels).toContain(rel);
    for (const l of lp.links as Json[]) expect((await get(l.href)).status, l.href).toBe(200);
  });

  it('/req/core/conformance-success: exactly the implemented classes are declared', async () => {
    const c = await json(`${R()}/conformance`);
    expectValid(c, 'confClasses');
    for (const cls of ['core', 'record-core', 'sorting', 'json', 'html']) expect(c.conformsTo).toContain(`http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/${cls}`);
    expect(c.conformsTo).toContain('http://www.opengis.net/spec/cql2/1.0/conf/cql2-json');
    expect(c.conformsTo).toContain('http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter');
    // Not implemented, not declared.
    for (const cls of ['temporal-functions', 'array-functions']) expect(c.conformsTo).toContain(`http://www.opengis.net/spec/cql2/1.0/conf/${cls}`);
    expect(c.conformsTo.join(' ')).not.toMatch(/opensearch|property-property|queryables-query-parameters/);
  });

  it('/req/oas30: the OpenAPI 3.0 document describes every path and the items parameters', async () => {
    const r = await get(`${R()}/api`);
    expect(r.status).toBe(200);
    expect(r.type).toContain('application/vnd.oai.openapi+json');
    const api = JSON.parse(r.body);
    expect(api.openapi).toMatch(/^3\.0\./);
    expect(Object.keys(api.paths)).toEqual(expect.arrayContaining(['/', '/conformance', '/collections', '/collections/{collectionId}', '/collections/{collectionId}/items', '/collections/{collectionId}/items/{recordId}', '/collections/{collectionId}/queryables', '/collections/{collectionId}/sortables']));
    const names = (api.paths['/collections/{collectionId}/items'].get.parameters as Json[]).map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['q', 'bbox', 'datetime', 'type', 'ids', 'externalIds', 'sortby', 'filter', 'filter-lang', 'limit', 'offset', 'f']));
  });

  it('/req/record-collection: one catalogue `metadata`, itemType record, with items, queryables and sortables links', async () => {
    const cs = await json(`${R()}/collections`);
    expectValid(cs, 'collections');
    expect((cs.collections as Json[])[0].id).toBe('metadata');
    expect((cs.collections as Json[]).slice(1).every((c) => /^source-\d+$/.test(c.id))).toBe(true);
    const c = await json(`${R()}/collections/metadata`);
    expectValid(c, 'catalog');
    expect(c).toMatchObject({ id: 'metadata', itemType: 'record', type: 'Catalog' });
    // The extent of the records (OGC API Common Part 2 collection extent): the envelope of the footprints, the temporal extents.
    const { rows } = await db().query(`SELECT ST_XMin(ST_Extent(bbox)) AS w, ST_YMax(ST_Extent(bbox)) AS n, min(coalesce(temp_extent_begin, temp_extent_end)) AS first FROM sdi.metadata_records`);
    expect(c.extent.spatial.bbox[0][0]).toBeCloseTo(rows[0].w, 6);
    expect(c.extent.spatial.bbox[0][3]).toBeCloseTo(rows[0].n, 6);
    expect(c.extent.temporal.interval[0][0]).toBe((rows[0].first as Date).toISOString().replace('.000Z', 'Z'));
    const rels = (c.links as Json[]).map((l) => l.rel);
    expect(rels).toEqual(expect.arrayContaining(['self', 'items', 'http://www.opengis.net/def/rel/ogc/1.0/queryables', 'http://www.opengis.net/def/rel/ogc/1.0/sortables']));
    const p = await problem(`${R()}/collections/nope`, 404);
    expect(p.locator).toBe('collectionId');
    await problem(`${R()}/collections/nope/items`, 404);
  });
});

describe('OGC 20-004 record core: records', () => {
  it('/req/core/records-response: numberMatched is the count of the catalogue, numberReturned the page, every record valid', async () => {
    const fc = await json(ITEMS());
    expectValid(fc, 'records');
    expect(fc.numberMatched).toBe(total);
    expect(fc.numberReturned).toBe(Math.min(10, total));
    expect(fc.features).toHaveLength(fc.numberReturned);
    for (const f of fc.features as Json[]) expectValid(f, 'record');
  });

  it('/req/record-core/record-success: a record with its extent, properties and links, ISO alternate through CSW', async () => {
    const f = await json(`${ITEMS()}/${CADASTRE}`);
    expectValid(f, 'record');
    expect(f.id).toBe(CADASTRE);
    expect(f.geometry.type).toBe('Polygon');
    const { rows } = await db().query('SELECT title, type, ST_XMin(bbox) AS w, ST_YMax(bbox) AS n, keywords FROM sdi.metadata_records WHERE identifier = $1', [CADASTRE]);
    expect(f.properties.title).toBe(rows[0].title);
    expect(f.properties.type).toBe(rows[0].type);
    expect(f.properties.keywords).toEqual(rows[0].keywords);
    expect(f.bbox[0]).toBeCloseTo(rows[0].w, 6);
    expect(f.bbox[3]).toBeCloseTo(rows[0].n, 6);
    const iso = (f.links as Json[]).find((l) => l.rel === 'alternate' && /19139/.test(l.title) && l.href.includes(encodeURIComponent('http://www.isotc211.org/2005/gmd')));
    expect(iso).toBeDefined();
    const r = await get(iso!.href);
    expect(r.status).toBe(200);
    expect(r.body).toContain('gmd:MD_Metadata');
    expect(r.body).toContain(CADASTRE);
    // The record's own online resources follow the API links.
    expect((f.links as Json[]).filter((l) => !['self', 'alternate', 'collection'].includes(l.rel)).length).toBeGreaterThan(0);
  });

  it('/req/record-core/record-success: every record of the catalogue is valid and read alone equals its search entry', async () => {
    const fc = await json(`${ITEMS()}?limit=1000`);
    for (const f of fc.features as Json[]) {
      expectValid(f, 'record');
      expect(await json(`${ITEMS()}/${encodeURIComponent(f.id)}`)).toEqual(f);
    }
  });

  it('/req/record-collection: a harvest source has its own catalogue, holding its records only', async () => {
    const id = `source-${sourceId}`;
    const cs = await json(`${R()}/collections`);
    const listed = (cs.collections as Json[]).find((c) => c.id === id);
    expect(listed).toMatchObject({ id, itemType: 'record', title: 'Catalogue partenaire (test Records)' });
    expectValid(await json(`${R()}/collections/${id}`), 'catalog');
    const fc = await json(`${R()}/collections/${id}/items?sortby=id`);
    expect(fc.numberMatched).toBe(2);
    expect((fc.features as Json[]).map((f) => f.id)).toEqual([`${TEMPORAL_PREFIX}1`, `${TEMPORAL_PREFIX}2`]);
    expect(fc.links.find((l: Json) => l.rel === 'self').href).toContain(`/collections/${id}/items`);
    expect(await json(`${R()}/collections/${id}/items?q=cadastre`)).toMatchObject({ numberMatched: 0 });
    expect((await json(`${R()}/collections/${id}/items/${TEMPORAL_PREFIX}2`)).id).toBe(`${TEMPORAL_PREFIX}2`);
    // A record of the catalogue that does not come from this source is not in it.
    await problem(`${R()}/collections/${id}/items/${CADASTRE}`, 404);
    await problem(`${R()}/collections/source-999999/items`, 404);
  });

  it('/req/core/record-not-found: an unknown record is a 404 problem', async () => {
    await problem(`${ITEMS()}/no-such-record`, 404);
  });
});

describe('OGC 20-004 core query parameters', () => {
  it('/req/core/query-param-limit and next links: pages of 3 read by their next links give every record once', async () => {
    let url: string | undefined = `${ITEMS()}?limit=3`;
    const seen: string[] = [];
    let pages = 0;
    while (url) {
      const fc = await json(url);
      expect(fc.numberMatched).toBe(total);
      expect(fc.numberReturned).toBe(fc.features.length);
      seen.push(...(fc.features as Json[]).map((f) => f.id));
      if (pages > 0) expect((fc.links as Json[]).some((l) => l.rel === 'prev' && l.type === 'application/geo+json')).toBe(true);
      url = (fc.links as Json[]).find((l) => l.rel === 'next' && l.type === 'application/geo+json')?.href;
      pages++;
    }
    expect(pages).toBe(Math.ceil(total / 3));
    expect(new Set(seen).size).toBe(total);
    expect(seen.sort()).toEqual(await idsWhere('TRUE'));
  });

  it('/req/core/query-param-limit-response: a limit above the maximum is answered with the maximum, no error', async () => {
    const fc = await json(`${ITEMS()}?limit=100000`);
    expect(fc.numberReturned).toBe(Math.min(total, 1000));
  });

  it('/req/core/query-param-q: terms as words of the text; a comma is "or"', async () => {
    const cadastre = await search('q=cadastre');
    expect(cadastre).toContain(CADASTRE);
    for (const id of cadastre) expect((await idsWhere(`lower(sdi.immutable_unaccent(anytext)) ~ '\\mcadastr' AND identifier = $1`, [id]))).toEqual([id]);
    const air = await search('q=air');
    const both = await search('q=cadastre,air');
    expect(both).toEqual([...new Set([...cadastre, ...air])].sort());
  });

  it('/req/core/query-param-bbox: records whose footprint meets the box (CRS84)', async () => {
    const got = await search('bbox=1.8,47.7,2.1,48.0');
    expect(got).toEqual(await idsWhere('ST_Intersects(r.bbox, ST_MakeEnvelope(1.8, 47.7, 2.1, 48.0, 4326))'));
    expect(got.length).toBeGreaterThan(0);
    expect(await search('bbox=1.8,47.7,0,2.1,48.0,100')).toEqual(got);
  });

  it('/req/core/query-param-datetime: the temporal extent (open ends open) meets the instant or interval', async () => {
    const meets = (start: string, end: string) =>
      idsWhere(`(temp_extent_begin IS NOT NULL OR temp_extent_end IS NOT NULL) AND (temp_extent_begin IS NULL OR temp_extent_begin < $2::timestamptz) AND (temp_extent_end IS NULL OR temp_extent_end >= $1::timestamptz)`, [start, end]);
    const t = (n: number) => `${TEMPORAL_PREFIX}${n}`;
    const interval = await search('datetime=2011-01-01/2011-02-01');
    expect(interval).toEqual(await meets('2011-01-01T00:00:00Z', '2011-02-02T00:00:00Z'));
    expect(interval).toContain(t(1));
    const day = await search('datetime=2015-06-01');
    expect(day).toEqual(await meets('2015-06-01T00:00:00Z', '2015-06-02T00:00:00Z'));
    expect(day).toEqual(expect.arrayContaining([t(2), t(3)]));
    expect(day).not.toContain(t(1));
    const instant = await search('datetime=2021-05-05T00:00:00Z');
    expect(instant).toEqual(expect.arrayContaining([t(2), t(4)]));
    expect(instant).not.toContain(t(3));
    expect(await search('datetime=../2009-12-31')).not.toEqual(expect.arrayContaining([t(1)]));
    expect(await search('datetime=2020-01-01/..')).toEqual(await meets('2020-01-01T00:00:00Z', '9999-01-01T00:00:00Z'));
    // The record says it: an open end is `..`.
    const f = await json(`${ITEMS()}/${t(4)}`);
    expect(f.time).toEqual({ interval: ['2020-01-01T00:00:00Z', '..'] });
    expect((await json(`${ITEMS()}/${t(3)}`)).time).toEqual({ timestamp: '2015-06-01T00:00:00Z' });
  });

  it('/req/core/query-param-type, ids, externalIds: any listed value', async () => {
    expect(await search('type=service')).toEqual(await idsWhere(`type = 'service'`));
    expect(await search('type=service,dataset')).toEqual(await idsWhere(`type IN ('service', 'dataset')`));
    const two = (await idsWhere('TRUE')).slice(0, 2);
    expect(await search(`ids=${two.map(encodeURIComponent).join(',')}`)).toEqual(two);
    const { rows } = await db().query<{ code: string }>('SELECT resource_identifier_codes[1] AS code FROM sdi.metadata_records WHERE cardinality(resource_identifier_codes) > 0 ORDER BY identifier LIMIT 1');
    expect(await search(`externalIds=${encodeURIComponent(rows[0]!.code)}`)).toEqual(await idsWhere('$1 = ANY(resource_identifier_codes)', [rows[0]!.code]));
  });
});

describe('OGC 20-004 sorting', () => {
  it('/req/sorting/sortby: ascending title, descending updated (records without a date last), ties by identifier', async () => {
    const titles = await json(`${ITEMS()}?limit=1000&sortby=title`);
    const expected = (await db().query('SELECT identifier FROM sdi.metadata_records ORDER BY lower(title), identifier')).rows.map((r) => r.identifier);
    expect((titles.features as Json[]).map((f) => f.id)).toEqual(expected);
    const updated = await json(`${ITEMS()}?limit=1000&sortby=-updated`);
    const byDate = (await db().query('SELECT identifier FROM sdi.metadata_records ORDER BY modified DESC NULLS LAST, identifier')).rows.map((r) => r.identifier);
    expect((updated.features as Json[]).map((f) => f.id)).toEqual(byDate);
    const plus = await json(`${ITEMS()}?limit=1000&sortby=%2Btitle`);
    expect((plus.features as Json[]).map((f) => f.id)).toEqual(expected);
  });

  it('/req/sorting/sortables: the sortables document lists the sortable properties; others are refused', async () => {
    const s = await json(`${R()}/collections/metadata/sortables`);
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['title', 'updated', 'created', 'type', 'id']));
    expect(Object.keys(s.properties)).not.toContain('description');
    expect((await problem(`${ITEMS()}?sortby=description`)).locator).toBe('sortby');
  });
});

describe('OGC API – Features Part 3 / CQL2 filtering of records', () => {
  it('/req/queryables/get-queryables-response: a JSON Schema of the queryables', async () => {
    const r = await get(`${R()}/collections/metadata/queryables`);
    expect(r.status).toBe(200);
    expect(r.type).toContain('application/schema+json');
    const q = JSON.parse(r.body);
    expect(q.$schema).toMatch(/json-schema\.org/);
    expect(q.type).toBe('object');
    for (const name of ['title', 'description', 'keywords', 'type', 'created', 'updated', 'formats', 'geometry']) expect(q.properties[name], name).toBeDefined();
  });

  it('CQL2 text (basic-cql2, advanced comparison, CASEI, spatial): same results as the database', async () => {
    const f = (text: string) => search(`filter=${encodeURIComponent(text)}`);
    expect(await f(`type = 'dataset'`)).toEqual(await idsWhere(`type = 'dataset'`));
    expect(await f(`title LIKE '%adastr%'`)).toEqual(await idsWhere(`title LIKE '%adastr%'`));
    expect(await f(`CASEI(title) LIKE CASEI('%CADASTR%')`)).toEqual(await idsWhere(`lower(sdi.immutable_unaccent(title)) LIKE '%cadastr%'`));
    expect(await f(`updated >= TIMESTAMP('2020-01-01T00:00:00Z') AND NOT type = 'service'`)).toEqual(await idsWhere(`modified >= '2020-01-01T00:00:00Z' AND type <> 'service'`));
    expect(await f(`keywords = 'cadastre' OR formats IS NULL`)).toEqual(await idsWhere(`'cadastre' = ANY(keywords || topic_categories) OR cardinality(formats) = 0`));
    expect(await f(`type IN ('service', 'series')`)).toEqual(await idsWhere(`type IN ('service', 'series')`));
    expect(await f(`S_INTERSECTS(geometry, BBOX(1.8, 47.7, 2.1, 48.0))`)).toEqual(await search('bbox=1.8,47.7,2.1,48.0'));
    expect(await f(`S_INTERSECTS(geometry, POLYGON((1.8 47.7, 2.1 47.7, 2.1 48, 1.8 48, 1.8 47.7)))`)).toEqual(await search('bbox=1.8,47.7,2.1,48.0'));
  });

  it('CQL2 JSON: the same filters give the same records', async () => {
    const f = (j: unknown) => search(`filter-lang=cql2-json&filter=${encodeURIComponent(JSON.stringify(j))}`);
    const p = (property: string) => ({ property });
    expect(await f({ op: '=', args: [p('type'), 'dataset'] })).toEqual(await idsWhere(`type = 'dataset'`));
    expect(await f({ op: 'like', args: [{ op: 'casei', args: [p('title')] }, { op: 'casei', args: ['%CADASTR%'] }] })).toEqual(await idsWhere(`lower(sdi.immutable_unaccent(title)) LIKE '%cadastr%'`));
    expect(await f({ op: 'and', args: [{ op: '>=', args: [p('updated'), { timestamp: '2020-01-01T00:00:00Z' }] }, { op: 'not', args: [{ op: '=', args: [p('type'), 'service'] }] }] })).toEqual(
      await idsWhere(`modified >= '2020-01-01T00:00:00Z' AND type <> 'service'`),
    );
    expect(await f({ op: 'in', args: [p('type'), ['service', 'series']] })).toEqual(await idsWhere(`type IN ('service', 'series')`));
    expect(await f({ op: 's_intersects', args: [p('geometry'), { bbox: [1.8, 47.7, 2.1, 48.0] }] })).toEqual(await search('bbox=1.8,47.7,2.1,48.0'));
    expect(await f({ op: 's_intersects', args: [p('geometry'), { type: 'Point', coordinates: [1.9, 47.9] }] })).toEqual(await idsWhere('ST_Intersects(r.bbox, ST_SetSRID(ST_MakePoint(1.9, 47.9), 4326))'));
    expect(await f({ op: 'isNull', args: [p('formats')] })).toEqual(await idsWhere('cardinality(formats) = 0'));
  });

  // OGC 21-065 /req/temporal-functions: each predicate on an instant-valued queryable is its definition on
  // intervals with the property [v, v] (src/filter/cql2-predicates.ts); the test records' dates are 2024-03-0n.
  it('CQL2 /req/temporal-functions on updated and created (text): same records as the database', async () => {
    const f = (text: string) => search(`filter=${encodeURIComponent(text)}`);
    const mine = (ids: string[]) => ids.filter((i) => i.startsWith(TEMPORAL_PREFIX));
    const after = await f(`T_AFTER(updated, TIMESTAMP('2024-03-02T00:00:00Z'))`);
    expect(after).toEqual(await idsWhere(`modified > '2024-03-02T00:00:00Z'`));
    expect(mine(after)).toEqual([3, 4].map((n) => `${TEMPORAL_PREFIX}${n}`));
    // A date literal is its whole UTC day: before it is before its first instant, after it after its last.
    expect(await f(`T_BEFORE(updated, DATE('2024-03-02'))`)).toEqual(await idsWhere(`modified < '2024-03-02T00:00:00Z'`));
    expect(await f(`T_AFTER(updated, DATE('2024-03-02'))`)).toEqual(await idsWhere(`modified >= '2024-03-03T00:00:00Z'`));
    expect(await f(`T_DURING(updated, INTERVAL('2024-03-01T12:00:00Z', '2024-03-03T12:00:00Z'))`)).toEqual(await idsWhere(`modified > '2024-03-01T12:00:00Z' AND modified < '2024-03-03T12:00:00Z'`));
    expect(await f(`T_INTERSECTS(updated, INTERVAL('2024-03-02', '..'))`)).toEqual(await idsWhere(`modified >= '2024-03-02T00:00:00Z'`));
    expect(await f(`T_INTERSECTS(updated, INTERVAL('..', TIMESTAMP('2024-03-02T00:00:00Z')))`)).toEqual(await idsWhere(`modified <= '2024-03-02T00:00:00Z'`));
    expect(await f(`T_DISJOINT(updated, INTERVAL('2024-03-02', '2024-03-03'))`)).toEqual(await idsWhere(`modified < '2024-03-02T00:00:00Z' OR modified >= '2024-03-04T00:00:00Z'`));
    expect(mine(await f(`T_EQUALS(updated, TIMESTAMP('2024-03-03T00:00:00Z'))`))).toEqual([`${TEMPORAL_PREFIX}3`]);
    expect(await f(`T_MEETS(updated, INTERVAL('2024-03-03T00:00:00Z', '..'))`)).toEqual(await idsWhere(`modified = '2024-03-03T00:00:00Z'`));
    expect(await f(`T_STARTS(updated, INTERVAL('2024-03-03T00:00:00Z', '2024-03-05T00:00:00Z'))`)).toEqual(await idsWhere(`modified = '2024-03-03T00:00:00Z'`));
    // The literal first: the converse predicate (T_AFTER(x, p) is T_BEFORE(p, x)).
    expect(await f(`T_AFTER(TIMESTAMP('2024-03-02T00:00:00Z'), updated)`)).toEqual(await idsWhere(`modified < '2024-03-02T00:00:00Z'`));
    // Never true of an instant: an instant cannot contain or overlap an interval.
    expect(await f(`T_CONTAINS(updated, INTERVAL('2024-03-01', '2024-03-04'))`)).toEqual([]);
    expect(await f(`T_OVERLAPS(updated, INTERVAL('2024-03-01', '2024-03-04'))`)).toEqual([]);
    // A date queryable (creation date of the resource).
    expect(await f(`T_BEFORE(created, DATE('2015-01-01'))`)).toEqual(await idsWhere(`creation_date < '2015-01-01'`));
    expect(await f(`T_DURING(created, INTERVAL('2000-01-01', '2030-01-01')) AND type = 'dataset'`)).toEqual(await idsWhere(`creation_date > '2000-01-01' AND creation_date < '2030-01-01' AND type = 'dataset'`));
  });

  it('CQL2 JSON /req/temporal-functions: the same predicates in the JSON encoding', async () => {
    const f = (j: unknown) => search(`filter-lang=cql2-json&filter=${encodeURIComponent(JSON.stringify(j))}`);
    const updated = { property: 'updated' };
    expect(await f({ op: 't_after', args: [updated, { timestamp: '2024-03-02T00:00:00Z' }] })).toEqual(await idsWhere(`modified > '2024-03-02T00:00:00Z'`));
    expect(await f({ op: 't_before', args: [updated, { date: '2024-03-02' }] })).toEqual(await idsWhere(`modified < '2024-03-02T00:00:00Z'`));
    expect(await f({ op: 't_during', args: [updated, { interval: ['2024-03-01T12:00:00Z', '2024-03-03T12:00:00Z'] }] })).toEqual(
      await idsWhere(`modified > '2024-03-01T12:00:00Z' AND modified < '2024-03-03T12:00:00Z'`),
    );
    expect(await f({ op: 't_intersects', args: [updated, { interval: [{ date: '2024-03-02' }, '..'] }] })).toEqual(await idsWhere(`modified >= '2024-03-02T00:00:00Z'`));
    expect(await f({ op: 't_before', args: [{ timestamp: '2024-03-02T00:00:00Z' }, updated] })).toEqual(await idsWhere(`modified > '2024-03-02T00:00:00Z'`));
  });

  // OGC 21-065 /req/array-functions: the multi-valued queryables (keywords, formats…) against a list, as sets.
  it('CQL2 /req/array-functions on keywords and formats (text and JSON): same records as the database', async () => {
    const { rows } = await db().query<{ k: string }>(`SELECT k FROM sdi.metadata_records, unnest(keywords || topic_categories) k GROUP BY k ORDER BY count(*) DESC, k LIMIT 2`);
    const [k1, k2] = rows.map((r) => r.k) as [string, string];
    const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
    const f = (text: string) => search(`filter=${encodeURIComponent(text)}`);
    const j = (o: unknown) => search(`filter-lang=cql2-json&filter=${encodeURIComponent(JSON.stringify(o))}`);
    const kw = '(keywords || topic_categories)';
    const contains = await f(`A_CONTAINS(keywords, (${q(k1)}, ${q(k2)}))`);
    expect(contains).toEqual(await idsWhere(`${kw} @> $1::text[]`, [[k1, k2]]));
    expect(await f(`A_CONTAINS(keywords, (${q(k1)}))`)).toEqual(await idsWhere(`$1 = ANY(${kw})`, [k1]));
    expect((await f(`A_CONTAINS(keywords, (${q(k1)}))`)).length).toBeGreaterThan(0);
    expect(await f(`A_OVERLAPS(keywords, (${q(k1)}, ${q(k2)}))`)).toEqual(await idsWhere(`${kw} && $1::text[]`, [[k1, k2]]));
    const formats = ['GeoPackage', 'ESRI Shapefile', 'GeoJSON', 'GML'];
    expect(await f(`A_CONTAINEDBY(formats, (${formats.map(q).join(', ')}))`)).toEqual(await idsWhere(`formats <@ $1::text[]`, [formats]));
    expect(await f(`A_EQUALS(formats, (${formats.map(q).join(', ')}))`)).toEqual(await idsWhere(`formats <@ $1::text[] AND formats @> $1::text[]`, [formats]));
    // The list first: A_CONTAINEDBY(list, property) is A_CONTAINS(property, list).
    expect(await f(`A_CONTAINEDBY((${q(k1)}, ${q(k2)}), keywords)`)).toEqual(contains);
    expect(await j({ op: 'a_contains', args: [{ property: 'keywords' }, [k1, k2]] })).toEqual(contains);
    expect(await j({ op: 'a_containedBy', args: [{ property: 'formats' }, formats] })).toEqual(await idsWhere(`formats <@ $1::text[]`, [formats]));
  });

  it('POST search is not part of OGC API – Records Part 1 nor Features Part 3 (filter is a query parameter): 404 / 405, never a search', async () => {
    const r = await fetch(ITEMS(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ op: '=', args: [{ property: 'type' }, 'dataset'] }) });
    await r.body?.cancel();
    expect([404, 405]).toContain(r.status);
  });

  it('filters combine with the other parameters, and the paging links keep them', async () => {
    const fc = await json(`${ITEMS()}?limit=1&type=dataset&filter=${encodeURIComponent(`title LIKE '%a%'`)}`);
    const expected = await idsWhere(`type = 'dataset' AND title LIKE '%a%'`);
    expect(fc.numberMatched).toBe(expected.length);
    const next = (fc.links as Json[]).find((l) => l.rel === 'next' && l.type === 'application/geo+json');
    expect(next?.href).toContain('type=dataset');
    expect(next?.href).toContain('filter=');
    expect((await json(next!.href)).features[0].id).toBe(expected[1]);
  });
});

describe('OGC 20-004 bad input: problem+json, 400, the parameter named', () => {
  const cases: Array<[string, string, string]> = [
    ['/req/core/query-param-unknown', 'foo=bar', 'foo'],
    ['/req/core/query-param-invalid limit=0', 'limit=0', 'limit'],
    ['/req/core/query-param-invalid limit=abc', 'limit=abc', 'limit'],
    ['/req/core/query-param-invalid offset=-1', 'offset=-1', 'offset'],
    ['/req/core/query-param-invalid repeated limit', 'limit=2&limit=3', 'limit'],
    ['/req/core/query-param-bbox three numbers', 'bbox=1,2,3', 'bbox'],
    ['/req/core/query-param-bbox south above north', 'bbox=1,48,2,47', 'bbox'],
    ['/req/core/query-param-bbox latitude out of range', 'bbox=1,-100,2,47', 'bbox'],
    ['/req/core/query-param-datetime not a date', 'datetime=yesterday', 'datetime'],
    ['/req/core/query-param-datetime backwards', 'datetime=2020-01-01/2019-01-01', 'datetime'],
    ['/req/filter/filter-lang unknown', 'filter-lang=ecql&filter=title%3D%27x%27', 'filter-lang'],
    ['/req/filter/filter-crs other than CRS84', 'filter-crs=http://www.opengis.net/def/crs/EPSG/0/2154&filter=title%3D%27x%27', 'filter-crs'],
    ['CQL2 text syntax error', `filter=${encodeURIComponent("title = 'x' AND")}`, 'filter'],
    ['CQL2 unknown queryable', `filter=${encodeURIComponent("nope = 'x'")}`, 'filter'],
    ['CQL2 spatial predicate on a text queryable', `filter=${encodeURIComponent('S_INTERSECTS(title, POINT(1 2))')}`, 'filter'],
    ['CQL2 /req/temporal-functions on a text queryable', `filter=${encodeURIComponent("T_AFTER(title, TIMESTAMP('2020-01-01T00:00:00Z'))")}`, 'filter'],
    ['CQL2 /req/temporal-functions between two properties', `filter=${encodeURIComponent('T_AFTER(updated, created)')}`, 'filter'],
    ['CQL2 /req/temporal-functions interval backwards', `filter=${encodeURIComponent("T_DURING(updated, INTERVAL('2020-01-02', '2020-01-01'))")}`, 'filter'],
    ['CQL2 /req/temporal-functions interval open at both ends', `filter=${encodeURIComponent("T_DURING(updated, INTERVAL('..', '..'))")}`, 'filter'],
    ['CQL2 /req/array-functions on a single-valued queryable', `filter=${encodeURIComponent("A_CONTAINS(title, ('x'))")}`, 'filter'],
    ['CQL2 /req/array-functions without a list', `filter=${encodeURIComponent("A_CONTAINS(keywords, 'x')")}`, 'filter'],
    ['CQL2 JSON not JSON', 'filter-lang=cql2-json&filter=%7Bnope', 'filter'],
    ['CQL2 JSON unknown operator', `filter-lang=cql2-json&filter=${encodeURIComponent('{"op":"t_later","args":[{"property":"updated"},{"timestamp":"2020-01-01T00:00:00Z"}]}')}`, 'filter'],
    ['CQL2 JSON interval not a pair', `filter-lang=cql2-json&filter=${encodeURIComponent('{"op":"t_during","args":[{"property":"updated"},{"interval":["2020-01-01"]}]}')}`, 'filter'],
    ['CQL2 JSON array predicate on a date', `filter-lang=cql2-json&filter=${encodeURIComponent('{"op":"a_overlaps","args":[{"property":"updated"},["2020-01-01"]]}')}`, 'filter'],
    ['CQL2 JSON wrong arity', `filter-lang=cql2-json&filter=${encodeURIComponent('{"op":"=","args":[{"property":"type"}]}')}`, 'filter'],
    ['CQL2 date literal not a date', `filter=${encodeURIComponent("updated > TIMESTAMP('soon')")}`, 'filter'],
    ['/req/sorting/sortby unknown', 'sortby=nope', 'sortby'],
    ['/req/json f not offered', 'f=xml', 'f'],
  ];
  for (const [name, query, locator] of cases) {
    it(`${name} (${query.slice(0, 60)})`, async () => {
      const p = await problem(`${ITEMS()}?${query}`);
      expect(p.locator).toBe(locator);
    });
  }

  it('documents refuse parameters they do not define', async () => {
    for (const path of ['/', '/conformance', '/collections', '/collections/metadata', '/collections/metadata/queryables', `/collections/metadata/items/${CADASTRE}`]) {
      expect((await problem(`${R()}${path}?limit=3`)).locator, path).toBe('limit');
    }
  });
});

describe('OGC 20-004 /conf/html and /conf/json: encodings', () => {
  it('/req/html/definition: f=html and a browser Accept header give HTML pages with no outside resource', async () => {
    for (const path of ['/', '/conformance', '/collections', '/collections/metadata', '/collections/metadata/queryables', '/collections/metadata/items', `/collections/metadata/items/${CADASTRE}`]) {
      const r = await get(`${R()}${path}?f=html`);
      expect(r.status, path).toBe(200);
      expect(r.type).toMatch(/^text\/html/);
      expect(r.body).toMatch(/^<!DOCTYPE html>/);
      expect(r.body).not.toMatch(/<script|<link[^>]+stylesheet|src="https?:/);
    }
    const page = await get(`${R()}/collections/metadata/items/${CADASTRE}`, { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
    expect(page.type).toMatch(/^text\/html/);
    const items = await get(`${ITEMS()}?f=html&q=cadastre`);
    expect(items.body).toContain(`/items/${CADASTRE}?f=html`);
    // Paging from page to page stays in HTML.
    const first = await get(`${ITEMS()}?f=html&limit=2`);
    expect(first.body).toMatch(/href="[^"]*items\?limit=2&amp;offset=2&amp;f=html" rel="next"/);
  });

  it('/req/json/content: JSON by default and for Accept application/json, GeoJSON media type for records', async () => {
    const r = await get(ITEMS(), { headers: { accept: 'application/json' } });
    expect(r.type).toMatch(/^application\/geo\+json/);
    const d = await get(`${R()}/`, { headers: { accept: '*/*' } });
    expect(d.type).toMatch(/^application\/json/);
  });
});

describe('clients', () => {
  it('OWSLib owslib.ogcapi.records.Records: landing page, conformance, collections, queryables, search and a record', () => {
    const py = spawnSync('/usr/bin/python3', [join(ROOT, 'test/catalogue/owslib_records_check.py'), R(), CADASTRE], { encoding: 'utf8', timeout: 60_000 });
    expect(py.status, py.stderr + py.stdout).toBe(0);
    const out = JSON.parse(py.stdout);
    expect(out.collections).toContain('metadata');
    expect(out.collections).toContain(`source-${sourceId}`);
    expect(out.conformance).toContain('http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/core');
    expect(out.matched).toBe(total);
    expect(out.cadastre).toContain(CADASTRE);
    expect(out.record.id).toBe(CADASTRE);
    expect(out.queryables).toContain('title');
  });
});
