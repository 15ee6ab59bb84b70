/**
 * The checks a table passes before it is served as a feature layer, whoever publishes it: the admin API and CLI
 * (src/publishing/layer-admin.ts) and imports (src/import/versions.ts, before the swap commits). A geometry
 * column present; an id column that identifies features (unique, never NULL, integer or text). Here, below both,
 * so that there is one set of rules and neither imports the other.
 */
import type { Pool, PoolClient } from '../db/pool.js';
import { quoteIdent } from '../db/identifiers.js';
import { kindOf } from './layers.js';

/** A refusal with the field at fault; status 400 (malformed), 404 (unknown), 409 (conflict) or 422 (does not fit the data). */
export class LayerAdminError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 422,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface TableFacts {
  kind: 'table' | 'view';
  columns: Map<string, string>;
  geometries: string[];
}

export async function tableFacts(db: Pool | PoolClient, schema: string, table: string): Promise<TableFacts> {
  const { rows } = await db.query<{ relkind: string; name: string | null; pg_type: string | null }>(
    `SELECT c.relkind::text AS relkind, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS pg_type
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'v', 'm', 'p', 'f') ORDER BY a.attnum`,
    [schema, table],
  );
  if (!rows[0]) throw new LayerAdminError(404, 'no-table', `No table or view ${schema}.${table}`.slice(0, 200), 'table');
  const columns = new Map(rows.filter((r) => r.name).map((r) => [r.name!, r.pg_type!]));
  const geometries = [...columns].filter(([, t]) => /^geometry/.test(t)).map(([n]) => n);
  return { kind: rows[0].relkind === 'v' || rows[0].relkind === 'm' ? 'view' : 'table', columns, geometries };
}

/** The table's single-column primary key or NOT NULL unique column, if it has one. */
export async function keyColumn(db: Pool | PoolClient, schema: string, table: string): Promise<string | undefined> {
  const { rows } = await db.query<{ name: string; primary: boolean }>(
    `SELECT a.attname AS name, i.indisprimary AS primary
       FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
      WHERE n.nspname = $1 AND c.relname = $2 AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL AND a.attnotnull
      ORDER BY i.indisprimary DESC, a.attnum`,
    [schema, table],
  );
  return rows[0]?.name;
}

/**
 * The id column must identify features: present, not the geometry, unique and never NULL. A NOT NULL unique
 * index proves it; otherwise (views, tables without constraint) the data is counted.
 */
export async function checkIdColumn(db: Pool | PoolClient, schema: string, table: string, facts: TableFacts, column: string): Promise<void> {
  const type = facts.columns.get(column);
  if (!type) throw new LayerAdminError(422, 'no-id-column', `${schema}.${table} has no column ${column.slice(0, 63)} (columns: ${[...facts.columns.keys()].join(', ')})`.slice(0, 400), 'idColumn');
  if (/^(geometry|geography)/.test(type) || ['json', 'other'].includes(kindOf(type)) && !/^numeric/.test(type)) {
    throw new LayerAdminError(422, 'bad-id-column', `Column ${column} is ${type}: an id column is an integer or text column`, 'idColumn');
  }
  if ((await keyColumn(db, schema, table)) === column) return;
  const q = `SELECT count(*)::bigint - count(DISTINCT ${quoteIdent(column)})::bigint AS dup, count(*) FILTER (WHERE ${quoteIdent(column)} IS NULL)::bigint AS nulls
               FROM ${quoteIdent(schema)}.${quoteIdent(table)}`;
  const { rows } = await db.query<{ dup: string; nulls: string }>(q);
  const dup = Number(rows[0]!.dup);
  const nulls = Number(rows[0]!.nulls);
  if (nulls > 0) throw new LayerAdminError(422, 'bad-id-column', `Column ${column} of ${schema}.${table} is NULL in ${nulls} rows: an id column is never NULL`, 'idColumn');
  if (dup > 0) throw new LayerAdminError(422, 'bad-id-column', `Column ${column} of ${schema}.${table} has ${dup} repeated values: an id column is unique`, 'idColumn');
}

/**
 * Everything a feature layer's table must be, as one check: the table exists, has the geometry column (the one
 * named, else its first), and the id column (the one named, else its single-column key) identifies features.
 * Returns the geometry and id columns to register.
 */
export async function checkFeatureTable(db: Pool | PoolClient, schema: string, table: string, geometryColumn?: string, idColumn?: string): Promise<{ geometryColumn: string; idColumn: string; facts: TableFacts }> {
  const facts = await tableFacts(db, schema, table);
  if (!facts.geometries.length) throw new LayerAdminError(422, 'no-geometry', `${schema}.${table} has no geometry column: it cannot be published as a feature layer`, 'table');
  if (geometryColumn !== undefined && !facts.geometries.includes(geometryColumn)) {
    throw new LayerAdminError(422, 'no-geometry', `${schema}.${table} has no geometry column ${geometryColumn.slice(0, 63)} (geometry columns: ${facts.geometries.join(', ')})`, 'geometryColumn');
  }
  const id = idColumn ?? (await keyColumn(db, schema, table));
  if (!id) throw new LayerAdminError(422, 'no-id-column', `${schema}.${table} has no single-column primary key: name its id column (idColumn, --id)`, 'idColumn');
  await checkIdColumn(db, schema, table, facts, id);
  return { geometryColumn: geometryColumn ?? facts.geometries[0]!, idColumn: id, facts };
}
