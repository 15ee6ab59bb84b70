/**
 * OGC API – Records – Part 1 (OGC 20-004) over the catalogue, mounted at /records by the catalogue service: the
 * catalogue's face for web clients (OWSLib's `owslib.ogcapi.records.Records`, the next QGIS MetaSearch), beside
 * CSW 2.0.2 on the same records.
 *
 * The collection `metadata` holds every record (as pycsw's `metadata:main`); each harvest source has one more,
 * `source-{id}`, holding the records harvested from it (sdi.harvest_sources). A search is a CSW GetRecords
 * search planned as CSW's (src/record-search: the catalogue compiler, the caller's hidden records, the order
 * made total by the identifier) and run through the catalogue repository (src/records: exact count and page in one
 * REPEATABLE READ snapshot, the page caches). Nothing here imports the CSW adapter. Records are written as GeoJSON from the stored queryables.
 *
 * JSON by default; HTML with f=html or an Accept header preferring text/html. Unknown or repeated query
 * parameters are refused (400); errors are application/problem+json.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../../../src/platform.js';
import type { PoolClient } from '../../../src/db/pool.js';
import { Kvp } from '../../../src/ogc/kvp.js';
import { OgcError, invalid, fromDatabaseError } from '../../../src/ogc/errors.js';
import { problemJson } from '../../../src/ogc/exception-report.js';
import { publicBaseUrl } from '../../../src/ogc/public-url.js';
import { callerOf, WWW_AUTHENTICATE } from '../../../src/server/principal.js';
import { mayReadRecords } from '../../../src/access/policy.js';
import { recordVisibility } from '../../../src/access/records.js';
import { jsonRecordWithoutDataLinks } from '../../../src/access/record-links.js';
import { refusalStatus } from '../../../src/query/planner.js';
import { CRS84_URI } from '../../../src/crs/identifiers.js';
import { GREGORIAN_TRS } from '../../../src/catalog/extent.js';
import { catalogueExtent, recordsByIdentifiers, searchRecords, withCatalogueSnapshot } from '../../../src/records/repository.js';
import { planSearch } from '../../../src/record-search/plan.js';
import { listSources } from '../../../src/harvest/sources.js';
import { harvestedFromSql } from '../../../src/records/sql.js';
import { ITEMS_PARAMETERS, readItemsRequest } from './items-request.js';
import { queryablesDocument } from './queryables.js';
import { GEOJSON, RECORD_COLUMNS, writeRecord, type Link, type RecordRow, type RecordUrls } from './record.js';
import { documentHtml, itemsHtml, recordHtml } from './html.js';
import { recordsOpenApi } from './openapi.js';

/** What a caller may see of the catalogue (src/access/records.ts). */
interface ReaderContext {
  /** Row ids of the records of resources the caller may not view: left out of every answer. */
  hiddenRecords: readonly string[];
  /** Identifiers of records sent without their data links (SDI_CATALOGUE_RESTRICTED=describe). */
  linklessRecords: ReadonlySet<string>;
}

/** The collection of every record of the catalogue; each harvest source also has its own, `source-{id}`. */
export const COLLECTION = 'metadata';
const SOURCE_PREFIX = 'source-';

/** A catalogue of the API: every record, or the records harvested from one source. */
interface Catalogue {
  id: string;
  title: string;
  description: string;
  sourceId?: number;
}

/** The conformance classes implemented, exactly (OGC 20-004 Annex A, OGC API – Features Part 3, CQL2 OGC 21-065). */
export const RECORDS_CONFORMANCE = [
  'http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core',
  'http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections',
  'http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/core',
  'http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/record-core',
  'http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting',
  'http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/json',
  'http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/html',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30',
  'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables',
  'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter',
  'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter',
  'http://www.opengis.net/spec/cql2/1.0/conf/cql2-text',
  'http://www.opengis.net/spec/cql2/1.0/conf/cql2-json',
  'http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2',
  'http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators',
  'http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison',
  'http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions',
  'http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions',
  'http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions',
  'http://www.opengis.net/spec/cql2/1.0/conf/array-functions',
];

