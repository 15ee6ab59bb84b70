/**
 * Accounts in the store (issue 11): users (scrypt passwords, src/access/passwords.ts), their groups, their API
 * tokens (only the SHA-256 of the secret is kept), and the grants that make their principal. The first
 * administrator comes from the environment (SDI_ADMIN_LOGIN / SDI_ADMIN_PASSWORD) at start.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from '../db/pool.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { ADMIN_PRINCIPAL_LOGIN, ANONYMOUS, type Action, type Grant, type Principal, type ResourceKind } from './policy.js';

/**
 * What an API token may be used on: the services, by the name of their family; `edit` is the right to change
 * features (WFS-T, OGC API Part 4), which a `features` token alone has not (it includes reading features).
 */
export const TOKEN_SCOPES = ['features', 'edit', 'maps', 'download', 'catalogue', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export interface Authenticated {
  principal: Principal;
  /** Scopes of the token used, or undefined for a password (every scope). */
  scopes?: readonly TokenScope[];
  /** Id of the token used (sdi.api_tokens.id), undefined for a password. */
  tokenId?: string;
}

interface UserRow {
  id: string;
  login: string;
  password_hash: string | null;
  is_admin: boolean;
  disabled: boolean;
}

/** The user's grants and those of its groups. */
export async function grantsOf(pool: Pool, userId: string | number): Promise<Grant[]> {
  const { rows } = await pool.query<{ id: string; resource_kind: ResourceKind; resource_name: string; action: Action; territorial: boolean }>(
    `SELECT g.id, g.resource_kind, g.resource_name, g.action, g.territory IS NOT NULL AS territorial
       FROM sdi.grants g
      WHERE g.user_id = $1 OR g.group_id IN (SELECT m.group_id FROM sdi.group_members m WHERE m.user_id = $1)
      ORDER BY g.id`,
    [userId],
  );
  return rows.map((r) => ({ id: Number(r.id), kind: r.resource_kind, name: r.resource_name, action: r.action, territorial: r.territorial }));
}

async function principalOf(pool: Pool, u: UserRow): Promise<Principal> {
  return { login: u.login, admin: u.is_admin, grants: await grantsOf(pool, u.id) };
}

/** The principal of an enabled user by login (a deferred job's owner, checked again when its result is fetched). */
export async function principalByLogin(pool: Pool, login: string): Promise<Principal | undefined> {
  const { rows } = await pool.query<UserRow>('SELECT id, login, password_hash, is_admin, disabled FROM sdi.users WHERE login = $1', [login]);
  const u = rows[0];
  return u && !u.disabled ? principalOf(pool, u) : undefined;
}

/**
 * The principal a deferred job acts for, from the login it was stored with (sdi.jobs.principal): the user with
 * its grants as they are now (a right withdrawn since stops the job and its links), the environment's
 * administrator, or anonymous. A disabled or deleted user keeps its login but no grant.
 */
export async function principalOfJobOwner(pool: Pool, login: string | null): Promise<Principal> {
  if (login === null) return ANONYMOUS;
  const user = await principalByLogin(pool, login);
  if (user) return user;
  return login === ADMIN_PRINCIPAL_LOGIN ? { login, admin: true } : { login };
}

/** Login and password (HTTP Basic). Unknown login, disabled user or wrong password: undefined, in the time of one hash. */
export async function authenticatePassword(pool: Pool, login: string, password: string): Promise<Authenticated | undefined> {
  const { rows } = await pool.query<UserRow>('SELECT id, login, password_hash, is_admin, disabled FROM sdi.users WHERE login = $1', [login]);
  const u = rows[0];
  const ok = await verifyPassword(password, u?.password_hash ?? null);
  if (!u || !ok || u.disabled) return undefined;
  return { principal: await principalOf(pool, u) };
}

/** An API token's secret (Bearer, or the access_token URL parameter). Unknown, revoked, expired, or a disabled user: undefined. */
export async function authenticateToken(pool: Pool, secret: string): Promise<Authenticated | undefined> {
  const { rows } = await pool.query<UserRow & { token_id: string; scopes: TokenScope[] }>(
    `SELECT u.id, u.login, u.password_hash, u.is_admin, u.disabled, t.id AS token_id, t.scopes
       FROM sdi.api_tokens t JOIN sdi.users u ON u.id = t.user_id
      WHERE t.secret_sha256 = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) AND NOT u.disabled`,
    [tokenDigest(secret)],
  );
  const u = rows[0];
  if (!u) return undefined;
  // When it was last used, for the operator (written on verification, not on every request: see the cache).
  pool.query('UPDATE sdi.api_tokens SET last_used_at = now() WHERE id = $1', [u.token_id]).catch(() => undefined);
  const principal = await principalOf(pool, u);
  // An administrator's token administers only with the admin scope.
  if (!u.scopes.includes('admin')) principal.admin = false;
  return { principal, scopes: u.scopes, tokenId: String(u.token_id) };
}

/** What is stored of a token: the SHA-256 of its secret (a 256-bit random secret needs no slow hash). */
export const tokenDigest = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

/** A new token's secret: 32 random bytes, base64url, with a prefix that secret scanners can recognise. */
export function newTokenSecret(): string {
  return `sdi_${randomBytes(32).toString('base64url')}`;
}

/**
 * The first administrator from the environment: created when absent, left alone when present (its password is
 * then managed through the admin API, not overwritten at each start).
 */
export async function ensureFirstAdministrator(pool: Pool, login: string, password: string): Promise<boolean> {
  const exists = await pool.query('SELECT 1 FROM sdi.users WHERE login = $1', [login]);
  if (exists.rowCount) return false;
  const hash = await hashPassword(password);
  const r = await pool.query(
    `INSERT INTO sdi.users (login, display_name, password_hash, is_admin) VALUES ($1, 'Administrateur', $2, true) ON CONFLICT (login) DO NOTHING`,
    [login, hash],
  );
  return (r.rowCount ?? 0) > 0;
}
