/**
 * The catalogue of published feature layers: rows of sdi.layers, completed with what PostgreSQL's own
 * system views say about the bound table (columns, types, geometry type and SRID) — as pg_featureserv does,
 * but from our registry so that unpublished tables stay invisible.
 */
import type { Pool, PoolClient } from '../db/pool.js';
import { preloadCrsFacts } from '../crs/facts.js';
import type { ChangeFeed } from '../db/change-feed.js';
import { recordIdentifierOf } from '../records/sql.js';

export type ColumnKind = 'string' | 'integer' | 'bigint' | 'number' | 'boolean' | 'date' | 'datetime' | 'time' | 'json' | 'other';

export interface LayerColumn {
  name: string;
  /** PostgreSQL type as format_type() prints it (used for casts, comes from the catalogue). */
  pgType: string;
  kind: ColumnKind;
  /** NOT NULL in the table: declared without nillable in the GML application schema, never written xsi:nil. */
  notNull?: boolean;
  /** The label an administrator gave the attribute (sdi.layers.attribute_aliases): shown in schemas and GetFeatureInfo. */
  alias?: string;
}

export interface LayerGeometry {
  column: string;
  srid: number;
  /** NOT NULL in the table (see LayerColumn.notNull). */
  notNull?: boolean;
  /** OGC simple-feature type from geometry_columns (POINT, MULTIPOLYGON, … or GEOMETRY). */
  type: string;
}

export interface Layer {
  id: number;
  name: string;
  title: string;
  abstract: string;
  keywords: string[];
  schema: string;
  table: string;
  idColumn: string;
  idKind: ColumnKind;
  geometry?: LayerGeometry;
  /** Attribute columns (not the id, not the geometry), in table order. */
  columns: LayerColumn[];
  defaultCrs: number;
  otherCrs: number[] | null;
  metadataRecordId: number | null;
  /** fileIdentifier of the layer's metadata record (catalogue), for MetadataURL links. */
  metadataIdentifier: string | null;
  /**
   * The temporal property (OGC API Features `datetime`): `start` is the feature's instant (or the start of its
   * interval when `end` is set; a NULL end is an interval still open). Date or timestamp columns only.
   */
  temporal?: LayerTemporal;
  updatedAt: Date;
  /** false: restricted, served only to holders of a grant (issue 11); undefined or true: public. */
  public?: boolean;
  /** Name of the layer's dataset, if any (a grant on a dataset covers its layers). */
  dataset?: string;
}

export interface LayerTemporal {
  start: LayerColumn;
  end?: LayerColumn;
}

/** Column kinds a temporal property may have. */
export const TEMPORAL_KINDS: ColumnKind[] = ['date', 'datetime'];

export function kindOf(pgType: string): ColumnKind {
  const t = pgType.toLowerCase();
  if (/^(smallint|integer)$/.test(t)) return 'integer';
  if (t === 'bigint') return 'bigint';
  if (/^(real|double precision|numeric)/.test(t)) return 'number';
  if (t === 'boolean') return 'boolean';
  if (t === 'date') return 'date';
  if (t.startsWith('timestamp')) return 'datetime';
  if (t.startsWith('time')) return 'time';
  if (t === 'json' || t === 'jsonb') return 'json';
  if (/^(text|character varying|character|varchar|uuid|citext|name)/.test(t)) return 'string';
  return 'other';
}

interface LayerRow {
  id: number;
  name: string;
  title: string;
  abstract: string;
  keywords: string[];
  table_schema: string;
  table_name: string;
  id_column: string;
  geometry_column: string | null;
  default_crs: number;
  other_crs: number[] | null;
  metadata_record_id: number | null;
  metadata_identifier: string | null;
  temporal_property: string | null;
  temporal_end_property: string | null;
  attribute_aliases: Record<string, string> | null;
  updated_at: Date;
  public: boolean;
  dataset_name: string | null;
}

const LAYERS_SQL = `
  SELECT l.id, l.name, l.title, l.abstract, l.keywords, l.table_schema, l.table_name, l.id_column, l.geometry_column,
         l.default_crs, l.other_crs, l.metadata_record_id, ${recordIdentifierOf('l.metadata_record_id')} AS metadata_identifier,
         l.temporal_property, l.temporal_end_property, l.attribute_aliases, l.updated_at, l.public, d.name AS dataset_name
    FROM sdi.layers l
    LEFT JOIN sdi.datasets d ON d.id = l.dataset_id
   WHERE l.published AND l.kind = 'feature' ORDER BY l.name`;

const COLUMNS_SQL = `
  SELECT n.nspname AS schema, c.relname AS table, a.attname AS name,
         format_type(a.atttypid, a.atttypmod) AS pg_type, a.attnotnull AS not_null, a.attnum
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE a.attnum > 0 AND NOT a.attisdropped
     AND (n.nspname, c.relname) IN (SELECT table_schema, table_name FROM sdi.layers)
   ORDER BY n.nspname, c.relname, a.attnum`;

