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
    // OpenID Connect sign-in (services/admin/oidc.ts): 404 when SDI_OIDC_ISSUER is not set.
    '/auth/oidc/login': { get: { tags: ['auth'], summary: 'Start an OpenID Connect sign-in (302 to the provider)', security: [], responses: { '302': { description: 'To the provider' }, default: { $ref: '#/components/responses/Problem' } } } },
    '/auth/oidc/callback': {
      get: {
        tags: ['auth'],
        summary: 'The provider’s redirect: code exchanged, ID token validated, admin session issued (cookie __Host-sdi-admin and JSON)',
        security: [],
        parameters: ['code', 'state', 'iss'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
        responses: { '200': { description: '{login, admin, created, token, tokenType, expiresAt}' }, default: { $ref: '#/components/responses/Problem' } },
      },
    },
    '/auth/oidc/logout': { post: { tags: ['auth'], summary: 'End the session (its token revoked, cookie cleared); the provider’s end-session URL with id_token_hint and post_logout_redirect_uri (RP-Initiated Logout 1.0)', responses: { '200': { description: '{signedOut, endSessionUrl?}' }, default: { $ref: '#/components/responses/Problem' } } } },
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
    tags: [...ADMIN_MODULES.map((m) => ({ name: m.name })), { name: 'auth' }],
    security: [{ bearer: [] }, { basic: [] }, { session: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, basic: { type: 'http', scheme: 'basic' }, session: { type: 'apiKey', in: 'cookie', name: '__Host-sdi-admin' } },
      responses: { Problem: { description: 'An error', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } } },
    },
  };
}
