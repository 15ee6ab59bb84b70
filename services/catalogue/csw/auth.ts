/**
 * Authentication of the catalogue's write operations (Harvest; Transaction uses the same check): the
 * admin credential is `SDI_ADMIN_TOKEN`, sent as `Authorization: Bearer <token>` or as the password of HTTP
 * Basic (any user name); the configuration file's `adminToken` also works. Without either, the write operations
 * are refused to everyone (403).
 */
import type { FastifyRequest } from 'fastify';
import type { Platform } from '../../../src/platform.js';
import { OgcError } from '../../../src/ogc/errors.js';
import { adminToken, presentedSecret, sameSecret } from '../../../src/access/credentials.js';

export { presentedSecret } from '../../../src/access/credentials.js';

export const WWW_AUTHENTICATE = 'Bearer realm="sdi", Basic realm="sdi", charset="UTF-8"';

/** Throws an OgcError (401 with no or wrong credentials, 403 when no admin credential is configured). */
export function requireAdmin(req: FastifyRequest, platform: Platform): void {
  const token = adminToken(platform);
  if (!token) throw new OgcError('NoApplicableCode', 'This operation is disabled: no administrator credential is configured (SDI_ADMIN_TOKEN)', 'request', 403);
  const secret = presentedSecret(req.headers.authorization);
  if (secret === undefined) throw new OgcError('NoApplicableCode', 'This operation requires authentication (Authorization: Bearer or Basic)', 'request', 401);
  if (!sameSecret(secret, token)) throw new OgcError('NoApplicableCode', 'Invalid credentials', 'request', 401);
}
