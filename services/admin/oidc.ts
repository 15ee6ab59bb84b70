/**
 * OpenID Connect sign-in to the admin API (issue 11; the relying party is src/access/oidc.ts):
 *   GET  /admin/auth/oidc/login     302 to the provider (PKCE S256, state, nonce); the state bound to this browser by a cookie
 *   GET  /admin/auth/oidc/callback  the provider's redirect: the code exchanged, the ID token validated, the user found or
 *                                   created, a session issued: an admin-scope API token, as an HttpOnly Secure SameSite=Strict
 *                                   cookie and in the JSON answer (for scripts), valid SDI_OIDC_SESSION_MINUTES
 *   POST /admin/auth/oidc/logout    the session's token revoked, the cookie cleared; the provider's end-session URL if any,
 *                                   with id_token_hint and post_logout_redirect_uri (RP-Initiated Logout 1.0 §2)
 * Outside the /admin plugin's administrator check (a sign-in is how one becomes a caller); 404 when SDI_OIDC_ISSUER is
 * not set. Every sign-in, refusal and sign-out is one audit log line (`audit: "oidc"`) and a row of sdi.audit_log
 * (events sign-in / sign-in-failed / sign-out, detail.scheme "oidc").
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Platform } from '../../src/platform.js';
import { OidcRefusal, OidcRelyingParty } from '../../src/access/oidc.js';
import { clearedSessionCookie, clearedStateCookie, cookieValue, SESSION_COOKIE, sessionCookie, STATE_COOKIE, stateCookie } from '../../src/access/session-cookie.js';
import { credentialOf } from '../../src/access/authenticate.js';
import { publicBaseUrl } from '../../src/ogc/public-url.js';
import { AdminError, sendAdminProblem } from './problem.js';
import { requestPart } from '../../src/audit/hook.js';

/** The parameters a provider may send to the redirect URI (OIDC Core §3.1.2.5–6, RFC 9207 iss). */
const CALLBACK_PARAMETERS = new Set(['code', 'state', 'iss', 'session_state', 'error', 'error_description', 'error_uri']);

export async function oidcRoutes(app: FastifyInstance, opts: { platform: Platform }): Promise<void> {
  const { platform } = opts;
  const settings = platform.config.oidc;
  const rp = settings ? new OidcRelyingParty(platform.pool, settings) : undefined;
  app.setErrorHandler((e, req, reply) => {
    if (e instanceof OidcRefusal) {
      req.log.warn({ audit: 'oidc', event: 'refused', reason: e.reason, detail: e.providerDetail }, 'oidc sign-in refused');
      // A row of the audit table too (a failed sign-in, not a second 'refusal' row for the same answer).
      req.credentialRejected = true;
      platform.audit?.record({ event: 'sign-in-failed', principal: null, ...requestPart(req, platform), status: e.status, detail: { scheme: 'oidc', reason: e.reason } });
      return sendAdminProblem(req, reply, new AdminError(e.status, e.reason, e.message));
    }
    return sendAdminProblem(req, reply, e);
  });
  const enabled = (): OidcRelyingParty => {
    if (!rp) throw new AdminError(404, 'not-found', 'OpenID Connect sign-in is not configured on this platform (SDI_OIDC_ISSUER)');
    return rp;
  };
  const redirectUri = (req: FastifyRequest) => settings?.redirectUri ?? `${publicBaseUrl(req, platform.config)}/admin/auth/oidc/callback`;
  const query = (req: FastifyRequest) => (req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');

  app.get('/login', async (req, reply) => {
    const party = enabled();
    const unknown = [...new URLSearchParams(query(req)).keys()][0];
    if (unknown !== undefined) throw new AdminError(400, 'invalid-parameter', `Unknown parameter ${unknown.slice(0, 40)} (none is taken)`, unknown.slice(0, 40));
    const { url, state } = await party.begin(redirectUri(req));
    return reply.header('set-cookie', stateCookie(state)).header('cache-control', 'no-store').redirect(url, 302);
  });

  app.get('/callback', async (req, reply) => {
    const party = enabled();
    const q = query(req);
    const unknown = [...new URLSearchParams(q).keys()].find((k) => !CALLBACK_PARAMETERS.has(k));
    if (unknown !== undefined) throw new AdminError(400, 'invalid-parameter', `Unknown parameter ${unknown.slice(0, 40)}`, unknown.slice(0, 40));
    // The state cookie is spent whatever happens: a sign-in is tried once.
    reply.header('set-cookie', clearedStateCookie());
    const s = await party.finish(q, redirectUri(req), cookieValue(req.headers.cookie, STATE_COOKIE));
    req.log.info({ audit: 'oidc', event: 'sign-in', login: s.login, issuer: s.issuer, subject: s.subject, created: s.created, admin: s.admin }, 'oidc sign-in');
    platform.audit?.record({ event: 'sign-in', principal: s.login, ...requestPart(req, platform), status: 200, detail: { scheme: 'oidc', issuer: s.issuer, created: s.created } });
    const maxAge = Math.max(0, Math.floor((s.expiresAt.getTime() - Date.now()) / 1000));
    return reply
      .header('set-cookie', [clearedStateCookie(), sessionCookie(s.token, maxAge)])
      .header('cache-control', 'no-store')
      .send({ login: s.login, admin: s.admin, created: s.created, token: s.token, tokenType: 'Bearer', expiresAt: s.expiresAt.toISOString() });
  });

  app.post('/logout', async (req, reply) => {
    const party = enabled();
    // The session to end: the bearer token presented (verified by the principal hook), else the session cookie
    // (read here, not by the hook: a stale cookie is cleared, not refused).
    const c = credentialOf(req.headers.authorization, undefined);
    const secret = c && c !== 'malformed' && c.kind === 'bearer' ? c.secret : cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (!secret) throw new AdminError(401, 'unauthorized', 'No session to end');
    const out = await party.signOut(secret, settings?.postLogoutRedirectUri ?? `${publicBaseUrl(req, platform.config)}/admin/`);
    req.log.info({ audit: 'oidc', event: 'sign-out', login: out.login ?? null, revoked: out.login !== undefined }, 'oidc sign-out');
    // A row of the audit table too, for a session that was still open (a stale cookie ends nothing).
    if (out.login !== undefined) platform.audit?.record({ event: 'sign-out', principal: out.login, ...requestPart(req, platform), status: 200, detail: { scheme: 'oidc' } });
    return reply.header('set-cookie', clearedSessionCookie()).header('cache-control', 'no-store').send({ signedOut: true, ...(out.endSessionUrl ? { endSessionUrl: out.endSessionUrl } : {}) });
  });
}
