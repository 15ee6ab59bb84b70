/** HTTP pieces shared by the download routes (index.ts, jobs.ts, atom.ts). */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OgcError, fromDatabaseError } from '../../src/ogc/errors.js';
import { DownloadError, problemDocument } from '../../src/download/errors.js';

/** Any error → application/problem+json with the right status; never SQL or a stack. */
export function sendProblem(req: FastifyRequest, reply: FastifyReply, e: unknown): FastifyReply {
  let err: DownloadError;
  if (e instanceof DownloadError) err = e;
  else if (e instanceof OgcError) err = new DownloadError(e.status, e.code === 'InvalidParameterValue' ? 'invalid-parameter' : e.status >= 500 ? 'internal-error' : 'bad-request', e.message, e.locator);
  else {
    const o = fromDatabaseError(e);
    err = new DownloadError(o.status, o.status === 503 ? 'unavailable' : o.status >= 500 ? 'internal-error' : 'invalid-parameter', o.message);
  }
  if (err.status >= 500) req.log.error({ err: e }, 'download request failed');
  if (err.status === 401) reply.header('www-authenticate', 'Bearer realm="sdi", Basic realm="sdi", charset="UTF-8"');
  return reply.status(err.status).type('application/problem+json').send(problemDocument(err, req.url));
}

/**
 * The query string of a download route: every name known and none repeated (case-insensitive), else a 400
 * naming the parameter and the known ones (issue 13: a repeated key silently took the last value).
 */
export function queryOf(req: FastifyRequest, known: readonly string[]): Record<string, string> {
  const q: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [k, v] of new URL(req.url, 'http://x').searchParams) {
    const lower = k.toLowerCase();
    if (!known.includes(lower)) throw new DownloadError(400, 'invalid-parameter', `Unknown parameter '${k.slice(0, 40)}' (known: ${known.length ? known.join(', ') : 'none'})`, k.slice(0, 40));
    if (seen.has(lower)) throw new DownloadError(400, 'invalid-parameter', `Parameter '${lower}' is given more than once${lower === 'layer' ? ' (a basket is layers=a,b)' : ''}`, lower);
    seen.add(lower);
    q[k] = v;
  }
  return q;
}

/** Content-Disposition of a file: an ASCII fallback name and the UTF-8 one (RFC 6266). */
export const contentDisposition = (name: string) => `attachment; filename="${name.replace(/[^\x20-\x7e]|"/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`;
