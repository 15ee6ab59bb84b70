/**
 * Issue 13 point 7: quotas on deferred download jobs and who may cancel one.
 *
 * A download server of the test's own (the suite's shared server keeps its default quotas), on the test
 * database, with small quotas: 2 unfinished jobs per client, and a total of what the database already holds
 * + 8. Its trusted proxy is 127.0.0.1; requests from 127.0.0.2 and up are untrusted peers (node:http with a
 * local address). No job workers: every accepted job stays queued, so the counts are exact. Each refused
 * request is checked to leave sdi.jobs and the download directory as they were.
 *
 * The exact requests:
 *   POST /download/jobs  {"layer":"communes","format":"geojson"}   (from 127.0.0.2, ×3)   → 202, 202, 429
 *     3rd: application/problem+json, type …/too-many-jobs-per-client, Retry-After: 60, no row
 *   same from 127.0.0.2 with X-Forwarded-For: 198.51.100.7                                → 429 (untrusted peer)
 *   from 127.0.0.1 (trusted) with X-Forwarded-For: 198.51.100.7 (×3)                      → 202, 202, 429
 *   from 127.0.0.1 with X-Forwarded-For: 198.51.100.7, 198.51.100.7  (spoofed left hop)   → 429
 *   from 127.0.0.1 with X-Forwarded-For: 198.51.100.7, 203.0.113.9   (a new client)       → 202
 *   with Authorization: Bearer <admin> from 127.0.0.4 and .5 (×3)                         → 202, 202, 429
 *   with Authorization: Bearer wrong                                                        → 401
 *   from 127.0.0.6 then 127.0.0.7 (total reached)                                          → 202, 429 too-many-jobs-total
 *   DELETE /download/jobs/<id of 127.0.0.2's job>: no token / wrong token / another job's token → 403, job unchanged
 *   DELETE /download/jobs/<a job of 198.51.100.7> with its X-Job-Token (from anywhere)     → 200 cancelled
 *   DELETE /download/jobs/<id of 127.0.0.2's job> with the admin's Bearer token            → 200 cancelled
 *   then 127.0.0.2 may queue one job again (its quota and the total have room)             → 202, then 429
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { freePort } from '../free-port.js';
import { db, ROOT } from '../helpers.js';

const TOKEN = 'jobs-quota-admin-token-91c2';
const PER_CLIENT = 2;
let proc: ChildProcess;
let base = '';
let log = '';
let total = 0;
const downloadDir = mkdtempSync(join(tmpdir(), 'sdi-jobs-quota-'));
const mine: string[] = [];
const tokens = new Map<string, string>();

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A request from a given local address (127.0.0.1 is the trusted proxy; others are untrusted peers). */
function send(method: 'POST' | 'DELETE' | 'GET', path: string, from: string, headers: Record<string, string> = {}, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, localAddress: from, agent: false, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

const JOB = { layer: 'communes', format: 'geojson' };
const submit = async (from: string, headers: Record<string, string> = {}) => {
  const r = await send('POST', '/download/jobs', from, headers, JOB);
  if (r.status === 202) {
    mine.push(String(r.body.id));
    tokens.set(String(r.body.id), String(r.body.cancelToken));
  }
  return r;
};

/** sdi.jobs as a whole, and the download directory's files: a refused request changes neither. */
async function store(): Promise<{ jobs: string; files: string[] }> {
  const { rows } = await db().query(`SELECT count(*)::int AS n, coalesce(md5(string_agg(j::text, '|' ORDER BY j.id)), '') AS h FROM sdi.jobs j`);
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      files.push(relative(downloadDir, p));
    }
  };
  walk(downloadDir);
  return { jobs: `${rows[0].n}:${rows[0].h}`, files: files.sort() };
}

async function expectRefused(r: Answer, status: number, type: string): Promise<void> {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.headers['content-type']).toContain('application/problem+json');
  expect(r.body).toMatchObject({ status, type: `https://sdi.example.org/problems/download/${type}` });
  expect(JSON.stringify(r.body)).not.toMatch(/ at |\.ts:|SELECT|sdi\.jobs/);
}

