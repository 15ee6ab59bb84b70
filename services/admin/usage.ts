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
import { REPORT_PARAMETERS, reportQuery, reportResponses, sendReport, type ReportQuery } from './report.js';
import type { AdminModule } from './module.js';

const PARAMS = ['from', 'to', 'service', 'layer', 'principal', 'format'];

function queryOf(req: FastifyRequest): UsageQuery & ReportQuery {
  const q = reportQuery(req, PARAMS);
  const service = q.value('service');
  if (service !== undefined && !USAGE_SERVICES.includes(service)) throw new AdminError(400, 'invalid-parameter', `service is one of ${USAGE_SERVICES.join(', ')}`, 'service');
  const layer = q.value('layer');
  const principal = q.value('principal');
  if ((layer?.length ?? 0) > 63) throw new AdminError(400, 'invalid-parameter', 'layer is a layer name', 'layer');
  if ((principal?.length ?? 0) > 128) throw new AdminError(400, 'invalid-parameter', 'principal is a login', 'principal');
  return { ...q, service, layer, principal };
}

const COLUMNS = ['day', 'service', 'layer', 'principal', 'requests', 'errors', 'features', 'bytes'] as const;

export const usageModule: AdminModule = {
  name: 'usage',
  async routes(app: FastifyInstance, platform: Platform) {
    app.get('/usage', async (req, reply) => {
      const q = queryOf(req);
      const rows = await readUsage(platform.pool, q);
      return sendReport(reply, q, { name: 'usage', columns: COLUMNS, rows, field: (r, c) => r[c as (typeof COLUMNS)[number]], json: { rows } });
    });
  },
  openapi: {
    paths: {
      '/usage': {
        get: {
          tags: ['usage'],
          summary: 'Usage statistics: requests, errors, features and bytes per day (UTC), service, layer and principal',
          parameters: [
            REPORT_PARAMETERS.from,
            REPORT_PARAMETERS.to,
            { name: 'service', in: 'query', schema: { type: 'string', enum: [...USAGE_SERVICES] } },
            { name: 'layer', in: 'query', schema: { type: 'string' } },
            { name: 'principal', in: 'query', description: 'A login', schema: { type: 'string' } },
            REPORT_PARAMETERS.format,
          ],
          responses: reportResponses('The statistics', 'UsageReport', COLUMNS),
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
