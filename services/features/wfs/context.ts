/** Per-request context for WFS operations. */
import type { Platform } from '../../../src/platform.js';
import type { Principal } from '../../../src/access/policy.js';
import type { Layer } from '../../../src/catalog/layers.js';
import type { TypeNameResolver } from './kvp-reader.js';

export interface WfsContext {
  platform: Platform;
  principal: Principal;
  /** Public URL of the WFS endpoint, without query string (capabilities hrefs, links). */
  serviceUrl: string;
  /** The access_token the caller came with in its URL (src/server/principal.ts): carried on in the URLs of the
   *  answers (operation URLs, paging links) for clients that follow them without adding it, as WMS does (issue 11). */
  urlToken?: string;
  /** Layers this caller may see. */
  layers: Layer[];
}

/**
 * Type names: `sdi:communes`, `communes`, or any prefix bound (NAMESPACES / xmlns) to our namespace URI.
 * A prefix bound to another namespace does not match.
 */
/** The service URL clients are to call: with `?access_token=…` when the caller's token came in its URL. */
export function operationUrl(ctx: Pick<WfsContext, 'serviceUrl' | 'urlToken'>): string {
  return ctx.urlToken ? `${ctx.serviceUrl}?access_token=${encodeURIComponent(ctx.urlToken)}` : ctx.serviceUrl;
}

export function typeNameResolver(layers: Layer[], nsUri: string, ourPrefix: string, refuse?: (name: string) => Error | undefined): TypeNameResolver {
  const names = new Set(layers.map((l) => l.name));
  return (qname, namespaces) => {
    const colon = qname.indexOf(':');
    const local = colon >= 0 ? qname.slice(colon + 1) : qname;
    const prefix = colon >= 0 ? qname.slice(0, colon) : '';
    const bound = namespaces.get(prefix);
    if (bound && bound !== nsUri) return undefined;
    if (prefix && !bound && prefix !== ourPrefix && namespaces.size > 0 && ![...namespaces.values()].includes(nsUri)) return undefined;
    if (names.has(local)) return local;
    const refusal = refuse?.(local);
    if (refusal) throw refusal;
    return undefined;
  };
}
