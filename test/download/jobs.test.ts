/**
 * Deferred download jobs end to end, through HTTP and real worker processes (`cli.js download-worker`)
 * against the suite's database: queued → running → done with the signed link, the file opened with ogrinfo,
 * the e-mail (local SMTP server) and the webhook (local HTTP server) received, tampered and expired links,
 * cancel (queued and running, only with the job's cancel token: issue 13 point 7), a worker killed with SIGKILL in the middle of a job whose job another worker
 * finishes, and the janitor expiring results.
 *
 * To hold a job in the middle deterministically (no sleeps, no timing), the test takes an ACCESS EXCLUSIVE
 * lock on the layer's table: the worker claims the job and then waits on the lock until the test releases it.
 */
import { describe, it, expect, beforeAll, afterAll, inject } from 'vitest';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync, existsSync, mkdirSync, readFileSync, readdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac, randomUUID } from 'node:crypto';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { baseUrl, db, ROOT } from '../helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'sdi-jobs-test-'));
const mails: Array<{ to: string[]; body: string }> = [];
const hooks: Array<Record<string, unknown>> = [];
let smtp: SMTPServer;
let smtpPort = 0;
let hookServer: Server;
let hookUrl = '';
const workers: Array<{ proc: ChildProcess; log: () => string }> = [];