const REL_QUERYABLES = 'http://www.opengis.net/def/rel/ogc/1.0/queryables';
const REL_SORTABLES = 'http://www.opengis.net/def/rel/ogc/1.0/sortables';
const OPENAPI_TYPE = 'application/vnd.oai.openapi+json;version=3.0';
const HTML_TYPE = 'text/html; charset=utf-8';

type Format = 'json' | 'html';

/** Upper-case names (Kvp keys) of the parameters each kind of resource accepts. */
const DOCUMENT_PARAMS = new Set(['F']);
const ITEMS_PARAMS = new Set(ITEMS_PARAMETERS.map((p) => p.toUpperCase()));

/** /req/core/query-param-unknown: a parameter the resource does not define, or one given twice, is a 400. */
function checkParams(kvp: Kvp, known: ReadonlySet<string>): void {
  for (const k of kvp.keys()) if (!known.has(k)) throw invalid(k.toLowerCase().slice(0, 40), `Unknown query parameter '${k.toLowerCase().slice(0, 40)}' (known: ${[...known].map((p) => ITEMS_PARAMETERS.find((i) => i.toUpperCase() === p) ?? p.toLowerCase()).join(', ')})`);
  for (const k of kvp.repeated) throw invalid(k.toLowerCase(), `Parameter '${k.toLowerCase()}' is given more than once`);
}

