/**
 * Secrets: the administrator's shared secret (SDI_ADMIN_TOKEN or the configuration's adminToken), whose holder
 * is the principal ADMIN_LOGIN, and the helpers that compare secrets in constant time (on digests, so that
 * lengths do not matter either). Reading a request's credential is src/access/authenticate.ts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Platform } from '../platform.js';

export const ADMIN_LOGIN = 'admin';

export const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();
/** Constant-time comparison of two secrets (or of a secret and a stored hex SHA-256 of one). */
export const sameSecret = (a: string, b: string) => timingSafeEqual(sha256(a), sha256(b));
export function matchesHash(secret: string, hexDigest: string): boolean {
  const stored = Buffer.from(hexDigest, 'hex');
  return stored.length === 32 && timingSafeEqual(sha256(secret), stored);
}

/** The administrator's secret (SDI_ADMIN_TOKEN or the configuration's adminToken, read by src/config). */
export const adminToken = (platform: Platform): string | undefined => platform.config.adminToken;
