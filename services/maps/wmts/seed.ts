/**
 * Seeding the tile cache (`cli.js seed-tiles`): every tile of a layer's style in a matrix set over a range of
 * levels and a box (CRS:84 lon/lat; the layer's extent by default), drawn and cached by the same path as a
 * request (cached-tile.ts) as the anonymous caller, so that only what anyone may see is seeded. Tiles already
 * cached at the current revision are left as they are; older revisions of the layer (all styles) are pruned
 * first.
 */
import { ANONYMOUS } from '../../../src/access/policy.js';
import { layerExtentWgs84 } from '../../../src/catalog/extent.js';
import type { Bbox } from '../../../src/crs/registry.js';
import type { Platform } from '../../../src/platform.js';
import { layerRevision } from '../../../src/tiles/revision.js';
import { matrixSetById, tileRange, TILE_MATRIX_SETS } from '../../../src/tiles/matrix-sets.js';
import { wmsSettings } from '../wms/settings.js';
import { mapStyles } from '../wms/get-map.js';
import type { WmsContext } from '../wms/context.js';
import { cachedTile, tileCacheOf } from './cached-tile.js';
import type { CacheOutcome } from '../../../src/tiles/through-cache.js';
import { TILE_FORMATS } from './request.js';

export interface SeedOptions {
  layer: string;
  matrixSet: string;
  /** Levels, e.g. "0-12" or "8". */
  zoom: string;
  /** minLon,minLat,maxLon,maxLat (CRS:84). */
  bbox?: string;
  style?: string;
  format?: string;
  concurrency?: number;
}

export interface SeedReport {
  layer: string;
  matrixSet: string;
  levels: [number, number];
  tiles: number;
  drawn: number;
  alreadyCached: number;
  pruned: number;
  ms: number;
}

function levels(spec: string, max: number): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(spec.trim());
  if (!m) throw new Error(`--zoom: a level or a range like 0-12, not ${spec}`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a > b || b > max) throw new Error(`--zoom: levels 0 to ${max}, the first not above the last`);
  return [a, b];
}

export async function seedTiles(platform: Platform, o: SeedOptions, progress: (done: number, total: number) => void = () => undefined): Promise<SeedReport> {
  const started = Date.now();
  const cache = tileCacheOf({ platform });
  if (!cache) throw new Error('No tile cache: set SDI_TILE_CACHE_DIR');
  const set = matrixSetById(o.matrixSet);
  if (!set) throw new Error(`--matrix-set: one of ${TILE_MATRIX_SETS.map((s) => s.id).join(', ')}`);
  const layer = (await platform.layers.list()).find((l) => l.name === o.layer && l.geometry);
  if (!layer) throw new Error(`No vector layer ${o.layer}`);
  const mime = o.format ? (o.format.includes('/') ? o.format : `image/${o.format === 'jpg' ? 'jpeg' : o.format}`) : 'image/png';
  if (!TILE_FORMATS[mime]) throw new Error(`--format: ${Object.keys(TILE_FORMATS).join(', ')}`);
  const [z0, z1] = levels(o.zoom, set.matrices.length - 1);
  let lonLat: Bbox | null;
  if (o.bbox) {
    const v = o.bbox.split(',').map(Number);
    if (v.length !== 4 || !v.every(Number.isFinite) || v[0]! >= v[2]! || v[1]! >= v[3]!) throw new Error('--bbox: minLon,minLat,maxLon,maxLat');
    lonLat = { minx: v[0]!, miny: v[1]!, maxx: v[2]!, maxy: v[3]! };
  } else lonLat = await layerExtentWgs84(platform.pool, layer);
  if (!lonLat) throw new Error(`Layer ${layer.name} has no extent: give --bbox`);
  const box = platform.crs.transformBbox(lonLat, 4326, set.srid);

  // Not a request: the command line seeds as an anonymous caller, so it draws only what anyone may view; every
  // request still asks the policy with its own caller before a cached tile is served (cached-tile.ts).
  const ctx: WmsContext = { platform, principal: ANONYMOUS, settings: wmsSettings(platform.config), baseUrl: '', serviceUrl: '', layers: [layer], rasters: [] };
  const style = o.style ?? '';
  await mapStyles(ctx, { layers: [layer], styles: [style] }); // an unknown style is refused here, before any work
  const revision = await layerRevision(platform.pool, layer);
  if (!revision) throw new Error(`Layer ${layer.name} is not a table whose changes can be tracked: its tiles are not cached`);
  const pruned = await cache.retire(layer.name, revision);

  const jobs: Array<{ z: number; row: number; col: number }> = [];
  for (let z = z0; z <= z1; z++) {
    const m = set.matrices[z]!;
    const r = tileRange(set, m, box);
    if (!r) continue;
    for (let row = r.minRow; row <= r.maxRow; row++) for (let col = r.minCol; col <= r.maxCol; col++) jobs.push({ z, row, col });
  }
  const counts: Record<CacheOutcome, number> = { hit: 0, miss: 0, bypass: 0 };
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const j = jobs[next++]!;
      const t = await cachedTile(ctx, cache, { op: 'GetTile', layer, style, mime, format: TILE_FORMATS[mime]!.format, set, matrix: set.matrices[j.z]!, row: j.row, col: j.col });
      counts[t.cache]++;
      progress(++done, jobs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 2) }, worker));
  return { layer: layer.name, matrixSet: set.id, levels: [z0, z1], tiles: jobs.length, drawn: counts.miss + counts.bypass, alreadyCached: counts.hit, pruned, ms: Date.now() - started };
}
