/** OGC API – Features Part 1 and Part 2 as QGIS's OAPIF provider and GDAL's OAPIF driver use them. */
import { describe, it, expect } from 'vitest';
import { get, baseUrl, db } from '../helpers.js';

const api = (path: string) => `${baseUrl()}/ogcapi${path}`;
const json = async (path: string, headers: Record<string, string> = {}) => {
  const r = await get(api(path), { headers: { accept: 'application/json', ...headers } });
  return { ...r, json: JSON.parse(r.body) };
};

describe('OGC API Features', () => {
  it('landing page has the service-desc and data links QGIS needs', async () => {
    const r = await json('/');
    expect(r.status).toBe(200);
    const rels = Object.fromEntries(r.json.links.map((l: { rel: string; type: string }) => [l.rel, l.type]));
    expect(rels['service-desc']).toBe('application/vnd.oai.openapi+json;version=3.0');
    expect(rels['data']).toBe('application/json');
    expect(rels['conformance']).toBe('application/json');
  });

  it('declares core, GeoJSON, OAS 3.0 and Part 2 CRS conformance', async () => {
    const r = await json('/conformance');
    expect(r.json.conformsTo).toEqual(expect.arrayContaining(['http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core', 'http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs', 'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson']));
  });

  it('OpenAPI document declares every collection path and the limit bounds', async () => {
    const r = await json('/api');
    expect(r.json.openapi).toMatch(/^3\.0\./);
    const limit = r.json.components.parameters.limit.schema;
    expect(limit).toMatchObject({ type: 'integer', minimum: 1, maximum: 10000, default: 10 });
    for (const p of ['/conformance', '/collections', '/collections/communes', '/collections/communes/items', '/collections/communes/items/{featureId}']) expect(r.json.paths).toHaveProperty([p]);
  });

  it('collections carry extent in CRS84, the crs list and storageCrs', async () => {
    const r = await json('/collections');
    expect(r.json.collections.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining(['communes', 'communes_points', 'departements', 'epci', 'region', 'cantons', 'arrondissements']));
    const c = (await json('/collections/communes')).json;
    expect(c.storageCrs).toBe('http://www.opengis.net/def/crs/EPSG/0/2154');
    expect(c.crs[0]).toBe('http://www.opengis.net/def/crs/OGC/1.3/CRS84');
    expect(c.crs).toContain('http://www.opengis.net/def/crs/EPSG/0/2154');
    const [minx, miny, maxx, maxy] = c.extent.spatial.bbox[0];
    expect(minx).toBeLessThan(0.06);
    expect(maxx).toBeGreaterThan(3.12);
    expect(miny).toBeLessThan(46.35);
    expect(maxy).toBeGreaterThan(48.94);
  });

  it('items: pages follow next links to the end with numberMatched, no repeats', async () => {
    let url: string | undefined = api('/collections/communes_points/items?limit=700');
    const ids: number[] = [];
    let matched = -1;
    while (url) {
      const r = await get(url);
      expect(r.type).toContain('application/geo+json');
      const page = JSON.parse(r.body);
      matched = page.numberMatched;
      expect(page.numberReturned).toBe(page.features.length);
      ids.push(...page.features.map((f: { id: number }) => f.id));
      url = page.links.find((l: { rel: string }) => l.rel === 'next')?.href;
    }
    expect(matched).toBe(1776);
    expect(ids).toHaveLength(1776);
    expect(new Set(ids).size).toBe(1776);
  });

  it('Part 2: crs and bbox-crs, Content-Crs header, axis order of the CRS', async () => {
    const { rows } = await db().query(`SELECT fid, ST_X(geom) AS x, ST_Y(geom) AS y, ST_X(ST_Transform(geom, 4326)) AS lon, ST_Y(ST_Transform(geom, 4326)) AS lat FROM data.communes_points WHERE code = '37261'`);
    const p = rows[0];
    const l93 = await get(api(`/collections/communes_points/items/${p.fid}?crs=http://www.opengis.net/def/crs/EPSG/0/2154`));
    expect(l93.headers.get('content-crs')).toBe('<http://www.opengis.net/def/crs/EPSG/0/2154>');
    const f = JSON.parse(l93.body);
    expect(f.properties.nom).toBe('Tours');
    expect(f.geometry.coordinates[0]).toBeCloseTo(p.x, 2);
    expect(f.geometry.coordinates[1]).toBeCloseTo(p.y, 2);
    const crs84 = JSON.parse((await get(api(`/collections/communes_points/items/${p.fid}`))).body);
    expect(crs84.geometry.coordinates[0]).toBeCloseTo(p.lon, 6);
    const wgs = JSON.parse((await get(api(`/collections/communes_points/items/${p.fid}?crs=http://www.opengis.net/def/crs/EPSG/0/4326`))).body);
    expect(wgs.geometry.coordinates[0]).toBeCloseTo(p.lat, 6); // EPSG:4326 is latitude first
    const box = `${p.x - 100},${p.y - 100},${p.x + 100},${p.y + 100}`;
    const inBox = JSON.parse((await get(api(`/collections/communes_points/items?bbox=${box}&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/2154`))).body);
    expect(inBox.features.map((x: { id: number }) => x.id)).toEqual([p.fid]);
  });

  it('bbox in CRS84 filters like PostGIS', async () => {
    const expected = Number((await db().query(`SELECT count(*) AS n FROM data.communes WHERE ST_Intersects(geom, ST_Transform(ST_Segmentize(ST_MakeEnvelope(1.5, 47, 2, 47.5, 4326), 0.03125), 2154))`)).rows[0].n);
    const r = JSON.parse((await get(api('/collections/communes/items?bbox=1.5,47,2,47.5&limit=1'))).body);
    expect(r.numberMatched).toBe(expected);
  });

  it('errors: unknown collection 404, unknown parameter / bad bbox / bad limit / unknown crs 400, as problem+json', async () => {
    const cases: Array<[string, number]> = [
      ['/collections/nope', 404],
      ['/collections/nope/items', 404],
      ['/collections/communes/items/99999999', 404],
      ['/collections/communes/items?colour=red', 400],
      ['/collections/communes/items?bbox=1,2,3', 400],
      ['/collections/communes/items?limit=abc', 400],
      ['/collections/communes/items?crs=http://www.opengis.net/def/crs/EPSG/0/999999', 400],
      ['/collections/communes/items?bbox-crs=EPSG:nope&bbox=1,2,3,4', 400],
    ];
    for (const [path, status] of cases) {
      const r = await get(api(path));
      expect(r.status, path).toBe(status);
      expect(r.type).toContain('application/problem+json');
      const body = JSON.parse(r.body);
      expect(body.status).toBe(status);
      expect(body.detail).toBeTruthy();
      expect(r.body).not.toMatch(/SELECT|ST_|\.js:\d+/);
    }
  });

  it('limit above the maximum is clamped, not refused', async () => {
    const r = JSON.parse((await get(api('/collections/communes_points/items?limit=50000'))).body);
    expect(r.numberReturned).toBe(1776);
  });

  it('whole-world and antimeridian-crossing bboxes answer 200 (clipped to the CRS area of use)', async () => {
    const world = JSON.parse((await get(api('/collections/departements/items?bbox=-180,-90,180,90'))).body);
    expect(world.numberMatched).toBe(6);
    const anti = await get(api('/collections/departements/items?bbox=177,65,-177,70'));
    expect(anti.status).toBe(200);
    expect(JSON.parse(anti.body).numberReturned).toBe(0);
  });
});
