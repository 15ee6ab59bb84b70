/**
 * Issue 11: OpenID Connect sign-in to the admin API, against a real OpenID provider: oidc-provider (panva, OpenID
 * certified; a devDependency) started in this test on a free port, with our platform as a registered confidential
 * client. A platform server process of the test's own (LOG_LEVEL info, to read its audit lines) is the relying
 * party (openid-client). The browser is played with fetch: /admin/auth/oidc/login → the provider's authorization
 * endpoint → its interactions (login and consent, finished by the test's handler through the provider's
 * interactionFinished API) → the redirect to our callback with code and state. Then the session (cookie or
 * bearer) calls the admin API.
 *
 * The provider is reached through a small HTTP relay in front of it (its issuer URL is the relay's): the relay
 * passes everything through, but can re-sign the token endpoint's ID token with the provider's own key after
 * changing one claim, which is how the wrong-audience and expired-token cases are made (a real provider does not
 * issue such tokens on demand).
 */
import { describe, it, expect, beforeAll, afterAll, inject } from 'vitest';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { db, baseUrl } from '../helpers.js';
import { freePort } from '../free-port.js';
import { startServerProcess, type ServerProcess } from '../server-process.js';

const CLIENT_ID = 'sdi-admin';
const CLIENT_SECRET = 'oidc-test-client-secret-0123456789';
const DOMAIN = 'oidc-test.region-centre.fr';
const ACCOUNTS: Record<string, Record<string, unknown>> = {
  'sub-alice': { email: `alice@${DOMAIN}`, email_verified: true, name: 'Alice Martin', groups: ['sig-admins', 'sig-partners'] },
  'sub-bob': { email: `Bob@${DOMAIN}`, email_verified: true, name: 'Bob Petit', groups: ['sig-partners'] },
  'sub-eve': { email: 'eve@elsewhere.example', email_verified: true, name: 'Eve', groups: ['sig-admins'] },
  'sub-mallory': { email: `taken@${DOMAIN}`, email_verified: true, name: 'Mallory', groups: [] },
};

let server: ServerProcess;
let providerServer: Server;
let relay: Server;
let issuer = '';
let privateKey: KeyObject;
/** Who signs in at the provider next. */
let nextAccount = 'sub-alice';
/** A change made to the next ID token the relay passes on (then reset). */
let tamper: ((claims: Record<string, unknown>) => void) | undefined;

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const unb64 = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>;

