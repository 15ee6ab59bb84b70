/**
 * The caller on every request (issues 8 and 11): an onRequest hook resolves the principal once, from the
 * request's credential (src/access/authenticate.ts: HTTP Basic, a bearer token, or an `access_token` URL
 * parameter), before any service sees the request; services, background jobs and feeds read it with
 * callerOf(req) and pass it to the planner and the policy.
 *
 * The `access_token` parameter is taken out of the URL here, before any protocol reads its parameters (so that
 * the OGC readers' unknown-parameter checks never see it, and it is never echoed in a document or a log line).
 * A credential that is presented but not valid is refused at once: 401 in the format of the URL's service, with
 * a WWW-Authenticate challenge (RFC 9110 §11.6.1, RFC 6750 §3); a token used outside its scopes: 403
 * (insufficient_scope, RFC 6750 §3.1). No body is read first.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../platform.js';
import { ANONYMOUS, type Principal } from '../access/policy.js';
import { Authenticator, credentialOf } from '../access/authenticate.js';
import type { TokenScope } from '../access/accounts.js';
import { adminSessionOf } from '../access/session-cookie.js';
import { sendProblem, serviceOf } from './http-errors.js';
import { tooMany, type SignInGuard } from './rate-limit.js';
import { auditSignIn } from '../audit/hook.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
    credentialRejected: boolean;
    /** The access_token the caller was authenticated with, when it came in the URL: documents whose links the client
     *  follows without adding it (WMS GetFeatureInfo and legend URLs, as QGIS does) carry it on (GeoServer's authkey does so too). */
    urlAccessToken?: string;
  }
}

export const WWW_AUTHENTICATE = 'Basic realm="sdi", charset="UTF-8", Bearer realm="sdi"';

/** The token scope a URL needs: its service's family; undefined for the service documents (/, /healthz). */
export function scopeOf(url: string): TokenScope | undefined {
  const path = url.split('?')[0] ?? '';
  if (path === '/admin' || path.startsWith('/admin/')) return 'admin';
  if (path === '/dcat' || path.startsWith('/dcat/') || path === '/records' || path.startsWith('/records/')) return 'catalogue';
  switch (serviceOf(url)) {
    case 'wfs':
    case 'ogcapi':
      return 'features';
    case 'wms':
      return 'maps';
    case 'download':
      return 'download';
    case 'csw':
      return 'catalogue';
    default:
      return undefined;
  }
}

const ACCESS_TOKEN = /^access_token$/i;

/** The URL without its access_token parameter(s), and their values. */
export function withoutAccessToken(url: string): { url: string; tokens: string[] } {
  const q = url.indexOf('?');
  if (q < 0) return { url, tokens: [] };
  const tokens: string[] = [];
  const kept = url
    .slice(q + 1)
    .split('&')
    .filter((pair) => {
      const eq = pair.indexOf('=');
      let name = eq < 0 ? pair : pair.slice(0, eq);
      try {
        name = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        return true;
      }
      if (!ACCESS_TOKEN.test(name)) return true;
      try {
        tokens.push(eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' ')));
      } catch {
        tokens.push('');
      }
      return false;
    });
  return { url: kept.length ? `${url.slice(0, q)}?${kept.join('&')}` : url.slice(0, q), tokens };
}

export function registerPrincipal(app: FastifyInstance, platform: Platform, signIns?: SignInGuard): void {
  const authenticator = new Authenticator(platform.pool, platform.config.adminToken);
  app.decorateRequest('principal', null as unknown as Principal);
  app.decorateRequest('credentialRejected', false);
  app.decorateRequest('urlAccessToken', undefined);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    req.principal = ANONYMOUS;
    let urlToken: string | undefined;
    if (/access_token/i.test(req.raw.url ?? '')) {
      const { url, tokens } = withoutAccessToken(req.raw.url ?? '/');
      req.raw.url = url;
      const query = req.query as Record<string, unknown> | undefined;
      if (query && typeof query === 'object') for (const k of Object.keys(query)) if (ACCESS_TOKEN.test(k)) delete query[k];
      // Two tokens, or a token with a header too: which one counts would be a guess.
      urlToken = tokens.length === 1 && req.headers.authorization === undefined ? tokens[0] : tokens.length ? '' : undefined;
    }
    // No header nor URL token: on /admin, the session cookie of an OpenID Connect sign-in (src/access/session-cookie.ts).
    const credential = credentialOf(req.headers.authorization, urlToken ?? adminSessionOf(req.url, req.headers.cookie));
    if (credential === undefined) return;
    // Too many failed sign-ins of this login or address: refused before the credential is even checked.
    const locked = await signIns?.lockedFor(req, credential);
    if (locked !== undefined) return tooMany(req, reply, locked, 'Too many failed sign-ins for this login or address');
    const auth = credential === 'malformed' ? undefined : await authenticator.authenticate(credential);
    const login = credential !== 'malformed' && credential.kind === 'basic' ? credential.login : auth?.principal.login;
    if (auth?.fresh) auditSignIn(platform, req, credential, login, true);
    if (!auth) {
      await signIns?.failed(req, credential);
      auditSignIn(platform, req, credential, login, false);
      req.credentialRejected = true;
      req.log.info({ auth: 'refused', scheme: credential === 'malformed' ? 'malformed' : credential.kind }, 'credential refused');
      return sendProblem(req, reply, { status: 401, code: 'NoApplicableCode', slug: 'invalid-credentials', detail: 'The credential presented is not valid (wrong login or password, or an unknown, expired or revoked token)', locator: 'Authorization' }, { 'www-authenticate': WWW_AUTHENTICATE });
    }
    // Set before the scope check: a token refused for its scope is still its owner's, and the audit log's refusal
    // row (src/audit/hook.ts, read from req.principal) must say whose it was (it said nobody's).
    req.principal = auth.scopes ? { ...auth.principal, scopes: auth.scopes, ...(auth.tokenId !== undefined ? { tokenId: auth.tokenId } : {}) } : auth.principal;
    const scope = scopeOf(req.url);
    // An edit token works on the features services (it edits there; reading is part of editing).
    if (auth.scopes && scope && !auth.scopes.includes(scope) && !(scope === 'features' && auth.scopes.includes('edit'))) {
      req.log.info({ auth: 'out-of-scope', login: auth.principal.login, scope }, 'token used outside its scopes');
      return sendProblem(req, reply, { status: 403, code: 'NoApplicableCode', slug: 'insufficient-scope', detail: `This token is not valid for this service (scope '${scope}' needed)`, locator: 'Authorization' }, { 'www-authenticate': `Bearer realm="sdi", error="insufficient_scope", scope="${scope}"` });
    }
    // A URL token is the credential only when no Authorization header came (see credentialOf).
    if (urlToken && req.headers.authorization === undefined) req.urlAccessToken = urlToken;
  });
}

/** The caller of a request (anonymous when the hook did not run, e.g. a request built by a test). */
export function callerOf(req: FastifyRequest): Principal {
  return req.principal ?? ANONYMOUS;
}
