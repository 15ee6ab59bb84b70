/**
 * Raster extracts through HTTP: the demo raster layer communes_densite (commune population density
 * rasterised at 25 m in Lambert-93 at demo load) clipped to a commune or a bbox, reprojected, written as
 * GeoTIFF or COG, and checked with GDAL: EPSG code, size equal to the estimate, nodata outside the cutline,
 * the commune's density inside, the same pixels as the source when nothing is resampled; limits (direct,
 * deferred, over the maximum with both figures), bad input, and a deferred raster job run by a worker.
 *
 * Test server limits (test/global-setup.ts): rasterDirectMaxPixels 4,000,000, rasterMaxPixels 50,000,000.
 */
import { describe, it, expect, beforeAll, afterAll, inject } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { baseUrl, db, ROOT } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sdi-raster-test-'));
let n = 0;
const LAYER = 'communes_densite';

async function download(query: string): Promise<{ status: number; type: string; path: string; headers: Headers; body?: Record<string, unknown> }> {
  const r = await fetch(`${baseUrl()}/download/extract?${query}`);
  const buf = Buffer.from(await r.arrayBuffer());
  const type = r.headers.get('content-type') ?? '';
  if (r.status !== 200) return { status: r.status, type, path: '', headers: r.headers, body: JSON.parse(buf.toString('utf8')) };
  const path = join(dir, `${++n}.tif`);
  writeFileSync(path, buf);
  return { status: r.status, type, path, headers: r.headers };
}

async function estimate(query: string): Promise<{ status: number; body: Record<string, any> }> {
  const r = await fetch(`${baseUrl()}/download/estimate?${query}`);
  return { status: r.status, body: (await r.json()) as Record<string, any> };
}

function epsgOf(ds: gdal.Dataset): number | undefined {
  const srs = ds.srs!.clone();
  srs.autoIdentifyEPSG();
  return srs.getAuthorityName() === 'EPSG' ? Number(srs.getAuthorityCode()) : undefined;
}

function readAll(ds: gdal.Dataset): Int16Array {
  const { x, y } = ds.rasterSize;
  return ds.bands.get(1).pixels.read(0, 0, x, y) as Int16Array;
}

/** Pixel value at a lon/lat (x/y of the dataset's CRS). */
function valueAt(ds: gdal.Dataset, x: number, y: number): number {
  const gt = ds.geoTransform!;
  const col = Math.floor((x - gt[0]) / gt[1]);
  const row = Math.floor((y - gt[3]) / gt[5]);
  return ds.bands.get(1).pixels.get(col, row);
}

let orleans: { density: number; x: number; y: number; fillRatio: number; bbox: number[] };
let source: { path: string };

beforeAll(async () => {
  // Orléans (45234): its density as the demo raster computes it, an interior point, and the share of its
  // WGS 84 bbox it covers (the share of non-nodata pixels a clipped extract must have).
  const { rows } = await db().query(
    `SELECT round(p.pmun_2023 / (ST_Area(c.geom) / 1e6))::int AS density,
            ST_X(pt) AS x, ST_Y(pt) AS y,
            ST_Area(g4) / ST_Area(ST_Envelope(g4)) AS fill,
            ARRAY[ST_XMin(g4), ST_YMin(g4), ST_XMax(g4), ST_YMax(g4)] AS bbox
       FROM data.communes c JOIN data.communes_points p ON p.code = c.code,
            LATERAL (SELECT ST_Transform(ST_PointOnSurface(ST_Buffer(c.geom, -300)), 4326) AS pt, ST_Transform(c.geom, 4326) AS g4) s
      WHERE c.code = '45234'`,
  );
  orleans = { density: rows[0].density, x: rows[0].x, y: rows[0].y, fillRatio: Number(rows[0].fill), bbox: rows[0].bbox.map(Number) };
  expect(orleans.density).toBeGreaterThan(1000);
  const r = await db().query('SELECT file_path FROM sdi.raster_layers WHERE name = $1', [LAYER]);
  expect(r.rowCount).toBe(1);
  source = { path: r.rows[0].file_path };
});

