/**
 * The tile cache's size limit (SDI_TILE_CACHE_MAX_MB): a trim walks the cache directory (src/tiles/cache.ts
 * layout), and when the files add up to more than the limit it removes tiles until they fill 90 % of it
 * (so that the next trims have room), in this order: revisions being retired (`.retired-*`, already
 * unreachable), then tiles by last use, least recent first. Last use is the later of the file's access and
 * modification times: a hit does not touch the file (a cached tile is one read, under 2 ms); where the file
 * system records access times (relatime: at most daily), old but read tiles stay. Several processes may trim
 * the same directory: removing a file another removed is not an error.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** What a trim did. */
export interface TrimReport {
  /** Bytes of tiles before the trim. */
  before: number;
  /** Bytes after. */
  after: number;
  /** Tile files removed. */
  removed: number;
}

interface TileFile {
  path: string;
  size: number;
  used: number;
}

/** Every file under dir (depth-first), skipping nothing: a temporary file being written is counted too. */
async function walk(dir: string, out: TileFile[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // removed meanwhile
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile()) {
      try {
        const s = await stat(p);
        out.push({ path: p, size: s.size, used: Math.max(s.atimeMs, s.mtimeMs) });
      } catch {
        // removed meanwhile
      }
    }
  }
}

/** Keep the cache at `dir` under `maxBytes` (see the header). */
export async function trimTileCache(dir: string, maxBytes: number): Promise<TrimReport> {
  const report: TrimReport = { before: 0, after: 0, removed: 0 };
  let layers;
  try {
    layers = await readdir(dir, { withFileTypes: true });
  } catch {
    return report; // no cache yet
  }
  // Retired revisions first (unreachable: removed whatever the size), then the rest by last use.
  const retired: string[] = [];
  const files: TileFile[] = [];
  for (const l of layers) {
    if (!l.isDirectory()) continue;
    for (const r of await readdir(join(dir, l.name), { withFileTypes: true }).catch(() => [])) {
      const p = join(dir, l.name, r.name);
      if (r.name.startsWith('.retired-')) retired.push(p);
      else if (r.isDirectory()) await walk(p, files);
    }
  }
  for (const p of retired) await rm(p, { recursive: true, force: true }).catch(() => undefined);
  let total = files.reduce((s, f) => s + f.size, 0);
  report.before = total;
  if (total > maxBytes) {
    const target = maxBytes * 0.9;
    files.sort((a, b) => a.used - b.used);
    for (const f of files) {
      if (total <= target) break;
      await rm(f.path, { force: true }).catch(() => undefined);
      total -= f.size;
      report.removed++;
    }
  }
  report.after = total;
  return report;
}
