/**
 * CSV (RFC 4180, UTF-8): id, attributes, then the geometry as WKT — or as x and y columns (points as they
 * are, other geometries by a point on their surface); one line per row, built in SQL.
 */
import type { SqlParams } from '../db/sql.js';
import { columnRef } from '../db/identifiers.js';
import { coordinateDecimals, geometryExpression, type EncodeTarget } from './target.js';

export type CsvGeometry = 'wkt' | 'xy';

const quote = (expr: string) => `COALESCE('"' || replace(${expr}, '"', '""') || '"', '')`;

export function csvHeader(t: EncodeTarget, geometry: CsvGeometry = 'wkt'): string {
  const geom = t.includeGeometry && t.layer.geometry ? (geometry === 'xy' ? ['x', 'y'] : ['wkt']) : [];
  const names = [t.layer.idColumn, ...t.columns.map((c) => c.name), ...geom];
  return names.map((n) => `"${n.replace(/"/g, '""')}"`).join(',') + '\r\n';
}

export function csvRowSql(t: EncodeTarget, params: SqlParams, geometry: CsvGeometry = 'wkt'): string {
  const cells = [quote(`${columnRef(t.layer.idColumn)}::text`), ...t.columns.map((c) => quote(`${columnRef(c.name)}::text`))];
  if (t.includeGeometry && t.layer.geometry) {
    const decimals = coordinateDecimals(t.outputCrs.srid);
    if (geometry === 'xy') {
      const g = geometryExpression(t, params);
      const pt = /POINT$/i.test(t.layer.geometry.type) && !/^MULTI/i.test(t.layer.geometry.type) ? g : `ST_PointOnSurface(${g})`;
      cells.push(`COALESCE(round(ST_X(${pt})::numeric, ${decimals})::text, '')`, `COALESCE(round(ST_Y(${pt})::numeric, ${decimals})::text, '')`);
    } else cells.push(quote(`ST_AsText(${geometryExpression(t, params)}, ${decimals})`));
  }
  return `${cells.join(` || ',' || `)} || E'\\r\\n'`;
}
