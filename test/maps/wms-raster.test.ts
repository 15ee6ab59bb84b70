/**
 * Issue 9: raster layers in WMS. The demo raster communes_densite (population density of the communes,
 * Int16, 25 m, Lambert-93, no data outside the region) is listed in both capabilities versions (not
 * queryable) and drawn by GetMap: warped by GDAL into the map grid (reprojected to EPSG:4326, CRS:84,
 * 3857; resampled), coloured on a log ramp from pale yellow to dark red. Pixels are checked against PostGIS:
 * Orléans (the densest large commune) is dark red, the least dense commune pale yellow, outside the region
 * nothing is drawn; the same map in EPSG:4326 (1.3.0, lat/lon), CRS:84 and 1.1.1 SRS=EPSG:4326 (lon/lat)
 * is the same image; LAYERS order is drawing order with vector layers.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { db, ROOT } from '../helpers.js';
import { decode, fetchMap, pixel, toPixel, validateWmsCapabilities, type Box } from './image.js';

const W = 400;
const H = 400;
const L93: Box = { minx: 480000, miny: 6580000, maxx: 720000, maxy: 6880000 };
/** Inscribed-circle centres (2154 and lon/lat) of Orléans and of the least dense commune of some size. */
let dense: { x: number; y: number; lon: number; lat: number };
let sparse: { x: number; y: number; lon: number; lat: number; code: string };

beforeAll(async () => {
  const q = (where: string) =>
    db().query(
      `WITH c AS (SELECT c.code, (ST_MaximumInscribedCircle(c.geom)).center AS p, p.pmun_2023 / (ST_Area(c.geom) / 1e6) AS d
                    FROM data.communes c JOIN data.communes_points p ON p.code = c.code WHERE ${where})
       SELECT code, ST_X(p) AS x, ST_Y(p) AS y, ST_X(ST_Transform(p, 4326)) AS lon, ST_Y(ST_Transform(p, 4326)) AS lat FROM c ORDER BY d LIMIT 1`,
    );
  const o = (await q(`c.code = '45234'`)).rows[0];
  dense = { x: +o.x, y: +o.y, lon: +o.lon, lat: +o.lat };
  // Sparse: the lowest density among communes wide enough to hold several map pixels.
  const s = (await q(`ST_Area(c.geom) > 40e6 AND p.pmun_2023 > 0`)).rows[0];
  sparse = { x: +s.x, y: +s.y, lon: +s.lon, lat: +s.lat, code: s.code };
});

const map = (extra: string) => `SERVICE=WMS&REQUEST=GetMap&STYLES=&WIDTH=${W}&HEIGHT=${H}&FORMAT=image/png&TRANSPARENT=TRUE&${extra}`;

