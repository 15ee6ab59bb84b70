/**
 * DCAT catalogue for portals that harvest DCAT directly (data.gouv.fr's udata `dcat` backend, CKAN's
 * ckanext-dcat, data.europa.eu): the whole catalogue as one dcat:Catalog, paged with Hydra.
 *
 * Mounted at /dcat by the catalogue service (services/catalogue/index.ts, next to /csw):
 *   GET /dcat                    the catalogue, page 1 (`page`, `page_size`; `format=`, or Accept)
 *   GET /dcat/catalog.{rdf,xml,ttl,jsonld,json}   the same with the format in the path (udata guesses the format
 *                                from the URL's extension first, else from the Content-Type of a HEAD)
 *   GET /dcat/records/{identifier}   one record's graph (the URIs the catalogue uses dereference here)
 *
 * Paging: `page` (1-based, default 1) and `page_size` (default 100, at most SDI_CSW_MAX_RECORDS), the
 * parameter names of data.gouv.fr's own DCAT export. The catalogue node carries hydra:totalItems and a
 * hydra:view, a hydra:PartialCollectionView with hydra:first / previous / next / last (udata follows
 * hydra:next), also typed hydra:PagedCollection with firstPage / nextPage / lastPage for older harvesters.
 * Order is the metadata identifier, and each page is read in one snapshot, so a harvest visits every
 * record once. Formats: application/rdf+xml (default), text/turtle, application/ld+json.
 */
import { mayReadRecords } from '../../../src/access/policy.js';
import { recordVisibility } from '../../../src/access/records.js';
import { documentWithoutDataLinksIf } from '../../../src/access/record-links.js';
import { callerOf } from '../../../src/server/principal.js';
import { isDatabaseUnavailable } from '../../../src/db/errors.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../../../src/platform.js';
import { publicBaseUrl } from '../../../src/ogc/public-url.js';
import { catalogGraph, documentGraph, Graph, RDF_MEDIA_TYPES, serialise, type RdfFormat } from '../../../src/metadata/dcat.js';
import { catalogueSummary, documentsPage, recordDocument, withCatalogueSnapshot } from '../../../src/records/repository.js';
import type { PoolClient } from '../../../src/db/pool.js';

export const DEFAULT_PAGE_SIZE = 100;

const FORMAT_NAMES: Record<string, RdfFormat> = {
  rdf: 'rdfxml', xml: 'rdfxml', rdfxml: 'rdfxml', 'rdf+xml': 'rdfxml', 'application/rdf+xml': 'rdfxml', 'application/xml': 'rdfxml', 'text/xml': 'rdfxml',
  ttl: 'turtle', turtle: 'turtle', 'text/turtle': 'turtle', 'application/x-turtle': 'turtle',
  jsonld: 'jsonld', 'json-ld': 'jsonld', json: 'jsonld', 'application/ld+json': 'jsonld', 'application/json': 'jsonld',
};

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The format asked by `format=` (wins), else the best of Accept (q-values; wildcards → RDF/XML). */
export function negotiate(formatParam: string | undefined, accept: string | undefined): RdfFormat {
  if (formatParam !== undefined && formatParam !== '') {
    const f = FORMAT_NAMES[formatParam.trim().toLowerCase()];
    if (!f) throw new HttpProblem(400, `Unknown format '${formatParam.slice(0, 50)}' (formats: rdf, ttl, jsonld or their media types)`);
    return f;
  }
  if (!accept || !accept.trim()) return 'rdfxml';
  let best: { f: RdfFormat; q: number } | undefined;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!type) continue;
    const qp = params.find((p) => p.startsWith('q='));
    const q = qp ? Number(qp.slice(2)) : 1;
    if (!Number.isFinite(q) || q <= 0) continue;
    const f = type === '*/*' || type === 'application/*' ? 'rdfxml' : FORMAT_NAMES[type];
    // A wildcard ranks below an explicit type of the same q.
    const rank = type.includes('*') ? q - 0.0001 : q;
    if (f && (!best || rank > best.q)) best = { f, q: rank };
  }
  if (!best) throw new HttpProblem(406, 'Not acceptable: this resource is available as application/rdf+xml, text/turtle and application/ld+json');
  return best.f;
}

function intParam(v: string | null, name: string, dflt: number, max: number): number {
  if (v === null || v.trim() === '') return dflt;
  if (!/^\+?\d+$/.test(v.trim())) throw new HttpProblem(400, `${name} must be a positive integer, got '${v.slice(0, 30)}'`);
  const n = Number(v.trim());
  if (!Number.isSafeInteger(n) || n < 1) throw new HttpProblem(400, `${name} must be at least 1, got '${v.slice(0, 30)}'`);
  if (n > max) throw new HttpProblem(400, `${name} ${n} exceeds the maximum of ${max}`);
  return n;
}

