/**
 * OpenID Connect sign-in for the admin API (issue 11), the relying party's side: openid-client (panva; certified
 * by the OpenID Foundation, maintained, no dependency but oauth4webapi and jose) does the protocol — discovery,
 * the authorization URL with PKCE (S256), state and nonce, the code exchange, and the ID token's validation
 * (signature against the provider's JWKS, iss, aud, azp, exp/iat, nonce). What stays here is the platform's part:
 *
 * - the sign-in under way (verifier and nonce) waits in sdi.oidc_logins under the SHA-256 of its state, used once;
 * - the user is found by (issuer, subject) in sdi.user_identities, or created (or linked) from the login claim;
 * - the provider's groups or roles are mapped to platform groups, and optionally to the admin flag;
 * - the session is an ordinary API token of the admin scope with a short expiry (src/access/accounts.ts), so the
 *   principal hook, the cache of verified credentials, revocation and disabling all work as for any token.
 *
 * Every refusal is an OidcRefusal with a reason that the route logs (audit) and a detail that says no more than
 * needed (the provider's error text is logged, not shown).
 */
import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import type { Pool, PoolClient } from '../db/pool.js';
import { isLoopback, type OidcSettings } from '../config/oidc.js';
import { newTokenSecret, tokenDigest } from './accounts.js';
import { forgetVerifiedCredentials } from './authenticate.js';
import { sameSecret } from './credentials.js';

/** Name of the API tokens that are sign-in sessions (what logout may revoke). */
export const SESSION_TOKEN_NAME = 'oidc-session';
const LOGIN = /^[A-Za-z0-9_.@-]{1,128}$/;
const PENDING_MINUTES = 10;

export class OidcRefusal extends Error {
  constructor(
    /** HTTP status: 400 bad or stale state, 401 the provider's answer did not verify, 403 a platform rule, 502 the provider failed. */
    readonly status: number,
    /** Short stable reason, for the audit line and the problem's code. */
    readonly reason: string,
    detail: string,
    /** What the library or the provider said (logged only). */
    readonly providerDetail?: string,
  ) {
    super(detail);
  }
}

export interface SignIn {
  login: string;
  admin: boolean;
  /** The session: an API token of the admin scope (shown once). */
  token: string;
  expiresAt: Date;
  issuer: string;
  subject: string;
  created: boolean;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export class OidcRelyingParty {
  private configuration?: Promise<client.Configuration>;

  constructor(
    private readonly pool: Pool,
    readonly settings: OidcSettings,
  ) {}

  /** The provider's metadata, discovered once per process (a failure is not kept: the provider may be back). */
  private provider(): Promise<client.Configuration> {
    if (!this.configuration) {
      const s = this.settings;
      const issuer = new URL(s.issuer);
      // http only for a provider on this machine (the tests' oidc-provider); src/config/oidc.ts refuses it elsewhere.
      const insecure = issuer.protocol === 'http:' && isLoopback(issuer.hostname);
      this.configuration = client
        .discovery(issuer, s.clientId, s.clientSecret, undefined, insecure ? { execute: [client.allowInsecureRequests], timeout: 10 } : { timeout: 10 })
        .catch((e: unknown) => {
          this.configuration = undefined;
          throw new OidcRefusal(502, 'provider-unavailable', 'The identity provider cannot be reached', describe(e));
        });
    }
    return this.configuration;
  }

  /** The provider's authorization URL for a new sign-in, and its state (to bind to the browser). */
  async begin(redirectUri: string): Promise<{ url: string; state: string }> {
    const config = await this.provider();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    await this.pool.query('DELETE FROM sdi.oidc_logins WHERE expires_at < now()');
    await this.pool.query(
      `INSERT INTO sdi.oidc_logins (state_sha256, code_verifier, nonce, expires_at) VALUES ($1, $2, $3, now() + make_interval(mins => $4))`,
      [digest(state), verifier, nonce, PENDING_MINUTES],
    );
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: this.settings.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, state };
  }

