/**
 * Issue 11, "Show it": bad input and attacks in every parameter, generated from the same route samples as the
 * rights walk (route-samples.ts, which every route Fastify knows must have). Each variant of a sample puts one
 * hostile value in one place — a query parameter, a path parameter, a string of a JSON body — or gives an XML body
 * a DOCTYPE with an external entity: the answer is never a server error, never holds the file the entity names,
 * never a stack or SQL text, and the store is unchanged afterwards. Then path traversal in download links
 * (signed result links, Atom files) and the request size limit on every route that takes a body.
 *
 * The walk runs on the public layer communes, so that parameters are read (a restricted one would be refused
 * before); the admin API's reads are walked as the administrator, its writes are left to its own bad-input tests
 * (rights.test.ts "admin API bad input") since a harmless hostile value there is a valid name that would be stored.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHmac } from 'node:crypto';
import { db, storeFingerprint } from '../helpers.js';
import { closePlatform, inProcessPlatform, type App, type Reply, type TestPlatform } from './in-process-platform.js';
import { samples, type Sample } from './route-samples.js';

const ADMIN_TOKEN = 'attack-walk-admin-token';
const LINK_SECRET = 'attack-walk-link-secret';
const PASSWD = '/etc/passwd';
const SQL = `1' OR '1'='1'; DROP TABLE data.communes; --`;
const XXE_DOCTYPE = `<!DOCTYPE r [<!ENTITY e SYSTEM "file://${PASSWD}">]>`;
const XXE = `${XXE_DOCTYPE}<r>&e;</r>`;
/** What must never come out: the entity's file, a stack trace, SQL or PostgreSQL's words. */
const PASSWD_TEXT = /root:[^:\n]*:0:0:/;
const LEAK = /\bSELECT\b|\bFROM sdi\.|syntax error at|\bST_[A-Z][A-Za-z]+\(|at [^\n]*\.[jt]s:\d+|node_modules|Maximum call stack/;

let app: App;
let platform: TestPlatform;
let before: Record<string, number>;

beforeAll(async () => {
  ({ app, platform } = await inProcessPlatform(ADMIN_TOKEN, { SDI_DOWNLOAD_SECRET: LINK_SECRET }));
  before = await storeFingerprint();
}, 120_000);

afterAll(async () => {
  await closePlatform({ app, platform });
});

interface Variant {
  where: string;
  method: string;
  url: string;
  payload?: string;
  type?: string;
}

/** Every string leaf of a JSON value replaced, one at a time, by `hostile`. */
function jsonVariants(value: unknown, hostile: string): Array<{ path: string; value: unknown }> {
  if (typeof value === 'string') return [{ path: '', value: hostile }];
  const out: Array<{ path: string; value: unknown }> = [];
  if (Array.isArray(value)) value.forEach((v, i) => jsonVariants(v, hostile).forEach((x) => out.push({ path: `[${i}]${x.path}`, value: value.map((w, j) => (j === i ? x.value : w)) })));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) jsonVariants(v, hostile).forEach((x) => out.push({ path: `.${k}${x.path}`, value: { ...value, [k]: x.value } }));
  return out;
}

