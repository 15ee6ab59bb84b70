/**
 * Public URLs for capabilities, links and next pages: the configured base URL when set; else what the
 * reverse proxy says (Forwarded / X-Forwarded-Proto, -Host, -Port, -Prefix) — but only when the TCP peer is
 * one of the configured trusted proxies (SDI_TRUSTED_PROXIES; none by default), since anyone can send those
 * headers (an untrusted X-Forwarded-Host was an open redirect on the Atom search); else the Host header.
 * The protocol is http or https, nothing else (`Forwarded: proto=javascript` is ignored). Responses whose
 * URLs depend on these headers carry PUBLIC_URL_VARY (set globally by the server).
 */
import type { FastifyRequest } from 'fastify';
import { trusted } from '../net/address.js';

export interface PublicUrlSettings {
  baseUrl?: string;
  trustedProxies?: readonly string[];
}

export const PUBLIC_URL_VARY = 'Forwarded, X-Forwarded-Host, X-Forwarded-Proto, X-Forwarded-Port, X-Forwarded-Prefix, Host';

const HOST = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;
const PROTO = /^https?$/i;

/** `settings` may be the configured base URL alone (no proxy trusted) or the platform's configuration. */
export function publicBaseUrl(req: FastifyRequest, settings?: string | PublicUrlSettings): string {
  const s: PublicUrlSettings = typeof settings === 'string' ? { baseUrl: settings } : (settings ?? {});
  if (s.baseUrl) return s.baseUrl;
  const h = req.headers;
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim();
  const ownProto = req.protocol === 'https' ? 'https' : 'http';
  const ownHost = first(h.host);
  const fallbackHost = ownHost && HOST.test(ownHost) ? ownHost : `${req.hostname && HOST.test(req.hostname) ? req.hostname : '127.0.0.1'}`;
  if (!trusted(s.trustedProxies)?.has(req.socket?.remoteAddress)) return `${ownProto}://${fallbackHost}`;
  let proto = first(h['x-forwarded-proto']);
  let host = first(h['x-forwarded-host']);
  const forwarded = first(h['forwarded']);
  if (forwarded) {
    for (const part of forwarded.split(';')) {
      const [k, v] = part.split('=').map((x) => x.trim().replace(/^"|"$/g, ''));
      if (k?.toLowerCase() === 'proto' && v) proto ??= v;
      if (k?.toLowerCase() === 'host' && v) host ??= v;
    }
  }
  if (proto !== undefined) proto = PROTO.test(proto) ? proto.toLowerCase() : undefined;
  if (host !== undefined && !HOST.test(host)) host = undefined;
  const port = first(h['x-forwarded-port']);
  if (host && port && /^\d{1,5}$/.test(port) && !host.includes(':') && !((proto === 'https' && port === '443') || (proto !== 'https' && port === '80'))) host += `:${port}`;
  let prefix = (first(h['x-forwarded-prefix']) ?? '').replace(/\/+$/, '');
  if (prefix && !/^(?:\/[A-Za-z0-9._~%!$&'()*+,;=:@-]+)+$/.test(prefix)) prefix = '';
  return `${proto ?? ownProto}://${host ?? fallbackHost}${prefix}`;
}
