/**
 * What the admin API's reports (usage statistics, usage.ts; the audit log, audit.ts) share: their query's
 * common part — only known parameters, each given once, a day range (`from`, `to`; default the last 30 days)
 * and `format` (json or csv) — and their answer, a JSON document or an RFC 4180 CSV file for a spreadsheet.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AdminError } from './problem.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function day(v: string | undefined, name: string, fallback: string): string {
  if (v === undefined) return fallback;
  if (!DAY.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`)) || new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v) {
    throw new AdminError(400, 'invalid-parameter', `${name} is a date YYYY-MM-DD`, name);
  }
  return v;
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break; a leading = + - @ neutralised for spreadsheets. */
export function csvField(v: unknown): string {
  let t = v === null || v === undefined ? '' : String(v);
  if (typeof v === 'string' && /^[=+\-@]/.test(t)) t = `'${t}`;
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

export interface ReportQuery {
  /** A parameter's value as given (a known one: unknown ones are refused). */
  value(name: string): string | undefined;
  from: string;
  to: string;
  format: 'json' | 'csv';
}

/** The common part of a report's query; `params` are all it takes (from, to and format among them). */
export function reportQuery(req: FastifyRequest, params: readonly string[]): ReportQuery {
  const q = req.query as Record<string, unknown>;
  const extra = Object.keys(q).find((k) => !params.includes(k));
  if (extra) throw new AdminError(400, 'invalid-parameter', `Unknown parameter ${extra.slice(0, 60)} (known: ${params.join(', ')})`, extra.slice(0, 60));
  for (const k of params) if (Array.isArray(q[k])) throw new AdminError(400, 'invalid-parameter', `${k} is given once`, k);
  const value = (k: string) => (q[k] === undefined ? undefined : String(q[k]));
  const today = new Date().toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
  const to = day(value('to'), 'to', today);
  const from = day(value('from'), 'from', to < monthAgo ? to : monthAgo);
  if (from > to) throw new AdminError(400, 'invalid-parameter', 'from is after to', 'from');
  const format = value('format') ?? 'json';
  if (format !== 'json' && format !== 'csv') throw new AdminError(400, 'invalid-parameter', 'format is json or csv', 'format');
  return { value, from, to, format };
}

/**
 * A report's answer: as CSV (a header of `columns`, a line per row, `<name>-<from>-<to>.csv` as attachment),
 * or as JSON (`from`, `to`, then `json`).
 */
export function sendReport<R>(
  reply: FastifyReply,
  q: ReportQuery,
  o: { name: string; columns: readonly string[]; rows: readonly R[]; field: (row: R, column: string) => unknown; json: Record<string, unknown> },
): FastifyReply {
  if (q.format === 'csv') {
    const lines = [o.columns.join(','), ...o.rows.map((r) => o.columns.map((c) => csvField(o.field(r, c))).join(','))];
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${o.name}-${q.from}-${q.to}.csv"`).send(`${lines.join('\r\n')}\r\n`);
  }
  return reply.type('application/json').send({ from: q.from, to: q.to, ...o.json });
}

/** OpenAPI 3.0 parameters of the common part (reportQuery). */
export const REPORT_PARAMETERS = {
  from: { name: 'from', in: 'query', description: 'First day (UTC), YYYY-MM-DD; default 30 days before `to`', schema: { type: 'string', format: 'date' } },
  to: { name: 'to', in: 'query', description: 'Last day (UTC, included), YYYY-MM-DD; default today', schema: { type: 'string', format: 'date' } },
  format: { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'csv'], default: 'json' } },
};

/** OpenAPI 3.0 responses of a report: its JSON schema or CSV of these columns with 200, a problem otherwise. */
export function reportResponses(description: string, schema: string, columns: readonly string[]): Record<string, unknown> {
  return {
    '200': {
      description,
      content: {
        'application/json': { schema: { $ref: `#/components/schemas/${schema}` } },
        'text/csv': { schema: { type: 'string', description: `CSV with the header ${columns.join(',')}` } },
      },
    },
    default: { $ref: '#/components/responses/Problem' },
  };
}
