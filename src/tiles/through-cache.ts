/**
 * A tile through the disk cache, for any kind of tile (WMTS images, vector tiles). The caller has asked the
 * policy already and says whether the answer is the same for everyone (`cacheable`: no restriction); only
 * such answers are cached, served from the cache, or given an ETag. The revision (revision.ts) is read
 * before drawing, so a change committed meanwhile is drawn under the older key, never the reverse.
 *
 * ETag: the revision (the URL names the rest of the tile: style, matrix, row, column, format), so a client revalidating with If-None-Match gets
 * a 304 without the file being read (and, with the revision in memory, without a query).
 */
import type { Pool } from '../db/pool.js';
import type { ChangeFeed } from '../db/change-feed.js';
import type { TileAddress, TileCache } from './cache.js';
import { TileRevisions } from './revision.js';

export type CacheOutcome = 'hit' | 'miss' | 'bypass';

export interface CachedTile {
  bytes: Buffer;
  cache: CacheOutcome;
  etag?: string;
  /** If-None-Match named this ETag: answer 304 (bytes is empty). */
  notModified?: boolean;
}

export interface CacheRequest {
  /** The layer's name (vector and raster layers share one name space): the first part of the key. */
  layer: string;
  /** The layer's revision (revision.ts, raster-revision.ts), read before drawing; undefined: not cacheable. */
  revision: () => Promise<string | undefined>;
  /** Style name ('' = default): part of the key. */
  style: string;
  cacheable: boolean;
  address: Omit<TileAddress, 'layer' | 'revision' | 'style'>;
  ifNoneMatch?: string;
}

/** Layer revisions this process has already retired the older ones of (bounded: cleared when large). */
const retiredUpTo = new Set<string>();

/** After the first tile drawn under a new revision, the older revisions are moved away and removed in the background. */
async function retireOlder(cache: TileCache, layer: string, revision: string): Promise<void> {
  const key = `${layer}\u0000${revision}`;
  if (retiredUpTo.has(key)) return;
  if (retiredUpTo.size > 10_000) retiredUpTo.clear();
  retiredUpTo.add(key);
  await cache.retire(layer, revision, false);
}

/** The revisions of a platform's layers: one memory per pool (so per platform), with its change feed. */
const revisionsByPool = new WeakMap<Pool, TileRevisions>();

export function tileRevisions(platform: { pool: Pool; changes?: ChangeFeed }): TileRevisions {
  let r = revisionsByPool.get(platform.pool);
  if (!r) revisionsByPool.set(platform.pool, (r = new TileRevisions(platform.pool, platform.changes)));
  return r;
}

export async function throughCache(cache: TileCache | undefined, r: CacheRequest, draw: () => Promise<Buffer>): Promise<CachedTile> {
  if (!cache || !r.cacheable) return { bytes: await draw(), cache: 'bypass' };
  const revision = await r.revision();
  if (!revision) return { bytes: await draw(), cache: 'bypass' };
  const etag = `"${revision}"`;
  if (r.ifNoneMatch && r.ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) return { bytes: Buffer.alloc(0), cache: 'hit', etag, notModified: true };
  const address: TileAddress = { ...r.address, layer: r.layer, revision, style: r.style };
  const hit = await cache.get(address);
  if (hit) return { bytes: hit, cache: 'hit', etag };
  const bytes = await draw();
  await cache.put(address, bytes);
  await retireOlder(cache, r.layer, revision);
  return { bytes, cache: 'miss', etag };
}
