/**
 * WFS KVP (GET) → typed request. Case-insensitive names, WFS 2.0 spellings with their 1.x aliases
 * (TYPENAME, MAXFEATURES, FEATUREID, NAMESPACE), and the lenient forms QGIS, GDAL and OWSLib send.
 */
import { limitQueries, limitSortKeys } from '../../../src/ogc/limits.js';
import { Kvp, list, parseNamespaces, refuseRepeatedKeys, refuseUnknownKeys } from '../../../src/ogc/kvp.js';
export { parseNamespaces } from '../../../src/ogc/kvp.js';
import { OgcError, invalid, missing, notImplemented } from '../../../src/ogc/errors.js';
import { parseCrs, isYX } from '../../../src/crs/identifiers.js';
import { parseFesFilterText } from '../../../src/filter/fes-reader.js';
import type { Envelope, Filter } from '../../../src/filter/ast.js';
import {
  SUPPORTED_VERSIONS,
  GET_FEATURE_BY_ID,
  GET_FEATURE_BY_ID_URI,
  type WfsRequest,
  type WfsVersion,
  type WfsQuery,
  type GetFeatureRequest,
} from './request.js';

/** Resolves a client type name (any prefix, namespace bindings) to a layer name, or undefined. */
export type TypeNameResolver = (qname: string, namespaces: Map<string, string>) => string | undefined;

/** Values of the resolve parameter this server supports (advertised on GetFeature and GetPropertyValue). */
export const RESOLVE_VALUES = ['none', 'local'];

const OPERATIONS = ['GetCapabilities', 'DescribeFeatureType', 'GetFeature', 'GetPropertyValue', 'ListStoredQueries', 'DescribeStoredQueries'] as const;

export function negotiateVersion(acceptVersions: string[]): WfsVersion {
  for (const v of acceptVersions) {
    const hit = SUPPORTED_VERSIONS.find((s) => s === v.trim());
    if (hit) return hit;
  }
  throw new OgcError('VersionNegotiationFailed', `None of the versions ${acceptVersions.join(', ')} is supported (supported: ${SUPPORTED_VERSIONS.join(', ')})`, 'AcceptVersions');
}

export function checkVersion(v: string | undefined): WfsVersion {
  if (!v) return '2.0.0';
  // 2.0.2 is the corrigendum of 2.0.0: same protocol.
  if (v === '2.0.2') return '2.0.0';
  const hit = SUPPORTED_VERSIONS.find((s) => s === v);
  if (!hit) throw invalid('version', `Version ${v} is not supported (supported: ${SUPPORTED_VERSIONS.join(', ')})`);
  return hit;
}

export function parseNonNegativeInt(value: string | undefined, locator: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\+?\d+$/.test(value)) throw invalid(locator, `${locator} must be a non-negative integer, got '${value.slice(0, 50)}'`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n > max) throw invalid(locator, `${locator} ${value.slice(0, 50)} exceeds the maximum of ${max}`);
  return n;
}

/** BBOX=minx,miny,maxx,maxy[,crs] with the axis order the CRS form implies; result in x/y order. */
export function parseBbox(value: string, locator = 'BBOX'): Envelope {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length !== 4 && parts.length !== 5) throw invalid(locator, 'BBOX must be minx,miny,maxx,maxy[,crs]');
  const nums = parts.slice(0, 4).map(Number);
  if (nums.some((n) => !Number.isFinite(n)) || parts.slice(0, 4).some((p) => p === '')) throw invalid(locator, 'BBOX coordinates must be numbers');
  let [a, b, c, d] = nums as [number, number, number, number];
  let srid: number | undefined;
  if (parts.length === 5) {
    const ref = parseCrs(parts[4]!);
    if (!ref) throw invalid(locator, `Unknown CRS '${parts[4]!.slice(0, 80)}' in BBOX`);
    srid = ref.srid;
    if (isYX(ref)) [a, b, c, d] = [b, a, d, c];
  }
  if (a > c || b > d) throw invalid(locator, 'BBOX lower corner must be below and left of the upper corner');
  return { minx: a, miny: b, maxx: c, maxy: d, srid };
}

/** PROPERTYNAME=a,b or (a,b)(c); `*` (what OWSLib sends by default) means every property. */
export function propertyNames(value: string | undefined): string[] | undefined {
  if (!value) return undefined;
  const names = list(value.replace(/[()]/g, ','));
  return names.length === 0 || names.every((n) => n === '*') ? undefined : names.filter((n) => n !== '*');
}

/** SORTBY=name [ASC|DESC|A|D],… */
export function parseSortBy(value: string | undefined): { name: string; descending: boolean }[] | undefined {
  if (!value) return undefined;
  return limitSortKeys(list(value), 'SORTBY').map((item) => {
    const [name, dir] = item.split(/\s+/);
    const d = (dir ?? 'ASC').toUpperCase();
    if (!['ASC', 'DESC', 'A', 'D'].includes(d)) throw invalid('SORTBY', `Sort direction must be ASC or DESC, got '${dir}'`);
    return { name: name!, descending: d === 'DESC' || d === 'D' };
  });
}