/** The hostile variants of one sample of route `route` ("METHOD /pattern"). */
function variants(route: string, s: Sample): Variant[] {
  const [method, pattern] = route.split(' ') as [string, string];
  const [path, query = ''] = s.url.split('?') as [string, string?];
  const out: Variant[] = [];
  const base = { method, payload: s.payload, type: s.type };
  // Query parameters, one at a time, each hostile value.
  const pairs = query ? query.split('&').map((p) => p.split('=') as [string, string?]) : [];
  pairs.forEach(([k], i) => {
    for (const h of [SQL, XXE]) {
      const q = pairs.map(([k2, v2], j) => (j === i ? `${k2}=${encodeURIComponent(h)}` : v2 === undefined ? k2 : `${k2}=${v2}`)).join('&');
      out.push({ ...base, where: `${route} ?${k}=${h === SQL ? 'SQL' : 'XXE'}`, url: `${path}?${q}` });
    }
  });
  // Path parameters (the pattern's :name segments).
  const segs = path.split('/');
  pattern.split('/').forEach((p, i) => {
    if (!p.startsWith(':') || i >= segs.length) return;
    for (const h of [SQL, `..%2F..%2F..%2F..${encodeURIComponent(PASSWD)}`]) {
      const url = segs.map((x, j) => (j === i ? (h === SQL ? encodeURIComponent(h) : h) : x)).join('/') + (query ? `?${query}` : '');
      out.push({ ...base, where: `${route} ${p}=${h === SQL ? 'SQL' : 'traversal'}`, url });
    }
  });
  // Bodies: an external entity in XML; SQL in each string of JSON.
  if (s.payload && /xml/.test(s.type ?? '')) {
    const withDoctype = s.payload.replace(/^(<\?xml[^>]*\?>)?/, `$1${XXE_DOCTYPE}`);
    out.push({ ...base, where: `${route} body DOCTYPE`, url: s.url, payload: withDoctype });
    const closing = /(<\/[^>]+>)\s*$/.exec(withDoctype);
    if (closing) out.push({ ...base, where: `${route} body &e;`, url: s.url, payload: withDoctype.slice(0, closing.index) + '&e;' + closing[1] });
  } else if (s.payload && /json/.test(s.type ?? '')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(s.payload);
    } catch {
      parsed = undefined;
    }
    for (const v of jsonVariants(parsed, SQL)) out.push({ ...base, where: `${route} body${v.path}=SQL`, url: s.url, payload: JSON.stringify(v.value) });
  }
  return out;
}

function judge(v: Variant, r: Reply): string[] {
  const problems: string[] = [];
  const where = `${v.where} → ${r.statusCode}`;
  // 501 is the OWS answer to an operation or option the service does not implement (OGC 06-121r9 Table 28), not a fault.
  const notImplemented = r.statusCode === 501 && /OperationNotSupported|OptionNotSupported/.test(r.body);
  if (r.statusCode >= 500 && !notImplemented) problems.push(`${where}: server error ${r.body.slice(0, 160)}`);
  if (PASSWD_TEXT.test(r.body)) problems.push(`${where}: the entity's file came out`);
  if (r.statusCode >= 400 && LEAK.test(r.body)) problems.push(`${where}: SQL or stack text: ${r.body.slice(0, 200)}`);
  return problems;
}

describe('issue 11: SQL injection and XML entity tricks in every parameter of every route (generated from the route list)', () => {
  it('the samples still cover every route (the walk below is only as wide as they are)', () => {
    const known = samples('communes', '');
    const routes = app.routeList.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS').map((r) => `${r.method} ${r.url.replace(/(.)\/$/, '$1')}`);
    expect(routes.filter((r) => !known[r])).toEqual([]);
  });

  it('no variant gets a server error, the entity file, SQL or a stack; the store is unchanged', async () => {
    const problems: string[] = [];
    let sent = 0;
    for (const [route, list] of Object.entries(samples('communes', `Bearer ${ADMIN_TOKEN}`))) {
      const method = route.split(' ')[0]!;
      const isAdmin = list.some((s) => s.kind === 'admin');
      // Writes of the admin API and Part 4 edits: see the header.
      if (isAdmin && method !== 'GET') continue;
      if (list.some((s) => s.kind === 'edit')) continue;
      const authorization = isAdmin ? `Bearer ${ADMIN_TOKEN}` : undefined;
      for (const s of list)
        for (const v of variants(route, s)) {
          const r = await app.inject({ method: v.method, url: v.url, payload: v.payload, headers: { ...(authorization ? { authorization } : {}), ...(v.type ? { 'content-type': v.type } : {}) } });
          sent++;
          problems.push(...judge(v, r));
        }
    }
    expect(problems).toEqual([]);
    expect(sent).toBeGreaterThan(300);
    expect((await db().query(`SELECT to_regclass('data.communes') IS NOT NULL AS here`)).rows[0].here).toBe(true);
    expect(await storeFingerprint()).toEqual(before);
  }, 600_000);
});

