/**
 * Raster extracts: a raster layer (src/catalog/rasters.ts) clipped to the extraction area and reprojected,
 * written as GeoTIFF (tiled, DEFLATE) or Cloud Optimized GeoTIFF by gdal.warp.
 *
 * The output grid is computed here, before GDAL is involved, so that the estimate and the file agree to the
 * pixel: PostGIS intersects the area (clip) or the area's bbox in the output CRS (clip=false) with the
 * raster's footprint, and gives the bounds of that region in the output CRS. The pixel size is the source one
 * when the CRS is the raster's (bounds snapped to the source grid: no resampling), otherwise the one that
 * keeps the number of source pixels along the diagonal, as gdalwarp chooses it (square pixels). gdalwarp then
 * gets -te and -ts explicitly (so -crop_to_cutline is not needed: the bounds already are the cutline's), and,
 * for a clip, the area as a cutline: pixels outside it are nodata (the layer's nodata value).
 *
 * GDAL is imported lazily (first extract), never when the module is loaded.
 */
import { stat, writeFile, rm } from 'node:fs/promises';
import type gdalTypes from 'gdal-async';
import type { Platform } from '../platform.js';
import type { RasterLayer } from '../catalog/rasters.js';
import type { TerritorySql } from '../access/policy.js';
import { PositionalBinder } from '../db/sql.js';
import type { ExtractRequest } from './request.js';
import type { ResolvedArea } from './area.js';
import { DownloadError } from './errors.js';
import { FORMATS } from './formats.js';

export interface RasterEstimate {
  /** width × height × bands of the output. */
  pixels: number;
  /** Approximate size of the output file (the source file's bytes per pixel on disk × output pixels). */
  bytes: number;
  width: number;
  height: number;
}

/** The caller's territory on a raster layer (the access policy's AccessDecision.territory): the extract is cut to it. */
export type RasterTerritory = TerritorySql;

export interface RasterExtractOptions {
  /** A territorial grant: the extract is the area ∩ the territory, pixels outside it nodata (issue 11). */
  territory?: RasterTerritory;
  /** Checked before and after the warp (GDAL's warp itself cannot be interrupted through gdal-async). */
  signal?: AbortSignal;
  /** Fraction in [0, 1]. */
  onProgress?: (fraction: number) => void;
}

/** The output grid of an extract, in the output CRS. */
export interface RasterGrid {
  srid: number;
  bounds: [number, number, number, number];
  width: number;
  height: number;
  /** The cutline (area in the raster's CRS, GeoJSON geometry) when the extract is clipped. */
  cutline?: string;
}

const BYTES_PER_SAMPLE: Record<string, number> = { Byte: 1, Int8: 1, UInt16: 2, Int16: 2, UInt32: 4, Int32: 4, Float32: 4, Float64: 8, CInt16: 4, CInt32: 8, CFloat32: 8, CFloat64: 16 };

function areaLocator(area: ResolvedArea): string {
  return area.spec.kind === 'admin' ? area.spec.unit : area.spec.kind;
}

interface GridRow {
  empty: boolean;
  sminx: number;
  sminy: number;
  smaxx: number;
  smaxy: number;
  tminx: number;
  tminy: number;
  tmaxx: number;
  tmaxy: number;
  cutline: string | null;
}

/**
 * Where the extract lies: the region (area ∩ footprint, or area bbox ∩ footprint) in the raster's CRS and
 * its bounds in the output CRS. All geometry goes in as bound parameters (EWKB of the resolved area).
 */
