/**
 * A vector tile through the disk cache (src/tiles/through-cache.ts), as both tile URLs (OGC API – Tiles and the
 * plain {z}/{x}/{y}.pbf) and `cli.js seed-tiles --format mvt` ask for it: one key, `<layer>/<revision>/default/mvt/
 * <z>/<y>/<x>.pbf`, so a seeded tile is the one either URL serves. The caller has been let view the layer
 * already (index.ts: visibleLayer); a tile drawn under a restriction depends on the caller, so it is neither
 * cached nor served from the cache. A tile no feature reaches is cached too, empty (the routes answer 204).
 */
import type { Principal } from '../../../src/access/policy.js';
import type { Layer } from '../../../src/catalog/layers.js';
import type { Platform } from '../../../src/platform.js';
import type { TileCache } from '../../../src/tiles/cache.js';
import { throughCache, tileRevisions, type CachedTile } from '../../../src/tiles/through-cache.js';
import { checkTile, vectorTile } from './mvt.js';

/** The cache's "matrix set" and extension of vector tiles (WebMercatorQuad levels, TMS-less z/y/x). */
export const MVT_CACHE_SET = 'mvt';
export const MVT_CACHE_EXT = 'pbf';

export async function cachedVectorTile(platform: Platform, cache: TileCache | undefined, caller: Principal, layer: Layer, z: number, x: number, y: number, ifNoneMatch?: string): Promise<CachedTile> {
  checkTile(z, x, y);
  const cacheable = platform.policy.decide(caller, layer, 'view').restriction === undefined;
  const address = { set: MVT_CACHE_SET, matrix: String(z), row: y, col: x, ext: MVT_CACHE_EXT };
  const revision = () => tileRevisions(platform).get(layer);
  return throughCache(cache, { layer: layer.name, revision, style: '', cacheable, address, ifNoneMatch }, () => vectorTile(platform, caller, layer, z, x, y));
}
