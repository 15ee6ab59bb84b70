/**
 * The one guarded client for outbound HTTP (webhooks, harvests, remote documents): only http(s); the host
 * name is resolved here and every resolved address checked (loopback, link-local, private, unspecified,
 * IPv4-mapped forms refused unless the configuration allows them); the socket connects to the checked
 * address itself (no second resolution, so no DNS rebinding between check and connect); redirects are
 * followed by hand, each target checked again, never to another scheme; time and size limits.
 * Callers get generic error texts (OutboundError.message); the details (OutboundError.detail) are for the log.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { canonicalAddress, isNonPublicAddress, NetworkList } from './address.js';

export class OutboundError extends Error {
  constructor(
    message: string,
    /** What really happened, for the log only. */
    readonly detail: string,
    readonly kind: 'refused' | 'unreachable' | 'timeout' | 'too-large' | 'redirect' | 'bad-url',
  ) {
    super(message);
  }
}

export class OutboundPolicy {
  private readonly networks: NetworkList;
  private readonly hosts: Set<string>;
  /** allow: CIDRs or bare addresses ("127.0.0.1/32", "10.0.0.0/8") and host names ("hooks.internal"). */
  constructor(allow: readonly string[] = []) {
    const nets: string[] = [];
    this.hosts = new Set();
    for (const e of allow) {
      const v = e.trim().toLowerCase();
      if (!v) continue;
      if (isIP(canonicalAddress(v.split('/')[0]!))) nets.push(v);
      else this.hosts.add(v.replace(/\.$/, ''));
    }
    this.networks = new NetworkList(nets);
  }
  /** True when an address may be reached, for a request to host name `host`. */
  allows(address: string, host?: string): boolean {
    if (host && this.hosts.has(host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, ''))) return true;
    return !isNonPublicAddress(address) || this.networks.has(address);
  }
}

const REFUSED = 'the destination is not allowed';
const UNREACHABLE = 'the remote server could not be reached';

function parseHttpUrl(value: string | URL): URL {
  let u: URL;
  try {
    u = new URL(String(value));
  } catch {
    throw new OutboundError('not a valid URL', `bad URL ${String(value).slice(0, 200)}`, 'bad-url');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new OutboundError('only http(s) URLs are allowed', `scheme ${u.protocol}`, 'bad-url');
  if (u.username || u.password) throw new OutboundError('URLs with credentials are not allowed', 'userinfo in URL', 'bad-url');
  return u;
}

/** Resolve a host and check every address; the checked addresses are returned (first one is used). */
async function resolveChecked(host: string, policy: OutboundPolicy): Promise<Array<{ address: string; family: number }>> {
  const bare = host.replace(/^\[|\]$/g, '');
  let addrs: Array<{ address: string; family: number }>;
  if (isIP(bare)) addrs = [{ address: bare, family: isIP(bare) }];
  else {
    try {
      addrs = await dnsLookup(bare, { all: true, verbatim: true });
    } catch (e) {
      throw new OutboundError(UNREACHABLE, `DNS ${bare}: ${(e as Error).message}`, 'unreachable');
    }
  }
  if (addrs.length === 0) throw new OutboundError(UNREACHABLE, `DNS ${bare}: no address`, 'unreachable');
  const bad = addrs.find((a) => !policy.allows(a.address, bare));
  if (bad) throw new OutboundError(REFUSED, `${bare} resolves to ${bad.address}, not allowed`, 'refused');
  return addrs;
}

/** Refuse a URL whose scheme is not http(s) or whose host resolves to an address the policy refuses. */
export async function checkDestination(url: string | URL, policy: OutboundPolicy): Promise<URL> {
  const u = parseHttpUrl(url);
  await resolveChecked(u.hostname, policy);
  return u;
}

export interface OutboundRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Whole exchange, redirects included. */
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
}

export interface OutboundResponse {
  url: string;
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function once(u: URL, o: OutboundRequest, policy: OutboundPolicy, signal: AbortSignal, maxBytes: number): Promise<OutboundResponse> {
  return resolveChecked(u.hostname, policy).then(
    (addrs) =>
      new Promise<OutboundResponse>((resolve, reject) => {
        const pinned: LookupFunction = (_host, opts, cb) => {
          const a = addrs[0]!;
          if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [a]);
          else cb(null, a.address, a.family);
        };
        const lib = u.protocol === 'https:' ? https : http;
        const req = lib.request(u, { method: o.method ?? 'GET', headers: o.headers, lookup: pinned, signal, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          const declared = Number(res.headers['content-length']);
          if (Number.isFinite(declared) && declared > maxBytes) {
            res.destroy();
            return reject(new OutboundError('the answer is too large', `${u.href}: Content-Length ${declared} > ${maxBytes}`, 'too-large'));
          }
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > maxBytes) {
              res.destroy();
              reject(new OutboundError('the answer is too large', `${u.href}: more than ${maxBytes} bytes`, 'too-large'));
            } else chunks.push(c);
          });
          res.on('end', () => resolve({ url: u.href, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', (e) => reject(e));
        });
        req.on('error', (e) => reject(e));
        req.end(o.body);
      }),
  );
}

/** Send a request through the guard; network failures, timeouts, refusals and oversize answers are OutboundErrors. */
export async function outboundRequest(url: string | URL, o: OutboundRequest, policy: OutboundPolicy): Promise<OutboundResponse> {
  let current = parseHttpUrl(url);
  const timeoutMs = o.timeoutMs ?? 30_000;
  const maxBytes = o.maxBytes ?? 16 * 1024 * 1024;
  const maxRedirects = o.maxRedirects ?? 5;
  const signal = AbortSignal.timeout(timeoutMs);
  let req = o;
  for (let hop = 0; ; hop++) {
    let res: OutboundResponse;
    try {
      res = await once(current, req, policy, signal, maxBytes);
    } catch (e) {
      if (e instanceof OutboundError) throw e;
      const err = e as Error;
      if (signal.aborted || err.name === 'AbortError' || err.name === 'TimeoutError') throw new OutboundError('no answer in time', `${current.href}: no complete answer within ${timeoutMs} ms`, 'timeout');
      throw new OutboundError(UNREACHABLE, `${current.href}: ${err.message}`, 'unreachable');
    }
    const location = res.headers.location;
    if (res.status < 300 || res.status >= 400 || !location || maxRedirects === 0) return res;
    if (hop >= maxRedirects) throw new OutboundError('too many redirects', `${url}: more than ${maxRedirects} redirects`, 'redirect');
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      throw new OutboundError('bad redirect', `${current.href}: bad Location ${location.slice(0, 200)}`, 'redirect');
    }
    if (next.protocol !== current.protocol && !(current.protocol === 'http:' && next.protocol === 'https:'))
      throw new OutboundError('redirect to another scheme refused', `${current.href} → ${next.href}`, 'redirect');
    current = parseHttpUrl(next);
    // 303 turns into a GET; otherwise the method and body are kept (a CSW POST must stay a POST).
    if (res.status === 303) req = { ...req, method: 'GET', body: undefined };
  }
}