describe('the demo raster layer', () => {
  it('is registered with what GDAL reads from the file', async () => {
    const { rows } = await db().query('SELECT * FROM sdi.raster_layers WHERE name = $1', [LAYER]);
    const r = rows[0];
    const ds = gdal.open(r.file_path);
    expect(epsgOf(ds)).toBe(2154);
    expect([r.srid, r.width, r.height, r.bands, r.data_type, r.nodata]).toEqual([2154, ds.rasterSize.x, ds.rasterSize.y, 1, 'Int16', -1]);
    expect(r.pixel_size_x).toBe(25);
    expect(ds.getMetadata('IMAGE_STRUCTURE').COMPRESSION).toBe('DEFLATE');
    expect(r.title).toMatch(/Densité/);
    ds.close();
  });

  it('shares its name space with vector layers', async () => {
    await expect(db().query(`INSERT INTO sdi.raster_layers (name, title, file_path, srid, pixel_size_x, pixel_size_y, width, height, bands, data_type, extent)
                             VALUES ('communes', 'x', '/nowhere.tif', 2154, 1, 1, 1, 1, 1, 'Byte', ST_MakeEnvelope(0, 0, 1, 1, 2154))`)).rejects.toThrow(/already used by a vector layer/);
  });
});

describe('estimate', () => {
  it('a commune in WGS 84 is direct, with the output size in pixels', async () => {
    const { status, body } = await estimate(`layer=${LAYER}&format=gtiff&crs=EPSG:4326&commune=45234`);
    expect(status).toBe(200);
    expect(body.mode).toBe('direct');
    const l = body.layers[0];
    expect(l.kind).toBe('raster');
    expect(l.width * l.height).toBeGreaterThan(50_000);
    expect(l.width * l.height).toBeLessThan(4_000_000);
    expect(l.bytes).toBeGreaterThan(0);
  });

  it('a département is deferred by the direct pixel limit', async () => {
    const { status, body } = await estimate(`layer=${LAYER}&format=cog&crs=EPSG:2154&departement=45`);
    expect(status).toBe(200);
    expect(body.mode).toBe('deferred');
    expect(body.limit).toEqual({ name: 'rasterDirectMaxPixels', value: 4_000_000 });
    expect(body.layers[0].width * body.layers[0].height).toBeGreaterThan(4_000_000);
  });

  it('the whole region is over the maximum: 413 with the count and the limit', async () => {
    const { status, body } = await estimate(`layer=${LAYER}&format=gtiff&crs=EPSG:2154`);
    expect(status).toBe(413);
    expect(body.type).toMatch(/over-limit$/);
    expect(body.limit).toBe(50_000_000);
    expect(body.count).toBe(9311 * 11521);
    expect(body.detail).toContain(String(9311 * 11521));
    expect(body.detail).toContain('50000000');
    const x = await download(`layer=${LAYER}&format=gtiff&crs=EPSG:2154`);
    expect(x.status).toBe(413);
    expect(x.body!.count).toBe(9311 * 11521);
  });
});

