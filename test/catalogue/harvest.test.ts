/**
 * Harvesting: a SECOND server instance (dist/app/server.js on another port, its own database
 * `<test db>_remote_<pid>` holding the shared ISO fixtures) is harvested into the test database through
 * src/harvest (paged CSW GetRecords, incremental by apiso:Modified), then a two-page DCAT RDF/XML feed, WFS
 * capabilities, and the CSW Harvest operation (authenticated) of one ISO document served by a tiny HTTP
 * server of the test. A harvest that fails halfway leaves the catalogue byte-identical.
 *
 * The fixture records are also local records of the test database (the other catalogue tests load them):
 * the remote holds them under prefixed identifiers, and one is harvested under its own identifier to show
 * that a harvested record never takes over a local one.
 *
 * Issue 13 point 8 (harvest as SSRF tool and oracle), against the second instance (SDI_OUTBOUND_ALLOW=127.0.0.3/32):
 *   POST /csw  <csw:Harvest service="CSW" version="2.0.2"><csw:Source>S</csw:Source><csw:ResourceType>T</csw:ResourceType>…
 *   with Authorization: Bearer <admin>, T = the CSW and the ISO 19139 resource types, S one of
 *   http://127.0.0.1:<suite port>/csw, http://127.0.0.1:1/csw, http://10.0.0.1/csw, http://169.254.169.254/latest/meta-data/,
 *   http://2130706433/, http://0x7f000001/, http://[::ffff:127.0.0.1]/, an allowed server's 302 to 127.0.0.1, to
 *   169.254.169.254 and to ftp://, and http://127.0.0.3:1/csw (allowed, closed)
 *   → 502 ExceptionReport NoApplicableCode, locator Source, text exactly
 *     "Harvest failed: the source could not be reached; nothing was changed" (no ECONNREFUSED, no "bad port"),
 *     the remote's harvest_sources / harvest_runs / harvest_run_items / harvest_staging / metadata_records unchanged;
 *   a remote ExceptionReport or a document of the wrong kind → "… did not answer with a CSW document; …", its text
 *     not echoed, nothing written; the details in the server log;
 *   an existing scheduled source whose harvest fails → 502 naming the failed run it recorded, nothing else changed.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { freePort } from '../free-port.js';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createPool } from '../../src/db/pool.js';
import { parseRecord } from '../../src/metadata/store.js';
import { upsertRecord } from '../../src/records/repository.js';
import { saveSource } from '../../src/harvest/sources.js';
import { HARVEST_LOCK_CLASS, readRun, runHarvest } from '../../src/harvest/run.js';
import { HarvestBusyError, startHarvestScheduler } from '../../src/harvest/scheduler.js';
import { OutboundPolicy } from '../../src/net/outbound.js';
import { baseUrl, ROOT, xmllint } from '../helpers.js';
import { FIXTURES, VARIANT, exception, validateApiso } from './setup.js';

const TOKEN = 'harvest-test-token-7f3a';
// The test's remote servers listen on 127.0.0.3, the one loopback address the harvests may reach (as the
// suite server's SDI_OUTBOUND_ALLOW): 127.0.0.1 (the suite server) stays refused like any internal host.
const ALLOWED = new OutboundPolicy(['127.0.0.3/32']);
const harvestRun = (sourceId: number, options: Parameters<typeof runHarvest>[2] = {}) => runHarvest(local, sourceId, { policy: ALLOWED, ...options });
const PREFIX = 'harvest-remote-';
const CSW_NS = 'http://www.opengis.net/cat/csw/2.0.2';

let local: pg.Pool;
let remote: pg.Pool;
let remoteDbUrl: string;
let remoteDbName: string;
let remoteServer: ChildProcess | undefined;
let remoteBase: string;
let remoteLog = '';
let helper: Server;
let helperBase: string;
let remoteIds: string[] = [];
const sourceIds: number[] = [];

/** What the helper server does with CSW pages after the first: pass them on, answer garbage, or hang up. */
let proxyMode: 'pass' | 'garbage' | 'hangup' = 'pass';
const proxyBodies: string[] = [];
const files = new Map<string, { type: string; body: string }>();

const withDatabase = (url: string, name: string) => {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.href;
};

async function fingerprint(): Promise<{ n: number; h: string }> {
  const { rows } = await local.query(`SELECT count(*)::int AS n, coalesce(md5(string_agg(m::text, '|' ORDER BY m.id)), '') AS h FROM sdi.metadata_records m`);
  return rows[0];
}

async function harvested(sourceId: number): Promise<Array<{ id: number; identifier: string; remote_id: string; document: string; title: string }>> {
  const { rows } = await local.query('SELECT id, identifier, remote_id, document, title FROM sdi.metadata_records WHERE source_id = $1 ORDER BY identifier', [sourceId]);
  return rows;
}