/** The ID token re-signed with the provider's key after `change`. */
function resign(jwt: string, change: (claims: Record<string, unknown>) => void): string {
  const [h, p] = jwt.split('.');
  const claims = unb64(p!);
  change(claims);
  const input = `${h}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

/** The relay: passes requests to the provider, and rewrites the token endpoint's ID token when `tamper` is set. */
function relayTo(port: number) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const up = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (ur) => {
      const change = req.method === 'POST' && req.url?.startsWith('/token') ? tamper : undefined;
      if (!change) {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
        return;
      }
      tamper = undefined;
      const chunks: Buffer[] = [];
      ur.on('data', (c: Buffer) => chunks.push(c));
      ur.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id_token?: string };
        if (body.id_token) body.id_token = resign(body.id_token, change);
        const out = JSON.stringify(body);
        const headers = { ...ur.headers, 'content-length': String(Buffer.byteLength(out)) };
        res.writeHead(ur.statusCode ?? 502, headers);
        res.end(out);
      });
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  };
}

/** A cookie jar of one browser: name → value, from Set-Cookie headers. */
class Jar {
  readonly cookies = new Map<string, string>();
  take(headers: Headers): void {
    for (const c of headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

interface Flow {
  jar: Jar;
  /** The callback URL the provider redirected to (code, state, iss). */
  callback: string;
  /** The browser's cookies at the provider (its session). */
  providerJar: Jar;
}

/** Sign-in up to the provider's redirect back to us (not followed): the browser's jar and the callback URL. */
async function toCallback(account: string, jar = new Jar()): Promise<Flow> {
  nextAccount = account;
  const start = await fetch(`${server.base}/admin/auth/oidc/login`, { redirect: 'manual' });
  expect(start.status).toBe(302);
  jar.take(start.headers);
  let url = start.headers.get('location')!;
  expect(url.startsWith(`${issuer}/auth?`)).toBe(true);
  const auth = new URL(url).searchParams;
  // OIDC Core §3.1.2.1 with PKCE (RFC 7636 §4.3): code flow, S256 challenge, state and nonce.
  expect(auth.get('response_type')).toBe('code');
  expect(auth.get('code_challenge_method')).toBe('S256');
  expect(auth.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(auth.get('state')).toBeTruthy();
  expect(auth.get('nonce')).toBeTruthy();
  expect(auth.get('scope')?.split(' ')).toContain('openid');
  // The provider's own cookies are kept apart from ours (a browser keeps them per site).
  const providerJar = new Jar();
  for (let i = 0; i < 10; i++) {
    if (url.startsWith(`${server.base}/`)) return { jar, callback: url, providerJar };
    const r = await fetch(url, { redirect: 'manual', headers: { cookie: providerJar.header() } });
    providerJar.take(r.headers);
    if (r.status < 300 || r.status >= 400) throw new Error(`provider answered ${r.status}: ${(await r.text()).slice(0, 300)}`);
    url = new URL(r.headers.get('location')!, url).href;
  }
  throw new Error('too many redirects');
}

async function callback(flow: Flow, url = flow.callback) {
  const r = await fetch(url, { redirect: 'manual', headers: { cookie: flow.jar.header() } });
  flow.jar.take(r.headers);
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text(), setCookie: r.headers.getSetCookie() };
}

const adminGet = (path: string, headers: Record<string, string>) => fetch(`${server.base}/admin${path}`, { headers });
/** The lines of the server's log since `mark` (its length before the action). */
const logSince = (mark: number) => server.log().slice(mark);
/** The log since `mark` once it holds `re` (the child's stdout arrives after its HTTP answers), or as it is after 5 s. */
async function logged(mark: number, re: RegExp): Promise<string> {
  for (let i = 0; i < 50 && !re.test(logSince(mark)); i++) await new Promise((r) => setTimeout(r, 100));
  return logSince(mark);
}
const expectLogged = async (mark: number, re: RegExp) => expect(await logged(mark, re)).toMatch(re);

async function cleanUp(): Promise<void> {
  await db().query(`DELETE FROM sdi.users WHERE login LIKE $1 OR login LIKE 'eve@%'`, [`%@${DOMAIN}`]);
  await db().query(`DELETE FROM sdi.user_identities WHERE issuer LIKE 'http://127.0.0.1:%'`);
  await db().query(`DELETE FROM sdi.groups WHERE name = 'oidc_partners'`);
}

beforeAll(async () => {
  await cleanUp();
  await db().query(`INSERT INTO sdi.groups (name, title) VALUES ('oidc_partners', 'Partenaires (OIDC)')`);
  // A user made by an administrator under the login that Mallory's provider account claims.
  await db().query(`INSERT INTO sdi.users (login, display_name) VALUES ($1, 'Déjà là')`, [`taken@${DOMAIN}`]);

  const [providerPort, relayPort] = [await freePort(), await freePort()];
  issuer = `http://127.0.0.1:${relayPort}`;
  server = await startServerProcess({
    DATABASE_URL: inject('databaseUrl'),
    SDI_DEMO: '0',
    SDI_HARVEST: '0',
    SDI_DOWNLOAD_WORKERS: '0',
    SDI_ACCESS_POLICY: 'grants',
    LOG_LEVEL: 'info',
    SDI_OIDC_ISSUER: issuer,
    SDI_OIDC_CLIENT_ID: CLIENT_ID,
    SDI_OIDC_CLIENT_SECRET: CLIENT_SECRET,
    SDI_OIDC_SCOPES: 'openid email profile groups',
    SDI_OIDC_GROUPS_CLAIM: 'groups',
    SDI_OIDC_GROUP_MAP: 'sig-partners=oidc_partners',
    SDI_OIDC_ADMIN_GROUPS: 'sig-admins',
    SDI_OIDC_ALLOWED_DOMAINS: DOMAIN,
    SDI_OIDC_SESSION_MINUTES: '30',
  });

  // The provider: our platform as a confidential client; accounts from ACCOUNTS; its signing key known to the test.
  const { default: Provider } = await import('oidc-provider');
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKey = keys.privateKey;
  const jwk = { ...keys.privateKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const provider = new Provider(issuer, {
    clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [`${server.base}/admin/auth/oidc/callback`], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_post', post_logout_redirect_uris: [`${server.base}/admin/`] }],
    jwks: { keys: [jwk] },
    cookies: { keys: ['oidc-test-cookie-key'] },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: async (_ctx: unknown, id: string) => (ACCOUNTS[id] ? { accountId: id, claims: async () => ({ sub: id, ...ACCOUNTS[id] }) } : undefined),
  } as never) as unknown as ProviderApi;
  const callbackHandler = provider.callback();
  providerServer = createServer((req, res) => {
    if (!req.url?.startsWith('/interaction/')) return void callbackHandler(req, res);
    // The provider's login and consent pages, played by the test: the user is nextAccount, who consents to what is asked.
    (async () => {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'login') return provider.interactionFinished(req, res, { login: { accountId: nextAccount } }, { mergeWithLastSubmission: false });
      const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
      grant!.addOIDCScope(String(details.params.scope));
      return provider.interactionFinished(req, res, { consent: { grantId: await grant!.save() } }, { mergeWithLastSubmission: true });
    })().catch((e: Error) => res.writeHead(500).end(e.message));
  });
  await new Promise<void>((r) => providerServer.listen(providerPort, '127.0.0.1', r));
  relay = createServer(relayTo(providerPort));
  await new Promise<void>((r) => relay.listen(relayPort, '127.0.0.1', r));
}, 120_000);