describe('raster layers in the capabilities', () => {
  it('1.3.0: communes_densite listed, queryable, with its boxes; the document still valid against the schema', async () => {
    const caps = (await fetchMap('SERVICE=WMS&REQUEST=GetCapabilities')).text;
    const layer = /<Layer queryable="1" opaque="0"><Name>communes_densite<\/Name>.*?<\/Layer>/s.exec(caps)?.[0];
    expect(layer).toBeDefined();
    expect(layer).toContain('<Title>Densité de population des communes (raster 25 m)</Title>');
    expect(layer).toMatch(/<BoundingBox CRS="EPSG:2154" minx="4\d{5}/);
    expect(layer).toContain('<Style><Name>default</Name>');
    const v = validateWmsCapabilities(caps);
    expect(v.ok, v.output).toBe(true);
  });

  it('1.1.1: listed with its LatLonBoundingBox', async () => {
    const caps = (await fetchMap('SERVICE=WMS&VERSION=1.1.1&REQUEST=GetCapabilities')).text;
    expect(caps).toMatch(/<Layer queryable="1" opaque="0"><Name>communes_densite<\/Name>.*?<LatLonBoundingBox minx="-?0\.\d+" miny="46\.\d+"/s);
  });
});

describe('raster layers in GetFeatureInfo', () => {
  const gfi = (fmt: string, i: number, j: number, layers = 'communes_densite', extra = '') =>
    `SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=${layers}&QUERY_LAYERS=${layers}&STYLES=&CRS=EPSG:2154&BBOX=${L93.minx},${L93.miny},${L93.maxx},${L93.maxy}&WIDTH=${W}&HEIGHT=${H}&I=${i}&J=${j}&INFO_FORMAT=${encodeURIComponent(fmt)}${extra}`;

  it('answers the value under the pixel: the density PostGIS computes for the sparse commune, in each format; nothing outside the region', async () => {
    const [si, sj] = toPixel(L93, W, H, sparse.x, sparse.y);
    const { rows } = await db().query(
      `SELECT round(p.pmun_2023 / (ST_Area(c.geom) / 1e6))::int AS d FROM data.communes c JOIN data.communes_points p ON p.code = c.code WHERE c.code = $1`,
      [sparse.code],
    );
    const expected = Number(rows[0].d);
    // Up close (a 2 km box around the commune's centre), nearest resampling: exactly the rasterised value.
    const box = `${sparse.x - 1000},${sparse.y - 1000},${sparse.x + 1000},${sparse.y + 1000}`;
    const near = (fmt: string) => gfi(fmt, W / 2, H / 2).replace(/BBOX=[^&]+/, `BBOX=${box}`);
    const json = await fetchMap(near('application/json'));
    expect(json.status, json.text.slice(0, 300)).toBe(200);
    const fc = JSON.parse(json.text);
    expect(fc.features.map((f: { id: string; properties: { value: number } }) => [f.id, f.properties.value])).toEqual([['communes_densite.pixel', expected]]);
    expect((await fetchMap(near('text/plain'))).text).toContain(`value = ${expected}`);
    expect((await fetchMap(near('text/html'))).text).toContain(`<td>${expected}</td>`);
    expect((await fetchMap(near('application/vnd.ogc.gml'))).text).toContain(`<sdi:value>${expected}</sdi:value>`);
    // Zoomed out, the value is the map pixel's average: near the commune's own.
    const far = JSON.parse((await fetchMap(gfi('application/json', si, sj))).text);
    expect(far.features).toHaveLength(1);
    const outside = JSON.parse((await fetchMap(gfi('application/json', 1, 1))).text);
    expect(outside.features).toEqual([]);
  });

  it('with a vector layer: the commune first, then the raster value', async () => {
    const [di, dj] = toPixel(L93, W, H, dense.x, dense.y);
    const fc = JSON.parse((await fetchMap(gfi('application/json', di, dj, 'communes,communes_densite'))).text);
    expect(fc.features.map((f: { id: string }) => f.id.split('.')[0])).toEqual(['communes', 'communes_densite']);
    expect(fc.features[1].properties.value).toBeGreaterThan(1000);
  });
});

describe('raster layers in GetLegendGraphic', () => {
  it('the LegendURL of the raster style draws its ramp (dark red at the top, pale yellow at the bottom) with the values beside it, at the advertised size', async () => {
    const caps = (await fetchMap('SERVICE=WMS&REQUEST=GetCapabilities')).text;
    const m = /<Name>communes_densite<\/Name>.*?<LegendURL width="(\d+)" height="(\d+)"><Format>image\/png<\/Format><OnlineResource xlink:type="simple" xlink:href="([^"]+)"/s.exec(caps);
    expect(m).not.toBeNull();
    const r = await fetch(m![3]!.replace(/&amp;/g, '&'));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/png');
    const img = await decode(Buffer.from(await r.arrayBuffer()));
    expect([img.width, img.height]).toEqual([Number(m![1]), Number(m![2])]);
    const top = pixel(img, 10, 1);
    const bottom = pixel(img, 10, img.height - 2);
    expect(top[1]).toBeLessThan(40); // (189, 0, 38)
    expect(bottom[1]).toBeGreaterThan(230); // (255, 255, 178)
    // The values: dark text pixels right of the ramp.
    let text = 0;
    for (let x = 24; x < img.width; x++) for (let y = 0; y < img.height; y++) if (pixel(img, x, y)[3] > 128) text++;
    expect(text).toBeGreaterThan(20);
    const bad = await fetchMap('SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=communes_densite&STYLE=fancy&FORMAT=image/png');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('code="StyleNotDefined"');
  });
});