beforeAll(async () => {
  const databaseUrl = inject('databaseUrl');
  local = createPool(databaseUrl, 3);
  // One remote database per test process: two suites running at once must not drop each other's.
  remoteDbName = `${new URL(databaseUrl).pathname.slice(1)}_remote_${process.pid}`;
  remoteDbUrl = withDatabase(databaseUrl, remoteDbName);
  const admin = new pg.Client({ connectionString: withDatabase(databaseUrl, 'postgres') });
  await admin.connect();
  // Left over by test processes that died (their pid is gone).
  const stale = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`${remoteDbName.replace(/_\d+$/, '')}\\_%`]);
  for (const { datname } of stale.rows) {
    const pid = Number(/_(\d+)$/.exec(datname)?.[1]);
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = true;
    } catch {
      /* gone */
    }
    if (!alive || datname === remoteDbName) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
  await admin.query(`CREATE DATABASE "${remoteDbName}"`);
  await admin.end();

  // The second instance: migrations at start (postgis, catalogue tables), no demo data.
  const port = await freePort();
  remoteBase = `http://127.0.0.3:${port}`;
  let log = '';
  // A partner platform: its own namespace, hence its own service record identifiers.
  const config = join(mkdtempSync(join(tmpdir(), 'sdi-remote-')), 'config.json');
  writeFileSync(config, JSON.stringify({ namespace: { prefix: 'partner', uri: 'https://partner.example.org/features' } }));
  remoteServer = spawn(process.execPath, [join(ROOT, 'dist/app/server.js')], {
    // LOG_LEVEL info: the details of failed harvests are in the log (checked below), never in the answers.
    env: { ...process.env, DATABASE_URL: remoteDbUrl, PORT: String(port), HOST: '127.0.0.3', LOG_LEVEL: 'info', SDI_DEMO: '0', SDI_ADMIN_TOKEN: TOKEN, SDI_CONFIG: config, SDI_OUTBOUND_ALLOW: '127.0.0.3/32', SDI_HARVEST: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  remoteServer.stdout!.on('data', (d) => ((log += d), (remoteLog += d)));
  remoteServer.stderr!.on('data', (d) => ((log += d), (remoteLog += d)));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (remoteServer.exitCode !== null) throw new Error(`remote server exited: ${log}`);
    try {
      if ((await fetch(`${remoteBase}/readyz`)).ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`remote server did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  remote = createPool(remoteDbUrl, 2);
  // The shared ISO fixtures, through the store, under identifiers of their own: the other catalogue tests
  // load the same records as local records of the test database, and a harvested record never takes over
  // a local one (tested below).
  for (const f of readdirSync(FIXTURES).filter((f) => f.endsWith('.xml') && f !== VARIANT).sort()) {
    const rec = parseRecord(readFileSync(join(FIXTURES, f)));
    const renamed = rec.document.replace(/(<(?:\w+:)?fileIdentifier>\s*<(?:\w+:)?CharacterString>)\s*([^<]*?)\s*</, (_m, open: string, id: string) => `${open}${PREFIX}${id}<`);
    expect(renamed, f).not.toBe(rec.document);
    await upsertRecord(remote, parseRecord(renamed));
  }
  // Every record of the remote: the fixtures, and whatever the partner platform describes itself (its service record).
  remoteIds = (await remote.query('SELECT identifier FROM sdi.metadata_records ORDER BY identifier')).rows.map((r) => r.identifier);
  expect(remoteIds.filter((id) => id.startsWith(PREFIX)).length).toBeGreaterThanOrEqual(10);
  const own = await local.query('SELECT identifier FROM sdi.metadata_records WHERE identifier = ANY($1)', [remoteIds]);
  expect(own.rows).toEqual([]);

  // The helper server: a proxy in front of the remote CSW, static files (DCAT pages, an ISO document).
  helper = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const url = req.url ?? '/';
      if (url.startsWith('/csw')) {
        const body = Buffer.concat(chunks).toString('utf8');
        proxyBodies.push(body);
        const first = /startPosition="1"/.test(body);
        if (!first && proxyMode === 'hangup') return req.socket.destroy();
        if (!first && proxyMode === 'garbage') {
          res.writeHead(200, { 'content-type': 'application/xml' });
          return res.end('<csw:GetRecordsResponse xmlns:csw="http://www.opengis.net/cat/csw/2.0.2"><csw:SearchResults numberOfRecordsMatched="13"><gmd:MD_Metadata>');
        }
        const r = await fetch(`${remoteBase}/csw`, { method: 'POST', headers: { 'content-type': String(req.headers['content-type'] ?? 'application/xml') }, body });
        res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/xml' });
        return res.end(Buffer.from(await r.arrayBuffer()));
      }
      if (url === '/fake-csw' || url === '/stuck-csw' || url === '/nosort-csw') {
        // A CSW that always says nextRecord="0" (or, stuck, ignores startPosition; or refuses SortBy), with 7 Dublin Core records.
        const body = Buffer.concat(chunks).toString('utf8');
        if (url === '/nosort-csw' && body.includes('SortBy')) {
          res.writeHead(400, { 'content-type': 'application/xml' });
          return res.end('<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows" version="1.2.0"><ows:Exception exceptionCode="InvalidParameterValue" locator="SortBy"><ows:ExceptionText>Sorting is not supported</ows:ExceptionText></ows:Exception></ows:ExceptionReport>');
        }
        const start = url === '/stuck-csw' ? 1 : Number(/startPosition="(\d+)"/.exec(body)![1]);
        const max = Number(/maxRecords="(\d+)"/.exec(body)![1]);
        const ids = Array.from({ length: 7 }, (_, i) => `harvest-fake-${String(i).padStart(3, '0')}`).slice(start - 1, start - 1 + max);
        res.writeHead(200, { 'content-type': 'application/xml' });
        return res.end(
          `<csw:GetRecordsResponse xmlns:csw="${CSW_NS}" xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0.2"><csw:SearchStatus timestamp="2024-01-01T00:00:00Z"/>` +
            `<csw:SearchResults numberOfRecordsMatched="7" numberOfRecordsReturned="${ids.length}" nextRecord="0" elementSet="full">` +
            ids.map((id) => `<csw:Record><dc:identifier>${id}</dc:identifier><dc:title>Fiche ${id}</dc:title><dc:type>dataset</dc:type></csw:Record>`).join('') +
            `</csw:SearchResults></csw:GetRecordsResponse>`,
        );
      }
      if (url.startsWith('/redirect/')) {
        // An allowed server redirecting to wherever the test says (issue 13 point 8: each hop is checked).
        res.writeHead(302, { location: decodeURIComponent(url.slice('/redirect/'.length)) });
        return res.end();
      }
      if (url === '/exception-csw') {
        // A remote exception whose text must not be echoed to the caller.
        res.writeHead(400, { 'content-type': 'application/xml' });
        return res.end('<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows" version="1.2.0"><ows:Exception exceptionCode="NoApplicableCode"><ows:ExceptionText>internal secret: db at 10.1.2.3:5432</ows:ExceptionText></ows:Exception></ows:ExceptionReport>');
      }
      const f = files.get(url);
      if (!f) {
        res.writeHead(404);
        return res.end();
      }
      res.writeHead(200, { 'content-type': f.type });
      res.end(f.body);
    });
  });
  await new Promise<void>((r) => helper.listen(0, '127.0.0.3', () => r()));
  helperBase = `http://127.0.0.3:${(helper.address() as { port: number }).port}`;
});

