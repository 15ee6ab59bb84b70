/**
 * Rate limits (issue 11, hardening), with @fastify/rate-limit's limiters called from our own hooks, on a store whose
 * counts hold across the serving processes of the deployment (src/server/rate-limit-store.ts: LocalStore's counting
 * per process plus the other processes' counts, relayed by the supervisor without a round trip per request), so that the order against the principal hook is ours and a refusal is
 * written in the URL's protocol format (src/server/http-errors.ts) with Retry-After:
 *  - per client address (before any credential is verified: a flood costs no hash), SDI_RATE_LIMIT_IP;
 *  - per principal (the signed-in login, whichever address it comes from), SDI_RATE_LIMIT_PRINCIPAL;
 *  - per API token (its id, within its login's budget), SDI_RATE_LIMIT_TOKEN, off by default;
 *  - failed sign-ins (wrong password, unknown or revoked token, malformed credential), stricter: per login
 *    (SDI_RATE_LIMIT_SIGNIN_LOGIN) and per address (SDI_RATE_LIMIT_SIGNIN_IP) within SDI_RATE_LIMIT_SIGNIN_WINDOW_MS;
 *    over either, every credential of that login or address is refused with 429 until the window ends (the
 *    lockout), before it is checked, so that guessing stops costing us a hash and gains nothing.
 * Addresses of SDI_RATE_LIMIT_EXEMPT (default: loopback, e.g. a local reverse proxy not declared in
 * SDI_TRUSTED_PROXIES, or health probes) escape the request limits and the per-address sign-in limit, not the
 * per-login one. The client address is the one quotas use (src/net/client-address.ts: forwarding headers only
 * from SDI_TRUSTED_PROXIES).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Platform } from '../platform.js';
import type { Credential } from '../access/authenticate.js';
import { clientAddress } from '../net/client-address.js';
import { NetworkList } from '../net/address.js';
import { sendProblem } from './http-errors.js';
import { ClusterRateLimitStore } from './rate-limit-store.js';

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;
type Outcome = Awaited<ReturnType<Limiter>>;

/** Paths never limited: liveness and readiness probes. */
const UNLIMITED = new Set(['/healthz', '/readyz']);

/** The sign-in guard the principal hook consults around the verification of a credential. */
export interface SignInGuard {
  /** Seconds to wait when this credential's login or address is locked out, else undefined. Counts nothing. */
  lockedFor(req: FastifyRequest, c: Credential | 'malformed'): Promise<number | undefined>;
  /** A credential was refused: count it against its login and address. */
  failed(req: FastifyRequest, c: Credential | 'malformed'): Promise<void>;
}

/**
 * The counting key of an address: an IPv4 address itself, an IPv6 address by its /64 (one subscriber's network:
 * a client that changes addresses inside it is still one client).
 */
export function addressKey(a: string): string {
  if (!a.includes(':')) return a;
  const [head = '', tail = ''] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t] : h;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

const retryAfter = (o: Outcome) => (o.isAllowed ? 0 : Math.max(1, o.ttlInSeconds));
const exceeded = (o: Outcome) => !o.isAllowed && o.isExceeded;

export function tooMany(req: FastifyRequest, reply: FastifyReply, seconds: number, detail: string): FastifyReply {
  return sendProblem(req, reply, { status: 429, code: 'NoApplicableCode', slug: 'too-many-requests', detail: `${detail}; retry in ${seconds} s` }, { 'retry-after': String(seconds) });
}

export interface RateLimits {
  /** onRequest, before the principal is known. */
  perAddress(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
  /** onRequest, once the principal is known. */
  perPrincipal(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
  signIns: SignInGuard;
}

export async function registerRateLimits(app: FastifyInstance, platform: Platform): Promise<RateLimits> {
  const cfg = platform.config.rateLimit;
  const exempt = new NetworkList(cfg.exempt);
  const address = (req: FastifyRequest) => clientAddress(req, platform.config.trustedProxies);
  // global: false: the plugin adds no hook of its own; the limiters below are called by ours.
  await app.register(rateLimit, { global: false, skipOnError: true, store: ClusterRateLimitStore } as Parameters<typeof rateLimit>[1]);
  // Each limiter has a store of its own (an LRU of 50,000 keys).
  const limiter = (max: number, timeWindow: number, key: (req: FastifyRequest) => string) =>
    app.createRateLimit({ max, timeWindow, keyGenerator: key, cache: 50_000 } as Parameters<FastifyInstance['createRateLimit']>[0]);
  const byAddress = cfg.perIp > 0 ? limiter(cfg.perIp, cfg.windowMs, (req) => `ip|${addressKey(address(req))}`) : undefined;
  const byPrincipal = cfg.perPrincipal > 0 ? limiter(cfg.perPrincipal, cfg.windowMs, (req) => `principal|${req.principal?.login ?? ''}`) : undefined;
  const byToken = cfg.perToken > 0 ? limiter(cfg.perToken, cfg.windowMs, (req) => `token|${req.principal?.tokenId ?? ''}`) : undefined;
  // Failed sign-ins: the key is computed from the credential, so the request is not what is keyed (the key
  // generator reads it from a per-call slot).
  let current = '';
  const failures = (max: number) => (max > 0 ? limiter(max, cfg.signInWindowMs, () => current) : undefined);
  const loginFailures = failures(cfg.signInPerLogin);
  const addressFailures = failures(cfg.signInPerIp);
  const keysOf = (req: FastifyRequest, c: Credential | 'malformed') => {
    const keys: Array<[Limiter, string]> = [];
    if (loginFailures && c !== 'malformed' && c.kind === 'basic') keys.push([loginFailures, `login|${c.login.toLowerCase()}`]);
    const a = address(req);
    if (addressFailures && !exempt.has(a)) keys.push([addressFailures, `signin-ip|${addressKey(a)}`]);
    return keys;
  };
  const run = (l: Limiter, key: string, req: FastifyRequest, increment: boolean) => {
    // The key generator runs synchronously at the start of the call (before its first await).
    current = key;
    return l(req, { increment });
  };
  const limited = (path: string) => UNLIMITED.has(path);
  return {
    async perAddress(req, reply) {
      if (!byAddress || limited(req.url.split('?')[0]!) || exempt.has(address(req))) return undefined;
      const o = await byAddress(req);
      if (exceeded(o)) return tooMany(req, reply, retryAfter(o), 'Too many requests from this address');
      return undefined;
    },
    async perPrincipal(req, reply) {
      if (req.principal?.login === undefined || limited(req.url.split('?')[0]!) || exempt.has(address(req))) return undefined;
      // The token's own budget first: a token over it is refused without spending its login's.
      if (byToken && req.principal.tokenId !== undefined) {
        const t = await byToken(req);
        if (exceeded(t)) return tooMany(req, reply, retryAfter(t), 'Too many requests for this token');
      }
      if (!byPrincipal) return undefined;
      const o = await byPrincipal(req);
      if (exceeded(o)) return tooMany(req, reply, retryAfter(o), 'Too many requests for this account');
      return undefined;
    },
    signIns: {
      async lockedFor(req, c) {
        let wait = 0;
        for (const [l, key] of keysOf(req, c)) {
          const o = await run(l, key, req, false);
          // A peek reports the count so far: locked once the failures reached the maximum.
          if (!o.isAllowed && (o.isExceeded || o.remaining <= 0)) wait = Math.max(wait, retryAfter(o));
        }
        return wait > 0 ? wait : undefined;
      },
      async failed(req, c) {
        for (const [l, key] of keysOf(req, c)) await run(l, key, req, true);
      },
    },
  };
}
