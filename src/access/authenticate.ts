/**
 * From a request's credential to its principal (issue 11): HTTP Basic (a user's login and password), a bearer
 * token (an API token, or the environment's admin token), or the same token in the `access_token` URL
 * parameter (RFC 6750 §2.3) for clients that cannot send headers (QGIS legend and GetFeatureInfo requests,
 * GDAL). The environment's admin token (SDI_ADMIN_TOKEN) keeps working as before: Bearer, or the Basic password
 * with any login.
 *
 * Verified credentials are cached for a short time (scrypt costs tens of milliseconds by design, and QGIS sends
 * a burst of requests per map): the cache key is an HMAC of the whole credential under a key made at start and
 * never stored, so the cache holds no password nor anything a password can be tested against offline; only
 * successes are cached (a wrong password always costs a hash); entries live ttlMs, the cache is bounded, and
 * every change made through the admin API (password, disabling, token revocation, grants) empties it at once
 * in this process (other processes see the change within ttlMs).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Pool } from '../db/pool.js';
import { authenticatePassword, authenticateToken, type Authenticated } from './accounts.js';
import { ADMIN_LOGIN, sameSecret } from './credentials.js';

export type Credential = { kind: 'basic'; login: string; password: string } | { kind: 'bearer'; secret: string };

/** The credential of an Authorization header value (or of an access_token parameter); 'malformed' when unreadable. */
export function credentialOf(authorization: string | undefined, urlToken: string | undefined): Credential | 'malformed' | undefined {
  if (authorization !== undefined) {
    const m = /^\s*(\w+)\s+(\S+)\s*$/.exec(authorization);
    if (!m) return 'malformed';
    const scheme = m[1]!.toLowerCase();
    if (scheme === 'bearer') return { kind: 'bearer', secret: m[2]! };
    if (scheme === 'basic') {
      const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return colon >= 0 ? { kind: 'basic', login: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : 'malformed';
    }
    return 'malformed';
  }
  if (urlToken !== undefined) return urlToken ? { kind: 'bearer', secret: urlToken } : 'malformed';
  return undefined;
}

const CACHES = new Set<Map<string, unknown>>();

/** Forget every verified credential of this process (after a change of users, tokens, groups or grants). */
export function forgetVerifiedCredentials(): void {
  for (const c of CACHES) c.clear();
}

export class Authenticator {
  private readonly key = randomBytes(32);
  private readonly cache = new Map<string, { auth: Authenticated; until: number }>();

  constructor(
    private readonly pool: Pool,
    private readonly adminToken: string | undefined,
    private readonly ttlMs = 30_000,
    private readonly maxEntries = 10_000,
  ) {
    CACHES.add(this.cache);
  }

  /** The principal of a credential, or undefined when it is not valid; `fresh` when verified now (a sign-in, for the audit log), not served from the cache. */
  async authenticate(c: Credential): Promise<(Authenticated & { fresh?: true }) | undefined> {
    // The environment's token: compared in constant time, before anything touches the database.
    const presented = c.kind === 'bearer' ? c.secret : c.password;
    if (this.adminToken && sameSecret(presented, this.adminToken)) return { principal: { login: ADMIN_LOGIN, admin: true } };
    const k = createHmac('sha256', this.key).update(c.kind === 'bearer' ? `b\0${c.secret}` : `p\0${c.login}\0${c.password}`).digest('base64');
    const hit = this.cache.get(k);
    if (hit && hit.until > Date.now()) return hit.auth;
    if (hit) this.cache.delete(k);
    const auth = c.kind === 'bearer' ? await authenticateToken(this.pool, c.secret) : await authenticatePassword(this.pool, c.login, c.password);
    if (!auth) return undefined;
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(k, { auth, until: Date.now() + this.ttlMs });
    return { ...auth, fresh: true };
  }
}