afterAll(async () => {
  if (local) {
    await local.query('DELETE FROM sdi.metadata_records WHERE source_id = ANY($1)', [sourceIds]).catch(() => undefined);
    await local.query('DELETE FROM sdi.harvest_sources WHERE id = ANY($1)', [sourceIds]).catch(() => undefined);
    await local.end();
  }
  await remote?.end().catch(() => undefined);
  if (remoteServer && remoteServer.exitCode === null) {
    const exited = new Promise((r) => remoteServer!.once('exit', r));
    remoteServer.kill('SIGTERM');
    await exited;
  }
  if (helper) {
    helper.closeAllConnections();
    await new Promise((r) => helper.close(r));
  }
  const admin = new pg.Client({ connectionString: withDatabase(inject('databaseUrl'), 'postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${remoteDbName}" WITH (FORCE)`).catch(() => undefined);
  await admin.end();
});

describe('harvesting a second catalogue instance (CSW)', () => {
  let sourceId: number;

  beforeAll(async () => {
    const s = await saveSource(local, { kind: 'csw', url: `${helperBase}/csw`, name: 'second instance', options: { pageSize: 5 } });
    sourceId = s.id;
    sourceIds.push(s.id);
  });

  it('a harvest whose page 2 is garbage XML leaves the catalogue byte-identical and records a failed run', async () => {
    proxyMode = 'garbage';
    const before = await fingerprint();
    const report = await harvestRun(sourceId);
    expect(report.status).toBe('failed');
    expect(report.error).toMatch(/startPosition 6 is not readable XML/);
    expect(await fingerprint()).toEqual(before);
    const run = await readRun(local, report.runId);
    expect(run!.status).toBe('failed');
    expect(run!.error).toMatch(/not readable XML/);
    expect(run!.created + run!.updated + run!.unchanged).toBe(0);
    expect((await local.query('SELECT count(*)::int AS n FROM sdi.harvest_staging')).rows[0].n).toBe(0);
    const src = (await local.query('SELECT last_success_at, modified_watermark FROM sdi.harvest_sources WHERE id = $1', [sourceId])).rows[0];
    expect(src).toEqual({ last_success_at: null, modified_watermark: null });
  });

  it('a harvest whose remote hangs up after page 1 leaves the catalogue byte-identical and records a failed run', async () => {
    proxyMode = 'hangup';
    const before = await fingerprint();
    const report = await harvestRun(sourceId);
    expect(report.status).toBe('failed');
    expect(report.error).toBeTruthy();
    expect(await fingerprint()).toEqual(before);
    expect((await readRun(local, report.runId))!.error).toBe(report.error);
    expect(await harvested(sourceId)).toEqual([]);
  });

  it('creates every remote record, page by page, keeping its source and remote id', async () => {
    proxyMode = 'pass';
    proxyBodies.length = 0;
    const report = await harvestRun(sourceId);
    expect(report.error).toBeUndefined();
    expect(report.status).toBe('succeeded');
    expect({ created: report.created, updated: report.updated, unchanged: report.unchanged, failed: report.failed }).toEqual({ created: remoteIds.length, updated: 0, unchanged: 0, failed: 0 });
    expect(report.incremental).toBe(false);
    // Paged with startPosition 1, 6, 11, … (pages of 5), sorted by identifier, gmd full records.
    expect(proxyBodies.length).toBe(Math.ceil(remoteIds.length / 5));
    expect(proxyBodies.map((b) => Number(/startPosition="(\d+)"/.exec(b)![1]))).toEqual(proxyBodies.map((_, i) => 1 + 5 * i));
    expect(proxyBodies[0]).toContain('outputSchema="http://www.isotc211.org/2005/gmd"');
    const rows = await harvested(sourceId);
    expect(rows.map((r) => r.identifier)).toEqual(remoteIds);
    for (const r of rows) expect(r.remote_id).toBe(r.identifier);
    const run = await readRun(local, report.runId);
    expect(run!.items.filter((i) => i.action === 'created').length).toBe(remoteIds.length);
    // The harvested records are searchable through the local CSW like any other.
    const r = await fetch(`${baseUrl()}/csw?service=CSW&version=2.0.2&request=GetRecordById&id=${encodeURIComponent(remoteIds[0]!)}&outputSchema=http://www.isotc211.org/2005/gmd&elementSetName=full`);
    expect(await r.text()).toContain(remoteIds[0]);
  });

  it('a second run (incremental, then full) finds everything unchanged', async () => {
    proxyBodies.length = 0;
    const before = await fingerprint();
    const inc = await harvestRun(sourceId);
    expect(inc.status).toBe('succeeded');
    expect(inc.incremental).toBe(true);
    expect(proxyBodies[0]).toMatch(/<ogc:PropertyIsGreaterThanOrEqualTo><ogc:PropertyName>apiso:Modified<\/ogc:PropertyName><ogc:Literal>\d{4}-/);
    expect({ created: inc.created, updated: inc.updated, failed: inc.failed }).toEqual({ created: 0, updated: 0, failed: 0 });
    expect(inc.unchanged).toBeGreaterThanOrEqual(1);
    expect(inc.unchanged).toBeLessThan(remoteIds.length);
    const full = await harvestRun(sourceId, { full: true });
    expect({ created: full.created, updated: full.updated, unchanged: full.unchanged, failed: full.failed }).toEqual({ created: 0, updated: 0, unchanged: remoteIds.length, failed: 0 });
    expect(await fingerprint()).toEqual(before);
  });

  it('a remote record whose dateStamp moved is updated (1 updated), keeping its source, remote id and row', async () => {
    const { rows } = await remote.query<{ identifier: string; document: string }>(
      `SELECT identifier, document FROM sdi.metadata_records WHERE identifier LIKE $1 AND document ~ '<gmd:dateStamp>\\s*<gco:(Date|DateTime)>' ORDER BY identifier LIMIT 1`,
      [`${PREFIX}%`],
    );
    const target = rows[0]!;
    const moved = target.document.replace(/(<gmd:dateStamp>\s*<gco:(Date|DateTime)>)[^<]*/, (_m, open: string, kind: string) => `${open}${kind === 'Date' ? '2030-01-02' : '2030-01-02T03:04:05'}`);
    expect(moved).not.toBe(target.document);
    expect((await upsertRecord(remote, parseRecord(moved))).outcome).toBe('updated');
    const beforeRow = (await harvested(sourceId)).find((r) => r.identifier === target.identifier)!;
    const report = await harvestRun(sourceId);
    expect(report.status).toBe('succeeded');
    expect(report.incremental).toBe(true);
    expect({ created: report.created, updated: report.updated, failed: report.failed }).toEqual({ created: 0, updated: 1, failed: 0 });
    expect(report.items.find((i) => i.action === 'updated')!.identifier).toBe(target.identifier);
    const after = (await harvested(sourceId)).find((r) => r.identifier === target.identifier)!;
    expect(after.id).toBe(beforeRow.id);
    expect(after.remote_id).toBe(target.identifier);
    expect(after.document).toContain('2030-01-02');
    const wm = (await local.query('SELECT modified_watermark FROM sdi.harvest_sources WHERE id = $1', [sourceId])).rows[0].modified_watermark as Date;
    expect(wm.toISOString().slice(0, 10)).toBe('2030-01-02');
  });

  it('a remote record whose identifier is a local record is reported as failed, the rest goes on', async () => {
    const file = 'owslib-geobretagne-cadastre-2018.xml';
    const rec = parseRecord(readFileSync(join(FIXTURES, file)));
    await upsertRecord(local, rec); // a local record (idempotent: the other tests load the same one)
    await upsertRecord(remote, rec);
    try {
      const before = (await local.query('SELECT document, source_id FROM sdi.metadata_records WHERE identifier = $1', [rec.identifier])).rows[0];
      const report = await harvestRun(sourceId, { full: true });
      expect(report.status).toBe('succeeded');
      expect({ created: report.created, updated: report.updated, unchanged: report.unchanged, failed: report.failed }).toEqual({ created: 0, updated: 0, unchanged: remoteIds.length, failed: 1 });
      expect(report.items.find((i) => i.action === 'failed')).toMatchObject({ identifier: rec.identifier, reason: expect.stringMatching(/already a local record/) });
      const after = (await local.query('SELECT document, source_id FROM sdi.metadata_records WHERE identifier = $1', [rec.identifier])).rows[0];
      expect(after).toEqual(before);
      expect(after.source_id).toBeNull();
    } finally {
      await remote.query('DELETE FROM sdi.metadata_records WHERE identifier = $1', [rec.identifier]);
    }
  });

  it('never runs one source twice at once (advisory lock), and the scheduler runs due sources', async () => {
    const holder = await local.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1, $2::int)', [HARVEST_LOCK_CLASS, sourceId]);
      await expect(harvestRun(sourceId)).rejects.toBeInstanceOf(HarvestBusyError);
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1, $2::int)', [HARVEST_LOCK_CLASS, sourceId]);
      holder.release();
    }
    // A run left 'running' by a process that died: the scheduler marks it failed and drops its staging rows.
    const dead = (await local.query(`INSERT INTO sdi.harvest_runs (source_id) VALUES ($1) RETURNING id`, [sourceId])).rows[0].id;
    await local.query(`INSERT INTO sdi.harvest_staging (run_id, seq, remote_id, document) VALUES ($1, 1, 'x', '<x/>')`, [dead]);
    await saveSource(local, { kind: 'csw', url: `${helperBase}/csw`, scheduleInterval: 'PT1H' });
    await local.query('UPDATE sdi.harvest_sources SET last_run_at = NULL WHERE id = $1', [sourceId]);
    const scheduler = startHarvestScheduler(local, { tickMs: 3_600_000, policy: ALLOWED });
    await scheduler.tick();
    await scheduler.stop();
    const { rows } = await local.query(`SELECT status, trigger FROM sdi.harvest_runs WHERE source_id = $1 ORDER BY id DESC LIMIT 1`, [sourceId]);
    expect(rows[0]).toEqual({ status: 'succeeded', trigger: 'schedule' });
    expect((await readRun(local, dead))!.error).toMatch(/interrupted/);
    expect((await local.query('SELECT count(*)::int AS n FROM sdi.harvest_staging WHERE run_id = $1', [dead])).rows[0].n).toBe(0);
    // Not due again within the hour.
    const again = startHarvestScheduler(local, { tickMs: 3_600_000, policy: ALLOWED });
    await again.tick();
    await again.stop();
    const n = (await local.query(`SELECT count(*)::int AS n FROM sdi.harvest_runs WHERE source_id = $1 AND trigger = 'schedule'`, [sourceId])).rows[0].n;
    expect(n).toBe(1);
    await saveSource(local, { kind: 'csw', url: `${helperBase}/csw`, scheduleInterval: null });
  });
});

