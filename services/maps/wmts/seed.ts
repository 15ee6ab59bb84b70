/**
 * Seeding the tile cache (`cli.js seed-tiles`): every tile of a layer in a matrix set over a range of levels and a
 * box (CRS:84 lon/lat; the layer's extent by default), for each kind of tile the cache holds (issue 9):
 *
 * - WMTS PNG/JPEG tiles of a vector layer's style (key: the table's revision, src/tiles/revision.ts);
 * - WMTS PNG/JPEG tiles of a raster layer's style (key: its file, registration and styles,
 *   src/tiles/raster-revision.ts);
 * - Mapbox Vector Tiles of a vector layer (`--format mvt`, WebMercatorQuad only), the tiles both OGC API – Tiles
 *   and the plain /tiles/{layer}/{z}/{x}/{y}.pbf serve (one key: ../vector-tiles/cached-tile.ts).
 *
 * Each tile is drawn and cached by the same function as a request (cached-tile.ts, ../vector-tiles/cached-tile.ts)
 * as the anonymous caller, so that only what anyone may see is seeded: a layer the anonymous caller may not view
 * whole (restricted, or cut to a territory) has tiles that depend on the caller and is refused. Tiles already cached
 * at the current revision are left as they are; older revisions of the layer (all styles and kinds) are pruned
 * first.
 */
import { ANONYMOUS } from '../../../src/access/policy.js';
import { layerExtentWgs84 } from '../../../src/catalog/extent.js';
import type { Layer } from '../../../src/catalog/layers.js';
import { listRasterLayers, type RasterLayer } from '../../../src/catalog/rasters.js';
import type { Bbox } from '../../../src/crs/registry.js';
import type { Platform } from '../../../src/platform.js';
import { layerRevision } from '../../../src/tiles/revision.js';
import { rasterRevision } from '../../../src/tiles/raster-revision.js';
import { visibleToEveryone } from '../../../src/tiles/cache-control.js';
import { matrixSetById, tileBbox, tileRange, TILE_MATRIX_SETS, TILE_SIZE, type TileMatrixSet } from '../../../src/tiles/matrix-sets.js';
import { OVERVIEW_FACTORS, overviewBuilds, prepareOverviews } from '../../../src/render/raster.js';
import type { CacheOutcome, CachedTile } from '../../../src/tiles/through-cache.js';
import { wmsSettings } from '../wms/settings.js';
import { mapPixelIn, mapStyles, rasterStyles } from '../wms/get-map.js';
import type { WmsContext } from '../wms/context.js';
import { cachedVectorTile } from '../vector-tiles/cached-tile.js';
import { MVT_TYPE } from '../vector-tiles/mvt.js';
import { cachedTile, tileCacheOf } from './cached-tile.js';
import { TILE_FORMATS } from './request.js';

export interface SeedOptions {
  layer: string;
  /** Required for images; vector tiles are WebMercatorQuad only (the default for them). */
  matrixSet?: string;
  /** Levels, e.g. "0-12" or "8". */
  zoom: string;
  /** minLon,minLat,maxLon,maxLat (CRS:84). */
  bbox?: string;
  style?: string;
  /** png (default), jpeg, or mvt (also pbf, application/vnd.mapbox-vector-tile); a media type is taken as is. */
  format?: string;
  concurrency?: number;
}

export interface SeedReport {
  layer: string;
  /** vector: a feature layer's WMTS images; raster: a raster layer's WMTS images; mvt: a feature layer's vector tiles. */
  kind: 'vector' | 'raster' | 'mvt';
  format: string;
  matrixSet: string;
  levels: [number, number];
  tiles: number;
  drawn: number;
  alreadyCached: number;
  pruned: number;
  ms: number;
}

const MVT_NAMES = new Set(['mvt', 'pbf', MVT_TYPE]);

function levels(spec: string, max: number): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(spec.trim());
  if (!m) throw new Error(`--zoom: a level or a range like 0-12, not ${spec}`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a > b || b > max) throw new Error(`--zoom: levels 0 to ${max}, the first not above the last`);
  return [a, b];
}

