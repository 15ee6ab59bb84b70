/**
 * Putting a checked staging table in place, in one transaction, and keeping what it replaces: the layer's
 * published table moves to schema sdi_versions (a rename: no copy, no window without a table) and the staging
 * table takes its place and name, so readers see the old layer until the commit and the new one after it
 * (PostgreSQL looks a table name up again when DDL committed while it waited for the lock). An append copies
 * the published table into sdi_versions, then inserts the staged rows. The layer's registration at that time is
 * kept with its table (sdi.layer_versions), so that a rollback restores both; versions beyond `keep` are dropped.
 */
import type { Pool, PoolClient } from '../db/pool.js';
import { quoteIdent } from '../db/identifiers.js';
import { registerLayer } from '../catalog/published.js';
import { checkFeatureTable } from '../catalog/layer-checks.js';
import { STAGING_SCHEMA, CheckError } from './staging.js';
import { dependentViews, dropViews, recreateViews, DependentViewError } from './dependent-views.js';
import { abandonIndexBuilds, IndexBuildBusyError } from './index-builds.js';

export const VERSIONS_SCHEMA = 'sdi_versions';
/** Schema of the tables imports create. */
export const DATA_SCHEMA = 'data';

export class ConflictError extends Error {}

export interface SwapRequest {
  layerName: string;
  staging: string;
  mode: 'replace' | 'append';
  /** Title given by the user; undefined keeps the layer's, or uses `defaultTitle` for a new layer. */
  title?: string;
  defaultTitle: string;
  targetSrid: number;
  keepVersions: number;
  /** Temporal property to declare (undefined keeps the layer's while its columns remain). */
  temporalProperty?: string;
  temporalEndProperty?: string;
}

export interface SwapResult {
  schema: string;
  table: string;
  created: boolean;
  /** Version number the superseded table was kept as. */
  keptVersion?: number;
  count: number;
}

interface LayerRow {
  id: number;
  kind: string;
  table_schema: string;
  table_name: string;
  id_column: string;
  geometry_column: string | null;
  title: string;
  abstract: string;
  keywords: string[];
  default_crs: number;
  temporal_property: string | null;
  temporal_end_property: string | null;
}

const q = (schema: string, table: string) => `${quoteIdent(schema)}.${quoteIdent(table)}`;

async function inTransaction<T>(pool: Pool, lockKeys: string[], lockTimeoutMs: number, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query(`SELECT set_config('lock_timeout', $1, true)`, [`${Math.max(1, Math.round(lockTimeoutMs))}ms`]);
    // One import or rollback of a layer at a time (keys in a fixed order: no deadlock between two imports).
    for (const k of lockKeys) await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sdi-import:${k}`]);
    const r = await fn(c);
    await c.query('COMMIT');
    return r;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    if ((e as { code?: string }).code === '55P03') throw new ConflictError('The layer is being read by long requests; the import was not applied, try again');
    if (e instanceof DependentViewError || e instanceof IndexBuildBusyError) throw new ConflictError(e.message);
    // A table or schema of another role: only an owner may rename, move or drop a table (ALTER/DROP TABLE).
    if ((e as { code?: string }).code === '42501') throw new ConflictError(`The platform's database role lacks a privilege this needs (${String((e as Error).message).split('\n')[0]!.slice(0, 200)}): the role must own the layer's table (ALTER TABLE … OWNER TO …) and be able to create tables in its schema, sdi_import and sdi_versions; nothing was changed`);
    // A view or another object built on the table that cannot be dropped and re-created (a function, a rule).
    if ((e as { code?: string }).code === '2BP01') throw new ConflictError(`Objects depend on the layer's table: ${String((e as Error).message).split('\n')[0]!.slice(0, 200)}; the import was not applied`);
    throw e;
  } finally {
    c.release();
  }
}

