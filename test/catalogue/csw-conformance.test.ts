/**
 * CSW 2.0.2 conformance of GetRecords queries on the Dublin Core queryables (issue 12), on a catalogue of this
 * suite's own (own database and server, see own-catalogue.ts) holding only the csw:Record documents below, so
 * that every expected answer is known exactly. Clauses: OGC 07-006r1 (CSW 2.0.2), OGC 04-095 (Filter 1.1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get, xmllint } from '../helpers.js';
import { CSW, exception, recordIds, validateCapabilities, validateCsw } from './setup.js';
import { startOwnCatalogue, type OwnCatalogue } from './own-catalogue.js';
import { execFileSync } from 'node:child_process';

const DC = 'http://purl.org/dc/elements/1.1/';
const DCT = 'http://purl.org/dc/terms/';
const OWS = 'http://www.opengis.net/ows';

const record = (body: string) => `<csw:Record xmlns:csw="${CSW}" xmlns:dc="${DC}" xmlns:dct="${DCT}" xmlns:ows="${OWS}">${body}</csw:Record>`;

const RECORDS = [
  record(
    '<dc:identifier>conf-1</dc:identifier><dc:title>Réseau hydrographique</dc:title><dc:type>http://purl.org/dc/dcmitype/Image</dc:type>' +
      '<dc:subject>eau</dc:subject><dc:subject>rivière</dc:subject><dc:format>GeoJSON</dc:format><dc:format>Shapefile</dc:format>' +
      '<dc:relation>conf-2</dc:relation><dc:relation>urn:example:parent</dc:relation><dct:modified>2024-01-01</dct:modified>' +
      '<dct:spatial>Somme</dct:spatial><dct:spatial>Picardie</dct:spatial>' +
      '<ows:BoundingBox crs="urn:ogc:def:crs:EPSG::4326"><ows:LowerCorner>49.7 1.5</ows:LowerCorner><ows:UpperCorner>50.2 2.5</ows:UpperCorner></ows:BoundingBox>',
  ),
  record(
    '<dc:identifier>conf-2</dc:identifier><dc:title>Routes</dc:title><dc:type>dataset</dc:type><dc:subject>transport</dc:subject>' +
      '<dc:format>GML</dc:format><dc:relation>conf-1</dc:relation><dct:modified>2025-06-01</dct:modified><dct:spatial>Amiens</dct:spatial>',
  ),
  record('<dc:identifier>conf-5</dc:identifier><dc:title>Photo aérienne</dc:title><dc:type>http://purl.org/dc/dcmitype/StillImage</dc:type><dc:date>2020-05-04</dc:date>' +
    '<dc:relation>conf-1</dc:relation><dc:relation>http://example.org/related</dc:relation><dct:spatial>Somme</dct:spatial><dc:rights>CC-BY</dc:rights>' +
    '<ows:WGS84BoundingBox><ows:LowerCorner>1.5 49.7</ows:LowerCorner><ows:UpperCorner>2.5 50.2</ows:UpperCorner></ows:WGS84BoundingBox>'),
  record('<dc:identifier>conf-3</dc:identifier><dc:title>100% bio_logique</dc:title><dct:alternative>Agriculture biologique</dct:alternative><dc:type>dataset</dc:type><dc:subject>agriculture</dc:subject>'),
  record(
    '<dc:identifier>conf-4</dc:identifier><dc:title>Zones humides</dc:title><dc:type>service</dc:type><dc:subject>EAU</dc:subject>' +
      '<dct:modified>2023-03-03</dct:modified>',
  ),
];
const OURS = ['conf-1', 'conf-2', 'conf-3', 'conf-4', 'conf-5'];

let cat: OwnCatalogue;

beforeAll(async () => {
  cat = await startOwnCatalogue('cswconf', RECORDS);
  // Only these records, besides the platform's own service records (if any).
  const held = await cat.identifiers();
  for (const id of OURS) expect(held).toContain(id);
});

afterAll(async () => {
  await cat?.close();
});

const getRecords = (filter: string, query = '') =>
  `<csw:GetRecords xmlns:csw="${CSW}" xmlns:ogc="http://www.opengis.net/ogc" xmlns:gml="http://www.opengis.net/gml" service="CSW" version="2.0.2" resultType="results" maxRecords="100">` +
  `<csw:Query typeNames="csw:Record"><csw:ElementSetName>brief</csw:ElementSetName>` +
  (filter ? `<csw:Constraint version="1.1.0"><ogc:Filter>${filter}</ogc:Filter></csw:Constraint>` : '') +
  `${query}</csw:Query></csw:GetRecords>`;

const post = (xml: string) => get(`${cat.base}/csw`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });

const prop = (name: string) => `<ogc:PropertyName>${name}</ogc:PropertyName>`;
const lit = (v: string) => `<ogc:Literal>${v}</ogc:Literal>`;
const eq = (name: string, v: string, attrs = '') => `<ogc:PropertyIsEqualTo${attrs}>${prop(name)}${lit(v)}</ogc:PropertyIsEqualTo>`;
const ne = (name: string, v: string, attrs = '') => `<ogc:PropertyIsNotEqualTo${attrs}>${prop(name)}${lit(v)}</ogc:PropertyIsNotEqualTo>`;

/** Our records the filter selects, in the order of the answer. */
async function found(filter: string, query = ''): Promise<string[]> {
  const r = await post(getRecords(filter, query));
  expect(r.status, r.body.slice(0, 600)).toBe(200);
  return recordIds(r.body).filter((id) => OURS.includes(id));
}
const sorted = async (filter: string) => (await found(filter)).sort();

