/**
 * Bad input: each case gets an ows:ExceptionReport with the right code, a locator and text, the right HTTP
 * status, no SQL or stack in the body, and the store is unchanged afterwards.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { get, wfsUrl, storeFingerprint, xmllint } from '../helpers.js';

const GF = 'SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature';
const enc = encodeURIComponent;
let before: Record<string, number>;

beforeAll(async () => {
  before = await storeFingerprint();
});

afterAll(async () => {
  expect(await storeFingerprint()).toEqual(before);
});

const cases: Array<{ name: string; query?: string; post?: string; code: string; locator: RegExp; status?: number }> = [
  { name: 'unknown type name', query: `${GF}&TYPENAMES=sdi:nope`, code: 'InvalidParameterValue', locator: /typeNames/i },
  { name: 'missing REQUEST', query: 'SERVICE=WFS&VERSION=2.0.0', code: 'MissingParameterValue', locator: /request/i },
  { name: 'unknown operation', query: 'SERVICE=WFS&VERSION=2.0.0&REQUEST=Transmogrify', code: 'OperationNotSupported', locator: /request/i, status: 501 },
  { name: 'wrong version', query: 'SERVICE=WFS&VERSION=3.1.4&REQUEST=GetFeature&TYPENAMES=sdi:communes', code: 'InvalidParameterValue', locator: /version/i },
  { name: 'no acceptable version', query: 'SERVICE=WFS&REQUEST=GetCapabilities&ACCEPTVERSIONS=9.9.9', code: 'VersionNegotiationFailed', locator: /AcceptVersions/i },
  { name: 'malformed filter', query: `${GF}&TYPENAMES=sdi:communes&FILTER=${enc('<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0"><fes:PropertyIsEqualTo>')}`, code: 'InvalidParameterValue', locator: /filter/i },
  { name: 'unknown filter operator', query: `${GF}&TYPENAMES=sdi:communes&FILTER=${enc('<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0"><fes:PropertyIsRoughly><fes:ValueReference>nom</fes:ValueReference><fes:Literal>x</fes:Literal></fes:PropertyIsRoughly></fes:Filter>')}`, code: 'InvalidParameterValue', locator: /filter/i },
  { name: 'filter on an unknown property', query: `${GF}&TYPENAMES=sdi:communes&FILTER=${enc('<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0"><fes:PropertyIsEqualTo><fes:ValueReference>population</fes:ValueReference><fes:Literal>1</fes:Literal></fes:PropertyIsEqualTo></fes:Filter>')}`, code: 'InvalidParameterValue', locator: /filter/i },
  { name: 'literal that does not fit a numeric property', query: `${GF}&TYPENAMES=sdi:communes_points&FILTER=${enc('<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0"><fes:PropertyIsEqualTo><fes:ValueReference>pmun_2023</fes:ValueReference><fes:Literal>beaucoup</fes:Literal></fes:PropertyIsEqualTo></fes:Filter>')}`, code: 'InvalidParameterValue', locator: /filter/i },
  { name: 'bad bbox (3 numbers)', query: `${GF}&TYPENAMES=sdi:communes&BBOX=1,2,3`, code: 'InvalidParameterValue', locator: /bbox/i },
  { name: 'bad bbox (inverted)', query: `${GF}&TYPENAMES=sdi:communes&BBOX=700000,6800000,600000,6700000`, code: 'InvalidParameterValue', locator: /bbox/i },
  { name: 'bbox in an unknown CRS', query: `${GF}&TYPENAMES=sdi:communes&BBOX=1,2,3,4,EPSG:999999`, code: 'InvalidParameterValue', locator: /bbox/i },
  { name: 'unknown SRSNAME', query: `${GF}&TYPENAMES=sdi:communes&SRSNAME=EPSG:999999`, code: 'InvalidParameterValue', locator: /srsName/i },
  { name: 'not a CRS', query: `${GF}&TYPENAMES=sdi:communes&SRSNAME=lambert`, code: 'InvalidParameterValue', locator: /srsName/i },
  { name: 'negative COUNT', query: `${GF}&TYPENAMES=sdi:communes&COUNT=-5`, code: 'InvalidParameterValue', locator: /count/i },
  { name: 'COUNT=0', query: `${GF}&TYPENAMES=sdi:communes&COUNT=0`, code: 'InvalidParameterValue', locator: /count/i },
  { name: 'huge STARTINDEX', query: `${GF}&TYPENAMES=sdi:communes&STARTINDEX=99999999999999999999999`, code: 'InvalidParameterValue', locator: /startindex/i },
  { name: 'STARTINDEX over the configured maximum', query: `${GF}&TYPENAMES=sdi:communes&STARTINDEX=900000000`, code: 'InvalidParameterValue', locator: /startindex/i },
  { name: 'unknown output format', query: `${GF}&TYPENAMES=sdi:communes&OUTPUTFORMAT=application/x-shockwave-flash`, code: 'InvalidParameterValue', locator: /outputFormat/i },
  { name: 'unknown PROPERTYNAME', query: `${GF}&TYPENAMES=sdi:communes&PROPERTYNAME=nom,secret`, code: 'InvalidParameterValue', locator: /propertyname/i },
  { name: 'injection in PROPERTYNAME', query: `${GF}&TYPENAMES=sdi:communes&PROPERTYNAME=${enc('nom"; DROP TABLE data.communes; --')}`, code: 'InvalidParameterValue', locator: /propertyname/i },
  { name: 'injection in SORTBY', query: `${GF}&TYPENAMES=sdi:communes&SORTBY=${enc('nom; DELETE FROM data.communes')}`, code: 'InvalidParameterValue', locator: /sortby/i },
  { name: 'injection in a type name', query: `${GF}&TYPENAMES=${enc("sdi:communes;DROP TABLE data.region")}`, code: 'InvalidParameterValue', locator: /typeNames/i },
  { name: 'injection in a filter property name', query: `${GF}&TYPENAMES=sdi:communes&FILTER=${enc('<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0"><fes:PropertyIsEqualTo><fes:ValueReference>nom" OR 1=1 --</fes:ValueReference><fes:Literal>x</fes:Literal></fes:PropertyIsEqualTo></fes:Filter>')}`, code: 'InvalidParameterValue', locator: /filter/i },
  { name: 'unknown stored query', query: 'SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&STOREDQUERY_ID=urn:x:DropEverything&ID=1', code: 'InvalidParameterValue', locator: /storedquery_id/i },
  { name: 'malformed XML POST', post: '<wfs:GetFeature xmlns:wfs="http://www.opengis.net/wfs/2.0"><wfs:Query typeNames="sdi:communes">', code: 'OperationParsingFailed', locator: /request/i },
  { name: 'entity expansion attempt', post: '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><wfs:GetCapabilities xmlns:wfs="http://www.opengis.net/wfs/2.0" service="WFS">&b;</wfs:GetCapabilities>', code: 'OperationParsingFailed', locator: /request/i },
];

describe('bad input → OWS exception report, status 400 (501 for what is not implemented), nothing changed', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const r = c.post
        ? await get(wfsUrl(''), { method: 'POST', headers: { 'content-type': 'text/xml' }, body: c.post })
        : await get(wfsUrl(c.query!));
      expect(r.status).toBe(c.status ?? 400);
      expect(r.type).toContain('xml');
      expect(r.body).toContain(`exceptionCode="${c.code}"`);
      const locator = /locator="([^"]+)"/.exec(r.body)?.[1] ?? '';
      expect(locator).toMatch(c.locator);
      expect(r.body).toMatch(/<ows:ExceptionText>[^<]+<\/ows:ExceptionText>/);
      expect(r.body).not.toMatch(/SELECT|ST_|syntax error|at .*\.js:\d+|node_modules/);
      const v = xmllint(r.body, 'ows/1.1.0/owsExceptionReport.xsd');
      expect(v.ok, v.output).toBe(true);
    });
  }

  it('a literal with SQL in it is only a value: no match, no change', async () => {
    const f = `<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0"><fes:PropertyIsEqualTo><fes:ValueReference>nom</fes:ValueReference><fes:Literal>x'); DELETE FROM data.communes; --</fes:Literal></fes:PropertyIsEqualTo></fes:Filter>`;
    const r = await get(wfsUrl(`${GF}&TYPENAMES=sdi:communes&RESULTTYPE=hits&FILTER=${enc(f)}`));
    expect(r.status).toBe(200);
    expect(r.body).toContain('numberMatched="0"');
  });

  it('WFS 1.0.0 errors come as a ServiceExceptionReport', async () => {
    const r = await get(wfsUrl('SERVICE=WFS&VERSION=1.0.0&REQUEST=GetFeature&TYPENAME=sdi:nope'));
    expect(r.status).toBe(400);
    expect(r.body).toContain('<ServiceExceptionReport');
    expect(r.body).toContain('code="InvalidParameterValue"');
  });
});