function parseFilterParam(text: string): Filter {
  // Multiple queries may send "(filter1)(filter2)"; one filter is the common case.
  const t = text.trim();
  const unwrapped = t.startsWith('(') && t.endsWith(')') ? t.slice(1, -1) : t;
  return parseFesFilterText(unwrapped);
}

/** Spellings of one WFS parameter (2.0 and 1.x): both given with different values is ambiguous. */
export const WFS_ALIASES = [['TYPENAMES', 'TYPENAME'], ['COUNT', 'MAXFEATURES'], ['RESOURCEID', 'FEATUREID'], ['NAMESPACES', 'NAMESPACE']] as const;

/**
 * The KVP parameters of WFS 2.0 (OGC 09-025r2 Tables 3, 5-10, 17-18) and their 1.x spellings. Those we do not
 * act on are accepted only with their default meaning (FILTER_LANGUAGE = FES 2.0, RESOLVE = none).
 */
export const WFS_PARAMETERS: ReadonlySet<string> = new Set([
  'SERVICE', 'VERSION', 'REQUEST', 'ACCEPTVERSIONS', 'ACCEPTFORMATS', 'ACCEPTLANGUAGES', 'SECTIONS', 'UPDATESEQUENCE',
  'NAMESPACES', 'NAMESPACE', 'TYPENAMES', 'TYPENAME', 'OUTPUTFORMAT', 'COUNT', 'MAXFEATURES', 'STARTINDEX', 'RESULTTYPE',
  'SRSNAME', 'PROPERTYNAME', 'FILTER', 'FILTER_LANGUAGE', 'BBOX', 'RESOURCEID', 'FEATUREID', 'SORTBY', 'STOREDQUERY_ID',
  'ID', 'VALUEREFERENCE', 'RESOLVE', 'RESOLVEDEPTH', 'RESOLVETIMEOUT',
]);
const FES_LANGUAGES = ['urn:ogc:def:queryLanguage:OGC-FES:Filter', 'urn:ogc:def:query Language:OGC-FES:Filter'];