export async function dcatRoutes(app: FastifyInstance, opts: { platform: Platform; mountPath: string }): Promise<void> {
  const { platform } = opts;
  const maxRecords = platform.config.catalogue.maxRecords;
  const read = <T>(fn: (c: PoolClient) => Promise<T>) => withCatalogueSnapshot(platform.pool, platform.config.features.statementTimeoutMs, fn);

  const send = (reply: FastifyReply, format: RdfFormat, g: Graph) =>
    reply.header('vary', 'Accept').type(`${RDF_MEDIA_TYPES[format]}; charset=utf-8`).send(serialise(g, format));

  const problem = (req: FastifyRequest, reply: FastifyReply, e: unknown) => {
    if (e instanceof HttpProblem) return reply.status(e.status).type('application/problem+json').send({ type: 'about:blank', title: e.status === 406 ? 'Not Acceptable' : e.status === 404 ? 'Not Found' : e.status === 403 ? 'Forbidden' : 'Bad Request', status: e.status, detail: e.message });
    if (isDatabaseUnavailable(e)) {
      req.log.warn({ err: e }, 'dcat request failed: database unavailable');
      return reply.status(503).type('application/problem+json').send({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'The database is temporarily unavailable; retry in a few seconds' });
    }
    req.log.error({ err: e }, 'dcat request failed');
    return reply.status(500).type('application/problem+json').send({ type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'Internal error' });
  };

  const context = async (req: FastifyRequest): Promise<{ base: string; hidden: string[]; linkless: ReadonlySet<string> }> => {
    // Every DCAT answer is made of records: the policy is asked with the caller first.
    if (!mayReadRecords(platform.policy, callerOf(req))) throw new HttpProblem(403, 'You may not read the records of this catalogue');
    const base = publicBaseUrl(req, platform.config);
    // Records of restricted resources this caller may not view are left out, or kept without their distributions (issue 11).
    const { hidden, withoutLinks: linkless } = await recordVisibility(platform, callerOf(req));
    return { base, hidden, linkless };
  };

  const catalogue = async (req: FastifyRequest, reply: FastifyReply, path: string, forced?: RdfFormat) => {
    try {
      const q = new URL(req.url, 'http://x').searchParams;
      const formatParam = q.get('format') ?? undefined;
      const format = forced ?? negotiate(formatParam, req.headers.accept);
      const page = intParam(q.get('page'), 'page', 1, 10_000_000);
      const pageSize = intParam(q.get('page_size'), 'page_size', DEFAULT_PAGE_SIZE, maxRecords);
      const { base, hidden, linkless } = await context(req);
      const catalogUrl = `${base}${opts.mountPath}${path}`;
      const keep = !forced && formatParam ? `&format=${encodeURIComponent(formatParam)}` : '';
      const pageUrl = (n: number) => `${catalogUrl}?page=${n}&page_size=${pageSize}${keep}`;

      const { total, documents, modified } = await read(async (c) => ({ ...(await catalogueSummary(c, hidden)), documents: await documentsPage(c, pageSize, (page - 1) * pageSize, hidden) }));

      const g = new Graph();
      const members = documents.map((document) => {
        const { resource, record, rec } = documentGraph(documentWithoutDataLinksIf(document, linkless), { baseUrl: base }, g);
        return { resource, record, service: rec.type === 'service' };
      });
      const svc = platform.config.service;
      catalogGraph(
        g,
        {
          uri: `${base}${opts.mountPath}`,
          title: `${svc.title} — catalogue`,
          description: svc.abstract,
          publisherName: svc.providerName,
          homepage: svc.providerSite,
          email: svc.contactEmail,
          keywords: svc.keywords.filter((k) => !/^(WFS|OGC API Features)$/i.test(k)),
          modified,
        },
        members,
        { total, page, pageSize, pageUrl },
      );
      return send(reply, format, g);
    } catch (e) {
      return problem(req, reply, e);
    }
  };

  app.get('/', (req, reply) => catalogue(req, reply, ''));
  app.get('/catalog.:ext', (req, reply) => {
    const ext = (req.params as { ext: string }).ext.toLowerCase();
    const f = ['rdf', 'xml', 'ttl', 'jsonld', 'json'].includes(ext) ? FORMAT_NAMES[ext] : undefined;
    if (!f) return problem(req, reply, new HttpProblem(404, `No catalogue format '${ext.slice(0, 20)}' (catalog.rdf, catalog.ttl, catalog.jsonld)`));
    return catalogue(req, reply, `/catalog.${ext}`, f);
  });

  app.get('/records/:id', async (req, reply) => {
    try {
      const q = new URL(req.url, 'http://x').searchParams;
      const format = negotiate(q.get('format') ?? undefined, req.headers.accept);
      const id = (req.params as { id: string }).id;
      const { base, hidden, linkless } = await context(req);
      const document = await read((c) => recordDocument(c, { identifier: id }, hidden));
      if (document === undefined) throw new HttpProblem(404, `No record '${id.slice(0, 200)}'`);
      return send(reply, format, documentGraph(documentWithoutDataLinksIf(document, linkless), { baseUrl: base }).graph);
    } catch (e) {
      return problem(req, reply, e);
    }
  });
}
