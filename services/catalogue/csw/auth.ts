/**
 * Authentication of the catalogue's write operations (Harvest; Transaction uses the same check): the
 * admin credential is `SDI_ADMIN_TOKEN`, sent as `Authorization: Bearer <token>` or as the password of HTTP
 * Basic (any user name); the configuration file's `adminToken` also works. Without either, the write operations
 * are refused to everyone (403).
 */
import type { FastifyRequest } from 'fastify';
import type { Platform } from '../../../src/platform.js';
import { OgcError } from '../../../src/ogc/errors.js';
import { adminToken } from '../../../src/access/credentials.js';
import { callerOf } from '../../../src/server/principal.js';
import type { AdminOperation } from '../../../src/access/policy.js';


export const WWW_AUTHENTICATE = 'Bearer realm="sdi", Basic realm="sdi", charset="UTF-8"';

/**
 * The caller (resolved by the request hook, src/server/principal.ts) must be one the policy lets administer
 * `operation`. Throws an OgcError: 403 when no admin credential is configured (the operation is disabled) or
 * the caller is known and not allowed; 401 with no or a wrong credential.
 */
export function requireAdmin(req: FastifyRequest, platform: Platform, operation: AdminOperation): void {
  const caller = callerOf(req);
  // An administrator user (issue 11) may, whatever the environment holds.
  if (platform.policy.mayAdminister(caller, operation)) return;
  if (!adminToken(platform) && !platform.config.firstAdmin) throw new OgcError('NoApplicableCode', 'This operation is disabled: no administrator credential is configured (SDI_ADMIN_TOKEN)', 'request', 403);
  if (req.credentialRejected) throw new OgcError('NoApplicableCode', 'Invalid credentials', 'request', 401);
  if (caller.login === undefined) throw new OgcError('NoApplicableCode', 'This operation requires authentication (Authorization: Bearer or Basic)', 'request', 401);
  throw new OgcError('NoApplicableCode', 'You may not perform this operation', 'request', 403);
}
