/**
 * OpenID Connect sign-in for the admin API (issue 11): its settings, from the environment. Off unless
 * SDI_OIDC_ISSUER is set; then the client id and secret are required. ProConnect (the State's federation, which
 * PRODIGE and the Géoplateforme move to) is an ordinary OpenID provider: its issuer, the client registered with
 * it, and the scopes it asks for (e.g. `openid email given_name usual_name siret`).
 *
 *   SDI_OIDC_ISSUER            issuer URL (discovery at …/.well-known/openid-configuration)
 *   SDI_OIDC_CLIENT_ID / SDI_OIDC_CLIENT_SECRET
 *   SDI_OIDC_REDIRECT_URI      the callback registered at the provider; default <public base URL>/admin/auth/oidc/callback
 *   SDI_OIDC_POST_LOGOUT_REDIRECT_URI  where the provider sends the browser after the logout (registered with it as a
 *                              post_logout_redirect_uri); default <public base URL>/admin/
 *   SDI_OIDC_SCOPES            space-separated; default "openid email profile" (openid is always asked)
 *   SDI_OIDC_LOGIN_CLAIM       claim giving the login of a user created at first sign-in; default "email"
 *   SDI_OIDC_GROUPS_CLAIM      claim listing the user's groups or roles at the provider (e.g. "groups", "roles")
 *   SDI_OIDC_GROUP_MAP         provider group → platform group, "partners=rt_partners,agents=dreal" (memberships of
 *                              these platform groups follow the provider at each sign-in; others are left alone)
 *   SDI_OIDC_ADMIN_GROUPS      provider groups whose members are platform administrators; when set, the admin
 *                              flag follows the provider at each sign-in; unset, it is managed in the admin API
 *   SDI_OIDC_ALLOWED_DOMAINS   e-mail domains allowed to sign in (the email claim's), comma-separated; unset: any
 *   SDI_OIDC_CREATE_USERS      create a user at first sign-in (default true); false: only linked users
 *   SDI_OIDC_LINK_EXISTING     link a first sign-in to an existing user of the same login (default false: refused,
 *                              so that an account made for a login is not taken over by whoever gets that claim)
 *   SDI_OIDC_SESSION_MINUTES   lifetime of the admin session the sign-in issues (default 480, at most 1440)
 */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri?: string;
  postLogoutRedirectUri?: string;
  scopes: string[];
  loginClaim: string;
  groupsClaim?: string;
  groupMap: Record<string, string>;
  adminGroups?: string[];
  allowedDomains?: string[];
  createUsers: boolean;
  linkExisting: boolean;
  sessionMinutes: number;
}

const list = (v: string | undefined, sep: RegExp = /\s*,\s*/) => (v ?? '').split(sep).map((s) => s.trim()).filter(Boolean);
const flag = (v: string | undefined, dflt: boolean) => (v === undefined || v === '' ? dflt : !['0', 'false', 'no'].includes(v.toLowerCase()));

/** The settings, or undefined when OIDC is not configured. Throws on an incomplete or malformed configuration. */
export function oidcSettings(env: NodeJS.ProcessEnv): OidcSettings | undefined {
  if (!env.SDI_OIDC_ISSUER) return undefined;
  let issuer: URL;
  try {
    issuer = new URL(env.SDI_OIDC_ISSUER);
  } catch {
    throw new Error('SDI_OIDC_ISSUER: not a URL');
  }
  if (issuer.protocol !== 'https:' && !isLoopback(issuer.hostname)) throw new Error('SDI_OIDC_ISSUER: https required (http only on a loopback address, for tests)');
  if (!env.SDI_OIDC_CLIENT_ID || !env.SDI_OIDC_CLIENT_SECRET) throw new Error('SDI_OIDC_ISSUER needs SDI_OIDC_CLIENT_ID and SDI_OIDC_CLIENT_SECRET');
  if (env.SDI_OIDC_REDIRECT_URI && !/^https?:\/\//.test(env.SDI_OIDC_REDIRECT_URI)) throw new Error('SDI_OIDC_REDIRECT_URI: an absolute http(s) URL');
  if (env.SDI_OIDC_POST_LOGOUT_REDIRECT_URI && !/^https?:\/\//.test(env.SDI_OIDC_POST_LOGOUT_REDIRECT_URI)) throw new Error('SDI_OIDC_POST_LOGOUT_REDIRECT_URI: an absolute http(s) URL');
  const groupMap: Record<string, string> = {};
  for (const pair of list(env.SDI_OIDC_GROUP_MAP)) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1) throw new Error(`SDI_OIDC_GROUP_MAP: '${pair}' is not provider-group=platform-group`);
    groupMap[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  const scopes = [...new Set(['openid', ...list(env.SDI_OIDC_SCOPES ?? 'openid email profile', /\s+/)])];
  const sessionMinutes = env.SDI_OIDC_SESSION_MINUTES ? Number(env.SDI_OIDC_SESSION_MINUTES) : 480;
  if (!Number.isInteger(sessionMinutes) || sessionMinutes < 1 || sessionMinutes > 1440) throw new Error('SDI_OIDC_SESSION_MINUTES: 1 to 1440');
  return {
    issuer: env.SDI_OIDC_ISSUER,
    clientId: env.SDI_OIDC_CLIENT_ID,
    clientSecret: env.SDI_OIDC_CLIENT_SECRET,
    redirectUri: env.SDI_OIDC_REDIRECT_URI || undefined,
    postLogoutRedirectUri: env.SDI_OIDC_POST_LOGOUT_REDIRECT_URI || undefined,
    scopes,
    loginClaim: env.SDI_OIDC_LOGIN_CLAIM || 'email',
    groupsClaim: env.SDI_OIDC_GROUPS_CLAIM || undefined,
    groupMap,
    adminGroups: env.SDI_OIDC_ADMIN_GROUPS !== undefined ? list(env.SDI_OIDC_ADMIN_GROUPS) : undefined,
    allowedDomains: env.SDI_OIDC_ALLOWED_DOMAINS ? list(env.SDI_OIDC_ALLOWED_DOMAINS).map((d) => d.toLowerCase()) : undefined,
    createUsers: flag(env.SDI_OIDC_CREATE_USERS, true),
    linkExisting: flag(env.SDI_OIDC_LINK_EXISTING, false),
    sessionMinutes,
  };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
