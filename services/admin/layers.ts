/**
 * Layers in the administration API (issue 10): list, read, publish a table, edit metadata (PATCH), unpublish,
 * publish again, delete (?dropTable=true drops the table too). The work is src/publishing/layer-admin.ts, which
 * the CLI calls too; every change is served at once by every process (the layer catalogue follows the
 * registry's revision) and the layer's catalogue record is rewritten or withdrawn in the same call.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Platform } from '../../src/platform.js';
import {
  deleteLayer, RECORD_FATES, type RecordFate, getAdminLayer, getLayerRecord, LayerAdminError, listAdminLayers, publishTable, putLayerRecord, resetLayerRecord, setLayerPublished, updateLayerMetadata,
  type LayerMetadataInput, type PublishInput,
} from '../../src/publishing/layer-admin.js';
import { INSPIRE_THEMES, TOPIC_CATEGORIES } from '../../src/metadata/layer-metadata.js';
import { AdminError } from './problem.js';
import type { AdminModule } from './module.js';

interface NameParams {
  name: string;
}

const asAdminError = (e: unknown): unknown => (e instanceof LayerAdminError ? new AdminError(e.status, e.code, e.message, e.field) : e);

function objectBody(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw new AdminError(400, 'invalid-body', 'The body must be a JSON object', 'body');
  return b as Record<string, unknown>;
}

function onlyQuery(req: FastifyRequest, allowed: string[]): Record<string, string> {
  const q = (req.query ?? {}) as Record<string, string>;
  const extra = Object.keys(q).filter((k) => !allowed.includes(k));
  if (extra.length) throw new AdminError(400, 'invalid-parameter', `Unknown parameter ${extra[0]!.slice(0, 40)}`, extra[0]!.slice(0, 40));
  return q;
}

/** ?record=withdraw|keep-withdrawn of DELETE and unpublish. */
function recordFate(q: Record<string, string>): RecordFate | undefined {
  if (q.record === undefined) return undefined;
  if (!(RECORD_FATES as readonly string[]).includes(q.record)) throw new AdminError(400, 'invalid-parameter', `record must be ${RECORD_FATES.join(' or ')}`, 'record');
  return q.record as RecordFate;
}

const XML_TYPES = ['application/xml', 'text/xml'];
const MAX_RECORD_BYTES = 5 * 1024 * 1024;