function startWorker(extraEnv: Record<string, string> = {}): { proc: ChildProcess; log: () => string } {
  let out = '';
  const proc = spawn(process.execPath, [join(ROOT, 'dist/app/cli.js'), 'download-worker', '--concurrency', '1', '--poll-ms', '300'], {
    env: {
      ...process.env,
      DATABASE_URL: inject('databaseUrl'),
      SDI_DOWNLOAD_DIR: inject('downloadDir'),
      SDI_SMTP_HOST: '127.0.0.1',
      SDI_SMTP_PORT: String(smtpPort),
      SDI_SMTP_FROM: 'sdi@example.org',
      SDI_OUTBOUND_ALLOW: '127.0.0.3/32',
      LOG_LEVEL: 'info',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const w = { proc, log: () => out };
  workers.push(w);
  return w;
}

async function stopWorker(w: { proc: ChildProcess }): Promise<void> {
  if (w.proc.exitCode !== null || w.proc.signalCode !== null) return;
  const exited = new Promise((r) => w.proc.once('exit', r));
  w.proc.kill('SIGTERM');
  await exited;
}

/** Poll until `check` returns a value (not undefined); fail with `what` after a generous deadline. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; worker logs:\n${workers.map((w) => w.log()).join('\n---\n').slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Status {
  id: string;
  state: string;
  progress: number;
  attempts: number;
  started?: string;
  finished?: string;
  error?: string;
  message?: string;
  result?: { href: string; expires: string; filename: string; mediaType: string; bytes: number; features: number };
  estimate?: { features: number };
  cancelToken?: string;
}

async function status(id: string): Promise<Status> {
  const r = await fetch(`${baseUrl()}/download/jobs/${id}`);
  expect(r.status).toBe(200);
  return (await r.json()) as Status;
}

/** DELETE /download/jobs/<id>, with the job's cancel token when given (issue 13 point 7: the id alone is not enough). */
const cancel = (id: string, token?: string) => fetch(`${baseUrl()}/download/jobs/${id}`, { method: 'DELETE', headers: token === undefined ? {} : { 'x-job-token': token } });

async function submit(body: Record<string, unknown>): Promise<{ id: string; location: string; doc: Status; token: string }> {
  const r = await fetch(`${baseUrl()}/download/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  expect(r.status, text).toBe(202);
  const doc = JSON.parse(text) as Status;
  expect(doc.cancelToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return { id: doc.id, location: r.headers.get('location')!, doc, token: doc.cancelToken! };
}

/** Hold an ACCESS EXCLUSIVE lock on a table until release() (a job reading it waits meanwhile). */
async function lockTable(table: string): Promise<{ release: () => Promise<void> }> {
  const c = new pg.Client({ connectionString: inject('databaseUrl') });
  await c.connect();
  await c.query('BEGIN');
  await c.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  return {
    release: async () => {
      await c.query('COMMIT');
      await c.end();
    },
  };
}

async function jobRow(id: string): Promise<{ state: string; worker: string | null; attempts: number }> {
  return (await db().query('SELECT state, worker, attempts FROM sdi.jobs WHERE id = $1', [id])).rows[0];
}

async function downloadTo(href: string): Promise<{ status: number; path: string; headers: Headers; text?: string }> {
  const r = await fetch(href);
  const buf = Buffer.from(await r.arrayBuffer());
  if (r.status !== 200) return { status: r.status, path: '', headers: r.headers, text: buf.toString('utf8') };
  const name = /filename="([^"]+)"/.exec(r.headers.get('content-disposition') ?? '')?.[1] ?? 'out';
  const d = mkdtempSync(join(tmp, 'dl-'));
  const path = join(d, name);
  writeFileSync(path, buf);
  return { status: 200, path, headers: r.headers };
}

const ogrinfo = (path: string) => execFileSync('ogrinfo', ['-ro', '-so', '-al', path], { encoding: 'utf8' });
const featureCount = (info: string) => Number(/Feature Count: (\d+)/.exec(info)?.[1]);

async function secret(): Promise<string> {
  return (await db().query("SELECT value FROM sdi.settings WHERE key = 'download.link_secret'")).rows[0].value;
}
const signWith = (s: string, id: string, expires: number) => createHmac('sha256', Buffer.from(s, 'utf8')).update(`${id}.${expires}`).digest('base64url');

let communes = 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    // A mailbox the server refuses, as a real one does for an unknown address (issue 12: visible on the job).
    onRcptTo(address, _session, cb) {
      if (address.address.startsWith('refused@')) {
        const err = new Error('5.1.1 No such user') as Error & { responseCode: number };
        err.responseCode = 550;
        return cb(err);
      }
      cb();
    },
    onData(stream, session, cb) {
      let body = '';
      stream.on('data', (d: Buffer) => (body += d.toString('utf8')));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), body });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  smtpPort = ((smtp as unknown as { server: Server }).server.address() as AddressInfo).port;
  hookServer = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      hooks.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  // On 127.0.0.3, the one loopback address the test servers and workers allow webhooks to (SDI_OUTBOUND_ALLOW).
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.3', () => r()));
  hookUrl = `http://127.0.0.3:${(hookServer.address() as AddressInfo).port}/hook`;
  communes = Number((await db().query('SELECT count(*) AS n FROM data.communes')).rows[0].n);
});

afterAll(async () => {
  for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
  await new Promise((r) => smtp.close(() => r(undefined)));
  hookServer.close();
});

describe('deferred download jobs', () => {
  let doneId = '';
  let doneHref = '';
  let doneToken = '';

  it('runs end to end: queued, running, progress, done, signed link, download, e-mail and webhook', async () => {
    const body = { layer: 'communes', format: 'gpkg', crs: 'EPSG:4326', notify: { email: 'someone@example.org', webhook: hookUrl } };
    const { id, location, doc, token } = await submit(body);
    expect(location).toBe(`${baseUrl()}/download/jobs/${id}`);
    expect(doc).toMatchObject({ state: 'queued', progress: 0, estimate: { features: communes } });
    // No worker yet: it stays queued.
    expect((await status(id)).state).toBe('queued');

    const lock = await lockTable('data.communes');
    const w = startWorker();
    const seen: Status[] = [];
    const running = await waitFor('the job to be claimed', async () => {
      const s = await status(id);
      seen.push(s);
      return s.state === 'running' ? s : undefined;
    });
    expect(running.attempts).toBe(1);
    expect(running.started).toBeTruthy();
    expect((await jobRow(id)).worker).toContain(`:${w.proc.pid}:`);
    await lock.release();
    const done = await waitFor('the job to finish', async () => {
      const s = await status(id);
      seen.push(s);
      return ['done', 'failed', 'cancelled'].includes(s.state) ? s : undefined;
    });
    expect(done.state, JSON.stringify(done)).toBe('done');
    // States in order, progress never going back, ending at 1.
    const order = ['queued', 'running', 'done'];
    const idx = seen.map((s) => order.indexOf(s.state));
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
    const progress = seen.map((s) => s.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(done.progress).toBe(1);
    expect(done.result).toMatchObject({ features: communes, mediaType: 'application/geopackage+sqlite3' });
    expect(new Date(done.result!.expires).getTime() - Date.now()).toBeGreaterThan(9.9 * 86_400_000);
    expect(done.result!.href).toMatch(new RegExp(`^${baseUrl()}/download/files/${id}\\?expires=\\d+&signature=[\\w-]+$`));

    const before = Number((await db().query("SELECT count(*) AS n FROM sdi.usage_log WHERE service = 'download' AND operation = 'job'")).rows[0].n);
    const dl = await downloadTo(done.result!.href);
    expect(dl.status, dl.text).toBe(200);
    expect(dl.headers.get('content-disposition')).toContain('communes.gpkg');
    const info = ogrinfo(dl.path);
    expect(featureCount(info)).toBe(communes);
    expect(info).toContain('ID["EPSG",4326]]');
    await waitFor('the usage log row', async () => {
      const n = Number((await db().query("SELECT count(*) AS n FROM sdi.usage_log WHERE service = 'download' AND operation = 'job' AND detail->>'job' = $1", [id])).rows[0].n);
      return n > 0 ? n : undefined;
    });
    expect(Number((await db().query("SELECT count(*) AS n FROM sdi.usage_log WHERE service = 'download' AND operation = 'job'")).rows[0].n)).toBe(before + 1);

    const mail = await waitFor('the e-mail', async () => mails.find((m) => m.body.includes(id)));
    expect(mail.to).toEqual(['someone@example.org']);
    // The link is in the body (quoted-printable may fold long lines: unfold them first).
    expect(mail.body.replace(/=\r?\n/g, '').replace(/=3D/g, '=')).toContain(done.result!.href);
    const hook = await waitFor('the webhook', async () => hooks.find((h) => h.id === id));
    expect(hook).toMatchObject({ id, state: 'done', link: done.result!.href, expires: done.result!.expires, bytes: done.result!.bytes });

    // Issue 12: the notification's outcome is on the job.
    const notified = await waitFor('the notification outcome', async () => ((await status(id)) as Status & { notification?: Record<string, { state: string }> }).notification);
    expect(notified).toMatchObject({ email: { state: 'sent' }, webhook: { state: 'sent' } });

    doneId = id;
    doneHref = done.result!.href;
    doneToken = token;
    await stopWorker(w);
  });

  it('an e-mail the mail server refuses is visible on the job, with a reason and no server detail (issue 12)', async () => {
    const { id } = await submit({ layer: 'epci', format: 'geojson', notify: { email: 'refused@example.org', webhook: hookUrl } });
    const w = startWorker();
    const s = await waitFor('the notification outcome', async () => {
      const doc = (await status(id)) as Status & { notification?: Record<string, { state: string; reason?: string; at: string }> };
      return doc.notification ? doc : undefined;
    });
    expect(s.state).toBe('done');
    expect(s.notification!.email).toMatchObject({ state: 'failed', reason: 'the mail server refused the address (SMTP 550)' });
    expect(Number.isNaN(Date.parse(s.notification!.email!.at))).toBe(false);
    expect(s.notification!.webhook).toMatchObject({ state: 'sent' });
    expect(JSON.stringify(s.notification)).not.toMatch(/127\.0\.0\.1|No such user|Error/);
    await stopWorker(w);
  });

  it('refuses tampered links (403), expired ones (410) and unknown jobs (404)', async () => {
    const u = new URL(doneHref);
    const sig = u.searchParams.get('signature')!;
    const expires = Number(u.searchParams.get('expires'));
    const problem = async (href: string) => {
      const r = await fetch(href);
      return { status: r.status, type: r.headers.get('content-type') ?? '', body: (await r.json()) as Record<string, unknown> };
    };
    const flipped = sig.slice(0, -1) + (sig.endsWith('A') ? 'B' : 'A');
    for (const href of [
      `${u.origin}${u.pathname}?expires=${expires}&signature=${flipped}`,
      `${u.origin}${u.pathname}?expires=${expires + 86_400}&signature=${sig}`,
      `${u.origin}${u.pathname}?expires=${expires}`,
      `${u.origin}/download/files/${randomUUID()}?expires=${expires}&signature=${sig}`,
    ]) {
      const p = await problem(href);
      expect(p.status, href).toBe(403);
      expect(p.type).toContain('application/problem+json');
      expect(p.body).toMatchObject({ status: 403, type: expect.stringContaining('bad-signature') });
    }
    const s = await secret();
    const past = Math.floor(Date.now() / 1000) - 60;
    const expired = await problem(`${u.origin}${u.pathname}?expires=${past}&signature=${signWith(s, doneId, past)}`);
    expect(expired.status).toBe(410);
    expect(expired.body.detail).toMatch(/expired/);
    const other = randomUUID();
    const unknown = await problem(`${u.origin}/download/files/${other}?expires=${expires}&signature=${signWith(s, other, expires)}`);
    expect(unknown.status).toBe(404);
    // The genuine link still works.
    expect((await fetch(doneHref, { method: 'HEAD' })).status).toBe(200);
    // A finished job cannot be cancelled, even with its token.
    const del = await cancel(doneId, doneToken);
    expect(del.status).toBe(409);
    expect(((await fetch(`${baseUrl()}/download/jobs/${randomUUID()}`)).status)).toBe(404);
    expect(((await fetch(`${baseUrl()}/download/jobs/not-a-uuid`)).status)).toBe(404);
  });

  it('refuses bad jobs before queueing them: unknown layer, over the limit', async () => {
    const n = Number((await db().query('SELECT count(*) AS n FROM sdi.jobs')).rows[0].n);
    const bad = await fetch(`${baseUrl()}/download/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ layer: 'nope', format: 'gpkg' }) });
    expect(bad.status).toBe(404);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const big = await fetch(`${baseUrl()}/download/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ layers: ['communes', 'communes_points'], format: 'gpkg' }) });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ limit: 3000 });
    expect(Number((await db().query('SELECT count(*) AS n FROM sdi.jobs')).rows[0].n)).toBe(n);
  });

  it('cancels a queued job at once and a running job through its worker', async () => {
    const q = await submit({ layer: 'communes', format: 'geojson' });
    // Issue 13 point 7: knowing the id is not enough — no token, a wrong one, another job's → 403, job unchanged.
    const before = (await db().query('SELECT state, cancel_requested, updated_at FROM sdi.jobs WHERE id = $1', [q.id])).rows[0];
    for (const token of [undefined, 'nope', doneToken]) {
      const refused = await cancel(q.id, token);
      expect(refused.status).toBe(403);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(await refused.json()).toMatchObject({ status: 403, type: expect.stringContaining('cancel-forbidden') });
    }
    expect((await db().query('SELECT state, cancel_requested, updated_at FROM sdi.jobs WHERE id = $1', [q.id])).rows[0]).toEqual(before);
    expect((await status(q.id)).cancelToken).toBeUndefined();
    const del = await cancel(q.id, q.token);
    expect(del.status).toBe(200);
    expect(await del.json()).toMatchObject({ state: 'cancelled' });
    expect((await status(q.id)).state).toBe('cancelled');
    expect((await cancel(q.id, q.token)).status).toBe(200);

    const r = await submit({ layer: 'communes', format: 'shp', crs: 'EPSG:2154' });
    const lock = await lockTable('data.communes');
    const w = startWorker();
    await waitFor('the job to run', async () => ((await status(r.id)).state === 'running' ? true : undefined));
    const del2 = await cancel(r.id, r.token);
    expect(del2.status).toBe(200);
    await lock.release();
    const end = await waitFor('the cancel', async () => {
      const s = await status(r.id);
      return s.state !== 'running' ? s : undefined;
    });
    expect(end.state).toBe('cancelled');
    expect(end.result).toBeUndefined();
    expect(existsSync(join(inject('downloadDir'), 'results', r.id))).toBe(false);
    // The worker is free again: a new job runs to the end.
    const next = await submit({ layer: 'communes', format: 'geojson', crs: 'EPSG:2154' });
    const s = await waitFor('the next job', async () => {
      const x = await status(next.id);
      return x.state === 'done' || x.state === 'failed' ? x : undefined;
    });
    expect(s.state).toBe('done');
    await stopWorker(w);
  });

  it('a job whose extract cannot be built fails at once with the reason, and says so by webhook', async () => {
    const { id } = await submit({ layer: 'communes', format: 'gpkg', notify: { webhook: hookUrl } });
    // The layer goes away between the request and the run (simulated on the stored request).
    await db().query(`UPDATE sdi.jobs SET request = jsonb_set(request, '{layer}', '"disparue"') WHERE id = $1`, [id]);
    const w = startWorker();
    const end = await waitFor('the failure', async () => {
      const s = await status(id);
      return s.state !== 'queued' && s.state !== 'running' ? s : undefined;
    });
    expect(end).toMatchObject({ state: 'failed', attempts: 1 });
    expect(end.error).toMatch(/disparue/);
    expect(end.result).toBeUndefined();
    const hook = await waitFor('the webhook', async () => hooks.find((h) => h.id === id));
    expect(hook).toMatchObject({ id, state: 'failed', error: end.error });
    expect(hook.link).toBeUndefined();
    await stopWorker(w);
  });

  it('a worker killed with SIGKILL in the middle of a job does not lose it: another worker finishes it', async () => {
    const { id } = await submit({ layer: 'communes', format: 'fgb', crs: 'EPSG:2154' });
    const lock = await lockTable('data.communes');
    const a = startWorker();
    await waitFor('worker A to claim the job', async () => ((await jobRow(id)).worker?.includes(`:${a.proc.pid}:`) ? true : undefined));
    expect(await jobRow(id)).toMatchObject({ state: 'running', attempts: 1 });
    const killed = new Promise((r) => a.proc.once('exit', r));
    a.proc.kill('SIGKILL');
    await killed;
    const b = startWorker();
    await waitFor('worker B to take the job over', async () => ((await jobRow(id)).worker?.includes(`:${b.proc.pid}:`) ? true : undefined));
    expect(await jobRow(id)).toMatchObject({ state: 'running', attempts: 2 });
    await lock.release();
    const done = await waitFor('the job to finish', async () => {
      const s = await status(id);
      return s.state !== 'running' ? s : undefined;
    });
    expect(done.state, JSON.stringify(done)).toBe('done');
    expect(done.attempts).toBe(2);
    const dl = await downloadTo(done.result!.href);
    expect(dl.status).toBe(200);
    expect(featureCount(ogrinfo(dl.path))).toBe(communes);
    await stopWorker(b);
  });

  it('a job whose database session is terminated mid-run (issue 13 §1) goes back to the queue, attempt counted, and is finished; the worker lives on', async () => {
    const { id } = await submit({ layer: 'communes', format: 'gpkg', crs: 'EPSG:2154' });
    const lock = await lockTable('data.communes');
    const app = `sdi-jobw-${process.pid}`;
    const w = startWorker({ SDI_DB_APPLICATION_NAME: app });
    await waitFor('the worker to claim the job', async () => ((await jobRow(id)).worker?.includes(`:${w.proc.pid}:`) ? true : undefined));
    // Its extraction waits on the lock; every session of the worker process is terminated (57P01).
    await waitFor('the extraction to wait on the lock', async () =>
      Number((await db().query("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE $1 AND wait_event_type = 'Lock'", [`${app}%`])).rows[0].n) > 0 ? true : undefined,
    );
    await db().query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1', [`${app}%`]);
    // Back in the queue with the attempt counted, claimed again by the same worker (attempt 2), waiting again.
    await waitFor('the job to be claimed a second time', async () => {
      const r = await jobRow(id);
      return r.state === 'running' && r.attempts === 2 ? true : undefined;
    });
    expect(w.log()).toContain('job put back in the queue (database unavailable)');
    await lock.release();
    const done = await waitFor('the job to finish', async () => {
      const s = await status(id);
      return s.state !== 'running' && s.state !== 'queued' ? s : undefined;
    });
    expect(done.state, JSON.stringify(done) + w.log().slice(-2000)).toBe('done');
    expect(done.attempts).toBe(2);
    expect(w.proc.exitCode).toBe(null);
    const dl = await downloadTo(done.result!.href);
    expect(featureCount(ogrinfo(dl.path))).toBe(communes);
    await stopWorker(w);
  });

  it('a server with in-process workers runs jobs; stopped (SIGTERM) mid-job, it puts the job back in the queue', async () => {
    const { id } = await submit({ layer: 'communes', format: 'kml', crs: 'EPSG:4326' });
    const lock = await lockTable('data.communes');
    const start = async () => {
      const port = await freePort();
      let out = '';
      // BASE_URL: a server rewrites the layer records with its public URL at start; these must stay the suite
      // server's (other tests follow the records' links).
      const proc = spawn(process.execPath, [join(ROOT, 'dist/app/server.js')], {
        env: { ...process.env, DATABASE_URL: inject('databaseUrl'), PORT: String(port), HOST: '127.0.0.1', SDI_SERVICES: 'download', SDI_DEMO: '0', SDI_HARVEST: '0', SDI_DOWNLOAD_WORKERS: '1', SDI_DOWNLOAD_DIR: inject('downloadDir'), LOG_LEVEL: 'info', BASE_URL: inject('baseUrl'), SDI_OUTBOUND_ALLOW: '127.0.0.3/32' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      proc.stdout!.on('data', (d) => (out += d));
      proc.stderr!.on('data', (d) => (out += d));
      workers.push({ proc, log: () => out });
      return { proc, url: `http://127.0.0.1:${port}` };
    };
    const one = await start();
    await waitFor('the server to claim the job', async () => ((await jobRow(id)).worker?.includes(`:${one.proc.pid}:`) ? true : undefined));
    const exited = new Promise((r) => one.proc.once('exit', r));
    one.proc.kill('SIGTERM');
    // Its build waits on the lock and cannot see the abort: after the grace period the job is requeued.
    await waitFor('the job to be requeued', async () => ((await jobRow(id)).state === 'queued' ? true : undefined));
    expect(await jobRow(id)).toMatchObject({ state: 'queued', attempts: 0, worker: null });
    await lock.release();
    await exited;
    const two = await start();
    const done = await waitFor('the job to finish', async () => {
      const r = await fetch(`${two.url}/download/jobs/${id}`).catch(() => undefined);
      const s = r?.ok ? ((await r.json()) as Status) : undefined;
      return s && s.state !== 'queued' && s.state !== 'running' ? s : undefined;
    });
    expect(done.state).toBe('done');
    // BASE_URL is the suite server's: links name it, and it serves the same store and result directory.
    expect(done.result!.href.startsWith(`${baseUrl()}/download/files/${id}?`)).toBe(true);
    const dl = await downloadTo(done.result!.href);
    expect(featureCount(ogrinfo(dl.path))).toBe(communes);
    await stopWorker(two);
  });

  it('the janitor expires results: files deleted, link answers 410', async () => {
    const dir = join(inject('downloadDir'), 'results', doneId);
    expect(existsSync(dir)).toBe(true);
    await db().query("UPDATE sdi.jobs SET expires_at = now() - interval '1 second' WHERE id = $1", [doneId]);
    // The link itself is still within its signed time: the job's expiry decides.
    expect((await fetch(doneHref)).status).toBe(410);
    const out = execFileSync(process.execPath, [join(ROOT, 'dist/app/cli.js'), 'download-janitor'], {
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: inject('databaseUrl'), SDI_DOWNLOAD_DIR: inject('downloadDir'), LOG_LEVEL: 'warn', SDI_OUTBOUND_ALLOW: '127.0.0.3/32' },
    });
    expect(JSON.parse(out.trim().split('\n').pop()!).expired).toContain(doneId);
    expect(existsSync(dir)).toBe(false);
    expect((await status(doneId)).state).toBe('expired');
    const r = await fetch(doneHref);
    expect(r.status).toBe(410);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
  });

  const janitor = (dir: string) =>
    execFileSync(process.execPath, [join(ROOT, 'dist/app/cli.js'), 'download-janitor'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DATABASE_URL: inject('databaseUrl'), SDI_DOWNLOAD_DIR: dir, LOG_LEVEL: 'warn', SDI_OUTBOUND_ALLOW: '127.0.0.3/32' },
    });

  it('issue 12: the janitor never deletes a result directory of a job this database does not know', async () => {
    const foreign = join(inject('downloadDir'), 'results', randomUUID());
    mkdirSync(join(foreign, '1'), { recursive: true });
    writeFileSync(join(foreign, '1', 'extract.gpkg'), 'another deployment\'s result');
    utimesSync(foreign, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    const report = JSON.parse(janitor(inject('downloadDir')).trim().split('\n').pop()!);
    expect(report.foreign).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(foreign, '1', 'extract.gpkg'))).toBe(true);
  });

  it('issue 12: a download directory stamped by another database is refused, by the janitor and by a server, with the setting to change', async () => {
    // The suite's directory was stamped at the server's start with this database's identity.
    expect(readFileSync(join(inject('downloadDir'), '.sdi-database'), 'utf8')).toMatch(/^\S+\/\S+\n$/);
    const other = mkdtempSync(join(tmpdir(), 'sdi-other-deployment-'));
    writeFileSync(join(other, '.sdi-database'), '1234567890/another_database\n');
    mkdirSync(join(other, 'results', randomUUID()), { recursive: true });
    let err: unknown;
    try {
      janitor(other);
    } catch (e) {
      err = e;
    }
    expect(String((err as { stderr?: string }).stderr)).toMatch(/belongs to another database \(1234567890\/another_database.*SDI_DOWNLOAD_DIR/);
    const port = await freePort();
    const server = spawn(process.execPath, [join(ROOT, 'dist/app/server.js')], {
      env: { ...process.env, DATABASE_URL: inject('databaseUrl'), SDI_DOWNLOAD_DIR: other, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', SDI_DOWNLOAD_WORKERS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    server.stdout!.on('data', (d) => (out += d));
    server.stderr!.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => server.once('exit', (c) => resolve(c)));
    expect(code).not.toBe(0);
    expect(out).toMatch(/belongs to another database/);
    expect(readdirSync(join(other, 'results'))).toHaveLength(1);
  });
});