describe('raster layers in GetMap', () => {
  it('EPSG:2154, opaque on white: Orléans dark red, the sparse commune pale yellow, outside the region white', async () => {
    const r = await fetchMap(map(`VERSION=1.3.0&LAYERS=communes_densite&CRS=EPSG:2154&BBOX=${L93.minx},${L93.miny},${L93.maxx},${L93.maxy}`).replace('TRANSPARENT=TRUE', 'TRANSPARENT=FALSE'));
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    const img = await decode(r.bytes);
    const [di, dj] = toPixel(L93, W, H, dense.x, dense.y);
    const d = pixel(img, di, dj);
    expect(d[0], `Orléans ${d}`).toBeGreaterThan(180); // red…
    expect(d[1], `Orléans ${d}`).toBeLessThan(110); // …not yellow
    const [si, sj] = toPixel(L93, W, H, sparse.x, sparse.y);
    const s = pixel(img, si, sj);
    expect(s[1], `commune ${sparse.code} ${s}`).toBeGreaterThan(170); // yellow: much green
    expect(s[0]).toBeGreaterThan(200);
    expect(pixel(img, 2, 2)).toEqual([255, 255, 255, 255]);
  });

  it('the same image in EPSG:4326 (1.3.0, lat/lon box), CRS:84 and 1.1.1 SRS=EPSG:4326 (lon/lat box), Orléans where it should be', async () => {
    // A box around Orléans where a map pixel (~56 m) is under 4 of the file's: always read from the file itself,
    // whether or not the overview VRT (started by the zoomed-out maps) is built yet.
    const b = { minx: dense.lon - 0.15, miny: dense.lat - 0.15, maxx: dense.lon + 0.15, maxy: dense.lat + 0.15 };
    const a = await fetchMap(map(`VERSION=1.3.0&LAYERS=communes_densite&CRS=EPSG:4326&BBOX=${b.miny},${b.minx},${b.maxy},${b.maxx}`));
    const c = await fetchMap(map(`VERSION=1.3.0&LAYERS=communes_densite&CRS=CRS:84&BBOX=${b.minx},${b.miny},${b.maxx},${b.maxy}`));
    const e = await fetchMap(map(`VERSION=1.1.1&LAYERS=communes_densite&SRS=EPSG:4326&BBOX=${b.minx},${b.miny},${b.maxx},${b.maxy}`));
    for (const x of [a, c, e]) expect(x.status, x.text.slice(0, 300)).toBe(200);
    const ia = await decode(a.bytes);
    expect(Buffer.from(ia.data).equals(Buffer.from((await decode(c.bytes)).data))).toBe(true);
    expect(Buffer.from(ia.data).equals(Buffer.from((await decode(e.bytes)).data))).toBe(true);
    const [i, j] = toPixel(b, W, H, dense.lon, dense.lat);
    expect(pixel(ia, i, j)[3]).toBeGreaterThan(150);
    expect(pixel(ia, i, j)[1]).toBeLessThan(110);
  });

  it('EPSG:3857 up close (a 4 km box, finer than 25 m pixels: nearest, no blur): Orléans dark red across the box centre', async () => {
    const { rows } = await db().query(`SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 2154), 3857) AS p) s`, [dense.x, dense.y]);
    const [x, y] = [+rows[0].x, +rows[0].y];
    const b = { minx: x - 2000, miny: y - 2000, maxx: x + 2000, maxy: y + 2000 };
    const r = await fetchMap(map(`VERSION=1.3.0&LAYERS=communes_densite&CRS=EPSG:3857&BBOX=${b.minx},${b.miny},${b.maxx},${b.maxy}`));
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    const img = await decode(r.bytes);
    const c = pixel(img, W / 2, H / 2);
    expect(c[3]).toBeGreaterThan(150);
    expect(c[1]).toBeLessThan(110);
  });

  it('LAYERS order is drawing order: the raster over the départements, or under them', async () => {
    const box = `CRS=EPSG:2154&BBOX=${L93.minx},${L93.miny},${L93.maxx},${L93.maxy}`;
    const over = await decode((await fetchMap(map(`VERSION=1.3.0&LAYERS=departements,communes_densite&STYLES=,&${box}`).replace('STYLES=&', ''))).bytes);
    const under = await decode((await fetchMap(map(`VERSION=1.3.0&LAYERS=communes_densite,departements&STYLES=,&${box}`).replace('STYLES=&', ''))).bytes);
    const [i, j] = toPixel(L93, W, H, dense.x, dense.y);
    // The départements' translucent blue on top makes the pixel bluer than the raster on top does.
    expect(pixel(under, i, j)[2]).toBeGreaterThan(pixel(over, i, j)[2] + 20);
  });

  it('bad input: another style → StyleNotDefined; a CRS it is not offered in → InvalidCRS', async () => {
    const box = `CRS=EPSG:2154&BBOX=${L93.minx},${L93.miny},${L93.maxx},${L93.maxy}`;
    const style = await fetchMap(map(`VERSION=1.3.0&LAYERS=communes_densite&${box}`).replace('STYLES=&', 'STYLES=fancy&'));
    expect(style.status).toBe(400);
    expect(style.text).toContain('code="StyleNotDefined"');
    const crs = await fetchMap(map(`VERSION=1.3.0&LAYERS=communes_densite&CRS=EPSG:32631&BBOX=300000,5100000,400000,5200000`));
    expect(crs.status).toBe(400);
    expect(crs.text).toContain('code="InvalidCRS"');
  });

  it('a zoomed-out map of a file without overviews builds an overview VRT in the background (.sdi/cache/raster-overviews); maps drawn from it are still right', async () => {
    const { rows } = await db().query(`SELECT file_path, updated_at FROM sdi.raster_layers WHERE name = 'communes_densite'`);
    // One VRT per file version: its registration, and the file's size and modification time (a file rewritten in place is another).
    const st = statSync(rows[0].file_path);
    const key = createHash('sha1').update(`${rows[0].file_path}@${new Date(rows[0].updated_at).getTime()}:${st.size}:${st.mtimeMs}`).digest('hex').slice(0, 16);
    const vrt = join(ROOT, '.sdi', 'cache', 'raster-overviews', `${key}.vrt`);
    rmSync(vrt, { force: true });
    rmSync(`${vrt}.ovr`, { force: true });
    const q = map(`VERSION=1.3.0&LAYERS=communes_densite&CRS=EPSG:2154&BBOX=${L93.minx},${L93.miny},${L93.maxx},${L93.maxy}`);
    const first = await decode((await fetchMap(q)).bytes);
    // The build runs after the answer; wait for its VRT (written last, its overviews beside it).
    for (let k = 0; k < 240 && !existsSync(vrt); k++) await new Promise((r) => setTimeout(r, 500));
    expect(existsSync(vrt)).toBe(true);
    expect(existsSync(`${vrt}.ovr`)).toBe(true);
    const second = await decode((await fetchMap(q)).bytes);
    const [di, dj] = toPixel(L93, W, H, dense.x, dense.y);
    const [si, sj] = toPixel(L93, W, H, sparse.x, sparse.y);
    for (const img of [first, second]) {
      expect(pixel(img, di, dj)[1]).toBeLessThan(110);
      expect(pixel(img, si, sj)[1]).toBeGreaterThan(170);
      expect(pixel(img, 2, 2)[3]).toBe(0);
    }
  });
});