async function refused(filter: string): Promise<{ status: number; code: string | null; locator: string | null }> {
  const r = await post(getRecords(filter));
  const { code, locator } = exception(r.body);
  return { status: r.status, code, locator };
}

describe('Dublin Core queryables: repeated elements (CSW 2.0.2 §10.8.4.11, a predicate holds when one value satisfies it)', () => {
  it('dc:subject and dc:format match any of their values', async () => {
    expect(await sorted(eq('dc:subject', 'rivière'))).toEqual(['conf-1']);
    expect(await sorted(eq('dc:format', 'Shapefile'))).toEqual(['conf-1']);
    expect(await sorted(eq('dc:format', 'GeoJSON'))).toEqual(['conf-1']);
  });

  it('dc:relation holds every relation of a Dublin Core record', async () => {
    expect(await sorted(eq('dc:relation', 'urn:example:parent'))).toEqual(['conf-1']);
    expect(await sorted(eq('dc:relation', 'conf-2'))).toEqual(['conf-1']);
    expect(await sorted(eq('dc:relation', 'conf-1'))).toEqual(['conf-2', 'conf-5']);
  });

  it('dc:type matches the value as written (a DCMI Type URI) as well as its short form', async () => {
    expect(await sorted(eq('dc:type', 'http://purl.org/dc/dcmitype/Image'))).toEqual(['conf-1']);
    expect(await sorted(eq('dc:type', 'image'))).toEqual(['conf-1']);
    expect(await sorted(eq('dc:type', 'dataset'))).toEqual(['conf-2', 'conf-3']);
  });

  it('dct:spatial is the text of the record\'s dct:spatial elements', async () => {
    expect(await sorted(eq('dct:spatial', 'Picardie'))).toEqual(['conf-1']);
    expect(await sorted(`<ogc:PropertyIsLike wildCard="%" singleChar="_" escapeChar="\\">${prop('dct:spatial')}${lit('Ami%')}</ogc:PropertyIsLike>`)).toEqual(['conf-2']);
  });
});