function lonLatBox(spec: string): Bbox {
  const v = spec.split(',').map(Number);
  if (v.length !== 4 || !v.every(Number.isFinite) || v[0]! >= v[2]! || v[1]! >= v[3]!) throw new Error('--bbox: minLon,minLat,maxLon,maxLat');
  return { minx: v[0]!, miny: v[1]!, maxx: v[2]!, maxy: v[3]! };
}

/** Names shown at most in the unknown-layer message. */
const LISTED = 40;

/** The layers seeding can fill: those anyone may view whole (the anonymous caller's tiles are the shared ones). */
async function seedable(platform: Platform): Promise<{ layers: Layer[]; rasters: RasterLayer[] }> {
  const layers = (await platform.layers.list()).filter((l) => l.geometry && visibleToEveryone(platform.policy, { layer: l }));
  const rasters = (await listRasterLayers(platform.pool)).filter((r) => visibleToEveryone(platform.policy, { raster: r }));
  return { layers, rasters };
}

async function unknownLayer(platform: Platform, name: string): Promise<Error> {
  const { layers, rasters } = await seedable(platform);
  const names = [...layers.map((l) => l.name), ...rasters.map((r) => `${r.name} (raster)`)];
  const shown = names.length > LISTED ? `${names.slice(0, LISTED).join(', ')}… (${names.length - LISTED} more: cli.js layers)` : names.join(', ') || 'none';
  return new Error(`No layer ${name} to seed. Layers that can be seeded: ${shown}`);
}

