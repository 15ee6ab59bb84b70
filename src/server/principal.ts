/**
 * The caller on every request (issue 8): an onRequest hook resolves the principal once, from the request's
 * credentials (src/access/credentials.ts), before any service sees the request; services, background jobs
 * and feeds read it with callerOf(req) and pass it to the planner and the policy. A credential that is
 * presented but not valid leaves the caller anonymous and is remembered (credentialRejected) so that
 * operations needing one answer 401 rather than 403. The rights issue adds users, tokens and URL tokens here.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Platform } from '../platform.js';
import { ANONYMOUS, type Principal } from '../access/policy.js';
import { callerPrincipal } from '../access/credentials.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
    credentialRejected: boolean;
  }
}

export function registerPrincipal(app: FastifyInstance, platform: Platform): void {
  app.decorateRequest('principal', null as unknown as Principal);
  app.decorateRequest('credentialRejected', false);
  app.addHook('onRequest', async (req) => {
    const p = callerPrincipal(req, platform);
    req.principal = p === 'invalid' ? ANONYMOUS : p;
    req.credentialRejected = p === 'invalid';
  });
}

/** The caller of a request (anonymous when the hook did not run, e.g. a request built by a test). */
export function callerOf(req: FastifyRequest): Principal {
  return req.principal ?? ANONYMOUS;
}
