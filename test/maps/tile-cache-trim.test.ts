/**
 * The tile cache's size limit (SDI_TILE_CACHE_MAX_MB, src/tiles/cache-trim.ts): real files in a real directory,
 * laid out by TileCache; a trim removes retired revisions, then the least recently used tiles until the cache
 * fills 90 % of the limit.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TileCache, type TileAddress } from '../../src/tiles/cache.js';
import { trimTileCache } from '../../src/tiles/cache-trim.js';

const KB = 1024;
const tile = (col: number, revision = 'r2'): TileAddress => ({ layer: 'communes', revision, style: '', set: 'WebMercatorQuad', matrix: '12', row: 1400, col, ext: 'png' });

describe('tile cache size limit (SDI_TILE_CACHE_MAX_MB)', () => {
  it('removes the least recently used tiles until the cache fills 90 % of the limit, newest kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdi-trim-'));
    const cache = new TileCache(dir);
    // Ten 10 KB tiles, used one minute apart: tile 0 the longest ago.
    const now = Date.now() / 1000;
    for (let i = 0; i < 10; i++) {
      await cache.put(tile(i), Buffer.alloc(10 * KB, i));
      utimesSync(cache.path(tile(i)), now - 600 + i * 60, now - 600 + i * 60);
    }
    const r = await trimTileCache(dir, 60 * KB);
    expect(r).toEqual({ before: 100 * KB, after: 50 * KB, removed: 5 });
    for (let i = 0; i < 10; i++) expect(existsSync(cache.path(tile(i)))).toBe(i >= 5);
    // Under the limit: nothing more goes.
    expect(await trimTileCache(dir, 60 * KB)).toEqual({ before: 50 * KB, after: 50 * KB, removed: 0 });
    expect((await cache.get(tile(9)))!.length).toBe(10 * KB);
  });

  it('a tile read recently (access time) stays although written long ago', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdi-trim-'));
    const cache = new TileCache(dir);
    const now = Date.now() / 1000;
    for (let i = 0; i < 4; i++) {
      await cache.put(tile(i), Buffer.alloc(10 * KB));
      utimesSync(cache.path(tile(i)), now - 1000 + i, now - 1000 + i);
    }
    utimesSync(cache.path(tile(0)), now, now - 1000); // read just now
    const r = await trimTileCache(dir, 30 * KB);
    expect(r.removed).toBe(2);
    expect([0, 1, 2, 3].map((i) => existsSync(cache.path(tile(i))))).toEqual([true, false, false, true]);
  });

  it('revisions being retired go first, whatever the limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdi-trim-'));
    const cache = new TileCache(dir);
    await cache.put(tile(1), Buffer.alloc(KB));
    const trash = join(dir, 'communes', '.retired-123-abc', 'default');
    mkdirSync(trash, { recursive: true });
    writeFileSync(join(trash, 'x.png'), Buffer.alloc(5 * KB));
    const r = await trimTileCache(dir, 1024 * KB);
    expect(r).toEqual({ before: KB, after: KB, removed: 0 });
    expect(existsSync(join(dir, 'communes', '.retired-123-abc'))).toBe(false);
    expect(existsSync(cache.path(tile(1)))).toBe(true);
  });

  it('a cache directory not created yet is an empty cache', async () => {
    expect(await trimTileCache(join(tmpdir(), `sdi-trim-absent-${process.pid}`), KB)).toEqual({ before: 0, after: 0, removed: 0 });
  });
});
