/**
 * A WMTS tile through the disk cache (src/tiles/through-cache.ts). The access policy is asked first, with the
 * caller, on every request, hit or miss: a refusal is a 403 whatever the cache holds. Only an unrestricted
 * answer is cached or served from the cache (a restricted one, e.g. a territorial grant, depends on the
 * caller, which the key does not hold), and only for a layer whose data changes are tracked
 * (src/tiles/revision.ts; raster layers: src/tiles/raster-revision.ts, their file, registration and styles). An
 * unknown style is never cached: the drawing refuses it before anything is written.
 */
import type { Layer } from '../../../src/catalog/layers.js';
import { TileCache } from '../../../src/tiles/cache.js';
import { throughCache, tileRevisions, type CachedTile } from '../../../src/tiles/through-cache.js';
import { rasterRevision } from '../../../src/tiles/raster-revision.js';
import { visibleToEveryone } from '../../../src/tiles/cache-control.js';
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

/** The tile, and whether shared caches may keep it (a layer anyone may see: src/tiles/cache-control.ts). */
export async function cachedTile(ctx: WmsContext, cache: TileCache | undefined, req: GetTileRequest, ifNoneMatch?: string): Promise<CachedTile & { everyone: boolean }> {
  const address = { set: req.set.id, matrix: req.matrix.id, row: req.row, col: req.col, ext: TILE_FORMATS[req.mime]!.ext };
  const draw = () => renderTile(ctx, req);
  if (req.raster) {
    // A raster tile is the same for everyone unless the caller's grant is cut to a territory (src/render/raster-cut.ts).
    const raster = req.raster;
    const d = ctx.platform.policy.decideRaster(ctx.principal, raster, 'view');
    if (!d.allowed) throw new WmtsError('NoApplicableCode', `You may not view layer ${raster.name}`, 'LAYER', 403);
    const cacheable = d.territory === undefined && d.restriction === undefined;
    const t = await throughCache(cache, { layer: raster.name, revision: () => rasterRevision(ctx.platform.pool, raster), style: req.style, cacheable, address, ifNoneMatch }, draw);
    return { ...t, everyone: visibleToEveryone(ctx.platform.policy, { raster }) };
  }
  const layer = req.layer;
  const { cacheable } = decide(ctx, layer);
  const t = await throughCache(cache, { layer: layer.name, revision: () => tileRevisions(ctx.platform).get(layer), style: req.style, cacheable, address, ifNoneMatch }, draw);
  return { ...t, everyone: visibleToEveryone(ctx.platform.policy, { layer }) };
}
