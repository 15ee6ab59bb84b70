/** CSV (RFC 4180, UTF-8): id, attributes, then the geometry as WKT; one line per row, built in SQL. */
import type { SqlParams } from '../db/sql.js';
import { columnRef } from '../filter/compile-sql.js';
import { coordinateDecimals, geometryExpression, type EncodeTarget } from './target.js';

const quote = (expr: string) => `COALESCE('"' || replace(${expr}, '"', '""') || '"', '')`;

export function csvHeader(t: EncodeTarget): string {
  const names = [t.layer.idColumn, ...t.columns.map((c) => c.name), ...(t.includeGeometry && t.layer.geometry ? ['wkt'] : [])];
  return names.map((n) => `"${n.replace(/"/g, '""')}"`).join(',') + '\r\n';
}

export function csvRowSql(t: EncodeTarget, params: SqlParams): string {
  const cells = [quote(`${columnRef(t.layer.idColumn)}::text`), ...t.columns.map((c) => quote(`${columnRef(c.name)}::text`))];
  if (t.includeGeometry && t.layer.geometry) cells.push(quote(`ST_AsText(${geometryExpression(t, params)}, ${coordinateDecimals(t.outputCrs.srid)})`));
  return `${cells.join(` || ',' || `)} || E'\\r\\n'`;
}
