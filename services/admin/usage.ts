/**
 * Usage statistics in the administration API (issue 11): requests, errors, features and bytes per day, service,
 * layer and principal, from sdi.usage_log (written in batches by src/usage/hook.ts for WFS, OGC API, WMS, WMTS,
 * tiles and CSW, and by the download service). JSON, or CSV (format=csv) for a spreadsheet. A request naming
 * several layers counts once for each of them.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Platform } from '../../src/platform.js';
import { readUsage, USAGE_SERVICES, type UsageQuery } from '../../src/usage/report.js';
import { AdminError } from './problem.js';
import type { AdminModule } from './module.js';

const PARAMS = ['from', 'to', 'service', 'layer', 'principal', 'format'];
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function day(v: string | undefined, name: string, fallback: string): string {
  if (v === undefined) return fallback;
  if (!DAY.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`)) || new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v) {
    throw new AdminError(400, 'invalid-parameter', `${name} is a date YYYY-MM-DD`, name);
  }
  return v;
}

function queryOf(req: FastifyRequest): UsageQuery & { format: 'json' | 'csv' } {
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
  const service = s('service');
  if (service !== undefined && !USAGE_SERVICES.includes(service)) throw new AdminError(400, 'invalid-parameter', `service is one of ${USAGE_SERVICES.join(', ')}`, 'service');
  const format = s('format') ?? 'json';
  if (format !== 'json' && format !== 'csv') throw new AdminError(400, 'invalid-parameter', 'format is json or csv', 'format');
  const layer = s('layer');
  const principal = s('principal');
  if ((layer?.length ?? 0) > 63) throw new AdminError(400, 'invalid-parameter', 'layer is a layer name', 'layer');
  if ((principal?.length ?? 0) > 128) throw new AdminError(400, 'invalid-parameter', 'principal is a login', 'principal');
  return { from, to, service, layer, principal, format };
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break; a leading = + - @ neutralised for spreadsheets. */
export function csvField(v: unknown): string {
  let t = v === null || v === undefined ? '' : String(v);
  if (typeof v === 'string' && /^[=+\-@]/.test(t)) t = `'${t}`;
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

const COLUMNS = ['day', 'service', 'layer', 'principal', 'requests', 'errors', 'features', 'bytes'] as const;

export const usageModule: AdminModule = {
  name: 'usage',
  async routes(app: FastifyInstance, platform: Platform) {
    app.get('/usage', async (req, reply) => {
      const q = queryOf(req);
      const rows = await readUsage(platform.pool, q);
      if (q.format === 'csv') {
        const lines = [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => csvField(r[c])).join(','))];
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="usage-${q.from}-${q.to}.csv"`)
          .send(`${lines.join('\r\n')}\r\n`);
      }
      return reply.type('application/json').send({ from: q.from, to: q.to, rows });
    });
  },
  openapi: {
    paths: {
      '/usage': {
        get: {
          tags: ['usage'],
          summary: 'Usage statistics: requests, errors, features and bytes per day (UTC), service, layer and principal',
          parameters: [
            { name: 'from', in: 'query', description: 'First day (UTC), YYYY-MM-DD; default 30 days before `to`', schema: { type: 'string', format: 'date' } },
            { name: 'to', in: 'query', description: 'Last day (UTC, included), YYYY-MM-DD; default today', schema: { type: 'string', format: 'date' } },
            { name: 'service', in: 'query', schema: { type: 'string', enum: [...USAGE_SERVICES] } },
            { name: 'layer', in: 'query', schema: { type: 'string' } },
            { name: 'principal', in: 'query', description: 'A login', schema: { type: 'string' } },
            { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'csv'], default: 'json' } },
          ],
          responses: {
            '200': {
              description: 'The statistics',
              content: {
                'application/json': { schema: { $ref: '#/components/schemas/UsageReport' } },
                'text/csv': { schema: { type: 'string', description: `CSV with the header ${COLUMNS.join(',')}` } },
              },
            },
            default: { $ref: '#/components/responses/Problem' },
          },
        },
      },
    },
    schemas: {
      UsageReport: {
        type: 'object',
        required: ['from', 'to', 'rows'],
        properties: {
          from: { type: 'string', format: 'date' },
          to: { type: 'string', format: 'date' },
          rows: {
            type: 'array',
            items: {
              type: 'object',
              required: [...COLUMNS],
              properties: {
                day: { type: 'string', format: 'date' },
                service: { type: 'string' },
                layer: { type: 'string', nullable: true },
                principal: { type: 'string', nullable: true, description: 'Login; null for anonymous callers' },
                requests: { type: 'integer' },
                errors: { type: 'integer', description: 'Answers with an HTTP status of 400 or more' },
                features: { type: 'integer', description: 'Features read for the answers (drawn, for maps and tiles)' },
                bytes: { type: 'integer', description: 'Bytes sent, headers included' },
              },
            },
          },
        },
      },
    },
  },
};
