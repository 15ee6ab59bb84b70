/**
 * The audit log in the administration API (issue 11): GET /admin/audit, newest first, filtered by days, event,
 * principal and status, paged by id (`before`, the `next` link of the previous page), as JSON or CSV.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Platform } from '../../src/platform.js';
import { AUDIT_EVENTS, type AuditEvent } from '../../src/audit/recorder.js';
import { readAudit, type AuditQuery } from '../../src/audit/report.js';
import { publicBaseUrl } from '../../src/ogc/public-url.js';
import { AdminError } from './problem.js';
import { csvField, day } from './usage.js';
import type { AdminModule } from './module.js';

const PARAMS = ['from', 'to', 'event', 'principal', 'status', 'before', 'limit', 'format'];
const COLUMNS = ['id', 'at', 'event', 'principal', 'client', 'method', 'path', 'status', 'detail'] as const;
const MAX_LIMIT = 1000;

function queryOf(req: FastifyRequest): AuditQuery & { format: 'json' | 'csv' } {
  const q = req.query as Record<string, unknown>;
  const extra = Object.keys(q).find((k) => !PARAMS.includes(k));
  if (extra) throw new AdminError(400, 'invalid-parameter', `Unknown parameter ${extra.slice(0, 60)} (known: ${PARAMS.join(', ')})`, extra.slice(0, 60));
  for (const k of PARAMS) if (Array.isArray(q[k])) throw new AdminError(400, 'invalid-parameter', `${k} is given once`, k);
  const s = (k: string) => (q[k] === undefined ? undefined : String(q[k]));
  const today = new Date().toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
  const to = day(s('to'), 'to', today);
  const from = day(s('from'), 'from', to < monthAgo ? to : monthAgo);
  if (from > to) throw new AdminError(400, 'invalid-parameter', 'from is after to', 'from');
  const event = s('event');
  if (event !== undefined && !(AUDIT_EVENTS as readonly string[]).includes(event)) throw new AdminError(400, 'invalid-parameter', `event is one of ${AUDIT_EVENTS.join(', ')}`, 'event');
  const principal = s('principal');
  if ((principal?.length ?? 0) > 128) throw new AdminError(400, 'invalid-parameter', 'principal is a login', 'principal');
  const int = (k: string, re: RegExp, what: string) => {
    const v = s(k);
    if (v !== undefined && !re.test(v)) throw new AdminError(400, 'invalid-parameter', `${k} is ${what}`, k);
    return v;
  };
  const status = int('status', /^[1-5]\d\d$/, 'an HTTP status');
  const before = int('before', /^[1-9]\d{0,17}$/, 'an audit entry id');
  const limit = int('limit', /^\d{1,4}$/, `a number of entries, 1 to ${MAX_LIMIT}`);
  if (limit !== undefined && (Number(limit) < 1 || Number(limit) > MAX_LIMIT)) throw new AdminError(400, 'invalid-parameter', `limit is 1 to ${MAX_LIMIT}`, 'limit');
  const format = s('format') ?? 'json';
  if (format !== 'json' && format !== 'csv') throw new AdminError(400, 'invalid-parameter', 'format is json or csv', 'format');
  return { from, to, event: event as AuditEvent | undefined, principal, status: status === undefined ? undefined : Number(status), before, limit: limit === undefined ? 100 : Number(limit), format };
}

export const auditModule: AdminModule = {
  name: 'audit',
  async routes(app: FastifyInstance, platform: Platform) {
    app.get('/audit', async (req, reply) => {
      const q = queryOf(req);
      // Events of this process still in the buffer are part of the answer.
      await platform.audit?.flush();
      const { rows, more } = await readAudit(platform.pool, q);
      let next: string | undefined;
      if (more) {
        const u = new URLSearchParams(Object.entries(req.query as Record<string, string>).filter(([k]) => k !== 'before'));
        u.set('before', rows[rows.length - 1]!.id);
        next = `${publicBaseUrl(req, platform.config)}/admin/audit?${u}`;
      }
      if (next) reply.header('link', `<${next}>; rel="next"`);
      if (q.format === 'csv') {
        const lines = [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => csvField(c === 'detail' && r.detail ? JSON.stringify(r.detail) : r[c])).join(','))];
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="audit-${q.from}-${q.to}.csv"`).send(`${lines.join('\r\n')}\r\n`);
      }
      return reply.type('application/json').send({ from: q.from, to: q.to, entries: rows, ...(next ? { next } : {}) });
    });
  },
  openapi: {
    paths: {
      '/audit': {
        get: {
          tags: ['audit'],
          summary: 'The audit log: sign-ins, refusals, changes of rights, edits and downloads, newest first',
          parameters: [
            { name: 'from', in: 'query', description: 'First day (UTC), YYYY-MM-DD; default 30 days before `to`', schema: { type: 'string', format: 'date' } },
            { name: 'to', in: 'query', description: 'Last day (UTC, included), YYYY-MM-DD; default today', schema: { type: 'string', format: 'date' } },
            { name: 'event', in: 'query', schema: { type: 'string', enum: [...AUDIT_EVENTS] } },
            { name: 'principal', in: 'query', description: 'A login (for sign-in-failed: the login tried)', schema: { type: 'string' } },
            { name: 'status', in: 'query', description: 'HTTP status of the answer', schema: { type: 'integer', minimum: 100, maximum: 599 } },
            { name: 'before', in: 'query', description: 'Entries older than this id (the `next` link of a page carries it)', schema: { type: 'string', pattern: '^[1-9][0-9]*$' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 100 } },
            { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'csv'], default: 'json' } },
          ],
          responses: {
            '200': {
              description: 'A page of the audit log (a Link rel="next" header when more entries follow)',
              content: {
                'application/json': { schema: { $ref: '#/components/schemas/AuditPage' } },
                'text/csv': { schema: { type: 'string', description: `CSV with the header ${COLUMNS.join(',')}` } },
              },
            },
            default: { $ref: '#/components/responses/Problem' },
          },
        },
      },
    },
    schemas: {
      AuditPage: {
        type: 'object',
        required: ['from', 'to', 'entries'],
        properties: {
          from: { type: 'string', format: 'date' },
          to: { type: 'string', format: 'date' },
          next: { type: 'string', format: 'uri', description: 'The next (older) page, when there is one' },
          entries: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'at', 'event'],
              properties: {
                id: { type: 'string' },
                at: { type: 'string', format: 'date-time' },
                event: { type: 'string', enum: [...AUDIT_EVENTS] },
                principal: { type: 'string', nullable: true },
                client: { type: 'string', nullable: true, description: 'Client address' },
                method: { type: 'string', nullable: true },
                path: { type: 'string', nullable: true, description: 'Path of the request, without its query string' },
                status: { type: 'integer', nullable: true },
                detail: { type: 'object', nullable: true, additionalProperties: true },
              },
            },
          },
        },
      },
    },
  },
};
