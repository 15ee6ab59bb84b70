/**
 * The OpenAPI 3.0 definition of the OGC API Features endpoint, generated from the layer catalogue:
 * one explicit path per collection (CITE finds test points there) and the standard parameters, with the
 * `limit` bounds QGIS reads to choose its page size.
 */
import type { Layer } from '../../../src/catalog/layers.js';
import type { Config } from '../../../src/config/index.js';

export function openApiDocument(baseUrl: string, layers: Layer[], config: Config): Record<string, unknown> {
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