describe('Filter 1.1 operators (OGC 04-095)', () => {
  it('PropertyIsLike uses the request\'s own wildCard, singleChar and escapeChar (§11.3)', async () => {
    const like = (pattern: string) => `<ogc:PropertyIsLike wildCard="*" singleChar="." escapeChar="!">${prop('dc:title')}${lit(pattern)}</ogc:PropertyIsLike>`;
    expect(await sorted(like('R.utes'))).toEqual(['conf-2']);
    expect(await sorted(like('*humides'))).toEqual(['conf-4']);
    // % and _ are ordinary characters here; ! escapes the wildcard.
    expect(await sorted(like('100% bio_*'))).toEqual(['conf-3']);
    expect(await sorted(like('R_utes'))).toEqual([]);
    expect(await sorted(like('100%*'))).toEqual(['conf-3']);
    expect(await sorted(like('Routes!*'))).toEqual([]);
    expect(await sorted(like('Route.!.'))).toEqual([]);
  });

  it('matchCase="false" ignores case, on single and repeated elements (§11.3)', async () => {
    expect(await sorted(eq('dc:title', 'ROUTES'))).toEqual([]);
    expect(await sorted(eq('dc:title', 'ROUTES', ' matchCase="false"'))).toEqual(['conf-2']);
    expect(await sorted(eq('dc:subject', 'eau'))).toEqual(['conf-1']);
    expect(await sorted(eq('dc:subject', 'eau', ' matchCase="false"'))).toEqual(['conf-1', 'conf-4']);
    const like = `<ogc:PropertyIsLike wildCard="%" singleChar="_" escapeChar="\\" matchCase="false">${prop('dc:title')}${lit('zones%')}</ogc:PropertyIsLike>`;
    expect(await sorted(like)).toEqual(['conf-4']);
  });

  it('PropertyIsNotEqualTo: no value of the element is equal (§11.3)', async () => {
    expect(await sorted(ne('dc:type', 'dataset'))).toEqual(['conf-1', 'conf-4', 'conf-5']);
    expect(await sorted(ne('dc:type', 'http://purl.org/dc/dcmitype/Image'))).toEqual(['conf-2', 'conf-3', 'conf-4', 'conf-5']);
    expect(await sorted(ne('dc:subject', 'eau'))).toEqual(['conf-2', 'conf-3', 'conf-4', 'conf-5']);
  });

  it('Not, And and Or nest (§11.4)', async () => {
    const f =
      `<ogc:Or><ogc:And>${eq('dc:subject', 'eau', ' matchCase="false"')}<ogc:Not>${eq('dc:type', 'service')}</ogc:Not></ogc:And>` +
      `<ogc:Not><ogc:Or>${eq('dc:type', 'service')}${eq('dc:type', 'image')}<ogc:PropertyIsLike wildCard="%" singleChar="_" escapeChar="\\">${prop('dc:title')}${lit('100%')}</ogc:PropertyIsLike></ogc:Or></ogc:Not></ogc:Or>`;
    expect(await sorted(f)).toEqual(['conf-1', 'conf-2', 'conf-5']);
  });

  it('filter functions upper, lower, length, trim, ltrim, rtrim in comparisons and PropertyIsLike (§12)', async () => {
    const fn = (name: string, arg: string) => `<ogc:Function name="${name}">${arg}</ogc:Function>`;
    const cmp = (op: string, left: string, v: string) => `<ogc:${op}>${left}${lit(v)}</ogc:${op}>`;
    expect(await sorted(cmp('PropertyIsEqualTo', fn('upper', prop('dc:title')), 'ROUTES'))).toEqual(['conf-2']);
    expect(await sorted(cmp('PropertyIsEqualTo', fn('lower', prop('dc:subject')), 'eau'))).toEqual(['conf-1', 'conf-4']);
    expect(await sorted(cmp('PropertyIsEqualTo', fn('length', prop('dc:title')), '6'))).toEqual(['conf-2']);
    expect(await sorted(cmp('PropertyIsGreaterThan', fn('length', fn('trim', prop('dc:title'))), '15'))).toEqual(['conf-1', 'conf-3']);
    expect(await sorted(cmp('PropertyIsEqualTo', fn('ltrim', fn('rtrim', prop('dc:format'))), 'GML'))).toEqual(['conf-2']);
    expect(await sorted(`<ogc:PropertyIsLike wildCard="%" singleChar="_" escapeChar="\\">${fn('UPPER', prop('dc:title'))}${lit('ZONES%')}</ogc:PropertyIsLike>`)).toEqual(['conf-4']);
    // The literal may come first.
    expect(await sorted(`<ogc:PropertyIsEqualTo>${lit('routes')}${fn('lower', prop('dc:title'))}</ogc:PropertyIsEqualTo>`)).toEqual(['conf-2']);
  });

  it('functions in CQL_TEXT too', async () => {
    const q = encodeURIComponent(`upper(dc:title) = 'ROUTES'`);
    const r = await get(`${cat.base}/csw?service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=results&elementSetName=brief&constraintLanguage=CQL_TEXT&constraint_language_version=1.1.0&constraint=${q}`);
    expect(r.status, r.body.slice(0, 500)).toBe(200);
    expect(recordIds(r.body).filter((id) => OURS.includes(id))).toEqual(['conf-2']);
  });
});

describe('SortBy (CSW 2.0.2 §10.8.4.12)', () => {
  it('records without a value come after the others, in a DESC as in an ASC sort', async () => {
    const sortBy = (order: string) => `<ogc:SortBy><ogc:SortProperty>${prop('dct:modified')}<ogc:SortOrder>${order}</ogc:SortOrder></ogc:SortProperty></ogc:SortBy>`;
    expect(await found('', sortBy('DESC'))).toEqual(['conf-2', 'conf-1', 'conf-4', 'conf-5', 'conf-3']);
    expect(await found('', sortBy('ASC'))).toEqual(['conf-5', 'conf-4', 'conf-1', 'conf-2', 'conf-3']);
    const r = await post(getRecords('', sortBy('DESC')));
    const v = validateCsw(r.body);
    expect(v.ok, v.output).toBe(true);
  });
});

