/**
 * Loading one source layer into a staging table (schema sdi_import) and checking it there, before anything
 * published is touched: GDAL's PostgreSQL driver in-process (ogr2ogr's vectorTranslate; new tables are written
 * with COPY), reprojected to the target CRS; then, in SQL, the geometry type normalised (one type per layer: the multi type when single and multi rows mix, collections from repairs
 * reduced to their main kind), the extent compared with the platform's territory, the GiST index built.
 * A staging table that fails a check is dropped by the caller; nothing else exists yet.
 */
import { randomBytes } from 'node:crypto';
import type gdalTypes from 'gdal-async';
import type { Pool } from '../db/pool.js';
import { quoteIdent } from '../db/identifiers.js';
import { gdalPgConnection } from './gdal-import.js';

export const STAGING_SCHEMA = 'sdi_import';

export class CheckError extends Error {}

export interface StagingLoad {
  table: string;
  layerName: string;
  targetSrid: number;
  /** Assign this EPSG code to the source (overrides or completes the file's own CRS). */
  sourceEpsg?: number;
  /**
   * Load into a column of the layer's declared type (no retyping afterwards) rather than a generic one; for
   * formats whose declared type holds (GeoPackage, FlatGeobuf…), not Shapefile (Polygon layers hold multipolygons).
   */
  declaredType?: boolean;
  /** Load into a column of this type (`-nlt`, e.g. MULTIPOLYGON: GDAL promotes single rows); see sampledMultiType. */
  forceType?: string;
}

export async function loadIntoStaging(databaseUrl: string, ds: gdalTypes.Dataset, o: StagingLoad): Promise<void> {
  const gdal = (await import('gdal-async')).default;
  const args = [
    '-f', 'PostgreSQL',
    '-nln', `${STAGING_SCHEMA}.${o.table}`,
    '-lco', 'GEOMETRY_NAME=geom',
    '-lco', 'FID=fid',
    '-lco', 'SPATIAL_INDEX=NONE', // built once after the load (faster than maintained row by row)
    '-lco', 'LAUNDER=YES',
    '-lco', 'PRECISION=NO',
    // One generic column while loading, unless the declared type holds: files mix Polygon and MultiPolygon; normalised below.
    ...(o.declaredType ? [] : ['-nlt', o.forceType ?? 'GEOMETRY']),
    '-gt', '65536',
    '-t_srs', `EPSG:${o.targetSrid}`,
    ...(o.sourceEpsg ? ['-s_srs', `EPSG:${o.sourceEpsg}`] : []),
    o.layerName,
  ];
  const out = await gdal.vectorTranslateAsync(gdalPgConnection(databaseUrl), ds, args);
  out.close();
}

const MULTI_OF: Record<number, string> = { 1: 'MULTIPOINT', 4: 'MULTIPOINT', 2: 'MULTILINESTRING', 5: 'MULTILINESTRING', 3: 'MULTIPOLYGON', 6: 'MULTIPOLYGON' };

/**
 * The multi type a layer that does not declare one (GeoPackages written from SQL, GeoJSON, Shapefiles whose
 * Polygon type holds multipolygons) seems to hold, from its first `sample` features: one family, 2D, at least one
 * multi geometry. checkStaging would publish such a layer with that multi type anyway (single rows promoted), by
 * rewriting the whole table after a load into a generic column: loading with `-nlt MULTI…` gives the same column
 * without the rewrite (million-parcel GeoPackage "Unknown (any)": the check step 7.7 s of a 25 s import at
 * load 6–8, mostly that rewrite). A later row the guess does not hold (another family, Z, a collection) fails the
 * load, which the caller then repeats into a generic column. Layers of single geometries only are not guessed:
 * GDAL's -nlt POLYGON would merge a later multipolygon's parts.
 */
export function sampledMultiType(layer: gdalTypes.Layer, gdal: typeof gdalTypes, sample = 1000): string | undefined {
  let family: string | undefined;
  let multi = false;
  let n = 0;
  try {
    // first() resets reading; so does the finally's, for GDAL's load that follows
    for (let f = layer.features.first(); f && n < sample; f = layer.features.next(), n++) {
      const g = f.getGeometry();
      if (!g || g.isEmpty()) continue;
      const t = g.wkbType;
      if (t & gdal.wkb25DBit || t > 6 || t < 1) return undefined; // Z/M, collections, curves: the generic path
      const fam = MULTI_OF[t]!;
      if (family && fam !== family) return undefined;
      family = fam;
      if (t >= 4) multi = true;
    }
  } finally {
    layer.features.first();
  }
  return family && multi ? family : undefined;
}