/** Preference (q) of a media range in an Accept header, 0 when absent. */
function quality(accept: string, types: string[]): number {
  let best = 0;
  for (const part of accept.split(',')) {
    const [range, ...params] = part.trim().toLowerCase().split(';');
    if (!range || !types.includes(range.trim())) continue;
    const q = params.map((p) => /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    best = Math.max(best, q === undefined ? 1 : Number(q) || 0);
  }
  return best;
}

/** f=json|html; without it, HTML only when the Accept header prefers text/html to JSON (browsers); else JSON. */
function formatOf(req: FastifyRequest, kvp: Kvp): Format {
  const f = kvp.value('f')?.toLowerCase();
  if (f !== undefined) {
    if (['json', 'application/json', 'geojson', 'application/geo+json'].includes(f)) return 'json';
    if (f === 'html' || f === 'text/html') return 'html';
    throw invalid('f', `f=${f.slice(0, 40)} is not offered (json, html)`);
  }
  const accept = String(req.headers.accept ?? '');
  const html = quality(accept, ['text/html', 'application/xhtml+xml']);
  const json = quality(accept, ['application/json', 'application/geo+json', 'application/schema+json']);
  return html > json ? 'html' : 'json';
}

/** Errors of the catalogue compiler (src/record-search) name the CSW parameters: here they are `filter` and `sortby`. */
function relocated(e: unknown): unknown {
  if (!(e instanceof OgcError)) return e;
  const locator = e.locator === 'Constraint' ? 'filter' : e.locator === 'SortBy' ? 'sortby' : e.locator;
  return locator === e.locator ? e : new OgcError(e.code, e.message, locator, e.status);
}

export async function recordsRoutes(app: FastifyInstance, opts: { platform: Platform; mountPath: string }): Promise<void> {
  const { platform } = opts;
  // The catalogue's limits, as CSW's: its page cap (SDI_CSW_MAX_RECORDS) and the statement timeout.
  const maxRecords = platform.config.catalogue.maxRecords;
  const read = <T>(fn: (c: PoolClient) => Promise<T>) => withCatalogueSnapshot(platform.pool, platform.config.features.statementTimeoutMs, fn);
  const root = (req: FastifyRequest) => publicBaseUrl(req, platform.config);
  const base = (req: FastifyRequest) => `${root(req)}${opts.mountPath}`;
  const urlsOf = (req: FastifyRequest, c: Catalogue): RecordUrls => ({ collection: `${base(req)}/collections/${encodeURIComponent(c.id)}`, csw: `${root(req)}/csw`, dcat: `${root(req)}/dcat` });
  const svc = platform.config.service;

  /** The caller's catalogue context (its hidden records), refusing callers the policy keeps from every record. */
  const readerContext = async (req: FastifyRequest): Promise<ReaderContext> => {
    const caller = callerOf(req);
    if (!mayReadRecords(platform.policy, caller)) throw new OgcError('Forbidden', 'You may not read the records of this catalogue', undefined, refusalStatus(caller));
    const v = await recordVisibility(platform, caller);
    return { hiddenRecords: v.hidden, linklessRecords: v.withoutLinks };
  };
  /** A record as written for this caller: without its data links when it is the record of a layer it may not view (issue 11, describe mode). */
  const written = (ctx: ReaderContext, r: RecordRow, urls: RecordUrls) => (ctx.linklessRecords.has(r.identifier) ? jsonRecordWithoutDataLinks(writeRecord(r, urls)) : writeRecord(r, urls));

  const fail = (req: FastifyRequest, reply: FastifyReply, e: unknown) => {
    const err = e instanceof OgcError ? e : fromDatabaseError(e, 'filter');
    if (err.status >= 500) req.log.error({ err: e }, 'records request failed');
    if (err.status === 401) reply.header('www-authenticate', WWW_AUTHENTICATE);
    return reply.status(err.status).type('application/problem+json').send(problemJson(err, req.url.split('?')[0]));
  };

  /** A JSON document or its HTML page; `handler` returns the document (and its page title). */
  const document = (path: string, known: ReadonlySet<string>, handler: (req: FastifyRequest, kvp: Kvp) => Promise<{ doc: Record<string, unknown>; title: string; type?: string; html?: (doc: Record<string, unknown>) => string }>) =>
    app.get(path, async (req, reply) => {
      try {
        const kvp = Kvp.fromUrl(req.url);
        checkParams(kvp, known);
        const format = formatOf(req, kvp);
        const { doc, title, type, html } = await handler(req, kvp);
        reply.header('vary', 'Accept');
        if (format === 'html') return reply.type(HTML_TYPE).send(html ? html(doc) : documentHtml(title, doc));
        return reply.type(type ?? 'application/json').send(doc);
      } catch (e) {
        return fail(req, reply, relocated(e));
      }
    });

  const selfLinks = (href: string, type = 'application/json'): Link[] => [
    { href: `${href}?f=json`, rel: 'self', type, title: 'This document (JSON)' },
    { href: `${href}?f=html`, rel: 'alternate', type: 'text/html', title: 'This document (HTML)' },
  ];

  /** Every catalogue: all records, then one per harvest source. */
  const catalogues = async (): Promise<Catalogue[]> => [
    { id: COLLECTION, title: `${svc.title} – catalogue`, description: 'Every metadata record of the catalogue (datasets, series, services), also served by CSW 2.0.2.' },
    ...(await listSources(platform.pool)).map((h) => ({ id: `${SOURCE_PREFIX}${h.id}`, title: h.name, description: `Records harvested from ${h.url} (${h.kind})`, sourceId: Number(h.id) })),
  ];

  const collectionOr404 = async (req: FastifyRequest): Promise<Catalogue> => {
    const id = (req.params as { collectionId: string }).collectionId;
    const all = await catalogues();
    const c = all.find((x) => x.id === id);
    if (!c) throw new OgcError('NotFound', `Collection ${id.slice(0, 80)} does not exist (collections: ${all.map((x) => x.id).join(', ').slice(0, 300)})`, 'collectionId');
    return c;
  };

  /** The extent of the records the caller sees in a catalogue (none for a caller who may read no record). */
  const extentOf = async (req: FastifyRequest, cat: Catalogue) => {
    if (!mayReadRecords(platform.policy, callerOf(req))) return undefined;
    const ctx = await readerContext(req);
    const e = await read((c) => catalogueExtent(c, [...ctx.hiddenRecords], cat.sourceId));
    const iso = (d: Date | undefined) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : null);
    return {
      ...(e.box ? { spatial: { bbox: [e.box], crs: CRS84_URI } } : {}),
      ...(e.first || e.last ? { temporal: { interval: [[iso(e.first), iso(e.last)]], trs: GREGORIAN_TRS } } : {}),
    };
  };

  const collectionDoc = async (req: FastifyRequest, cat: Catalogue) => {
    const c = urlsOf(req, cat).collection;
    const extent = await extentOf(req, cat);
    return {
      id: cat.id,
      type: 'Catalog',
      itemType: 'record',
      title: cat.title,
      description: cat.description,
      ...(extent && Object.keys(extent).length ? { extent } : {}),
      crs: [CRS84_URI],
      links: [
        { href: c, rel: 'self', type: 'application/json', title: 'This catalogue' },
        { href: `${c}?f=html`, rel: 'alternate', type: 'text/html', title: 'This catalogue (HTML)' },
        { href: `${c}/items`, rel: 'items', type: GEOJSON, title: 'Records' },
        { href: `${c}/items?f=html`, rel: 'items', type: 'text/html', title: 'Records (HTML)' },
        { href: `${c}/queryables`, rel: REL_QUERYABLES, type: 'application/schema+json', title: 'Queryables' },
        { href: `${c}/sortables`, rel: REL_SORTABLES, type: 'application/schema+json', title: 'Sortables' },
        { href: `${root(req)}/csw?service=CSW&request=GetCapabilities`, rel: 'alternate', type: 'application/xml', title: 'The same catalogue through CSW 2.0.2' },
      ],
    };
  };

  document('/', DOCUMENT_PARAMS, async (req) => {
    const b = base(req);
    return {
      title: svc.title,
      doc: {
        title: `${svc.title} – OGC API Records`,
        description: svc.abstract,
        links: [
          ...selfLinks(`${b}/`),
          { href: `${b}/api`, rel: 'service-desc', type: OPENAPI_TYPE, title: 'OpenAPI definition' },
          { href: `${b}/conformance`, rel: 'conformance', type: 'application/json', title: 'Conformance classes' },
          { href: `${b}/collections`, rel: 'data', type: 'application/json', title: 'Catalogues' },
          { href: `${b}/collections/${COLLECTION}`, rel: 'child', type: 'application/json', title: 'The catalogue of every record' },
        ],
      },
    };
  });

  document('/conformance', DOCUMENT_PARAMS, async (req) => ({ title: 'Conformance', doc: { conformsTo: RECORDS_CONFORMANCE, links: selfLinks(`${base(req)}/conformance`) } }));

  app.get('/api', async (req, reply) => {
    try {
      checkParams(Kvp.fromUrl(req.url), DOCUMENT_PARAMS);
      return reply.type(OPENAPI_TYPE).send(recordsOpenApi(base(req), svc.title, svc.abstract));
    } catch (e) {
      return fail(req, reply, e);
    }
  });

  document('/collections', DOCUMENT_PARAMS, async (req) => {
    const collections = await Promise.all((await catalogues()).map((c) => collectionDoc(req, c)));
    return { title: 'Catalogues', doc: { collections, links: selfLinks(`${base(req)}/collections`) } };
  });

  document('/collections/:collectionId', DOCUMENT_PARAMS, async (req) => {
    const doc = await collectionDoc(req, await collectionOr404(req));
    return { title: doc.title, doc };
  });

  for (const [path, sortables] of [['queryables', false], ['sortables', true]] as const) {
    document(`/collections/:collectionId/${path}`, DOCUMENT_PARAMS, async (req) => {
      const url = `${urlsOf(req, await collectionOr404(req)).collection}/${path}`;
      const title = sortables ? 'Sortables of the catalogue' : 'Queryables of the catalogue';
      return { title, type: 'application/schema+json', doc: { ...queryablesDocument(url, title, sortables), links: selfLinks(url, 'application/schema+json') } };
    });
  }

  document('/collections/:collectionId/items', ITEMS_PARAMS, async (req, kvp) => {
    const cat = await collectionOr404(req);
    const items = readItemsRequest(kvp, maxRecords);
    const ctx = await readerContext(req);
    const query = planSearch({ ...(items.constraint ? { constraint: items.constraint } : {}), sortBy: items.sortBy, hiddenRecords: ctx.hiddenRecords, crs: platform.crs });
    // A source's catalogue: its records only (a predicate of the repository's, its value bound like the others).
    if (cat.sourceId !== undefined) query.where = `(${query.where}) AND ${harvestedFromSql(query.params.add(cat.sourceId, 'bigint'))}`;
    const found = await read((c) => searchRecords<RecordRow>(c, query, { startPosition: items.offset + 1, maxRecords: items.limit, columns: RECORD_COLUMNS }, { cache: platform.config.catalogue.pageCache })).catch((e: unknown) => {
      throw fromDatabaseError(e, 'filter');
    });
    const urls = urlsOf(req, cat);
    const page = (offset: number, f: Format) => pageUrl(`${urls.collection}/items`, req.url, offset, f);
    const returned = found.rows.length;
    const links: Link[] = [
      { href: page(items.offset, 'json'), rel: 'self', type: GEOJSON, title: 'This page (GeoJSON)' },
      { href: page(items.offset, 'html'), rel: 'alternate', type: 'text/html', title: 'This page (HTML)' },
      // Paging links in both encodings: a client follows the JSON ones, a reader of the HTML page the HTML ones.
      ...(items.offset + returned < found.matched && returned > 0
        ? [
            { href: page(items.offset + returned, 'json'), rel: 'next', type: GEOJSON, title: 'Next page' },
            { href: page(items.offset + returned, 'html'), rel: 'next', type: 'text/html', title: 'Next page (HTML)' },
          ]
        : []),
      ...(items.offset > 0
        ? [
            { href: page(Math.max(0, items.offset - items.limit), 'json'), rel: 'prev', type: GEOJSON, title: 'Previous page' },
            { href: page(Math.max(0, items.offset - items.limit), 'html'), rel: 'prev', type: 'text/html', title: 'Previous page (HTML)' },
          ]
        : []),
      { href: urls.collection, rel: 'collection', type: 'application/json', title: 'The catalogue' },
    ];
    const doc = {
      type: 'FeatureCollection',
      timeStamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      numberMatched: found.matched,
      numberReturned: returned,
      features: found.rows.map((r) => written(ctx, r, urls)),
      links,
    };
    return { title: 'Records', type: GEOJSON, doc, html: (d) => itemsHtml(`${svc.title} – fiches`, d) };
  });

  document('/collections/:collectionId/items/:recordId', DOCUMENT_PARAMS, async (req) => {
    const cat = await collectionOr404(req);
    const id = (req.params as { recordId: string }).recordId;
    const ctx = await readerContext(req);
    const rows = await read((c) => recordsByIdentifiers<RecordRow>(c, RECORD_COLUMNS, [id], [...ctx.hiddenRecords]));
    // A record of a resource the caller may not view is absent, as from CSW GetRecordById (issue 11); so is a record
    // of another source in a source's catalogue.
    if (rows.length === 0 || (cat.sourceId !== undefined && rows[0]!.source_id !== String(cat.sourceId))) throw new OgcError('NotFound', `Record ${id.slice(0, 120)} does not exist in ${cat.id}`, 'recordId');
    const doc = written(ctx, rows[0]!, urlsOf(req, cat));
    return { title: String((doc.properties as { title?: string }).title ?? id), type: GEOJSON, doc, html: recordHtml };
  });
}

/** The items URL with the request's own parameters, `offset` and `f` replaced (paging links keep the search). */
function pageUrl(itemsUrl: string, requestUrl: string, offset: number, f: Format): string {
  const q = requestUrl.includes('?') ? requestUrl.slice(requestUrl.indexOf('?') + 1) : '';
  const params = new URLSearchParams(q);
  for (const k of [...params.keys()]) if (k.toLowerCase() === 'offset' || k.toLowerCase() === 'f') params.delete(k);
  if (offset > 0) params.set('offset', String(offset));
  params.set('f', f);
  return `${itemsUrl}?${params.toString()}`;
}
