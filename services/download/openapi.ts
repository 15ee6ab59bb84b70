/** OpenAPI 3.0 description of the download service (the request body schema is schemas/download-request.schema.json). */
import { readFileSync } from 'node:fs';
import type { Platform } from '../../src/platform.js';
import { projectPath } from '../../src/paths.js';
import { FORMATS } from '../../src/download/formats.js';

let requestSchema: Record<string, unknown> | undefined;

export function downloadOpenApi(base: string, platform: Platform): Record<string, unknown> {
  requestSchema ??= (() => {
    const s = JSON.parse(readFileSync(projectPath('schemas', 'download-request.schema.json'), 'utf8')) as Record<string, unknown>;
    delete s.$schema;
    delete s.$id;
    return s;
  })();
  const q = (name: string, description: string, schema: Record<string, unknown> = { type: 'string' }, required = false) => ({ name, in: 'query', required, description, schema });
  const queryParams = [
    q('layer', 'Layer name(s), comma-separated', { type: 'string' }, true),
    q('format', 'Output format', { type: 'string', enum: FORMATS.map((f) => f.id) }, true),
    q('crs', 'Output CRS (EPSG:code)', { type: 'string', enum: platform.crs.offered.map((s) => `EPSG:${s}`) }),
    q('bbox', 'minx,miny,maxx,maxy in x/y order of bbox-crs'),
    q('bbox-crs', 'CRS of bbox (default EPSG:4326, lon/lat)'),
    q('polygon', 'Polygon as WKT or GeoJSON geometry'),
    q('polygon-crs', 'CRS of polygon (default EPSG:4326, lon/lat)'),
    q('commune', 'INSEE code of a commune'),
    q('epci', 'SIREN of an EPCI'),
    q('departement', 'Département code'),
    q('region', 'Région code'),
    q('clip', 'true: cut at the area (default); false: whole intersecting features', { type: 'boolean' }),
    q('filter', 'CQL2 text attribute filter'),
    q('csv-geometry', 'CSV only: wkt (default) or xy columns', { type: 'string', enum: ['wkt', 'xy'] }),
    q('zip', 'Always deliver a zip with metadata and README', { type: 'boolean' }),
    q('split', 'GeoPackage baskets: one file per layer instead of one GeoPackage with a table per layer (default false)', { type: 'boolean' }),
  ];
  const problem = { description: 'Problem', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
  const body = { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/DownloadRequest' } } } };
  return {
    openapi: '3.0.3',
    info: { title: `${platform.config.service.title} — téléchargement`, version: '1.0.0', description: 'Extracts of published layers in the usual formats, reprojected and clipped to a bbox, a polygon or an administrative unit; small ones served directly, big ones as deferred jobs. Unknown query parameters and body properties are refused (400 problem+json listing the known ones): the body schema has additionalProperties false at every level.' },
    servers: [{ url: base }],
    paths: {
      '/estimate': {
        get: { summary: 'Estimate an extract', parameters: queryParams, responses: { 200: { description: 'Estimate', content: { 'application/json': { schema: { $ref: '#/components/schemas/Estimate' } } } }, 400: problem, 404: problem, 413: problem, 422: problem } },
        post: { summary: 'Estimate an extract', requestBody: body, responses: { 200: { description: 'Estimate', content: { 'application/json': { schema: { $ref: '#/components/schemas/Estimate' } } } }, 400: problem, 404: problem, 413: problem, 422: problem } },
      },
      '/extract': {
        get: { summary: 'Direct extract (streamed)', parameters: queryParams, responses: { 200: { description: 'The file (or a zip)', content: Object.fromEntries(FORMATS.map((f) => [f.multiFile ? 'application/zip' : f.mediaType, { schema: { type: 'string', format: 'binary' } }])) }, 400: problem, 404: problem, 413: problem, 422: problem } },
        post: { summary: 'Direct extract (streamed)', requestBody: body, responses: { 200: { description: 'The file (or a zip)' }, 400: problem, 404: problem, 413: problem, 422: problem } },
      },
      '/jobs': {
        post: {
          summary: 'Create a deferred extract',
          description:
            'Anonymous, or as the administrator (Authorization: Bearer <SDI_ADMIN_TOKEN>, or its Basic password). Quotas: a client (its principal when authenticated, else its address as the trusted proxies report it) has at most download.jobsPerClient unfinished jobs, everyone together download.jobsTotal; over either, 429 with Retry-After and nothing queued. The answer holds, this once only, the cancelToken that DELETE needs.',
          requestBody: body,
          responses: {
            202: { description: 'Job accepted; Location gives its status URL', headers: { Location: { schema: { type: 'string' } } }, content: { 'application/json': { schema: { $ref: '#/components/schemas/NewJob' } } } },
            400: problem,
            401: { ...problem, description: 'A credential was presented and is not valid' },
            404: problem,
            413: problem,
            422: problem,
            429: { ...problem, description: 'Over a quota (type …/too-many-jobs-per-client or …/too-many-jobs-total); nothing was queued', headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds' } } },
          },
        },
      },
      '/jobs/{id}': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
        get: { summary: 'Job status, progress and result link', responses: { 200: { description: 'Job', content: { 'application/json': { schema: { $ref: '#/components/schemas/Job' } } } }, 404: problem } },
        delete: {
          summary: 'Cancel a job',
          description: "Needs the job's cancel token (header X-Job-Token, from the answer to POST /jobs), or the credentials of its owner; the administrator may cancel any job. The id alone is not enough.",
          parameters: [{ name: 'X-Job-Token', in: 'header', required: false, description: 'The cancelToken of the POST /jobs answer', schema: { type: 'string' } }],
          responses: { 200: { description: 'Cancelled (or cancelling, when running)', content: { 'application/json': { schema: { $ref: '#/components/schemas/Job' } } } }, 401: problem, 403: { ...problem, description: 'No valid token and not the owner (type …/cancel-forbidden); the job is unchanged' }, 404: problem, 409: problem },
        },
      },
      '/files/{id}': {
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
          { name: 'expires', in: 'query', required: true, schema: { type: 'integer' } },
          { name: 'signature', in: 'query', required: true, schema: { type: 'string' } },
        ],
        get: { summary: 'Result of a deferred extract (signed link)', responses: { 200: { description: 'The file' }, 403: problem, 404: problem, 410: problem } },
      },
      '/atom': { get: { summary: 'INSPIRE pre-defined download service: top Atom feed', responses: { 200: { description: 'Atom feed', content: { 'application/atom+xml': {} } } } } },
      '/atom/{layer}.xml': {
        parameters: [{ name: 'layer', in: 'path', required: true, schema: { type: 'string' } }],
        get: { summary: 'Dataset feed: one entry per pre-defined file (format × CRS)', responses: { 200: { description: 'Atom feed', content: { 'application/atom+xml': {} } }, 404: problem } },
      },
      '/atom/files/{layer}/{format}/{epsg}': {
        parameters: [
          { name: 'layer', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'format', in: 'path', required: true, schema: { type: 'string', enum: FORMATS.map((f) => f.id) } },
          { name: 'epsg', in: 'path', required: true, schema: { type: 'integer' } },
        ],
        get: { summary: 'Pre-defined file: the whole layer, built once per layer version, served with its length', responses: { 200: { description: 'The file' }, 404: problem, 413: problem } },
      },
      '/atom/opensearch.xml': { get: { summary: 'OpenSearch description (INSPIRE templates)', responses: { 200: { description: 'OpenSearch description', content: { 'application/opensearchdescription+xml': {} } } } } },
      '/atom/search': { get: { summary: 'OpenSearch: Describe / Get Spatial Dataset, free-text search', responses: { 200: { description: 'Atom feed or HTML' }, 302: { description: 'Get Spatial Dataset: the file' }, 400: problem, 404: problem } } },
    },
    components: {
      schemas: {
        DownloadRequest: requestSchema,
        Estimate: {
          type: 'object',
          properties: {
            layers: { type: 'array', items: { type: 'object', properties: { layer: { type: 'string' }, kind: { type: 'string' }, features: { type: 'integer' }, bytes: { type: 'integer' } } } },
            features: { type: 'integer' },
            bytes: { type: 'integer', description: 'Approximate size of the output' },
            mode: { type: 'string', enum: ['direct', 'deferred'] },
            limit: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'integer' } } },
            limits: { type: 'object', additionalProperties: { type: 'integer' } },
            format: { type: 'string' },
            crs: { type: 'string' },
            area: { type: 'string' },
          },
        },
        Job: {
          type: 'object',
          properties: {
            id: { type: 'string', format: 'uuid' },
            state: { type: 'string', enum: ['queued', 'running', 'done', 'failed', 'cancelled', 'expired'] },
            progress: { type: 'number', minimum: 0, maximum: 1 },
            message: { type: 'string' },
            created: { type: 'string', format: 'date-time' },
            started: { type: 'string', format: 'date-time', nullable: true },
            finished: { type: 'string', format: 'date-time', nullable: true },
            attempts: { type: 'integer' },
            request: { $ref: '#/components/schemas/DownloadRequest' },
            estimate: { $ref: '#/components/schemas/Estimate' },
            links: { type: 'array', items: { type: 'object', properties: { href: { type: 'string' }, rel: { type: 'string' }, type: { type: 'string' } } } },
            result: {
              type: 'object',
              description: 'When done: the signed link and what it holds',
              properties: { href: { type: 'string' }, expires: { type: 'string', format: 'date-time' }, filename: { type: 'string' }, mediaType: { type: 'string' }, bytes: { type: 'integer' }, features: { type: 'integer' }, layers: { type: 'object', additionalProperties: { type: 'integer' } } },
            },
            error: { type: 'string', description: 'When failed: the reason' },
            notification: { type: 'object', description: 'Outcome of the e-mail and webhook notification of a finished job, per channel: state sent|failed, at, reason', additionalProperties: { type: 'object', properties: { state: { type: 'string', enum: ['sent', 'failed'] }, at: { type: 'string', format: 'date-time' }, reason: { type: 'string' } } } },
            expired: { type: 'boolean' },
          },
        },
        NewJob: {
          allOf: [
            { $ref: '#/components/schemas/Job' },
            { type: 'object', required: ['cancelToken'], properties: { cancelToken: { type: 'string', description: 'Secret token to cancel this job (X-Job-Token); given once, stored only as a hash' } } },
          ],
        },
        Problem: { type: 'object', properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, parameter: { type: 'string' }, count: { type: 'integer' }, limit: { type: 'integer' } } },
      },
    },
  };
}
