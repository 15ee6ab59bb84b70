/** The OpenAPI 3.0 document of the administration API: its own routes and each module's paths and schemas. */
import { ADMIN_MODULES } from './modules.js';

const PROBLEM = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, parameter: { type: 'string' }, instance: { type: 'string' } },
};

export function adminOpenApi(serverUrl: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {
    '/': { get: { summary: 'Index of the administration API', responses: { '200': { description: 'The modules' }, default: { $ref: '#/components/responses/Problem' } } } },
    '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.0' } } } },
  };
  const schemas: Record<string, unknown> = { Problem: PROBLEM };
  for (const m of ADMIN_MODULES) {
    Object.assign(paths, m.openapi.paths);
    Object.assign(schemas, m.openapi.schemas ?? {});
  }
  return {
    openapi: '3.0.3',
    info: { title: 'SDI administration API', version: '1.0.0' },
    servers: [{ url: serverUrl }],
    tags: ADMIN_MODULES.map((m) => ({ name: m.name })),
    security: [{ bearer: [] }, { basic: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, basic: { type: 'http', scheme: 'basic' } },
      responses: { Problem: { description: 'An error', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } } },
    },
  };
}
