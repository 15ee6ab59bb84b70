/**
 * The tile cache on disk (SDI_TILE_CACHE_DIR), shared by the processes of one deployment: a tile is a file at
 * `<dir>/<layer>/<revision>/<style>/<matrix set>/<matrix>/<row>/<col>.<ext>`, written to a temporary file of its own
 * and renamed into place (rename is atomic on one file system), so a reader sees a whole tile or none, and
 * two processes drawing the same tile both succeed. The revision (src/tiles/revision.ts) changes with the
 * layer's data, publication and styles: a change makes the older tiles unreachable, and `retire` removes them
 * (the first new tile drawn after a change does it, in the background; seeding does it first).
 *
 * The most recently used tiles are also kept in memory (TILE_MEMORY_BYTES for the process, whatever the number
 * of TileCache objects): a file's bytes never change under its path (the revision is in it), so the memory copy
 * of a path is the file. Why: reading a file through node:fs/promises is four trips to libuv's thread pool
 * (open, fstat, read, close), each waiting for a turn of the event loop; on a loaded process that was most of a
 * hit's time (issue 9, T1). lru-cache (isaacs, the one npm itself uses) bounds the entries by their bytes.
 */
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { DEFAULT_STYLE_NAME } from '../render/style.js';

/** Bytes of tiles kept in memory per process (about 3,000 typical 10 kB PNG tiles), and the largest tile kept. */
export const TILE_MEMORY_BYTES = 32 * 1024 * 1024;
const TILE_MEMORY_MAX_TILE = 1024 * 1024;

/** Tiles by file path, shared by every TileCache of the process (WMTS and vector tiles read the same directory). */
const memory = new LRUCache<string, Buffer>({ maxSize: TILE_MEMORY_BYTES, maxEntrySize: TILE_MEMORY_MAX_TILE, sizeCalculation: (b) => Math.max(1, b.length) });

export interface TileAddress {
  layer: string;
  revision: string;
  /** Style name ('' = the layer's default). */
  style: string;
  set: string;
  matrix: string;
  row: number;
  col: number;
  ext: string;
}

/** A path segment from a name (layer and set names are identifiers; anything else is escaped). */
const seg = (s: string) => encodeURIComponent(s).replace(/^\.+/, (m) => '%2E'.repeat(m.length));

export class TileCache {
  constructor(readonly dir: string) {}

  path(a: TileAddress): string {
    // The default style under its own name, whichever way it was asked for ('' or 'default').
    const style = !a.style || a.style.toLowerCase() === DEFAULT_STYLE_NAME ? DEFAULT_STYLE_NAME : a.style;
    return join(this.dir, seg(a.layer), seg(a.revision), seg(style), seg(a.set), seg(a.matrix), String(a.row), `${a.col}.${seg(a.ext)}`);
  }

  async get(a: TileAddress): Promise<Buffer | undefined> {
    const file = this.path(a);
    const kept = memory.get(file);
    if (kept) return kept;
    try {
      const bytes = await readFile(file);
      memory.set(file, bytes);
      return bytes;
    } catch {
      return undefined;
    }
  }

  async put(a: TileAddress, bytes: Buffer): Promise<void> {
    const file = this.path(a);
    const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    await mkdir(join(file, '..'), { recursive: true });
    try {
      await writeFile(tmp, bytes);
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    memory.set(file, bytes);
  }

  /**
   * Retire a layer's tiles of every revision but `keep` (all its styles stay): each older revision directory is
   * renamed out of the way at once (atomic), then removed; `wait` = false leaves the removal to the background.
   * A process still drawing under an older revision may write a few tiles back there: the next retirement
   * takes them. Returns how many revisions were retired.
   */
  async retire(layer: string, keep: string, wait = true): Promise<number> {
    const dir = join(this.dir, seg(layer));
    // The memory copies of the older revisions go at once (they would only wait to be pushed out).
    const current = join(dir, seg(keep)) + '/';
    for (const k of memory.keys()) if (k.startsWith(dir + '/') && !k.startsWith(current)) memory.delete(k);
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch {
      return 0;
    }
    const trash: string[] = [];
    let retired = 0;
    for (const e of entries) {
      if (e === seg(keep)) continue;
      if (e.startsWith(TRASH)) {
        trash.push(join(dir, e)); // left over by an interrupted removal
        continue;
      }
      const t = join(dir, `${TRASH}${process.pid}-${randomBytes(6).toString('hex')}`);
      try {
        await rename(join(dir, e), t);
      } catch {
        continue; // another process retired it first
      }
      trash.push(t);
      retired++;
    }
    const removal = Promise.all(trash.map((t) => rm(t, { recursive: true, force: true }).catch(() => undefined)));
    if (wait) await removal;
    return retired;
  }
}

/** Prefix of a retired revision directory, being removed. */
const TRASH = '.retired-';