export async function seedTiles(platform: Platform, o: SeedOptions, progress: (done: number, total: number) => void = () => undefined): Promise<SeedReport> {
  const started = Date.now();
  const cache = tileCacheOf({ platform });
  if (!cache) throw new Error('No tile cache: set SDI_TILE_CACHE_DIR');

  const mvt = o.format !== undefined && MVT_NAMES.has(o.format.toLowerCase());
  let mime: string;
  if (mvt) mime = MVT_TYPE;
  else {
    mime = o.format ? (o.format.includes('/') ? o.format : `image/${o.format === 'jpg' ? 'jpeg' : o.format}`) : 'image/png';
    if (!TILE_FORMATS[mime]) throw new Error(`--format: ${[...Object.keys(TILE_FORMATS), 'mvt'].join(', ')}`);
  }
  let set: TileMatrixSet | undefined;
  if (mvt) {
    if (o.matrixSet !== undefined && o.matrixSet !== 'WebMercatorQuad') throw new Error('--matrix-set: vector tiles are offered in WebMercatorQuad only');
    if (o.style !== undefined) throw new Error('--style: vector tiles have no style (the client draws them)');
    set = matrixSetById('WebMercatorQuad')!;
  } else set = o.matrixSet ? matrixSetById(o.matrixSet) : undefined;
  if (!set) throw new Error(`--matrix-set: one of ${TILE_MATRIX_SETS.map((s) => s.id).join(', ')}`);
  const [z0, z1] = levels(o.zoom, set.matrices.length - 1);
  const concurrency = o.concurrency ?? 2;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('--concurrency: a positive integer');

  // Vector and raster layers share one name space (WMS, WMTS): a vector layer first, as readTile does.
  const layer = (await platform.layers.list()).find((l) => l.name === o.layer && l.geometry);
  const raster = layer ? undefined : (await listRasterLayers(platform.pool)).find((r) => r.name === o.layer);
  if (!layer && !raster) throw await unknownLayer(platform, o.layer);
  if (raster && mvt) throw new Error(`Layer ${raster.name} is a raster layer: vector tiles are drawn from feature layers only`);
  // Not a request: the command line seeds as an anonymous caller. A layer anyone sees whole is drawn the same for
  // every caller allowed to view it, so its seeded tiles are the ones requests hit; other layers' tiles depend on the
  // caller (cut, restricted) and are never cached (cached-tile.ts asks the policy with each caller, hit or miss).
  if (!visibleToEveryone(platform.policy, layer ? { layer } : { raster: raster! })) {
    throw new Error(`Layer ${o.layer} is not open to everyone: its tiles depend on the caller and are not seeded`);
  }

  const ctx: WmsContext = { platform, principal: ANONYMOUS, settings: wmsSettings(platform.config), baseUrl: '', serviceUrl: '', layers: layer ? [layer] : [], rasters: raster ? [raster] : [] };
  const style = o.style ?? '';
  let revision: string | undefined;
  let extent: Bbox | null;
  if (layer) {
    // An unknown style is refused here, before any work (a vector tile has none).
    if (!mvt) await mapStyles(ctx, { layers: [layer], styles: [style] });
    revision = await layerRevision(platform.pool, layer);
    if (!revision) throw new Error(`Layer ${layer.name} is not a table whose changes can be tracked: its tiles are not cached`);
    extent = o.bbox ? null : await layerExtentWgs84(platform.pool, layer);
  } else {
    const r = raster!;
    if (!platform.crs.layerCrs(r.srid, null).includes(set.srid)) throw new Error(`--matrix-set: ${set.id} (EPSG:${set.srid}) is not a CRS layer ${r.name} is offered in`);
    await rasterStyles(ctx, [{ raster: r, style }], 'STYLE');
    revision = await rasterRevision(platform.pool, r);
    if (!revision) throw new Error(`Layer ${r.name} reads a file whose changes cannot be followed (${r.filePath.startsWith('/vsi') ? 'a /vsi… file' : 'not found'}): its tiles are not cached`);
    const [w, s, e, n] = r.extent4326;
    extent = { minx: w, miny: s, maxx: e, maxy: n };
  }
  const lonLat = o.bbox ? lonLatBox(o.bbox) : extent;
  if (!lonLat) throw new Error(`Layer ${o.layer} has no extent: give --bbox`);
  const box = platform.crs.transformBbox(lonLat, 4326, set.srid);
  const pruned = await cache.retire(o.layer, revision);

  const jobs: Array<{ z: number; row: number; col: number }> = [];
  for (let z = z0; z <= z1; z++) {
    const m = set.matrices[z]!;
    const r = tileRange(set, m, box);
    if (!r) continue;
    for (let row = r.minRow; row <= r.maxRow; row++) for (let col = r.minCol; col <= r.maxCol; col++) jobs.push({ z, row, col });
  }
  if (raster && jobs.length) {
    // A zoomed-out tile of a file without overviews is warped from the overview VRT once built (src/render/raster.ts):
    // built first and waited for, every seeded tile is drawn as requests draw it from then on.
    const first = jobs[0]!;
    const grid = { srid: set.srid, bbox: tileBbox(set, set.matrices[first.z]!, first.row, first.col), width: TILE_SIZE, height: TILE_SIZE };
    if (mapPixelIn(ctx, grid, raster.srid) / Math.min(raster.pixelSizeX, raster.pixelSizeY) >= OVERVIEW_FACTORS[0]!) await prepareOverviews(raster);
  }
  const matrixSet = set;
  const one = (j: { z: number; row: number; col: number }): Promise<CachedTile> => {
    if (mvt) return cachedVectorTile(platform, cache, ANONYMOUS, layer!, j.z, j.col, j.row);
    const tile = { op: 'GetTile' as const, style, mime, format: TILE_FORMATS[mime]!.format, set: matrixSet, matrix: matrixSet.matrices[j.z]!, row: j.row, col: j.col };
    return cachedTile(ctx, cache, layer ? { ...tile, layer } : { ...tile, raster: raster! });
  };
  const counts: Record<CacheOutcome, number> = { hit: 0, miss: 0, bypass: 0 };
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const t = await one(jobs[next++]!);
      counts[t.cache]++;
      progress(++done, jobs.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  // A build a drawing started (prepareOverviews failed, or a level it did not foresee): not cut off by the exit.
  await overviewBuilds();
  return {
    layer: o.layer,
    kind: mvt ? 'mvt' : layer ? 'vector' : 'raster',
    format: mime,
    matrixSet: set.id,
    levels: [z0, z1],
    tiles: jobs.length,
    drawn: counts.miss + counts.bypass,
    alreadyCached: counts.hit,
    pruned,
    ms: Date.now() - started,
  };
}