describe('CSW servers that do not page as they should', () => {
  it('a server that always answers nextRecord="0" is still read to the end (numberOfRecordsMatched)', async () => {
    const s = await saveSource(local, { kind: 'csw', url: `${helperBase}/fake-csw`, options: { pageSize: 3 } });
    sourceIds.push(s.id);
    const report = await harvestRun(s.id);
    expect(report.error).toBeUndefined();
    expect(report.created).toBe(7);
    expect((await harvested(s.id)).map((r) => r.title)).toEqual(Array.from({ length: 7 }, (_, i) => `Fiche harvest-fake-${String(i).padStart(3, '0')}`));
  });

  it('a server that refuses SortBy is asked again without it', async () => {
    const s = await saveSource(local, { kind: 'csw', url: `${helperBase}/nosort-csw`, options: { pageSize: 4 } });
    sourceIds.push(s.id);
    const before = await fingerprint();
    const report = await harvestRun(s.id);
    expect(report.error).toBeUndefined();
    // Same records as /fake-csw, already harvested from that source: refused, not taken over.
    expect({ created: report.created, failed: report.failed }).toEqual({ created: 0, failed: 7 });
    expect(report.items[0]!.reason).toMatch(/already harvested from source/);
    expect(await fingerprint()).toEqual(before);
  });

  it('a server that ignores startPosition fails the run instead of looping, and changes nothing', async () => {
    const s = await saveSource(local, { kind: 'csw', url: `${helperBase}/stuck-csw`, options: { pageSize: 3 } });
    sourceIds.push(s.id);
    const before = await fingerprint();
    const report = await harvestRun(s.id);
    expect(report.status).toBe('failed');
    expect(report.error).toMatch(/ignores startPosition/);
    expect(await fingerprint()).toEqual(before);
  });
});

const RDF_HEAD =
  '<?xml version="1.0" encoding="UTF-8"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dcat="http://www.w3.org/ns/dcat#" ' +
  'xmlns:dct="http://purl.org/dc/terms/" xmlns:foaf="http://xmlns.com/foaf/0.1/" xmlns:hydra="http://www.w3.org/ns/hydra/core#" ' +
  'xmlns:locn="http://www.w3.org/ns/locn#" xmlns:vcard="http://www.w3.org/2006/vcard/ns#" xmlns:skos="http://www.w3.org/2004/02/skos/core#">';

function dcatPages(base: string): void {
  files.set('/dcat/catalog.rdf', {
    type: 'application/rdf+xml',
    body:
      RDF_HEAD +
      `<dcat:Catalog rdf:about="${base}/dcat/catalog.rdf"><dct:title>Catalogue de test</dct:title>` +
      `<dcat:dataset><dcat:Dataset rdf:about="https://www.data.gouv.fr/datasets/qualite-air">` +
      `<dct:identifier>harvest-test-dcat-qualite-air</dct:identifier>` +
      `<dct:title xml:lang="en">Air quality</dct:title><dct:title xml:lang="fr">Qualité de l'air en Centre-Val de Loire</dct:title>` +
      `<dct:description>Mesures horaires des stations de la région.</dct:description>` +
      `<dcat:keyword>air</dcat:keyword><dcat:keyword>pollution</dcat:keyword>` +
      `<dcat:theme><skos:Concept rdf:about="http://inspire.ec.europa.eu/theme/ef"><skos:prefLabel xml:lang="fr">Installations de suivi environnemental</skos:prefLabel></skos:Concept></dcat:theme>` +
      `<dct:issued>2023-01-15</dct:issued><dct:modified rdf:datatype="http://www.w3.org/2001/XMLSchema#dateTime">2024-03-01T10:00:00</dct:modified>` +
      `<dct:language rdf:resource="http://publications.europa.eu/resource/authority/language/FRA"/>` +
      `<dct:publisher><foaf:Organization><foaf:name>Lig'Air</foaf:name></foaf:Organization></dct:publisher>` +
      `<dcat:contactPoint><vcard:Organization><vcard:fn>Lig'Air, service données</vcard:fn><vcard:hasEmail rdf:resource="mailto:data@example.org"/></vcard:Organization></dcat:contactPoint>` +
      `<dct:spatial><dct:Location><locn:geometry rdf:datatype="http://www.opengis.net/ont/geosparql#wktLiteral">POLYGON((0.05 46.34, 3.13 46.34, 3.13 48.94, 0.05 48.94, 0.05 46.34))</locn:geometry></dct:Location></dct:spatial>` +
      `<dcat:distribution rdf:resource="https://www.data.gouv.fr/datasets/qualite-air/r1"/>` +
      `</dcat:Dataset></dcat:dataset>` +
      `<dcat:dataset rdf:resource="https://example.org/datasets/communes"/>` +
      `</dcat:Catalog>` +
      `<dcat:Distribution rdf:about="https://www.data.gouv.fr/datasets/qualite-air/r1"><dct:title>Export CSV</dct:title>` +
      `<dcat:downloadURL rdf:resource="https://example.org/air.csv"/><dct:format>CSV</dct:format>` +
      `<dct:license rdf:resource="https://www.etalab.gouv.fr/licence-ouverte-open-licence"/></dcat:Distribution>` +
      `<rdf:Description rdf:about="https://example.org/datasets/communes"><rdf:type rdf:resource="http://www.w3.org/ns/dcat#Dataset"/>` +
      `<dct:title>Communes du Centre-Val de Loire</dct:title><dct:modified>2022-06-30</dct:modified>` +
      `<dcat:landingPage rdf:resource="https://example.org/communes"/></rdf:Description>` +
      `<hydra:PartialCollectionView rdf:about="${base}/dcat/catalog.rdf"><hydra:next rdf:resource="/dcat/catalog-2.rdf"/></hydra:PartialCollectionView>` +
      `</rdf:RDF>`,
  });
  files.set('/dcat/catalog-2.rdf', {
    type: 'application/rdf+xml',
    body:
      RDF_HEAD +
      `<dcat:Catalog rdf:about="${base}/dcat/catalog.rdf">` +
      `<dcat:dataset><dcat:Dataset rdf:about="https://example.org/datasets/routes"><dct:identifier>harvest-test-dcat-routes</dct:identifier>` +
      `<dct:title>Routes départementales</dct:title><dct:modified>2021-02-03</dct:modified>` +
      `<dct:spatial><dct:Location><dcat:bbox>{"type":"Polygon","coordinates":[[[1,47],[2,47],[2,48],[1,48],[1,47]]]}</dcat:bbox></dct:Location></dct:spatial>` +
      `</dcat:Dataset></dcat:dataset>` +
      `<dcat:dataset><dcat:Dataset><dct:title>Sans identifiant ni IRI</dct:title></dcat:Dataset></dcat:dataset>` +
      `</dcat:Catalog>` +
      `<hydra:PartialCollectionView rdf:about="${base}/dcat/catalog-2.rdf"><hydra:previous rdf:resource="/dcat/catalog.rdf"/></hydra:PartialCollectionView>` +
      `</rdf:RDF>`,
  });
}

