/**
 * Import a vector file (GeoJSON, GeoPackage, Shapefile, CSV…) into PostGIS through GDAL's PostgreSQL
 * driver (gdal-async's vectorTranslate, i.e. ogr2ogr in-process): reprojected, with a primary key `fid`,
 * a GiST index and a geometry column `geom`. The demo loader and users' own uploads take this path.
 */
import type gdalTypes from 'gdal-async';
import type { Pool } from '../db/pool.js';
import { quoteIdent } from '../db/identifiers.js';

export interface ImportOptions {
  /** Target schema and table. */
  schema: string;
  table: string;
  /** Target CRS (EPSG code); the source CRS is read from the file (GeoJSON: WGS 84). */
  srid: number;
  /** Source layer name (defaults to the first layer). */
  sourceLayer?: string;
  /** Force multi-geometries (polygon layers whose rows mix Polygon and MultiPolygon). */
  promoteToMulti?: boolean;
  /** Replace the table if it exists. */
  overwrite?: boolean;
}

/** libpq connection string for GDAL's PG driver, from a postgres:// URL. */
export function gdalPgConnection(databaseUrl: string): string {
  const u = new URL(databaseUrl);
  const parts = [`dbname='${decodeURIComponent(u.pathname.slice(1)) || 'postgres'}'`];
  if (u.hostname) parts.push(`host='${decodeURIComponent(u.hostname)}'`);
  if (u.port) parts.push(`port='${u.port}'`);
  if (u.username) parts.push(`user='${decodeURIComponent(u.username)}'`);
  if (u.password) parts.push(`password='${decodeURIComponent(u.password)}'`);
  return 'PG:' + parts.join(' ');
}

export async function importVectorFile(pool: Pool, databaseUrl: string, file: string, o: ImportOptions): Promise<number> {
  // Loaded on demand: the serving process only needs GDAL when it imports.
  const gdal = (await import('gdal-async')).default;
  const src: gdalTypes.Dataset = await gdal.openAsync(file, 'r');
  try {
    const layerName = o.sourceLayer ?? src.layers.get(0).name;
    const args = [
      '-f', 'PostgreSQL',
      '-t_srs', `EPSG:${o.srid}`,
      '-nln', `${o.schema}.${o.table}`,
      '-lco', 'GEOMETRY_NAME=geom',
      '-lco', 'FID=fid',
      '-lco', 'SPATIAL_INDEX=GIST',
      '-lco', 'LAUNDER=YES',
      '-lco', 'PRECISION=NO',
      ...(o.overwrite ? ['-overwrite', '-lco', 'OVERWRITE=YES'] : []),
      ...(o.promoteToMulti ? ['-nlt', 'PROMOTE_TO_MULTI'] : []),
      '-makevalid',
      layerName,
    ];
    const out = await gdal.vectorTranslateAsync(gdalPgConnection(databaseUrl), src, args);
    out.close();
  } finally {
    src.close();
  }
  await tightenGeometryType(pool, o.schema, o.table, o.srid);
  await pool.query(`ANALYZE ${quoteIdent(o.schema)}.${quoteIdent(o.table)}`);
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoteIdent(o.schema)}.${quoteIdent(o.table)}`);
  return rows[0]!.n;
}

/**
 * Files often mix Polygon and MultiPolygon rows (GeoJSON, Shapefile), which GDAL then stores as a generic
 * `geometry` column. Clients (QGIS, the DescribeFeatureType schema) want one type: promote to the multi type
 * when every row is of the same family.
 */
async function tightenGeometryType(pool: Pool, schema: string, table: string, srid: number): Promise<void> {
  const t = `${quoteIdent(schema)}.${quoteIdent(table)}`;
  const g = await pool.query<{ type: string }>(
    `SELECT type FROM geometry_columns WHERE f_table_schema = $1 AND f_table_name = $2 AND f_geometry_column = 'geom'`,
    [schema, table],
  );
  if (g.rows[0]?.type !== 'GEOMETRY') return;
  const { rows } = await pool.query<{ types: string[] }>(`SELECT array_agg(DISTINCT GeometryType(geom)) AS types FROM ${t} WHERE geom IS NOT NULL`);
  const types = new Set(rows[0]?.types ?? []);
  const family = ['POLYGON', 'LINESTRING', 'POINT'].find((f) => [...types].every((x) => x === f || x === `MULTI${f}`));
  if (!family || types.size === 0) return;
  const multi = { POLYGON: 'MultiPolygon', LINESTRING: 'MultiLineString', POINT: 'MultiPoint' }[family as 'POLYGON'];
  await pool.query(`ALTER TABLE ${t} ALTER COLUMN geom TYPE geometry(${multi}, ${Number(srid)}) USING ST_Multi(geom)`);
}