describe('Refused filters (CSW 2.0.2 §10.3.7 exception codes)', () => {
  const bbox = (name: string) => `<ogc:BBOX>${prop(name)}<gml:Envelope><gml:lowerCorner>49 1</gml:lowerCorner><gml:upperCorner>51 3</gml:upperCorner></gml:Envelope></ogc:BBOX>`;

  it('the spatial queryable answers BBOX; a BBOX on a property that is not spatial is InvalidParameterValue', async () => {
    expect(await sorted(bbox('ows:BoundingBox'))).toEqual(['conf-1', 'conf-5']);
    for (const name of ['dc:title', 'dct:spatial', 'dc:subject']) {
      expect(await refused(bbox(name)), name).toEqual({ status: 400, code: 'InvalidParameterValue', locator: 'Constraint' });
    }
  });

  it('a Literal holding XML is InvalidParameterValue: OWS 1.0 (OGC 05-008 Table 20) has no OperationProcessingFailed', async () => {
    const xmlLiteral = `<ogc:PropertyIsEqualTo>${prop('dc:title')}<ogc:Literal><gml:Envelope xmlns:gml="http://www.opengis.net/gml"><gml:lowerCorner>0 0</gml:lowerCorner><gml:upperCorner>1 1</gml:upperCorner></gml:Envelope></ogc:Literal></ogc:PropertyIsEqualTo>`;
    expect(await refused(xmlLiteral)).toEqual({ status: 400, code: 'InvalidParameterValue', locator: 'Constraint' });
  });

  it('a filter element in a namespace other than Filter Encoding or GML is NoApplicableCode', async () => {
    const foreign = `<x:PropertyIsEqualTo xmlns:x="urn:example:not-a-filter">${prop('dc:title')}${lit('Routes')}</x:PropertyIsEqualTo>`;
    expect(await refused(foreign)).toEqual({ status: 400, code: 'NoApplicableCode', locator: 'Constraint' });
    const whole = getRecords('').replace('</csw:Query>', `<csw:Constraint version="1.1.0"><x:Filter xmlns:x="urn:example:other">${eq('dc:title', 'Routes')}</x:Filter></csw:Constraint></csw:Query>`);
    const r = await post(whole);
    expect({ status: r.status, ...exception(r.body) }).toMatchObject({ status: 400, code: 'NoApplicableCode', locator: 'Constraint' });
    // The same in a GET request's CONSTRAINT.
    const kvp = encodeURIComponent(`<ogc:Filter xmlns:ogc="http://www.opengis.net/ogc"><y:Foo xmlns:y="urn:example:y"/></ogc:Filter>`);
    const g = await get(`${cat.base}/csw?service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&constraintLanguage=FILTER&constraint_language_version=1.1.0&constraint=${kvp}`);
    expect({ status: g.status, ...exception(g.body) }).toMatchObject({ status: 400, code: 'NoApplicableCode', locator: 'Constraint' });
  });

  it('an unknown function is NoApplicableCode; a known one with the wrong arity InvalidParameterValue', async () => {
    const call = (name: string, args: string) => `<ogc:PropertyIsEqualTo><ogc:Function name="${name}">${args}</ogc:Function>${lit('x')}</ogc:PropertyIsEqualTo>`;
    expect(await refused(call('soundex', prop('dc:title')))).toEqual({ status: 400, code: 'NoApplicableCode', locator: 'Constraint' });
    expect(await refused(call('upper', prop('dc:title') + prop('dc:subject')))).toEqual({ status: 400, code: 'InvalidParameterValue', locator: 'Constraint' });
  });
});

