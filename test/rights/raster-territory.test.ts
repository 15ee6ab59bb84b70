/**
 * Issue 11 on raster layers: a grant limited to a territory opens a restricted raster layer with its pixels cut to
 * the territory (src/access/grant-policy.ts decideRaster → AccessDecision.territory; src/render/raster-cut.ts for
 * maps, src/download/raster.ts for extracts). A copy of the demo density raster (rr_densite, same file) is made
 * restricted, and served by a platform built in this process with the grants policy, to:
 *   rr_terri — a download grant limited to the département 45 (Loiret),
 *   rr_whole — a download grant without territory,
 *   rr_none  — no grant.
 * Pixel checks against PostGIS: a point inside the Loiret and one in the Loir-et-Cher (41) outside it, in the same
 * map. WMS GetMap: drawn at both for rr_whole, only inside for rr_terri (outside transparent). GetFeatureInfo: the
 * value inside, nothing outside. WMTS tiles: the same cut, never cached. Extract (GeoTIFF): the file covers the area ∩ territory only, nodata outside the
 * territory, the density inside; the Atom pre-defined file (the whole layer) is refused to rr_terri (403).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { ROOT, db } from '../helpers.js';
import { decode, pixel, toPixel } from '../maps/image.js';
import { closePlatform, inProcessPlatform, type App, type TestPlatform } from './in-process-platform.js';

const R = 'rr_densite';
const ADMIN_TOKEN = 'raster-territory-test-admin-token';
const PW = 'raster-territory-test-password';
const basic = (login: string) => `Basic ${Buffer.from(`${login}:${PW}`).toString('base64')}`;
const dir = mkdtempSync(join(tmpdir(), 'sdi-raster-territory-'));

let app: App;
let platform: TestPlatform;
/** A point (EPSG:2154) well inside the Loiret, one in the Loir-et-Cher away from the Loiret, and their densities. */
let inside: { x: number; y: number; d: number };
let outside: { x: number; y: number; d: number };

const send = (method: string, url: string, authorization?: string, payload?: unknown) =>
  app.inject({ method, url, headers: { ...(authorization ? { authorization } : {}), ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) }, payload: payload === undefined ? undefined : JSON.stringify(payload) });
const admin = (method: string, url: string, payload?: unknown) => send(method, `/admin${url}`, `Bearer ${ADMIN_TOKEN}`, payload);

async function cleanUp(): Promise<void> {
  await db().query(`DELETE FROM sdi.users WHERE login LIKE 'rr\\_%'`);
  await db().query(`DELETE FROM sdi.grants WHERE resource_name = $1`, [R]);
  await db().query(`DELETE FROM sdi.raster_layers WHERE name = $1`, [R]);
}

beforeAll(async () => {
  await cleanUp();
  // Points: the inscribed-circle centre of a big commune of each département, the 41 one at least 5 km from the Loiret.
  const pt = async (where: string) =>
    (
      await db().query<{ x: number; y: number; d: number }>(
        `WITH c AS (SELECT c.code, (ST_MaximumInscribedCircle(c.geom)).center AS p, round(p.pmun_2023 / (ST_Area(c.geom) / 1e6)) AS d
                      FROM data.communes c JOIN data.communes_points p ON p.code = c.code WHERE ${where})
         SELECT ST_X(p) AS x, ST_Y(p) AS y, d::int AS d FROM c ORDER BY code LIMIT 1`,
      )
    ).rows[0]!;
  inside = await pt(`c.code = '45234'`);
  outside = await pt(`c.code LIKE '41%' AND p.pmun_2023 > 0 AND ST_Area(c.geom) > 20e6 AND ST_Distance(c.geom, (SELECT ST_Union(geom) FROM data.departements WHERE code = '45')) > 5000`);

  const { registerRasterLayer } = await import(join(ROOT, 'dist/src/catalog/rasters.js'));
  const { DEMO_RASTER } = await import(join(ROOT, 'dist/src/demo/raster-demo.js'));
  await registerRasterLayer(db(), { name: R, title: 'Densité (accès restreint)', file: DEMO_RASTER.file, srid: 2154 });
  ({ app, platform } = await inProcessPlatform(ADMIN_TOKEN));
  expect((await admin('PUT', `/access/rasters/${R}`, { public: false })).statusCode).toBe(200);
  for (const login of ['rr_terri', 'rr_whole', 'rr_none']) expect((await admin('POST', '/users', { login, password: PW })).statusCode).toBe(201);
  const g = await admin('POST', '/grants', { user: 'rr_terri', resourceKind: 'raster', resourceName: R, action: 'download', territory: { kind: 'departement', code: '45' } });
  expect(g.statusCode, g.body).toBe(201);
  expect((await admin('POST', '/grants', { user: 'rr_whole', resourceKind: 'raster', resourceName: R, action: 'download' })).statusCode).toBe(201);
}, 180_000);