async function layerRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  const { pool, config } = platform;
  // Record bodies as text (a parser another module registered for the same types is used as it is).
  const missing = XML_TYPES.filter((t) => !app.hasContentTypeParser(t));
  if (missing.length) app.addContentTypeParser(missing, { parseAs: 'string', bodyLimit: MAX_RECORD_BYTES }, (_req, body, done) => done(null, body));
  const run = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw asAdminError(e);
    }
  };

  app.get('/layers', async (req) => {
    onlyQuery(req, []);
    return { layers: await run(() => listAdminLayers(pool)) };
  });

  app.post('/layers', async (req, reply) => {
    onlyQuery(req, []);
    const b = objectBody(req);
    const table = b.table;
    if (typeof table !== 'string' || !/^[^.]+\.[^.]+$/.test(table)) throw new AdminError(400, 'invalid-parameter', 'table is "schema.table"', 'table');
    if (typeof b.name !== 'string') throw new AdminError(400, 'invalid-parameter', 'name is required', 'name');
    const [schema, tbl] = table.split('.') as [string, string];
    const { table: _t, ...rest } = b;
    void _t;
    const layer = await run(() => publishTable(pool, config, { ...(rest as Omit<PublishInput, 'schema' | 'table'>), schema, table: tbl }));
    return reply.status(201).header('location', `/admin/layers/${encodeURIComponent(layer.name)}`).send(layer);
  });

  app.get<{ Params: NameParams }>('/layers/:name', async (req) => {
    onlyQuery(req, []);
    return run(() => getAdminLayer(pool, req.params.name));
  });

  app.patch<{ Params: NameParams }>('/layers/:name', async (req) => {
    onlyQuery(req, []);
    return run(() => updateLayerMetadata(pool, config, req.params.name, objectBody(req) as LayerMetadataInput));
  });

  app.post<{ Params: NameParams }>('/layers/:name/publish', async (req) => {
    onlyQuery(req, []);
    return run(() => setLayerPublished(pool, config, req.params.name, true));
  });

  app.post<{ Params: NameParams }>('/layers/:name/unpublish', async (req) => {
    const record = recordFate(onlyQuery(req, ['record']));
    return run(() => setLayerPublished(pool, config, req.params.name, false, { record }));
  });

  // The layer's ISO 19139 record: read it, replace it by a person's (it keeps following the layer's facts
  // unless recordFrozen), or give the layer back its generated record.
  const recordReply = (reply: import('fastify').FastifyReply, r: { identifier: string; document: string; generated: boolean; frozen: boolean }) =>
    reply.type('application/xml; charset=utf-8').header('x-record-identifier', r.identifier).header('x-record-generated', String(r.generated)).send(r.document);
  app.get<{ Params: NameParams }>('/layers/:name/record', async (req, reply) => {
    onlyQuery(req, []);
    return recordReply(reply, await run(() => getLayerRecord(pool, req.params.name)));
  });
  app.put<{ Params: NameParams }>('/layers/:name/record', async (req, reply) => {
    onlyQuery(req, []);
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!XML_TYPES.includes(type)) throw new AdminError(415, 'unsupported-media-type', 'Send the record as application/xml', 'body');
    const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : String(req.body ?? '');
    return recordReply(reply, await run(() => putLayerRecord(pool, config, req.params.name, body)));
  });
  app.delete<{ Params: NameParams }>('/layers/:name/record', async (req, reply) => {
    onlyQuery(req, []);
    return recordReply(reply, await run(() => resetLayerRecord(pool, config, req.params.name)));
  });

  app.delete<{ Params: NameParams }>('/layers/:name', async (req) => {
    const q = onlyQuery(req, ['dropTable', 'record']);
    if (q.dropTable !== undefined && q.dropTable !== 'true' && q.dropTable !== 'false') throw new AdminError(400, 'invalid-parameter', 'dropTable must be true or false', 'dropTable');
    return run(() => deleteLayer(pool, config, req.params.name, { dropTable: q.dropTable === 'true', record: recordFate(q) }));
  });
}

const PARTY = {
  type: 'object',
  required: ['organisation'],
  additionalProperties: false,
  properties: { organisation: { type: 'string' }, individual: { type: 'string' }, email: { type: 'string', format: 'email' }, url: { type: 'string', format: 'uri' } },
};
const METADATA_PROPS = {
  title: { type: 'string', maxLength: 500 },
  abstract: { type: 'string', maxLength: 20000 },
  keywords: { type: 'array', items: { type: 'string' } },
  topicCategories: { type: 'array', items: { type: 'string', enum: [...TOPIC_CATEGORIES] } },
  inspireThemes: { type: 'array', items: { type: 'string', enum: Object.keys(INSPIRE_THEMES) } },
  licence: { type: 'string', nullable: true, description: 'Licence URL or name; null: the platform licence' },
  producer: { ...PARTY, nullable: true },
  contact: { ...PARTY, nullable: true },
  defaultCrs: { type: 'integer', description: 'EPSG code' },
  offeredCrs: { type: 'array', items: { type: 'integer' }, nullable: true, description: 'EPSG codes; null: the platform list' },
  idColumn: { type: 'string', description: 'Checked: unique and never NULL' },
  attributeAliases: { type: 'object', additionalProperties: { type: 'string' } },
  recordFrozen: { type: 'boolean', description: 'The record, when edited by a person, no longer follows the layer facts' },
};
const problem = { default: { $ref: '#/components/responses/Problem' } };
const layerJson = (d: string) => ({ '200': { description: d, content: { 'application/json': { schema: { $ref: '#/components/schemas/AdminLayer' } } } }, ...problem });
const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
const RECORD_PARAM = { name: 'record', in: 'query', schema: { type: 'string', enum: ['withdraw', 'keep-withdrawn'], default: 'withdraw' }, description: "What becomes of the layer's catalogue record" };

