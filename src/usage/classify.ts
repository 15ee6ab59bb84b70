/**
 * Which service, operation and layers a request is, for usage statistics, from its method and URL alone (the
 * protocols' own parameter names: WFS TYPENAMES, WMS LAYERS/QUERY_LAYERS/LAYER, WMTS LAYER or its REST path,
 * OGC API collection ids, /tiles/{layer}). Requests of no statistic interest (the admin API, the viewer page,
 * health checks) are undefined; downloads write their own rows (src/download/usage.ts).
 */
export interface RequestKind {
  service: 'wfs' | 'ogcapi' | 'wms' | 'wmts' | 'tiles' | 'csw' | 'records';
  operation: string;
  layers: string[];
}

const MAX_LAYERS = 20;

function param(q: URLSearchParams, ...names: string[]): string | undefined {
  for (const [k, v] of q) if (names.includes(k.toUpperCase())) return v;
  return undefined;
}

/** Layer names of a comma list, namespace prefixes and WFS parenthesised groups removed. */
function layerList(v: string | undefined): string[] {
  if (!v) return [];
  const names = v.split(',').map((s) => s.replace(/[()]/g, '').trim()).filter(Boolean).map((s) => s.slice(s.lastIndexOf(':') + 1).slice(0, 63));
  return [...new Set(names)].slice(0, MAX_LAYERS);
}

const op = (v: string | undefined, fallback: string) => (v ? v.slice(0, 40) : fallback);

export function classifyRequest(method: string, url: string): RequestKind | undefined {
  let u: URL;
  try {
    u = new URL(url, 'http://x');
  } catch {
    return undefined;
  }
  const seg = u.pathname.split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  const q = u.searchParams;
  const post = method === 'POST' ? 'POST' : undefined;
  switch (seg[0]) {
    case 'wfs':
      return { service: 'wfs', operation: op(param(q, 'REQUEST') ?? post, 'unknown'), layers: layerList(param(q, 'TYPENAMES', 'TYPENAME')) };
    case 'wms':
      return { service: 'wms', operation: op(param(q, 'REQUEST'), 'unknown'), layers: layerList(param(q, 'QUERY_LAYERS') ?? param(q, 'LAYERS', 'LAYER')) };
    case 'csw':
      return { service: 'csw', operation: op(param(q, 'REQUEST') ?? post, 'unknown'), layers: [] };
    case 'records':
      // OGC API – Records (one catalogue): landing, conformance, api, collections, collection, queryables, sortables, items, record.
      if (seg[1] !== 'collections' || !seg[2]) return { service: 'records', operation: op(seg[1], 'landing'), layers: [] };
      if (seg[3] === 'items') return { service: 'records', operation: seg[4] ? 'record' : 'items', layers: [] };
      return { service: 'records', operation: op(seg[3], 'collection'), layers: [] };
    case 'wmts':
      if (seg[1] === '1.0.0' && seg.length >= 8) return { service: 'wmts', operation: 'GetTile', layers: layerList(seg[2]) };
      if (seg[1] === '1.0.0') return { service: 'wmts', operation: 'GetCapabilities', layers: [] };
      return { service: 'wmts', operation: op(param(q, 'REQUEST'), 'unknown'), layers: layerList(param(q, 'LAYER')) };
    case 'tiles':
      return { service: 'tiles', operation: seg[2] === 'tilejson.json' ? 'tilejson' : 'tile', layers: layerList(seg[1]) };
    case 'ogcapi': {
      if (seg[1] === 'tileMatrixSets') return { service: 'tiles', operation: 'tileMatrixSets', layers: [] };
      if (seg[1] !== 'collections' || !seg[2]) return { service: 'ogcapi', operation: seg[1] ?? 'landing', layers: [] };
      const layers = layerList(seg[2]);
      if (seg[3] === 'tiles') return { service: 'tiles', operation: seg.length >= 8 ? 'tile' : 'tileset', layers };
      if (seg[3] === 'items') return { service: 'ogcapi', operation: seg[4] ? 'feature' : 'items', layers };
      return { service: 'ogcapi', operation: seg[3] ?? 'collection', layers };
    }
    default:
      return undefined;
  }
}
