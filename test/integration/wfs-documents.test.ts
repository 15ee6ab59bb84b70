/**
 * WFS responses validate against the official schemas (shared/schemas-ogc-local, xmllint --nonet), and
 * carry what QGIS and CITE read from them.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { get, wfsUrl, xmllint, localApplicationSchema, db } from '../helpers.js';

const NS = 'https://sdi.example.org/features';
const LAYERS = ['region', 'departements', 'arrondissements', 'cantons', 'epci', 'communes', 'communes_points'];
let appXsd: string;

beforeAll(async () => {
  const r = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType'));
  expect(r.status).toBe(200);
  appXsd = localApplicationSchema(r.body);
});

const validateWfs = (xml: string) => xmllint(xml, 'wfs/2.0/wfs.xsd', [{ ns: NS, xsd: appXsd }]);

describe('GetCapabilities', () => {
  it('2.0.0 validates and lists every demo layer with its CRS list, extent and paging constraints', async () => {
    const r = await get(wfsUrl('SERVICE=WFS&REQUEST=GetCapabilities&ACCEPTVERSIONS=2.0.0,1.1.0,1.0.0'));
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/xml/);
    const v = xmllint(r.body, 'wfs/2.0/wfs.xsd');
    expect(v.output).toContain('validates');
    expect(v.ok).toBe(true);
    expect(r.body).toContain('version="2.0.0"');
    for (const l of LAYERS) expect(r.body).toContain(`<wfs:Name>sdi:${l}</wfs:Name>`);
    expect(r.body).toMatch(/<ows:Constraint name="ImplementsResultPaging"><ows:NoValues\/><ows:DefaultValue>TRUE<\/ows:DefaultValue>/);
    expect(r.body).toMatch(/<ows:Constraint name="ImplementsBasicWFS"><ows:NoValues\/><ows:DefaultValue>TRUE</);
    expect(r.body).toMatch(/<ows:Constraint name="CountDefault"><ows:NoValues\/><ows:DefaultValue>\d+</);
    expect(r.body).toContain('<wfs:DefaultCRS>urn:ogc:def:crs:EPSG::2154</wfs:DefaultCRS>');
    for (const c of [4326, 3857, 3942, 3950, 4171, 4258, 3035, 2972, 2975]) expect(r.body).toContain(`<wfs:OtherCRS>urn:ogc:def:crs:EPSG::${c}</wfs:OtherCRS>`);
    // The communes extent, in lon/lat, encloses the region (lon 0.05..3.13, lat 46.35..48.94).
    const m = /<wfs:Name>sdi:communes<\/wfs:Name>[\s\S]*?<ows:LowerCorner>(-?[\d.]+) (-?[\d.]+)<\/ows:LowerCorner><ows:UpperCorner>(-?[\d.]+) (-?[\d.]+)</.exec(r.body)!;
    const [minx, miny, maxx, maxy] = m.slice(1).map(Number);
    expect(minx).toBeLessThan(0.06);
    expect(miny).toBeLessThan(46.35);
    expect(maxx).toBeGreaterThan(3.12);
    expect(maxy).toBeGreaterThan(48.94);
    expect(maxx! - minx!).toBeLessThan(3.5);
    // DCP hrefs: the endpoint itself, no query string.
    expect(r.body).toMatch(/<ows:Get xlink:href="http:\/\/127\.0\.0\.1:\d+\/wfs"\/>/);
  });

  it('honours X-Forwarded-* so that hrefs are the public URL behind a proxy', async () => {
    const r = await get(wfsUrl('SERVICE=WFS&REQUEST=GetCapabilities'), { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'geo.example.fr', 'x-forwarded-prefix': '/sdi' } });
    expect(r.body).toContain('xlink:href="https://geo.example.fr/sdi/wfs"');
    expect(r.body).not.toContain('127.0.0.1');
  });

  it('negotiates 1.1.0 and 1.0.0 when the client prefers them', async () => {
    const r11 = await get(wfsUrl('SERVICE=WFS&REQUEST=GetCapabilities&ACCEPTVERSIONS=1.1.0,1.0.0'));
    expect(r11.body).toMatch(/<wfs:WFS_Capabilities version="1\.1\.0"/);
    expect(r11.body).toContain('<wfs:DefaultSRS>urn:ogc:def:crs:EPSG::2154</wfs:DefaultSRS>');
    const r10 = await get(wfsUrl('SERVICE=WFS&REQUEST=GetCapabilities&VERSION=1.0.0'));
    expect(r10.body).toMatch(/<WFS_Capabilities version="1\.0\.0"/);
    expect(r10.body).toContain('<SRS>EPSG:2154</SRS>');
  });

  it('POST XML GetCapabilities answers like GET', async () => {
    const r = await fetch(wfsUrl(''), { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<GetCapabilities xmlns="http://www.opengis.net/wfs/2.0" xmlns:ows="http://www.opengis.net/ows/1.1" service="WFS"><ows:AcceptVersions><ows:Version>2.0.0</ows:Version></ows:AcceptVersions></GetCapabilities>' });
    expect(r.status).toBe(200);
    expect(xmllint(await r.text(), 'wfs/2.0/wfs.xsd').ok).toBe(true);
  });
});

describe('DescribeFeatureType', () => {
  it('gives an XSD QGIS reads: gml: geometry property types, xs: simple types, accepted with TYPENAME and TYPENAMES', async () => {
    const r = await get(wfsUrl(`SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAMES=sdi:communes&NAMESPACES=xmlns(sdi,${encodeURIComponent(NS)})&TYPENAME=sdi:communes`));
    expect(r.status).toBe(200);
    expect(r.body).toContain('<xs:element name="communes" type="sdi:communesType" substitutionGroup="gml:AbstractFeature"/>');
    expect(r.body).toContain('<xs:element name="geom" type="gml:MultiSurfacePropertyType"');
    expect(r.body).toContain('<xs:element name="nom" type="xs:string"');
    expect(r.body).toContain('schemaLocation="http://schemas.opengis.net/gml/3.2.1/gml.xsd"');
    const points = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAME=sdi:communes_points'));
    expect(points.body).toContain('type="gml:PointPropertyType"');
    expect(points.body).toMatch(/name="pmun_2023" type="xs:(int|long|double)"/);
  });
});

describe('GetFeature GML 3.2', () => {
  it('validates against WFS 2.0 + GML 3.2 + the application schema, with paging attributes and links', async () => {
    const r = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&COUNT=25&STARTINDEX=50'));
    expect(r.status).toBe(200);
    expect(r.type).toContain('application/gml+xml; version=3.2');
    const v = validateWfs(r.body);
    expect(v.output).toContain('validates');
    expect(r.body).toContain('numberMatched="1776"');
    expect(r.body).toContain('numberReturned="25"');
    expect(r.body).toMatch(/next="[^"]*STARTINDEX=75[^"]*"/);
    expect(r.body).toMatch(/previous="[^"]*STARTINDEX=25[^"]*"/);
    expect((r.body.match(/<wfs:member>/g) ?? []).length).toBe(25);
  });

  it('every demo layer validates in full, in Lambert-93 and reprojected to EPSG:4326 (lat/lon for the URN)', async () => {
    for (const l of LAYERS) {
      const r = await get(wfsUrl(`SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:${l}&SRSNAME=urn:ogc:def:crs:EPSG::4326`));
      expect(r.status).toBe(200);
      const v = validateWfs(r.body);
      expect(v.ok, `${l}: ${v.output}`).toBe(true);
      const n = Number((await db().query(`SELECT count(*) AS n FROM data.${l}`)).rows[0].n);
      expect(r.body).toContain(`numberMatched="${n}"`);
      expect((r.body.match(/<wfs:member>/g) ?? []).length).toBe(n);
    }
  });

  it('pages with a stable order: consecutive pages cover the layer once, without overlap', async () => {
    const ids: string[] = [];
    for (let start = 0; start < 1776; start += 500) {
      const r = await get(wfsUrl(`SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes_points&COUNT=500&STARTINDEX=${start}&PROPERTYNAME=code`));
      ids.push(...[...r.body.matchAll(/gml:id="(communes_points\.\d+)"/g)].map((m) => m[1]!));
      if (start + 500 >= 1776) expect(r.body).not.toMatch(/ next="/);
    }
    expect(ids.length).toBe(1776);
    expect(new Set(ids).size).toBe(1776);
  });

  it('keeps accents and reprojects in PostGIS (coordinates match ST_Transform)', async () => {
    const { rows } = await db().query(`SELECT fid, ST_Y(ST_Transform(geom, 4326)) AS lat, ST_X(ST_Transform(geom, 4326)) AS lon FROM data.communes_points WHERE code = '45234'`);
    const fid = rows[0].fid;
    const r = await get(wfsUrl(`SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&RESOURCEID=communes_points.${fid}&SRSNAME=urn:ogc:def:crs:EPSG::4326`));
    expect(r.body).toContain('<sdi:nom>Orléans</sdi:nom>');
    const pos = /<gml:pos srsDimension="2">([\d.]+) ([\d.]+)<\/gml:pos>/.exec(r.body)!;
    expect(Number(pos[1])).toBeCloseTo(rows[0].lat, 6); // URN form: latitude first
    expect(Number(pos[2])).toBeCloseTo(rows[0].lon, 6);
    const epsg = await get(wfsUrl(`SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&RESOURCEID=communes_points.${fid}&SRSNAME=EPSG:4326`));
    const pos2 = /<gml:pos srsDimension="2">([\d.]+) ([\d.]+)<\/gml:pos>/.exec(epsg.body)!;
    expect(Number(pos2[1])).toBeCloseTo(rows[0].lon, 6); // EPSG: form: longitude first
    expect(epsg.body).toContain('srsName="EPSG:4326"');
  });

  it('BBOX honours the axis order of its CRS and is transformed in PostGIS', async () => {
    const expected = Number((await db().query(`SELECT count(*) AS n FROM data.communes_points WHERE ST_Intersects(geom, ST_Transform(ST_MakeEnvelope(1.8, 47.8, 2.0, 48.0, 4326), 2154))`)).rows[0].n);
    expect(expected).toBeGreaterThan(10);
    const urn = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes_points&RESULTTYPE=hits&BBOX=47.8,1.8,48.0,2.0,urn:ogc:def:crs:EPSG::4326'));
    const epsg = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes_points&RESULTTYPE=hits&BBOX=1.8,47.8,2.0,48.0,EPSG:4326'));
    for (const r of [urn, epsg]) expect(Number(/numberMatched="(\d+)"/.exec(r.body)![1])).toBeCloseTo(expected, -1);
    // QGIS's "whole world" retry: a geographic box larger than Lambert-93's domain still works.
    const world = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:departements&RESULTTYPE=hits&BBOX=-90,-180,90,180,urn:ogc:def:crs:EPSG::4326'));
    expect(world.body).toContain('numberMatched="6"');
  });

  it('FES 2.0 filters as QGIS sends them (ValueReference first, BBOX folded in) and as CITE sends them (random prefix, Literal first)', async () => {
    const qgis = `<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2"><fes:And><fes:PropertyIsEqualTo><fes:ValueReference>dep</fes:ValueReference><fes:Literal>45</fes:Literal></fes:PropertyIsEqualTo><fes:BBOX><fes:ValueReference>geom</fes:ValueReference><gml:Envelope srsName="urn:ogc:def:crs:EPSG::2154"><gml:lowerCorner>600000 6700000</gml:lowerCorner><gml:upperCorner>700000 6800000</gml:upperCorner></gml:Envelope></fes:BBOX></fes:And></fes:Filter>`;
    const expected = Number((await db().query(`SELECT count(*) AS n FROM data.communes_points WHERE dep = '45' AND ST_Intersects(geom, ST_MakeEnvelope(600000, 6700000, 700000, 6800000, 2154))`)).rows[0].n);
    const r = await get(wfsUrl(`SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes_points&RESULTTYPE=hits&FILTER=${encodeURIComponent(qgis)}`));
    expect(r.body).toContain(`numberMatched="${expected}"`);
    const cite = `<ns42:Filter xmlns:ns42="http://www.opengis.net/fes/2.0" xmlns:ns7="${NS}"><ns42:PropertyIsLike wildCard="*" singleChar="?" escapeChar="\\"><ns42:ValueReference>ns7:nom</ns42:ValueReference><ns42:Literal>Orl?ans*</ns42:Literal></ns42:PropertyIsLike></ns42:Filter>`;
    const c = await get(wfsUrl(`SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=ns7:communes&NAMESPACES=xmlns(ns7,${encodeURIComponent(NS)})&FILTER=${encodeURIComponent(cite)}`));
    expect(c.status).toBe(200);
    expect(c.body).toContain('<sdi:nom>Orléans</sdi:nom>');
    expect(c.body).toContain('numberMatched="1"');
    const literalFirst = `<Filter xmlns="http://www.opengis.net/fes/2.0"><PropertyIsGreaterThan><Literal>100000</Literal><ValueReference>pmun_2023</ValueReference></PropertyIsGreaterThan></Filter>`;
    const small = Number((await db().query(`SELECT count(*) AS n FROM data.communes_points WHERE pmun_2023 < 100000`)).rows[0].n);
    const lf = await get(wfsUrl(`SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes_points&RESULTTYPE=hits&FILTER=${encodeURIComponent(literalFirst)}`));
    expect(lf.body).toContain(`numberMatched="${small}"`);
  });

  it('spatial operators: Intersects with a GML polygon, DWithin in metres, Within', async () => {
    const poly = `<gml:Polygon gml:id="p1" srsName="urn:ogc:def:crs:EPSG::2154"><gml:exterior><gml:LinearRing><gml:posList>610000 6740000 630000 6740000 630000 6760000 610000 6760000 610000 6740000</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>`;
    const wkt = `ST_GeomFromText('POLYGON((610000 6740000,630000 6740000,630000 6760000,610000 6760000,610000 6740000))', 2154)`;
    const cases: Array<[string, string]> = [
      [`<fes:Intersects><fes:ValueReference>geom</fes:ValueReference>${poly}</fes:Intersects>`, `ST_Intersects(geom, ${wkt})`],
      [`<fes:Within><fes:ValueReference>geom</fes:ValueReference>${poly}</fes:Within>`, `ST_Within(geom, ${wkt})`],
      [`<fes:DWithin><fes:ValueReference>geom</fes:ValueReference><gml:Point gml:id="p2" srsName="urn:ogc:def:crs:EPSG::2154"><gml:pos>619000 6756000</gml:pos></gml:Point><fes:Distance uom="km">10</fes:Distance></fes:DWithin>`, `ST_DWithin(geom, ST_SetSRID(ST_MakePoint(619000, 6756000), 2154), 10000)`],
    ];
    for (const [op, sql] of cases) {
      const filter = `<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2">${op}</fes:Filter>`;
      const expected = Number((await db().query(`SELECT count(*) AS n FROM data.communes WHERE ${sql}`)).rows[0].n);
      expect(expected).toBeGreaterThan(0);
      const r = await get(wfsUrl(`SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&RESULTTYPE=hits&FILTER=${encodeURIComponent(filter)}`));
      expect(r.body, op.slice(0, 40)).toContain(`numberMatched="${expected}"`);
    }
  });

  it('SORTBY and PROPERTYNAME', async () => {
    const r = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes_points&COUNT=3&SORTBY=pmun_2023%20DESC&PROPERTYNAME=nom,pmun_2023'));
    const names = [...r.body.matchAll(/<sdi:nom>([^<]+)<\/sdi:nom>/g)].map((m) => m[1]);
    const { rows } = await db().query(`SELECT nom FROM data.communes_points ORDER BY pmun_2023 DESC NULLS FIRST, fid LIMIT 3`);
    expect(names).toEqual(rows.map((x) => x.nom));
    expect(r.body).not.toContain('<sdi:geom>');
    expect(r.body).not.toContain('<sdi:dep>');
    expect(validateWfs(r.body).ok).toBe(true);
  });

  it('POST XML GetFeature with a Query, filter and SortBy', async () => {
    const body = `<wfs:GetFeature xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:sdi="${NS}" service="WFS" version="2.0.0" count="5">
      <wfs:Query typeNames="sdi:communes_points" srsName="urn:ogc:def:crs:EPSG::2154">
        <fes:Filter><fes:PropertyIsEqualTo><fes:ValueReference>dep</fes:ValueReference><fes:Literal>36</fes:Literal></fes:PropertyIsEqualTo></fes:Filter>
        <fes:SortBy><fes:SortProperty><fes:ValueReference>nom</fes:ValueReference><fes:SortOrder>ASC</fes:SortOrder></fes:SortProperty></fes:SortBy>
      </wfs:Query></wfs:GetFeature>`;
    const r = await fetch(wfsUrl(''), { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
    const text = await r.text();
    expect(r.status).toBe(200);
    const { rows } = await db().query(`SELECT nom FROM data.communes_points WHERE dep = '36' ORDER BY nom, fid LIMIT 5`);
    expect([...text.matchAll(/<sdi:nom>([^<]+)<\/sdi:nom>/g)].map((m) => m[1])).toEqual(rows.map((x) => x.nom));
    expect(text).toContain('numberMatched="243"');
    expect(validateWfs(text).ok).toBe(true);
  });

  it('resultType=hits with COUNT gives numberReturned=0 and a next link to the results (CITE)', async () => {
    const r = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&RESULTTYPE=hits&COUNT=1'));
    expect(r.body).toContain('numberReturned="0"');
    expect(r.body).toContain('numberMatched="1776"');
    expect(r.body).not.toContain('previous=');
    const next = /next="([^"]+)"/.exec(r.body)![1]!.replace(/&amp;/g, '&');
    const page = await get(next);
    expect(page.body).toContain('numberReturned="1"');
    expect(validateWfs(r.body).ok).toBe(true);
  });
});

describe('Other operations', () => {
  it('GetFeatureById returns the bare feature, valid, and 404 for an unknown id', async () => {
    const r = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&STOREDQUERY_ID=urn:ogc:def:query:OGC-WFS::GetFeatureById&ID=departements.2'));
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^<\?xml[^>]*>\n<sdi:departements /);
    expect(validateWfs(r.body).ok).toBe(true);
    const missing = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&STOREDQUERY_ID=urn:ogc:def:query:OGC-WFS::GetFeatureById&ID=departements.999999'));
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('exceptionCode="NotFound"');
  });

  it('ListStoredQueries, DescribeStoredQueries and GetPropertyValue validate', async () => {
    for (const q of ['REQUEST=ListStoredQueries', 'REQUEST=DescribeStoredQueries&STOREDQUERY_ID=urn:ogc:def:query:OGC-WFS::GetFeatureById', 'REQUEST=GetPropertyValue&TYPENAMES=sdi:departements&VALUEREFERENCE=nom']) {
      const r = await get(wfsUrl(`SERVICE=WFS&VERSION=2.0.0&${q}`));
      expect(r.status).toBe(200);
      const v = validateWfs(r.body);
      expect(v.ok, `${q}: ${v.output}`).toBe(true);
    }
    const pv = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetPropertyValue&TYPENAMES=sdi:departements&VALUEREFERENCE=nom&SORTBY=code'));
    expect([...pv.body.matchAll(/<wfs:member>([^<]*)<\/wfs:member>/g)].map((m) => m[1])).toEqual(['Cher', 'Eure-et-Loir', 'Indre', 'Indre-et-Loire', 'Loir-et-Cher', 'Loiret']);
  });

  it('GeoJSON and CSV outputs', async () => {
    const j = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:departements&OUTPUTFORMAT=application/json&SRSNAME=EPSG:4326'));
    const fc = JSON.parse(j.body);
    expect(fc.type).toBe('FeatureCollection');
    expect(fc.features).toHaveLength(6);
    expect(fc.numberMatched).toBe(6);
    expect(fc.features.map((f: { properties: { nom: string } }) => f.properties.nom)).toContain('Indre-et-Loire');
    const [lon, lat] = fc.features[0].geometry.coordinates[0][0];
    expect(lon).toBeGreaterThan(0);
    expect(lon).toBeLessThan(4);
    expect(lat).toBeGreaterThan(46);
    const csv = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:departements&OUTPUTFORMAT=csv'));
    const lines = csv.body.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines[0]).toBe('"fid","code","nom","wkt"');
    expect(lines).toHaveLength(7);
    expect(csv.body).toContain('"Loir-et-Cher"');
  });

  it('WFS 1.1.0 GetFeature gives GML 3.1.1, WFS 1.0.0 gives GML 2', async () => {
    const r11 = await get(wfsUrl('SERVICE=WFS&VERSION=1.1.0&REQUEST=GetFeature&TYPENAME=sdi:departements&MAXFEATURES=2'));
    expect(r11.body).toContain('xmlns:gml="http://www.opengis.net/gml"');
    expect(r11.body).toContain('<gml:featureMember><sdi:departements gml:id=');
    expect(r11.body).toContain('numberOfFeatures="2"');
    const r10 = await get(wfsUrl('SERVICE=WFS&VERSION=1.0.0&REQUEST=GetFeature&TYPENAME=sdi:departements&MAXFEATURES=1'));
    expect(r10.body).toContain('<gml:coordinates>');
    expect(r10.body).toMatch(/<sdi:departements fid="departements\.\d+">/);
  });
});
