/**
 * Raster layers on a map. GDAL (gdal-async's gdalwarp, off the main thread) warps the file into the map's
 * pixel grid: reprojected to the map CRS (`-te` in x/y order, whatever the CRS's axis order), resampled
 * with `average` when a map pixel covers several of the file's (a zoomed-out map) and `nearest` when it
 * covers less than one (classes stay crisp up close), reading the file's overviews when it has them (a COG).
 * Only the map's grid of values comes into Node; the band is then coloured by a ramp and drawn like any layer.
 *
 * A file without overviews (the demo raster: a plain tiled GeoTIFF) would have every pixel of the map's area
 * read and averaged for a zoomed-out map (seconds for a region). The first such request starts, in the
 * background, a VRT over the file with external overviews (1/4, 1/16, 1/64, AVERAGE) in
 * `.sdi/cache/raster-overviews/` (one per file version: its registration, size and modification time; shared by
 * the processes of the deployment); the requests after it warp from the VRT, whose overviews GDAL picks. A COG or
 * a file with overviews is read as is.
 *
 * The ramp (no raster styles yet): yellow → orange → dark red over the band's range on a log scale (ln(1+v)),
 * because the data it was made for (densities) is very skewed; no-data and values below the minimum are
 * transparent. The band's statistics are GDAL's approximate ones, computed once per file version.
 */
import type gdalTypes from 'gdal-async';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { projectPath } from '../paths.js';
import type { MapGrid } from './grid.js';
import type { RasterCut } from './raster-cut.js';

/** What the renderer needs of a raster layer (src/catalog/rasters.ts RasterLayer has it). */
export interface RasterSource {
  filePath: string;
  srid: number;
  pixelSizeX: number;
  pixelSizeY: number;
  nodata: number | null;
  updatedAt: Date;
  bands: number;
  /** GDAL data type of band 1. */
  dataType: string;
}

/** Imagery (an orthophoto, a scanned map): 3 or 4 Byte bands, drawn in their own colours, not on the ramp. */
export const isImagery = (r: Pick<RasterSource, 'bands' | 'dataType'>): boolean => r.bands >= 3 && r.dataType === 'Byte';

/** The warped band: one value per map pixel, row by row from the top left; NaN where there is no data. */
export interface WarpedBand {
  width: number;
  height: number;
  values: Float32Array;
}

let gdalModule: typeof gdalTypes | undefined;
async function gdal(): Promise<typeof gdalTypes> {
  gdalModule ??= (await import('gdal-async')).default as typeof gdalTypes;
  return gdalModule;
}

/** Resampling for a map pixel of `mapPixel` in the file's CRS units, its own pixels being `sourcePixel`. */
export function resamplingFor(sourcePixel: number, mapPixel: number): 'average' | 'nearest' {
  return mapPixel > sourcePixel ? 'average' : 'nearest';
}

/** Where the overview VRTs are kept. */
export const OVERVIEW_CACHE_DIR = projectPath('.sdi', 'cache', 'raster-overviews');
export const OVERVIEW_FACTORS = [4, 16, 64];

const building = new Map<string, Promise<void>>();
const hasOwnOverviews = new Map<string, boolean>();

/**
 * The file's version: its registration, and its size and modification time, as the tile cache's revision reads
 * them (src/tiles/raster-revision.ts). A file overwritten in place under the same path is a new version: keyed on
 * the registration alone, its zoomed-out maps were warped from the old file's overviews, and a tile cache emptied
 * by the change was filled again with the old picture (issue 9). One stat, a few microseconds.
 */
function fileVersion(r: RasterSource): string {
  try {
    const s = statSync(r.filePath);
    return `${r.updatedAt.getTime()}:${s.size}:${s.mtimeMs}`;
  } catch {
    return String(r.updatedAt.getTime()); // /vsi… or unreadable: GDAL says why when it opens it
  }
}

/** A file version's key: its path and fileVersion (what the caches of this module are keyed on). */
const versionKey = (r: RasterSource): string => `${r.filePath}@${fileVersion(r)}`;

/** The overview VRT of a file version (it may not exist yet). */
export function overviewVrtPath(r: RasterSource, version = versionKey(r)): string {
  const key = createHash('sha1').update(version).digest('hex').slice(0, 16);
  return join(OVERVIEW_CACHE_DIR, `${key}.vrt`);
}

