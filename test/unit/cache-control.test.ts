/**
 * Issue 11, caching of answers that depend on the caller: a tile of a layer anyone may see may be kept by shared
 * caches; a tile of a restricted layer, or any answer to an authenticated caller, is `private` (RFC 9111 §5.2.2.7),
 * and never says `public` beside it (§5.2.2.9: the two contradict each other).
 */
import { describe, expect, it } from 'vitest';
import { privateCacheControl } from '../../src/server/cache-control.js';
import { tileCacheControl, visibleToEveryone } from '../../src/tiles/cache-control.js';
import { PublicPolicy, DenyAllPolicy, ANONYMOUS, type Principal } from '../../src/access/policy.js';
import type { Layer } from '../../src/catalog/layers.js';

describe('privateCacheControl (an authenticated answer)', () => {
  it('replaces public and s-maxage by private, keeps the rest', () => {
    expect(privateCacheControl('public, max-age=60')).toBe('private, max-age=60');
    expect(privateCacheControl('public, s-maxage=600, max-age=60')).toBe('private, max-age=60');
    expect(privateCacheControl('no-cache')).toBe('private, no-cache');
  });
  it('leaves an answer already private or not stored as it is', () => {
    expect(privateCacheControl('private, max-age=0')).toBe('private, max-age=0');
    expect(privateCacheControl('no-store')).toBe('no-store');
    expect(privateCacheControl('private, no-store')).toBe('private, no-store');
  });
});

describe('tileCacheControl (a tile)', () => {
  const layer = { name: 'communes', public: true } as unknown as Layer;
  it('a tile drawn for one caller (bypass) is private and stale at once', () => {
    expect(tileCacheControl('bypass', true)).toBe('private, max-age=0');
  });
  it('a cached tile is public only when everyone may see the layer', () => {
    expect(tileCacheControl('hit', true)).toBe('public, max-age=60');
    expect(tileCacheControl('miss', false)).toBe('private, max-age=60');
  });
  it('"everyone" is the policy asked for an anonymous caller, whatever the actual caller holds', () => {
    expect(visibleToEveryone(new PublicPolicy(), { layer })).toBe(true);
    expect(visibleToEveryone(new DenyAllPolicy(), { layer })).toBe(false);
    // A policy that lets every signed-in caller see the layer, not anonymous: the tile is not for shared caches.
    class SignedIn extends PublicPolicy {
      decide(p: Principal, l: Layer, a: 'view') {
        return p === ANONYMOUS ? { allowed: false } : super.decide(p, l, a);
      }
    }
    expect(visibleToEveryone(new SignedIn(), { layer })).toBe(false);
    // Allowed to anonymous but cut to a territory: not the whole layer, not shared.
    class Cut extends PublicPolicy {
      decide(p: Principal, l: Layer, a: 'view') {
        return { ...super.decide(p, l, a), restriction: () => 'true' };
      }
    }
    expect(visibleToEveryone(new Cut(), { layer })).toBe(false);
  });
});
