/**
 * Cache-Control of an answer that depends on who asked (a credential in a header or in the URL): whatever the
 * service set (an ETag and max-age for tiles, legends…), shared caches must not keep it (RFC 9111 §5.2.2.7).
 * 'public' is replaced, not prefixed: 'private, public' contradicts itself, and a cache that honours the wrong one
 * keeps a restricted tile for everyone (issue 11).
 */
export function privateCacheControl(given: string): string {
  const directives = given.split(',').map((d) => d.trim()).filter((d) => d !== '' && !/^(public|s-maxage=.*)$/i.test(d));
  if (directives.some((d) => /^(private|no-store)$/i.test(d))) return directives.join(', ');
  return ['private', ...directives].join(', ');
}

