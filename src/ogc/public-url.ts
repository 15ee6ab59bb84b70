/**
 * Public URLs for capabilities, links and next pages: the configured base URL when set; else what the
 * reverse proxy says (Forwarded / X-Forwarded-Proto, -Host, -Port, -Prefix); else the Host header.
 * Never `localhost` when a proxy has told us otherwise.
 */
import type { FastifyRequest } from 'fastify';

export function publicBaseUrl(req: FastifyRequest, configured?: string): string {
  if (configured) return configured;
  const h = req.headers;
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim();
  let proto = first(h['x-forwarded-proto']);
  let host = first(h['x-forwarded-host']);
  const forwarded = first(h['forwarded']);
  if (forwarded) {
    for (const part of forwarded.split(';')) {
      const [k, v] = part.split('=').map((s) => s.trim().replace(/^"|"$/g, ''));
      if (k?.toLowerCase() === 'proto' && v) proto ??= v;
      if (k?.toLowerCase() === 'host' && v) host ??= v;
    }
  }
  const port = first(h['x-forwarded-port']);
  if (host && port && !host.includes(':') && !((proto === 'https' && port === '443') || (proto !== 'https' && port === '80'))) host += `:${port}`;
  const prefix = (first(h['x-forwarded-prefix']) ?? '').replace(/\/+$/, '');
  proto ??= req.protocol;
  host ??= h.host ?? `${req.hostname}`;
  return `${proto}://${host}${prefix}`;
}