describe('GetCapabilities (CSW 2.0.2 §10.5, ISO AP 1.0 §7.2.4, Filter 1.1 §13)', () => {
  let caps = '';
  const values = (name: string, kind = 'Constraint', within = caps) =>
    [...(new RegExp(`<ows:${kind} name="${name}">([\\s\\S]*?)</ows:${kind}>`).exec(within)?.[1] ?? '').matchAll(/<ows:Value>([^<]*)<\/ows:Value>/g)].map((m) => m[1]!);
  const operation = (name: string) => new RegExp(`<ows:Operation name="${name}">([\\s\\S]*?)</ows:Operation>`).exec(caps)?.[1] ?? '';

  beforeAll(async () => {
    const r = await get(`${cat.base}/csw?service=CSW&version=2.0.2&request=GetCapabilities`);
    expect(r.status).toBe(200);
    caps = r.body;
    const v = validateCapabilities(caps);
    expect(v.ok, v.output).toBe(true);
  });

  it('names the ISO AP queryables with their apiso: prefix, and repeats bare the names the INSPIRE validator compares', () => {
    const supported = values('SupportedISOQueryables');
    for (const q of ['apiso:Subject', 'apiso:Title', 'apiso:Abstract', 'apiso:AnyText', 'apiso:Format', 'apiso:Identifier', 'apiso:Modified', 'apiso:Type', 'apiso:BoundingBox', 'apiso:CRS', 'apiso:AlternateTitle', 'apiso:RevisionDate', 'apiso:CreationDate', 'apiso:PublicationDate', 'apiso:OrganisationName', 'apiso:HasSecurityConstraints', 'apiso:Language', 'apiso:ResourceIdentifier', 'apiso:ParentIdentifier', 'apiso:KeywordType', 'apiso:TopicCategory', 'apiso:ResourceLanguage', 'apiso:GeographicDescriptionCode', 'apiso:Denominator', 'apiso:DistanceValue', 'apiso:DistanceUOM', 'apiso:TempExtent_begin', 'apiso:TempExtent_end', 'apiso:ServiceType', 'apiso:ServiceTypeVersion', 'apiso:Operation', 'apiso:OperatesOn', 'apiso:OperatesOnIdentifier', 'apiso:OperatesOnName', 'apiso:CouplingType']) {
      expect(supported).toContain(q);
    }
    expect(supported.filter((q) => !q.startsWith('apiso:'))).toEqual(['Language']);
    const additional = values('AdditionalQueryables');
    const ten = ['Degree', 'AccessConstraints', 'OtherConstraints', 'Classification', 'ConditionApplyingToAccessAndUse', 'Lineage', 'ResponsiblePartyRole', 'SpecificationTitle', 'SpecificationDate', 'SpecificationDateType'];
    for (const q of ten) expect(additional).toContain(`apiso:${q}`);
    expect(additional.filter((q) => !q.startsWith('apiso:'))).toEqual(ten);
  });

  it('lists the Dublin Core queryables, dct:alternative and dct:spatial included', () => {
    const dc = values('SupportedDublinCoreQueryables');
    for (const q of ['csw:AnyText', 'dc:title', 'dct:alternative', 'dct:abstract', 'dc:subject', 'dc:identifier', 'dct:modified', 'dc:type', 'dc:format', 'dc:relation', 'dct:spatial', 'ows:BoundingBox']) expect(dc).toContain(q);
  });

  it('every advertised queryable can be used in a filter', async () => {
    const all = [...values('SupportedISOQueryables'), ...values('AdditionalQueryables'), ...values('SupportedDublinCoreQueryables')];
    expect(all.length).toBeGreaterThan(60);
    for (const q of all) {
      const r = await post(getRecords(`<ogc:PropertyIsNull>${prop(q)}</ogc:PropertyIsNull>`));
      expect(r.status, `${q}: ${r.body.slice(0, 300)}`).toBe(200);
    }
    expect(await sorted(eq('dct:alternative', 'Agriculture biologique'))).toEqual(['conf-3']);
    expect(await sorted(eq('apiso:AlternateTitle', 'Agriculture biologique'))).toEqual(['conf-3']);
  });

  it('advertises the filter functions with their arity, and each is usable (Filter 1.1 §12, filterCapabilities.xsd)', async () => {
    const fns = [...caps.matchAll(/<ogc:FunctionName nArgs="(\d+)">([^<]+)<\/ogc:FunctionName>/g)].map((m) => [m[2], m[1]]);
    expect(Object.fromEntries(fns)).toEqual({ upper: '1', lower: '1', length: '1', trim: '1', ltrim: '1', rtrim: '1' });
    for (const [name] of fns) {
      const r = await post(getRecords(`<ogc:PropertyIsNotEqualTo><ogc:Function name="${name}">${prop('dc:title')}</ogc:Function>${lit('0')}</ogc:PropertyIsNotEqualTo>`));
      expect(r.status, `${name}: ${r.body.slice(0, 300)}`).toBe(200);
    }
  });

  it('GetDomain answers every ParameterName the capabilities advertise, in OperationName.ParameterName form (§10.7)', async () => {
    const names = values('ParameterName', 'Parameter', operation('GetDomain'));
    for (const n of ['GetRecords.resultType', 'GetRecords.outputSchema', 'GetRecords.typeNames', 'GetRecords.CONSTRAINTLANGUAGE', 'GetRecordById.ElementSetName', 'DescribeRecord.typeName', 'Transaction.TransactionSchemas', 'Harvest.ResourceType']) {
      expect(names).toContain(n);
    }
    for (const n of names) {
      expect(n).toMatch(/^[A-Za-z]+\.[A-Za-z]+$/);
      const r = await get(`${cat.base}/csw?service=CSW&version=2.0.2&request=GetDomain&parameterName=${n}`);
      expect(r.status, n).toBe(200);
      const v = validateCsw(r.body);
      expect(v.ok, v.output).toBe(true);
      // The values GetDomain lists are those the capabilities advertise for the operation's parameter.
      const [op, param] = n.split('.') as [string, string];
      const advertised = values(param, 'Parameter', operation(op));
      const listed = [...r.body.matchAll(/<csw:Value>([^<]*)<\/csw:Value>/g)].map((m) => m[1]);
      expect(listed, n).toEqual(advertised);
    }
  });
});

