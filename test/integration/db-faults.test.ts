/**
 * The database goes away under the server (issue 13, point 1): backends terminated with
 * pg_terminate_backend (what a restart, a failover or idle_in_transaction_session_timeout do to a
 * connection) while requests of every kind are in flight. The process must survive, the affected requests
 * fail alone (503 with Retry-After in the protocol's own format, or a cut stream when the body had begun),
 * and the next requests succeed on fresh connections.
 *
 * The server under test is a process of its own (the suite's shared server is left alone), on the test
 * database, whose backends are found by their application_name.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { freePort } from '../free-port.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { ROOT, db } from '../helpers.js';

let proc: ChildProcess;
let base = '';
let log = '';
const downloadDir = mkdtempSync(join(tmpdir(), 'sdi-faults-'));
// The application_name of the server under test's pool, so the terminations spare every other session.
const APP = 'sdi-faults';

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  proc = spawn(process.execPath, [join(ROOT, 'dist/src/server.js')], {
    env: { ...process.env, DATABASE_URL: inject('databaseUrl'), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', SDI_DEMO: '0', SDI_DB_APPLICATION_NAME: APP, SDI_DOWNLOAD_DIR: downloadDir, SDI_DOWNLOAD_WORKERS: '0', SDI_DOWNLOAD_DIRECT_MAX_FEATURES: '400', SDI_DOWNLOAD_MAX_FEATURES: '3000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => (log += d));
  proc.stderr!.on('data', (d) => (log += d));
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`server exited: ${log}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {
      /* not yet */
    }
    if (i > 600) throw new Error(`server did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(() => {
  proc?.kill('SIGTERM');
  rmSync(downloadDir, { recursive: true, force: true });
});

async function terminateBackends(): Promise<number> {
  const { rows } = await db().query(`SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`, [APP]);
  return Number(rows[0].n);
}

/** Open a request, read its first bytes, then stop reading (the server's cursor session stays open). */
function openAndStall(url: string): Promise<{ status: number; resume: () => Promise<{ complete: boolean }> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      res.once('data', () => {
        res.pause();
        resolve({
          status: res.statusCode ?? 0,
          resume: () =>
            new Promise((done) => {
              res.on('data', () => undefined);
              res.on('end', () => done({ complete: res.complete }));
              res.on('error', () => done({ complete: false }));
              res.on('close', () => done({ complete: res.complete }));
              res.resume();
            }),
        });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const alive = () => proc.exitCode === null && proc.signalCode === null;

describe('ISO 19142 / OGC API: database connections lost mid-request (issue 13 §1)', () => {
  it('the server is up and its pool carries its own application_name', async () => {
    const r = await fetch(`${base}/wfs?SERVICE=WFS&REQUEST=GetCapabilities`);
    expect(r.status).toBe(200);
    const { rows } = await db().query(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1`, [APP]);
    expect(Number(rows[0].n)).toBeGreaterThan(0);
  });

  it('a stalled streaming response whose backend is terminated: the process survives, the stream ends, the next request succeeds', async () => {
    for (const path of ['/ogcapi/collections/communes/items?limit=2000', '/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&COUNT=1500']) {
      const stalled = await openAndStall(`${base}${path}`);
      expect(stalled.status).toBe(200);
      expect(await terminateBackends()).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 200));
      expect(alive(), log).toBe(true);
      const end = await stalled.resume();
      expect(typeof end.complete).toBe('boolean');
      const next = await fetch(`${base}${path}`);
      expect(next.status).toBe(200);
      expect((await next.text()).length).toBeGreaterThan(10_000);
    }
  });
});