/**
 * Whether a file version has overviews of its own (a COG…), from `open`ed band 1's overview count, remembered per
 * version (a file rewritten in place may have gained or lost them).
 */
async function ownOverviews(version: string, src: () => Promise<gdalTypes.Dataset>, keepOpen: boolean): Promise<boolean> {
  let own = hasOwnOverviews.get(version);
  if (own !== undefined) return own;
  const ds = await src();
  try {
    own = ds.bands.get(1).overviews.count() > 0;
  } finally {
    if (!keepOpen) ds.close();
  }
  if (hasOwnOverviews.size > 256) hasOwnOverviews.clear();
  hasOwnOverviews.set(version, own);
  return own;
}

async function buildOverviewVrt(r: RasterSource, vrt: string): Promise<void> {
  const g = await gdal();
  await mkdir(OVERVIEW_CACHE_DIR, { recursive: true });
  const tmp = `${vrt}.${process.pid}.${Date.now()}.tmp.vrt`;
  try {
    (await g.buildVRTAsync(tmp, [r.filePath])).close();
    const ds = await g.openAsync(tmp);
    try {
      await ds.buildOverviewsAsync('AVERAGE', OVERVIEW_FACTORS);
    } finally {
      ds.close();
    }
    // The overviews first, then the VRT: a VRT that exists always has its overviews beside it.
    await rename(`${tmp}.ovr`, `${vrt}.ovr`);
    await rename(tmp, vrt);
  } finally {
    await rm(tmp, { force: true });
    await rm(`${tmp}.ovr`, { force: true });
  }
  await pruneOverviewVrts(r.filePath, vrt).catch(() => undefined); // a leftover is disk space, not a wrong map
}

/**
 * Remove the overview VRTs (and their .ovr) of the file's older versions and of files that are gone, all but
 * `keep`: each version of a file rewritten in place got its own (15 MB for the demo raster) and none was ever
 * removed. A VRT names its file (SourceFilename, relative to the VRT or absolute), so the cache directory needs no
 * index of its own, and VRTs named before this existed are found as well. A process still drawing from a removed
 * VRT keeps reading it (an open file on Linux); one opening it just after reads the file (sourceFor).
 */
export async function pruneOverviewVrts(filePath: string, keep: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(OVERVIEW_CACHE_DIR)) {
    const vrt = join(OVERVIEW_CACHE_DIR, name);
    if (!name.endsWith('.vrt') || name.includes('.tmp.') || vrt === keep) continue;
    const m = /<SourceFilename relativeToVRT="([01])">([^<]*)<\/SourceFilename>/.exec(await readFile(vrt, 'utf8').catch(() => ''));
    if (!m) continue;
    const named = m[2]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
    const source = m[1] === '1' ? resolve(dirname(vrt), named) : named;
    if (source !== resolve(filePath) && existsSync(source)) continue;
    await rm(`${vrt}.ovr`, { force: true });
    await rm(vrt, { force: true });
    removed.push(vrt);
  }
  return removed;
}

/**
 * The dataset to warp from: the file itself when it has overviews or the map is not zoomed out (its pixel
 * under 4 of the file's); else the overview VRT when built, and meanwhile the file, the build started.
 */
async function sourceFor(r: RasterSource, zoomFactor: number, open: (path: string) => Promise<gdalTypes.Dataset>): Promise<gdalTypes.Dataset> {
  const src = await open(r.filePath);
  if (zoomFactor < OVERVIEW_FACTORS[0]!) return src;
  const version = versionKey(r);
  if (await ownOverviews(version, async () => src, true)) return src;
  const vrt = overviewVrtPath(r, version);
  if (existsSync(vrt)) {
    // Removed between the test and the open (a newer version's build pruned it): the file itself.
    const fromVrt = await open(vrt).catch(() => undefined);
    if (fromVrt) {
      src.close();
      return fromVrt;
    }
    return src;
  }
  startOverviewBuild(r, vrt);
  return src;
}

/** The build of a file version's overview VRT, started unless under way in this process. */
function startOverviewBuild(r: RasterSource, vrt: string): Promise<void> {
  let job = building.get(vrt);
  if (!job) {
    job = buildOverviewVrt(r, vrt)
      .catch(() => undefined) // no overviews: maps stay right, only slower; the next request tries again
      .finally(() => building.delete(vrt));
    building.set(vrt, job);
  }
  return job;
}

