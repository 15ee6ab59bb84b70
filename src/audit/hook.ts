/**
 * Audit events of the HTTP layer (issue 11): refusals (401, 403, 429) of any route, whichever service or policy
 * refused, once the answer left; sign-ins (a credential verified afresh, not each request a cached credential
 * serves) and failed sign-ins, from the principal hook. The other events are recorded where they happen: changes
 * of rights (services/admin/rights.ts), edits (src/edit/apply.ts), downloads (src/download/usage.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Platform } from '../platform.js';
import type { Credential } from '../access/authenticate.js';
import { clientAddress } from '../net/client-address.js';
import type { AuditEntry } from './recorder.js';

/** The request's part of an entry: client address, method, path (never the query string). */
export function requestPart(req: FastifyRequest, platform: Platform): Pick<AuditEntry, 'client' | 'method' | 'path'> {
  return { client: clientAddress(req, platform.config.trustedProxies), method: req.method, path: (req.url.split('?')[0] ?? '').slice(0, 300) };
}

/** A credential verified (fresh) or refused, with the login it named (never the password or the token). */
export function auditSignIn(platform: Platform, req: FastifyRequest, c: Credential | 'malformed', login: string | undefined, ok: boolean): void {
  const scheme = c === 'malformed' ? 'malformed' : c.kind;
  platform.audit?.record({ event: ok ? 'sign-in' : 'sign-in-failed', principal: login ?? null, ...requestPart(req, platform), status: ok ? null : 401, detail: { scheme } });
}

export function registerAudit(app: FastifyInstance, platform: Platform): void {
  app.addHook('onResponse', (req, reply, done) => {
    const s = reply.statusCode;
    // A refused credential is its own event (sign-in-failed), recorded by the principal hook.
    if ((s === 401 || s === 403 || s === 429) && !req.credentialRejected) {
      platform.audit?.record({ event: 'refusal', principal: req.principal?.login ?? null, ...requestPart(req, platform), status: s });
    }
    done();
  });
  app.addHook('onClose', async () => platform.audit?.flush());
}
