#!/usr/bin/env node
/**
 * D4 of bench/download.sh: 20 deferred jobs through 2 worker processes, nothing lost.
 *
 *   DATABASE_URL=… BASE=http://127.0.0.1:8085/download SDI_DOWNLOAD_DIR=<the server's> node bench/download-jobs.mjs
 *
 * The server must run no in-process workers (SDI_DOWNLOAD_WORKERS=0) and share SDI_DOWNLOAD_DIR with the
 * workers started here (`node dist/app/cli.js download-worker`, 2 processes × 1 slot). Jobs: a layer
 * (JOBS_LAYER, default parcels when published, else communes) over 20 areas that hold features (communes
 * first, then EPCI, then départements), formats cycling gpkg, geojson, shp, fgb, csv. Unless KILL=0, one
 * worker is killed with SIGKILL once a quarter of the jobs are done and a new one started: its job must be
 * taken over. At the end every job must be done, and every file, fetched through its signed link, must
 * open with ogrinfo and hold the feature count the job reports. Prints a small Markdown report; exits 1 if
 * anything was lost.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const DB = process.env.DATABASE_URL;
const BASE = (process.env.BASE ?? '').replace(/\/+$/, '');
const DIR = process.env.SDI_DOWNLOAD_DIR;
const N = Number(process.env.JOBS ?? 20);
const WORKERS = Number(process.env.WORKERS ?? 2);
const KILL = process.env.KILL !== '0';
const FORMATS = ['gpkg', 'geojson', 'shp', 'fgb', 'csv'];
if (!DB || !BASE || !DIR) {
  console.error('usage: DATABASE_URL=… BASE=http://host:port/download SDI_DOWNLOAD_DIR=<server download dir> node bench/download-jobs.mjs');
  process.exit(2);
}

const pool = new pg.Pool({ connectionString: DB, max: 2 });
const tmp = mkdtempSync(join(tmpdir(), 'sdi-bench-jobs-'));
const procs = [];

function startWorker() {
  const p = spawn(process.execPath, [join(REPO, 'dist/app/cli.js'), 'download-worker', '--concurrency', '1', '--poll-ms', '500'], {
    env: { ...process.env, DATABASE_URL: DB, SDI_DOWNLOAD_DIR: DIR, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  procs.push(p);
  return p;
}

async function json(url, init) {
  const r = await fetch(url, init);
  return { status: r.status, body: await r.json() };
}

async function pickAreas(layer) {
  const q = async (sql) => (await pool.query(sql)).rows.map((r) => r.c);
  const candidates = [
    ...(await q("SELECT code AS c FROM data.communes ORDER BY code LIMIT 200")).map((c) => ({ commune: c })),
    ...(await q('SELECT siren AS c FROM data.epci ORDER BY siren')).map((c) => ({ epci: c })),
    ...(await q('SELECT code AS c FROM data.departements ORDER BY code')).map((c) => ({ departement: c })),
  ];
  const out = [];
  for (const area of candidates) {
    if (out.length >= N) break;
    const e = await json(`${BASE}/estimate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ layer, format: 'gpkg', area }) });
    if (e.status === 200 && e.body.features > 0) out.push({ area, estimate: e.body.features });
  }
  return out;
}

async function main() {
  const landing = await json(`${BASE}/`);
  const names = (landing.body.layers ?? []).map((l) => l.name);
  const layer = process.env.JOBS_LAYER ?? (names.includes('parcels') ? 'parcels' : 'communes');
  const areas = await pickAreas(layer);
  if (!areas.length) throw new Error(`no area holds features of ${layer}`);
  const jobs = [];
  for (let i = 0; i < N; i++) {
    const { area, estimate } = areas[i % areas.length];
    jobs.push({ body: { layer, format: FORMATS[i % FORMATS.length], crs: 'EPSG:4326', area }, estimate });
  }
  const t0 = performance.now();
  for (const j of jobs) {
    const r = await json(`${BASE}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(j.body) });
    if (r.status !== 202) throw new Error(`job refused: ${r.status} ${JSON.stringify(r.body)}`);
    j.id = r.body.id;
  }
  const tQueued = performance.now();
  for (let i = 0; i < WORKERS; i++) startWorker();
  let killed = false;
  let states = {};
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    const { rows } = await pool.query('SELECT id::text, state, attempts FROM sdi.jobs WHERE id = ANY($1::uuid[])', [jobs.map((j) => j.id)]);
    states = {};
    for (const r of rows) states[r.state] = (states[r.state] ?? 0) + 1;
    const over = rows.filter((r) => r.state !== 'queued' && r.state !== 'running').length;
    if (KILL && !killed && over >= Math.ceil(N / 4) && rows.some((r) => r.state === 'running')) {
      // Kill the worker of a running job, start another.
      const running = (await pool.query("SELECT worker FROM sdi.jobs WHERE id = ANY($1::uuid[]) AND state = 'running' AND worker IS NOT NULL LIMIT 1", [jobs.map((j) => j.id)])).rows[0];
      const pid = running && Number(running.worker.split(':')[1]);
      const victim = procs.find((p) => p.pid === pid && p.exitCode === null);
      if (victim) {
        victim.kill('SIGKILL');
        killed = true;
        startWorker();
      }
    }
    if (over === N) break;
    if (Date.now() > deadline) throw new Error(`jobs not over after 30 minutes: ${JSON.stringify(states)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const wall = (performance.now() - tQueued) / 1000;
  // Check every result through its signed link.
  const problems = [];
  const notes = [];
  let features = 0;
  let bytes = 0;
  let attempts = 0;
  for (const j of jobs) {
    const s = (await json(`${BASE}/jobs/${j.id}`)).body;
    attempts += s.attempts;
    if (s.state !== 'done') {
      problems.push(`${j.id}: ${s.state} ${s.error ?? ''}`);
      continue;
    }
    const r = await fetch(s.result.href);
    const buf = Buffer.from(await r.arrayBuffer());
    if (r.status !== 200 || buf.length !== s.result.bytes) {
      problems.push(`${j.id}: download ${r.status}, ${buf.length} of ${s.result.bytes} bytes`);
      continue;
    }
    const d = mkdtempSync(join(tmp, 'j-'));
    const file = join(d, s.result.filename);
    writeFileSync(file, buf);
    const path = s.result.filename.endsWith('.zip') ? `/vsizip/${file}` : file;
    const info = execFileSync('ogrinfo', ['-ro', '-so', '-al', ...(j.body.format === 'csv' ? ['-oo', 'GEOM_POSSIBLE_NAMES=geometry,wkt,WKT'] : []), path], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const n = [...info.matchAll(/Feature Count: (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
    if (n !== s.result.features) problems.push(`${j.id}: file has ${n} features, job says ${s.result.features}`);
    if (s.result.features !== j.estimate) notes.push(`${j.id} (${j.body.format}): job wrote ${s.result.features} features, estimate said ${j.estimate}`);
    features += n;
    bytes += buf.length;
  }
  console.log(`| jobs | workers | worker killed mid-run | wall (s, workers started → last job over) | submit (s) | features | bytes | attempts | lost or wrong |`);
  console.log(`|---|---|---|---|---|---|---|---|---|`);
  console.log(`| ${N} × ${layer} | ${WORKERS} processes | ${killed ? 'yes (SIGKILL, replaced)' : 'no'} | ${wall.toFixed(1)} | ${((tQueued - t0) / 1000).toFixed(1)} | ${features} | ${bytes} | ${attempts} | ${problems.length} |`);
  console.log(`\nstates: ${JSON.stringify(states)}`);
  for (const p of problems) console.log(`- ${p}`);
  for (const p of notes) console.log(`- note: ${p}`);
  return problems.length ? 1 : 0;
}

main()
  .then((code) => (process.exitCode = code), (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
    await pool.end();
    rmSync(tmp, { recursive: true, force: true });
  });
