/**
 * Users, groups, memberships, API tokens, grants and the public flag of layers and catalogue records (issue 11), under /admin. Bodies
 * are JSON objects checked here (unknown members refused, not dropped); passwords are hashed with scrypt
 * (src/access/passwords.ts); a token's secret is returned once, at creation, and only its SHA-256 is kept.
 * Every change empties the cache of verified credentials (src/access/authenticate.ts), so that a disabled user,
 * a revoked token or a withdrawn grant stops working at once in this process.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Platform } from '../../src/platform.js';
import type { AdminModule } from './module.js';
import { AdminError } from './problem.js';
import { hashPassword, passwordProblem } from '../../src/access/passwords.js';
import { forgetVerifiedCredentials } from '../../src/access/authenticate.js';
import { newTokenSecret, tokenDigest, TOKEN_SCOPES } from '../../src/access/accounts.js';
import { quoteIdent } from '../../src/db/identifiers.js';
import { requestPart } from '../../src/audit/hook.js';

const LOGIN = /^[A-Za-z0-9_.@-]{1,128}$/;
const GROUP = /^[A-Za-z0-9_.-]{1,128}$/;
const ACTIONS = ['view', 'read', 'download', 'edit', 'admin'] as const;
const RESOURCE_KINDS = ['layer', 'raster', 'dataset', 'record'] as const;
const UNIT_KINDS = ['commune', 'epci', 'departement', 'region'] as const;

type Body = Record<string, unknown>;

/** The body as an object with only `allowed` members. */
function bodyOf(raw: unknown, allowed: readonly string[]): Body {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new AdminError(400, 'invalid-body', 'The body must be a JSON object');
  const unknown = Object.keys(raw).find((k) => !allowed.includes(k));
  if (unknown) throw new AdminError(400, 'invalid-body', `Unknown member ${unknown.slice(0, 40)} (known: ${allowed.join(', ')})`, unknown.slice(0, 40));
  return raw as Body;
}

function str(b: Body, key: string, re?: RegExp, max = 1000): string | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > max || (re && !re.test(v))) throw new AdminError(400, 'invalid-body', `${key} is not valid`, key);
  return v;
}

function bool(b: Body, key: string): boolean | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new AdminError(400, 'invalid-body', `${key} must be true or false`, key);
  return v;
}

