/**
 * Issue 9, raster layers: a file rewritten in place (same path, new content: a partner's new density grid copied
 * over the old one) is a new version for everything drawn from it. Before: the colour ramp kept the old file's
 * range (cached on the registration alone, and GDAL's getStatistics read back the old statistics from the
 * `.aux.xml` left beside the file), and each version's overview VRT (15 MB for the demo raster) stayed in
 * `.sdi/cache/raster-overviews` for ever. No server: src/render/raster.ts on GDAL files written here.
 */
import { existsSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bandRange, overviewVrtPath, prepareOverviews, pruneOverviewVrts, type RasterSource } from '../../src/render/raster.js';

let dir = '';
const SIZE = 256;

/** A 256×256 Int16 GeoTIFF in Lambert-93 (10 m pixels, no overviews), values 0…max along the rows. */
function writeGrid(file: string, max: number, create = true): void {
  const ds = create
    ? gdal.drivers.get('GTiff').create(file, SIZE, SIZE, 1, gdal.GDT_Int16, ['TILED=YES'])
    : gdal.open(file, 'r+');
  try {
    if (create) {
      ds.srs = gdal.SpatialReference.fromEPSG(2154);
      ds.geoTransform = [600_000, 10, 0, 6_800_000, 0, -10];
    }
    const values = new Int16Array(SIZE * SIZE);
    for (let k = 0; k < values.length; k++) values[k] = Math.round(((k % SIZE) / (SIZE - 1)) * max);
    ds.bands.get(1).pixels.write(0, 0, SIZE, SIZE, values);
    ds.flush();
  } finally {
    ds.close();
  }
}

const source = (filePath: string): RasterSource => ({
  filePath, srid: 2154, pixelSizeX: 10, pixelSizeY: 10, nodata: null, updatedAt: new Date(0), bands: 1, dataType: 'Int16',
});

/** Move the file's date on, as a copy over it does (two writes within one clock tick would share a date). */
const touch = (file: string, s: number) => utimesSync(file, new Date(Date.now() + s * 1000), new Date(Date.now() + s * 1000));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sdi-raster-versions-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('a raster file rewritten in place is a new version', () => {
  it("the ramp's range follows the new content, not the statistics GDAL left in the .aux.xml", async () => {
    const file = join(dir, 'density.tif');
    writeGrid(file, 100);
    const r = source(file);
    expect(await bandRange(r)).toEqual({ min: 0, max: 100 });
    writeGrid(file, 1000, false);
    touch(file, 10);
    // Same registration (updatedAt), new size/date: another version, its range computed from its pixels.
    expect(await bandRange(r)).toEqual({ min: 0, max: 1000 });
  });

  it("the older version's overview VRT and its .ovr are removed once the new one is built; a VRT of a file that is gone too", async () => {
    const file = join(dir, 'grid.tif');
    writeGrid(file, 50);
    const r = source(file);
    expect(await prepareOverviews(r)).toBe(true);
    const first = overviewVrtPath(r);
    expect(existsSync(first) && existsSync(`${first}.ovr`)).toBe(true);

    // Another file's VRT, its file then deleted (a raster layer removed).
    const gone = join(dir, 'gone.tif');
    writeGrid(gone, 10);
    const goneVrt = overviewVrtPath(source(gone));
    expect(await prepareOverviews(source(gone))).toBe(true);
    // A file that stays: its VRT is kept by every prune.
    const other = join(dir, 'other.tif');
    writeGrid(other, 20);
    const otherVrt = overviewVrtPath(source(other));
    expect(await prepareOverviews(source(other))).toBe(true);
    rmSync(gone);

    writeGrid(file, 70, false);
    touch(file, 20);
    const second = overviewVrtPath(r);
    expect(second).not.toBe(first);
    expect(await prepareOverviews(r)).toBe(true);
    expect(existsSync(second) && existsSync(`${second}.ovr`)).toBe(true);
    expect(existsSync(first)).toBe(false);
    expect(existsSync(`${first}.ovr`)).toBe(false);
    expect(existsSync(goneVrt)).toBe(false);
    expect(existsSync(otherVrt)).toBe(true);

    // Pruning again keeps what is current (only this test's VRTs looked at: the directory is the deployment's).
    const mine = (removed: string[]) => removed.filter((v) => [first, second, goneVrt, otherVrt].includes(v));
    expect(mine(await pruneOverviewVrts(file, second))).toEqual([]);
    expect(mine(await pruneOverviewVrts(other, otherVrt))).toEqual([]);
    rmSync(other);
    expect(mine(await pruneOverviewVrts(file, second))).toEqual([otherVrt]);
  });
});