export async function rasterGrid(platform: Platform, layer: RasterLayer, req: ExtractRequest, area: ResolvedArea | undefined, territory?: RasterTerritory): Promise<RasterGrid> {
  const [eminx, eminy, emaxx, emaxy] = layer.extent;
  // A territory always clips: what lies outside it is not the caller's to download, even within the area's bbox.
  const clip = Boolean((area && req.clip) || territory);
  const params = new PositionalBinder();
  for (const v of [eminx, eminy, emaxx, emaxy, layer.srid, area ? area.ewkbHex : null, clip, req.crs, Boolean(territory)]) params.add(v);
  // $9: whether there is a territory; then the territory (EPSG:2154), intersected with the area when there is one.
  const terr = territory ? territory(params) : 'NULL::geometry';
  // seg(g): g densified (64 segments across its bbox) so that its reprojection follows curved edges.
  const seg = (g: string) => `ST_Segmentize(${g}, greatest(ST_XMax(${g}) - ST_XMin(${g}), ST_YMax(${g}) - ST_YMin(${g})) / 64 + 1e-9)`;
  const { rows } = await platform.pool.query<GridRow>(
    `WITH e AS (SELECT ST_MakeEnvelope($1::float8, $2::float8, $3::float8, $4::float8, $5::int) AS g),
          ar AS (SELECT CASE WHEN $6::text IS NULL THEN NULL ELSE ST_GeomFromEWKB(decode($6::text, 'hex')) END AS g),
          tr AS (SELECT ${terr} AS g),
          a0 AS (SELECT CASE WHEN tr.g IS NULL THEN ar.g WHEN ar.g IS NULL THEN tr.g
                             ELSE ST_CollectionExtract(ST_Intersection(ST_MakeValid(ar.g), ST_Transform(tr.g, ST_SRID(ar.g))), 3) END AS g FROM ar, tr),
          a AS (SELECT CASE WHEN a0.g IS NULL OR ST_IsEmpty(a0.g) THEN NULL ELSE ST_Transform(${seg('a0.g')}, $5::int) END AS g FROM a0),
          -- the region in the output CRS: footprint, area ∩ footprint (clip), or area bbox ∩ footprint (no clip)
          rt AS (SELECT CASE WHEN a.g IS NULL AND ($9::boolean) THEN ST_GeomFromText('POLYGON EMPTY', $8::int)
                             WHEN a.g IS NULL THEN ST_Transform(${seg('e.g')}, $8::int)
                             WHEN $7::boolean THEN ST_Transform(ST_Intersection(ST_MakeValid(a.g), e.g), $8::int)
                             ELSE ST_Intersection(ST_Envelope(ST_Transform(${seg('a0.g')}, $8::int)), ST_Transform(${seg('e.g')}, $8::int)) END AS g
                   FROM e, a, a0),
          t AS (SELECT CASE WHEN ST_IsEmpty(rt.g) OR ST_Area(rt.g) = 0 THEN NULL ELSE rt.g END AS g FROM rt),
          -- the same region back in the raster's CRS: how many source pixels it spans
          s AS (SELECT CASE WHEN t.g IS NULL THEN NULL ELSE ST_Transform(${seg('t.g')}, $5::int) END AS g FROM t)
     SELECT t.g IS NULL AS empty, ST_XMin(s.g) AS sminx, ST_YMin(s.g) AS sminy, ST_XMax(s.g) AS smaxx, ST_YMax(s.g) AS smaxy,
            ST_XMin(t.g) AS tminx, ST_YMin(t.g) AS tminy, ST_XMax(t.g) AS tmaxx, ST_YMax(t.g) AS tmaxy,
            CASE WHEN $7::boolean AND t.g IS NOT NULL THEN ST_AsGeoJSON(a.g, 9) END AS cutline
       FROM t, s, a`,
    params.values,
  );
  const r = rows[0]!;
  if (r.empty) {
    const what = area ? `The area (${area.label})${territory ? ' within your territory' : ''}` : 'Your territory';
    throw new DownloadError(422, 'area-outside-data', `${what} does not intersect the raster ${layer.name}`, area ? areaLocator(area) : 'layer');
  }
  const px = layer.pixelSizeX;
  const py = layer.pixelSizeY;
  if (req.crs === layer.srid) {
    // Same CRS: snap outwards to the source grid, keep the source pixel size (no resampling).
    const minx = eminx + Math.floor((r.tminx - eminx) / px + 1e-9) * px;
    const maxx = eminx + Math.ceil((r.tmaxx - eminx) / px - 1e-9) * px;
    const maxy = emaxy - Math.floor((emaxy - r.tmaxy) / py + 1e-9) * py;
    const miny = emaxy - Math.ceil((emaxy - r.tminy) / py - 1e-9) * py;
    const width = Math.max(1, Math.round((maxx - minx) / px));
    const height = Math.max(1, Math.round((maxy - miny) / py));
    return { srid: req.crs, bounds: [minx, miny, minx + width * px, maxy], width, height, ...(r.cutline ? { cutline: r.cutline } : {}) };
  }
  // Another CRS: square pixels keeping the number of source pixels along the diagonal (what gdalwarp does).
  const sw = (r.smaxx - r.sminx) / px;
  const sh = (r.smaxy - r.sminy) / py;
  const tw = r.tmaxx - r.tminx;
  const th = r.tmaxy - r.tminy;
  const res = Math.hypot(tw, th) / Math.max(1, Math.hypot(sw, sh));
  const width = Math.max(1, Math.ceil(tw / res - 1e-9));
  const height = Math.max(1, Math.ceil(th / res - 1e-9));
  // Grow the bounds (right and down) to whole pixels so that pixels stay square.
  return { srid: req.crs, bounds: [r.tminx, r.tmaxy - height * res, r.tminx + width * res, r.tmaxy], width, height, ...(r.cutline ? { cutline: r.cutline } : {}) };
}

async function bytesPerPixelOnDisk(layer: RasterLayer): Promise<number> {
  const raw = BYTES_PER_SAMPLE[layer.dataType] ?? 4;
  try {
    const size = (await stat(layer.filePath)).size;
    // Compressed sources: their own ratio (never less than 1/200 of raw, never more than raw).
    return Math.min(raw, Math.max(raw / 200, size / (layer.width * layer.height * layer.bands)));
  } catch {
    return raw;
  }
}

