/**
 * The address of the client behind a request, for quotas (issue 13 point 7). The same trust rule as public
 * URLs (src/ogc/public-url.ts): forwarding headers are believed only when the TCP peer is a trusted proxy
 * (SDI_TRUSTED_PROXIES; none by default). Then X-Forwarded-For (else Forwarded: for=) is read from the right,
 * each trusted proxy skipped: the first hop that is not one is the client. Whatever a client puts on the
 * left of the chain is never reached, and an untrusted peer's headers are ignored: nobody picks the address
 * a quota counts. Addresses are canonical (IPv4-mapped IPv6 as the IPv4).
 */
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { canonicalAddress, trusted } from './address.js';

/** One hop of a forwarding header: "192.0.2.1", "[2001:db8::1]:4711", "198.51.100.7:80", "\"[::1]\"". */
function hopAddress(raw: string): string | undefined {
  let v = raw.trim().replace(/^"|"$/g, '');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(v);
  if (bracketed) v = bracketed[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(v)) v = v.replace(/:\d+$/, '');
  const a = canonicalAddress(v);
  return isIP(a) ? a : undefined;
}

function forwardedChain(req: FastifyRequest): string[] {
  const xff = req.headers['x-forwarded-for'];
  const joined = Array.isArray(xff) ? xff.join(',') : xff;
  if (joined) return joined.split(',');
  const fwd = req.headers['forwarded'];
  const f = Array.isArray(fwd) ? fwd.join(',') : fwd;
  if (!f) return [];
  const hops: string[] = [];
  for (const element of f.split(',')) {
    for (const pair of element.split(';')) {
      const [k, v] = pair.split('=');
      if (k?.trim().toLowerCase() === 'for' && v !== undefined) hops.push(v);
    }
  }
  return hops;
}

export function clientAddress(req: FastifyRequest, trustedProxies: readonly string[] | undefined): string {
  const peer = canonicalAddress(req.socket?.remoteAddress ?? req.ip ?? '');
  const proxies = trusted(trustedProxies);
  if (!proxies?.has(peer)) return peer;
  let client = peer;
  const chain = forwardedChain(req);
  for (let i = chain.length - 1; i >= 0; i--) {
    const hop = hopAddress(chain[i]!);
    // A hop that is no address ("unknown", an obfuscated name): the last proxy that we trust is the client.
    if (!hop) break;
    client = hop;
    if (!proxies.has(hop)) break;
  }
  return client;
}