/** Wait for the overview builds under way (tests, shutdown). */
export async function overviewBuilds(): Promise<void> {
  await Promise.all(building.values());
}

/**
 * Build the overview VRT of a file without overviews of its own now, if missing, and wait for it. Seeding
 * (services/maps/wmts/seed.ts) calls it before drawing zoomed-out tiles: otherwise the first tiles came from the
 * file and the later ones from the overviews once built (a few values apart), and a seeding process ending before
 * the build left its temporary files (15 MB for the demo raster) behind. Returns whether zoomed-out maps read
 * overviews (its own, or the VRT's); a failed build is no error (maps stay right, from the file).
 */
export async function prepareOverviews(r: RasterSource): Promise<boolean> {
  const version = versionKey(r);
  if (await ownOverviews(version, async () => (await gdal()).openAsync(r.filePath), false)) return true;
  const vrt = overviewVrtPath(r, version);
  if (!existsSync(vrt)) await startOverviewBuild(r, vrt);
  return existsSync(vrt);
}

/**
 * Warp the band 1 of a raster into the grid. `mapPixelInSourceUnits` (the map pixel's size measured in the
 * file's CRS) chooses the resampling.
 */
export async function warpToGrid(r: RasterSource, grid: MapGrid, mapPixelInSourceUnits: number, cut?: RasterCut): Promise<WarpedBand> {
  const nodata = r.nodata ?? -9999;
  if (cut === 'empty') return { width: grid.width, height: grid.height, values: new Float32Array(grid.width * grid.height).fill(NaN) };
  return warped(r, grid, mapPixelInSourceUnits, cut, ['-ot', 'Float32', ...(r.nodata === null ? [] : ['-srcnodata', String(r.nodata)]), '-dstnodata', String(nodata)], async (out) => {
    const values = new Float32Array(grid.width * grid.height);
    await out.bands.get(1).pixels.readAsync(0, 0, grid.width, grid.height, values);
    for (let k = 0; k < values.length; k++) if (values[k] === nodata) values[k] = NaN;
    return { width: grid.width, height: grid.height, values };
  });
}

/**
 * Imagery warped into the grid as RGBA: its first three bands, and as alpha its own alpha band or, without
 * one, the alpha gdalwarp writes (-dstalpha: 0 outside the image and on its no-data).
 */
export async function warpImagery(r: RasterSource, grid: MapGrid, mapPixelInSourceUnits: number, cut?: RasterCut): Promise<Uint8ClampedArray> {
  if (cut === 'empty') return new Uint8ClampedArray(grid.width * grid.height * 4);
  const g = await gdal();
  const probe = await g.openAsync(r.filePath);
  const hasAlpha = probe.bands.count() >= 4 && probe.bands.get(probe.bands.count()).colorInterpretation === 'Alpha';
  probe.close();
  const args = ['-ot', 'Byte', ...(hasAlpha ? [] : ['-dstalpha']), ...(r.nodata === null ? [] : ['-srcnodata', String(r.nodata)])];
  return warped(r, grid, mapPixelInSourceUnits, cut, args, async (out) => {
    const n = grid.width * grid.height;
    const rgba = new Uint8ClampedArray(n * 4);
    const plane = new Uint8Array(n);
    const count = out.bands.count();
    for (const [band, offset] of [[1, 0], [2, 1], [3, 2], [count, 3]] as const) {
      await out.bands.get(band).pixels.readAsync(0, 0, grid.width, grid.height, plane);
      for (let p = 0; p < n; p++) rgba[p * 4 + offset] = plane[p]!;
    }
    return rgba;
  });
}

let cutlines = 0;

/**
 * gdalwarp of the raster (or its overview VRT) into the grid, in memory, and a read of the result. A cut
 * (src/render/raster-cut.ts) is a cutline in a /vsimem/ GeoJSON, its CRS named in the file (GeoJSON without
 * one is read as WGS 84): pixels outside it are no-data (-dstnodata) or alpha 0 (-dstalpha).
 */
