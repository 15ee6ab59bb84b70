/**
 * Credentials of a request. The only one today is the administrator's shared secret (SDI_ADMIN_TOKEN or the
 * configuration's adminToken), sent as `Authorization: Bearer <token>` or as the password of HTTP Basic (any
 * user name). Its holder is the principal ADMIN_LOGIN. Secrets are compared in constant time (on digests, so
 * that lengths do not matter either).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Platform } from '../platform.js';
import { ANONYMOUS, type Principal } from './policy.js';

export const ADMIN_LOGIN = 'admin';

export const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();
/** Constant-time comparison of two secrets (or of a secret and a stored hex SHA-256 of one). */
export const sameSecret = (a: string, b: string) => timingSafeEqual(sha256(a), sha256(b));
export function matchesHash(secret: string, hexDigest: string): boolean {
  const stored = Buffer.from(hexDigest, 'hex');
  return stored.length === 32 && timingSafeEqual(sha256(secret), stored);
}

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

/** The administrator's secret (SDI_ADMIN_TOKEN or the configuration's adminToken, read by src/config). */
export const adminToken = (platform: Platform): string | undefined => platform.config.adminToken;

/**
 * Who the caller is: ANONYMOUS without an Authorization header, the admin with the right secret, and
 * 'invalid' when a credential is presented but is not a valid one (the caller should hear so: 401).
 */
export function callerPrincipal(req: FastifyRequest, platform: Platform): Principal | 'invalid' {
  if (req.headers.authorization === undefined) return ANONYMOUS;
  const secret = presentedSecret(req.headers.authorization);
  const token = adminToken(platform);
  if (secret === undefined || !token || !sameSecret(secret, token)) return 'invalid';
  return { login: ADMIN_LOGIN };
}