afterAll(async () => {
  await closePlatform({ app, platform });
  await cleanUp();
  rmSync(dir, { recursive: true, force: true });
});

describe('issue 11: a territorial grant on a raster layer cuts its pixels to the territory', () => {
  it('the points are where the test needs them: both with data, one inside the Loiret, one outside', () => {
    expect(inside.d).toBeGreaterThan(0);
    expect(outside.d).toBeGreaterThan(0);
  });

  it('WMS GetMap: both points drawn for the whole grant; only the inside one for the territorial grant; nothing without a grant', async () => {
    const box = { minx: Math.min(inside.x, outside.x) - 5000, miny: Math.min(inside.y, outside.y) - 5000, maxx: Math.max(inside.x, outside.x) + 5000, maxy: Math.max(inside.y, outside.y) + 5000 };
    const size = 256;
    const q = `SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=${R}&STYLES=&CRS=EPSG:2154&BBOX=${box.minx},${box.miny},${box.maxx},${box.maxy}&WIDTH=${size}&HEIGHT=${size}&FORMAT=image/png&TRANSPARENT=TRUE`;
    const map = async (auth: string) => {
      const r = await send('GET', `/wms?${q}`, auth);
      expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
      return decode(r.rawPayload);
    };
    const whole = await map(basic('rr_whole'));
    const terri = await map(basic('rr_terri'));
    const alpha = (img: Awaited<ReturnType<typeof decode>>, p: { x: number; y: number }) => pixel(img, ...toPixel(box, size, size, p.x, p.y))[3];
    expect(alpha(whole, inside)).toBeGreaterThan(0);
    expect(alpha(whole, outside)).toBeGreaterThan(0);
    expect(alpha(terri, inside)).toBeGreaterThan(0);
    expect(alpha(terri, outside)).toBe(0);
    // Inside the territory the two maps are the same pixels.
    expect(pixel(terri, ...toPixel(box, size, size, inside.x, inside.y))).toEqual(pixel(whole, ...toPixel(box, size, size, inside.x, inside.y)));
    // Fewer pixels drawn in all for the territorial user.
    const drawn = (img: Awaited<ReturnType<typeof decode>>) => {
      let n = 0;
      for (let k = 3; k < img.data.length; k += 4) if (img.data[k]! > 0) n++;
      return n;
    };
    expect(drawn(terri)).toBeLessThan(drawn(whole));
    expect(drawn(terri)).toBeGreaterThan(0);
    // No grant: the layer is not there at all (WMS LayerNotDefined, as a name that does not exist).
    const none = await send('GET', `/wms?${q}`, basic('rr_none'));
    expect(none.statusCode).toBe(400);
    expect(none.body).toContain('LayerNotDefined');
  });

  it('WMS GetFeatureInfo: the value inside the territory, no feature outside it', async () => {
    const info = async (auth: string, p: { x: number; y: number }) => {
      const b = `${p.x - 1000},${p.y - 1000},${p.x + 1000},${p.y + 1000}`;
      const r = await send('GET', `/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=${R}&QUERY_LAYERS=${R}&STYLES=&CRS=EPSG:2154&BBOX=${b}&WIDTH=100&HEIGHT=100&I=50&J=50&INFO_FORMAT=application/json`, auth);
      expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
      return (JSON.parse(r.body).features as Array<{ properties: { value: number } }>).map((f) => f.properties.value);
    };
    expect(await info(basic('rr_whole'), outside)).toEqual([outside.d]);
    expect(await info(basic('rr_terri'), inside)).toEqual([inside.d]);
    expect(await info(basic('rr_terri'), outside)).toEqual([]);
  });

  it('download (GeoTIFF): the area ∩ the territory only; nodata outside the territory, the density inside', async () => {
    const bbox = `${Math.min(inside.x, outside.x) - 2000},${Math.min(inside.y, outside.y) - 2000},${Math.max(inside.x, outside.x) + 2000},${Math.max(inside.y, outside.y) + 2000}`;
    const get = async (auth: string) => {
      const r = await send('GET', `/download/extract?layer=${R}&format=gtiff&crs=EPSG:2154&bbox=${bbox}&bbox-crs=EPSG:2154`, auth);
      expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
      const path = join(dir, `${auth.length}-${Date.now()}.tif`);
      writeFileSync(path, r.rawPayload);
      return gdal.open(path);
    };
    const at = (ds: gdal.Dataset, p: { x: number; y: number }): number | undefined => {
      const gt = ds.geoTransform!;
      const col = Math.floor((p.x - gt[0]) / gt[1]);
      const row = Math.floor((p.y - gt[3]) / gt[5]);
      if (col < 0 || row < 0 || col >= ds.rasterSize.x || row >= ds.rasterSize.y) return undefined;
      return ds.bands.get(1).pixels.get(col, row);
    };
    const whole = await get(basic('rr_whole'));
    const terri = await get(basic('rr_terri'));
    try {
      expect(at(whole, inside)).toBe(inside.d);
      expect(at(whole, outside)).toBe(outside.d);
      expect(at(terri, inside)).toBe(inside.d);
      // Outside the territory: outside the file, or nodata (-1) where the territory's bbox still covers it.
      const o = at(terri, outside);
      expect(o === undefined || o === -1, `value outside the territory: ${o}`).toBe(true);
      expect(terri.rasterSize.x * terri.rasterSize.y).toBeLessThan(whole.rasterSize.x * whole.rasterSize.y);
      // The estimate agrees with the file (the territory is part of the grid computation).
      const est = await send('GET', `/download/estimate?layer=${R}&format=gtiff&crs=EPSG:2154&bbox=${bbox}&bbox-crs=EPSG:2154`, basic('rr_terri'));
      expect(JSON.parse(est.body).layers[0]).toMatchObject({ width: terri.rasterSize.x, height: terri.rasterSize.y });
    } finally {
      whole.close();
      terri.close();
    }
    // An area wholly outside the territory: nothing to give (422), not the pixels.
    const far = `${outside.x - 500},${outside.y - 500},${outside.x + 500},${outside.y + 500}`;
    const r = await send('GET', `/download/extract?layer=${R}&format=gtiff&crs=EPSG:2154&bbox=${far}&bbox-crs=EPSG:2154`, basic('rr_terri'));
    expect(r.statusCode).toBe(422);
    const problem = JSON.parse(r.body);
    expect(problem.type).toMatch(/\/area-outside-data$/);
    expect(problem.detail).toContain('within your territory');
  });

  it('WMTS: the raster layer is offered to its grantees only; its tiles are cut for the territorial user and never cached for them', async () => {
    const caps = async (auth: string) => (await send('GET', '/wmts?SERVICE=WMTS&REQUEST=GetCapabilities', auth)).body;
    expect(await caps(basic('rr_terri'))).toContain(`<ows:Identifier>${R}</ows:Identifier>`);
    expect(await caps(basic('rr_none'))).not.toContain(R);
    // LAMB93_10cm level 12: 51.2 m pixels, 13,107.2 m tiles from the origin (0, 12,000,000).
    const span = 0.1 * 2 ** 9 * 256;
    const tileAt = async (auth: string, p: { x: number; y: number }, cache = '^bypass$') => {
      const col = Math.floor(p.x / span);
      const row = Math.floor((12_000_000 - p.y) / span);
      const r = await send('GET', `/wmts/1.0.0/${R}/default/LAMB93_10cm/12/${row}/${col}.png`, auth);
      expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
      expect(r.headers['x-tile-cache']).toMatch(new RegExp(cache));
      const img = await decode(r.rawPayload);
      return pixel(img, Math.floor((p.x / span - col) * 256), Math.floor(((12_000_000 - p.y) / span - row) * 256))[3];
    };
    // A whole grant's tile is everyone's who may view it: cached (the policy is still asked first on every request).
    expect(await tileAt(basic('rr_whole'), outside, '^(miss|hit)$')).toBeGreaterThan(0);
    expect(await tileAt(basic('rr_terri'), outside)).toBe(0);
    expect(await tileAt(basic('rr_terri'), inside)).toBeGreaterThan(0);
    const none = await send('GET', `/wmts/1.0.0/${R}/default/LAMB93_10cm/12/0/0.png`, basic('rr_none'));
    expect(none.statusCode).toBe(400);
    expect(none.body).toContain('InvalidParameterValue');
  });

  it('the Atom pre-defined file (the whole layer) is refused to the territorial user', async () => {
    const terri = await send('GET', `/download/atom/files/${R}/gtiff/2154`, basic('rr_terri'));
    expect(terri.statusCode).toBe(403);
    expect(terri.body).not.toContain('II*'); // no TIFF bytes
  });
});