describe('DescribeRecord (CSW 2.0.2 §10.6)', () => {
  const describeRecord = (query: string) => get(`${cat.base}/csw?service=CSW&version=2.0.2&request=DescribeRecord${query}`);

  it('gives one schema component per supported type name, all of them without TypeName', async () => {
    for (const [query, namespaces] of [
      ['', [CSW, 'http://www.isotc211.org/2005/gmd']],
      ['&typeName=csw:Record', [CSW]],
      ['&typeName=gmd:MD_Metadata&namespace=xmlns(gmd=http://www.isotc211.org/2005/gmd)', ['http://www.isotc211.org/2005/gmd']],
    ] as const) {
      const r = await describeRecord(query);
      expect(r.status, query).toBe(200);
      const v = validateCsw(r.body);
      expect(v.ok, v.output).toBe(true);
      expect([...r.body.matchAll(/<csw:SchemaComponent [^>]*targetNamespace="([^"]+)"/g)].map((m) => m[1])).toEqual([...namespaces]);
    }
  });

  it('an unknown qualified type name gets no schema component (§10.6.4.3; CSW 2.0.2 test suite DescribeRecord-tc3.1), KVP and POST', async () => {
    for (const r of [
      await describeRecord('&typeName=csw:Nothing'),
      await describeRecord('&typeName=x:Record&namespace=xmlns(x=http://example.org/x)'),
      await post(`<csw:DescribeRecord xmlns:csw="${CSW}" service="CSW" version="2.0.2"><csw:TypeName>csw:Nothing</csw:TypeName></csw:DescribeRecord>`),
    ]) {
      expect(r.status, r.body.slice(0, 300)).toBe(200);
      const v = validateCsw(r.body);
      expect(v.ok, v.output).toBe(true);
      expect(r.body).toContain('<csw:DescribeRecordResponse');
      expect(r.body).not.toContain('<csw:SchemaComponent');
    }
    // Known and unknown together: the known one only.
    const mixed = await describeRecord('&typeName=csw:Nothing,csw:Record');
    expect([...mixed.body.matchAll(/<csw:SchemaComponent [^>]*targetNamespace="([^"]+)"/g)].map((m) => m[1])).toEqual([CSW]);
  });

  it('refuses an unqualified type name (DescribeRecord-tc7.1) and a schema language other than XML Schema', async () => {
    const bare = await describeRecord('&typeName=Record');
    expect({ status: bare.status, code: exception(bare.body).code, locator: exception(bare.body).locator }).toEqual({ status: 400, code: 'InvalidParameterValue', locator: 'typeName' });
    const barePost = await post(`<csw:DescribeRecord xmlns:csw="${CSW}" service="CSW" version="2.0.2"><csw:TypeName>Record</csw:TypeName></csw:DescribeRecord>`);
    expect({ status: barePost.status, code: exception(barePost.body).code, locator: exception(barePost.body).locator }).toEqual({ status: 400, code: 'InvalidParameterValue', locator: 'TypeName' });
    const lang = await describeRecord('&schemaLanguage=http://www.w3.org/TR/xmlschema-1/RELAXNG');
    expect({ status: lang.status, code: exception(lang.body).code, locator: exception(lang.body).locator }).toEqual({ status: 400, code: 'InvalidParameterValue', locator: 'schemaLanguage' });
    const post_ = await post(`<csw:DescribeRecord xmlns:csw="${CSW}" service="CSW" version="2.0.2" schemaLanguage="RELAXNG"><csw:TypeName>csw:Record</csw:TypeName></csw:DescribeRecord>`);
    expect(exception(post_.body).code).toBe('InvalidParameterValue');
  });
});

describe('Dublin Core records served as they are stored (CSW 2.0.2 §10.2.4.2 element sets, record.xsd)', () => {
  const byId = (id: string, extra: string) => get(`${cat.base}/csw?service=CSW&version=2.0.2&request=GetRecordById&id=${id}${extra}`);
  /** The record element of a GetRecordById response, and its children as written. */
  const recordOf = (body: string) => /<csw:GetRecordByIdResponse[^>]*>([\s\S]*)<\/csw:GetRecordByIdResponse>/.exec(body)![1]!;
  const children = (xml: string) => [...xml.replace(/^<csw:\w+[^>]*>|<\/csw:\w+>$/g, '').matchAll(/<((?:dc|dct|ows):\w+)[\s\S]*?<\/\1>/g)].map((m) => m[0]);
  const storedChildren = (i: number) => children(RECORDS[i]!);

  it('full: the stored csw:Record, every element unchanged and nothing added (dc:type URI, dc:date, dc:relation, dct:spatial)', async () => {
    for (const [i, id] of [[0, 'conf-1'], [1, 'conf-2'], [2, 'conf-5'], [3, 'conf-3']] as const) {
      const r = await byId(id, '&elementSetName=full');
      expect(r.status).toBe(200);
      const v = validateCsw(r.body);
      expect(v.ok, v.output).toBe(true);
      expect(storedChildren(i).length).toBeGreaterThanOrEqual(4);
      expect(children(recordOf(r.body)), id).toEqual(storedChildren(i));
    }
    const five = recordOf((await byId('conf-5', '&elementSetName=full')).body);
    expect(five).toContain('<dc:type>http://purl.org/dc/dcmitype/StillImage</dc:type>');
    expect(five).toContain('<dc:date>2020-05-04</dc:date>');
    expect(five).not.toContain('dct:modified');
  });

  it('brief and summary: the stored elements of the element set, in the schema order', async () => {
    const brief = await byId('conf-5', '&elementSetName=brief');
    expect(validateCsw(brief.body).ok, validateCsw(brief.body).output).toBe(true);
    expect(recordOf(brief.body)).toBe(
      '<csw:BriefRecord><dc:identifier>conf-5</dc:identifier><dc:title>Photo aérienne</dc:title><dc:type>http://purl.org/dc/dcmitype/StillImage</dc:type>' +
        '<ows:WGS84BoundingBox><ows:LowerCorner>1.5 49.7</ows:LowerCorner><ows:UpperCorner>2.5 50.2</ows:UpperCorner></ows:WGS84BoundingBox></csw:BriefRecord>',
    );
    const summary = await byId('conf-1', '&elementSetName=summary');
    expect(validateCsw(summary.body).ok, validateCsw(summary.body).output).toBe(true);
    expect(children(recordOf(summary.body)).map((c) => /^<([\w:]+)/.exec(c)![1])).toEqual([
      'dc:identifier', 'dc:title', 'dc:type', 'dc:subject', 'dc:subject', 'dc:format', 'dc:format', 'dc:relation', 'dc:relation', 'dct:modified', 'dct:spatial', 'dct:spatial', 'ows:BoundingBox',
    ]);
    expect(recordOf(summary.body)).toContain('<dc:type>http://purl.org/dc/dcmitype/Image</dc:type>');
  });

  it('ElementName: the stored elements of those names (and the identifier)', async () => {
    const r = await post(getRecords(eq('dc:identifier', 'conf-5')).replace('<csw:ElementSetName>brief</csw:ElementSetName>', '<csw:ElementName>dc:relation</csw:ElementName><csw:ElementName>dc:date</csw:ElementName>'));
    expect(r.status, r.body.slice(0, 400)).toBe(200);
    expect(validateCsw(r.body).ok, validateCsw(r.body).output).toBe(true);
    expect(r.body).toContain('<csw:Record><dc:identifier>conf-5</dc:identifier><dc:date>2020-05-04</dc:date><dc:relation>conf-1</dc:relation><dc:relation>http://example.org/related</dc:relation></csw:Record>');
  });
});

describe('Atom output (outputSchema=http://www.w3.org/2005/Atom, RFC 4287)', () => {
  const ATOM = 'http://www.w3.org/2005/Atom';
  /** Atom has no official XML Schema: an open atom:entry lets the CSW envelope be validated strictly around it. */
  const validateWithAtom = (xml: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'sdi-atom-'));
    writeFileSync(join(dir, 'atom.xsd'), `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="${ATOM}" elementFormDefault="qualified"><xs:element name="entry"><xs:complexType><xs:sequence><xs:any processContents="skip" minOccurs="0" maxOccurs="unbounded" namespace="##any"/></xs:sequence><xs:anyAttribute processContents="skip"/></xs:complexType></xs:element></xs:schema>`);
    return xmllint(xml, 'csw/2.0.2/CSW-discovery.xsd', [{ ns: ATOM, xsd: join(dir, 'atom.xsd') }]);
  };
  const entries = (xml: string) => [...xml.matchAll(/<atom:entry\b[\s\S]*?<\/atom:entry>/g)].map((m) => m[0]);

  it('GetRecords: one atom:entry per record with the required id, title and updated, links and the GeoRSS box', async () => {
    const r = await post(getRecords(eq('dc:identifier', 'conf-1')).replace('resultType="results"', `resultType="results" outputSchema="${ATOM}"`));
    expect(r.status, r.body.slice(0, 400)).toBe(200);
    const v = validateWithAtom(r.body);
    expect(v.ok, v.output).toBe(true);
    expect(r.body).toContain(`recordSchema="${ATOM}"`);
    const [e, ...more] = entries(r.body);
    expect(more).toEqual([]);
    // RFC 4287 §4.1.2: exactly one atom:id (an IRI), atom:title and atom:updated (RFC 3339).
    const id = /<atom:id>([^<]+)<\/atom:id>/.exec(e!)![1]!;
    expect(id).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/csw\?service=CSW&amp;version=2\.0\.2&amp;request=GetRecordById&amp;.*id=conf-1$/);
    expect(e).toContain('<dc:identifier>conf-1</dc:identifier>');
    expect(e).toContain('<atom:title>Réseau hydrographique</atom:title>');
    expect(e).toContain('<atom:updated>2024-01-01T00:00:00Z</atom:updated>');
    expect(e).toContain('<atom:category term="rivière"/>');
    expect(e).toContain('<georss:box>49.7 1.5 50.2 2.5</georss:box>');
    // The alternate link answers: the record itself.
    const alternate = /<atom:link rel="alternate" type="application\/xml" href="([^"]+)"\/>/.exec(e!)![1]!.replace(/&amp;/g, '&');
    const g = await get(alternate);
    expect(g.status).toBe(200);
    expect(g.body).toContain('conf-1');
  });

  it('GetRecordById in Atom; ElementName does not apply to it', async () => {
    const r = await get(`${cat.base}/csw?service=CSW&version=2.0.2&request=GetRecordById&id=conf-3,conf-4&outputSchema=${encodeURIComponent(ATOM)}`);
    expect(r.status).toBe(200);
    const v = validateWithAtom(r.body);
    expect(v.ok, v.output).toBe(true);
    const es = entries(r.body);
    expect(es.map((e) => /<dc:identifier>([^<]+)</.exec(e)![1])).toEqual(['conf-3', 'conf-4']);
    // No date at all: atom:updated is still there (required), the epoch.
    expect(es[0]).toContain('<atom:updated>1970-01-01T00:00:00Z</atom:updated>');
  });
});

