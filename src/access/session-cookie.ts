/**
 * The admin session cookie of an OpenID Connect sign-in (issue 11, src/access/oidc.ts), and the cookie that binds a
 * sign-in under way to its browser. The session cookie carries the session's API token; it is HttpOnly (no script
 * reads it), Secure, SameSite=Strict (never sent with a request started from another site: no CSRF on the admin
 * API), `__Host-` (set by this host only, path /), and read on /admin paths only, where the token's admin scope
 * applies. The state cookie is SameSite=Lax: it must come back with the provider's top-level redirect.
 */
export const SESSION_COOKIE = '__Host-sdi-admin';
export const STATE_COOKIE = 'sdi-oidc-state';
const STATE_PATH = '/admin/auth/oidc';

/** The value of cookie `name` in a Cookie header (RFC 6265 §5.4), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1') || undefined;
  }
  return undefined;
}

/**
 * The session token of a request to the admin API that carries no other credential. Not on the sign-in routes
 * themselves: a stale cookie (revoked, or its user disabled) must not stop its holder from signing in again or
 * out (the logout route reads the cookie itself).
 */
export function adminSessionOf(url: string, cookieHeader: string | undefined): string | undefined {
  const path = url.split('?')[0] ?? '';
  if (path.startsWith(`${STATE_PATH}/`)) return undefined;
  return path === '/admin' || path.startsWith('/admin/') ? cookieValue(cookieHeader, SESSION_COOKIE) : undefined;
}

export const sessionCookie = (token: string, maxAgeSeconds: number) => `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Strict`;
export const clearedSessionCookie = () => `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;
export const stateCookie = (state: string) => `${STATE_COOKIE}=${state}; Path=${STATE_PATH}; Max-Age=600; HttpOnly; Secure; SameSite=Lax`;
export const clearedStateCookie = () => `${STATE_COOKIE}=; Path=${STATE_PATH}; Max-Age=0; HttpOnly; Secure; SameSite=Lax`;