export interface StagingFacts {
  count: number;
  nullGeometries: number;
  geometryType: string;
  /** Extent in the target CRS: [minx, miny, maxx, maxy]. */
  extent: [number, number, number, number] | null;
  warnings: string[];
}

const FAMILY_DIM: Record<string, number> = { POINT: 1, LINESTRING: 2, POLYGON: 3 };

/** The geometry types present, as bits (a bit_or: no sort of a million type names as DISTINCT would do). */
const GEOMETRY_TYPES = ['POINT', 'MULTIPOINT', 'LINESTRING', 'MULTILINESTRING', 'POLYGON', 'MULTIPOLYGON', 'GEOMETRYCOLLECTION'];
const TYPE_BITS_SQL = `bit_or(CASE WHEN geom IS NULL OR ST_IsEmpty(geom) THEN 0 ELSE CASE GeometryType(geom) ${GEOMETRY_TYPES.map((t, i) => `WHEN '${t}' THEN ${1 << i} WHEN '${t}M' THEN ${1 << i}`).join(' ')} ELSE ${1 << 7} END END)`;

/** The staging table's geometry column as loaded (geometry_columns: its type and coordinate dimension). */
interface LoadedColumn { type: string; coord_dimension: number }

async function loadedColumn(pool: Pool, table: string): Promise<LoadedColumn | undefined> {
  const { rows } = await pool.query<LoadedColumn>(
    `SELECT type, coord_dimension FROM geometry_columns WHERE f_table_schema = $1 AND f_table_name = $2 AND f_geometry_column = 'geom'`,
    [STAGING_SCHEMA, table],
  );
  return rows[0];
}

/**
 * Whether the loaded column is already what the layer publishes: one geometry type (a load with the declared
 * type, where PostGIS held every row to it) without M. Then checkStaging never rewrites the table, so its scan
 * may run beside the index build and count the invalid geometries in the same pass (importStaged does so).
 */
export async function stagingColumnIsFinal(pool: Pool, table: string): Promise<boolean> {
  const c = await loadedColumn(pool, table);
  return !!c && GEOMETRY_TYPES.indexOf(c.type.toUpperCase()) >= 0 && c.type.toUpperCase() !== 'GEOMETRYCOLLECTION' && !/M$/i.test(c.type) && c.coord_dimension <= 3;
}

/**
 * Normalise the geometry column of a staging table and gather its facts (one scan); refuse a layer with nothing
 * to publish. The column is retyped (a table rewrite) only when the loaded type is not already the right one.
 * With `countInvalid` the same scan also counts the geometries that are not valid (GEOS per row): one pass over
 * the table where a check scan and a validity scan were two (on the million parcels the check scan was 13.9 s of
 * a 65 s import under load, ~3 s quiet, for a count and an extent the validity scan could give on the way).
 */
