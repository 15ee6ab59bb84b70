/**
 * Bad CSW input: each case answers an OWS 1.0.0 ExceptionReport (version 1.2.0) with the right exception code,
 * locator and HTTP status, valid against owsExceptionReport.xsd, and the store is unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, storeFingerprint, xmllint } from '../helpers.js';
import { CSW, cswUrl, exception, loadFixtures, postCsw } from './setup.js';

let before: Record<string, number>;

beforeAll(async () => {
  expect((await loadFixtures()).failed).toEqual([]);
  before = await storeFingerprint();
});

afterAll(async () => {
  expect(await storeFingerprint()).toEqual(before);
});

function expectException(r: { status: number; type: string; body: string }, code: string, locator: string | null, status = 400): void {
  expect(r.status, r.body.slice(0, 400)).toBe(status);
  expect(r.type).toMatch(/xml/);
  expect(r.body).toMatch(/<ows:ExceptionReport xmlns:ows="http:\/\/www\.opengis\.net\/ows" [^>]*version="1\.2\.0"/);
  const e = exception(r.body);
  expect(e.code).toBe(code);
  expect(e.locator).toBe(locator);
  expect(e.text).toBeTruthy();
  expect(xmllint(r.body, 'ows/1.0.0/owsExceptionReport.xsd').output).toContain('validates');
}

const records = (attrs: string, query = 'typeNames="csw:Record"', inner = '<csw:ElementSetName>brief</csw:ElementSetName>') =>
  `<csw:GetRecords xmlns:csw="${CSW}" xmlns:ogc="http://www.opengis.net/ogc" xmlns:gml="http://www.opengis.net/gml" service="CSW" version="2.0.2" resultType="results" ${attrs}><csw:Query ${query}>${inner}</csw:Query></csw:GetRecords>`;
const constraint = (filter: string) => `<csw:ElementSetName>brief</csw:ElementSetName><csw:Constraint version="1.1.0"><ogc:Filter>${filter}</ogc:Filter></csw:Constraint>`;
const kvp = (q: string) => get(cswUrl(`service=CSW&version=2.0.2&${q}`));

describe('request level', () => {
  it('malformed XML → NoApplicableCode (OWS 1.0 has no OperationParsingFailed), 400', async () => {
    expectException(await postCsw('<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2"><csw:Query>'), 'NoApplicableCode', 'request');
    expectException(await postCsw('<!DOCTYPE x [<!ENTITY a "b">]><csw:GetCapabilities xmlns:csw="http://www.opengis.net/cat/csw/2.0.2"/>'), 'NoApplicableCode', 'request');
  });

  it('missing or unknown request, wrong service or version, non-CSW XML', async () => {
    expectException(await get(cswUrl('service=CSW')), 'MissingParameterValue', 'request');
    expectException(await get(cswUrl('service=CSW&request=GetFeature')), 'OperationNotSupported', 'request');
    expectException(await get(cswUrl('service=CSW&request=Transaction&version=2.0.2')), 'OperationNotSupported', 'request');
    expectException(await get(cswUrl('service=WMS&request=GetCapabilities')), 'InvalidParameterValue', 'service');
    expectException(await get(cswUrl('service=CSW&version=3.0.0&request=GetRecords')), 'InvalidParameterValue', 'version');
    expectException(await get(cswUrl('service=CSW&request=GetCapabilities&acceptVersions=3.0.0')), 'VersionNegotiationFailed', 'AcceptVersions');
    expectException(await postCsw('<wfs:GetFeature xmlns:wfs="http://www.opengis.net/wfs/2.0" service="WFS"/>'), 'InvalidParameterValue', 'service');
    expectException(await postCsw('<GetFeature xmlns="http://www.opengis.net/wfs/2.0"/>'), 'OperationNotSupported', 'request');
  });
});

describe('GetRecords parameters', () => {
  it('unknown outputSchema (KVP and POST)', async () => {
    expectException(await kvp('request=GetRecords&typeNames=csw:Record&outputSchema=http://example.org/nope'), 'InvalidParameterValue', 'outputSchema');
    expectException(await postCsw(records('outputSchema="http://www.w3.org/2005/Atom-nope"')), 'InvalidParameterValue', 'outputSchema');
    expectException(await kvp(`request=GetRecordById&id=x&outputSchema=urn:nope`), 'InvalidParameterValue', 'outputSchema');
  });

  it('unknown typeNames, or a known local name in another namespace', async () => {
    expectException(await kvp('request=GetRecords&typeNames=csw:Dataset'), 'InvalidParameterValue', 'typeNames');
    expectException(await postCsw(records('', 'typeNames="gmd:MD_Metadata foo:Bar"')), 'InvalidParameterValue', 'typeNames');
    expectException(await postCsw(records('', 'xmlns:x="http://example.org/x" typeNames="x:Record"')), 'InvalidParameterValue', 'typeNames');
    // DescribeRecord: an unknown qualified name is no error (CSW 2.0.2 test suite DescribeRecord-tc3.1), an unqualified one is.
    expectException(await kvp('request=DescribeRecord&typeName=Nothing'), 'InvalidParameterValue', 'typeName');
  });

  it('maxRecords negative or not a number; startPosition 0', async () => {
    expectException(await kvp('request=GetRecords&typeNames=csw:Record&maxRecords=-1'), 'InvalidParameterValue', 'maxRecords');
    expectException(await kvp('request=GetRecords&typeNames=csw:Record&maxRecords=ten'), 'InvalidParameterValue', 'maxRecords');
    expectException(await kvp('request=GetRecords&typeNames=csw:Record&startPosition=0'), 'InvalidParameterValue', 'startPosition');
  });

  it('resultType, ElementSetName, ElementName, outputFormat, constraintLanguage', async () => {
    expectException(await kvp('request=GetRecords&typeNames=csw:Record&resultType=everything'), 'InvalidParameterValue', 'resultType');
    expectException(await kvp('request=GetRecords&typeNames=csw:Record&elementSetName=huge'), 'InvalidParameterValue', 'ElementSetName');
    expectException(await kvp('request=GetRecords&typeNames=csw:Record&resultType=results&ElementName=dc:nothing'), 'InvalidParameterValue', 'ElementName');
    expectException(await kvp('request=GetRecords&typeNames=csw:Record&outputFormat=application/json'), 'InvalidParameterValue', 'outputFormat');
    expectException(await kvp("request=GetRecords&typeNames=csw:Record&constraintLanguage=SQL&constraint=1=1"), 'InvalidParameterValue', 'constraintLanguage');
    expectException(await kvp("request=GetRecords&typeNames=csw:Record&constraint=title='x'"), 'MissingParameterValue', 'constraintLanguage');
  });
});

describe('constraints', () => {
  it('a filter on an unknown queryable (Filter and CQL)', async () => {
    expectException(
      await postCsw(records('', undefined, constraint('<ogc:PropertyIsEqualTo><ogc:PropertyName>apiso:ShoeSize</ogc:PropertyName><ogc:Literal>42</ogc:Literal></ogc:PropertyIsEqualTo>'))),
      'InvalidParameterValue',
      'Constraint',
    );
    expectException(await kvp(`request=GetRecords&typeNames=csw:Record&constraintLanguage=CQL_TEXT&constraint=${encodeURIComponent("nothing = 'x'")}`), 'InvalidParameterValue', 'Constraint');
  });

  it('BBOX on a non-spatial property, a spatial property compared as a value', async () => {
    const env = '<gml:Envelope><gml:lowerCorner>0 45</gml:lowerCorner><gml:upperCorner>3 48</gml:upperCorner></gml:Envelope>';
    expectException(await postCsw(records('', undefined, constraint(`<ogc:BBOX><ogc:PropertyName>dc:title</ogc:PropertyName>${env}</ogc:BBOX>`))), 'InvalidParameterValue', 'Constraint');
    expectException(await kvp(`request=GetRecords&typeNames=csw:Record&constraintLanguage=CQL_TEXT&constraint=${encodeURIComponent('BBOX(dc:title, 0, 45, 3, 48)')}`), 'InvalidParameterValue', 'Constraint');
    expectException(
      await postCsw(records('', undefined, constraint('<ogc:PropertyIsEqualTo><ogc:PropertyName>ows:BoundingBox</ogc:PropertyName><ogc:Literal>x</ogc:Literal></ogc:PropertyIsEqualTo>'))),
      'InvalidParameterValue',
      'Constraint',
    );
  });

  it('bad literals, unknown CRS, inverted box, syntax errors, temporal operators, unknown sort key', async () => {
    const f = (body: string) => postCsw(records('', undefined, constraint(body)));
    expectException(await f('<ogc:PropertyIsGreaterThan><ogc:PropertyName>dct:modified</ogc:PropertyName><ogc:Literal>yesterday</ogc:Literal></ogc:PropertyIsGreaterThan>'), 'InvalidParameterValue', 'Constraint');
    expectException(await f('<ogc:PropertyIsEqualTo><ogc:PropertyName>apiso:Denominator</ogc:PropertyName><ogc:Literal>big</ogc:Literal></ogc:PropertyIsEqualTo>'), 'InvalidParameterValue', 'Constraint');
    expectException(await f('<ogc:BBOX><ogc:PropertyName>ows:BoundingBox</ogc:PropertyName><gml:Envelope srsName="EPSG:999999"><gml:lowerCorner>0 0</gml:lowerCorner><gml:upperCorner>1 1</gml:upperCorner></gml:Envelope></ogc:BBOX>'), 'InvalidParameterValue', 'Constraint');
    expectException(await f('<ogc:BBOX><ogc:PropertyName>ows:BoundingBox</ogc:PropertyName><gml:Envelope><gml:lowerCorner>48 0</gml:lowerCorner><gml:upperCorner>45 3</gml:upperCorner></gml:Envelope></ogc:BBOX>'), 'InvalidParameterValue', 'Constraint');
    expectException(await f('<ogc:PropertyIsFuzzy><ogc:PropertyName>dc:title</ogc:PropertyName></ogc:PropertyIsFuzzy>'), 'InvalidParameterValue', 'Constraint');
    expectException(await kvp(`request=GetRecords&typeNames=csw:Record&constraintLanguage=CQL_TEXT&constraint=${encodeURIComponent("title = 'x' AND (")}`), 'InvalidParameterValue', 'Constraint');
    expectException(await kvp(`request=GetRecords&typeNames=csw:Record&constraintLanguage=FILTER&constraint=${encodeURIComponent('<ogc:Filter xmlns:ogc="http://www.opengis.net/ogc"><ogc:And>')}`), 'InvalidParameterValue', 'Constraint');
    expectException(await kvp('request=GetRecords&typeNames=csw:Record&resultType=results&sortBy=apiso:ShoeSize:A'), 'InvalidParameterValue', 'SortBy');
    expectException(await kvp('request=GetRecords&typeNames=csw:Record&resultType=results&sortBy=csw:AnyText:A'), 'InvalidParameterValue', 'SortBy');
  });
});

describe('other operations', () => {
  it('GetRecordById without id, GetDomain without or with unknown names', async () => {
    expectException(await kvp('request=GetRecordById'), 'MissingParameterValue', 'id');
    expectException(await postCsw(`<csw:GetRecordById xmlns:csw="${CSW}" service="CSW" version="2.0.2"/>`), 'MissingParameterValue', 'Id');
    expectException(await kvp('request=GetDomain'), 'MissingParameterValue', 'ParameterName');
    expectException(await kvp('request=GetDomain&parameterName=GetRecords.shoeSize'), 'InvalidParameterValue', 'ParameterName');
    expectException(await kvp('request=GetDomain&propertyName=apiso:ShoeSize'), 'InvalidParameterValue', 'PropertyName');
    expectException(await kvp('request=GetDomain&propertyName=csw:AnyText'), 'InvalidParameterValue', 'PropertyName');
    expectException(await get(cswUrl('service=CSW&request=GetCapabilities&sections=Everything')), 'InvalidParameterValue', 'sections');
  });

  it('issue 12: maxRecords above the server cap (9999, 100000000) is a page of the cap size with a correct nextRecord, not an exception (as pycsw and GeoNetwork)', async () => {
    for (const r of [await kvp('request=GetRecords&typeNames=csw:Record&resultType=results&maxRecords=100000000'), await postCsw(records('maxRecords="9999"'))]) {
      expect(r.status, r.body.slice(0, 300)).toBe(200);
      const m = /numberOfRecordsMatched="(\d+)" numberOfRecordsReturned="(\d+)" nextRecord="(\d+)"/.exec(r.body);
      expect(m).not.toBeNull();
      const [matched, returned, next] = [Number(m![1]), Number(m![2]), Number(m![3])];
      expect(returned).toBe(Math.min(matched, 1000));
      expect(next).toBe(returned < matched ? returned + 1 : 0);
    }
  });
});