describe('direct extracts', () => {
  it('GeoTIFF of a commune reprojected to EPSG:4326: size of the estimate, nodata outside the cutline, the density inside', async () => {
    const q = `layer=${LAYER}&format=gtiff&crs=EPSG:4326&commune=45234`;
    const est = (await estimate(q)).body.layers[0];
    const x = await download(q);
    expect(x.status).toBe(200);
    expect(x.type).toMatch(/^image\/tiff/);
    expect(x.headers.get('content-disposition')).toContain(`${LAYER}.tif`);
    const ds = gdal.open(x.path);
    expect(ds.driver.description).toBe('GTiff');
    expect(epsgOf(ds)).toBe(4326);
    expect([ds.rasterSize.x, ds.rasterSize.y]).toEqual([est.width, est.height]);
    // Issue 12: the byte estimate within ±30 % of the file delivered.
    expect(statSync(x.path).size / est.bytes).toBeGreaterThan(0.7);
    expect(statSync(x.path).size / est.bytes).toBeLessThan(1.3);
    expect(ds.bands.get(1).noDataValue).toBe(-1);
    expect(ds.getMetadata('IMAGE_STRUCTURE').COMPRESSION).toBe('DEFLATE');
    // The extent is the commune's bbox (to a pixel).
    const gt = ds.geoTransform!;
    const px = gt[1];
    expect(Math.abs(gt[0] - orleans.bbox[0]!)).toBeLessThan(px);
    expect(Math.abs(gt[3] - orleans.bbox[3]!)).toBeLessThan(px);
    expect(Math.abs(gt[0] + ds.rasterSize.x * px - orleans.bbox[2]!)).toBeLessThan(2 * px);
    // Inside: the commune's density; outside the cutline: nodata, in the proportion of the bbox it leaves.
    expect(valueAt(ds, orleans.x, orleans.y)).toBe(orleans.density);
    const all = readAll(ds);
    const valid = all.filter((v) => v !== -1);
    expect(valid.length / all.length).toBeGreaterThan(orleans.fillRatio * 0.95);
    expect(valid.length / all.length).toBeLessThan(orleans.fillRatio * 1.05);
    const counts = new Map<number, number>();
    for (const v of valid) counts.set(v, (counts.get(v) ?? 0) + 1);
    expect(counts.get(orleans.density)! / valid.length).toBeGreaterThan(0.97);
    expect(all[0]).toBe(-1); // a corner of the bbox lies outside the commune
    ds.close();
  });

  it('COG of the same commune: a cloud-optimised GeoTIFF with the same pixels', async () => {
    const a = await download(`layer=${LAYER}&format=gtiff&crs=EPSG:4326&commune=45234`);
    const b = await download(`layer=${LAYER}&format=cog&crs=EPSG:4326&commune=45234`);
    expect(b.status).toBe(200);
    // Issue 12: the byte estimate within ±30 % of the file delivered.
    const est = (await estimate(`layer=${LAYER}&format=cog&crs=EPSG:4326&commune=45234`)).body.layers[0];
    expect(statSync(b.path).size / est.bytes).toBeGreaterThan(0.7);
    expect(statSync(b.path).size / est.bytes).toBeLessThan(1.3);
    expect(b.type).toContain('cloud-optimized');
    const da = gdal.open(a.path);
    const dc = gdal.open(b.path);
    expect(dc.getMetadata('IMAGE_STRUCTURE').LAYOUT).toBe('COG');
    expect(epsgOf(dc)).toBe(4326);
    expect(dc.geoTransform).toEqual(da.geoTransform);
    expect(Buffer.from(readAll(dc).buffer).equals(Buffer.from(readAll(da).buffer))).toBe(true);
    da.close();
    dc.close();
  });

  it('a Lambert-93 bbox without clip keeps the source grid and pixels (no resampling)', async () => {
    const bbox = [600000, 6700000, 610000, 6710000];
    const x = await download(`layer=${LAYER}&format=gtiff&crs=EPSG:2154&bbox=${bbox.join(',')}&bbox-crs=EPSG:2154&clip=false`);
    expect(x.status).toBe(200);
    const ds = gdal.open(x.path);
    expect(epsgOf(ds)).toBe(2154);
    expect(ds.geoTransform).toEqual([600000, 25, 0, 6710000, 0, -25]);
    expect([ds.rasterSize.x, ds.rasterSize.y]).toEqual([400, 400]);
    const src = gdal.open(source.path);
    const sgt = src.geoTransform!;
    const window = src.bands.get(1).pixels.read((600000 - sgt[0]) / 25, (sgt[3] - 6710000) / 25, 400, 400) as Int16Array;
    expect(Buffer.from(readAll(ds).buffer).equals(Buffer.from(window.buffer))).toBe(true);
    ds.close();
    src.close();
  });

  it('a WGS 84 polygon clip: pixels only inside the polygon', async () => {
    const poly = { type: 'Polygon', coordinates: [[[1.85, 47.85], [2.0, 47.85], [1.925, 47.95], [1.85, 47.85]]] };
    const x = await download(`layer=${LAYER}&format=gtiff&crs=EPSG:4326&polygon=${encodeURIComponent(JSON.stringify(poly))}`);
    expect(x.status).toBe(200);
    const ds = gdal.open(x.path);
    const all = readAll(ds);
    const valid = all.filter((v) => v !== -1).length;
    // A triangle covers half of its bbox.
    expect(valid / all.length).toBeGreaterThan(0.45);
    expect(valid / all.length).toBeLessThan(0.55);
    expect(valueAt(ds, 1.86, 47.94)).toBe(-1); // top-left corner: outside the triangle
    ds.close();
  });
});

