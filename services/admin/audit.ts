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
import { REPORT_PARAMETERS, reportQuery, reportResponses, sendReport, type ReportQuery } from './report.js';
import type { AdminModule } from './module.js';

const PARAMS = ['from', 'to', 'event', 'principal', 'status', 'before', 'limit', 'format'];
const COLUMNS = ['id', 'at', 'event', 'principal', 'client', 'method', 'path', 'status', 'detail'] as const;
const MAX_LIMIT = 1000;

function queryOf(req: FastifyRequest): AuditQuery & ReportQuery {
  const q = reportQuery(req, PARAMS);
  const s = q.value;
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
  return { ...q, event: event as AuditEvent | undefined, principal, status: status === undefined ? undefined : Number(status), before, limit: limit === undefined ? 100 : Number(limit) };
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
      return sendReport(reply, q, {
        name: 'audit',
        columns: COLUMNS,
        rows,
        field: (r, c) => (c === 'detail' && r.detail ? JSON.stringify(r.detail) : r[c as (typeof COLUMNS)[number]]),
        json: { entries: rows, ...(next ? { next } : {}) },
      });
    });
  },
  openapi: {
    paths: {
      '/audit': {
        get: {
          tags: ['audit'],
          summary: 'The audit log: sign-ins, refusals, changes of rights, edits and downloads, newest first',
          parameters: [
            REPORT_PARAMETERS.from,
            REPORT_PARAMETERS.to,
            { name: 'event', in: 'query', schema: { type: 'string', enum: [...AUDIT_EVENTS] } },
            { name: 'principal', in: 'query', description: 'A login (for sign-in-failed: the login tried)', schema: { type: 'string' } },
            { name: 'status', in: 'query', description: 'HTTP status of the answer', schema: { type: 'integer', minimum: 100, maximum: 599 } },
            { name: 'before', in: 'query', description: 'Entries older than this id (the `next` link of a page carries it)', schema: { type: 'string', pattern: '^[1-9][0-9]*$' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 100 } },
            REPORT_PARAMETERS.format,
          ],
          responses: reportResponses('A page of the audit log (a Link rel="next" header when more entries follow)', 'AuditPage', COLUMNS),
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