export async function checkStaging(
  pool: Pool,
  table: string,
  srid: number,
  opts: { countInvalid?: boolean; outsideOf?: Box; parts?: number } = {},
): Promise<StagingFacts & { invalid?: number; outside?: number }> {
  const t = `${quoteIdent(STAGING_SCHEMA)}.${quoteIdent(table)}`;
  const warnings: string[] = [];
  const c = await loadedColumn(pool, table);
  // A column of one type (loaded with the declared type): PostGIS held every row to it, so the type and the
  // dimensions are the column's; the scan only counts and measures.
  const typedBit = c ? GEOMETRY_TYPES.indexOf(c.type.toUpperCase()) : -1;
  const typeSql = typedBit >= 0 ? `CASE WHEN bool_or(geom IS NOT NULL) THEN ${1 << typedBit} ELSE 0 END` : TYPE_BITS_SQL;
  const zmSql = typedBit >= 0 ? String(c!.coord_dimension === 4 ? 3 : c!.coord_dimension === 3 ? 2 : 0) : 'max(ST_Zmflag(geom))::int';
  const invalidSql = opts.countInvalid ? `count(*) FILTER (WHERE NOT ST_IsValid(geom))::int` : 'NULL::int';
  const outsideSql = opts.outsideOf ? `count(*) FILTER (WHERE geom IS NOT NULL AND NOT geom @ ST_MakeEnvelope($1, $2, $3, $4, ${Number(srid)}))::int` : 'NULL::int';
  // GEOS's validity test is the longest part of the scan: with `parts`, that many scans of page ranges (TID range
  // scans) on as many connections, so that they share the cores with the index build beside them (on 2 cores the
  // index build alone 3.5 s, the one validity scan 4.5 s: the scan was the import's critical path).
  const pages = (opts.parts ?? 1) > 1 ? Number((await pool.query<{ n: string }>(`SELECT pg_relation_size($1::regclass) / current_setting('block_size')::int AS n`, [`${STAGING_SCHEMA}.${quoteIdent(table)}`])).rows[0]!.n) : 0;
  const parts = pages >= 2 * (opts.parts ?? 1) ? opts.parts! : 1;
  const ranges = Array.from({ length: parts }, (_, i) => {
    const from = Math.floor((pages * i) / parts);
    const to = Math.floor((pages * (i + 1)) / parts);
    return parts === 1 ? '' : ` WHERE ctid >= '(${from},0)'::tid${i < parts - 1 ? ` AND ctid < '(${to},0)'::tid` : ''}`;
  });
  type Part = { n: number; nulls: number; invalid: number | null; outside: number | null; type_bits: number | null; zm: number | null; minx: number | null; miny: number; maxx: number; maxy: number };
  const scanned = await Promise.all(
    ranges.map((where) =>
      pool.query<Part>(
        `SELECT n, nulls, invalid, outside, type_bits, zm, ST_XMin(b) AS minx, ST_YMin(b) AS miny, ST_XMax(b) AS maxx, ST_YMax(b) AS maxy FROM (
           SELECT count(*)::int AS n, count(*) FILTER (WHERE geom IS NULL${typedBit >= 0 ? '' : ' OR ST_IsEmpty(geom)'})::int AS nulls,
                  ${invalidSql} AS invalid, ${outsideSql} AS outside, ${typeSql} AS type_bits, ${zmSql} AS zm, ST_Extent(geom) AS b FROM ${t}${where}) s`,
        opts.outsideOf ? [...opts.outsideOf] : [],
      ),
    ),
  );
  const rows = [combineParts(scanned.map((r) => r.rows[0]!))];
  const { n, nulls } = rows[0]!;
  if (n === 0) throw new CheckError('The layer has no features');
  if (nulls === n) throw new CheckError('No feature of the layer has a geometry');
  if (nulls > 0) warnings.push(`${nulls} of ${n} features have no geometry`);
  const bits = rows[0]!.type_bits ?? 0;
  const types = GEOMETRY_TYPES.filter((_, i) => bits & (1 << i));
  // Z kept (PCRS, DXF); M dropped (no client of ours reads it).
  const zm = rows[0]!.zm ?? 0;
  if (zm === 1 || zm === 3) warnings.push('M values were dropped');
  const hasZ = zm >= 2;
  // Families present, repairs' collections counted by what they hold.
  const families = new Set(types.map((x) => x.replace(/^MULTI/, '')).filter((x) => x !== 'GEOMETRYCOLLECTION'));
  if (bits & (1 << 7)) families.add('CURVE OR SURFACE'); // curves, TINs…: kept as they are, in a generic column
  let geometryType = 'GEOMETRY';
  let pgType = 'Geometry';
  let expr = 'geom';
  if (families.size === 1) {
    const family = [...families][0]!;
    const dim = FAMILY_DIM[family];
    if (dim) {
      const multi = types.some((x) => x.startsWith('MULTI') || x === 'GEOMETRYCOLLECTION');
      geometryType = multi ? `MULTI${family}` : family;
      pgType = `${multi ? 'Multi' : ''}${{ POINT: 'Point', LINESTRING: 'LineString', POLYGON: 'Polygon' }[family as 'POINT']}`;
      if (types.includes('GEOMETRYCOLLECTION')) expr = `ST_CollectionExtract(${expr}, ${dim})`;
      if (multi) expr = `ST_Multi(${expr})`;
    }
  } else if (families.size > 1) warnings.push(`The layer mixes geometry kinds (${[...families].join(', ').toLowerCase()}): published as a generic geometry column`);
  // A column of the published type holds nothing else (PostGIS refused any other row at the load): its ST_Multi
  // is the identity, and no rewrite is needed (one was made on every typed multi column before: 2.4 s of the
  // million parcels' import, the GiST index just built beside the scan built again by the ALTER).
  const fits =
    c && c.type.toUpperCase() === geometryType && c.coord_dimension === (hasZ ? 3 : 2) && zm !== 1 && zm !== 3 && (expr === 'geom' || typedBit >= 0);
  if (!fits) {
    expr = hasZ ? `ST_Force3DZ(${expr})` : `ST_Force2D(${expr})`;
    await pool.query(`ALTER TABLE ${t} ALTER COLUMN geom TYPE geometry(${pgType}${hasZ ? 'Z' : ''}, ${Number(srid)}) USING ${expr}`);
  }
  const x = rows[0]!;
  const extent: StagingFacts['extent'] = x.minx === null ? null : [x.minx, x.miny, x.maxx, x.maxy];
  return { count: n, nullGeometries: nulls, geometryType, extent, warnings, ...(opts.countInvalid ? { invalid: rows[0]!.invalid ?? 0 } : {}), ...(opts.outsideOf ? { outside: rows[0]!.outside ?? 0 } : {}) };
}