async function relkind(c: PoolClient, schema: string, table: string): Promise<string | undefined> {
  const { rows } = await c.query<{ relkind: string }>(
    `SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
    [schema, table],
  );
  return rows[0]?.relkind;
}

async function columnsOf(c: PoolClient, schema: string, table: string): Promise<string[]> {
  const { rows } = await c.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [schema, table],
  );
  return rows.map((r) => r.name);
}

/** Keep the layer's current table and registration as its next version; returns the version number. */
async function keepVersion(c: PoolClient, name: string, layer: LayerRow, reason: string, move: boolean): Promise<number> {
  const { rows } = await c.query<{ v: number }>('SELECT COALESCE(max(version), 0)::int + 1 AS v FROM sdi.layer_versions WHERE layer_name = $1', [name]);
  const version = rows[0]!.v;
  const vtable = `v_${layer.id}_${version}`;
  await c.query(`DROP TABLE IF EXISTS ${q(VERSIONS_SCHEMA, vtable)}`); // a leftover of a version row deleted by hand
  if (move) {
    await c.query(`ALTER TABLE ${q(layer.table_schema, layer.table_name)} RENAME TO ${quoteIdent(vtable)}`);
    await c.query(`ALTER TABLE ${q(layer.table_schema, vtable)} SET SCHEMA ${quoteIdent(VERSIONS_SCHEMA)}`);
  } else {
    // A copy (the published table stays in place for the append): its key and an identity on it, so that the
    // copy works as the layer's table again after a rollback (appends need the key's default).
    const v = q(VERSIONS_SCHEMA, vtable);
    const id = quoteIdent(layer.id_column);
    await c.query(`CREATE TABLE ${v} AS SELECT * FROM ${q(layer.table_schema, layer.table_name)}`);
    await c.query('SAVEPOINT version_key');
    try {
      await c.query(`ALTER TABLE ${v} ADD PRIMARY KEY (${id})`);
      await c.query(`ALTER TABLE ${v} ALTER COLUMN ${id} ADD GENERATED BY DEFAULT AS IDENTITY`);
      await c.query(`SELECT setval(pg_get_serial_sequence($1, $2), GREATEST((SELECT max(${id}) FROM ${v}), 1))`, [`${quoteIdent(VERSIONS_SCHEMA)}.${quoteIdent(vtable)}`, layer.id_column]);
      await c.query('RELEASE SAVEPOINT version_key');
    } catch {
      await c.query('ROLLBACK TO SAVEPOINT version_key'); // a non-integer key: the copy keeps its rows, without a default
    }
  }
  const n = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${q(VERSIONS_SCHEMA, vtable)}`);
  await c.query(
    `INSERT INTO sdi.layer_versions (layer_name, version, table_name, registration, feature_count, reason)
     SELECT $1, $2, $3, to_jsonb(l), $4, $5 FROM sdi.layers l WHERE l.name = $1`,
    [name, version, vtable, Number(n.rows[0]!.n), reason],
  );
  return version;
}

async function pruneVersions(c: PoolClient, name: string, keep: number): Promise<void> {
  const { rows } = await c.query<{ id: number; table_name: string }>(
    'SELECT id, table_name FROM sdi.layer_versions WHERE layer_name = $1 ORDER BY version DESC OFFSET $2',
    [name, Math.max(0, keep)],
  );
  for (const r of rows) {
    await c.query(`DROP TABLE IF EXISTS ${q(VERSIONS_SCHEMA, r.table_name)}`);
    await c.query('DELETE FROM sdi.layer_versions WHERE id = $1', [r.id]);
  }
}

/**
 * Swap (replace) or insert (append) checked staging tables into their layers, registering them: all of them in
 * one transaction (a file of several layers is published whole or not at all).
 */
export async function swapIntoPlace(pool: Pool, requests: SwapRequest[], lockTimeoutMs = 30_000): Promise<SwapResult[]> {
  const keys = [...new Set(requests.map((r) => r.layerName))].sort();
  return inTransaction(pool, keys, lockTimeoutMs, async (c) => {
    const out: SwapResult[] = [];
    for (const r of requests) out.push(await swapOne(c, r, lockTimeoutMs));
    return out;
  });
}

