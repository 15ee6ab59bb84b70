/**
 * The OpenAPI 3.0 definition of the OGC API Features endpoint, generated from the layer catalogue:
 * one explicit path per collection (CITE finds test points there) and the standard parameters, with the
 * `limit` bounds QGIS reads to choose its page size.
 */
import type { Layer } from '../../../src/catalog/layers.js';
import type { Config } from '../../../src/config/index.js';

/** `editable`: the collections this caller may edit; their Part 4 operations (POST, PUT, PATCH, DELETE) are declared (issue 11). */
export function openApiDocument(baseUrl: string, layers: Layer[], config: Config, editable: (l: Layer) => boolean = () => false): Record<string, unknown> {
  const f = config.features;
  const ref = (name: string) => ({ $ref: `#/components/parameters/${name}` });
  const json = (schema: Record<string, unknown>, type = 'application/json') => ({ content: { [type]: { schema } } });
  const errors = {
    '400': { description: 'Bad request', ...json({ $ref: '#/components/schemas/exception' }, 'application/problem+json') },
    '404': { description: 'Not found', ...json({ $ref: '#/components/schemas/exception' }, 'application/problem+json') },
  };
  const paths: Record<string, unknown> = {
    '/': { get: { summary: 'Landing page', operationId: 'getLandingPage', tags: ['Capabilities'], responses: { '200': { description: 'Links to the API', ...json({ type: 'object' }) } } } },
    '/conformance': { get: { summary: 'Conformance classes', operationId: 'getConformance', tags: ['Capabilities'], responses: { '200': { description: 'Conformance classes', ...json({ type: 'object' }) } } } },
    '/api': { get: { summary: 'This document', operationId: 'getApi', tags: ['Capabilities'], responses: { '200': { description: 'OpenAPI 3.0', ...json({ type: 'object' }, 'application/vnd.oai.openapi+json;version=3.0') } } } },
    '/collections': { get: { summary: 'Feature collections', operationId: 'getCollections', tags: ['Capabilities'], responses: { '200': { description: 'Collections', ...json({ type: 'object' }) } } } },
  };
  for (const l of layers) {
    const tag = l.name;
    paths[`/collections/${l.name}`] = {
      get: { summary: `Description of ${l.title}`, operationId: `describe_${l.name}`, tags: [tag], responses: { '200': { description: 'Collection', ...json({ type: 'object' }) }, ...errors } },
    };
    for (const kind of ['schema', 'queryables'] as const) {
      paths[`/collections/${l.name}/${kind}`] = {
        get: { summary: `${kind === 'schema' ? 'Schema' : 'Queryable properties'} of ${l.title} (JSON Schema, attribute aliases as titles)`, operationId: `${kind}_${l.name}`, tags: [tag], parameters: [ref('f')], responses: { '200': { description: 'JSON Schema', ...json({ type: 'object' }, 'application/schema+json') }, ...errors } },
      };
    }
    paths[`/collections/${l.name}/items`] = {
      get: {
        summary: `Features of ${l.title}`,
        operationId: `getFeatures_${l.name}`,
        tags: [tag],
        // datetime only where the collection declares a temporal property (elsewhere it is a 400).
        parameters: [ref('limit'), ref('offset'), ref('bbox'), ref('bbox-crs'), ref('crs'), ...(l.temporal ? [ref('datetime')] : []), ref('f')],
        responses: { '200': { description: 'Features', ...json({ $ref: '#/components/schemas/featureCollectionGeoJSON' }, 'application/geo+json') }, ...errors },
      },
    };
    paths[`/collections/${l.name}/items/{featureId}`] = {
      get: {
        summary: `One feature of ${l.title}`,
        operationId: `getFeature_${l.name}`,
        tags: [tag],
        parameters: [ref('featureId'), ref('crs'), ref('f')],
        responses: { '200': { description: 'Feature', ...json({ type: 'object' }, 'application/geo+json') }, ...errors },
      },
    };
    if (editable(l)) addEditOperations(paths, l, json, errors, ref);
  }
  return {
    openapi: '3.0.3',
    info: { title: config.service.title, description: config.service.abstract, version: '1.0.0', contact: { name: config.service.providerName, ...(config.service.contactEmail ? { email: config.service.contactEmail } : {}), ...(config.service.providerSite ? { url: config.service.providerSite } : {}) }, license: { name: 'Licence Ouverte / Open Licence 2.0', url: 'https://www.etalab.gouv.fr/licence-ouverte-open-licence' } },
    servers: [{ url: baseUrl }],
    tags: [{ name: 'Capabilities' }, ...layers.map((l) => ({ name: l.name, description: l.title }))],
    paths,
    components: {
      parameters: {
        limit: { name: 'limit', in: 'query', description: 'Maximum number of features in the page', required: false, style: 'form', explode: false, schema: { type: 'integer', minimum: 1, maximum: f.oapiLimitMax, default: f.oapiLimitDefault } },
        offset: { name: 'offset', in: 'query', description: 'Index of the first feature (used by next links)', required: false, style: 'form', explode: false, schema: { type: 'integer', minimum: 0, default: 0 } },
        bbox: { name: 'bbox', in: 'query', description: 'Bounding box (minx,miny,maxx,maxy), in bbox-crs (default CRS84)', required: false, style: 'form', explode: false, schema: { type: 'array', minItems: 4, maxItems: 6, oneOf: [{ minItems: 4, maxItems: 4 }, { minItems: 6, maxItems: 6 }], items: { type: 'number' } } },
        'bbox-crs': { name: 'bbox-crs', in: 'query', description: 'CRS of bbox (URI)', required: false, style: 'form', explode: false, schema: { type: 'string', format: 'uri' } },
        crs: { name: 'crs', in: 'query', description: 'CRS of the returned geometries (URI)', required: false, style: 'form', explode: false, schema: { type: 'string', format: 'uri' } },
        datetime: { name: 'datetime', in: 'query', description: "Features whose temporal property intersects this instant or interval (OGC API Features Part 1 §7.15.4): an RFC 3339 date-time with offset (2018-02-12T23:20:50Z) or date (2018-02-12: the whole UTC day); an interval start/end, both included, with '..' or nothing for an open end (2018-02-12/.., ../2018-03-18T12:31:12Z, 2018-02-12/). Timestamps without time zone are read as UTC; a date property matches when its UTC day meets the interval. Refused with 400: other values, a start after the end, ../..", required: false, style: 'form', explode: false, schema: { type: 'string' } },
        f: { name: 'f', in: 'query', description: 'Output format', required: false, style: 'form', explode: false, schema: { type: 'string', enum: ['json', 'geojson'] } },
        featureId: { name: 'featureId', in: 'path', description: 'Feature identifier', required: true, schema: { type: 'string' } },
      },
      schemas: {
        exception: { type: 'object', required: ['title'], properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' } } },
        featureCollectionGeoJSON: {
          type: 'object',
          required: ['type', 'features'],
          properties: { type: { type: 'string', enum: ['FeatureCollection'] }, features: { type: 'array', items: { type: 'object' } }, links: { type: 'array', items: { type: 'object' } }, timeStamp: { type: 'string', format: 'date-time' }, numberMatched: { type: 'integer', minimum: 0 }, numberReturned: { type: 'integer', minimum: 0 } },
        },
      },
    },
  };
}

/** OGC API Features Part 4 (OGC 20-002): create, replace, update, delete, for a collection the caller may edit. */
function addEditOperations(
  paths: Record<string, unknown>,
  l: Layer,
  json: (schema: Record<string, unknown>, type?: string) => Record<string, unknown>,
  errors: Record<string, unknown>,
  ref: (name: string) => Record<string, unknown>,
): void {
  const feature = { type: 'object', required: ['type'], properties: { type: { type: 'string', enum: ['Feature'] }, geometry: { type: 'object', nullable: true }, properties: { type: 'object', nullable: true } } };
  const body = (type: string) => ({ required: true, content: { [type]: { schema: feature } } });
  const refused = { '401': { description: 'No credential' }, '403': { description: 'No edit right, or outside the territory' } };
  const contentCrs = { name: 'Content-Crs', in: 'header', required: false, description: 'CRS of the geometry (URI in angle brackets); CRS84 when absent', schema: { type: 'string' } };
  (paths[`/collections/${l.name}/items`] as Record<string, unknown>).post = {
    summary: `Add a feature to ${l.title}`,
    operationId: `createFeature_${l.name}`,
    tags: [l.name],
    parameters: [contentCrs],
    requestBody: body('application/geo+json'),
    responses: { '201': { description: 'Created; Location names the new feature' }, ...errors, ...refused },
  };
  const one = paths[`/collections/${l.name}/items/{featureId}`] as Record<string, unknown>;
  one.put = { summary: `Replace a feature of ${l.title}`, operationId: `replaceFeature_${l.name}`, tags: [l.name], parameters: [ref('featureId'), contentCrs], requestBody: body('application/geo+json'), responses: { '204': { description: 'Replaced' }, ...errors, ...refused } };
  one.patch = { summary: `Update a feature of ${l.title} (JSON Merge Patch)`, operationId: `updateFeature_${l.name}`, tags: [l.name], parameters: [ref('featureId'), contentCrs], requestBody: { required: true, ...json({ type: 'object' }, 'application/merge-patch+json') }, responses: { '204': { description: 'Updated' }, ...errors, ...refused } };
  one.delete = { summary: `Delete a feature of ${l.title}`, operationId: `deleteFeature_${l.name}`, tags: [l.name], parameters: [ref('featureId')], responses: { '204': { description: 'Deleted' }, ...errors, ...refused } };
}