beforeAll(async () => {
  // The jobs already unfinished in the database (other test files) count towards the total.
  const active = Number((await db().query(`SELECT count(*) AS n FROM sdi.jobs WHERE state IN ('queued', 'running') AND kind = 'download'`)).rows[0].n);
  total = active + 8;
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  proc = spawn(process.execPath, [join(ROOT, 'dist/app/server.js')], {
    env: {
      ...process.env,
      DATABASE_URL: inject('databaseUrl'),
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SDI_SERVICES: 'download',
      SDI_DEMO: '0',
      SDI_HARVEST: '0',
      SDI_DOWNLOAD_WORKERS: '0',
      SDI_DOWNLOAD_DIR: downloadDir,
      SDI_DOWNLOAD_DIRECT_MAX_FEATURES: '400',
      SDI_DOWNLOAD_MAX_FEATURES: '3000',
      SDI_DOWNLOAD_JOBS_PER_CLIENT: String(PER_CLIENT),
      SDI_DOWNLOAD_JOBS_TOTAL: String(total),
      SDI_TRUSTED_PROXIES: '127.0.0.1/32',
      SDI_ADMIN_TOKEN: TOKEN,
      // The layer records keep the suite server's links.
      BASE_URL: inject('baseUrl'),
    },
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

afterAll(async () => {
  // No job of this file may stay queued for the workers of the next ones.
  if (mine.length) await db().query(`UPDATE sdi.jobs SET state = 'cancelled', finished_at = now() WHERE id = ANY($1::uuid[]) AND state IN ('queued', 'running')`, [mine]);
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }
  rmSync(downloadDir, { recursive: true, force: true });
});

describe('job quotas (issue 13 point 7)', () => {
  const jobsOf = async (ip: string) => (await db().query(`SELECT id FROM sdi.jobs WHERE client_ip = $1 AND principal IS NULL AND state = 'queued' AND id = ANY($2::uuid[])`, [ip, mine])).rows.length;

  it('an anonymous client gets PER_CLIENT unfinished jobs, then 429 problem+json with Retry-After, nothing queued', async () => {
    for (let i = 0; i < PER_CLIENT; i++) {
      const ok = await submit('127.0.0.2');
      expect(ok.status, JSON.stringify(ok.body)).toBe(202);
      expect(ok.body.cancelToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    expect(await jobsOf('127.0.0.2')).toBe(PER_CLIENT);
    const before = await store();
    const over = await submit('127.0.0.2');
    await expectRefused(over, 429, 'too-many-jobs-per-client');
    expect(over.headers['retry-after']).toBe('60');
    expect(over.body.limit).toBe(PER_CLIENT);
    expect(await store()).toEqual(before);
  });

  it('an untrusted peer cannot dodge it with X-Forwarded-For or Forwarded', async () => {
    const before = await store();
    for (const h of [{ 'x-forwarded-for': '198.51.100.7' }, { forwarded: 'for=198.51.100.8' }, { 'x-forwarded-for': '203.0.113.1, 127.0.0.1' }]) {
      await expectRefused(await submit('127.0.0.2', h), 429, 'too-many-jobs-per-client');
    }
    expect(await store()).toEqual(before);
  });

  it('behind the trusted proxy the forwarded client counts, read from the right: a spoofed left hop does not help', async () => {
    const xff = { 'x-forwarded-for': '198.51.100.7' };
    expect((await submit('127.0.0.1', xff)).status).toBe(202);
    expect((await submit('127.0.0.1', { forwarded: 'for="198.51.100.7:4711"' })).status).toBe(202);
    expect(await jobsOf('198.51.100.7')).toBe(2);
    const before = await store();
    await expectRefused(await submit('127.0.0.1', xff), 429, 'too-many-jobs-per-client');
    await expectRefused(await submit('127.0.0.1', { 'x-forwarded-for': '192.0.2.99, 198.51.100.7' }), 429, 'too-many-jobs-per-client');
    expect(await store()).toEqual(before);
    // Another client behind the same proxy has its own quota.
    expect((await submit('127.0.0.1', { 'x-forwarded-for': '198.51.100.7, 203.0.113.9' })).status).toBe(202);
    expect(await jobsOf('203.0.113.9')).toBe(1);
  });

  it("an authenticated caller's quota follows its principal, whatever its address; a wrong credential is 401", async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await submit('127.0.0.4', auth)).status).toBe(202);
    expect((await submit('127.0.0.5', auth)).status).toBe(202);
    const before = await store();
    await expectRefused(await submit('127.0.0.6', auth), 429, 'too-many-jobs-per-client');
    const wrong = await submit('127.0.0.6', { authorization: 'Bearer wrong' });
    await expectRefused(wrong, 401, 'invalid-credentials');
    expect(wrong.headers['www-authenticate']).toMatch(/Bearer/);
    expect(await store()).toEqual(before);
    const rows = (await db().query(`SELECT principal, client_ip FROM sdi.jobs WHERE principal IS NOT NULL AND id = ANY($1::uuid[]) ORDER BY created_at`, [mine])).rows;
    expect(rows).toEqual([{ principal: 'admin', client_ip: '127.0.0.4' }, { principal: 'admin', client_ip: '127.0.0.5' }]);
  });

  it('the total cap refuses every client once reached (429 too-many-jobs-total)', async () => {
    const active = Number((await db().query(`SELECT count(*) AS n FROM sdi.jobs WHERE state IN ('queued', 'running') AND kind = 'download'`)).rows[0].n);
    expect(active).toBe(total - 1);
    expect((await submit('127.0.0.6')).status).toBe(202);
    const before = await store();
    const full = await submit('127.0.0.7');
    await expectRefused(full, 429, 'too-many-jobs-total');
    expect(full.headers['retry-after']).toBe('60');
    expect(full.body.limit).toBe(total);
    expect(await store()).toEqual(before);
  });
});

describe('cancelling a job (issue 13 point 7)', () => {
  it('needs its token or its owner: no token, a wrong one, another job’s → 403, job unchanged; its own → cancelled', async () => {
    const ids = (await db().query(`SELECT id FROM sdi.jobs WHERE client_ip = '127.0.0.2' AND state = 'queued' AND id = ANY($1::uuid[]) ORDER BY created_at`, [mine])).rows.map((r) => r.id as string);
    expect(ids).toHaveLength(2);
    const [a, b] = ids as [string, string];
    // A job's token is given once: GET does not show it, and the database holds its SHA-256 only.
    const status = await send('GET', `/download/jobs/${a}`, '127.0.0.2');
    expect(status.body.cancelToken).toBeUndefined();
    const row = async (id: string) => (await db().query('SELECT state, cancel_requested, updated_at, message FROM sdi.jobs WHERE id = $1', [id])).rows[0];
    const was = await row(a);
    // A real token of another job (one of 198.51.100.7's).
    const other = (await db().query(`SELECT id, cancel_token_hash FROM sdi.jobs WHERE client_ip = '198.51.100.7' AND state = 'queued' AND id = ANY($1::uuid[]) LIMIT 1`, [mine])).rows[0];
    const otherToken = tokens.get(other.id)!;
    expect(other.cancel_token_hash).toBe(createHash('sha256').update(otherToken).digest('hex'));
    expect(JSON.stringify(await row(other.id))).not.toContain(otherToken);
    const before = await store();
    for (const [from, headers] of [
      ['127.0.0.2', {}],
      ['127.0.0.3', {}],
      ['127.0.0.2', { 'x-job-token': 'x'.repeat(43) }],
      ['127.0.0.2', { 'x-job-token': otherToken }],
      ['127.0.0.2', { 'x-job-token': '' }],
    ] as Array<[string, Record<string, string>]>) {
      const r = await send('DELETE', `/download/jobs/${a}`, from, headers);
      await expectRefused(r, 403, 'cancel-forbidden');
    }
    await expectRefused(await send('DELETE', `/download/jobs/${a}`, '127.0.0.2', { authorization: 'Bearer wrong' }), 401, 'invalid-credentials');
    expect(await row(a)).toEqual(was);
    expect(await store()).toEqual(before);
    // Its own token cancels it; the other job's owner cancels that one with its token.
    const own = await send('DELETE', `/download/jobs/${other.id}`, '127.0.0.8', { 'x-job-token': otherToken });
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ state: 'cancelled' });
    // The admin (the operator) cancels any job, here the anonymous client's a.
    const admin = await send('DELETE', `/download/jobs/${a}`, '127.0.0.9', { authorization: `Bearer ${TOKEN}` });
    expect(admin.status).toBe(200);
    expect(admin.body).toMatchObject({ state: 'cancelled' });
    // Both freed their places: 127.0.0.2 has one unfinished job left (b), it may queue one more, no more.
    expect((await db().query('SELECT state FROM sdi.jobs WHERE id = $1', [b])).rows[0].state).toBe('queued');
    const again = await submit('127.0.0.2');
    expect(again.status, JSON.stringify(again.body)).toBe(202);
    await expectRefused(await submit('127.0.0.2'), 429, 'too-many-jobs-per-client');
  });
});
