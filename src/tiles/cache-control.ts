/**
 * Cache-Control of a tile. A tile the cache may keep is the same for everyone who may see it, but only a layer
 * anyone may see (anonymous included) may be kept by shared caches (proxies, CDNs): a tile of a restricted layer,
 * served to a caller with a whole grant, would otherwise be stored by a proxy and handed to the next client without
 * any credential (issue 11). Browsers keep it privately for 60 s either way, and revalidate with the ETag.
 */
import { ANONYMOUS, type AccessPolicy, type RasterResource } from '../access/policy.js';
import type { Layer } from '../catalog/layers.js';
import type { CacheOutcome } from './through-cache.js';

/** May anyone, with no credential, see this layer whole? Then shared caches may keep its tiles. */
export function visibleToEveryone(policy: AccessPolicy, resource: { layer: Layer } | { raster: RasterResource }): boolean {
  const d = 'layer' in resource ? policy.decide(ANONYMOUS, resource.layer, 'view') : policy.decideRaster(ANONYMOUS, resource.raster, 'view');
  return d.allowed && d.restriction === undefined && d.territory === undefined;
}

export function tileCacheControl(outcome: CacheOutcome, everyone: boolean): string {
  if (outcome === 'bypass') return 'private, max-age=0';
  return everyone ? 'public, max-age=60' : 'private, max-age=60';
}
