/**
 * PostgreSQL restarted under load (issue 13 §1: "a pg_ctlcluster … restart killed the server 2 times out of
 * 2"). The test creates a PostgreSQL cluster of its own (initdb as the postgres user, its own port and socket
 * directory), so that it can restart it without touching the suite's database, starts a server with the demo
 * data on it, and restarts the cluster while 8 clients send every kind of request: the process survives,
 * requests during the restart answer 503 in their protocol's format (or a cut stream), and afterwards
 * every kind of request succeeds and the server's connections are back to normal.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { mixedLoad, everyRequestSucceeds } from './fault-load.js';
import { OwnCluster, startServer, type OwnServer } from './own-cluster.js';

const APP = 'sdi-restart';
const cluster = new OwnCluster();
let server: OwnServer;
let previous: OwnServer | undefined;
let base = '';

beforeAll(async () => {
  await cluster.create();
  server = await startServer(cluster, APP);
  base = server.base;
}, 180_000);

afterAll(() => {
  server?.proc.kill('SIGTERM');
  previous?.proc.kill('SIGKILL');
  if (process.env.SDI_TEST_SERVER_LOG && server) writeFileSync(process.env.SDI_TEST_SERVER_LOG, server.log());
  cluster.destroy();
});

const alive = () => server.alive();
const log = () => server.log();

describe('ISO 19142 / OGC API / CSW / download: the database restarted under load (issue 13 §1)', () => {
  it('every kind of request succeeds before the restart', async () => {
    expect(await everyRequestSucceeds(base)).toEqual([]);
  });

  it('a fast restart (pg_ctl restart -m fast) under 8 clients: the process survives, only 503s in format or cut streams, then all is back', async () => {
    // Two restarts, 4 s apart, the load running throughout and 4 s after.
    const until = (async () => {
      for (let i = 0; i < 2; i++) {
        await new Promise((r) => setTimeout(r, 3_000));
        cluster.restart('fast');
      }
      await new Promise((r) => setTimeout(r, 4_000));
    })();
    const report = await mixedLoad(base, 8, until);
    await until;
    expect(alive(), log()).toBe(true);
    expect(report.bad, `${JSON.stringify(report.counts)}\n${log().slice(-3000)}`).toEqual([]);
    const sum = (k: 'ok' | 'unavailable' | 'cut') => Object.values(report.counts).reduce((a, c) => a + c[k], 0);
    expect(sum('unavailable') + sum('cut')).toBeGreaterThan(0);
    expect(sum('ok')).toBeGreaterThan(0);
    expect(await everyRequestSucceeds(base)).toEqual([]);
    const sessions = await cluster.sessions(APP);
    expect(sessions.filter((r) => r.state !== 'idle'), JSON.stringify(sessions)).toEqual([]);
    expect(sessions.reduce((a, r) => a + r.n, 0)).toBeLessThanOrEqual(10);
    // Nothing left behind by the requests cut by the restarts.
    await new Promise((r) => setTimeout(r, 500));
    const direct = join(server.downloadDir, 'direct');
    expect(existsSync(direct) ? readdirSync(direct) : []).toEqual([]);
  }, 120_000);

  it('a request arriving while the database is down answers 503 with Retry-After in its format, and the next one after the start succeeds', async () => {
    cluster.stop('fast');
    try {
      const wfs = await fetch(`${base}/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&COUNT=5`);
      expect(wfs.status).toBe(503);
      expect(wfs.headers.get('retry-after')).toBe('5');
      expect(await wfs.text()).toMatch(/ExceptionReport/);
      const oapi = await fetch(`${base}/ogcapi/collections/communes/items?limit=5`);
      expect(oapi.status).toBe(503);
      expect(oapi.headers.get('content-type')).toMatch(/problem\+json/);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      expect(alive()).toBe(true);
    } finally {
      cluster.start();
    }
    expect(await everyRequestSucceeds(base)).toEqual([]);
  }, 60_000);

  it("what a crashed process left (direct-extract folders, download_work.params rows) is removed when the next one starts; a live process's work is kept", async () => {
    // Tags as src/download/work-owner.ts writes them: <host>~<pid>~<start ms>.
    const host = hostname().replace(/[^A-Za-z0-9.-]/g, '_');
    const exited = spawnSync(process.execPath, ['-e', '0']).pid; // a pid that no longer runs
    const deadTag = `${host}~${exited}~${Date.now() - 60_000}`;
    const liveTag = `${host}~${process.pid}~${Date.now() - 60_000}`; // this test process: running
    const direct = join(server.downloadDir, 'direct');
    const deadDir = join(direct, `${deadTag}~AbC123`);
    const liveDir = join(direct, `${liveTag}~XyZ789`);
    mkdirSync(join(deadDir, 'out'), { recursive: true });
    writeFileSync(join(deadDir, 'out', 'communes.gpkg'), 'partial');
    mkdirSync(liveDir, { recursive: true });
    const db = new pg.Client({ connectionString: cluster.url('sdi') });
    await db.connect();
    try {
      const deadRow = randomUUID();
      const liveRow = randomUUID();
      await db.query(`INSERT INTO download_work.params (id, v, owner) VALUES ($1, '[]', $2), ($3, '[]', $4)`, [deadRow, deadTag, liveRow, liveTag]);
      // The server crashes (SIGKILL: no clean-up of its own) and a new one starts on the same store and folder.
      server.proc.kill('SIGKILL');
      await new Promise((r) => server.proc.once('exit', r));
      previous = server;
      server = await startServer(cluster, APP, { SDI_DOWNLOAD_DIR: server.downloadDir });
      base = server.base;
      let left: string[] = [];
      for (let i = 0; i < 50; i++) {
        left = (await db.query<{ id: string }>('SELECT id FROM download_work.params WHERE id = ANY($1::uuid[])', [[deadRow, liveRow]])).rows.map((r) => r.id);
        if (!left.includes(deadRow) && !existsSync(deadDir)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(left).toEqual([liveRow]);
      expect(existsSync(deadDir)).toBe(false);
      expect(existsSync(liveDir)).toBe(true);
      await db.query('DELETE FROM download_work.params WHERE id = $1', [liveRow]);
    } finally {
      await db.end();
    }
    expect(await everyRequestSucceeds(base)).toEqual([]);
  }, 240_000);
});

