/**
 * WFS 2.0 (ISO 19142) and OGC API Features points of issue 12 that the OGC test suites and clients check,
 * each named by the clause it follows. They failed before the change (SERVICE was optional, resolve was
 * advertised as `none` only, a resource id of another type was an empty result, OPTIONS answered 404, the
 * describedby link said application/xml, bbox had no top-level item bounds).
 */
import { describe, it, expect } from 'vitest';
import { get, wfsUrl, baseUrl, db } from '../helpers.js';

const code = (body: string) => /exceptionCode="([^"]+)"/.exec(body)?.[1];
const locator = (body: string) => /locator="([^"]+)"/.exec(body)?.[1];

describe('WFS 2.0 KVP conformance (issue 12)', () => {
  it('OGC 06-121r3 §11.4 / ISO 19142 §7.6.1: a KVP request without SERVICE is MissingParameterValue (locator service), 400', async () => {
    for (const q of ['VERSION=2.0.0&REQUEST=GetCapabilities', 'VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&COUNT=1', 'REQUEST=DescribeFeatureType']) {
      const r = await get(wfsUrl(q));
      expect(r.status, q).toBe(400);
      expect(code(r.body), q).toBe('MissingParameterValue');
      expect(locator(r.body), q).toBe('service');
    }
    // The bare endpoint (no parameter at all) says the same.
    const bare = await get(`${baseUrl()}/wfs`);
    expect(bare.status).toBe(400);
    expect(code(bare.body)).toBe('MissingParameterValue');
  });

  it('ISO 19142 §7.6.4 / Table 5: resolve is declared on GetFeature and GetPropertyValue with none and local', async () => {
    const caps = (await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetCapabilities'))).body;
    for (const op of ['GetFeature', 'GetPropertyValue']) {
      const m = new RegExp(`<ows:Operation name="${op}">(.*?)</ows:Operation>`, 's').exec(caps);
      expect(m, op).not.toBeNull();
      const resolve = /<ows:Parameter name="resolve">(.*?)<\/ows:Parameter>/s.exec(m![1]!)?.[1] ?? '';
      expect(resolve, op).toContain('<ows:Value>local</ows:Value>');
      expect(resolve, op).toContain('<ows:Value>none</ows:Value>');
    }
  });

  it('ISO 19142 §7.6.4: RESOLVE=local is served (nothing to resolve); remote resolution is OptionNotSupported', async () => {
    const ok = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&COUNT=2&RESOLVE=local'));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatch(/numberReturned="2"/);
    const gpv = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetPropertyValue&TYPENAMES=sdi:communes&VALUEREFERENCE=nom&COUNT=2&RESOLVE=local'));
    expect(gpv.status).toBe(200);
    const remote = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&COUNT=2&RESOLVE=remote'));
    // OWS Common (OGC 06-121r9 §8.6 Table 28): an option not implemented is 501.
    expect(remote.status).toBe(501);
    expect(code(remote.body)).toBe('OptionNotSupported');
    expect(locator(remote.body)).toBe('resolve');
    const xml = `<wfs:GetFeature xmlns:wfs="http://www.opengis.net/wfs/2.0" service="WFS" version="2.0.0" resolve="all" count="1"><wfs:Query typeNames="sdi:communes" xmlns:sdi="${await namespaceUri()}"/></wfs:GetFeature>`;
    const post = await get(wfsUrl(''), { method: 'POST', headers: { 'content-type': 'text/xml' }, body: xml });
    expect(post.status).toBe(501);
    expect(code(post.body)).toBe('OptionNotSupported');
  });

  it('ISO 19142 §7.9.2.4.1 / FES 2.0 §7.11: a RESOURCEID of another feature type than TYPENAMES is InvalidParameterValue (locator resourceId)', async () => {
    const ids = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes_points&COUNT=1'));
    const pointId = /gml:id="([^"]+)"/.exec(ids.body.replace(/<wfs:FeatureCollection[^>]*>/, ''))?.[1];
    expect(pointId).toMatch(/^communes_points\./);
    const r = await get(wfsUrl(`SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&RESOURCEID=${pointId}`));
    expect(r.status).toBe(400);
    expect(code(r.body)).toBe('InvalidParameterValue');
    expect(locator(r.body)).toBe('resourceId');
    // The same through a fes:ResourceId in a FILTER.
    const filter = encodeURIComponent(`<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0"><fes:ResourceId rid="${pointId}"/></fes:Filter>`);
    const f = await get(wfsUrl(`SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&FILTER=${filter}`));
    expect(f.status).toBe(400);
    expect(locator(f.body)).toBe('resourceId');
  });

  it('ISO 19142 §7.9.2.4.1: an unknown id of the query\'s own type stays an empty 200', async () => {
    const r = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&RESOURCEID=communes.999999999'));
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/numberReturned="0"/);
  });
});

