/**
 * Issue 13, points 2 and 9: the outbound guard (src/net) and proxy headers.
 * - Address classes: loopback, link-local, private, unspecified, IPv4-mapped IPv6, decimal/hex URL forms refused.
 * - The guarded client: allowed destination reached, redirects re-checked (to a refused address, to another
 *   scheme), size limit, generic error texts.
 * - POST /download/jobs refuses webhooks to 127.0.0.1, 10.1.2.3, 169.254.169.254, http://2130706433/ (400
 *   problem+json naming notify.webhook, nothing stored). Delivery to an allowed receiver: test/download/jobs.test.ts.
 * - X-Forwarded-* / Forwarded from an untrusted peer (we connect from 127.0.0.2; the test server trusts
 *   127.0.0.1 only) are ignored: the Atom search redirect stays on our host, OGC API links are never javascript:.
 */
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import http, { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { baseUrl, db } from '../helpers.js';
import { canonicalAddress, isNonPublicAddress, NetworkList } from '../../src/net/address.js';
import { checkDestination, OutboundError, OutboundPolicy, outboundRequest } from '../../src/net/outbound.js';
import { publicBaseUrl } from '../../src/ogc/public-url.js';
import type { FastifyRequest } from 'fastify';

describe('address classifier', () => {
  it.each(['127.0.0.1', '127.1.2.3', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '0.0.0.0', '100.64.0.1', '::', '::1', 'fe80::1', 'fc00::1', 'fd12:3456::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a01:203', '[::1]', 'not-an-address'])(
    '%s is not public',
    (a) => expect(isNonPublicAddress(a)).toBe(true),
  );
  it.each(['8.8.8.8', '93.184.216.34', '172.32.0.1', '2001:4860:4860::8888', '::ffff:8.8.8.8'])('%s is public', (a) => expect(isNonPublicAddress(a)).toBe(false));
  it('canonicalises IPv4-mapped IPv6, and the URL parser decimal/hex/short IPv4 forms', () => {
    expect(canonicalAddress('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(canonicalAddress('0:0:0:0:0:ffff:127.0.0.1')).toBe('127.0.0.1');
    for (const u of ['http://2130706433/', 'http://0x7f000001/', 'http://0x7f.1/', 'http://0177.0.0.1/', 'http://127.1/']) expect(new URL(u).hostname).toBe('127.0.0.1');
  });
  it('matches configured networks', () => {
    const l = new NetworkList(['10.0.0.0/8', '::1/128', '127.0.0.3']);
    expect(l.has('10.200.1.1')).toBe(true);
    expect(l.has('::ffff:10.0.0.1')).toBe(true);
    expect(l.has('::1')).toBe(true);
    expect(l.has('127.0.0.3')).toBe(true);
    expect(l.has('127.0.0.1')).toBe(false);
    expect(l.has('11.0.0.1')).toBe(false);
    expect(new NetworkList([]).has('127.0.0.1')).toBe(false);
  });
});

describe('publicBaseUrl (unit)', () => {
  const req = (remote: string, headers: Record<string, string>) => ({ headers: { host: '127.0.0.1:8080', ...headers }, protocol: 'http', hostname: '127.0.0.1', socket: { remoteAddress: remote } }) as unknown as FastifyRequest;
  const proxied = { 'x-forwarded-host': 'geo.example.fr', 'x-forwarded-proto': 'https', 'x-forwarded-prefix': '/sdi' };
  it('believes proxy headers only from a trusted peer, BASE_URL wins, proto is http(s) only', () => {
    const cfg = { trustedProxies: ['10.0.0.0/8'] };
    expect(publicBaseUrl(req('10.0.0.5', proxied), cfg)).toBe('https://geo.example.fr/sdi');
    expect(publicBaseUrl(req('203.0.113.9', proxied), cfg)).toBe('http://127.0.0.1:8080');
    expect(publicBaseUrl(req('10.0.0.5', proxied), { ...cfg, baseUrl: 'https://sdi.example.org' })).toBe('https://sdi.example.org');
    expect(publicBaseUrl(req('10.0.0.5', { forwarded: 'proto=javascript;host=geo.example.fr' }), cfg)).toBe('http://geo.example.fr');
    expect(publicBaseUrl(req('10.0.0.5', { 'x-forwarded-host': 'evil.example/x?<' }), cfg)).toBe('http://127.0.0.1:8080');
    expect(publicBaseUrl(req('127.0.0.1', proxied), {})).toBe('http://127.0.0.1:8080');
  });
});

describe('guarded outbound client', () => {
  let target: Server;
  let port = 0;
  beforeAll(async () => {
    target = createServer((req, res) => {
      if (req.url === '/ok') res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
      else if (req.url === '/to-loopback') res.writeHead(302, { location: `http://127.0.0.1:${port}/ok` }).end();
      else if (req.url === '/to-decimal') res.writeHead(302, { location: `http://2130706433:${port}/ok` }).end();
      else if (req.url === '/to-file') res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      else if (req.url === '/hop') res.writeHead(301, { location: '/ok' }).end();
      else if (req.url === '/big') res.writeHead(200).end(Buffer.alloc(10_000));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.3', () => r()));
    port = (target.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => target.close(() => r())));
  const allowed = new OutboundPolicy(['127.0.0.3/32']);

  it('reaches an allowed destination and follows a redirect to it', async () => {
    const r = await outboundRequest(`http://127.0.0.3:${port}/hop`, {}, allowed);
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('hello');
  });
  it('refuses loopback by default, and after each redirect', async () => {
    const refused = async (url: string, policy: OutboundPolicy) => {
      const e = await outboundRequest(url, {}, policy).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OutboundError);
      return e as OutboundError;
    };
    const byDefault = await refused(`http://127.0.0.3:${port}/ok`, new OutboundPolicy());
    expect(byDefault.kind).toBe('refused');
    expect(byDefault.message).toBe('the destination is not allowed');
    expect((await refused(`http://127.0.0.3:${port}/to-loopback`, allowed)).kind).toBe('refused');
    expect((await refused(`http://127.0.0.3:${port}/to-decimal`, allowed)).kind).toBe('refused');
    expect((await refused(`http://127.0.0.3:${port}/to-file`, allowed)).kind).toBe('redirect');
  });
  it('caps the answer size and hides network details from the caller', async () => {
    const big = await outboundRequest(`http://127.0.0.3:${port}/big`, { maxBytes: 1000 }, allowed).catch((x: unknown) => x as OutboundError);
    expect((big as OutboundError).kind).toBe('too-large');
    // A closed port: the caller's text says nothing of ECONNREFUSED; the detail (for the log) does.
    const closed = await outboundRequest('http://127.0.0.3:1/', {}, allowed).catch((x: unknown) => x as OutboundError);
    expect((closed as OutboundError).message).toBe('the remote server could not be reached');
    expect((closed as OutboundError).detail).toMatch(/ECONNREFUSED/);
  });
  it('checkDestination refuses other schemes and the metadata address', async () => {
    await expect(checkDestination('ftp://example.org/', allowed)).rejects.toBeInstanceOf(OutboundError);
    await expect(checkDestination('http://169.254.169.254/latest/meta-data/', allowed)).rejects.toMatchObject({ kind: 'refused' });
    await expect(checkDestination('http://[::ffff:127.0.0.1]/', allowed)).rejects.toMatchObject({ kind: 'refused' });
    await expect(checkDestination('http://hooks.internal/', new OutboundPolicy(['hooks.internal']))).rejects.toMatchObject({ kind: 'unreachable' });
  });
});

describe('POST /download/jobs: notify.webhook only to allowed destinations (issue 13 point 2)', () => {
  const count = async () => Number((await db().query('SELECT count(*) AS n FROM sdi.jobs')).rows[0].n);
  it.each(['http://127.0.0.1:8080/admin/x', 'http://10.1.2.3/hook', 'http://169.254.169.254/latest/meta-data/', 'http://2130706433/', 'http://[::1]/', 'http://0x7f.1/'])('refuses %s with 400, nothing stored', async (webhook) => {
    const before = await count();
    const r = await fetch(`${baseUrl()}/download/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ layer: 'communes', format: 'gpkg', notify: { webhook } }) });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const p = (await r.json()) as Record<string, unknown>;
    expect(JSON.stringify(p)).toContain('notify.webhook');
    expect(JSON.stringify(p)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1 resolves/);
    expect(await count()).toBe(before);
  });
});

/** A GET from a given local address (127.0.0.2: a peer the test server does not trust). */
function getFrom(localAddress: string, url: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { localAddress, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

describe('proxy headers only from trusted proxies (issue 13 point 9)', () => {
  const evil = { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', forwarded: 'proto=javascript;host=evil.example' };
  it('Atom search (INSPIRE TG Download Services, Get Spatial Dataset): the redirect stays on our host', async () => {
    const r = await getFrom('127.0.0.2', `${baseUrl()}/download/atom/search?spatial_dataset_identifier_code=region&crs=EPSG:2154`, evil);
    expect(r.status).toBe(302);
    expect(r.headers.location!.startsWith(`${baseUrl()}/`)).toBe(true);
    expect(r.headers.vary).toMatch(/X-Forwarded-Host/);
  });
  it('OGC API links are never javascript: nor on a forwarded host from an untrusted peer', async () => {
    const r = await getFrom('127.0.0.2', `${baseUrl()}/ogcapi/collections`, { ...evil, accept: 'application/json' });
    expect(r.status).toBe(200);
    const hrefs = [...r.body.matchAll(/"href":"([^"]*)"/g)].map((m) => m[1]!);
    expect(hrefs.length).toBeGreaterThan(0);
    for (const h of hrefs) expect(h.startsWith(baseUrl())).toBe(true);
    expect(r.headers.vary).toMatch(/Forwarded/);
  });
  it('from the trusted proxy, Forwarded proto=javascript is still refused (http/https only)', async () => {
    const r = await getFrom('127.0.0.1', `${baseUrl()}/ogcapi/collections`, { forwarded: 'proto=javascript;host=geo.example.fr', accept: 'application/json' });
    expect(r.status).toBe(200);
    const hrefs = [...r.body.matchAll(/"href":"([^"]*)"/g)].map((m) => m[1]!);
    expect(hrefs.length).toBeGreaterThan(0);
    for (const h of hrefs) expect(h).toMatch(/^http:\/\/geo\.example\.fr\//);
  });
});