export const layersModule: AdminModule = {
  name: 'layers',
  routes: layerRoutes,
  openapi: {
    paths: {
      '/layers': {
        get: { tags: ['layers'], summary: 'Every vector layer, published or not', responses: { '200': { description: '{layers: AdminLayer[]}' }, ...problem } },
        post: {
          tags: ['layers'], summary: 'Publish a table or view (geometry present, id column unique and not null)',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/PublishLayer' } } } },
          responses: { '201': { description: 'Published', content: { 'application/json': { schema: { $ref: '#/components/schemas/AdminLayer' } } } }, ...problem },
        },
      },
      '/layers/{name}': {
        parameters: [nameParam],
        get: { tags: ['layers'], summary: 'A layer', responses: layerJson('The layer') },
        patch: {
          tags: ['layers'], summary: 'Edit the metadata of a layer (members absent are kept)',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/LayerMetadata' } } } },
          responses: layerJson('The layer after the change'),
        },
        delete: {
          tags: ['layers'], summary: 'Delete a layer; its record is withdrawn (record=withdraw) or kept in the catalogue marked obsolete, without links (record=keep-withdrawn)',
          parameters: [{ name: 'dropTable', in: 'query', schema: { type: 'boolean', default: false } }, RECORD_PARAM],
          responses: { '200': { description: '{name, table, tableDropped}' }, ...problem },
        },
      },
      '/layers/{name}/record': {
        parameters: [nameParam],
        get: { tags: ['layers'], summary: "The layer's ISO 19139 record (X-Record-Generated: false when a person wrote it)", responses: { '200': { description: 'ISO 19139', content: { 'application/xml': {} } }, ...problem } },
        put: {
          tags: ['layers'], summary: "Replace the layer's record (same fileIdentifier); it keeps following the layer's facts unless recordFrozen",
          requestBody: { required: true, content: { 'application/xml': { schema: { type: 'string' } } } },
          responses: { '200': { description: 'The record as stored', content: { 'application/xml': {} } }, ...problem },
        },
        delete: { tags: ['layers'], summary: 'Give the layer back its generated record', responses: { '200': { description: 'The generated record', content: { 'application/xml': {} } }, ...problem } },
      },
      '/layers/{name}/publish': { parameters: [nameParam], post: { tags: ['layers'], summary: 'Publish again (checked)', responses: layerJson('The layer') } },
      '/layers/{name}/unpublish': { parameters: [nameParam], post: { tags: ['layers'], summary: 'Withdraw from every service; its record is withdrawn, or kept marked obsolete without links (record=keep-withdrawn) until published again', parameters: [RECORD_PARAM], responses: layerJson('The layer') } },
    },
    schemas: {
      LayerMetadata: { type: 'object', additionalProperties: false, properties: METADATA_PROPS },
      PublishLayer: {
        type: 'object', additionalProperties: false, required: ['name', 'table'],
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_.-]{0,62}$' }, table: { type: 'string', description: 'schema.table' },
          geometryColumn: { type: 'string' }, temporalProperty: { type: 'string' }, temporalEndProperty: { type: 'string' }, ...METADATA_PROPS,
        },
      },
      AdminLayer: {
        type: 'object',
        properties: {
          name: { type: 'string' }, kind: { type: 'string' }, published: { type: 'boolean' }, table: { type: 'string' }, geometryColumn: { type: 'string', nullable: true },
          temporalProperty: { type: 'string', nullable: true }, temporalEndProperty: { type: 'string', nullable: true }, metadataIdentifier: { type: 'string', nullable: true },
          createdAt: { type: 'string', format: 'date-time' }, updatedAt: { type: 'string', format: 'date-time' }, ...METADATA_PROPS,
        },
      },
    },
  },
};
