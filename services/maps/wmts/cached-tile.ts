/**
 * A tile through the disk cache (src/tiles/cache.ts). The access policy is asked first, with the caller, on
 * every request, hit or miss: a refusal is a 403 whatever the cache holds. Only an unrestricted answer is
 * cached or served from the cache (a restricted one, e.g. a territorial grant, depends on the caller, which
 * the key does not hold), and only for a layer whose data changes are tracked (src/tiles/revision.ts). The
 * key's revision is read before drawing, so a concurrent change never leaves an old tile under a new key. An
 * unknown style is never cached: the drawing refuses it before anything is written.
 */
import type { Layer } from '../../../src/catalog/layers.js';
import { TileCache } from '../../../src/tiles/cache.js';
import { layerRevision } from '../../../src/tiles/revision.js';
import type { WmsContext } from '../wms/context.js';
import { WmtsError } from './errors.js';
import { renderTile } from './get-tile.js';
import { TILE_FORMATS, type GetTileRequest } from './request.js';

export type CacheOutcome = 'hit' | 'miss' | 'bypass';

export function tileCacheOf(ctx: Pick<WmsContext, 'platform'>): TileCache | undefined {
  const dir = ctx.platform.config.maps.tileCacheDir;
  return dir ? new TileCache(dir) : undefined;
}

/** May the caller view the layer, and is the answer the same for everyone (cacheable)? */
function decide(ctx: WmsContext, layer: Layer): { cacheable: boolean } {
  const d = ctx.platform.policy.decide(ctx.principal, layer, 'view');
  if (!d.allowed) throw new WmtsError('NoApplicableCode', `You may not view layer ${layer.name}`, 'LAYER', 403);
  return { cacheable: d.restriction === undefined };
}

export async function cachedTile(ctx: WmsContext, cache: TileCache | undefined, req: GetTileRequest): Promise<{ bytes: Buffer; cache: CacheOutcome }> {
  const { cacheable } = decide(ctx, req.layer);
  if (!cache || !cacheable) return { bytes: await renderTile(ctx, req), cache: 'bypass' };
  const revision = await layerRevision(ctx.platform.pool, req.layer, req.style);
  if (!revision) return { bytes: await renderTile(ctx, req), cache: 'bypass' };
  const address = { layer: req.layer.name, revision, set: req.set.id, matrix: req.matrix.id, row: req.row, col: req.col, ext: TILE_FORMATS[req.mime]!.ext };
  const hit = await cache.get(address);
  if (hit) return { bytes: hit, cache: 'hit' };
  const bytes = await renderTile(ctx, req);
  await cache.put(address, bytes);
  return { bytes, cache: 'miss' };
}