async function warped<T>(r: RasterSource, grid: MapGrid, mapPixelInSourceUnits: number, cut: Exclude<RasterCut, 'empty'>, args: string[], read: (out: gdalTypes.Dataset) => Promise<T>): Promise<T> {
  const g = await gdal();
  const zoom = mapPixelInSourceUnits / Math.min(r.pixelSizeX, r.pixelSizeY);
  let cutline: string | undefined;
  let cutBytes: Buffer | undefined = undefined;
  if (cut) {
    cutline = `/vsimem/sdi-cutline-${process.pid}-${++cutlines}.geojson`;
    const fc = { type: 'FeatureCollection', crs: { type: 'name', properties: { name: `urn:ogc:def:crs:EPSG::${cut.srid}` } }, features: [{ type: 'Feature', properties: {}, geometry: JSON.parse(cut.geojson) }] };
    // vsimem.set does not copy: the buffer is kept referenced here until released.
    cutBytes = Buffer.from(JSON.stringify(fc));
    g.vsimem.set(cutBytes, cutline);
  }
  const src = await sourceFor(r, zoom, (path) => g.openAsync(path)).catch((e: unknown) => {
    if (cutline) g.vsimem.release(cutline);
    throw e;
  });
  try {
    const b = grid.bbox;
    // MEM ignores the name, but warp needs one.
    const out = await g.warpAsync('map', null, [src], [
      '-of', 'MEM',
      '-t_srs', `EPSG:${grid.srid}`,
      '-te', String(b.minx), String(b.miny), String(b.maxx), String(b.maxy),
      '-ts', String(grid.width), String(grid.height),
      '-r', resamplingFor(Math.min(r.pixelSizeX, r.pixelSizeY), mapPixelInSourceUnits),
      ...(cutline ? ['-cutline', cutline] : []),
      ...args,
    ]);
    try {
      return await read(out);
    } finally {
      out.close();
    }
  } finally {
    src.close();
    if (cutline) g.vsimem.release(cutline);
    void cutBytes; // referenced until the file is released
  }
}

const statsCache = new Map<string, { min: number; max: number }>();

/**
 * The band's range (GDAL's approximate statistics), cached per file version (registration, size, date: a file
 * rewritten in place is another). Computed from the pixels, never read back from the statistics GDAL keeps in
 * a `.aux.xml` beside the file: those of the old file stayed there when it was rewritten in place, and the ramp
 * kept the old range (getStatistics reads them first).
 */
export async function bandRange(r: RasterSource): Promise<{ min: number; max: number }> {
  const key = versionKey(r);
  const hit = statsCache.get(key);
  if (hit) return hit;
  const g = await gdal();
  const ds = await g.openAsync(r.filePath);
  try {
    const s = ds.bands.get(1).computeStatistics(true) as { min: number; max: number };
    const range = { min: s.min, max: s.max > s.min ? s.max : s.min + 1 };
    if (statsCache.size > 64) statsCache.clear();
    statsCache.set(key, range);
    return range;
  } finally {
    ds.close();
  }
}

/** The ramp's stops (t from 0 to 1): ColorBrewer YlOrRd. */
export const RAMP: ReadonlyArray<[number, number, number]> = [
  [255, 255, 178],
  [254, 204, 92],
  [253, 141, 60],
  [240, 59, 32],
  [189, 0, 38],
];

/** The ramp's colour at t in [0, 1]. */
export function rampColour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const k = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - k;
  const a = RAMP[k]!;
  const c = RAMP[k + 1]!;
  return [Math.round(a[0] + (c[0] - a[0]) * f), Math.round(a[1] + (c[1] - a[1]) * f), Math.round(a[2] + (c[2] - a[2]) * f)];
}

/** RGBA pixels of a warped band on the log ramp over `range`; no data and values below the range are transparent. */
export function colourise(band: WarpedBand, range: { min: number; max: number }, opacity = 0.8): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(band.width * band.height * 4);
  const lo = range.min;
  const span = Math.log1p(range.max - lo);
  const alpha = Math.round(255 * opacity);
  // A lookup table of 256 colours: one log per pixel, no per-pixel interpolation.
  const lut = Array.from({ length: 256 }, (_, k) => rampColour(k / 255));
  for (let p = 0; p < band.values.length; p++) {
    const v = band.values[p]!;
    if (Number.isNaN(v) || v < lo) continue;
    const c = lut[Math.min(255, Math.round((Math.log1p(v - lo) / span) * 255))]!;
    const o = p * 4;
    rgba[o] = c[0];
    rgba[o + 1] = c[1];
    rgba[o + 2] = c[2];
    rgba[o + 3] = alpha;
  }
  return rgba;
}