describe('bad input', () => {
  it('a vector format on a raster layer, a raster format on a vector layer: 400 format-not-applicable', async () => {
    const a = await download(`layer=${LAYER}&format=gpkg&commune=45234`);
    expect(a.status).toBe(400);
    expect(a.body!.type).toMatch(/format-not-applicable$/);
    const b = await download('layer=communes&format=gtiff&commune=45234');
    expect(b.status).toBe(400);
    expect(b.body!.type).toMatch(/format-not-applicable$/);
  });

  it('an area outside the raster: 422 area-outside-data', async () => {
    const x = await download(`layer=${LAYER}&format=gtiff&crs=EPSG:4326&bbox=-3,48,-2.9,48.1`);
    expect(x.status).toBe(422);
    expect(x.body!.type).toMatch(/area-outside-data$/);
  });
});

describe('deferred raster job', () => {
  let worker: ChildProcess | undefined;
  let log = '';
  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker!.once('exit', r));
      worker.kill('SIGTERM');
      await exited;
    }
  });

  it('a département as COG: queued, done by a worker, its signed link gives the file', async () => {
    const r = await fetch(`${baseUrl()}/download/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ layers: [LAYER], format: 'cog', crs: 'EPSG:2154', area: { departement: '45' } }),
    });
    expect(r.status).toBe(202);
    const job = (await r.json()) as { id: string; estimate: { layers: Array<{ width: number; height: number }> } };
    worker = spawn(process.execPath, [join(ROOT, 'dist/app/cli.js'), 'download-worker', '--concurrency', '1', '--poll-ms', '300'], {
      env: { ...process.env, DATABASE_URL: inject('databaseUrl'), SDI_DOWNLOAD_DIR: inject('downloadDir'), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout!.on('data', (d) => (log += d));
    worker.stderr!.on('data', (d) => (log += d));
    let status: Record<string, any> = {};
    const deadline = Date.now() + 120_000;
    while (!['done', 'failed', 'cancelled'].includes(status.state)) {
      if (Date.now() > deadline) throw new Error(`job not done: ${JSON.stringify(status)}\n${log.slice(-3000)}`);
      await new Promise((res) => setTimeout(res, 300));
      status = (await (await fetch(`${baseUrl()}/download/jobs/${job.id}`)).json()) as Record<string, any>;
    }
    expect(status.state, log.slice(-3000)).toBe('done');
    const f = await fetch(status.result.href);
    expect(f.status).toBe(200);
    const path = join(dir, 'job.tif');
    writeFileSync(path, Buffer.from(await f.arrayBuffer()));
    const ds = gdal.open(path);
    expect(ds.getMetadata('IMAGE_STRUCTURE').LAYOUT).toBe('COG');
    expect(epsgOf(ds)).toBe(2154);
    expect([ds.rasterSize.x, ds.rasterSize.y]).toEqual([job.estimate.layers[0]!.width, job.estimate.layers[0]!.height]);
    ds.close();
  }, 180_000);
});