type Box = [number, number, number, number];

/** The page ranges' aggregates as one: counts summed, type bits or-ed, the largest Z/M flag, boxes united. */
function combineParts<T extends { n: number; nulls: number; invalid: number | null; outside: number | null; type_bits: number | null; zm: number | null; minx: number | null; miny: number; maxx: number; maxy: number }>(parts: T[]): T {
  const sum = (k: 'invalid' | 'outside') => (parts.every((p) => p[k] === null) ? null : parts.reduce((a, p) => a + (p[k] ?? 0), 0));
  const boxes = parts.filter((p) => p.minx !== null);
  return {
    ...parts[0]!,
    n: parts.reduce((a, p) => a + p.n, 0),
    nulls: parts.reduce((a, p) => a + p.nulls, 0),
    invalid: sum('invalid'),
    outside: sum('outside'),
    type_bits: parts.reduce((a, p) => a | (p.type_bits ?? 0), 0),
    zm: Math.max(...parts.map((p) => p.zm ?? 0)),
    minx: boxes.length ? Math.min(...boxes.map((p) => p.minx!)) : null,
    miny: Math.min(...boxes.map((p) => p.miny)),
    maxx: Math.max(...boxes.map((p) => p.maxx)),
    maxy: Math.max(...boxes.map((p) => p.maxy)),
  };
}

/**
 * How many geometries are not valid (OGC 06-103r4 §6.1.11.1): GEOS per row, the longest scan of an import, run
 * while the spatial index is built on another connection (both only read the table).
 */
export async function countInvalid(pool: Pool, table: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoteIdent(STAGING_SCHEMA)}.${quoteIdent(table)} WHERE NOT ST_IsValid(geom)`);
  return rows[0]!.n;
}

/**
 * Make the invalid geometries valid (ST_MakeValid, GEOS's MakeValid as GDAL's -makevalid). A repair may change a
 * row's type (a polygon into a collection): the column is made generic first; checkStaging then normalises again.
 */
export async function repairInvalid(pool: Pool, table: string, srid: number): Promise<void> {
  const t = `${quoteIdent(STAGING_SCHEMA)}.${quoteIdent(table)}`;
  await pool.query(`ALTER TABLE ${t} ALTER COLUMN geom TYPE geometry(Geometry, ${Number(srid)})`);
  await pool.query(`UPDATE ${t} SET geom = ST_MakeValid(geom) WHERE NOT ST_IsValid(geom)`);
}

/**
 * Spatial index, statistics: what a published table has. Named after the staging table, unique in any schema.
 * The plain GiST (geom) for every kind: a polygon layer's GiST (geom, ST_Area(geom)), which the vector tiles'
 * generalisation rule uses (src/render/mvt-sql.ts), is built after publication by a background job
 * (src/publishing/area-index-job.ts), which then drops this one. On the million parcels the two-column index
 * took 12.5 s of the import (77 MB) where this one is what ogr2ogr builds (40 MB); every reader but the tiles'
 * rule needs the box alone, which this index serves as well (a level-11 tile's box, 38,678 rows, warm: plain
 * 9.1–9.9 ms, two-column 9.7–10.3 ms).
 */
export async function finishStaging(pool: Pool, table: string): Promise<void> {
  const t = `${quoteIdent(STAGING_SCHEMA)}.${quoteIdent(table)}`;
  await pool.query(`CREATE INDEX ${quoteIdent(`${table}_geom_idx`)} ON ${t} USING gist (geom)`);
  await pool.query(`ANALYZE ${t}`);
}

/** A new staging table name: its creation time in it, so that leftovers of a crashed process can be told by age. */
export function stagingName(now = Date.now()): string {
  return `s_${Math.floor(now / 1000).toString(36)}_${randomBytes(5).toString('hex')}`;
}

/**
 * Drop staging tables left by a process that died during an import (a failure drops its own at once): those
 * older than `maxAgeMs` by their name. Run at the start of each import.
 */
export async function dropStaleStaging(pool: Pool, maxAgeMs = 24 * 3600_000, now = Date.now()): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 AND tablename ~ '^s_[0-9a-z]+_[0-9a-f]+$'`, [STAGING_SCHEMA]);
  const stale = rows.map((r) => r.name).filter((n) => now - parseInt(n.split('_')[1]!, 36) * 1000 > maxAgeMs);
  for (const n of stale) await dropStaging(pool, n);
  return stale;
}

