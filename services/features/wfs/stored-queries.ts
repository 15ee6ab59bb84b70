/** WFS 2.0 stored queries: only the mandatory GetFeatureById (its execution lives in get-feature.ts). */
import { xmlEscape as x, XML_DECLARATION } from '../../../src/xml/escape.js';
import { invalid } from '../../../src/ogc/errors.js';
import type { WfsContext } from './context.js';
import { GET_FEATURE_BY_ID, GET_FEATURE_BY_ID_URI } from './request.js';

const HEAD = `xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/wfs/2.0 http://schemas.opengis.net/wfs/2.0/wfs.xsd"`;

export function listStoredQueries(ctx: WfsContext): string {
  const ns = ctx.platform.config.namespace;
  const types = ctx.layers.map((l) => `<wfs:ReturnFeatureType>${ns.prefix}:${x(l.name)}</wfs:ReturnFeatureType>`).join('');
  return (
    XML_DECLARATION +
    `<wfs:ListStoredQueriesResponse ${HEAD} xmlns:${ns.prefix}="${x(ns.uri)}">` +
    `<wfs:StoredQuery id="${GET_FEATURE_BY_ID}"><wfs:Title>Get feature by identifier</wfs:Title>${types}</wfs:StoredQuery>` +
    '</wfs:ListStoredQueriesResponse>\n'
  );
}

export function describeStoredQueries(ctx: WfsContext, ids: string[]): string {
  for (const id of ids) if (id !== GET_FEATURE_BY_ID && id !== GET_FEATURE_BY_ID_URI) throw invalid('STOREDQUERY_ID', `Unknown stored query ${id}`);
  const ns = ctx.platform.config.namespace;
  const types = ctx.layers.map((l) => `${ns.prefix}:${l.name}`).join(' ');
  return (
    XML_DECLARATION +
    `<wfs:DescribeStoredQueriesResponse ${HEAD} xmlns:${ns.prefix}="${x(ns.uri)}">` +
    `<wfs:StoredQueryDescription id="${GET_FEATURE_BY_ID}"><wfs:Title>Get feature by identifier</wfs:Title>` +
    `<wfs:Abstract>Returns the single feature whose identifier (e.g. communes.12) is given in the id parameter.</wfs:Abstract>` +
    `<wfs:Parameter name="id" type="xs:string"/>` +
    `<wfs:QueryExpressionText returnFeatureTypes="${x(types)}" language="urn:ogc:def:queryLanguage:OGC-WFS::WFS_QueryExpression" isPrivate="true"/>` +
    '</wfs:StoredQueryDescription></wfs:DescribeStoredQueriesResponse>\n'
  );
}
