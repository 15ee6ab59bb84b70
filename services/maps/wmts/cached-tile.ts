/**
 * A WMTS tile through the disk cache (src/tiles/through-cache.ts). The access policy is asked first, with the
 * caller, on every request, hit or miss: a refusal is a 403 whatever the cache holds. Only an unrestricted
 * answer is cached or served from the cache (a restricted one, e.g. a territorial grant, depends on the
 * caller, which the key does not hold), and only for a layer whose data changes are tracked
 * (src/tiles/revision.ts). An unknown style is never cached: the drawing refuses it before anything is written.
 */
import type { Layer } from '../../../src/catalog/layers.js';
import { TileCache } from '../../../src/tiles/cache.js';
import { throughCache, type CachedTile } from '../../../src/tiles/through-cache.js';
import type { WmsContext } from '../wms/context.js';
import { WmtsError } from './errors.js';
import { renderTile } from './get-tile.js';
import { TILE_FORMATS, type GetTileRequest } from './request.js';

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

export async function cachedTile(ctx: WmsContext, cache: TileCache | undefined, req: GetTileRequest, ifNoneMatch?: string): Promise<CachedTile> {
  if (req.raster) {
    // Raster layers' tiles are drawn on every request, never cached: their changes (file, styles) are not tracked
    // by the layer revisions the cache keys on, and a territorial grant's tile is cut for its holder
    // (src/render/raster-cut.ts). The policy is asked first, as for vector tiles.
    if (!ctx.platform.policy.decideRaster(ctx.principal, req.raster, 'view').allowed) throw new WmtsError('NoApplicableCode', `You may not view layer ${req.raster.name}`, 'LAYER', 403);
    return { bytes: await renderTile(ctx, req), cache: 'bypass' };
  }
  const { cacheable } = decide(ctx, req.layer);
  const address = { set: req.set.id, matrix: req.matrix.id, row: req.row, col: req.col, ext: TILE_FORMATS[req.mime]!.ext };
  return throughCache(ctx.platform, cache, { layer: req.layer, style: req.style, cacheable, address, ifNoneMatch }, () => renderTile(ctx, req));
}