describe('harvesting a DCAT feed and capabilities', () => {
  it('reads both pages of an RDF/XML DCAT catalogue (hydra:next) into records; a dataset without id fails alone', async () => {
    dcatPages(helperBase);
    const s = await saveSource(local, { kind: 'dcat', url: `${helperBase}/dcat/catalog.rdf`, name: 'dcat feed' });
    sourceIds.push(s.id);
    const report = await harvestRun(s.id);
    expect(report.error).toBeUndefined();
    expect({ created: report.created, updated: report.updated, unchanged: report.unchanged, failed: report.failed }).toEqual({ created: 3, updated: 0, unchanged: 0, failed: 1 });
    expect(report.items.find((i) => i.action === 'failed')!.reason).toMatch(/without dct:identifier/);
    const { rows } = await local.query(
      `SELECT identifier, remote_id, schema, title, abstract, keywords, modified, links, language, licences, publishers,
              round(ST_XMin(bbox)::numeric, 2)::float AS w, round(ST_YMax(bbox)::numeric, 2)::float AS n
         FROM sdi.metadata_records WHERE source_id = $1 ORDER BY identifier`,
      [s.id],
    );
    expect(rows.map((r) => r.identifier)).toEqual(['harvest-test-dcat-qualite-air', 'harvest-test-dcat-routes', 'https://example.org/datasets/communes']);
    const air = rows[0];
    expect(air.schema).toBe('dublincore');
    expect(air.title).toBe("Qualité de l'air en Centre-Val de Loire");
    expect(air.abstract).toMatch(/Mesures horaires/);
    expect(air.keywords).toEqual(expect.arrayContaining(['air', 'pollution', 'Installations de suivi environnemental']));
    expect(air.modified.toISOString()).toBe('2024-03-01T10:00:00.000Z');
    expect(air.language).toBe('fre');
    expect(air.publishers).toEqual(["Lig'Air"]);
    expect(air.licences).toEqual(['https://www.etalab.gouv.fr/licence-ouverte-open-licence']);
    expect(air.links).toEqual(expect.arrayContaining([expect.objectContaining({ url: 'https://example.org/air.csv', name: 'Export CSV' })]));
    expect([air.w, air.n]).toEqual([0.05, 48.94]);
    expect([rows[1].w, rows[1].n]).toEqual([1, 48]);
    expect(rows[2].links).toEqual([expect.objectContaining({ url: 'https://example.org/communes' })]);
    const again = await harvestRun(s.id);
    expect({ created: again.created, updated: again.updated, unchanged: again.unchanged, failed: again.failed }).toEqual({ created: 0, updated: 0, unchanged: 3, failed: 1 });
  });

  it('reads a JSON-LD DCAT feed (inline @context, @graph, hydra next) the same way', async () => {
    const context = {
      dcat: 'http://www.w3.org/ns/dcat#',
      dct: 'http://purl.org/dc/terms/',
      hydra: 'http://www.w3.org/ns/hydra/core#',
      title: 'dct:title',
      identifier: 'dct:identifier',
      keyword: 'dcat:keyword',
      modified: { '@id': 'dct:modified', '@type': 'http://www.w3.org/2001/XMLSchema#dateTime' },
      distribution: { '@id': 'dcat:distribution', '@type': '@id' },
      downloadURL: { '@id': 'dcat:downloadURL', '@type': '@id' },
      next: { '@id': 'hydra:next', '@type': '@id' },
    };
    files.set('/dcat/catalog.jsonld', {
      type: 'application/ld+json',
      body: JSON.stringify({
        '@context': context,
        '@graph': [
          { '@id': `${helperBase}/dcat/catalog.jsonld`, '@type': 'dcat:Catalog', 'dcat:dataset': [{ '@id': 'https://example.org/ds/jsonld-1' }] },
          {
            '@id': 'https://example.org/ds/jsonld-1',
            '@type': 'dcat:Dataset',
            identifier: 'harvest-test-jsonld-1',
            title: [{ '@value': 'Buildings', '@language': 'en' }, { '@value': 'Bâtiments', '@language': 'fr' }],
            keyword: ['bâti', 'cadastre'],
            modified: '2024-05-06T07:08:09',
            distribution: ['https://example.org/ds/jsonld-1/d1'],
            'dct:spatial': { '@type': 'dct:Location', 'dcat:bbox': 'POLYGON((1 46, 2 46, 2 47, 1 47, 1 46))' },
          },
          { '@id': 'https://example.org/ds/jsonld-1/d1', '@type': 'dcat:Distribution', downloadURL: 'https://example.org/bati.zip', 'dct:format': 'ZIP' },
          { '@id': `${helperBase}/dcat/catalog.jsonld?page=1`, '@type': 'hydra:PartialCollectionView', next: '?page=2' },
        ],
      }),
    });
    files.set('/dcat/catalog.jsonld?page=2', {
      type: 'application/ld+json',
      body: JSON.stringify({ '@context': context, '@graph': [{ '@id': 'https://example.org/ds/jsonld-2', '@type': 'dcat:Dataset', 'dct:title': 'Routes', 'dct:identifier': 'harvest-test-jsonld-2' }] }),
    });
    const s = await saveSource(local, { kind: 'dcat', url: `${helperBase}/dcat/catalog.jsonld`, name: 'dcat json-ld' });
    sourceIds.push(s.id);
    const report = await harvestRun(s.id);
    expect(report.error).toBeUndefined();
    expect({ created: report.created, failed: report.failed }).toEqual({ created: 2, failed: 0 });
    const { rows } = await local.query(
      `SELECT identifier, title, keywords, modified, links, round(ST_XMax(bbox)::numeric, 2)::float AS e FROM sdi.metadata_records WHERE source_id = $1 ORDER BY identifier`,
      [s.id],
    );
    expect(rows.map((r) => r.identifier)).toEqual(['harvest-test-jsonld-1', 'harvest-test-jsonld-2']);
    expect(rows[0]).toMatchObject({ title: 'Bâtiments', keywords: ['bâti', 'cadastre'], e: 2 });
    expect(rows[0].modified.toISOString()).toBe('2024-05-06T07:08:09.000Z');
    expect(rows[0].links).toEqual([expect.objectContaining({ url: 'https://example.org/bati.zip', protocol: 'ZIP' })]);
    expect(rows[1].title).toBe('Routes');
  });

  it("reads the second instance's own DCAT endpoint (/dcat, RDF/XML and JSON-LD, Hydra pages) record for record", async () => {
    // Those records came in through CSW above, from another source: let the DCAT source have them.
    const csw = (await local.query(`SELECT id FROM sdi.harvest_sources WHERE kind = 'csw' AND url = $1`, [`${helperBase}/csw`])).rows[0].id;
    await local.query('DELETE FROM sdi.metadata_records WHERE source_id = $1', [csw]);
    const titles = new Map((await remote.query('SELECT identifier, title FROM sdi.metadata_records')).rows.map((r) => [r.identifier, r.title]));
    const s = await saveSource(local, { kind: 'dcat', url: `${remoteBase}/dcat?page_size=4`, name: 'second instance DCAT' });
    sourceIds.push(s.id);
    const report = await harvestRun(s.id);
    expect(report.error).toBeUndefined();
    expect({ created: report.created, failed: report.failed }).toEqual({ created: titles.size, failed: 0 });
    const rows = (await local.query('SELECT identifier, title, schema FROM sdi.metadata_records WHERE source_id = $1', [s.id])).rows;
    expect(new Map(rows.map((r) => [r.identifier, r.title]))).toEqual(titles);
    expect(new Set(rows.map((r) => r.schema))).toEqual(new Set(['dublincore']));
    // No blank-node label leaks into a record.
    expect((await local.query(`SELECT count(*)::int AS n FROM sdi.metadata_records WHERE source_id = $1 AND document ~ '>_:b[0-9]+<'`, [s.id])).rows[0].n).toBe(0);
    // The same feed in JSON-LD gives the same documents.
    const json = await saveSource(local, { kind: 'dcat', url: `${remoteBase}/dcat?page_size=5&format=jsonld`, name: 'second instance DCAT (JSON-LD)' });
    sourceIds.push(json.id);
    await local.query('UPDATE sdi.metadata_records SET source_id = $2 WHERE source_id = $1', [s.id, json.id]);
    const again = await harvestRun(json.id);
    expect(again.error).toBeUndefined();
    expect({ created: again.created, updated: again.updated, unchanged: again.unchanged, failed: again.failed }).toEqual({ created: 0, updated: 0, unchanged: titles.size, failed: 0 });
  });

  it('WFS capabilities become one service record, unchanged on the next run', async () => {
    const s = await saveSource(local, { kind: 'wfs', url: `${baseUrl()}/wfs`, name: 'our WFS' });
    sourceIds.push(s.id);
    // The suite server listens on 127.0.0.1 only, which the default policy refuses (issue 13 point 8):
    const refused = await harvestRun(s.id);
    expect(refused).toMatchObject({ status: 'failed', publicError: 'the source could not be reached' });
    expect(refused.error).toMatch(/not allowed/);
    // this run allows it explicitly, as SDI_OUTBOUND_ALLOW=127.0.0.1/32 would.
    const withSuite = new OutboundPolicy(['127.0.0.3/32', `${new URL(baseUrl()).hostname}/32`]);
    const report = await harvestRun(s.id, { policy: withSuite });
    expect(report.error).toBeUndefined();
    expect(report.created).toBe(1);
    const { rows } = await local.query('SELECT type, service_type, links, bbox IS NOT NULL AS has_box FROM sdi.metadata_records WHERE source_id = $1', [s.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].type).toBe('service');
    expect(rows[0].service_type).toBe('download');
    expect(rows[0].links[0].scheme).toBe('OGC:WFS');
    const again = await harvestRun(s.id, { policy: withSuite });
    expect({ created: again.created, updated: again.updated, unchanged: again.unchanged }).toEqual({ created: 0, updated: 0, unchanged: 1 });
    const doc = (await local.query('SELECT document FROM sdi.metadata_records WHERE source_id = $1', [s.id])).rows[0].document;
    expect(validateApiso(doc).output).toContain('validates');
  });

  it('WMS 1.3.0 capabilities become a view service record with the union of the layer boxes', async () => {
    files.set('/wms?SERVICE=WMS&REQUEST=GetCapabilities', {
      type: 'text/xml',
      body:
        '<?xml version="1.0" encoding="UTF-8"?><WMS_Capabilities xmlns="http://www.opengis.net/wms" version="1.3.0"><Service><Name>WMS</Name>' +
        '<Title>Cartes du Loiret</Title><Abstract>Fonds et thèmes</Abstract><KeywordList><Keyword>Loiret</Keyword><Keyword>cartes</Keyword></KeywordList>' +
        '<ContactInformation><ContactPersonPrimary><ContactOrganization>Département du Loiret</ContactOrganization></ContactPersonPrimary></ContactInformation></Service>' +
        '<Capability><Layer><Title>Racine</Title>' +
        '<Layer><Name>a</Name><Title>A</Title><EX_GeographicBoundingBox><westBoundLongitude>1.5</westBoundLongitude><eastBoundLongitude>2</eastBoundLongitude><southBoundLatitude>47.5</southBoundLatitude><northBoundLatitude>48</northBoundLatitude></EX_GeographicBoundingBox></Layer>' +
        '<Layer><Name>b</Name><Title>B</Title><EX_GeographicBoundingBox><westBoundLongitude>1.6</westBoundLongitude><eastBoundLongitude>3.1</eastBoundLongitude><southBoundLatitude>47.4</southBoundLatitude><northBoundLatitude>48.3</northBoundLatitude></EX_GeographicBoundingBox></Layer>' +
        '</Layer></Capability></WMS_Capabilities>',
    });
    const s = await saveSource(local, { kind: 'wms', url: `${helperBase}/wms`, name: 'a WMS' });
    sourceIds.push(s.id);
    const report = await harvestRun(s.id);
    expect(report.error).toBeUndefined();
    expect(report.created).toBe(1);
    const { rows } = await local.query(
      `SELECT title, type, service_type, keywords, organisations, ST_AsText(ST_Envelope(bbox)) AS box, document FROM sdi.metadata_records WHERE source_id = $1`,
      [s.id],
    );
    expect(rows[0]).toMatchObject({ title: 'Cartes du Loiret', type: 'service', service_type: 'view', keywords: ['Loiret', 'cartes'], organisations: ['Département du Loiret'] });
    expect(rows[0].box).toBe('POLYGON((1.5 47.4,1.5 48.3,3.1 48.3,3.1 47.4,1.5 47.4))');
    expect(validateApiso(rows[0].document).output).toContain('validates');
  });
});

