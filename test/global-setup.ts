/**
 * Starts the real, compiled server once for the whole suite, on a free port, against the test database
 * (migrations + demo data through the normal start path), and hands its URL to the tests.
 * Real clients (ogrinfo, OWSLib, QGIS) talk to this process over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './free-port.js';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

const ROOT = join(import.meta.dirname, '..');
let server: ChildProcess | undefined;

/** The download limits of the suite's server: tests that write what depends on them (records' links) use the same. */
export const SERVER_LIMITS_ENV = { SDI_DOWNLOAD_DIRECT_MAX_FEATURES: '400', SDI_DOWNLOAD_MAX_FEATURES: '3000', SDI_DOWNLOAD_RASTER_DIRECT_MAX_PIXELS: '4000000', SDI_DOWNLOAD_RASTER_MAX_PIXELS: '50000000' };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const databaseUrl = process.env.TEST_DATABASE_URL;
  if (!databaseUrl) throw new Error('TEST_DATABASE_URL is not set: run the suite with `npm test`');
  if (!existsSync(join(ROOT, 'dist/app/server.js'))) throw new Error('dist/ is missing: run `npm test` (it builds) or `npm run build`');
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  let log = '';
  // Downloads of this run in a directory of their own (runs may go side by side); small limits so that the
  // demo data exercises direct, deferred and over-limit extracts: communes of one département (≤ 400) are
  // direct, all 1,776 communes are deferred, communes + their points (3,552) are over the limit.
  // Rasters (communes_densite, 25 m): a commune is direct (< 4 Mpx), a département deferred, the region (107 Mpx) over the limit.
  // Proxy headers are believed from 127.0.0.1 only (tests sending X-Forwarded-* from 127.0.0.2 are an untrusted
  // peer); webhooks may reach 127.0.0.3 only (the jobs test's receiver), so 127.0.0.1 stays refused.
  // No job workers in the server: job tests start `cli.js download-worker` processes of their own (with the
  // SMTP settings of their test server), and decide when a worker exists, so a job can stay queued.
  const downloadDir = mkdtempSync(join(tmpdir(), 'sdi-test-downloads-'));
  // The tile cache of this run (WMTS), in a directory of its own too.
  const tileCacheDir = mkdtempSync(join(tmpdir(), 'sdi-test-tiles-'));
  server = spawn(process.execPath, [join(ROOT, 'dist/app/server.js')], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', SDI_DEMO: '1', SDI_DOWNLOAD_DIR: downloadDir, ...SERVER_LIMITS_ENV, SDI_DOWNLOAD_WORKERS: '0', SDI_TRUSTED_PROXIES: '127.0.0.1/32', SDI_OUTBOUND_ALLOW: '127.0.0.3/32', SDI_TILE_CACHE_DIR: tileCacheDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout!.on('data', (d) => (log += d));
  server.stderr!.on('data', (d) => (log += d));
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`test server exited: ${log}`);
    try {
      const r = await fetch(`${baseUrl}/readyz`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`test server did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  project.provide('baseUrl', baseUrl);
  project.provide('databaseUrl', databaseUrl);
  project.provide('serverPid', server.pid!);
  project.provide('downloadDir', downloadDir);
  project.provide('tileCacheDir', tileCacheDir);
  return async () => {
    server?.kill('SIGTERM');
    rmSync(downloadDir, { recursive: true, force: true });
    rmSync(tileCacheDir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    databaseUrl: string;
    serverPid: number;
    /** SDI_DOWNLOAD_DIR of the server under test. */
    downloadDir: string;
    /** SDI_TILE_CACHE_DIR of the server under test. */
    tileCacheDir: string;
  }
}