describe('properties inherited from gml:AbstractFeatureType (issue 12)', () => {
  const fes = (body: string) => encodeURIComponent(`<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2">${body}</fes:Filter>`);
  const gpv = (ref: string, extra = '') => get(wfsUrl(`SERVICE=WFS&VERSION=2.0.0&REQUEST=GetPropertyValue&TYPENAMES=sdi:communes&VALUEREFERENCE=${encodeURIComponent(ref)}${extra}`));

  it('ISO 19142 §10.2.4.2: GetPropertyValue of @gml:id returns the gml:id of each feature, as GetFeature writes them', async () => {
    const ids = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&COUNT=3&SORTBY=code'));
    const featureIds = [...ids.body.matchAll(/<sdi:communes gml:id="([^"]+)"/g)].map((m) => m[1]);
    expect(featureIds).toHaveLength(3);
    const r = await gpv('@gml:id', '&COUNT=3&SORTBY=code');
    expect(r.status, r.body).toBe(200);
    expect([...r.body.matchAll(/<wfs:member>([^<]+)<\/wfs:member>/g)].map((m) => m[1])).toEqual(featureIds);
    expect(r.body).toMatch(/numberReturned="3"/);
  });

  it('ISO 19142 §10.2.4.2: gml:boundedBy is each feature\'s envelope; gml:name has no value (no member)', async () => {
    const b = await gpv('gml:boundedBy', '&COUNT=2');
    expect(b.status, b.body).toBe(200);
    expect((b.body.match(/<wfs:member><gml:Envelope srsName="urn:ogc:def:crs:EPSG::2154"(?: srsDimension="2")?><gml:lowerCorner>[\d. ]+<\/gml:lowerCorner><gml:upperCorner>[\d. ]+<\/gml:upperCorner><\/gml:Envelope><\/wfs:member>/g) ?? [])).toHaveLength(2);
    const n = await gpv('gml:name', '&COUNT=2');
    expect(n.status, n.body).toBe(200);
    expect(n.body).toMatch(/numberReturned="0"/);
    expect(n.body).not.toContain('<wfs:member>');
  });

  it('ISO 19142 §10.2.4.2 / the OGC suite: an empty valueReference is InvalidParameterValue (locator valueReference); a missing one MissingParameterValue', async () => {
    const empty = await gpv('');
    expect(empty.status).toBe(400);
    expect(code(empty.body)).toBe('InvalidParameterValue');
    expect(locator(empty.body)).toBe('valueReference');
    const missing = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetPropertyValue&TYPENAMES=sdi:communes'));
    expect(code(missing.body)).toBe('MissingParameterValue');
  });

  it('FES 2.0 §7.7 on gml:name (never stored): PropertyIsNull matches every feature, PropertyIsEqualTo none; @gml:id compares with the feature id', async () => {
    const total = Number((await db().query('SELECT count(*) AS n FROM data.communes')).rows[0].n);
    const hits = (filter: string) => get(wfsUrl(`SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&RESULTTYPE=hits&FILTER=${filter}`));
    const isNull = await hits(fes('<fes:PropertyIsNull><fes:ValueReference>gml:name</fes:ValueReference></fes:PropertyIsNull>'));
    expect(isNull.status, isNull.body).toBe(200);
    expect(isNull.body).toMatch(new RegExp(`numberMatched="${total}"`));
    const eq = await hits(fes('<fes:PropertyIsEqualTo><fes:ValueReference>gml:name</fes:ValueReference><fes:Literal>Orléans</fes:Literal></fes:PropertyIsEqualTo>'));
    expect(eq.body).toMatch(/numberMatched="0"/);
    const { rows } = await db().query("SELECT fid FROM data.communes WHERE code = '45234'");
    const byId = await hits(fes(`<fes:PropertyIsEqualTo><fes:ValueReference>@gml:id</fes:ValueReference><fes:Literal>communes.${rows[0].fid}</fes:Literal></fes:PropertyIsEqualTo>`));
    expect(byId.body).toMatch(/numberMatched="1"/);
  });
});