describe('CSW Harvest operation', () => {
  const isoId = 'harvest-test-iso-document-0001';
  const harvestXml = (source: string, type = 'http://www.isotc211.org/2005/gmd') =>
    `<csw:Harvest xmlns:csw="${CSW_NS}" service="CSW" version="2.0.2"><csw:Source>${source}</csw:Source>` +
    `<csw:ResourceType>${type}</csw:ResourceType><csw:ResourceFormat>application/xml</csw:ResourceFormat></csw:Harvest>`;
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${remoteBase}/csw`, { method: 'POST', headers: { 'content-type': 'application/xml', ...headers }, body });
  const count = async () => (await remote.query('SELECT count(*)::int AS n FROM sdi.metadata_records')).rows[0].n as number;
  /** The remote's harvest tables and records: a refused or failed harvest must leave them as they were. */
  const harvestTables = async () =>
    (
      await remote.query(
        `SELECT (SELECT count(*)::int FROM sdi.harvest_sources) AS sources, (SELECT count(*)::int FROM sdi.harvest_runs) AS runs,
                (SELECT count(*)::int FROM sdi.harvest_run_items) AS items, (SELECT count(*)::int FROM sdi.harvest_staging) AS staging,
                (SELECT coalesce(md5(string_agg(m::text, '|' ORDER BY m.id)), '') FROM sdi.metadata_records m) AS records,
                (SELECT coalesce(md5(string_agg(s::text, '|' ORDER BY s.id)), '') FROM sdi.harvest_sources s) AS source_rows`,
      )
    ).rows[0] as { sources: number; runs: number; items: number; staging: number; records: string; source_rows: string };

  beforeAll(() => {
    const fixture = readFileSync(join(FIXTURES, 'owslib-geobretagne-cadastre-2018.xml'), 'utf8');
    const doc = fixture.replace(/(<gmd:fileIdentifier>\s*<gco:CharacterString>)[^<]*/, `$1${isoId}`);
    expect(doc).toContain(isoId);
    files.set('/iso/record.xml', { type: 'application/xml', body: doc });
  });

  it('is advertised in GetCapabilities with its resource types', async () => {
    const caps = await (await fetch(`${remoteBase}/csw?service=CSW&request=GetCapabilities`)).text();
    const op = /<ows:Operation name="Harvest">[\s\S]*?<\/ows:Operation>/.exec(caps)?.[0] ?? '';
    for (const t of ['http://www.opengis.net/cat/csw/2.0.2', 'http://www.isotc211.org/2005/gmd', 'http://www.opengis.net/wms', 'http://www.opengis.net/wfs']) expect(op).toContain(`<ows:Value>${t}</ows:Value>`);
  });

  it('is refused without credentials or with a wrong token (401), and changes nothing', async () => {
    const n = await count();
    const none = await post(harvestXml(`${helperBase}/iso/record.xml`));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/Bearer/);
    expect(exception(await none.text()).code).toBe('NoApplicableCode');
    const wrong = await post(harvestXml(`${helperBase}/iso/record.xml`), { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    const kvp = await fetch(`${remoteBase}/csw?service=CSW&version=2.0.2&request=Harvest&source=${encodeURIComponent(`${helperBase}/iso/record.xml`)}&resourceType=http://www.isotc211.org/2005/gmd`);
    expect(kvp.status).toBe(401);
    expect(await count()).toBe(n);
  });

  it('harvests one ISO XML URL with the admin token (XML, then KVP with Basic): TransactionSummary, schema-valid', async () => {
    const n = await count();
    const r = await post(harvestXml(`${helperBase}/iso/record.xml`), { authorization: `Bearer ${TOKEN}` });
    const body = await r.text();
    expect(r.status, body).toBe(200);
    expect(body).toMatch(/<csw:totalInserted>1<\/csw:totalInserted><csw:totalUpdated>0<\/csw:totalUpdated>/);
    expect(body).toContain(`<dc:identifier>${isoId}</dc:identifier>`);
    expect(xmllint(body, 'csw/2.0.2/CSW-publication.xsd').output).toContain('validates');
    expect(await count()).toBe(n + 1);
    const got = await (await fetch(`${remoteBase}/csw?service=CSW&version=2.0.2&request=GetRecordById&id=${isoId}`)).text();
    expect(got).toContain(isoId);
    const { rows } = await remote.query('SELECT s.kind, s.url, m.remote_id FROM sdi.metadata_records m JOIN sdi.harvest_sources s ON s.id = m.source_id WHERE m.identifier = $1', [isoId]);
    expect(rows).toEqual([{ kind: 'iso', url: `${helperBase}/iso/record.xml`, remote_id: isoId }]);
    const basic = Buffer.from(`admin:${TOKEN}`).toString('base64');
    const again = await fetch(
      `${remoteBase}/csw?service=CSW&version=2.0.2&request=Harvest&source=${encodeURIComponent(`${helperBase}/iso/record.xml`)}&resourceType=http://www.isotc211.org/2005/gmd&harvestInterval=P1D`,
      { headers: { authorization: `Basic ${basic}` } },
    );
    const againBody = await again.text();
    expect(again.status, againBody).toBe(200);
    expect(againBody).toMatch(/<csw:totalInserted>0<\/csw:totalInserted><csw:totalUpdated>0<\/csw:totalUpdated>/);
    expect((await remote.query(`SELECT schedule_interval::text AS i FROM sdi.harvest_sources WHERE kind = 'iso'`)).rows[0].i).toBe('1 day');
  });

  it('bad parameters and unreachable sources answer exception reports', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const bad = await post(harvestXml(`${helperBase}/iso/record.xml`, 'http://example.org/unknown'), auth);
    expect(bad.status).toBe(400);
    expect(exception(await bad.text())).toMatchObject({ code: 'InvalidParameterValue', locator: 'ResourceType' });
    const file = await post(harvestXml('file:///etc/passwd'), auth);
    expect(exception(await file.text())).toMatchObject({ code: 'InvalidParameterValue', locator: 'Source' });
    const missingSource = await post(`<csw:Harvest xmlns:csw="${CSW_NS}" service="CSW" version="2.0.2"><csw:ResourceType>http://www.isotc211.org/2005/gmd</csw:ResourceType></csw:Harvest>`, auth);
    expect(exception(await missingSource.text())).toMatchObject({ code: 'MissingParameterValue', locator: 'Source' });
    const before = await harvestTables();
    const gone = await post(harvestXml(`${helperBase}/iso/missing.xml`), auth);
    expect(gone.status).toBe(502);
    expect(exception(await gone.text())).toMatchObject({ code: 'NoApplicableCode', locator: 'Source', text: 'Harvest failed: the source did not answer with an ISO 19139 document; nothing was changed' });
    expect(await harvestTables()).toEqual(before);
  });

  // Issue 13 point 8: the harvest is no SSRF tool and no oracle of internal hosts and ports.
  describe('internal destinations (issue 13 point 8)', () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const REFUSED = 'Harvest failed: the source could not be reached; nothing was changed';
    const suite = () => new URL(baseUrl());

    it('refuses loopback, private, link-local, decimal, hex and IPv4-mapped sources and redirects to them: same 502, same text, no row', async () => {
      const sources = [
        `http://127.0.0.1:${suite().port}/csw`, // an open internal port (the suite server)
        `http://127.0.0.1:1/csw`, // a closed one: the same answer
        'http://10.0.0.1/csw',
        'http://169.254.169.254/latest/meta-data/',
        'http://2130706433/',
        'http://0x7f000001/',
        'http://[::ffff:127.0.0.1]/',
        `http://[::ffff:127.0.0.1]:${suite().port}/csw`,
        `${helperBase}/redirect/${encodeURIComponent(`http://127.0.0.1:${suite().port}/csw`)}`,
        `${helperBase}/redirect/${encodeURIComponent('http://169.254.169.254/latest/meta-data/')}`,
        `${helperBase}/redirect/${encodeURIComponent('ftp://127.0.0.3/x')}`,
        'http://127.0.0.3:1/csw', // allowed, but nothing listens: not told apart either
      ];
      for (const source of sources) {
        for (const type of ['http://www.opengis.net/cat/csw/2.0.2', 'http://www.isotc211.org/2005/gmd']) {
          const before = await harvestTables();
          const r = await post(harvestXml(source, type), auth);
          const body = await r.text();
          expect(r.status, `${source} ${body}`).toBe(502);
          expect(r.headers.get('content-type')).toMatch(/xml/);
          expect(exception(body), source).toMatchObject({ code: 'NoApplicableCode', locator: 'Source', text: REFUSED });
          expect(body).not.toMatch(/ECONNREFUSED|bad port|not allowed|resolves to|redirect/i);
          expect(await harvestTables(), source).toEqual(before);
        }
      }
      // The same by KVP GET.
      const before = await harvestTables();
      const kvp = await fetch(`${remoteBase}/csw?service=CSW&version=2.0.2&request=Harvest&source=${encodeURIComponent('http://0x7f000001/')}&resourceType=http://www.isotc211.org/2005/gmd`, { headers: auth });
      expect(kvp.status).toBe(502);
      expect(exception(await kvp.text()).text).toBe(REFUSED);
      expect(await harvestTables()).toEqual(before);
      // The details are in the server's log, for the operator.
      expect(remoteLog).toMatch(/not allowed/);
      expect(remoteLog).toMatch(/ECONNREFUSED/);
    });

    it("a remote exception report or a document of the wrong kind: generic text, the remote's text not echoed, no row", async () => {
      for (const [source, type, text] of [
        [`${helperBase}/exception-csw`, 'http://www.opengis.net/cat/csw/2.0.2', 'Harvest failed: the source did not answer with a CSW document; nothing was changed'],
        [`${helperBase}/exception-csw`, 'http://www.isotc211.org/2005/gmd', 'Harvest failed: the source did not answer with an ISO 19139 document; nothing was changed'],
        [`${helperBase}/dcat/catalog.rdf`, 'http://www.opengis.net/wms', 'Harvest failed: the source did not answer with a WMS capabilities document; nothing was changed'],
      ] as const) {
        const before = await harvestTables();
        const r = await post(harvestXml(source, type), auth);
        const body = await r.text();
        expect(r.status, body).toBe(502);
        expect(exception(body).text).toBe(text);
        expect(body).not.toMatch(/secret|10\.1\.2\.3|root/);
        expect(await harvestTables()).toEqual(before);
      }
      expect(remoteLog).toMatch(/internal secret/);
    });

    it('an existing scheduled source whose harvest fails keeps its settings and records the failed run, as the answer says', async () => {
      const url = `${helperBase}/iso/flaky.xml`;
      const fixture = readFileSync(join(FIXTURES, 'owslib-geobretagne-cadastre-2018.xml'), 'utf8');
      files.set('/iso/flaky.xml', { type: 'application/xml', body: fixture.replace(/(<gmd:fileIdentifier>\s*<gco:CharacterString>)[^<]*/, '$1harvest-test-flaky-0001') });
      const ok = await post(harvestXml(url).replace('</csw:ResourceFormat>', '</csw:ResourceFormat><csw:HarvestInterval>P1D</csw:HarvestInterval>'), auth);
      expect(ok.status, await ok.text()).toBe(200);
      const src = (await remote.query(`SELECT id, schedule_interval::text AS i FROM sdi.harvest_sources WHERE kind = 'iso' AND url = $1`, [url])).rows[0];
      expect(src.i).toBe('1 day');
      files.delete('/iso/flaky.xml');
      const before = await harvestTables();
      const r = await post(harvestXml(url).replace('</csw:ResourceFormat>', '</csw:ResourceFormat><csw:HarvestInterval>PT6H</csw:HarvestInterval>'), auth);
      const text = exception(await r.text()).text;
      expect(r.status).toBe(502);
      const run = (await remote.query(`SELECT id, status FROM sdi.harvest_runs WHERE source_id = $1 ORDER BY id DESC LIMIT 1`, [src.id])).rows[0];
      expect(run.status).toBe('failed');
      expect(text).toBe(`Harvest failed: the source did not answer with an ISO 19139 document; the catalogue was not changed; the failed attempt is recorded as harvest run ${run.id} of source ${src.id}`);
      // Exactly what the answer says: one more (failed) run, same sources (only their last attempt's time
      // moves, the scheduler's clock), same records.
      const { source_rows: _b, ...was } = before;
      const { source_rows: _a, ...now } = await harvestTables();
      expect(now).toEqual({ ...was, runs: was.runs + 1 });
      expect((await remote.query('SELECT schedule_interval::text AS i FROM sdi.harvest_sources WHERE id = $1', [src.id])).rows[0].i).toBe('1 day');
    });
  });
});
