/**
 * The OpenAPI 3.0 definition of the Records API (OGC 20-004 /conf/oas30 style, as the features API serves its
 * own): every path, its parameters exactly as the server reads them, and its responses' media types.
 */
import { ITEMS_PARAMETERS, DEFAULT_LIMIT } from './items-request.js';
import { RECORD_QUERYABLES } from './queryables.js';

const f = { name: 'f', in: 'query', required: false, description: 'Encoding of the response (else the Accept header decides)', schema: { type: 'string', enum: ['json', 'html'] } };
const collectionId = { name: 'collectionId', in: 'path', required: true, description: 'metadata (every record), or source-{id} (the records harvested from one source)', schema: { type: 'string', pattern: '^(metadata|source-[0-9]+)$' } };
const problem = { description: 'Problem (RFC 7807)', content: { 'application/problem+json': { schema: { type: 'object' } } } };
const json = (description: string, type = 'application/json') => ({ description, content: { [type]: { schema: { type: 'object' } }, 'text/html': { schema: { type: 'string' } } } });

const list = (name: string, description: string) => ({ name, in: 'query', required: false, style: 'form', explode: false, description, schema: { type: 'array', items: { type: 'string' } } });

const ITEM_PARAMETERS: Record<(typeof ITEMS_PARAMETERS)[number], Record<string, unknown>> = {
  f,
  limit: { name: 'limit', in: 'query', required: false, description: 'Records per page (above the maximum: the maximum)', schema: { type: 'integer', minimum: 1, default: DEFAULT_LIMIT } },
  offset: { name: 'offset', in: 'query', required: false, description: 'Records skipped before the page', schema: { type: 'integer', minimum: 0, default: 0 } },
  bbox: { name: 'bbox', in: 'query', required: false, style: 'form', explode: false, description: 'west,south,east,north in CRS84', schema: { type: 'array', minItems: 4, maxItems: 6, items: { type: 'number' } } },
  datetime: { name: 'datetime', in: 'query', required: false, description: 'Instant or interval (RFC 3339, .. for an open end) met by the temporal extent of the resource', schema: { type: 'string' } },
  q: list('q', 'Search terms: a record matching any term (every word of a term)'),
  type: list('type', 'Resource types (dataset, series, service…)'),
  ids: list('ids', 'Record identifiers'),
  externalIds: list('externalIds', 'Resource identifiers (codes)'),
  sortby: list('sortby', `Sort keys, - for descending: ${RECORD_QUERYABLES.filter((q) => q.sortable).map((q) => q.name).join(', ')}`),
  filter: { name: 'filter', in: 'query', required: false, description: 'CQL2 filter over the queryables', schema: { type: 'string' } },
  'filter-lang': { name: 'filter-lang', in: 'query', required: false, schema: { type: 'string', enum: ['cql2-text', 'cql2-json'], default: 'cql2-text' } },
  'filter-crs': { name: 'filter-crs', in: 'query', required: false, schema: { type: 'string', enum: ['http://www.opengis.net/def/crs/OGC/1.3/CRS84'] } },
};

const get = (summary: string, operationId: string, parameters: unknown[], ok: unknown) => ({ get: { summary, operationId, parameters, responses: { '200': ok, '400': problem, '401': problem, '403': problem, '404': problem } } });

export function recordsOpenApi(base: string, title: string, description: string): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: { title: `${title} – OGC API Records`, description, version: '1.0.0' },
    servers: [{ url: base }],
    paths: {
      '/': get('Landing page', 'getLandingPage', [f], json('Landing page')),
      '/conformance': get('Conformance classes', 'getConformance', [f], json('Conformance declaration')),
      '/api': { get: { summary: 'This document', operationId: 'getApi', responses: { '200': { description: 'OpenAPI 3.0', content: { 'application/vnd.oai.openapi+json;version=3.0': { schema: { type: 'object' } } } } } } },
      '/collections': get('Catalogues', 'getCollections', [f], json('Catalogues')),
      '/collections/{collectionId}': get('A catalogue', 'describeCollection', [collectionId, f], json('Catalogue')),
      '/collections/{collectionId}/queryables': get('Queryables of a catalogue', 'getQueryables', [collectionId, f], json('JSON Schema', 'application/schema+json')),
      '/collections/{collectionId}/sortables': get('Sortables of a catalogue', 'getSortables', [collectionId, f], json('JSON Schema', 'application/schema+json')),
      '/collections/{collectionId}/items': get('Search records', 'getRecords', [collectionId, ...ITEMS_PARAMETERS.map((p) => ITEM_PARAMETERS[p])], json('Records (GeoJSON)', 'application/geo+json')),
      '/collections/{collectionId}/items/{recordId}': get('A record', 'getRecord', [collectionId, { name: 'recordId', in: 'path', required: true, schema: { type: 'string' } }, f], json('Record (GeoJSON)', 'application/geo+json')),
    },
  };
}