  /**
   * The callback: `query` is the callback's query string, `boundState` the state of the browser's cookie. The
   * pending sign-in is consumed first (a replayed callback finds nothing), then the code is exchanged and the
   * ID token validated, then the user found or created and a session issued.
   */
  async finish(query: string, redirectUri: string, boundState: string | undefined): Promise<SignIn> {
    const params = new URLSearchParams(query);
    const state = params.get('state');
    if (!state) throw new OidcRefusal(400, 'missing-state', 'The callback has no state');
    // Login CSRF: the state must be the one this browser was given when it started (RFC 6749 §10.12).
    if (!boundState || !sameSecret(boundState, state)) throw new OidcRefusal(400, 'state-mismatch', 'The state is not the one of this browser’s sign-in');
    const pending = await this.pool.query<{ code_verifier: string; nonce: string }>(
      'DELETE FROM sdi.oidc_logins WHERE state_sha256 = $1 AND expires_at > now() RETURNING code_verifier, nonce',
      [digest(state)],
    );
    const p = pending.rows[0];
    if (!p) throw new OidcRefusal(400, 'unknown-state', 'No sign-in under way for this state (unknown, used already, or older than 10 minutes)');
    const config = await this.provider();
    const current = new URL(redirectUri);
    current.search = params.toString();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, current, { pkceCodeVerifier: p.code_verifier, expectedState: state, expectedNonce: p.nonce, idTokenExpected: true }, { redirect_uri: redirectUri });
    } catch (e) {
      throw new OidcRefusal(401, reasonOf(e), 'The identity provider’s answer could not be verified', describe(e));
    }
    const idClaims = tokens.claims();
    if (!idClaims) throw new OidcRefusal(401, 'no-id-token', 'The identity provider sent no ID token');
    let claims: Record<string, unknown> = { ...idClaims };
    // Providers such as ProConnect put the profile in the UserInfo response only, not in the ID token.
    const wanted = [this.settings.loginClaim, ...(this.settings.groupsClaim ? [this.settings.groupsClaim] : []), ...(this.settings.allowedDomains ? ['email'] : [])];
    if (wanted.some((c) => claims[c] === undefined) && config.serverMetadata().userinfo_endpoint && tokens.access_token) {
      try {
        const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        claims = { ...info, ...idClaims };
      } catch (e) {
        throw new OidcRefusal(401, 'userinfo-failed', 'The identity provider’s user information could not be read', describe(e));
      }
    }
    return this.signIn(String(idClaims.iss), String(idClaims.sub), claims, tokens.id_token);
  }

  /** From verified claims to a user of sdi.users and a session token. */
  private async signIn(issuer: string, subject: string, claims: Record<string, unknown>, idToken: string | undefined): Promise<SignIn> {
    const s = this.settings;
    const email = typeof claims.email === 'string' ? claims.email.toLowerCase() : undefined;
    if (s.allowedDomains) {
      const domain = email?.slice(email.lastIndexOf('@') + 1);
      if (!email || !domain || claims.email_verified === false || !s.allowedDomains.includes(domain)) {
        throw new OidcRefusal(403, 'domain-not-allowed', 'This account’s e-mail domain may not sign in to this platform');
      }
    }
    const providerGroups = stringsOf(s.groupsClaim ? claims[s.groupsClaim] : undefined);
    const secret = newTokenSecret();
    const result = await withTransaction(this.pool, async (c) => {
      let created = false;
      const linked = await c.query<{ id: string; login: string; disabled: boolean }>(
        `SELECT u.id, u.login, u.disabled FROM sdi.user_identities i JOIN sdi.users u ON u.id = i.user_id WHERE i.issuer = $1 AND i.subject = $2 FOR UPDATE OF i`,
        [issuer, subject],
      );
      let user = linked.rows[0];
      if (!user) {
        const raw = claims[s.loginClaim];
        const login = typeof raw === 'string' ? (s.loginClaim === 'email' ? raw.toLowerCase() : raw) : undefined;
        if (!login || !LOGIN.test(login)) throw new OidcRefusal(403, 'no-usable-login', `The claim ${s.loginClaim} is missing or is not a valid login (1 to 128 of A-Z a-z 0-9 _ . @ -)`);
        const existing = await c.query<{ id: string; login: string; disabled: boolean }>('SELECT id, login, disabled FROM sdi.users WHERE login = $1 FOR UPDATE', [login]);
        if (existing.rows[0]) {
          if (!s.linkExisting) throw new OidcRefusal(403, 'login-taken', 'A user of this login exists and is not linked to this identity (ask an administrator)');
          user = existing.rows[0];
        } else {
          if (!s.createUsers) throw new OidcRefusal(403, 'unknown-user', 'This identity is not linked to a user of the platform (ask an administrator)');
          const name = displayName(claims);
          const ins = await c.query<{ id: string; login: string; disabled: boolean }>(
            `INSERT INTO sdi.users (login, display_name, email, password_hash) VALUES ($1, $2, $3, NULL) RETURNING id, login, disabled`,
            [login, name ?? null, email && /^[^\s@]+@[^\s@]+$/.test(email) ? email : null],
          );
          user = ins.rows[0]!;
          created = true;
        }
        await c.query('INSERT INTO sdi.user_identities (issuer, subject, user_id) VALUES ($1, $2, $3)', [issuer, subject, user.id]);
      }
      if (user.disabled) throw new OidcRefusal(403, 'user-disabled', 'This user is disabled');
      await c.query('UPDATE sdi.user_identities SET last_login_at = now() WHERE issuer = $1 AND subject = $2', [issuer, subject]);
      // Memberships of the mapped platform groups follow the provider; other memberships are the administrators'.
      if (s.groupsClaim && Object.keys(s.groupMap).length) {
        const targets = [...new Set(Object.values(s.groupMap))];
        const member = new Set(providerGroups.map((g) => s.groupMap[g]).filter((g): g is string => g !== undefined));
        await c.query(
          `DELETE FROM sdi.group_members m USING sdi.groups g WHERE m.group_id = g.id AND m.user_id = $1 AND g.name = ANY($2::text[]) AND NOT g.name = ANY($3::text[])`,
          [user.id, targets, [...member]],
        );
        await c.query(`INSERT INTO sdi.group_members (group_id, user_id) SELECT g.id, $1 FROM sdi.groups g WHERE g.name = ANY($2::text[]) ON CONFLICT DO NOTHING`, [user.id, [...member]]);
      }
      if (s.adminGroups) await c.query('UPDATE sdi.users SET is_admin = $2, updated_at = now() WHERE id = $1', [user.id, providerGroups.some((g) => s.adminGroups!.includes(g))]);
      const t = await c.query<{ id: string; expires_at: Date; is_admin: boolean }>(
        `INSERT INTO sdi.api_tokens (user_id, name, secret_sha256, scopes, expires_at) VALUES ($1, $2, $3, ARRAY['admin'], now() + make_interval(mins => $4))
         RETURNING id, expires_at, (SELECT is_admin FROM sdi.users WHERE id = $1) AS is_admin`,
        [user.id, SESSION_TOKEN_NAME, tokenDigest(secret), s.sessionMinutes],
      );
      // The ID token, for the logout's id_token_hint (migration 0032); those of ended sessions are dropped.
      await c.query(`DELETE FROM sdi.oidc_sessions o USING sdi.api_tokens k WHERE k.id = o.token_id AND (k.revoked_at IS NOT NULL OR k.expires_at < now())`);
      if (idToken) await c.query('INSERT INTO sdi.oidc_sessions (token_id, id_token) VALUES ($1, $2)', [t.rows[0]!.id, idToken]);
      return { login: user.login, admin: t.rows[0]!.is_admin, expiresAt: t.rows[0]!.expires_at, created };
    });
    // Groups or the admin flag may have changed: credentials verified before must be verified again.
    forgetVerifiedCredentials();
    return { ...result, token: secret, issuer, subject };
  }

  /**
   * Ends a session: revokes its token (only a sign-in session's) and forgets its ID token; the provider's
   * end-session URL when it has one (OpenID Connect RP-Initiated Logout 1.0 §2), with the session's ID token as
   * id_token_hint and where the provider sends the browser back (post_logout_redirect_uri, registered with it).
   */
  async signOut(secret: string, postLogoutRedirectUri: string): Promise<{ login?: string; endSessionUrl?: string }> {
    // Whoever holds a session's secret may end it (that is all it allows); an unknown or spent one changes nothing.
    const r = await this.pool.query<{ login: string; id_token: string | null }>(
      `WITH ended AS (
         UPDATE sdi.api_tokens t SET revoked_at = now() FROM sdi.users u
          WHERE u.id = t.user_id AND t.secret_sha256 = $1 AND t.name = $2 AND t.revoked_at IS NULL RETURNING t.id, u.login),
       forgotten AS (DELETE FROM sdi.oidc_sessions o USING ended e WHERE o.token_id = e.id RETURNING o.token_id, o.id_token)
       SELECT e.login, f.id_token FROM ended e LEFT JOIN forgotten f ON f.token_id = e.id`,
      [tokenDigest(secret), SESSION_TOKEN_NAME],
    );
    forgetVerifiedCredentials();
    const ended = r.rows[0];
    let endSessionUrl: string | undefined;
    try {
      const config = await this.provider();
      if (config.serverMetadata().end_session_endpoint) {
        endSessionUrl = client.buildEndSessionUrl(config, {
          client_id: this.settings.clientId,
          post_logout_redirect_uri: postLogoutRedirectUri,
          ...(ended?.id_token ? { id_token_hint: ended.id_token } : {}),
        }).href;
      }
    } catch {
      // The session is ended here whatever the provider's state.
    }
    return { login: ended?.login, endSessionUrl };
  }
}

