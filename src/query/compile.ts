/**
 * FeatureQuery → parameterised SQL. One short function per fragment (FROM, WHERE, ORDER BY, paging),
 * one statement per query; the encoders only supply the select-list expression.
 */
import type { CrsRegistry } from '../crs/registry.js';
import type { FeatureQuery } from './plan.js';
import { PositionalBinder, type SqlParams, type CompiledSql } from '../db/sql.js';
import { quoteIdent } from '../db/pool.js';
import { compileFilter, columnRef } from '../filter/compile-sql.js';

export interface CompileOptions {
  crs: CrsRegistry;
  /** Error locator for filter problems (FILTER for WFS, filter for OGC API). */
  locator?: string;
}

export function fromClause(q: FeatureQuery): string {
  return `FROM ${quoteIdent(q.layer.schema)}.${quoteIdent(q.layer.table)} AS t`;
}

export function whereClause(q: FeatureQuery, params: SqlParams, opts: CompileOptions): string {
  const parts: string[] = [];
  if (q.access.restriction) parts.push(q.access.restriction(params, 't'));
  if (q.filter) parts.push(compileFilter(q.filter, { layer: q.layer, crs: opts.crs, params, locator: opts.locator ?? 'FILTER' }));
  return parts.length ? `WHERE ${parts.join(' AND ')}` : '';
}

/** Requested sort keys, then the id: a total order, so that pages never overlap or skip. */
export function orderByClause(q: FeatureQuery): string {
  const keys = q.sortBy.map((k) => `${columnRef(k.column)} ${k.descending ? 'DESC' : 'ASC'}`);
  if (!q.sortBy.some((k) => k.column === q.layer.idColumn)) keys.push(columnRef(q.layer.idColumn));
  return `ORDER BY ${keys.join(', ')}`;
}

export function pagingClause(q: FeatureQuery, params: SqlParams, extraRows = 0): string {
  let s = '';
  if (q.limit !== null) s += ` LIMIT ${params.add(q.limit + extraRows, 'bigint')}`;
  if (q.offset > 0) s += ` OFFSET ${params.add(q.offset, 'bigint')}`;
  return s;
}

/**
 * SELECT <one text column per feature>. `selectList` receives the parameter collector so that encoders can
 * bind their own values (srsName text, precision…). `extraRows` fetches rows past the limit to learn whether
 * a next page exists without counting.
 */
export function compileSelect(q: FeatureQuery, opts: CompileOptions, selectList: (params: SqlParams) => string, extraRows = 0): CompiledSql {
  const params = new PositionalBinder();
  const select = selectList(params);
  const text = `SELECT ${select} ${fromClause(q)} ${whereClause(q, params, opts)} ${orderByClause(q)}${pagingClause(q, params, extraRows)}`;
  return { text, values: params.values };
}

export function compileCount(q: FeatureQuery, opts: CompileOptions): CompiledSql {
  const params = new PositionalBinder();
  const text = `SELECT count(*)::bigint AS n ${fromClause(q)} ${whereClause(q, params, opts)}`;
  return { text, values: params.values };
}