export function readWfsKvp(kvp: Kvp, resolveType: TypeNameResolver): WfsRequest {
  refuseRepeatedKeys(kvp, WFS_ALIASES);
  refuseUnknownKeys(kvp, WFS_PARAMETERS, 'WFS');
  const language = kvp.value('FILTER_LANGUAGE');
  if (language && !FES_LANGUAGES.includes(language)) throw notImplemented('OptionNotSupported', `FILTER_LANGUAGE ${language.slice(0, 80)} is not supported (FES 2.0 only)`, 'FILTER_LANGUAGE');
  // ISO 19142 §7.6.4: features here hold no references, so resolving `local` ones is done by doing nothing;
  // remote resolution is not implemented (ImplementsRemoteResolve FALSE).
  const resolve = kvp.value('RESOLVE');
  if (resolve && !RESOLVE_VALUES.includes(resolve.toLowerCase())) throw notImplemented('OptionNotSupported', `RESOLVE=${resolve.slice(0, 20)} is not supported (supported: ${RESOLVE_VALUES.join(', ')})`, 'resolve');
  // OGC 06-121r3 §11.4 / ISO 19142 §7.6.1: SERVICE is mandatory in KVP requests.
  const service = kvp.value('SERVICE');
  if (service === undefined) throw missing('service');
  if (service.toUpperCase() !== 'WFS') throw invalid('service', `Service ${service} is not WFS`);
  const requestName = kvp.value('REQUEST');
  if (!requestName) throw missing('request');
  const op = OPERATIONS.find((o) => o.toLowerCase() === requestName.toLowerCase());
  if (!op) throw notImplemented('OperationNotSupported', `Operation ${requestName} is not supported`, 'request');

  if (op === 'GetCapabilities') {
    const accept = kvp.value('ACCEPTVERSIONS');
    const version = accept ? negotiateVersion(list(accept)) : checkVersion(kvp.value('VERSION'));
    return { op, version, sections: list(kvp.value('SECTIONS')) };
  }
  const version = checkVersion(kvp.value('VERSION'));
  const namespaces = parseNamespaces(kvp.value('NAMESPACES') ?? kvp.value('NAMESPACE'));
  const types = (locator: string, required: boolean): string[] => {
    const raw = kvp.value('TYPENAMES') ?? kvp.value('TYPENAME');
    if (!raw) {
      if (required) throw missing(locator);
      return [];
    }
    return limitQueries(list(raw.replace(/[()]/g, '')), 'TYPENAMES').map((q) => {
      const name = resolveType(q, namespaces);
      if (!name) throw invalid(locator, `Unknown feature type ${q}`);
      return name;
    });
  };

  switch (op) {
    case 'DescribeFeatureType':
      return { op, version, typeNames: types('typeName', false), outputFormat: kvp.value('OUTPUTFORMAT') };
    case 'ListStoredQueries':
      return { op, version };
    case 'DescribeStoredQueries':
      return { op, version, ids: list(kvp.value('STOREDQUERY_ID')) };
    case 'GetFeature':
    case 'GetPropertyValue': {
      const storedQueryId = kvp.value('STOREDQUERY_ID');
      const count = parseNonNegativeInt(kvp.value('COUNT') ?? kvp.value('MAXFEATURES'), kvp.has('COUNT') ? 'COUNT' : 'MAXFEATURES');
      if (count === 0) throw invalid(kvp.has('COUNT') ? 'COUNT' : 'MAXFEATURES', 'COUNT must be a positive integer');
      const startIndex = parseNonNegativeInt(kvp.value('STARTINDEX'), 'STARTINDEX') ?? 0;
      const rt = (kvp.value('RESULTTYPE') ?? 'results').toLowerCase();
      if (rt !== 'results' && rt !== 'hits') throw invalid('RESULTTYPE', `RESULTTYPE must be results or hits`);
      const resultType = rt as 'results' | 'hits';

      let byId: string | undefined;
      let typeNames: string[];
      let filter: Filter | undefined;
      let filterText: string | undefined;
      if (storedQueryId) {
        if (storedQueryId !== GET_FEATURE_BY_ID && storedQueryId !== GET_FEATURE_BY_ID_URI) throw invalid('STOREDQUERY_ID', `Unknown stored query ${storedQueryId}`);
        byId = kvp.value('ID');
        if (!byId) throw missing('ID');
        // The id names its type: "communes.12"; fall back to every layer when it does not.
        typeNames = [];
        filter = { kind: 'resourceId', ids: [byId] };
      } else {
        typeNames = types('typeNames', !kvp.has('RESOURCEID') && !kvp.has('FEATUREID'));
      }
      const exclusive = ['FILTER', 'BBOX', 'RESOURCEID', 'FEATUREID'].filter((k) => kvp.value(k) !== undefined);
      if (exclusive.length > 1) throw invalid(exclusive[1]!, `${exclusive.join(', ')} are mutually exclusive`);
      const filterParam = kvp.value('FILTER');
      if (filterParam) {
        filter = parseFilterParam(filterParam);
        filterText = filterParam;
      }
      const rid = kvp.value('RESOURCEID') ?? kvp.value('FEATUREID');
      if (rid) {
        filter = { kind: 'resourceId', ids: list(rid) };
        filterText = undefined;
        if (typeNames.length === 0) {
          // RESOURCEID alone: the types are those the ids name.
          const names = new Set<string>();
          for (const id of list(rid)) {
            const dot = id.lastIndexOf('.');
            const t = dot > 0 ? resolveType(id.slice(0, dot), namespaces) : undefined;
            if (!t) throw invalid('RESOURCEID', `Resource id ${id} does not name a known feature type`);
            names.add(t);
          }
          typeNames = [...names];
        }
      }
      const bboxText = kvp.value('BBOX');
      // BBOX= with no value is a malformed filter, not "no filter" (issue 13: it returned everything).
      if (kvp.has('BBOX') && bboxText === undefined) throw invalid('BBOX', 'BBOX has no value (minx,miny,maxx,maxy[,crs])');
      const query: WfsQuery = {
        typeNames,
        srsName: kvp.value('SRSNAME'),
        filter,
        filterText,
        bbox: bboxText ? parseBbox(bboxText) : undefined,
        bboxText,
        propertyNames: propertyNames(kvp.value('PROPERTYNAME')),
        sortBy: parseSortBy(kvp.value('SORTBY')),
      };
      if (op === 'GetPropertyValue') {
        const valueReference = kvp.value('VALUEREFERENCE');
        if (valueReference === undefined && !kvp.has('VALUEREFERENCE')) throw missing('valueReference');
        // Present but empty: a value that names nothing (ISO 19142 §10.2.4.2; the OGC suite expects InvalidParameterValue).
        if (valueReference === undefined || !valueReference.trim()) throw invalid('valueReference', 'valueReference is empty: name a property of the feature type');
        return { op, version, query, valueReference, count, startIndex, resultType };
      }
      const queries = byId ? [query] : typeNames.map((t) => ({ ...query, typeNames: [t] }));
      const req: GetFeatureRequest = { op, version, queries, count, startIndex, resultType, outputFormat: kvp.value('OUTPUTFORMAT'), byId, storedQueryId };
      return req;
    }
  }
}
