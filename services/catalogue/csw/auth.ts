/**
 * Authentication of the catalogue's write operations (Harvest; Transaction uses the same check): the
 * admin credential is `SDI_ADMIN_TOKEN`, sent as `Authorization: Bearer <token>` or as the password of HTTP
 * Basic (any user name); the configuration file's `adminToken` also works. Without either, the write operations
 * are refused to everyone (403).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Platform } from '../../../src/platform.js';
import { OgcError } from '../../../src/ogc/errors.js';

export const WWW_AUTHENTICATE = 'Bearer realm="sdi", Basic realm="sdi", charset="UTF-8"';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/** The secret presented by the request (Bearer token or Basic password), if any. */
export function presentedSecret(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const m = /^\s*(\w+)\s+(\S+)\s*$/.exec(authorization);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'bearer') return m[2];
  if (scheme === 'basic') {
    const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

/** Throws an OgcError (401 with no or wrong credentials, 403 when no admin credential is configured). */
export function requireAdmin(req: FastifyRequest, platform: Platform): void {
  const token = platform.config.adminToken ?? process.env.SDI_ADMIN_TOKEN;
  if (!token) throw new OgcError('NoApplicableCode', 'This operation is disabled: no administrator credential is configured (SDI_ADMIN_TOKEN)', 'request', 403);
  const secret = presentedSecret(req.headers.authorization);
  if (secret === undefined) throw new OgcError('NoApplicableCode', 'This operation requires authentication (Authorization: Bearer or Basic)', 'request', 401);
  if (!sameSecret(secret, token)) throw new OgcError('NoApplicableCode', 'Invalid credentials', 'request', 401);
}
