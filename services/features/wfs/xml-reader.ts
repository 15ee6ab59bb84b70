/**
 * WFS XML (POST) → typed request: GetCapabilities, DescribeFeatureType, GetFeature (Query / StoredQuery),
 * GetPropertyValue, ListStoredQueries, DescribeStoredQueries; WFS 2.0 and 1.x element names.
 */
import { limitQueries, limitSortKeys } from '../../../src/ogc/limits.js';
import { XmlBusyError } from '../../../src/xml/parse-pool.js';
import { parseXml, child, children, resolveQName, serializeXml, XmlInputError, type XmlElement } from '../../../src/xml/tree.js';
import { OgcError, invalid, missing, notImplemented } from '../../../src/ogc/errors.js';
import { readFesFilter } from '../../../src/filter/fes-reader.js';
import { negotiateVersion, checkVersion, parseNonNegativeInt, RESOLVE_VALUES, type TypeNameResolver } from './kvp-reader.js';
import { GET_FEATURE_BY_ID, GET_FEATURE_BY_ID_URI, type WfsRequest, type WfsQuery } from './request.js';

/** The request body as text, or already parsed (the service parses large bodies off the event loop). */
export function readWfsXml(body: string | XmlElement, resolveType: TypeNameResolver, maxBytes?: number): WfsRequest {
  let root: XmlElement;
  try {
    root = typeof body === 'string' ? parseXml(body, maxBytes) : body;
  } catch (e) {
    throw wfsXmlError(e);
  }
  const service = root.attrs['service'];
  if (service && service.toUpperCase() !== 'WFS') throw invalid('service', `Service ${service} is not WFS`);
  const resolve = root.attrs['resolve'];
  if (resolve && !RESOLVE_VALUES.includes(resolve.toLowerCase())) throw notImplemented('OptionNotSupported', `resolve=${resolve.slice(0, 20)} is not supported (supported: ${RESOLVE_VALUES.join(', ')})`, 'resolve');

  const resolver = (el: XmlElement, qname: string, locator: string): string => {
    const q = resolveQName(el, qname);
    const ns = new Map<string, string>([[q.prefix, q.ns]]);
    const name = resolveType(q.prefix ? `${q.prefix}:${q.local}` : q.local, ns);
    if (!name) throw invalid(locator, `Unknown feature type ${qname}`);
    return name;
  };

  switch (root.name) {
    case 'GetCapabilities': {
      const accept = child(root, 'AcceptVersions');
      const versions = accept ? children(accept, 'Version').map((v) => v.text.trim()) : [];
      const version = versions.length ? negotiateVersion(versions) : checkVersion(root.attrs['version']);
      return { op: 'GetCapabilities', version };
    }
    case 'DescribeFeatureType': {
      const version = checkVersion(root.attrs['version']);
      const typeNames = children(root, 'TypeName').map((t) => resolver(t, t.text, 'typeName'));
      return { op: 'DescribeFeatureType', version, typeNames, outputFormat: root.attrs['outputFormat'] };
    }
    case 'ListStoredQueries':
      return { op: 'ListStoredQueries', version: checkVersion(root.attrs['version']) };
    case 'DescribeStoredQueries':
      return { op: 'DescribeStoredQueries', version: checkVersion(root.attrs['version']), ids: children(root, 'StoredQueryId').map((e) => e.text.trim()) };
    case 'GetFeature':
    case 'GetPropertyValue': {
      const version = checkVersion(root.attrs['version']);
      const countAttr = root.attrs['count'] ?? root.attrs['maxFeatures'];
      const count = parseNonNegativeInt(countAttr, 'count');
      if (count === 0) throw invalid('count', 'count must be a positive integer');
      const startIndex = parseNonNegativeInt(root.attrs['startIndex'], 'startIndex') ?? 0;
      const rt = (root.attrs['resultType'] ?? 'results').toLowerCase();
      if (rt !== 'results' && rt !== 'hits') throw invalid('resultType', 'resultType must be results or hits');
      const resultType = rt as 'results' | 'hits';
      const queries: WfsQuery[] = [];
      let byId: string | undefined;
      let storedQueryId: string | undefined;
      for (const q of root.children) {
        if (q.name === 'Query') queries.push(readQuery(q, resolver));
        else if (q.name === 'StoredQuery') {
          storedQueryId = q.attrs['id'];
          if (storedQueryId !== GET_FEATURE_BY_ID && storedQueryId !== GET_FEATURE_BY_ID_URI) throw invalid('id', `Unknown stored query ${storedQueryId}`);
          const p = children(q, 'Parameter').find((x) => x.attrs['name']?.toLowerCase() === 'id');
          if (!p || !p.text.trim()) throw missing('id');
          byId = p.text.trim();
          queries.push({ typeNames: [], filter: { kind: 'resourceId', ids: [byId] } });
        }
      }
      if (queries.length === 0) throw missing('Query');
      limitQueries(queries, 'Query');
      if (root.name === 'GetPropertyValue') {
        const valueReference = root.attrs['valueReference'];
        if (valueReference === undefined) throw missing('valueReference');
        if (!valueReference.trim()) throw invalid('valueReference', 'valueReference is empty: name a property of the feature type');
        return { op: 'GetPropertyValue', version, query: queries[0]!, valueReference, count, startIndex, resultType };
      }
      return { op: 'GetFeature', version, queries, count, startIndex, resultType, outputFormat: root.attrs['outputFormat'], byId, storedQueryId };
    }
    default:
      throw notImplemented('OperationNotSupported', `Operation ${root.name} is not supported`, 'request');
  }
}

function readQuery(q: XmlElement, resolver: (el: XmlElement, qname: string, locator: string) => string): WfsQuery {
  const typeAttr = q.attrs['typeNames'] ?? q.attrs['typeName'];
  if (!typeAttr) throw missing('typeNames');
  const typeNames = typeAttr.split(/[\s,]+/).filter(Boolean).map((t) => resolver(q, t.replace(/[()]/g, ''), 'typeNames'));
  const filterEl = child(q, 'Filter');
  const propertyNames = q.children.filter((c) => c.name === 'PropertyName').map((c) => c.text.trim()).filter((n) => n !== '*');
  const sortEl = child(q, 'SortBy');
  const sortBy = sortEl
    ? limitSortKeys(children(sortEl, 'SortProperty'), 'SortBy').map((sp) => {
        const ref = child(sp, 'ValueReference') ?? child(sp, 'PropertyName');
        if (!ref) throw missing('SortBy');
        const order = (child(sp, 'SortOrder')?.text.trim() ?? 'ASC').toUpperCase();
        if (!['ASC', 'DESC', 'A', 'D'].includes(order)) throw invalid('SortBy', `Sort order must be ASC or DESC`);
        return { name: ref.text.trim(), descending: order.startsWith('D') };
      })
    : undefined;
  return {
    typeNames,
    srsName: q.attrs['srsName'],
    filter: filterEl ? readFesFilter(filterEl) : undefined,
    filterText: filterEl ? serializeXml(filterEl) : undefined,
    propertyNames: propertyNames.length ? propertyNames : undefined,
    sortBy,
  };
}

/** A body that could not be parsed, as WFS reports it (OWS 1.1 OperationParsingFailed, 400). */
export function wfsXmlError(e: unknown): unknown {
  if (e instanceof XmlInputError) return new OgcError('OperationParsingFailed', e.message, 'request');
  if (e instanceof XmlBusyError) return new OgcError('OperationProcessingFailed', e.message, 'request', 503);
  return e;
}
