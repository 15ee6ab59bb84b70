/**
 * The administration API at /admin: JSON in and out, OpenAPI 3.0 at /admin/openapi.json, errors as
 * application/problem+json. It carries publishing (imports, layers and their metadata; issue 10), styles (issue 9)
 * and rights (users, groups, tokens, grants; issue 11). Every route needs a caller the access policy lets
 * administer ('admin-api'): until the rights issue, the administrator's credential (SDI_ADMIN_TOKEN).
 * No background work of its own (long imports run on the download job queue).
 */
import type { FastifyInstance } from 'fastify';
import type { Platform } from '../../src/platform.js';
import type { Service } from '../../src/server/service.js';
import { callerOf } from '../../src/server/principal.js';
import { adminToken } from '../../src/access/credentials.js';
import { publicBaseUrl } from '../../src/ogc/public-url.js';
import { AdminError, sendAdminProblem } from './problem.js';
import { ADMIN_MODULES } from './modules.js';
import { adminOpenApi } from './openapi.js';
import { oidcRoutes } from './oidc.js';

/** Refuses callers who may not administer: 403 when no admin credential is configured or the caller is not allowed; 401 without or with a wrong credential. */
export function requireAdministrator(req: import('fastify').FastifyRequest, platform: Platform): void {
  const caller = callerOf(req);
  if (platform.policy.mayAdminister(caller, 'admin-api')) return;
  if (req.credentialRejected) throw new AdminError(401, 'unauthorized', 'Invalid credentials');
  if (caller.login === undefined) {
    if (!adminToken(platform) && !platform.config.firstAdmin) throw new AdminError(403, 'forbidden', 'The administration API is disabled: no administrator credential is configured (SDI_ADMIN_TOKEN)');
    throw new AdminError(401, 'unauthorized', 'This API requires authentication (Authorization: Bearer or Basic)');
  }
  throw new AdminError(403, 'forbidden', 'You may not administer this platform');
}

export async function adminRoutes(app: FastifyInstance, opts: { platform: Platform }): Promise<void> {
  const { platform } = opts;
  app.setErrorHandler((e, req, reply) => sendAdminProblem(req, reply, e));
  app.setNotFoundHandler((req, reply) => sendAdminProblem(req, reply, new AdminError(404, 'not-found', `No such resource: ${req.url.split('?')[0]!.slice(0, 120)}`)));
  app.addHook('preHandler', async (req) => requireAdministrator(req, platform));

  app.get('/', async (req) => {
    const base = `${publicBaseUrl(req, platform.config)}/admin`;
    return { title: 'Administration API', openapi: `${base}/openapi.json`, modules: ADMIN_MODULES.map((m) => m.name) };
  });
  app.get('/openapi.json', async (req, reply) => reply.type('application/vnd.oai.openapi+json;version=3.0').send(adminOpenApi(`${publicBaseUrl(req, platform.config)}/admin`)));
  for (const m of ADMIN_MODULES) await m.routes(app, platform);
}

export const adminService: Service = {
  name: 'admin',
  async routes(app, platform) {
    await app.register(adminRoutes, { prefix: '/admin', platform });
    // OpenID Connect sign-in: beside the /admin plugin, outside its administrator check.
    await app.register(oidcRoutes, { prefix: '/admin/auth/oidc', platform });
  },
};