async function withTransaction<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const r = await fn(c);
    await c.query('COMMIT');
    return r;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

function stringsOf(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function displayName(claims: Record<string, unknown>): string | undefined {
  if (typeof claims.name === 'string' && claims.name) return claims.name.slice(0, 200);
  // ProConnect: given_name and usual_name.
  const parts = [claims.given_name, claims.usual_name ?? claims.family_name].filter((p): p is string => typeof p === 'string' && p !== '');
  return parts.length ? parts.join(' ').slice(0, 200) : undefined;
}

/** A short reason for the audit line, from openid-client / oauth4webapi errors (codes and OAuth error names). */
function reasonOf(e: unknown): string {
  type Failure = { code?: string; error?: string; claim?: string; cause?: Failure };
  const err = e as Failure;
  if (err.error) return `provider-${err.error}`; // invalid_grant (a replayed or foreign code), access_denied…
  // openid-client wraps oauth4webapi's error, whose cause names the claim.
  const claim = err.cause?.claim ?? err.cause?.cause?.claim;
  switch (err.code) {
    case 'OAUTH_JWT_CLAIM_COMPARISON_FAILED':
      return `claim-mismatch${claim ? `-${claim}` : ''}`; // aud, iss, nonce, azp
    case 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED':
      return 'token-expired';
    default:
      return (err.code ?? 'verification-failed').toLowerCase().replace(/^oauth_/, '').replace(/_/g, '-');
  }
}

function describe(e: unknown): string {
  const err = e as { message?: string; code?: string; error?: string; error_description?: string };
  return [err.code, err.error, err.error_description, err.message].filter(Boolean).join(': ').slice(0, 500);
}
