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
  /** Layers this caller may see. */
  layers: Layer[];
  /** Published layers this caller may not see (restricted, issue 11): naming one is refused with 401 / 403, not 'unknown'. */
  hidden?: Set<string>;
}

/**
 * Type names: `sdi:communes`, `communes`, or any prefix bound (NAMESPACES / xmlns) to our namespace URI.
 * A prefix bound to another namespace does not match.
 */
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