afterAll(async () => {
  server?.stop();
  relay?.close();
  providerServer?.close();
  await cleanUp();
});

/** What the test uses of oidc-provider's API (its types are not bundled). */
interface GrantApi {
  addOIDCScope(scope: string): void;
  save(): Promise<string>;
}
interface ProviderApi {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<{ prompt: { name: string }; grantId?: string; session?: { accountId: string }; params: Record<string, unknown> }>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: unknown, opts: { mergeWithLastSubmission: boolean }): Promise<void>;
  Grant: { new (o: { accountId: string; clientId: string }): GrantApi; find(id: string): Promise<GrantApi | undefined> };
}

describe('issue 11: OpenID Connect sign-in to the admin API (OIDC Core 1.0 §3.1, RFC 7636 PKCE)', () => {
  it('not configured (the suite server): the routes answer 404 problem+json', async () => {
    for (const [method, path] of [['GET', '/admin/auth/oidc/login'], ['GET', '/admin/auth/oidc/callback?code=x&state=y'], ['POST', '/admin/auth/oidc/logout']] as const) {
      const r = await fetch(`${baseUrl()}${path}`, { method, redirect: 'manual' });
      expect(r.status, path).toBe(404);
      expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
  });

  it('§3.1.2–3.1.3: code flow with PKCE → user created and linked by (iss, sub), groups mapped, an admin session (cookie and bearer) that the admin API accepts', async () => {
    const mark = server.log().length;
    const flow = await toCallback('sub-alice');
    const cb = new URL(flow.callback);
    expect(cb.searchParams.get('code')).toBeTruthy();
    expect(cb.searchParams.get('iss')).toBe(issuer); // RFC 9207
    const r = await callback(flow);
    expect(r.status, r.body).toBe(200);
    const body = JSON.parse(r.body) as { login: string; admin: boolean; created: boolean; token: string; expiresAt: string };
    expect(body).toMatchObject({ login: `alice@${DOMAIN}`, admin: true, created: true });
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(Date.parse(body.expiresAt) - Date.now()).toBeLessThanOrEqual(30 * 60_000);
    const session = r.setCookie.find((c) => c.startsWith('__Host-sdi-admin='))!;
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/Secure/);
    expect(session).toMatch(/SameSite=Strict/);
    expect(session).toMatch(/Path=\//);
    expect(r.setCookie.some((c) => /^sdi-oidc-state=;/.test(c))).toBe(true);
    // In the store: the identity, the user (no password), the mapped group, the session as an admin-scope token.
    const { rows } = await db().query(
      `SELECT u.login, u.is_admin, u.password_hash, u.display_name, u.email, i.subject,
              ARRAY(SELECT g.name FROM sdi.group_members m JOIN sdi.groups g ON g.id = m.group_id WHERE m.user_id = u.id) AS groups,
              (SELECT array_agg(t.scopes[1]) FROM sdi.api_tokens t WHERE t.user_id = u.id AND t.name = 'oidc-session') AS sessions
         FROM sdi.user_identities i JOIN sdi.users u ON u.id = i.user_id WHERE i.issuer = $1 AND i.subject = 'sub-alice'`,
      [issuer],
    );
    expect(rows).toEqual([{ login: `alice@${DOMAIN}`, is_admin: true, password_hash: null, display_name: 'Alice Martin', email: `alice@${DOMAIN}`, subject: 'sub-alice', groups: ['oidc_partners'], sessions: ['admin'] }]);
    // The session works on the admin API as the cookie (a browser) and as a bearer token (a script).
    const byCookie = await adminGet('/users', { cookie: flow.jar.header() });
    expect(byCookie.status).toBe(200);
    expect(((await byCookie.json()) as { users: Array<{ login: string }> }).users.map((u) => u.login)).toContain(`alice@${DOMAIN}`);
    expect((await adminGet('/users', { authorization: `Bearer ${body.token}` })).status).toBe(200);
    const api = (await (await adminGet('/openapi.json', { cookie: flow.jar.header() })).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(api.paths)).toEqual(expect.arrayContaining(['/auth/oidc/login', '/auth/oidc/callback', '/auth/oidc/logout']));
    // The cookie is for the admin API only: elsewhere it is not read (anonymous, not a token out of its scope).
    expect((await fetch(`${server.base}/ogcapi/collections`, { headers: { cookie: flow.jar.header() } })).status).toBe(200);
    await expectLogged(mark, /"audit":"oidc","event":"sign-in","login":"alice@oidc-test\.region-centre\.fr"/);
    expect(logSince(mark)).not.toContain(body.token);
  });

  it('a second sign-in of the same subject finds the same user (not a new one); a user outside the admin groups gets a session the admin API refuses (403)', async () => {
    const again = await callback(await toCallback('sub-alice'));
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body)).toMatchObject({ login: `alice@${DOMAIN}`, created: false });
    expect(Number((await db().query(`SELECT count(*) AS n FROM sdi.users WHERE login = $1`, [`alice@${DOMAIN}`])).rows[0].n)).toBe(1);

    const bob = await callback(await toCallback('sub-bob'));
    expect(bob.status, bob.body).toBe(200);
    // The login claim (email) is taken in lower case.
    expect(JSON.parse(bob.body)).toMatchObject({ login: `bob@${DOMAIN}`, admin: false, created: true });
    const r = await adminGet('/users', { authorization: `Bearer ${(JSON.parse(bob.body) as { token: string }).token}` });
    expect(r.status).toBe(403);
    expect(r.headers.get('content-type')).toMatch(/problem\+json/);
  });

  it('RFC 6749 §10.12: a callback whose state is not this browser’s, or unknown, is refused (400), logged, and creates no session', async () => {
    const tokensBefore = Number((await db().query(`SELECT count(*) AS n FROM sdi.api_tokens WHERE name = 'oidc-session'`)).rows[0].n);
    const mark = server.log().length;
    // Another browser's callback (login CSRF): this browser's state cookie differs.
    const victim = await toCallback('sub-alice');
    const attacker = await toCallback('sub-bob');
    const crossed = await callback(victim, attacker.callback);
    expect(crossed.status).toBe(400);
    expect(JSON.parse(crossed.body)).toMatchObject({ status: 400, type: 'urn:sdi:problem:admin:state-mismatch' });
    // No state cookie at all.
    const bare = await fetch(attacker.callback, { redirect: 'manual' });
    expect(bare.status).toBe(400);
    // A state this server never issued (cookie and parameter agree, but nothing is pending under it).
    const forged = `${server.base}/admin/auth/oidc/callback?code=abc&state=${randomUUID()}`;
    const f = await callback({ jar: Object.assign(new Jar(), { cookies: new Map([['sdi-oidc-state', new URL(forged).searchParams.get('state')!]]) }), callback: forged });
    expect(f.status).toBe(400);
    expect(JSON.parse(f.body).type).toBe('urn:sdi:problem:admin:unknown-state');
    expect(f.body).not.toMatch(/at .*\.js|SELECT|sdi\./);
    // Unknown parameters are refused too.
    expect((await fetch(`${attacker.callback}&debug=1`, { headers: { cookie: attacker.jar.header() } })).status).toBe(400);
    expect(Number((await db().query(`SELECT count(*) AS n FROM sdi.api_tokens WHERE name = 'oidc-session'`)).rows[0].n)).toBe(tokensBefore);
    await expectLogged(mark, /"audit":"oidc","event":"refused","reason":"state-mismatch"/);
    await expectLogged(mark, /"audit":"oidc","event":"refused","reason":"unknown-state"/);
  });

  it('RFC 6749 §4.1.2 / §10.5: a replayed authorization code is refused — by the spent state (400), and by the provider with a fresh state (401 invalid_grant)', async () => {
    const mark = server.log().length;
    const flow = await toCallback('sub-alice');
    expect((await callback(flow)).status).toBe(200);
    // The same callback again: the pending sign-in was consumed.
    const jar = new Jar();
    jar.cookies.set('sdi-oidc-state', new URL(flow.callback).searchParams.get('state')!);
    const replay = await callback({ jar, callback: flow.callback });
    expect(replay.status).toBe(400);
    // The used code under a new, valid state (another sign-in started by this browser): the provider refuses it.
    const fresh = await toCallback('sub-alice');
    const swapped = new URL(fresh.callback);
    swapped.searchParams.set('code', new URL(flow.callback).searchParams.get('code')!);
    const r = await callback(fresh, swapped.href);
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body).type).toBe('urn:sdi:problem:admin:provider-invalid_grant');
    expect(r.setCookie.some((c) => c.startsWith('__Host-sdi-admin='))).toBe(false);
    await expectLogged(mark, /"reason":"provider-invalid_grant"/);
  });

  it('OIDC Core §3.1.3.7: an ID token for another audience, or expired, is refused (401) and logged; no user, no session', async () => {
    const tokensBefore = Number((await db().query(`SELECT count(*) AS n FROM sdi.api_tokens WHERE name = 'oidc-session'`)).rows[0].n);
    const mark = server.log().length;
    const cases: Array<[string, (c: Record<string, unknown>) => void, RegExp]> = [
      ['wrong audience', (c) => void (c.aud = 'another-client'), /^claim-mismatch-aud$/],
      ['expired', (c) => void Object.assign(c, { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }), /^token-expired$/],
    ];
    for (const [what, change, reason] of cases) {
      const flow = await toCallback('sub-alice');
      tamper = change;
      const r = await callback(flow);
      expect(tamper, `${what}: the relay changed the token`).toBeUndefined();
      expect(r.status, `${what}: ${r.body}`).toBe(401);
      const problem = JSON.parse(r.body) as { type: string; detail: string };
      expect(problem.type.slice('urn:sdi:problem:admin:'.length), what).toMatch(reason);
      expect(problem.detail).not.toMatch(/aud|exp|JWT/);
    }
    // The same relay, untouched, lets a good token through (the refusals were the claims', not the re-signing's).
    const ok = await toCallback('sub-alice');
    tamper = (c) => void c; // re-signed, unchanged
    expect((await callback(ok)).status).toBe(200);
    expect(Number((await db().query(`SELECT count(*) AS n FROM sdi.api_tokens WHERE name = 'oidc-session'`)).rows[0].n)).toBe(tokensBefore + 1);
    await expectLogged(mark, /"reason":"claim-mismatch-aud"/);
    await expectLogged(mark, /"reason":"token-expired"/);
    expect(logSince(mark).match(/"audit":"oidc","event":"refused"/g)?.length).toBe(2);
    // Rows of the audit table too (written in batches: wait for them): the two failures and the sign-in.
    const rows = async () =>
      (await db().query(`SELECT event, principal, status, detail->>'reason' AS reason FROM sdi.audit_log WHERE detail->>'scheme' = 'oidc' AND at > now() - interval '5 minutes' ORDER BY id`)).rows as Array<{ event: string; principal: string | null; status: number; reason: string | null }>;
    for (let i = 0; i < 50 && !(await rows()).some((r) => r.reason === 'token-expired'); i++) await new Promise((r) => setTimeout(r, 200));
    const audit = await rows();
    expect(audit).toEqual(expect.arrayContaining([
      { event: 'sign-in-failed', principal: null, status: 401, reason: 'claim-mismatch-aud' },
      { event: 'sign-in-failed', principal: null, status: 401, reason: 'token-expired' },
      { event: 'sign-in', principal: `alice@${DOMAIN}`, status: 200, reason: null },
    ]));
    // One row per refused answer: no second 'refusal' row for the same request.
    expect((await db().query(`SELECT count(*)::int AS n FROM sdi.audit_log WHERE event = 'refusal' AND path = '/admin/auth/oidc/callback' AND at > now() - interval '5 minutes'`)).rows[0].n).toBe(0);
  });

  it('platform rules: an e-mail domain not allowed, and a login held by an unlinked user, are refused (403); nothing is created', async () => {
    const eve = await callback(await toCallback('sub-eve'));
    expect(eve.status).toBe(403);
    expect(JSON.parse(eve.body).type).toBe('urn:sdi:problem:admin:domain-not-allowed');
    const mallory = await callback(await toCallback('sub-mallory'));
    expect(mallory.status).toBe(403);
    expect(JSON.parse(mallory.body).type).toBe('urn:sdi:problem:admin:login-taken');
    const { rows } = await db().query(`SELECT subject FROM sdi.user_identities WHERE issuer = $1 AND subject IN ('sub-eve', 'sub-mallory')`, [issuer]);
    expect(rows).toEqual([]);
    expect((await db().query(`SELECT 1 FROM sdi.users WHERE login LIKE 'eve@%'`)).rowCount).toBe(0);
  });

  it('an expired session is refused (401); logout revokes the session at once and clears the cookie', async () => {
    const expired = JSON.parse((await callback(await toCallback('sub-alice'))).body) as { token: string };
    await db().query(`UPDATE sdi.api_tokens SET expires_at = now() - interval '1 second' WHERE secret_sha256 = sha256(convert_to($1, 'UTF8'))`, [expired.token]);
    expect((await adminGet('/users', { authorization: `Bearer ${expired.token}` })).status).toBe(401);

    const flow = await toCallback('sub-alice');
    expect((await callback(flow)).status).toBe(200);
    expect((await adminGet('/users', { cookie: flow.jar.header() })).status).toBe(200);
    // The session's ID token is kept for the logout (migration 0032).
    const sessionToken = flow.jar.cookies.get('__Host-sdi-admin')!;
    const kept = `SELECT 1 FROM sdi.oidc_sessions o JOIN sdi.api_tokens t ON t.id = o.token_id WHERE t.secret_sha256 = sha256(convert_to($1, 'UTF8'))`;
    expect((await db().query(kept, [sessionToken])).rowCount).toBe(1);
    const mark = server.log().length;
    const out = await fetch(`${server.base}/admin/auth/oidc/logout`, { method: 'POST', headers: { cookie: flow.jar.header() } });
    expect(out.status).toBe(200);
    const body = (await out.json()) as { signedOut: boolean; endSessionUrl?: string };
    expect(body.signedOut).toBe(true);
    // RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2): the provider's end_session_endpoint, with
    // the session's ID token as id_token_hint (issued to us, for Alice) and where to come back.
    expect(body.endSessionUrl?.startsWith(`${issuer}/session/end`)).toBe(true);
    const end = new URL(body.endSessionUrl!);
    expect(end.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${server.base}/admin/`);
    const hint = unb64(end.searchParams.get('id_token_hint')!.split('.')[1]!);
    expect(hint).toMatchObject({ iss: issuer, sub: 'sub-alice', aud: CLIENT_ID });
    // The ID token is forgotten with the session.
    expect((await db().query(kept, [sessionToken])).rowCount).toBe(0);
    // The browser follows it: the provider accepts the hint and the redirect URI (its confirmation form, §2), and
    // once the user confirms, ends its own session and sends the browser back to the platform (§3).
    const ask = await fetch(end, { redirect: 'manual', headers: { cookie: flow.providerJar.header() } });
    const form = await ask.text();
    expect(ask.status, form.slice(0, 300)).toBe(200);
    flow.providerJar.take(ask.headers);
    const action = /<form[^>]*action="([^"]+)"/.exec(form)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(form)?.[1];
    expect(action && xsrf, form.slice(0, 300)).toBeTruthy();
    const confirm = await fetch(new URL(action!, issuer), { method: 'POST', redirect: 'manual', headers: { cookie: flow.providerJar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ xsrf: xsrf!, logout: 'yes' }) });
    expect([302, 303]).toContain(confirm.status);
    expect(confirm.headers.get('location')).toBe(`${server.base}/admin/`);
    // The sign-out is a row of the audit log (written in batches: waited for).
    let rows = 0;
    for (let i = 0; i < 50 && rows === 0; i++) {
      rows = (await db().query(`SELECT 1 FROM sdi.audit_log WHERE event = 'sign-out' AND principal = $1 AND detail->>'scheme' = 'oidc' AND at > now() - interval '5 minutes'`, [`alice@${DOMAIN}`])).rowCount ?? 0;
      if (rows === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(rows).toBe(1);
    expect(out.headers.getSetCookie().some((c) => /^__Host-sdi-admin=;.*Max-Age=0/.test(c))).toBe(true);
    const cookie = flow.jar.header();
    flow.jar.take(out.headers);
    // The old cookie, replayed: refused at once (the cache of verified credentials was emptied).
    expect((await adminGet('/users', { cookie })).status).toBe(401);
    await expectLogged(mark, /"audit":"oidc","event":"sign-out"/);
    // Without a session: nothing to end.
    expect((await fetch(`${server.base}/admin/auth/oidc/logout`, { method: 'POST' })).status).toBe(401);
    // A stale cookie does not stop its holder from signing in again, nor out (it is cleared).
    expect((await fetch(`${server.base}/admin/auth/oidc/login`, { redirect: 'manual', headers: { cookie } })).status).toBe(302);
    const again = await fetch(`${server.base}/admin/auth/oidc/logout`, { method: 'POST', headers: { cookie } });
    expect(again.status).toBe(200);
    expect(again.headers.getSetCookie().some((c) => /^__Host-sdi-admin=;/.test(c))).toBe(true);
  });
});