async function namespaceUri(): Promise<string> {
  const caps = (await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetCapabilities'))).body;
  return /xmlns:sdi="([^"]+)"/.exec(caps)![1]!;
}

describe('OGC API Features conformance (issue 12)', () => {
  it('OGC 17-069r4 §7.5 / RFC 9110 §9.3.7: OPTIONS on a resource answers with Allow', async () => {
    for (const path of ['/ogcapi/', '/ogcapi/collections', '/ogcapi/collections/communes', '/ogcapi/collections/communes/items']) {
      const r = await fetch(`${baseUrl()}${path}`, { method: 'OPTIONS' });
      expect(r.status, path).toBe(204);
      const allow = (r.headers.get('allow') ?? '').split(/,\s*/);
      expect(allow, path).toContain('GET');
      expect(allow, path).toContain('OPTIONS');
      // What Allow says is served: HEAD answers as GET does, without a body (RFC 9110 §9.3.2).
      expect(allow, path).toContain('HEAD');
      const head = await fetch(`${baseUrl()}${path}`, { method: 'HEAD' });
      expect(head.status, path).toBe(200);
      expect((await head.text()).length, path).toBe(0);
      // Anonymous: no write method on items (OGC 20-002 Part 4 methods are offered to editors only).
      expect(allow, path).not.toContain('POST');
    }
    // Not a resource: no Allow is invented for it (a CORS preflight may still be answered).
    expect((await fetch(`${baseUrl()}/no-such-resource`, { method: 'OPTIONS' })).headers.get('allow')).toBeNull();
  });

  it('OGC 17-069r4 §7.13 (Req 25 /req/core/fc-bbox-definition): bbox carries minItems 4 and maxItems 6 at the top level', async () => {
    const api = JSON.parse((await get(`${baseUrl()}/ogcapi/api`)).body);
    const bbox = api.components.parameters.bbox;
    expect(bbox.schema.type).toBe('array');
    expect(bbox.schema.minItems).toBe(4);
    expect(bbox.schema.maxItems).toBe(6);
  });

  it('OGC 17-069r4 §7.14.2: a collection\'s describedby link has the media type the WFS serves for its schema', async () => {
    const c = JSON.parse((await get(`${baseUrl()}/ogcapi/collections/communes?f=json`)).body);
    const link = c.links.find((l: { rel: string }) => l.rel === 'describedby');
    expect(link).toBeTruthy();
    const schema = await get(link.href);
    expect(schema.status).toBe(200);
    expect(schema.type.replace(/\s/g, '')).toBe(link.type.replace(/\s/g, ''));
  });
});

