/**
 * HTTP hardening (issue 13, points 11 and 12, and leftovers): the framework's and Node's own errors in each
 * service's format, security headers, CORS, request ids, Cache-Control, timeouts against slow clients, a
 * connection cap, and strict parameters (repeated KVP keys in WFS and CSW, OGC API items/{featureId}).
 *
 * Most cases use the suite's server; timeouts, the connection cap and a CORS origin list use a server this
 * file starts with small limits.
 */
import { describe, it, expect, beforeAll, afterAll, inject } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../free-port.js';
import { ROOT, baseUrl, get, xmllint } from '../helpers.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request over node:http; the answer is kept even if the server stops reading the body early (413). */
function raw(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    req.end(opts.body);
  });
}

/** Bytes written on a bare socket; resolves with what came back when the server closes. */
function onSocket(port: number, data: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => resolve(got));
    s.write(data);
  });
}

/**
 * A POST of a big body on a bare socket, written chunk by chunk until the server answers: the server may
 * answer 413 on the declared Content-Length and close, and a client that kept writing would see EPIPE
 * instead of the answer.
 */
function postBig(url: string, contentType: string, body: Buffer): Promise<Answer> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = connect(Number(u.port), u.hostname);
    let got = '';
    let off = 0;
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      const head = got.slice(0, got.indexOf('\r\n\r\n'));
      const headers: Record<string, string> = {};
      for (const l of head.split('\r\n').slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      resolve({ status: statusOf(got), headers, body: Buffer.from(bodyOf(got), 'latin1').toString('utf8') });
    });
    const more = () => {
      while (!got && !s.destroyed && off < body.length) {
        const chunk = body.subarray(off, off + 65536);
        off += chunk.length;
        if (!s.write(chunk)) return void s.once('drain', more);
      }
    };
    s.write(`POST ${u.pathname}${u.search} HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`, () => setTimeout(more, 50));
  });
}

