/**
 * A CRS in spatial_ref_sys but not in the offered list (EPSG:3034, ETRS89 / LCC Europe, northing first in
 * the EPSG order) works wherever the protocols accept any known CRS — WFS BBOX, FES filter geometries,
 * CSW BBOX — loaded on first use without blocking; it stays refused where only offered CRSs are allowed
 * (output srsName / crs, download crs). An unknown code (EPSG:999999) is refused with each protocol's error,
 * and the registry never probes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseUrl, db, get, postXml, wfsUrl } from '../helpers.js';
import { CrsRegistry } from '../../src/crs/registry.js';
import { crsProbeCount, ensureCrsFacts, useCrsCodeCheck } from '../../src/crs/facts.js';

const hits = (body: string) => Number(/numberMatched="(\d+)"/.exec(body)?.[1] ?? NaN);
let box: { minx: number; miny: number; maxx: number; maxy: number };
let expected: number;
let geomCol: string;

beforeAll(async () => {
  const pool = db();
  const { rows } = await pool.query<{ schema: string; tbl: string; col: string }>(
    `SELECT l.table_schema AS schema, l.table_name AS tbl, g.f_geometry_column AS col FROM sdi.layers l
       JOIN geometry_columns g ON g.f_table_schema = l.table_schema AND g.f_table_name = l.table_name WHERE l.name = 'communes_points'`,
  );
  const t = rows[0]!;
  geomCol = t.col;
  const from = `"${t.schema}"."${t.tbl}"`;
  // A box in EPSG:3034 around Orléans, and how many points fall in it (computed in PostGIS).
  const b = (await pool.query(`SELECT ST_XMin(e) AS minx, ST_YMin(e) AS miny, ST_XMax(e) AS maxx, ST_YMax(e) AS maxy
      FROM (SELECT ST_Transform(ST_MakeEnvelope(1.8, 47.8, 2.0, 48.0, 4326), 3034)::box2d AS e) s`)).rows[0];
  box = { minx: Math.round(b.minx), miny: Math.round(b.miny), maxx: Math.round(b.maxx), maxy: Math.round(b.maxy) };
  expected = Number(
    (await pool.query(`SELECT count(*) AS n FROM ${from} WHERE ST_Intersects(ST_Transform("${t.col}", 3034), ST_MakeEnvelope($1, $2, $3, $4, 3034))`, [box.minx, box.miny, box.maxx, box.maxy])).rows[0].n,
  );
});

describe('a CRS known to PostGIS but not offered (EPSG:3034)', () => {
  it('WFS BBOX in the urn form is read northing first, in the EPSG: form x/y', async () => {
    expect(expected).toBeGreaterThan(5);
    const q = 'SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes_points&RESULTTYPE=hits&BBOX=';
    const urn = await get(wfsUrl(`${q}${box.miny},${box.minx},${box.maxy},${box.maxx},urn:ogc:def:crs:EPSG::3034`));
    expect(urn.status).toBe(200);
    expect(hits(urn.body)).toBe(expected);
    const epsg = await get(wfsUrl(`${q}${box.minx},${box.miny},${box.maxx},${box.maxy},EPSG:3034`));
    expect(hits(epsg.body)).toBe(expected);
    // The same numbers in the wrong order for the urn form select elsewhere in Europe.
    const wrong = await get(wfsUrl(`${q}${box.minx},${box.miny},${box.maxx},${box.maxy},urn:ogc:def:crs:EPSG::3034`));
    expect(wrong.status).toBe(200);
    expect(hits(wrong.body)).toBe(0);
  });

  it('an FES filter envelope with srsName in the EPSG order (POST) and GetFeature output in an offered CRS', async () => {
    const xml = `<wfs:GetFeature service="WFS" version="2.0.0" resultType="hits" xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2">
  <wfs:Query typeNames="communes_points"><fes:Filter><fes:BBOX><fes:ValueReference>${geomCol}</fes:ValueReference>
    <gml:Envelope srsName="http://www.opengis.net/def/crs/EPSG/0/3034"><gml:lowerCorner>${box.miny} ${box.minx}</gml:lowerCorner><gml:upperCorner>${box.maxy} ${box.maxx}</gml:upperCorner></gml:Envelope>
  </fes:BBOX></fes:Filter></wfs:Query></wfs:GetFeature>`;
    const r = await postXml(`${baseUrl()}/wfs`, xml);
    expect(r.status, r.body).toBe(200);
    expect(hits(r.body)).toBe(expected);
  });

  it('is not an output CRS (WFS srsName, OGC API crs): only offered CRSs are', async () => {
    const w = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes_points&COUNT=1&SRSNAME=urn:ogc:def:crs:EPSG::3034'));
    expect(w.status).toBe(400);
    expect(w.body).toContain('InvalidParameterValue');
    const o = await get(`${baseUrl()}/ogcapi/collections/communes_points/items?limit=1&crs=http://www.opengis.net/def/crs/EPSG/0/3034`);
    expect(o.status).toBe(400);
  });
});

describe('an unknown code (EPSG:999999)', () => {
  it('is refused with each protocol’s error', async () => {
    const w = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes_points&RESULTTYPE=hits&BBOX=1,2,3,4,urn:ogc:def:crs:EPSG::999999'));
    expect(w.status).toBe(400);
    expect(w.body).toMatch(/InvalidParameterValue[\s\S]*999999/);
    const f = await get(wfsUrl(`SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes_points&RESULTTYPE=hits&FILTER=${encodeURIComponent(`<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2"><fes:BBOX><fes:ValueReference>${geomCol}</fes:ValueReference><gml:Envelope srsName="urn:ogc:def:crs:EPSG::999999"><gml:lowerCorner>1 2</gml:lowerCorner><gml:upperCorner>3 4</gml:upperCorner></gml:Envelope></fes:BBOX></fes:Filter>`)}`));
    expect(f.status).toBe(400);
    expect(f.body).toContain('999999');
    const o = await get(`${baseUrl()}/ogcapi/collections/communes_points/items?bbox=1,2,3,4&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/999999`);
    expect(o.status).toBe(400);
    expect(o.type).toContain('application/problem+json');
    const c = await get(`${baseUrl()}/csw?SERVICE=CSW&VERSION=2.0.2&REQUEST=GetRecords&typeNames=csw:Record&resultType=hits&CONSTRAINTLANGUAGE=FILTER&CONSTRAINT_LANGUAGE_VERSION=1.1.0&CONSTRAINT=${encodeURIComponent('<ogc:Filter xmlns:ogc="http://www.opengis.net/ogc" xmlns:gml="http://www.opengis.net/gml"><ogc:BBOX><ogc:PropertyName>ows:BoundingBox</ogc:PropertyName><gml:Envelope srsName="urn:ogc:def:crs:EPSG::999999"><gml:lowerCorner>1 2</gml:lowerCorner><gml:upperCorner>3 4</gml:upperCorner></gml:Envelope></ogc:BBOX></ogc:Filter>')}`);
    expect(c.status).toBe(400);
    expect(c.body).toContain('999999');
    const d = await get(`${baseUrl()}/download/estimate?layer=communes&format=gpkg&crs=EPSG:2154&bbox=1,2,3,4&bbox-crs=EPSG:999999`);
    expect(d.status).toBe(400);
    expect(d.body).toContain('unknown-crs');
  });

  describe('the registry over the real spatial_ref_sys', () => {
    let registry: CrsRegistry;
    beforeAll(async () => {
      registry = await CrsRegistry.load(db(), [2154, 4326]);
    });
    afterAll(() => useCrsCodeCheck(() => true));

    it('never probes it, and probes a known code once', async () => {
      const before = crsProbeCount();
      expect(registry.isKnown(999999)).toBe(false);
      await registry.prepare([999999]);
      expect((await ensureCrsFacts(999999)).known).toBe(false);
      expect(crsProbeCount()).toBe(before);
      await Promise.all([registry.prepare([3034, 999999]), registry.prepare([3034])]);
      expect(crsProbeCount()).toBe(before + 1);
      expect((await ensureCrsFacts(3034)).northingFirst).toBe(true);
    });
  });
});