describe('FES 2.0 temporal operators on a date property (issue 12)', () => {
  const gf = (filter: string) => wfsUrl(`SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes_points&RESULTTYPE=hits&FILTER=${encodeURIComponent(filter)}`);
  const F = (op: string, literal: string) => `<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2"><fes:${op}><fes:ValueReference>date_maj</fes:ValueReference>${literal}</fes:${op}></fes:Filter>`;
  const instant = (t: string) => `<gml:TimeInstant gml:id="t1"><gml:timePosition>${t}</gml:timePosition></gml:TimeInstant>`;
  const period = (b: string, e: string) => `<gml:TimePeriod gml:id="p1"><gml:beginPosition>${b}</gml:beginPosition><gml:endPosition>${e}</gml:endPosition></gml:TimePeriod>`;
  const matched = async (url: string) => {
    const r = await get(url);
    expect(r.status, r.body.slice(0, 300)).toBe(200);
    return Number(/numberMatched="(\d+)"/.exec(r.body)![1]);
  };
  const count = async (where: string) => Number((await db().query(`SELECT count(*) FROM data.communes_points WHERE ${where}`)).rows[0].count);

  it('ISO 19142 §7.9.3 / FES 2.0 Table 1: Filter_Capabilities advertise the temporal operators and operands evaluated', async () => {
    const caps = (await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetCapabilities'))).body;
    expect(caps).toMatch(/name="ImplementsMinTemporalFilter">\s*<ows:NoValues\/>\s*<ows:DefaultValue>TRUE/);
    for (const op of ['After', 'Before', 'During', 'TEquals', 'Begins', 'Ends']) expect(caps).toContain(`<fes:TemporalOperator name="${op}"/>`);
    expect(caps).toContain('<fes:TemporalOperand name="gml:TimePeriod"/>');
  });

  it('FES 2.0 §7.9.2 / ISO 19108 §5.2.3.5: During, After, Before, TEquals, Begins, Ends, AnyInteracts select what PostgreSQL selects', async () => {
    const cases: Array<[string, string, string]> = [
      ['During', period('2020-01-01', '2020-12-31'), "date_maj > '2020-01-01' AND date_maj < '2020-12-31'"],
      ['AnyInteracts', period('2020-01-01', '2020-12-31'), "date_maj BETWEEN '2020-01-01' AND '2020-12-31'"],
      ['After', instant('2024-06-30'), "date_maj > '2024-06-30'"],
      ['Before', instant('2019-03-01'), "date_maj < '2019-03-01'"],
      ['TEquals', instant('2019-01-02'), "date_maj = '2019-01-02'"],
      ['Begins', period('2019-01-02', '2019-06-01'), "date_maj = '2019-01-02'"],
      ['Ends', period('2018-01-01', '2024-12-31'), "date_maj = '2024-12-31'"],
      // A date-time instant is compared on its UTC day for a date property.
      ['After', instant('2024-06-30T12:00:00Z'), "date_maj > '2024-06-30'"],
      // A plain literal and gml:begin/gml:TimeInstant forms.
      ['Before', '<fes:Literal>2019-03-01</fes:Literal>', "date_maj < '2019-03-01'"],
      ['During', '<gml:TimePeriod gml:id="p2"><gml:begin><gml:TimeInstant gml:id="b"><gml:timePosition>2021-01-01</gml:timePosition></gml:TimeInstant></gml:begin><gml:end><gml:TimeInstant gml:id="e"><gml:timePosition>2021-03-01</gml:timePosition></gml:TimeInstant></gml:end></gml:TimePeriod>', "date_maj > '2021-01-01' AND date_maj < '2021-03-01'"],
    ];
    for (const [op, lit, where] of cases) {
      const expected = await count(where);
      expect(expected, `${op} ${where}`).toBeGreaterThan(0);
      expect(await matched(gf(F(op, lit))), `${op} ${where}`).toBe(expected);
    }
  });

  it('FES 2.0 §7.9: bad temporal filters are InvalidParameterValue (locator filter), not a server error', async () => {
    const bad = [
      F('During', period('2021-01-01', '2020-01-01')), // begins after it ends
      F('After', instant('2020-13-45')), // not a date
      F('Meets', period('2020-01-01', '2020-12-31')), // needs a period-valued property
      F('TEquals', period('2020-01-01', '2020-12-31')), // an instant property never equals a period
      `<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2"><fes:After><fes:ValueReference>nom</fes:ValueReference>${instant('2020-01-01')}</fes:After></fes:Filter>`, // not a date property
    ];
    for (const f of bad) {
      const r = await get(gf(f));
      expect(r.status, f).toBe(400);
      expect(code(r.body), f).toBe('InvalidParameterValue');
    }
  });
});