async function swapOne(c: PoolClient, o: SwapRequest, lockTimeoutMs: number): Promise<SwapResult> {
  {
    const { rows } = await c.query<LayerRow>('SELECT * FROM sdi.layers WHERE name = $1 FOR UPDATE', [o.layerName]);
    const layer = rows[0];
    if (layer && layer.kind !== 'feature') throw new ConflictError(`The layer ${o.layerName} is a ${layer.kind} layer; choose another name`);
    const schema = layer?.table_schema ?? DATA_SCHEMA;
    const table = layer?.table_name ?? o.layerName;
    const kind = await relkind(c, schema, table);
    if (layer && kind !== undefined && kind !== 'r') throw new ConflictError(`The layer ${o.layerName} is published from a view or foreign table (${schema}.${table}), which an import does not replace`);
    if (!layer && kind !== undefined) throw new ConflictError(`A table ${schema}.${table} already exists and is not the table of a layer named ${o.layerName}; choose another name`);
    if (!layer) {
      const other = await c.query('SELECT name FROM sdi.layers WHERE table_schema = $1 AND table_name = $2', [schema, table]);
      if (other.rowCount) throw new ConflictError(`The table ${schema}.${table} is already published as layer ${other.rows[0].name}`);
    }
    // A running build of the table's area index is cancelled, not waited for (src/import/index-builds.ts).
    if (layer && kind === 'r') await abandonIndexBuilds(c, schema, table, lockTimeoutMs);
    let keptVersion: number | undefined;
    if (o.mode === 'append') {
      if (!layer || kind === undefined) throw new CheckError(`Append needs a published layer ${o.layerName} with its table; there is none`);
      const target = await columnsOf(c, schema, table);
      const staged = (await columnsOf(c, STAGING_SCHEMA, o.staging)).filter((x) => x !== 'fid' && x !== 'geom');
      const geomColumn = layer.geometry_column ?? 'geom';
      const missing = staged.filter((x) => !target.includes(x));
      if (missing.length) throw new CheckError(`The file has attributes the layer does not: ${missing.join(', ')}; use mode=replace`);
      const g = await c.query<{ type: string; srid: number }>(
        'SELECT type, srid FROM geometry_columns WHERE f_table_schema = $1 AND f_table_name = $2 AND f_geometry_column = $3',
        [schema, table, geomColumn],
      );
      const gt = g.rows[0];
      if (!gt) throw new CheckError(`The layer ${o.layerName} has no geometry column ${geomColumn} to append to`);
      keptVersion = await keepVersion(c, o.layerName, layer, 'append', false);
      let geom = `ST_Transform(geom, ${Number(gt.srid)})`;
      if (gt.type.toUpperCase().startsWith('MULTI')) geom = `ST_Multi(${geom})`;
      const cols = staged.map(quoteIdent);
      try {
        await c.query(
          `INSERT INTO ${q(schema, table)} (${[...cols, quoteIdent(geomColumn)].join(', ')}) SELECT ${[...cols, geom].join(', ')} FROM ${q(STAGING_SCHEMA, o.staging)}`,
        );
      } catch (e) {
        throw new CheckError(`The file's features do not fit the layer: ${(e as Error).message.split('\n')[0]}`);
      }
      await c.query(`ANALYZE ${q(schema, table)}`);
    } else {
      // Views on the table would follow it into sdi_versions: they are re-created on the new one (src/import/dependent-views.ts).
      const views = layer && kind !== undefined ? await dependentViews(c, schema, table) : [];
      await dropViews(c, views);
      if (layer && kind !== undefined) keptVersion = await keepVersion(c, o.layerName, layer, 'replace', true);
      await c.query(`ALTER TABLE ${q(STAGING_SCHEMA, o.staging)} SET SCHEMA ${quoteIdent(schema)}`);
      await c.query(`ALTER TABLE ${q(schema, o.staging)} RENAME TO ${quoteIdent(table)}`);
      await recreateViews(c, views);
    }
    const columns = await columnsOf(c, schema, table);
    const keepTemporal = (col: string | null | undefined) => (col && columns.includes(col) ? col : null);
    // The checks of every publication (src/catalog/layer-checks.ts, as POST /admin/layers): a failure rolls the swap back.
    const checked = await checkFeatureTable(c, schema, table, o.mode === 'append' ? (layer!.geometry_column ?? undefined) : 'geom', o.mode === 'append' ? layer!.id_column : 'fid');
    await registerLayer(c, {
      name: o.layerName,
      schema,
      table,
      idColumn: checked.idColumn,
      geometryColumn: checked.geometryColumn,
      title: o.title ?? layer?.title ?? o.defaultTitle,
      abstract: layer?.abstract,
      keywords: layer?.keywords,
      defaultCrs: layer?.default_crs ?? o.targetSrid,
      ...(o.temporalProperty !== undefined
        ? { temporalProperty: o.temporalProperty, temporalEndProperty: o.temporalEndProperty ?? null }
        : { temporalProperty: keepTemporal(layer?.temporal_property), temporalEndProperty: keepTemporal(layer?.temporal_property) ? keepTemporal(layer?.temporal_end_property) : null }),
    });
    await pruneVersions(c, o.layerName, o.keepVersions);
    const n = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${q(schema, table)}`);
    return { schema, table, created: !layer, keptVersion, count: Number(n.rows[0]!.n) };
  }
}

export interface LayerVersion {
  version: number;
  reason: string;
  featureCount: number;
  title: string;
  createdAt: Date;
}

export async function listVersions(pool: Pool, layerName: string): Promise<LayerVersion[]> {
  const { rows } = await pool.query<{ version: number; reason: string; feature_count: string; title: string; created_at: Date }>(
    `SELECT version, reason, feature_count, registration->>'title' AS title, created_at FROM sdi.layer_versions WHERE layer_name = $1 ORDER BY version DESC`,
    [layerName],
  );
  return rows.map((r) => ({ version: r.version, reason: r.reason, featureCount: Number(r.feature_count), title: r.title, createdAt: r.created_at }));
}

export class NotFoundError extends Error {}

/**
 * Put a kept version back (default: the latest): its table and its registration (title, abstract, keywords,
 * columns, CRS, temporal property). The table it replaces is kept as a version in turn, so a rollback can be undone.
 */
export async function rollbackLayer(pool: Pool, layerName: string, version: number | undefined, keep: number): Promise<{ restored: number; keptVersion: number }> {
  return inTransaction(pool, [layerName], 30_000, async (c) => {
    const { rows } = await c.query<LayerRow>('SELECT * FROM sdi.layers WHERE name = $1 FOR UPDATE', [layerName]);
    const layer = rows[0];
    if (!layer) throw new NotFoundError(`No layer ${layerName}`);
    const v = await c.query<{ id: number; version: number; table_name: string; registration: Record<string, unknown> }>(
      `SELECT id, version, table_name, registration FROM sdi.layer_versions WHERE layer_name = $1 ${version === undefined ? '' : 'AND version = $2'} ORDER BY version DESC LIMIT 1`,
      version === undefined ? [layerName] : [layerName, version],
    );
    const target = v.rows[0];
    if (!target) throw new NotFoundError(version === undefined ? `The layer ${layerName} has no earlier version` : `The layer ${layerName} has no version ${version}`);
    if ((await relkind(c, VERSIONS_SCHEMA, target.table_name)) !== 'r') throw new NotFoundError(`The table of version ${target.version} of ${layerName} is gone`);
    await abandonIndexBuilds(c, layer.table_schema, layer.table_name, 30_000);
    const views = await dependentViews(c, layer.table_schema, layer.table_name);
    await dropViews(c, views);
    const kept = await keepVersion(c, layerName, layer, 'rollback', (await relkind(c, layer.table_schema, layer.table_name)) === 'r');
    await c.query(`DROP TABLE IF EXISTS ${q(layer.table_schema, layer.table_name)}`); // only when it was not a base table (moved otherwise)
    await c.query(`ALTER TABLE ${q(VERSIONS_SCHEMA, target.table_name)} SET SCHEMA ${quoteIdent(layer.table_schema)}`);
    await c.query(`ALTER TABLE ${q(layer.table_schema, target.table_name)} RENAME TO ${quoteIdent(layer.table_name)}`);
    await recreateViews(c, views);
    await c.query(
      `UPDATE sdi.layers l SET title = v.title, abstract = v.abstract, keywords = v.keywords, id_column = v.id_column,
              geometry_column = v.geometry_column, default_crs = v.default_crs, other_crs = v.other_crs,
              temporal_property = v.temporal_property, temporal_end_property = v.temporal_end_property, updated_at = now()
         FROM jsonb_populate_record(NULL::sdi.layers, $2::jsonb) v WHERE l.name = $1`,
      [layerName, JSON.stringify(target.registration)],
    );
    await c.query('DELETE FROM sdi.layer_versions WHERE id = $1', [target.id]);
    await pruneVersions(c, layerName, keep);
    return { restored: target.version, keptVersion: kept };
  });
}