const GEOMETRY_SQL = `
  SELECT f_table_schema AS schema, f_table_name AS table, f_geometry_column AS column, srid, type
    FROM geometry_columns
   WHERE (f_table_schema, f_table_name) IN (SELECT table_schema, table_name FROM sdi.layers)`;

/**
 * The serving catalogue, cached per process. A request compares the cache with the registry's revision
 * (sdi.layers_revision, bumped by a trigger on every change of sdi.layers, migration 0017): a change committed
 * by any process (admin API, CLI, import) is served by every process from its next request on. Concurrent
 * requests share one revision check. With a live change feed (src/db/change-feed.ts: the same trigger
 * notifies, migration 0027) the tile routes (list({ notified: true })) skip the check while no notification
 * came since the last one: a cached tile is then served with no query at all (issue 9). The TTL only bounds how long changes made outside the
 * registry (a column added to a layer's table) take to show.
 */
export class LayerCatalog {
  private layers = new Map<string, Layer>();
  private loadedAt = 0;
  private revision: string | null = null;
  private loading: Promise<void> | null = null;
  private checking: Promise<{ revision: string | null; generation: number }> | null = null;
  /** The feed's generation when the loaded catalogue was last found current (-1: never). */
  private checkedAt = -1;

  constructor(
    private readonly pool: Pool,
    /** How long a loaded catalogue is trusted, whatever the revision, before the next request reloads it. */
    private readonly ttlMs = 60_000,
    private readonly feed?: ChangeFeed,
  ) {}

  /**
   * The layers. `notified`: trust the change feed instead of reading the registry's revision (see the class
   * comment): the tile routes, whose cached answers must cost no query. A change made by another process is
   * then seen once its notification is handled (normally before its writer hears the COMMIT answered); one
   * made by this process's admin API calls invalidate() and is seen at once.
   */
  async list(opts: { notified?: boolean } = {}): Promise<Layer[]> {
    await this.fresh(opts.notified === true);
    return [...this.layers.values()];
  }

  async get(name: string): Promise<Layer | undefined> {
    await this.fresh();
    return this.layers.get(name);
  }

  invalidate(): void {
    this.loadedAt = 0;
    this.checkedAt = -1;
  }

  private async fresh(notified = false): Promise<void> {
    if (this.loading) return this.loading;
    if (this.loadedAt && Date.now() - this.loadedAt < this.ttlMs) {
      const feed = this.feed;
      if (notified && feed?.live && this.checkedAt === feed.generation) {
        await feed.settled();
        if (feed.live && this.checkedAt === feed.generation && this.loadedAt) return;
      }
      let current: { revision: string | null; generation: number };
      try {
        // The generation is read before the query, so a notification during it leaves the answer unconfirmed.
        const generation = this.feed?.generation ?? -1;
        this.checking ??= this.readRevision()
          .then((revision) => ({ revision, generation }))
          .finally(() => (this.checking = null));
        current = await this.checking;
      } catch (e) {
        // Database unreachable: nothing can have been written; serve what is loaded (reads fail on their own).
        if (this.layers.size) return;
        throw e;
      }
      if (current.revision === this.revision) {
        this.checkedAt = Math.max(this.checkedAt, current.generation);
        return;
      }
    }
    this.loading ??= this.load().finally(() => (this.loading = null));
    await this.loading;
  }

  private async readRevision(): Promise<string | null> {
    const { rows } = await this.pool.query<{ revision: string }>('SELECT revision::text AS revision FROM sdi.layers_revision');
    return rows[0]?.revision ?? null;
  }

