/**
 * Profiles by configuration (SDI_CSW_PROFILE, issue 12): a Dublin Core catalogue (CSW 2.0.2 alone), ISO AP 1.0
 * (OGC 07-045), ISO AP + INSPIRE discovery (TG Discovery Services 3.1), each on a catalogue of its own (own
 * database and server process). What each advertises (capabilities valid against CSW-discovery.xsd), DescribeRecord
 * (CSW 2.0.2 §10.6), GetDomain (§10.5) and what GetRecords / GetRecordById accept (§10.8.4.x: a value outside the
 * advertised domain is InvalidParameterValue).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { get } from '../helpers.js';
import { CSW, exception, FIXTURES, GMD, validateCapabilities, validateCsw } from './setup.js';
import { startOwnCatalogue, type OwnCatalogue } from './own-catalogue.js';

const ISO_FILE = 'owslib-geobretagne-cadastre-2018.xml';
const ISO_ID = '955c3e47-411e-4969-b61b-3556d1b9f879';
const DC_RECORD =
  `<csw:Record xmlns:csw="${CSW}" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dct="http://purl.org/dc/terms/">` +
  '<dc:identifier>profile-dc-1</dc:identifier><dc:title>Sentiers</dc:title><dc:type>dataset</dc:type></csw:Record>';

const cats: Partial<Record<'dc' | 'iso' | 'inspire', OwnCatalogue>> = {};

beforeAll(async () => {
  const docs = [readFileSync(join(FIXTURES, ISO_FILE), 'utf8'), DC_RECORD];
  for (const p of ['dc', 'iso', 'inspire'] as const) cats[p] = await startOwnCatalogue(`prof${p}`, docs, { SDI_CSW_PROFILE: p });
}, 180_000);

afterAll(async () => {
  for (const c of Object.values(cats)) await c?.close();
});

const kvp = (p: 'dc' | 'iso' | 'inspire', q: string) => get(`${cats[p]!.base}/csw?service=CSW&version=2.0.2&${q}`);
const caps = async (p: 'dc' | 'iso' | 'inspire') => {
  const r = await kvp(p, 'request=GetCapabilities');
  expect(r.status).toBe(200);
  const v = validateCapabilities(r.body);
  expect(v.ok, `${p}: ${v.output}`).toBe(true);
  return r.body;
};
const parameterValues = (xml: string, op: string, name: string) => {
  const opXml = new RegExp(`<ows:Operation name="${op}">([\\s\\S]*?)</ows:Operation>`).exec(xml)?.[1] ?? '';
  const p = new RegExp(`<ows:(?:Parameter|Constraint) name="${name}">([\\s\\S]*?)</ows:(?:Parameter|Constraint)>`).exec(opXml)?.[1];
  return p === undefined ? undefined : [...p.matchAll(/<ows:Value>([^<]*)<\/ows:Value>/g)].map((m) => m[1]!);
};
const schemaComponents = (xml: string) => [...xml.matchAll(/<csw:SchemaComponent [^>]*targetNamespace="([^"]+)"/g)].map((m) => m[1]);

describe('SDI_CSW_PROFILE=dc: a Dublin Core catalogue', () => {
  it('capabilities (CSW 2.0.2 §10.5.5): no ISO type name, output schema, queryable, profile or INSPIRE extension', async () => {
    const xml = await caps('dc');
    expect(parameterValues(xml, 'GetRecords', 'typeNames')).toEqual(['csw:Record']);
    expect(parameterValues(xml, 'GetRecords', 'outputSchema')).not.toContain(GMD);
    expect(parameterValues(xml, 'GetRecordById', 'outputSchema')).not.toContain(GMD);
    expect(parameterValues(xml, 'DescribeRecord', 'typeName')).toEqual(['csw:Record']);
    expect(parameterValues(xml, 'GetRecords', 'SupportedISOQueryables')).toBeUndefined();
    expect(parameterValues(xml, 'GetRecords', 'AdditionalQueryables')).toBeUndefined();
    expect(parameterValues(xml, 'GetRecords', 'SupportedDublinCoreQueryables')).toContain('dc:title');
    expect(xml).not.toContain('apiso:');
    expect(xml).not.toContain('IsoProfiles');
    expect(xml).not.toContain('<inspire_ds:ExtendedCapabilities');
  });

  it('GetRecords / GetRecordById: gmd:MD_Metadata and the ISO output schema are InvalidParameterValue; the ISO record is served in Dublin Core', async () => {
    for (const [q, locator] of [
      ['request=GetRecords&typeNames=gmd:MD_Metadata&resultType=results', 'typeNames'],
      [`request=GetRecords&typeNames=csw:Record&resultType=results&outputSchema=${GMD}`, 'outputSchema'],
      [`request=GetRecordById&id=${ISO_ID}&outputSchema=${GMD}`, 'outputSchema'],
    ] as const) {
      const r = await kvp('dc', q);
      expect({ status: r.status, ...exception(r.body), text: null }, q).toEqual({ status: 400, code: 'InvalidParameterValue', locator, text: null });
    }
    const r = await kvp('dc', `request=GetRecordById&id=${ISO_ID}&elementSetName=full`);
    expect(r.status).toBe(200);
    expect(validateCsw(r.body).ok).toBe(true);
    expect(r.body).toContain(`<dc:identifier>${ISO_ID}</dc:identifier>`);
  });

  it('DescribeRecord (§10.6): csw:Record only; gmd:MD_Metadata gets no schema component here', async () => {
    expect(schemaComponents((await kvp('dc', 'request=DescribeRecord')).body)).toEqual([CSW]);
    const r = await kvp('dc', `request=DescribeRecord&typeName=gmd:MD_Metadata&namespace=xmlns(gmd=${GMD})`);
    expect(r.status).toBe(200);
    expect(validateCsw(r.body).ok).toBe(true);
    expect(schemaComponents(r.body)).toEqual([]);
  });

  it('GetDomain (§10.5): the parameters list what the capabilities list', async () => {
    const r = await kvp('dc', 'request=GetDomain&parameterName=GetRecords.outputSchema,GetRecords.typeNames,DescribeRecord.typeName');
    expect(r.status).toBe(200);
    const values = [...r.body.matchAll(/<csw:Value>([^<]*)<\/csw:Value>/g)].map((m) => m[1]);
    expect(values).not.toContain(GMD);
    expect(values).not.toContain('gmd:MD_Metadata');
    expect(values).toContain('csw:Record');
    // PropertyName: the Dublin Core queryables only.
    const dc = await kvp('dc', 'request=GetDomain&propertyName=dc:type');
    expect(dc.status).toBe(200);
    expect(dc.body).toContain('<csw:Value>dataset</csw:Value>');
    const iso = await kvp('dc', 'request=GetDomain&propertyName=apiso:TopicCategory');
    expect({ status: iso.status, code: exception(iso.body).code, locator: exception(iso.body).locator }).toEqual({ status: 400, code: 'InvalidParameterValue', locator: 'PropertyName' });
    expect((await kvp('iso', 'request=GetDomain&propertyName=apiso:TopicCategory')).status).toBe(200);
  });
});

describe('SDI_CSW_PROFILE=dc: ISO queryables in a filter or a sort key', () => {
  const constraint = (filter: string) => `request=GetRecords&typeNames=csw:Record&resultType=results&constraintLanguage=FILTER&constraint_language_version=1.1.0&constraint=${encodeURIComponent(filter)}`;
  const ogc = (body: string) => `<ogc:Filter xmlns:ogc="http://www.opengis.net/ogc">${body}</ogc:Filter>`;
  const equal = (name: string, value: string) => ogc(`<ogc:PropertyIsEqualTo><ogc:PropertyName>${name}</ogc:PropertyName><ogc:Literal>${value}</ogc:Literal></ogc:PropertyIsEqualTo>`);

  // CSW 2.0.2 (OGC 07-006r1) §10.8.4.11 and Table 6: a Dublin Core catalogue searches the core queryables; a name
  // outside what its capabilities advertise is an InvalidParameterValue (OWS 1.0 §8, Table 25), the name the locator.
  it('§10.8.4.11: apiso: names and ISO queryables (KVP Filter, CQL, XML POST, SortBy) are InvalidParameterValue, the queryable the locator', async () => {
    for (const [q, locator] of [
      [constraint(equal('apiso:TopicCategory', 'planningCadastre')), 'apiso:TopicCategory'],
      [constraint(equal('apiso:Title', 'Sentiers')), 'apiso:Title'],
      [constraint(equal('OrganisationName', 'x')), 'OrganisationName'],
      [constraint(ogc(`<ogc:And>${equal('dc:title', 'Sentiers').replace(/<\/?ogc:Filter[^>]*>/g, '')}${equal('apiso:ResourceLanguage', 'fre').replace(/<\/?ogc:Filter[^>]*>/g, '')}</ogc:And>`)), 'apiso:ResourceLanguage'],
      [`request=GetRecords&typeNames=csw:Record&resultType=results&constraintLanguage=CQL_TEXT&constraint=${encodeURIComponent("apiso:Denominator > 1000")}`, 'apiso:Denominator'],
      ['request=GetRecords&typeNames=csw:Record&resultType=results&sortBy=apiso:RevisionDate:D', 'apiso:RevisionDate'],
    ] as const) {
      const r = await kvp('dc', q);
      expect({ status: r.status, ...exception(r.body), text: null }, q).toEqual({ status: 400, code: 'InvalidParameterValue', locator, text: null });
    }
    const xml =
      `<csw:GetRecords xmlns:csw="${CSW}" xmlns:ogc="http://www.opengis.net/ogc" service="CSW" version="2.0.2" resultType="results">` +
      `<csw:Query typeNames="csw:Record"><csw:ElementSetName>brief</csw:ElementSetName><csw:Constraint version="1.1.0">${equal('apiso:Type', 'dataset')}</csw:Constraint></csw:Query></csw:GetRecords>`;
    const post = await fetch(`${cats.dc!.base}/csw`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
    const body = await post.text();
    expect({ status: post.status, ...exception(body), text: null }).toEqual({ status: 400, code: 'InvalidParameterValue', locator: 'apiso:Type', text: null });
  });

  it('§10.8.4.11 Table 6: the Dublin Core queryables (any prefix but apiso:) still search; the ISO catalogue takes the apiso: names', async () => {
    for (const f of [equal('dc:title', 'Sentiers'), equal('Title', 'Sentiers'), equal('csw:AnyText', 'Sentiers')]) {
      const r = await kvp('dc', constraint(f));
      expect(r.status, r.body.slice(0, 300)).toBe(200);
      expect(r.body).toContain('numberOfRecordsMatched="1"');
    }
    const iso = await kvp('iso', constraint(equal('apiso:TopicCategory', 'planningCadastre')));
    expect(iso.status, iso.body.slice(0, 300)).toBe(200);
    // GetDomain in the Dublin Core catalogue: an apiso: name of a Dublin Core element is refused too.
    const d = await kvp('dc', 'request=GetDomain&propertyName=apiso:Type');
    expect({ status: d.status, locator: exception(d.body).locator }).toEqual({ status: 400, locator: 'PropertyName' });
  });
});

describe('SDI_CSW_PROFILE=iso: CSW ISO AP 1.0 without INSPIRE', () => {
  it('capabilities: gmd:MD_Metadata, the ISO output schema and the apiso: queryables, no INSPIRE extension nor bare INSPIRE names', async () => {
    const xml = await caps('iso');
    expect(parameterValues(xml, 'GetRecords', 'typeNames')).toEqual(['csw:Record', 'gmd:MD_Metadata']);
    expect(parameterValues(xml, 'GetRecords', 'outputSchema')).toContain(GMD);
    const supported = parameterValues(xml, 'GetRecords', 'SupportedISOQueryables')!;
    expect(supported).toContain('apiso:Title');
    expect(supported.every((n) => n.startsWith('apiso:'))).toBe(true);
    expect(parameterValues(xml, 'GetRecords', 'AdditionalQueryables')!.every((n) => n.startsWith('apiso:'))).toBe(true);
    expect(xml).not.toContain('<inspire_ds:ExtendedCapabilities');
    const r = await kvp('iso', `request=GetRecordById&id=${ISO_ID}&outputSchema=${GMD}`);
    expect(r.status).toBe(200);
    expect(r.body).toContain('<gmd:MD_Metadata');
  });
});

describe('SDI_CSW_PROFILE=inspire (default): ISO AP + INSPIRE discovery', () => {
  it('capabilities: the INSPIRE extended capabilities and the bare names the INSPIRE validator compares', async () => {
    const xml = await caps('inspire');
    expect(xml).toContain('<inspire_ds:ExtendedCapabilities');
    expect(parameterValues(xml, 'GetRecords', 'SupportedISOQueryables')).toContain('Language');
    expect(parameterValues(xml, 'GetRecords', 'AdditionalQueryables')).toContain('Degree');
  });
});
