/**
 * OpenSearch 1.1 (with the Geo extension, draft 2) over the catalogue: a description document at
 * /csw/opensearch, and its search URL /csw/opensearch/search?q=&bbox=&startIndex=&count= answering an Atom feed
 * (RFC 4287 + opensearch:totalResults/startIndex/itemsPerPage) whose entries are the CSW Atom entries. The search
 * is a GetRecords request (csw:AnyText contains q, BBOX on the footprint) run by the same code, so counts and
 * paging are those of CSW.
 */
import type { Filter } from '../../../src/filter/ast.js';
import { Kvp, refuseUnknownKeys } from '../../../src/ogc/kvp.js';
import { invalid } from '../../../src/ogc/errors.js';
import { xmlEscape as x, XML_DECLARATION } from '../../../src/xml/escape.js';
import { ATOM_NS } from '../../../src/metadata/atom.js';
import { parsePositiveInt } from './kvp-reader.js';
import { recordsPage } from './get-records.js';
import type { CswContext } from './context.js';
import type { GetRecordsRequest } from './request.js';

export const OPENSEARCH_NS = 'http://a9.com/-/spec/opensearch/1.1/';
const GEO_NS = 'http://a9.com/-/opensearch/extensions/geo/1.0/';
export const OPENSEARCH_DESCRIPTION_TYPE = 'application/opensearchdescription+xml';
export const ATOM_TYPE = 'application/atom+xml';

const PARAMETERS: ReadonlySet<string> = new Set(['Q', 'BBOX', 'STARTINDEX', 'COUNT']);

export function openSearchDescription(ctx: CswContext): string {
  const svc = ctx.platform.config.service;
  const search = `${ctx.serviceUrl}/opensearch/search?q={searchTerms}&bbox={geo:box?}&startIndex={startIndex?}&count={count?}`;
  return (
    XML_DECLARATION +
    `<OpenSearchDescription xmlns="${OPENSEARCH_NS}" xmlns:geo="${GEO_NS}">` +
    `<ShortName>${x(svc.title.slice(0, 16))}</ShortName><Description>${x((svc.abstract || svc.title).slice(0, 1024))}</Description>` +
    `<Tags>catalogue metadata CSW</Tags><Contact>${x(svc.contactEmail)}</Contact>` +
    `<Url type="${ATOM_TYPE}" rel="results" template="${x(search)}"/>` +
    `<Url type="${OPENSEARCH_DESCRIPTION_TYPE}" rel="self" template="${x(`${ctx.serviceUrl}/opensearch`)}"/>` +
    `<Query role="example" searchTerms="cadastre"/>` +
    `<Language>fr</Language><OutputEncoding>UTF-8</OutputEncoding><InputEncoding>UTF-8</InputEncoding>` +
    '</OpenSearchDescription>\n'
  );
}

/** The GetRecords request of an OpenSearch query (unknown parameters refused, as on the CSW endpoint). */
export function readOpenSearch(kvp: Kvp, maxRecords: number): GetRecordsRequest {
  refuseUnknownKeys(kvp, PARAMETERS, 'OpenSearch');
  const q = (kvp.value('Q') ?? '').trim();
  const operands: Filter[] = [];
  // "Contains these words" through the csw:AnyText full-text path (a LIKE without wildcard, as MetaSearch sends).
  if (q) operands.push({ kind: 'like', expr: { kind: 'property', name: 'AnyText' }, pattern: q.replace(/[\\%_]/g, '\\$&'), matchCase: false });
  const box = (kvp.value('BBOX') ?? '').trim();
  if (box) {
    // OpenSearch Geo: west,south,east,north in WGS 84 degrees, longitude first.
    const n = box.split(',').map((v) => Number(v.trim()));
    if (n.length !== 4 || n.some((v) => !Number.isFinite(v))) throw invalid('bbox', 'bbox must be west,south,east,north in degrees');
    operands.push({ kind: 'bbox', envelope: { minx: n[0]!, miny: n[1]!, maxx: n[2]!, maxy: n[3]!, srid: 4326 } });
  }
  const count = Math.min(parsePositiveInt(kvp.value('COUNT'), 'count', 10, { min: 0, max: Number.MAX_SAFE_INTEGER }), maxRecords);
  const startPosition = parsePositiveInt(kvp.value('STARTINDEX'), 'startIndex', 1, { min: 1, max: 1_000_000_000 });
  const req: GetRecordsRequest = {
    op: 'GetRecords',
    resultType: 'results',
    outputSchema: 'atom',
    outputFormat: 'application/xml',
    startPosition,
    maxRecords: count,
    typeNames: ['csw:Record'],
    elementSet: 'full',
    echo: '',
  };
  if (operands.length) req.constraint = { kind: 'and', operands };
  return req;
}

/** The Atom feed of one page of results. `selfUrl`: the search URL as asked (the feed's id and rel=self link). */
export async function openSearchFeed(ctx: CswContext, req: GetRecordsRequest, selfUrl: string): Promise<string> {
  const page = await recordsPage(ctx, req);
  const next = page.nextRecord > 0 ? selfUrl.replace(/([?&])startIndex=[^&]*/i, '$1').replace(/[?&]$/, '') : undefined;
  const nextUrl = next ? `${next}${next.includes('?') ? '&' : '?'}startIndex=${page.nextRecord}` : undefined;
  return (
    XML_DECLARATION +
    `<feed xmlns="${ATOM_NS}" xmlns:opensearch="${OPENSEARCH_NS}">` +
    `<id>${x(selfUrl)}</id><title>${x(ctx.platform.config.service.title)}</title><updated>${new Date().toISOString()}</updated>` +
    `<author><name>${x(ctx.platform.config.service.providerName)}</name></author>` +
    `<link rel="self" type="${ATOM_TYPE}" href="${x(selfUrl)}"/>` +
    (nextUrl ? `<link rel="next" type="${ATOM_TYPE}" href="${x(nextUrl)}"/>` : '') +
    `<link rel="search" type="${OPENSEARCH_DESCRIPTION_TYPE}" href="${x(`${ctx.serviceUrl}/opensearch`)}"/>` +
    `<opensearch:totalResults>${page.matched}</opensearch:totalResults><opensearch:startIndex>${req.startPosition}</opensearch:startIndex><opensearch:itemsPerPage>${req.maxRecords}</opensearch:itemsPerPage>` +
    page.records.map((r) => (typeof r === 'string' ? r : r.toString('utf8'))).join('') +
    '</feed>\n'
  );
}