export async function dropStaging(pool: Pool, table: string): Promise<void> {
  await pool.query(`DROP TABLE IF EXISTS ${quoteIdent(STAGING_SCHEMA)}.${quoteIdent(table)}`);
}

export interface TerritoryCheck {
  /** Features (with a geometry) whose box lies outside the territory's box, enlarged by 10 %. */
  outside: number;
  /** Features with a geometry (-1: not counted, the layer's extent being inside). */
  total: number;
  territory: [number, number, number, number];
}

/**
 * The platform's territory (the extent of the region reference table) in the target CRS, and that box enlarged by
 * 10 % (what a feature must lie in): for checkStaging's outsideOf, which counts the features outside in its own
 * scan. Undefined when the territory is unknown (no such table).
 */
export async function territoryBox(pool: Pool, srid: number, territoryTable: string): Promise<{ territory: Box; wide: Box } | undefined> {
  const [schema, name] = territoryTable.includes('.') ? territoryTable.split('.', 2) : ['public', territoryTable];
  const exists = await pool.query(`SELECT 1 FROM geometry_columns WHERE f_table_schema = $1 AND f_table_name = $2 AND f_geometry_column = 'geom'`, [schema, name]);
  if (exists.rowCount === 0) return undefined;
  const { rows } = await pool.query<{ minx: number | null; miny: number; maxx: number; maxy: number; d: number }>(
    `WITH terr AS (SELECT ST_Transform(ST_SetSRID(ST_Extent(geom)::geometry, Find_SRID($2, $3, 'geom')), $1::int) AS b FROM ${quoteIdent(schema!)}.${quoteIdent(name!)})
     SELECT ST_XMin(b) AS minx, ST_YMin(b) AS miny, ST_XMax(b) AS maxx, ST_YMax(b) AS maxy, greatest(ST_XMax(b) - ST_XMin(b), ST_YMax(b) - ST_YMin(b)) * 0.1 AS d FROM terr`,
    [srid, schema, name],
  );
  const r = rows[0];
  if (!r || r.minx === null) return undefined;
  return { territory: [r.minx, r.miny, r.maxx, r.maxy], wide: [r.minx - r.d, r.miny - r.d, r.maxx + r.d, r.maxy + r.d] };
}

/**
 * The layer against the platform's territory (the extent of the region reference table), in the target CRS.
 * Undefined when the territory is unknown (no such table).
 */
export async function checkTerritory(pool: Pool, table: string, srid: number, territoryTable: string, extent?: [number, number, number, number] | null): Promise<TerritoryCheck | undefined> {
  const terr = await territoryBox(pool, srid, territoryTable);
  if (!terr) return undefined;
  const [wx0, wy0, wx1, wy1] = terr.wide;
  // The layer's extent inside the (enlarged) territory: no feature is outside, no scan needed.
  if (extent && extent[0] >= wx0 && extent[1] >= wy0 && extent[2] <= wx1 && extent[3] <= wy1) return { outside: 0, total: -1, territory: terr.territory };
  const { rows } = await pool.query<{ outside: number; total: number }>(
    `SELECT count(*) FILTER (WHERE NOT (geom @ ST_MakeEnvelope($1, $2, $3, $4, $5::int)))::int AS outside, count(*)::int AS total
       FROM ${quoteIdent(STAGING_SCHEMA)}.${quoteIdent(table)} WHERE geom IS NOT NULL`,
    [...terr.wide, srid],
  );
  const r = rows[0];
  if (!r || r.total === 0) return undefined;
  return { outside: r.outside, total: r.total, territory: terr.territory };
}
