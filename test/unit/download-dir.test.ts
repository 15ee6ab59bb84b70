/**
 * Issue 12, "each deployment's download directory is its own (not inside the checkout by default, never shared by
 * two databases)": the default download directory and tile cache, from src/config (no server, no database).
 */
import { describe, expect, it } from 'vitest';
import { relative, isAbsolute } from 'node:path';
import { defaultDownloadDir, loadConfig } from '../../src/config/index.js';
import { ROOT } from '../helpers.js';

const outside = (dir: string) => {
  const rel = relative(ROOT, dir);
  return rel.startsWith('..') || isAbsolute(rel);
};

describe('default download directory (issue 12)', () => {
  const env = { XDG_STATE_HOME: '/var/lib/sdi-state' };

  it('is outside the checkout, under the state directory, one per database (host, port, name)', () => {
    const a = loadConfig({ ...env, DATABASE_URL: 'postgres://sdi@db1:5432/sdi' }).download.workDir;
    const b = loadConfig({ ...env, DATABASE_URL: 'postgres://sdi@db1:5432/sdi_test' }).download.workDir;
    const c = loadConfig({ ...env, DATABASE_URL: 'postgres://sdi@db2:5433/sdi' }).download.workDir;
    expect(a).toBe('/var/lib/sdi-state/sdi/downloads/db1-5432-sdi');
    expect(new Set([a, b, c]).size).toBe(3);
    for (const d of [a, b, c]) expect(outside(d)).toBe(true);
    // Without XDG_STATE_HOME: ~/.local/state, still outside the checkout.
    expect(outside(loadConfig({ DATABASE_URL: 'postgres://127.0.0.1/x' }).download.workDir)).toBe(true);
  });

  it('a libpq keyword string gets a directory of its own too (a digest of it), never a shared default', () => {
    const a = defaultDownloadDir('host=db1 dbname=sdi', env);
    const b = defaultDownloadDir('host=db1 dbname=other', env);
    expect(a).toMatch(/\/sdi\/downloads\/conn-[0-9a-f]{16}$/);
    expect(a).not.toBe(b);
    expect(defaultDownloadDir('host=db1 dbname=sdi', env)).toBe(a);
  });

  it('SDI_DOWNLOAD_DIR wins; the tile cache has its own per-database default beside it', () => {
    expect(loadConfig({ ...env, DATABASE_URL: 'postgres://h/d', SDI_DOWNLOAD_DIR: '/srv/dl' }).download.workDir).toBe('/srv/dl');
    expect(loadConfig({ ...env, DATABASE_URL: 'postgres://h/d' }).maps.tileCacheDir).toBe('/var/lib/sdi-state/sdi/tiles/h-5432-d');
  });
});