describe('OpenSearch 1.1 description and Atom feed (issue 12)', () => {
  const dcIds = (xml: string) => [...xml.matchAll(/<dc:identifier>([^<]+)<\/dc:identifier>/g)].map((m) => m[1]!);

  it('the description names an Atom search URL template with searchTerms, geo:box, startIndex and count', async () => {
    const r = await get(`${cat.base}/csw/opensearch`);
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/opensearchdescription\+xml/);
    expect(r.body).toContain('<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/"');
    const template = /<Url type="application\/atom\+xml" rel="results" template="([^"]+)"\/>/.exec(r.body)![1]!.replace(/&amp;/g, '&');
    expect(template).toBe(`${cat.base}/csw/opensearch/search?q={searchTerms}&bbox={geo:box?}&startIndex={startIndex?}&count={count?}`);
  });

  it('a search answers an Atom feed with the CSW count, entries and a next link that pages through the results', async () => {
    const words = await get(`${cat.base}/csw/opensearch/search?q=humides`);
    expect(words.status, words.body.slice(0, 300)).toBe(200);
    expect(words.type).toMatch(/^application\/atom\+xml/);
    expect(words.body).toContain('<opensearch:totalResults>1</opensearch:totalResults>');
    // Well-formed, namespaces declared (xmllint exits non-zero otherwise).
    execFileSync('xmllint', ['--noout', '--nonet', '-'], { input: words.body });
    expect(words.body).toMatch(/^<\?xml[^>]*\?>\s*<feed xmlns="http:\/\/www\.w3\.org\/2005\/Atom" xmlns:opensearch="http:\/\/a9\.com\/-\/spec\/opensearch\/1\.1\/"><id>/);
    expect(dcIds(words.body)).toEqual(['conf-4']);

    const first = await get(`${cat.base}/csw/opensearch/search?q=&bbox=1,49,3,51&count=1`);
    expect(first.status).toBe(200);
    const total = Number(/<opensearch:totalResults>(\d+)</.exec(first.body)![1]);
    const seen = dcIds(first.body);
    let next = /<link rel="next" type="application\/atom\+xml" href="([^"]+)"\/>/.exec(first.body)?.[1];
    while (next) {
      const page = await get(next.replace(/&amp;/g, '&'));
      expect(page.status).toBe(200);
      seen.push(...dcIds(page.body));
      next = /<link rel="next" type="application\/atom\+xml" href="([^"]+)"\/>/.exec(page.body)?.[1];
    }
    expect(seen).toHaveLength(total);
    expect(seen.filter((id) => OURS.includes(id)).sort()).toEqual(['conf-1', 'conf-5']);
  });

  it('refuses an unknown parameter and a malformed bbox with an exception report', async () => {
    for (const q of ['q=x&foo=1', 'bbox=1,2,3']) {
      const r = await get(`${cat.base}/csw/opensearch/search?${q}`);
      expect(r.status, q).toBe(400);
      expect(exception(r.body).code).toBe('InvalidParameterValue');
    }
  });
});