  private async load(): Promise<void> {
    // The feed's generation and the revision first: a change committed during the load makes the next request load again.
    const generation = this.feed?.generation ?? -1;
    const revision = await this.readRevision();
    const [layers, columns, geoms] = await Promise.all([
      this.pool.query<LayerRow>(LAYERS_SQL),
      this.pool.query<{ schema: string; table: string; name: string; pg_type: string; not_null: boolean }>(COLUMNS_SQL),
      this.pool.query<{ schema: string; table: string; column: string; srid: number; type: string }>(GEOMETRY_SQL),
    ]);
    const next = new Map<string, Layer>();
    for (const r of layers.rows) {
      const cols = columns.rows.filter((c) => c.schema === r.table_schema && c.table === r.table_name);
      const geomCol = r.geometry_column ?? geoms.rows.find((g) => g.schema === r.table_schema && g.table === r.table_name)?.column;
      const g = geoms.rows.find((x) => x.schema === r.table_schema && x.table === r.table_name && x.column === geomCol);
      const idCol = cols.find((c) => c.name === r.id_column);
      if (!idCol) continue; // table gone or renamed: the layer is not served until fixed
      const attributes = cols
        .filter((c) => c.name !== r.id_column && c.name !== geomCol && !/^(geometry|geography)/.test(c.pg_type))
        .map((c) => ({ name: c.name, pgType: c.pg_type, kind: kindOf(c.pg_type), notNull: c.not_null, ...(r.attribute_aliases?.[c.name] ? { alias: r.attribute_aliases[c.name] } : {}) }));
      next.set(r.name, {
        id: r.id,
        name: r.name,
        title: r.title,
        abstract: r.abstract,
        keywords: r.keywords,
        schema: r.table_schema,
        table: r.table_name,
        idColumn: r.id_column,
        idKind: kindOf(idCol.pg_type),
        geometry: geomCol ? { column: geomCol, srid: g?.srid || r.default_crs, type: (g?.type ?? 'GEOMETRY').toUpperCase(), notNull: cols.find((c) => c.name === geomCol)?.not_null } : undefined,
        columns: attributes,
        defaultCrs: r.default_crs,
        otherCrs: r.other_crs,
        metadataRecordId: r.metadata_record_id,
        metadataIdentifier: r.metadata_identifier,
        temporal: temporalOf(attributes, r.temporal_property, r.temporal_end_property),
        updatedAt: r.updated_at,
        public: r.public,
        dataset: r.dataset_name ?? undefined,
      });
    }
    // Every layer's own and listed CRSs get their facts now (one child for the new ones, none once loaded),
    // so that planning and encoding read them synchronously (src/crs/facts.ts). A failed probe is not fatal:
    // the codes are probed again on demand.
    const srids = [...next.values()].flatMap((l) => [l.defaultCrs, l.geometry?.srid, ...(l.otherCrs ?? [])]).filter((s): s is number => typeof s === 'number');
    await preloadCrsFacts(srids).catch(() => undefined);
    this.layers = next;
    this.revision = revision;
    this.loadedAt = Date.now();
    this.checkedAt = generation;
  }
}

/**
 * The declared temporal property, if it still names date / timestamp attribute columns of the table; a
 * declaration the table no longer fits (column dropped or retyped) is ignored, so `datetime` is refused
 * rather than applied to the wrong thing.
 */
function temporalOf(columns: LayerColumn[], start: string | null, end: string | null): LayerTemporal | undefined {
  if (!start) return undefined;
  const find = (n: string) => columns.find((c) => c.name === n && TEMPORAL_KINDS.includes(c.kind));
  const s = find(start);
  const e = end ? find(end) : undefined;
  if (!s || (end && !e)) return undefined;
  return e ? { start: s, end: e } : { start: s };
}

export class LayerPublishError extends Error {}

/**
 * Check that `start` (and `end`) name date or timestamp columns of schema.table; returns the names to store.
 * Throws LayerPublishError with a message for the publisher otherwise.
 */
export async function checkTemporalProperty(pool: Pool | PoolClient, schema: string, table: string, start?: string | null, end?: string | null): Promise<{ start: string | null; end: string | null }> {
  if (!start) {
    if (end) throw new LayerPublishError('a temporal end property needs a temporal property (--temporal)');
    return { start: null, end: null };
  }
  const { rows } = await pool.query<{ name: string; pg_type: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS pg_type
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY($3::text[])`,
    [schema, table, end ? [start, end] : [start]],
  );
  for (const name of end ? [start, end] : [start]) {
    const col = rows.find((r) => r.name === name);
    if (!col) throw new LayerPublishError(`${schema}.${table} has no column ${name}`);
    if (!TEMPORAL_KINDS.includes(kindOf(col.pg_type))) throw new LayerPublishError(`column ${name} of ${schema}.${table} is ${col.pg_type}; a temporal property must be a date or timestamp column`);
  }
  if (end === start) throw new LayerPublishError('the temporal end property must differ from the temporal property');
  return { start, end: end ?? null };
}

/**
 * Declare (or clear) the temporal property of a published layer, after checking its columns. Returns whether
 * anything changed (the layer's updated_at moves then).
 */
export async function setLayerTemporal(pool: Pool, name: string, start: string | null, end: string | null = null): Promise<boolean> {
  const { rows } = await pool.query<{ table_schema: string; table_name: string }>(`SELECT table_schema, table_name FROM sdi.layers WHERE name = $1`, [name]);
  if (!rows[0]) throw new LayerPublishError(`no layer ${name}`);
  const t = await checkTemporalProperty(pool, rows[0].table_schema, rows[0].table_name, start, end);
  const r = await pool.query(
    `UPDATE sdi.layers SET temporal_property = $2, temporal_end_property = $3, updated_at = now()
      WHERE name = $1 AND (temporal_property IS DISTINCT FROM $2 OR temporal_end_property IS DISTINCT FROM $3)`,
    [name, t.start, t.end],
  );
  return (r.rowCount ?? 0) > 0;
}