/**
 * Size of the extract of a raster layer: pixels (width × height × bands), bytes, width and height.
 * Over config download.rasterMaxPixels → 413 over-limit with { count, limit }. Whether it is served directly
 * (rasterDirectMaxPixels) is the estimate's decision (src/download/estimate.ts).
 */
export async function estimateRaster(platform: Platform, layer: RasterLayer, req: ExtractRequest, area: ResolvedArea | undefined, territory?: RasterTerritory): Promise<RasterEstimate> {
  checkFormat(layer, req);
  const grid = await rasterGrid(platform, layer, req, area, territory);
  const pixels = grid.width * grid.height * layer.bands;
  const limit = platform.config.download.rasterMaxPixels;
  if (pixels > limit) {
    throw new DownloadError(
      413,
      'over-limit',
      `The extract of ${layer.name} would be ${grid.width} × ${grid.height} pixels × ${layer.bands} band(s) = ${pixels} pixels; the limit is ${limit} pixels. Narrow the area.`,
      'layer',
      { count: pixels, limit, limitName: 'rasterMaxPixels' },
    );
  }
  // + the TIFF's own structure (header, tags, georeferencing, strip/tile tables). Measured on the demo raster's
  // extract of a commune: GeoTIFF 4,802 and COG 5,207 bytes; estimate with 4096: 6,777 (0.71× the GeoTIFF, at the
  // edge of issue 12's ±30 %), with 2048: 4,729 (1.02× / 0.91×). Larger extracts are dominated by the pixel term.
  const bytes = Math.round(pixels * (await bytesPerPixelOnDisk(layer)) + 2048);
  return { pixels, bytes, width: grid.width, height: grid.height };
}

function checkFormat(layer: RasterLayer, req: ExtractRequest): void {
  const format = FORMATS.find((f) => f.id === req.format);
  if (!format || format.kind !== 'raster') {
    throw new DownloadError(400, 'format-not-applicable', `${format?.title ?? req.format} is a vector format; layer ${layer.name} is a raster layer (use gtiff or cog)`, 'format');
  }
}

/**
 * Write the extract of one raster layer to outPath (GeoTIFF or COG, per req.format) and return its size.
 * The caller owns outPath's directory; a cutline file is written next to outPath and removed.
 */
export async function buildRasterExtract(
  platform: Platform,
  layer: RasterLayer,
  req: ExtractRequest,
  area: ResolvedArea | undefined,
  outPath: string,
  opts: RasterExtractOptions = {},
): Promise<{ bytes: number; width: number; height: number }> {
  checkFormat(layer, req);
  const format = FORMATS.find((f) => f.id === req.format)!;
  const grid = await rasterGrid(platform, layer, req, area, opts.territory);
  const pixels = grid.width * grid.height * layer.bands;
  if (pixels > platform.config.download.rasterMaxPixels) await estimateRaster(platform, layer, req, area, opts.territory); // throws over-limit
  checkAborted(opts.signal);
  const gdal = (await import('gdal-async')).default as typeof gdalTypes;
  const args = [
    '-of', format.driver,
    '-t_srs', `EPSG:${req.crs}`,
    '-te', ...grid.bounds.map((v) => String(v)),
    '-ts', String(grid.width), String(grid.height),
    '-r', 'near',
    '-overwrite',
  ];
  if (layer.nodata !== null) args.push('-srcnodata', String(layer.nodata), '-dstnodata', String(layer.nodata));
  // Without a nodata value, what the cutline leaves out must still be told apart from a pixel of value 0: an alpha band.
  else if (grid.cutline && opts.territory) args.push('-dstalpha');
  for (const o of format.datasetOptions) args.push('-co', o);
  if (format.id === 'gtiff' && !/^(Float|CFloat)/.test(layer.dataType)) args.push('-co', 'PREDICTOR=2');
  if (format.id === 'cog') args.push('-co', 'OVERVIEWS=AUTO');
  const cutlinePath = `${outPath}.cutline.geojson`;
  if (grid.cutline) {
    const fc = {
      type: 'FeatureCollection',
      crs: { type: 'name', properties: { name: `urn:ogc:def:crs:EPSG::${layer.srid}` } },
      features: [{ type: 'Feature', properties: {}, geometry: JSON.parse(grid.cutline) }],
    };
    await writeFile(cutlinePath, JSON.stringify(fc));
    args.push('-cutline', cutlinePath);
  }
  const src = await gdal.openAsync(layer.filePath);
  try {
    const out = await gdal.warpAsync(outPath, null, [src], args, { progress_cb: (complete: number) => opts.onProgress?.(Math.min(1, Math.max(0, complete))) });
    out.close();
  } catch (e) {
    await rm(outPath, { force: true });
    throw e;
  } finally {
    src.close();
    if (grid.cutline) await rm(cutlinePath, { force: true });
  }
  if (opts.signal?.aborted) {
    await rm(outPath, { force: true });
    checkAborted(opts.signal);
  }
  opts.onProgress?.(1);
  return { bytes: (await stat(outPath)).size, width: grid.width, height: grid.height };
}

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new DownloadError(499, 'cancelled', 'The extract was cancelled');
}