function oneOf<T extends string>(b: Body, key: string, values: readonly T[], required = true): T | undefined {
  const v = b[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw new AdminError(400, 'invalid-body', `${key} must be one of ${values.join(', ')}`, key);
  return v as T;
}

const USER_COLUMNS = `u.login, u.display_name AS "displayName", u.email, u.is_admin AS admin, u.disabled, u.created_at AS "createdAt",
  ARRAY(SELECT g.name FROM sdi.group_members m JOIN sdi.groups g ON g.id = m.group_id WHERE m.user_id = u.id ORDER BY g.name) AS groups`;
const TOKEN_COLUMNS = `t.id::text AS id, t.name, t.scopes, t.expires_at AS "expiresAt", t.revoked_at AS "revokedAt", t.last_used_at AS "lastUsedAt", t.created_at AS "createdAt"`;
const GRANT_COLUMNS = `g.id::text AS id, u.login AS "user", gr.name AS "group", g.resource_kind AS "resourceKind", g.resource_name AS "resourceName", g.action,
  g.territory_kind AS "territoryKind", g.territory_code AS "territoryCode", g.created_at AS "createdAt"`;
const GRANT_FROM = 'sdi.grants g LEFT JOIN sdi.users u ON u.id = g.user_id LEFT JOIN sdi.groups gr ON gr.id = g.group_id';

function tableRef(qualified: string): string {
  const [s, t] = qualified.split('.');
  return `${quoteIdent(s!)}.${quoteIdent(t!)}`;
}

async function rightsRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  const db = platform.pool;
  const changed = () => forgetVerifiedCredentials();
  // Audit trail (issue 11): every write to the rights, who made it, and its outcome, in the audit log
  // (sdi.audit_log, event 'rights') and as a log line; refused credentials are recorded by the principal hook.
  app.addHook('onResponse', async (req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return;
    if (!/^\/admin\/(users|groups|tokens|grants|access)(\/|$)/.test(req.url)) return;
    platform.audit?.record({ event: 'rights', principal: req.principal?.login ?? null, ...requestPart(req, platform), status: reply.statusCode });
    req.log.info({ audit: 'rights', by: req.principal?.login ?? null, method: req.method, path: req.url.split('?')[0], status: reply.statusCode }, 'rights changed');
  });
  const userId = async (login: string): Promise<string> => {
    const r = await db.query<{ id: string }>('SELECT id FROM sdi.users WHERE login = $1', [login]);
    if (!r.rows[0]) throw new AdminError(404, 'not-found', `No user ${login.slice(0, 80)}`, 'login');
    return r.rows[0].id;
  };
  const groupId = async (name: string): Promise<string> => {
    const r = await db.query<{ id: string }>('SELECT id FROM sdi.groups WHERE name = $1', [name]);
    if (!r.rows[0]) throw new AdminError(404, 'not-found', `No group ${name.slice(0, 80)}`, 'group');
    return r.rows[0].id;
  };
  const user = async (login: string) => {
    const r = await db.query(`SELECT ${USER_COLUMNS} FROM sdi.users u WHERE u.login = $1`, [login]);
    if (!r.rows[0]) throw new AdminError(404, 'not-found', `No user ${login.slice(0, 80)}`, 'login');
    return r.rows[0];
  };

  // Users.
  app.get('/users', async () => ({ users: (await db.query(`SELECT ${USER_COLUMNS} FROM sdi.users u ORDER BY u.login`)).rows }));
  app.post('/users', async (req, reply) => {
    const b = bodyOf(req.body, ['login', 'password', 'displayName', 'email', 'admin']);
    const login = str(b, 'login', LOGIN, 128);
    if (!login) throw new AdminError(400, 'invalid-body', 'login is required (1 to 128 of A-Z a-z 0-9 _ . @ -)', 'login');
    let hash: string | null = null;
    if (b.password !== undefined) {
      const problem = passwordProblem(b.password);
      if (problem) throw new AdminError(400, 'invalid-body', problem, 'password');
      hash = await hashPassword(b.password as string);
    }
    const r = await db.query(
      `INSERT INTO sdi.users (login, password_hash, display_name, email, is_admin) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (login) DO NOTHING`,
      [login, hash, str(b, 'displayName') ?? null, str(b, 'email', /^[^\s@]+@[^\s@]+$/, 320) ?? null, bool(b, 'admin') ?? false],
    );
    if (!r.rowCount) throw new AdminError(409, 'conflict', `User ${login} exists already`, 'login');
    changed();
    return reply.status(201).header('location', `users/${encodeURIComponent(login)}`).send(await user(login));
  });
  app.get<{ Params: { login: string } }>('/users/:login', async (req) => user(req.params.login));
  app.patch<{ Params: { login: string } }>('/users/:login', async (req) => {
    const id = await userId(req.params.login);
    const b = bodyOf(req.body, ['password', 'displayName', 'email', 'admin', 'disabled']);
    if (b.password !== undefined) {
      const problem = passwordProblem(b.password);
      if (problem) throw new AdminError(400, 'invalid-body', problem, 'password');
    }
    const hash = b.password !== undefined ? await hashPassword(b.password as string) : undefined;
    await db.query(
      `UPDATE sdi.users SET password_hash = COALESCE($2, password_hash), display_name = CASE WHEN $3 THEN $4 ELSE display_name END,
              email = CASE WHEN $5 THEN $6 ELSE email END, is_admin = COALESCE($7, is_admin), disabled = COALESCE($8, disabled), updated_at = now()
        WHERE id = $1`,
      [id, hash ?? null, 'displayName' in b, str(b, 'displayName') ?? null, 'email' in b, str(b, 'email', /^[^\s@]+@[^\s@]+$/, 320) ?? null, bool(b, 'admin') ?? null, bool(b, 'disabled') ?? null],
    );
    changed();
    return user(req.params.login);
  });
  app.delete<{ Params: { login: string } }>('/users/:login', async (req, reply) => {
    const r = await db.query('DELETE FROM sdi.users WHERE login = $1', [req.params.login]);
    if (!r.rowCount) throw new AdminError(404, 'not-found', `No user ${req.params.login.slice(0, 80)}`, 'login');
    changed();
    return reply.status(204).send();
  });

  // Groups and memberships.
  const group = async (name: string) => {
    const r = await db.query(
      `SELECT g.name, g.title, ARRAY(SELECT u.login FROM sdi.group_members m JOIN sdi.users u ON u.id = m.user_id WHERE m.group_id = g.id ORDER BY u.login) AS members
         FROM sdi.groups g WHERE g.name = $1`,
      [name],
    );
    if (!r.rows[0]) throw new AdminError(404, 'not-found', `No group ${name.slice(0, 80)}`, 'group');
    return r.rows[0];
  };
  app.get('/groups', async () => ({ groups: (await db.query('SELECT g.name, g.title, (SELECT count(*)::int FROM sdi.group_members m WHERE m.group_id = g.id) AS members FROM sdi.groups g ORDER BY g.name')).rows }));
  app.post('/groups', async (req, reply) => {
    const b = bodyOf(req.body, ['name', 'title']);
    const name = str(b, 'name', GROUP, 128);
    if (!name) throw new AdminError(400, 'invalid-body', 'name is required (1 to 128 of A-Z a-z 0-9 _ . -)', 'name');
    const r = await db.query('INSERT INTO sdi.groups (name, title) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, str(b, 'title') ?? null]);
    if (!r.rowCount) throw new AdminError(409, 'conflict', `Group ${name} exists already`, 'name');
    return reply.status(201).header('location', `groups/${encodeURIComponent(name)}`).send(await group(name));
  });
  app.get<{ Params: { group: string } }>('/groups/:group', async (req) => group(req.params.group));
  app.delete<{ Params: { group: string } }>('/groups/:group', async (req, reply) => {
    const r = await db.query('DELETE FROM sdi.groups WHERE name = $1', [req.params.group]);
    if (!r.rowCount) throw new AdminError(404, 'not-found', `No group ${req.params.group.slice(0, 80)}`, 'group');
    changed();
    return reply.status(204).send();
  });
  app.put<{ Params: { group: string; login: string } }>('/groups/:group/members/:login', async (req, reply) => {
    const [g, u] = [await groupId(req.params.group), await userId(req.params.login)];
    await db.query('INSERT INTO sdi.group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [g, u]);
    changed();
    return reply.status(204).send();
  });
  app.delete<{ Params: { group: string; login: string } }>('/groups/:group/members/:login', async (req, reply) => {
    const [g, u] = [await groupId(req.params.group), await userId(req.params.login)];
    const r = await db.query('DELETE FROM sdi.group_members WHERE group_id = $1 AND user_id = $2', [g, u]);
    if (!r.rowCount) throw new AdminError(404, 'not-found', `${req.params.login.slice(0, 80)} is not a member of ${req.params.group.slice(0, 80)}`, 'login');
    changed();
    return reply.status(204).send();
  });

  // API tokens.
  app.get<{ Params: { login: string } }>('/users/:login/tokens', async (req) => {
    const id = await userId(req.params.login);
    return { tokens: (await db.query(`SELECT ${TOKEN_COLUMNS} FROM sdi.api_tokens t WHERE t.user_id = $1 ORDER BY t.id`, [id])).rows };
  });
  app.post<{ Params: { login: string } }>('/users/:login/tokens', async (req, reply: FastifyReply) => {
    const id = await userId(req.params.login);
    const b = bodyOf(req.body, ['name', 'scopes', 'expiresAt']);
    const scopes = b.scopes;
    if (!Array.isArray(scopes) || scopes.length === 0 || scopes.some((s) => !(TOKEN_SCOPES as readonly unknown[]).includes(s)))
      throw new AdminError(400, 'invalid-body', `scopes is a non-empty list of ${TOKEN_SCOPES.join(', ')}`, 'scopes');
    const expires = str(b, 'expiresAt', /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/, 40);
    if (expires !== undefined && !(Date.parse(expires) > Date.now())) throw new AdminError(400, 'invalid-body', 'expiresAt must be a future RFC 3339 date or date-time', 'expiresAt');
    const secret = newTokenSecret();
    const r = await db.query(`INSERT INTO sdi.api_tokens (user_id, name, secret_sha256, scopes, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id::text AS id`, [
      id,
      str(b, 'name', undefined, 200) ?? '',
      tokenDigest(secret),
      [...new Set(scopes as string[])],
      expires ?? null,
    ]);
    const row = (await db.query(`SELECT ${TOKEN_COLUMNS} FROM sdi.api_tokens t WHERE t.id = $1`, [r.rows[0]!.id])).rows[0];
    // The secret is in this answer only; it cannot be read again.
    return reply.status(201).header('cache-control', 'no-store').send({ ...row, token: secret });
  });
  app.delete<{ Params: { id: string } }>('/tokens/:id', async (req, reply) => {
    if (!/^\d{1,18}$/.test(req.params.id)) throw new AdminError(404, 'not-found', 'No such token', 'id');
    const r = await db.query('UPDATE sdi.api_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1', [req.params.id]);
    if (!r.rowCount) throw new AdminError(404, 'not-found', 'No such token', 'id');
    changed();
    return reply.status(204).send();
  });

  // Grants.
  app.get<{ Querystring: Record<string, string> }>('/grants', async (req) => {
    const q = req.query ?? {};
    const unknown = Object.keys(q).find((k) => !['user', 'group', 'resourceKind', 'resourceName'].includes(k));
    if (unknown) throw new AdminError(400, 'invalid-parameter', `Unknown parameter ${unknown.slice(0, 40)} (known: user, group, resourceKind, resourceName)`, unknown.slice(0, 40));
    const { rows } = await db.query(
      `SELECT ${GRANT_COLUMNS} FROM ${GRANT_FROM}
        WHERE ($1::text IS NULL OR u.login = $1) AND ($2::text IS NULL OR gr.name = $2) AND ($3::text IS NULL OR g.resource_kind = $3) AND ($4::text IS NULL OR g.resource_name = $4)
        ORDER BY g.id`,
      [q.user ?? null, q.group ?? null, q.resourceKind ?? null, q.resourceName ?? null],
    );
    return { grants: rows };
  });
  app.post('/grants', async (req, reply) => {
    const b = bodyOf(req.body, ['user', 'group', 'resourceKind', 'resourceName', 'action', 'territory']);
    const login = str(b, 'user', LOGIN, 128);
    const groupName = str(b, 'group', GROUP, 128);
    if ((login === undefined) === (groupName === undefined)) throw new AdminError(400, 'invalid-body', 'Exactly one of user and group', 'user');
    const kind = oneOf(b, 'resourceKind', RESOURCE_KINDS)!;
    const name = str(b, 'resourceName', /^\S{1,300}$/, 300);
    if (!name) throw new AdminError(400, 'invalid-body', 'resourceName is required', 'resourceName');
    const action = oneOf(b, 'action', ACTIONS)!;
    // A territory cuts features and pixels; a catalogue record has neither (the policy would open nothing with it).
    if (kind === 'record' && b.territory !== undefined) throw new AdminError(400, 'invalid-body', 'A grant on a record has no territory', 'territory');
    const who = login !== undefined ? { user: await userId(login), group: null } : { user: null, group: await groupId(groupName!) };
    // The territory: an admin unit of the reference tables (copied now), or a GeoJSON polygon (WGS 84 lon/lat, RFC 7946).
    let territorySql = 'NULL::geometry';
    let territoryKind: string | null = null;
    let territoryCode: string | null = null;
    const params: unknown[] = [who.user, who.group, kind, name, action];
    if (b.territory !== undefined) {
      const t = bodyOf(b.territory, ['kind', 'code', 'geometry']);
      const tk = oneOf(t, 'kind', [...UNIT_KINDS, 'polygon'] as const)!;
      territoryKind = tk;
      if (tk === 'polygon') {
        const g = t.geometry as { type?: unknown } | undefined;
        if (!g || typeof g !== 'object' || (g.type !== 'Polygon' && g.type !== 'MultiPolygon')) throw new AdminError(400, 'invalid-body', 'territory.geometry must be a GeoJSON Polygon or MultiPolygon (WGS 84 lon/lat)', 'territory.geometry');
        params.push(JSON.stringify(g));
        territorySql = `ST_Multi(ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON($${params.length}::text), 4326), 2154))`;
      } else {
        territoryCode = str(t, 'code', /^[A-Za-z0-9]{1,20}$/, 20) ?? null;
        if (!territoryCode) throw new AdminError(400, 'invalid-body', 'territory.code is required for an administrative unit', 'territory.code');
        const u = platform.config.download.adminUnits[tk as (typeof UNIT_KINDS)[number]];
        params.push(territoryCode);
        territorySql = `(SELECT ST_Multi(ST_Transform(ST_Union(${quoteIdent(u.geometryColumn)}), 2154)) FROM ${tableRef(u.table)} WHERE ${quoteIdent(u.codeColumn)}::text = $${params.length}::text)`;
        const found = await db.query(`SELECT 1 FROM ${tableRef(u.table)} WHERE ${quoteIdent(u.codeColumn)}::text = $1::text LIMIT 1`, [territoryCode]);
        if (!found.rowCount) throw new AdminError(400, 'invalid-body', `No ${tk} with code ${territoryCode}`, 'territory.code');
      }
    }
    params.push(territoryKind, territoryCode);
    let id: string;
    try {
      const r = await db.query<{ id: string }>(
        `INSERT INTO sdi.grants (user_id, group_id, resource_kind, resource_name, action, territory, territory_kind, territory_code)
         VALUES ($1, $2, $3, $4, $5, ${territorySql}, $${params.length - 1}, $${params.length}) RETURNING id::text AS id`,
        params,
      );
      id = r.rows[0]!.id;
    } catch (e) {
      // PostGIS's parse errors (XX000) and the validity check (23514): the polygon is not usable.
      const code = (e as { code?: string }).code;
      if (code === 'XX000' || code === '23514' || code === '22023') throw new AdminError(400, 'invalid-body', 'territory.geometry is not a valid polygon', 'territory.geometry');
      throw e;
    }
    changed();
    const row = (await db.query(`SELECT ${GRANT_COLUMNS} FROM ${GRANT_FROM} WHERE g.id = $1`, [id])).rows[0];
    return reply.status(201).header('location', `grants/${id}`).send(row);
  });
  app.delete<{ Params: { id: string } }>('/grants/:id', async (req, reply) => {
    if (!/^\d{1,18}$/.test(req.params.id)) throw new AdminError(404, 'not-found', 'No such grant', 'id');
    const r = await db.query('DELETE FROM sdi.grants WHERE id = $1', [req.params.id]);
    if (!r.rowCount) throw new AdminError(404, 'not-found', 'No such grant', 'id');
    changed();
    return reply.status(204).send();
  });

  // Public or restricted: feature layers and raster layers.
  for (const [path, table, param] of [['/access/layers/:name', 'sdi.layers', 'layer'], ['/access/rasters/:name', 'sdi.raster_layers', 'raster']] as const) {
    app.get<{ Params: { name: string } }>(path, async (req) => {
      const r = await db.query<{ public: boolean }>(`SELECT public FROM ${table} WHERE name = $1`, [req.params.name]);
      if (!r.rows[0]) throw new AdminError(404, 'not-found', `No ${param} ${req.params.name.slice(0, 80)}`, param);
      return { name: req.params.name, public: r.rows[0].public };
    });
    app.put<{ Params: { name: string } }>(path, async (req) => {
      const b = bodyOf(req.body, ['public']);
      const pub = bool(b, 'public');
      if (pub === undefined) throw new AdminError(400, 'invalid-body', 'public (true or false) is required', 'public');
      const r = await db.query(`UPDATE ${table} SET public = $2, updated_at = now() WHERE name = $1`, [req.params.name, pub]);
      if (!r.rowCount) throw new AdminError(404, 'not-found', `No ${param} ${req.params.name.slice(0, 80)}`, param);
      platform.layers.invalidate();
      return { name: req.params.name, public: pub };
    });
  }

  // Public or restricted: a catalogue record on its own (migration 0036), by identifier. A restriction is kept by
  // identifier (it outlives a harvest that replaces the row); only a record of the catalogue can be restricted.
  app.get<{ Params: { identifier: string } }>('/access/records/:identifier', async (req) => {
    const r = await db.query<{ public: boolean }>(RECORD_ACCESS_SQL, [req.params.identifier]);
    if (!r.rows[0]) throw new AdminError(404, 'not-found', `No record ${req.params.identifier.slice(0, 80)}`, 'record');
    return { identifier: req.params.identifier, public: r.rows[0].public };
  });
  app.put<{ Params: { identifier: string } }>('/access/records/:identifier', async (req) => {
    const b = bodyOf(req.body, ['public']);
    const pub = bool(b, 'public');
    if (pub === undefined) throw new AdminError(400, 'invalid-body', 'public (true or false) is required', 'public');
    const id = req.params.identifier;
    // Made public: the restriction goes (also one that outlived its record); restricted: the record must exist.
    const r = pub
      ? await db.query(`WITH gone AS (DELETE FROM sdi.restricted_records WHERE identifier = $1 RETURNING 1) SELECT 1 FROM gone UNION ALL ${RECORD_EXISTS_SQL}`, [id])
      : await db.query(`INSERT INTO sdi.restricted_records (identifier) ${RECORD_EXISTS_SQL.replace('SELECT 1', 'SELECT identifier')} ON CONFLICT (identifier) DO NOTHING`, [id]);
    if (!r.rowCount && !(await db.query(RECORD_EXISTS_SQL, [id])).rowCount) throw new AdminError(404, 'not-found', `No record ${id.slice(0, 80)}`, 'record');
    return { identifier: id, public: pub };
  });
}

const RECORD_EXISTS_SQL = 'SELECT 1 FROM sdi.metadata_records WHERE identifier = $1';
/** A record of the catalogue, or a restriction that outlived its record (so that it can be seen and lifted). */
const RECORD_ACCESS_SQL = `SELECT NOT EXISTS (SELECT 1 FROM sdi.restricted_records WHERE identifier = $1) AS public
  WHERE EXISTS (SELECT 1 FROM sdi.metadata_records WHERE identifier = $1) OR EXISTS (SELECT 1 FROM sdi.restricted_records WHERE identifier = $1)`;

const problem = { $ref: '#/components/responses/Problem' };
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const ref = (n: string) => ({ $ref: `#/components/schemas/${n}` });
const loginParam = { name: 'login', in: 'path', required: true, schema: { type: 'string' } };
const groupParam = { name: 'group', in: 'path', required: true, schema: { type: 'string' } };
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
const tags = ['rights'];
const op = (summary: string, responses: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ tags, summary, ...extra, responses: { ...responses, default: problem } });

export const rightsModule: AdminModule = {
  name: 'rights',
  routes: rightsRoutes,
  openapi: {
    paths: {
      '/users': {
        get: op('Users', { '200': { description: 'The users', ...json({ type: 'object', properties: { users: { type: 'array', items: ref('User') } } }) } }),
        post: op('Create a user', { '201': { description: 'Created', ...json(ref('User')) } }, { requestBody: { required: true, ...json(ref('UserNew')) } }),
      },
      '/users/{login}': {
        parameters: [loginParam],
        get: op('A user', { '200': { description: 'The user', ...json(ref('User')) } }),
        patch: op('Change a user (password, names, admin, disabled)', { '200': { description: 'The user', ...json(ref('User')) } }, { requestBody: { required: true, ...json(ref('UserChange')) } }),
        delete: op('Delete a user (its tokens and grants too)', { '204': { description: 'Deleted' } }),
      },
      '/users/{login}/tokens': {
        parameters: [loginParam],
        get: op("The user's API tokens (never their secrets)", { '200': { description: 'Tokens', ...json({ type: 'object', properties: { tokens: { type: 'array', items: ref('Token') } } }) } }),
        post: op('Create an API token: its secret is in this answer only', { '201': { description: 'Created', ...json({ allOf: [ref('Token'), { type: 'object', properties: { token: { type: 'string' } } }] }) } }, { requestBody: { required: true, ...json(ref('TokenNew')) } }),
      },
      '/tokens/{id}': { parameters: [idParam], delete: op('Revoke a token', { '204': { description: 'Revoked' } }) },
      '/groups': {
        get: op('Groups', { '200': { description: 'Groups' } }),
        post: op('Create a group', { '201': { description: 'Created' } }, { requestBody: { required: true, ...json({ type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', pattern: GROUP.source }, title: { type: 'string' } } }) } }),
      },
      '/groups/{group}': { parameters: [groupParam], get: op('A group and its members', { '200': { description: 'The group' } }), delete: op('Delete a group (its grants too)', { '204': { description: 'Deleted' } }) },
      '/groups/{group}/members/{login}': {
        parameters: [groupParam, loginParam],
        put: op('Add a member', { '204': { description: 'Member' } }),
        delete: op('Remove a member', { '204': { description: 'Removed' } }),
      },
      '/grants': {
        get: op('Grants, filtered by user, group, resourceKind, resourceName', { '200': { description: 'Grants', ...json({ type: 'object', properties: { grants: { type: 'array', items: ref('Grant') } } }) } }, {
          parameters: ['user', 'group', 'resourceKind', 'resourceName'].map((n) => ({ name: n, in: 'query', required: false, schema: { type: 'string' } })),
        }),
        post: op('Grant a right', { '201': { description: 'Created', ...json(ref('Grant')) } }, { requestBody: { required: true, ...json(ref('GrantNew')) } }),
      },
      '/grants/{id}': { parameters: [idParam], delete: op('Withdraw a grant', { '204': { description: 'Withdrawn' } }) },
      '/access/layers/{name}': {
        parameters: [nameParam],
        get: op('Whether a feature layer is public', { '200': { description: 'Access', ...json(ref('Access')) } }),
        put: op('Make a feature layer public or restricted', { '200': { description: 'Access', ...json(ref('Access')) } }, { requestBody: { required: true, ...json(ref('Access')) } }),
      },
      '/access/rasters/{name}': {
        parameters: [nameParam],
        get: op('Whether a raster layer is public', { '200': { description: 'Access', ...json(ref('Access')) } }),
        put: op('Make a raster layer public or restricted', { '200': { description: 'Access', ...json(ref('Access')) } }, { requestBody: { required: true, ...json(ref('Access')) } }),
      },
      '/access/records/{identifier}': {
        parameters: [{ name: 'identifier', in: 'path', required: true, description: "The record's identifier (fileIdentifier), URL-encoded", schema: { type: 'string' } }],
        get: op('Whether a catalogue record is public (a restricted one is seen only by holders of a record grant on its identifier)', { '200': { description: 'Access', ...json(ref('RecordAccess')) } }),
        put: op('Make a catalogue record public or restricted', { '200': { description: 'Access', ...json(ref('RecordAccess')) } }, { requestBody: { required: true, ...json(ref('Access')) } }),
      },
    },
    schemas: {
      User: { type: 'object', properties: { login: { type: 'string' }, displayName: { type: 'string', nullable: true }, email: { type: 'string', nullable: true }, admin: { type: 'boolean' }, disabled: { type: 'boolean' }, groups: { type: 'array', items: { type: 'string' } }, createdAt: { type: 'string', format: 'date-time' } } },
      UserNew: { type: 'object', required: ['login'], additionalProperties: false, properties: { login: { type: 'string', pattern: LOGIN.source }, password: { type: 'string', minLength: 12 }, displayName: { type: 'string' }, email: { type: 'string' }, admin: { type: 'boolean' } } },
      UserChange: { type: 'object', additionalProperties: false, properties: { password: { type: 'string', minLength: 12 }, displayName: { type: 'string' }, email: { type: 'string' }, admin: { type: 'boolean' }, disabled: { type: 'boolean' } } },
      Token: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, scopes: { type: 'array', items: { type: 'string', enum: [...TOKEN_SCOPES] } }, expiresAt: { type: 'string', format: 'date-time', nullable: true }, revokedAt: { type: 'string', format: 'date-time', nullable: true }, lastUsedAt: { type: 'string', format: 'date-time', nullable: true } } },
      TokenNew: { type: 'object', required: ['scopes'], additionalProperties: false, properties: { name: { type: 'string' }, scopes: { type: 'array', minItems: 1, items: { type: 'string', enum: [...TOKEN_SCOPES] } }, expiresAt: { type: 'string', format: 'date-time' } } },
      Grant: { type: 'object', properties: { id: { type: 'string' }, user: { type: 'string', nullable: true }, group: { type: 'string', nullable: true }, resourceKind: { type: 'string', enum: [...RESOURCE_KINDS] }, resourceName: { type: 'string' }, action: { type: 'string', enum: [...ACTIONS] }, territoryKind: { type: 'string', nullable: true }, territoryCode: { type: 'string', nullable: true } } },
      GrantNew: {
        type: 'object',
        required: ['resourceKind', 'resourceName', 'action'],
        additionalProperties: false,
        description: 'Exactly one of user and group. The territory: an administrative unit by code (copied from the reference tables when the grant is made) or a GeoJSON Polygon / MultiPolygon in WGS 84 lon/lat.',
        properties: {
          user: { type: 'string' },
          group: { type: 'string' },
          resourceKind: { type: 'string', enum: [...RESOURCE_KINDS] },
          resourceName: { type: 'string' },
          action: { type: 'string', enum: [...ACTIONS] },
          territory: { type: 'object', required: ['kind'], additionalProperties: false, properties: { kind: { type: 'string', enum: [...UNIT_KINDS, 'polygon'] }, code: { type: 'string' }, geometry: { type: 'object' } } },
        },
      },
      Access: { type: 'object', required: ['public'], properties: { name: { type: 'string' }, public: { type: 'boolean' } } },
      RecordAccess: { type: 'object', required: ['identifier', 'public'], properties: { identifier: { type: 'string' }, public: { type: 'boolean' } } },
    },
  },
};