describe('issue 11: path traversal in download links', () => {
  const sign = (id: string, expires: number) => createHmac('sha256', Buffer.from(LINK_SECRET, 'utf8')).update(`${id}.${expires}`).digest('base64url');
  const expires = Math.floor(Date.now() / 1000) + 3600;
  const from = '198.51.100.72';
  const at = (url: string) => app.inject({ method: 'GET', url, remoteAddress: from });

  it('a result link naming a path: 403 when unsigned, 404 when signed (ids are UUIDs looked up in the queue, files named by the job); refusals logged', async () => {
    await db().query(`DELETE FROM sdi.audit_log WHERE client = $1`, [from]);
    for (const id of ['..%2F..%2F..%2F..%2Fetc%2Fpasswd', '..%5C..%5Cetc%5Cpasswd', '%2Fetc%2Fpasswd']) {
      const unsigned = await at(`/download/files/${id}?expires=${expires}&signature=AAAA`);
      expect(unsigned.statusCode, id).toBe(403);
      expect(unsigned.headers['content-type']).toMatch(/problem\+json/);
      const signed = await at(`/download/files/${id}?expires=${expires}&signature=${sign(decodeURIComponent(id), expires)}`);
      expect(signed.statusCode, `${id} ${signed.body}`).toBe(404);
      for (const r of [unsigned, signed]) expect(r.body).not.toMatch(PASSWD_TEXT);
    }
    // Unencoded dots never reach a route that reads files.
    const raw = await at(`/download/files/../../../../etc/passwd?expires=${expires}&signature=${sign('../../../../etc/passwd', expires)}`);
    expect(raw.statusCode).toBeGreaterThanOrEqual(400);
    expect(raw.body).not.toMatch(PASSWD_TEXT);
    await platform.audit?.flush();
    const refusals = (await db().query(`SELECT event, path, status FROM sdi.audit_log WHERE client = $1 AND event = 'refusal' ORDER BY id`, [from])).rows;
    expect(refusals.filter((r) => r.status === 403 && r.path.startsWith('/download/files/'))).toHaveLength(3);
  });

  it('Atom feeds and pre-defined files naming a path: 404 unknown-dataset, nothing read', async () => {
    for (const url of [
      '/download/atom/..%2F..%2F..%2F..%2Fetc%2Fpasswd.xml',
      '/download/atom/files/..%2F..%2F..%2F..%2Fetc/passwd/4326',
      '/download/atom/files/communes/..%2F..%2F..%2F..%2Fetc%2Fpasswd/4326',
      '/download/atom/files/communes/geojson/..%2F..%2Fpasswd',
    ]) {
      const r = await at(url);
      expect(r.statusCode, url).toBe(404);
      expect(r.headers['content-type'], url).toMatch(/problem\+json/);
      expect(r.body).not.toMatch(PASSWD_TEXT);
    }
  });
});

describe('issue 11: request size limits on every route that takes a body', () => {
  it('a body over 10 MB is refused (413) on every POST/PUT/PATCH route before it is read, in the route\'s format; the tus upload routes have their own limit', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024 + 1, 0x20);
    const known = samples('communes', '');
    const problems: string[] = [];
    let tried = 0;
    for (const r of app.routeList) {
      if (!['POST', 'PUT', 'PATCH'].includes(r.method)) continue;
      const route = `${r.method} ${r.url.replace(/(.)\/$/, '$1')}`;
      // tus 1.0.0 (services/admin/uploads.ts): chunks up to SDI_IMPORT_MAX_BYTES, tested in test/publishing/uploads.test.ts.
      if (route === 'POST /admin/uploads' || route === 'PATCH /admin/uploads/:id') continue;
      const s = known[route]![0]!;
      const res = await app.inject({ method: r.method, url: s.url, payload: big, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': s.type ?? 'application/json' } });
      tried++;
      if (res.statusCode !== 413) problems.push(`${route}: ${res.statusCode} ${res.body.slice(0, 120)}`);
      else if (!/xml|json/.test(String(res.headers['content-type']))) problems.push(`${route}: 413 as ${String(res.headers['content-type'])}`);
    }
    expect(problems).toEqual([]);
    expect(tried).toBeGreaterThan(20);
  }, 300_000);
});