const statusOf = (rawAnswer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(rawAnswer)?.[1] ?? 0);
const bodyOf = (rawAnswer: string) => rawAnswer.slice(rawAnswer.indexOf('\r\n\r\n') + 4);
const headerOf = (rawAnswer: string, name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(rawAnswer.slice(0, rawAnswer.indexOf('\r\n\r\n')))?.[1]?.trim();

/** WFS 2.0: OWS 1.1 ExceptionReport version 2.0.0, valid against its schema (OGC 06-121r3 §8, 09-025r2 §7.6). */
function expectWfsReport(a: { status: number; body: string; type: string }, status: number, code: string, locator?: string) {
  expect(a.status).toBe(status);
  expect(a.type).toMatch(/^text\/xml/);
  expect(a.body).toContain('xmlns:ows="http://www.opengis.net/ows/1.1"');
  expect(a.body).toContain('version="2.0.0"');
  expect(a.body).toContain(`exceptionCode="${code}"`);
  if (locator) expect(a.body).toContain(`locator="${locator}"`);
  const v = xmllint(a.body, 'ows/1.1.0/owsExceptionReport.xsd');
  expect(v.ok, v.output).toBe(true);
  expect(a.body).not.toMatch(/FST_ERR|statusCode|at .*\.js/);
}

/** CSW 2.0.2: OWS 1.0 ExceptionReport version 1.2.0, valid against its schema. */
function expectCswReport(a: { status: number; body: string; type: string }, status: number, code: string, locator?: string) {
  expect(a.status).toBe(status);
  expect(a.type).toMatch(/^application\/xml/);
  expect(a.body).toContain('xmlns:ows="http://www.opengis.net/ows"');
  expect(a.body).toContain('version="1.2.0"');
  expect(a.body).toContain(`exceptionCode="${code}"`);
  if (locator) expect(a.body).toContain(`locator="${locator}"`);
  const v = xmllint(a.body, 'ows/1.0.0/owsExceptionReport.xsd');
  expect(v.ok, v.output).toBe(true);
  expect(a.body).not.toMatch(/FST_ERR|statusCode/);
}

/** RFC 9457 problem details: type, title, status, detail; none of Fastify's own members. */
function expectProblem(a: { status: number; body: string; type: string }, status: number): Record<string, unknown> {
  expect(a.status).toBe(status);
  expect(a.type).toMatch(/^application\/problem\+json/);
  const p = JSON.parse(a.body) as Record<string, unknown>;
  expect(p.status).toBe(status);
  expect(typeof p.type).toBe('string');
  expect(typeof p.title).toBe('string');
  expect(typeof p.detail).toBe('string');
  expect(p).not.toHaveProperty('statusCode');
  expect(p).not.toHaveProperty('code');
  expect(a.body).not.toMatch(/FST_ERR|at .*\.js/);
  return p;
}

const typeOf = (a: Answer) => String(a.headers['content-type'] ?? '');
const asGet = (a: Answer) => ({ status: a.status, body: a.body, type: typeOf(a) });
const BIG = Buffer.alloc(11 * 1024 * 1024, 0x61);
const LONG = 'a'.repeat(40_000);

describe('framework errors in each service format (issue 13 point 11; OGC 06-121r3 / 09-025r2 §7.6 exception reports)', () => {
  it('oversized body (413): WFS ExceptionReport, CSW ExceptionReport, download problem+json', async () => {
    expectWfsReport(asGet(await postBig(`${baseUrl()}/wfs`, 'text/xml', BIG)), 413, 'NoApplicableCode');
    expectCswReport(asGet(await postBig(`${baseUrl()}/csw`, 'application/xml', BIG)), 413, 'NoApplicableCode');
    const p = expectProblem(asGet(await postBig(`${baseUrl()}/download/jobs`, 'application/json', BIG)), 413);
    expect(p.type).toBe('https://sdi.example.org/problems/download/body-too-large');
  });

  it('invalid JSON (400): WFS OperationParsingFailed, download problem+json, no parser text echoed', async () => {
    const body = '{"layers": [<script>';
    const w = asGet(await raw(`${baseUrl()}/wfs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }));
    expectWfsReport(w, 400, 'OperationParsingFailed');
    expect(w.body).not.toContain('script');
    for (const path of ['/download/jobs', '/download/extract', '/download/estimate']) {
      const a = asGet(await raw(`${baseUrl()}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }));
      const p = expectProblem(a, 400);
      expect(p.type).toBe('https://sdi.example.org/problems/download/invalid-json');
      expect(a.body).not.toContain('script');
    }
    // __proto__ keys are refused by the JSON parser: the same 400.
    expectProblem(asGet(await raw(`${baseUrl()}/download/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"__proto__":{"x":1}}' })), 400);
  });

  it('unsupported media type (415): WFS ExceptionReport, download problem+json', async () => {
    expectWfsReport(asGet(await raw(`${baseUrl()}/wfs`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: 'x' })), 415, 'NoApplicableCode', 'Content-Type');
    expectProblem(asGet(await raw(`${baseUrl()}/download/jobs`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<a/>' })), 415);
  });

  it('unknown route (404) in the format of its prefix, path not reflected as markup', async () => {
    expectWfsReport(await get(`${baseUrl()}/wfs/nothing`), 404, 'NoApplicableCode');
    expectCswReport(await get(`${baseUrl()}/csw/nothing`), 404, 'NoApplicableCode');
    expectProblem(await get(`${baseUrl()}/ogcapi/nothing/here`), 404);
    expect(expectProblem(await get(`${baseUrl()}/download/nothing`), 404).type).toBe('https://sdi.example.org/problems/download/not-found');
    expectProblem(await get(`${baseUrl()}/dcat/nothing/else`), 404);
    const root = await get(`${baseUrl()}/%3Cscript%3E`);
    expectProblem(root, 404);
    expect(root.body).not.toContain('<script>');
    // WFS 1.0.0 clients get their own ServiceExceptionReport.
    const v10 = await get(`${baseUrl()}/wfs/nothing?VERSION=1.0.0`);
    expect(v10.status).toBe(404);
    expect(v10.body).toContain('<ServiceExceptionReport version="1.2.0"');
  });

  it('method not allowed (405) with Allow, before the body is read', async () => {
    const w = await raw(`${baseUrl()}/wfs`, { method: 'DELETE' });
    expectWfsReport(asGet(w), 405, 'OperationNotSupported');
    expect(String(w.headers.allow)).toMatch(/GET.*POST/);
    const c = await raw(`${baseUrl()}/csw`, { method: 'PUT', headers: { 'content-type': 'application/xml' }, body: '<x/>' });
    expectCswReport(asGet(c), 405, 'OperationNotSupported');
    // A big or broken body does not turn a 405 into a 413 or a 400.
    const o = await postBig(`${baseUrl()}/ogcapi/collections`, 'application/json', BIG);
    expectProblem(asGet(o), 405);
    expect(String(o.headers.allow)).toContain('GET');
    expectProblem(asGet(await raw(`${baseUrl()}/dcat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })), 405);
    expectProblem(asGet(await raw(`${baseUrl()}/download/jobs/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })), 405);
  });

  it('URL too long (414) and headers too large (431), written by the clientError handler in the format of the path', async () => {
    const port = Number(new URL(baseUrl()).port);
    const wfs = await onSocket(port, `GET /wfs?SERVICE=WFS&FILTER=${LONG} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expectWfsReport({ status: statusOf(wfs), body: bodyOf(wfs), type: headerOf(wfs, 'content-type') ?? '' }, 414, 'NoApplicableCode');
    const csw = await onSocket(port, `GET /csw?x=${LONG} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expectCswReport({ status: statusOf(csw), body: bodyOf(csw), type: headerOf(csw, 'content-type') ?? '' }, 414, 'NoApplicableCode');
    const oapi = await onSocket(port, `GET /ogcapi/collections?x=${LONG} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expectProblem({ status: statusOf(oapi), body: bodyOf(oapi), type: headerOf(oapi, 'content-type') ?? '' }, 414);
    const big = await onSocket(port, `GET /download/ HTTP/1.1\r\nHost: x\r\nX-Big: ${LONG}\r\n\r\n`);
    const p = expectProblem({ status: statusOf(big), body: bodyOf(big), type: headerOf(big, 'content-type') ?? '' }, 431);
    expect(p.type).toBe('https://sdi.example.org/problems/download/headers-too-large');
    expect(headerOf(big, 'x-content-type-options')).toBe('nosniff');
    // A path segment longer than the router allows (Fastify's own 414).
    expectProblem(await get(`${baseUrl()}/ogcapi/collections/${'c'.repeat(600)}`), 414);
    // A bad %-escape in the path: 400 in the service format.
    expectProblem(await get(`${baseUrl()}/ogcapi/collections/%zz`), 400);
  });
});

describe('security headers, CORS, request ids, Cache-Control (issue 13 point 12)', () => {
  it('security headers on XML, streamed GeoJSON and the Atom search HTML page; no X-Powered-By', async () => {
    for (const url of [
      `${baseUrl()}/wfs?SERVICE=WFS&REQUEST=GetCapabilities`,
      `${baseUrl()}/ogcapi/collections/communes/items?limit=2`,
      `${baseUrl()}/csw?SERVICE=CSW&REQUEST=GetCapabilities`,
      `${baseUrl()}/download/atom/search?q=communes&f=html`,
      `${baseUrl()}/wfs/nothing`,
    ]) {
      const r = await get(url);
      expect(r.headers.get('x-content-type-options'), url).toBe('nosniff');
      expect(r.headers.get('content-security-policy'), url).toContain("default-src 'none'");
      expect(r.headers.get('content-security-policy'), url).toContain("frame-ancestors 'none'");
      expect(r.headers.get('referrer-policy'), url).toBe('no-referrer');
      expect(r.headers.get('x-frame-options'), url).toBe('DENY');
      expect(r.headers.get('cross-origin-resource-policy'), url).toBe('cross-origin');
      expect(r.headers.has('x-powered-by'), url).toBe(false);
      expect(r.headers.has('strict-transport-security'), url).toBe(false);
    }
    const items = await get(`${baseUrl()}/ogcapi/collections/communes/items?limit=2`);
    expect(items.status).toBe(200);
    expect((JSON.parse(items.body) as { features: unknown[] }).features).toHaveLength(2);
  });

  it("CORS preflight (OPTIONS) answers 204 with the methods and headers; '*' without credentials; exposed headers", async () => {
    const pre = await raw(`${baseUrl()}/ogcapi/collections/communes/items`, { method: 'OPTIONS', headers: { origin: 'https://carto.example.org', 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-request-id' } });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    expect(String(pre.headers['access-control-allow-methods'])).toMatch(/GET.*POST.*DELETE/);
    expect(String(pre.headers['access-control-allow-headers'])).toMatch(/X-Request-Id/i);
    expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
    expect(Number(pre.headers['access-control-max-age'])).toBeGreaterThan(0);
    const wfsPre = await raw(`${baseUrl()}/wfs`, { method: 'OPTIONS', headers: { origin: 'https://carto.example.org', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(wfsPre.status).toBe(204);
    const r = await get(`${baseUrl()}/wfs?SERVICE=WFS&REQUEST=GetCapabilities`, { headers: { origin: 'https://carto.example.org' } });
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    const exposed = String(r.headers.get('access-control-expose-headers'));
    for (const h of ['Content-Disposition', 'Location', 'Retry-After', 'Link', 'Content-Crs', 'X-Request-Id']) expect(exposed).toContain(h);
  });

  it('X-Request-Id: a safe id is echoed, markup or an over-long id is replaced by a generated one', async () => {
    const ok = await get(`${baseUrl()}/healthz`, { headers: { 'x-request-id': 'qgis-42.a:b_c' } });
    expect(ok.headers.get('x-request-id')).toBe('qgis-42.a:b_c');
    for (const bad of ['<script>alert(1)</script>', 'a'.repeat(129), 'id with spaces', 'é']) {
      const r = await raw(`${baseUrl()}/healthz`, { headers: { 'x-request-id': bad } }).catch(() => undefined);
      if (!r) continue; // a header Node's client refuses to send
      const echoed = String(r.headers['x-request-id']);
      expect(echoed).not.toBe(bad);
      expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('Cache-Control: data answers no-cache, errors / writes / health / jobs no-store', async () => {
    expect((await get(`${baseUrl()}/wfs?SERVICE=WFS&REQUEST=GetCapabilities`)).headers.get('cache-control')).toBe('no-cache');
    expect((await get(`${baseUrl()}/ogcapi/collections/communes/items?limit=1`)).headers.get('cache-control')).toBe('no-cache');
    expect((await get(`${baseUrl()}/wfs?SERVICE=WFS&REQUEST=Nope`)).headers.get('cache-control')).toBe('no-store');
    expect((await get(`${baseUrl()}/ogcapi/nothing`)).headers.get('cache-control')).toBe('no-store');
    expect((await get(`${baseUrl()}/healthz`)).headers.get('cache-control')).toBe('no-store');
    expect((await get(`${baseUrl()}/download/jobs/00000000-0000-0000-0000-000000000000`)).headers.get('cache-control')).toBe('no-store');
    const post = await get(`${baseUrl()}/csw`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'SERVICE=CSW&REQUEST=GetCapabilities' });
    expect(post.status).toBe(200);
    expect(post.headers.get('cache-control')).toBe('no-store');
  });
});

describe('strict parameters (issue 13 leftovers)', () => {
  it('WFS KVP: a key repeated with different values, in any case, is InvalidParameterValue with the key as locator (OGC 06-121r3 §11.5)', async () => {
    expectWfsReport(await get(`${baseUrl()}/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&TYPENAMES=sdi:epci`), 400, 'InvalidParameterValue', 'TYPENAMES');
    expectWfsReport(await get(`${baseUrl()}/wfs?SERVICE=WFS&REQUEST=GetFeature&REQUEST=GetCapabilities&TYPENAMES=sdi:communes`), 400, 'InvalidParameterValue', 'REQUEST');
    expectWfsReport(await get(`${baseUrl()}/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&typenames=sdi:communes&TYPENAMES=sdi:epci&COUNT=1`), 400, 'InvalidParameterValue', 'TYPENAMES');
    // Two spellings of one parameter with different values are as ambiguous.
    expectWfsReport(await get(`${baseUrl()}/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&TYPENAME=sdi:epci&COUNT=1`), 400, 'InvalidParameterValue', 'TYPENAME');
    // Form-encoded POST goes through the same reader.
    const form = await get(`${baseUrl()}/wfs`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=sdi:communes&COUNT=1&count=2' });
    expectWfsReport(form, 400, 'InvalidParameterValue', 'COUNT');
    // The same value twice is not ambiguous (clients append to URLs that already hold it).
    const same = await get(`${baseUrl()}/wfs?SERVICE=WFS&service=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&TYPENAME=sdi:communes&COUNT=1&RESULTTYPE=hits`);
    expect(same.status).toBe(200);
  });

  it('CSW KVP: repeated keys refused with InvalidParameterValue (OWS 1.0 report)', async () => {
    expectCswReport(await get(`${baseUrl()}/csw?SERVICE=CSW&VERSION=2.0.2&REQUEST=GetRecords&REQUEST=GetCapabilities`), 400, 'InvalidParameterValue', 'REQUEST');
    expectCswReport(await get(`${baseUrl()}/csw?SERVICE=CSW&VERSION=2.0.2&REQUEST=GetRecords&typeNames=csw:Record&TYPENAMES=gmd:MD_Metadata&NAMESPACE=xmlns(csw=http://www.opengis.net/cat/csw/2.0.2),xmlns(gmd=http://www.isotc211.org/2005/gmd)`), 400, 'InvalidParameterValue', 'TYPENAMES');
    expectCswReport(await get(`${baseUrl()}/csw?SERVICE=CSW&VERSION=2.0.2&REQUEST=GetRecords&maxRecords=1&MAXRECORDS=5`), 400, 'InvalidParameterValue', 'MAXRECORDS');
    expect((await get(`${baseUrl()}/csw?SERVICE=CSW&service=CSW&REQUEST=GetCapabilities`)).status).toBe(200);
  });

  it('OGC API items/{featureId}: unknown, repeated and non-URI crs parameters are 400 problem+json (OGC API Features Part 1 /req/core/query-param-unknown)', async () => {
    const items = JSON.parse((await get(`${baseUrl()}/ogcapi/collections/communes/items?limit=1`)).body) as { features: { id: string | number }[] };
    const fid = encodeURIComponent(String(items.features[0]!.id));
    const one = `${baseUrl()}/ogcapi/collections/communes/items/${fid}`;
    expect((await get(one)).status).toBe(200);
    expect((await get(`${one}?crs=http://www.opengis.net/def/crs/EPSG/0/2154`)).status).toBe(200);
    expect(expectProblem(await get(`${one}?limit=5`), 400).locator).toBe('limit');
    expect(expectProblem(await get(`${one}?foo=1`), 400).detail).toContain('known: crs, f');
    expect(expectProblem(await get(`${one}?crs=http://www.opengis.net/def/crs/EPSG/0/2154&crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84`), 400).locator).toBe('crs');
    expect(expectProblem(await get(`${one}?crs=EPSG:2154`), 400).locator).toBe('crs');
    // The documents take f only.
    expect(expectProblem(await get(`${baseUrl()}/ogcapi/collections?foo=1`), 400).locator).toBe('foo');
    expect(expectProblem(await get(`${baseUrl()}/ogcapi/conformance?x=1`), 400).locator).toBe('x');
    expect((await get(`${baseUrl()}/ogcapi/collections?f=json`)).status).toBe(200);
  });

  it('download and jobs: repeated or unknown query keys are 400 problem+json naming the known ones', async () => {
    const rep = expectProblem(await get(`${baseUrl()}/download/estimate?layer=communes&LAYER=epci&format=gpkg`), 400);
    expect(rep.parameter).toBe('layer');
    const unk = expectProblem(await get(`${baseUrl()}/download/estimate?layer=communes&format=gpkg&colour=red`), 400);
    expect(String(unk.detail)).toContain('known:');
    expect(expectProblem(await get(`${baseUrl()}/download/jobs/00000000-0000-0000-0000-000000000000?verbose=1`), 400).parameter).toBe('verbose');
  });
});

describe('timeouts and connection cap on a server with small limits (issue 13 point 12)', () => {
  let proc: ChildProcess;
  let port = 0;
  let log = '';
  const downloadDir = mkdtempSync(join(tmpdir(), 'sdi-hardening-'));
  const HEADERS_TIMEOUT = 1000;
  const REQUEST_TIMEOUT = 3000;
  const MAX_CONNECTIONS = 20;

  beforeAll(async () => {
    port = await freePort();
    proc = spawn(process.execPath, [join(ROOT, 'dist/app/server.js')], {
      env: {
        ...process.env,
        DATABASE_URL: inject('databaseUrl'),
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        SDI_DEMO: '0',
        SDI_HARVEST: '0',
        SDI_DB_APPLICATION_NAME: 'sdi-hardening',
        SDI_DOWNLOAD_DIR: downloadDir,
        SDI_DOWNLOAD_WORKERS: '0',
        SDI_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT),
        SDI_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT),
        SDI_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
        SDI_CORS_ORIGINS: 'https://carto.example.fr,https://geo.example.fr',
        SDI_CORS_CREDENTIALS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.on('data', (d) => (log += d));
    proc.stderr!.on('data', (d) => (log += d));
    for (let i = 0; ; i++) {
      if (proc.exitCode !== null) throw new Error(`server exited: ${log}`);
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
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

  it('slowloris: clients sending their headers a byte at a time are closed within the headers timeout; connections above the cap are refused', async () => {
    const N = 30;
    const line = 'GET /wfs?SERVICE=WFS&REQUEST=GetCapabilities HTTP/1.1\r\nHost: x\r\nX-Slow: ';
    const results = await Promise.all(
      Array.from({ length: N }, () =>
        new Promise<{ ms: number; answer: string }>((resolve) => {
          const t0 = Date.now();
          const s: Socket = connect(port, '127.0.0.1');
          let answer = '';
          let i = 0;
          // One byte every 100 ms: the header block would never end.
          const tick = setInterval(() => {
            if (!s.destroyed && s.writable) s.write(i < line.length ? line[i++]! : 'a');
          }, 100);
          s.on('data', (d) => (answer += d.toString('latin1')));
          s.on('error', () => undefined);
          s.on('close', () => {
            clearInterval(tick);
            resolve({ ms: Date.now() - t0, answer });
          });
          // Safety net: a connection the server never closes fails the test below.
          setTimeout(() => s.destroy(), 15_000).unref();
        }),
      ),
    );
    const slowest = Math.max(...results.map((r) => r.ms));
    // Headers timeout + the server's checking interval (≤ headersTimeout/3) + slack.
    expect(slowest).toBeLessThan(HEADERS_TIMEOUT + 2500);
    const timedOut = results.filter((r) => r.answer);
    expect(timedOut.length).toBeGreaterThan(0);
    expect(timedOut.length).toBeLessThanOrEqual(MAX_CONNECTIONS);
    for (const r of timedOut) {
      expect(statusOf(r.answer)).toBe(408);
      expect(headerOf(r.answer, 'connection')).toBe('close');
    }
    // The server still answers.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });

  it('a body sent too slowly is cut at the request timeout with a 408 in the service format', async () => {
    const t0 = Date.now();
    const answer = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1');
      let got = '';
      s.write('POST /wfs HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 5000\r\n\r\n');
      const tick = setInterval(() => s.writable && s.write('<'), 200);
      s.on('data', (d) => (got += d.toString('latin1')));
      s.on('error', () => undefined);
      s.on('close', () => {
        clearInterval(tick);
        resolve(got);
      });
      setTimeout(() => s.destroy(), 15_000).unref();
    });
    const ms = Date.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT - 200);
    expect(ms).toBeLessThan(REQUEST_TIMEOUT + 3000);
    expect(statusOf(answer)).toBe(408);
    expect(bodyOf(answer)).toContain('<ows:ExceptionReport');
  });

  it('a streamed response that lasts longer than the request timeout is not cut (requestTimeout covers receiving only)', async () => {
    const r = await new Promise<{ status: number; complete: boolean; body: string; ms: number }>((resolve, reject) => {
      const t0 = Date.now();
      const req = request(`http://127.0.0.1:${port}/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes,sdi:epci,sdi:cantons`, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.once('data', (d) => {
          body += d;
          // Stop reading for longer than the request timeout (the server is then mid-body), then read the rest.
          res.pause();
          setTimeout(() => {
            res.on('data', (x) => (body += x));
            res.resume();
          }, REQUEST_TIMEOUT + 1000);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, complete: res.complete, body, ms: Date.now() - t0 }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    expect(r.status).toBe(200);
    expect(r.ms).toBeGreaterThan(REQUEST_TIMEOUT);
    expect(r.complete).toBe(true);
    // Some megabytes of GML: far more than the socket buffers hold while the client does not read.
    expect(r.body.length).toBeGreaterThan(2_000_000);
    expect(r.body.trimEnd().endsWith('</wfs:FeatureCollection>')).toBe(true);
  });

  it('CORS with a list of origins: a listed origin is echoed with credentials and Vary: Origin, another gets no CORS headers', async () => {
    const ok = await get(`http://127.0.0.1:${port}/ogcapi/collections`, { headers: { origin: 'https://carto.example.fr' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://carto.example.fr');
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(String(ok.headers.get('vary'))).toMatch(/Origin/);
    const other = await get(`http://127.0.0.1:${port}/ogcapi/collections`, { headers: { origin: 'https://evil.example.com' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await raw(`http://127.0.0.1:${port}/download/jobs`, { method: 'OPTIONS', headers: { origin: 'https://geo.example.fr', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://geo.example.fr');
  });
});