describe('imagery (3 Byte bands) is drawn in its own colours', () => {
  const NAME = 'test_wms_rgb';
  let dir = '';
  /** The image's box (EPSG:2154): 10 km square at Orléans, red in its west half, blue in its east half. */
  let box: Box;

  beforeAll(async () => {
    const gdal = (await import('gdal-async')).default;
    dir = mkdtempSync(join(tmpdir(), 'sdi-rgb-'));
    const file = join(dir, 'rgb.tif');
    box = { minx: Math.round(dense.x) - 5000, miny: Math.round(dense.y) - 5000, maxx: Math.round(dense.x) + 5000, maxy: Math.round(dense.y) + 5000 };
    const ds = gdal.open(file, 'w', 'GTiff', 100, 100, 3, 'Byte');
    ds.srs = gdal.SpatialReference.fromEPSG(2154);
    ds.geoTransform = [box.minx, 100, 0, box.maxy, 0, -100];
    for (const [band, west, east] of [[1, 255, 0], [2, 0, 0], [3, 0, 255]] as const) {
      const plane = new Uint8Array(100 * 100);
      for (let k = 0; k < plane.length; k++) plane[k] = k % 100 < 50 ? west : east;
      ds.bands.get(band).pixels.write(0, 0, 100, 100, plane);
    }
    ds.close();
    const { registerRasterLayer } = await import(join(ROOT, 'dist/src/catalog/rasters.js'));
    await registerRasterLayer(db(), { name: NAME, title: 'Test RGB', file, srid: 2154 });
    return async () => {
      await db().query('DELETE FROM sdi.raster_layers WHERE name = $1', [NAME]);
      rmSync(dir, { recursive: true, force: true });
    };
  });

  it('EPSG:3857: red in the west half, blue in the east half, transparent around it; listed without a ramp legend', async () => {
    const { rows } = await db().query(
      `SELECT ST_XMin(e) AS minx, ST_YMin(e) AS miny, ST_XMax(e) AS maxx, ST_YMax(e) AS maxy FROM (SELECT ST_Transform(ST_MakeEnvelope($1, $2, $3, $4, 2154), 3857) AS e) s`,
      [box.minx, box.miny, box.maxx, box.maxy],
    );
    const e = rows[0];
    // The map: the image's box in 3857 grown by a quarter on each side.
    const dx = (e.maxx - e.minx) / 4;
    const dy = (e.maxy - e.miny) / 4;
    const m = { minx: +e.minx - dx, miny: +e.miny - dy, maxx: +e.maxx + dx, maxy: +e.maxy + dy };
    const r = await fetchMap(map(`VERSION=1.3.0&LAYERS=${NAME}&CRS=EPSG:3857&BBOX=${m.minx},${m.miny},${m.maxx},${m.maxy}`));
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    const img = await decode(r.bytes);
    const west = pixel(img, Math.round(W * 0.35), H / 2);
    const east = pixel(img, Math.round(W * 0.65), H / 2);
    expect(west).toEqual([255, 0, 0, 255]);
    expect(east).toEqual([0, 0, 255, 255]);
    expect(pixel(img, 3, 3)[3]).toBe(0);
    const caps = (await fetchMap('SERVICE=WMS&REQUEST=GetCapabilities')).text;
    const layer = new RegExp(`<Name>${NAME}</Name>.*?</Layer>`, 's').exec(caps)![0];
    expect(layer).not.toContain('<LegendURL');
  });
});
