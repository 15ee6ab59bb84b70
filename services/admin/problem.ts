/**
 * Errors of the administration API as application/problem+json (RFC 9457): an HTTP status, a stable code (the
 * last segment of the problem type), a detail for people, the parameter or field at fault; never SQL or a stack.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OgcError, fromDatabaseError } from '../../src/ogc/errors.js';

export class AdminError extends Error {
  constructor(
    readonly status: number,
    /** Short stable code, e.g. 'not-found', 'invalid-parameter', 'conflict'. */
    readonly code: string,
    detail: string,
    /** The parameter or body field at fault, if one is. */
    readonly parameter?: string,
    /** Extra members of the problem document. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

export function adminProblem(e: AdminError, instance?: string): Record<string, unknown> {
  return {
    type: `urn:sdi:problem:admin:${e.code}`,
    title: e.code.replace(/-/g, ' '),
    status: e.status,
    detail: e.message,
    ...(e.parameter ? { parameter: e.parameter } : {}),
    ...(instance ? { instance: instance.split('?')[0] } : {}),
    ...e.extra,
  };
}

/** Any error → problem+json with its status (Fastify's own errors keep theirs; others are 500 or 503). */
export function sendAdminProblem(req: FastifyRequest, reply: FastifyReply, e: unknown): FastifyReply {
  let err: AdminError;
  if (e instanceof AdminError) err = e;
  else if (e instanceof OgcError) err = new AdminError(e.status, e.status >= 500 ? 'internal-error' : 'invalid-parameter', e.message, e.locator);
  else if (typeof (e as { statusCode?: unknown })?.statusCode === 'number' && (e as { statusCode: number }).statusCode < 500) {
    const fe = e as { statusCode: number; message: string };
    err = new AdminError(fe.statusCode, fe.statusCode === 413 ? 'too-large' : fe.statusCode === 415 ? 'unsupported-media-type' : 'bad-request', fe.message);
  } else {
    const o = fromDatabaseError(e);
    err = new AdminError(o.status, o.status === 503 ? 'unavailable' : 'internal-error', o.status >= 500 && o.status !== 503 ? 'Internal error' : o.message);
  }
  if (err.status >= 500) req.log.error({ err: e }, 'admin request failed');
  if (err.status === 401) reply.header('www-authenticate', 'Bearer realm="sdi", Basic realm="sdi", charset="UTF-8"');
  return reply.status(err.status).type('application/problem+json').send(adminProblem(err, req.url));
}
