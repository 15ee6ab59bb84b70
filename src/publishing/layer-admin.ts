/**
 * Layer administration (issue 10): publish a table as a layer after checking it, edit a layer's metadata, unpublish,
 * publish again, delete (the table kept or dropped). The admin API (services/admin/layers.ts) and the CLI
 * (app/cli.ts) call these functions: one code path. Every change is one transaction on sdi.layers (its trigger
 * bumps the registry revision, so every serving process reloads its catalogue on its next request), then the
 * catalogue records are synced: a withdrawn layer's generated record is removed, an edited one rewritten.
 */
import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import type { Config } from '../config/index.js';
import { quoteIdent } from '../db/identifiers.js';
import { checkTemporalProperty, LayerPublishError } from '../catalog/layers.js';
import { checkFeatureTable, checkIdColumn, LayerAdminError, tableFacts, type TableFacts } from '../catalog/layer-checks.js';
import { syncLayerRecords } from './index.js';
import { queueAreaIndex } from './area-index-job.js';
import { abandonIndexBuilds } from '../import/index-builds.js';
import { INSPIRE_THEMES, TOPIC_CATEGORIES, type Party } from '../metadata/layer-metadata.js';
import { parseRecord } from '../metadata/store.js';
import { deleteHandRecord, managedRecord, recordColumnOf, setManagedBy, upsertRecord } from '../records/repository.js';
import { stampOf, withdrawnManagedBy } from '../metadata/layer-records.js';
import { withdrawnRecordXml } from '../metadata/withdrawn-record.js';
import { MetadataError } from '../records/record.js';

export { LayerAdminError };

/** What an administrator may set on a layer (every member optional in a PATCH). */
export interface LayerMetadataInput {
  title?: string;
  abstract?: string;
  keywords?: string[];
  topicCategories?: string[];
  inspireThemes?: string[];
  licence?: string | null;
  producer?: Party | null;
  contact?: Party | null;
  defaultCrs?: number;
  offeredCrs?: number[] | null;
  idColumn?: string;
  attributeAliases?: Record<string, string>;
  recordFrozen?: boolean;
}

export interface PublishInput extends LayerMetadataInput {
  name: string;
  schema: string;
  table: string;
  geometryColumn?: string;
  temporalProperty?: string | null;
  temporalEndProperty?: string | null;
}

/** A layer as the administrator sees it: its registry row, published or not. */
export interface AdminLayer {
  name: string;
  kind: 'feature';
  published: boolean;
  table: string;
  idColumn: string;
  geometryColumn: string | null;
  title: string;
  abstract: string;
  keywords: string[];
  topicCategories: string[];
  inspireThemes: string[];
  licence: string | null;
  producer: Party | null;
  contact: Party | null;
  defaultCrs: number;
  offeredCrs: number[] | null;
  attributeAliases: Record<string, string>;
  temporalProperty: string | null;
  temporalEndProperty: string | null;
  recordFrozen: boolean;
  metadataIdentifier: string | null;
  createdAt: string;
  updatedAt: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/;
const EMAIL = /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/;

const SELECT = `
  SELECT l.name, l.published, l.table_schema, l.table_name, l.id_column, l.geometry_column, l.title, l.abstract, l.keywords,
         l.topic_categories, l.inspire_themes, l.licence, l.producer, l.contact, l.default_crs, l.other_crs, l.attribute_aliases,
         l.temporal_property, l.temporal_end_property, l.record_frozen, ${recordColumnOf('l.metadata_record_id', 'identifier')} AS metadata_identifier, l.created_at, l.updated_at
    FROM sdi.layers l
   WHERE l.kind = 'feature'`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function fromRow(r: any): AdminLayer {
  return {
    name: r.name, kind: 'feature', published: r.published, table: `${r.table_schema}.${r.table_name}`, idColumn: r.id_column,
    geometryColumn: r.geometry_column, title: r.title, abstract: r.abstract, keywords: r.keywords, topicCategories: r.topic_categories,
    inspireThemes: r.inspire_themes, licence: r.licence, producer: r.producer, contact: r.contact, defaultCrs: r.default_crs,
    offeredCrs: r.other_crs, attributeAliases: r.attribute_aliases ?? {}, temporalProperty: r.temporal_property,
    temporalEndProperty: r.temporal_end_property, recordFrozen: r.record_frozen, metadataIdentifier: r.metadata_identifier,
    createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString(),
  };
}

/** A raster layer as the administrator sees it (sdi.raster_layers, migration 0006): its file's facts are read-only. */
export interface AdminRasterLayer {
  name: string;
  kind: 'raster';
  published: boolean;
  file: string;
  srid: number;
  width: number;
  height: number;
  bands: number;
  title: string;
  abstract: string;
  keywords: string[];
  topicCategories: string[];
  inspireThemes: string[];
  licence: string | null;
  producer: Party | null;
  contact: Party | null;
  metadataIdentifier: string | null;
  createdAt: string;
  updatedAt: string;
}

const RASTER_SELECT = `
  SELECT r.name, r.published, r.file_path, r.srid, r.width, r.height, r.bands, r.title, r.abstract, r.keywords, r.topic_categories,
         r.inspire_themes, r.licence, r.producer, r.contact, ${recordColumnOf('r.metadata_record_id', 'identifier')} AS metadata_identifier, r.created_at, r.updated_at
    FROM sdi.raster_layers r`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function fromRasterRow(r: any): AdminRasterLayer {
  return {
    name: r.name, kind: 'raster', published: r.published, file: r.file_path, srid: r.srid, width: r.width, height: r.height, bands: r.bands,
    title: r.title, abstract: r.abstract, keywords: r.keywords, topicCategories: r.topic_categories, inspireThemes: r.inspire_themes,
    licence: r.licence, producer: r.producer, contact: r.contact, metadataIdentifier: r.metadata_identifier,
    createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString(),
  };
}

/** Every layer, vector then raster, published or not. */
export async function listAdminLayers(db: Pool | PoolClient): Promise<Array<AdminLayer | AdminRasterLayer>> {
  const vectors = (await db.query(`${SELECT} ORDER BY l.name`)).rows.map(fromRow);
  const rasters = (await db.query(`${RASTER_SELECT} ORDER BY r.name`)).rows.map(fromRasterRow);
  return [...vectors, ...rasters];
}

export async function getAdminLayer(db: Pool | PoolClient, name: string): Promise<AdminLayer | AdminRasterLayer> {
  const r = (await db.query(`${SELECT} AND l.name = $1`, [name])).rows[0];
  if (r) return fromRow(r);
  const raster = (await db.query(`${RASTER_SELECT} WHERE r.name = $1`, [name])).rows[0];
  if (!raster) throw new LayerAdminError(404, 'not-found', `No layer ${name.slice(0, 80)}`, 'name');
  return fromRasterRow(raster);
}

/** What a raster layer's PATCH may set (its grid, CRS and columns come from the file). */
const RASTER_FIELDS = ['title', 'abstract', 'keywords', 'topicCategories', 'inspireThemes', 'licence', 'producer', 'contact'];

async function isRaster(db: Pool | PoolClient, name: string): Promise<boolean> {
  const vector = (await db.query(`SELECT 1 FROM sdi.layers WHERE name = $1`, [name])).rowCount;
  return !vector && Boolean((await db.query(`SELECT 1 FROM sdi.raster_layers WHERE name = $1`, [name])).rowCount);
}

// ---------------------------------------------------------------------------------------------- checks

async function checkCrs(db: Pool | PoolClient, codes: number[], field: string): Promise<void> {
  for (const c of codes) if (!Number.isInteger(c) || c <= 0) throw new LayerAdminError(400, 'invalid-parameter', `${field}: EPSG codes are positive integers`, field);
  const { rows } = await db.query<{ srid: number }>(`SELECT srid FROM spatial_ref_sys WHERE srid = ANY($1::int[]) AND auth_name = 'EPSG'`, [codes]);
  const unknown = codes.filter((c) => !rows.some((r) => r.srid === c));
  if (unknown.length) throw new LayerAdminError(422, 'unknown-crs', `${field}: unknown EPSG code ${unknown.join(', ')}`, field);
}

function text(v: unknown, field: string, max: number, allowEmpty = true): string {
  if (typeof v !== 'string') throw new LayerAdminError(400, 'invalid-parameter', `${field} must be a string`, field);
  const t = v.trim();
  if (!allowEmpty && !t) throw new LayerAdminError(400, 'invalid-parameter', `${field} must not be empty`, field);
  if (t.length > max) throw new LayerAdminError(400, 'invalid-parameter', `${field} is longer than ${max} characters`, field);
  return t;
}

function list(v: unknown, field: string, allowed?: readonly string[]): string[] {
  if (!Array.isArray(v)) throw new LayerAdminError(400, 'invalid-parameter', `${field} must be an array of strings`, field);
  const out = [...new Set(v.map((k, i) => text(k, `${field}/${i}`, 200, false)))];
  if (out.length > 100) throw new LayerAdminError(400, 'invalid-parameter', `${field}: at most 100 values`, field);
  const bad = allowed ? out.filter((k) => !allowed.includes(k)) : [];
  if (bad.length) throw new LayerAdminError(400, 'invalid-parameter', `${field}: ${bad.join(', ').slice(0, 100)} not in ${allowed!.join(', ')}`, field);
  return out;
}

function party(v: unknown, field: string): Party | null {
  if (v === null) return null;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new LayerAdminError(400, 'invalid-parameter', `${field} must be an object {organisation, individual?, email?, url?}`, field);
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => !['organisation', 'individual', 'email', 'url'].includes(k));
  if (extra.length) throw new LayerAdminError(400, 'invalid-parameter', `${field}: unknown member ${extra[0]!.slice(0, 40)}`, `${field}/${extra[0]!.slice(0, 40)}`);
  const p: Party = { organisation: text(o.organisation, `${field}/organisation`, 300, false) };
  if (o.individual !== undefined) p.individual = text(o.individual, `${field}/individual`, 300);
  if (o.email !== undefined) {
    p.email = text(o.email, `${field}/email`, 300);
    if (!EMAIL.test(p.email)) throw new LayerAdminError(400, 'invalid-parameter', `${field}/email is not an e-mail address`, `${field}/email`);
  }
  if (o.url !== undefined) {
    p.url = text(o.url, `${field}/url`, 1000);
    if (!/^https?:\/\/[^\s/]+/.test(p.url)) throw new LayerAdminError(400, 'invalid-parameter', `${field}/url is not an http(s) URL`, `${field}/url`);
  }
  return p;
}

const METADATA_FIELDS = ['title', 'abstract', 'keywords', 'topicCategories', 'inspireThemes', 'licence', 'producer', 'contact', 'defaultCrs', 'offeredCrs', 'idColumn', 'attributeAliases', 'recordFrozen'];

/** Column assignments of sdi.layers for the metadata given, checked against the table. */
async function metadataColumns(db: Pool | PoolClient, schema: string, table: string, facts: TableFacts, idColumn: string, geometryColumn: string | null, m: LayerMetadataInput): Promise<Record<string, unknown>> {
  const set: Record<string, unknown> = {};
  if (m.title !== undefined) set.title = text(m.title, 'title', 500, false);
  if (m.abstract !== undefined) set.abstract = text(m.abstract, 'abstract', 20_000);
  if (m.keywords !== undefined) set.keywords = list(m.keywords, 'keywords');
  if (m.topicCategories !== undefined) set.topic_categories = list(m.topicCategories, 'topicCategories', TOPIC_CATEGORIES);
  if (m.inspireThemes !== undefined) set.inspire_themes = list(m.inspireThemes, 'inspireThemes', Object.keys(INSPIRE_THEMES));
  if (m.licence !== undefined) set.licence = m.licence === null ? null : text(m.licence, 'licence', 1000, false);
  if (m.producer !== undefined) set.producer = party(m.producer, 'producer');
  if (m.contact !== undefined) set.contact = party(m.contact, 'contact');
  if (m.recordFrozen !== undefined) {
    if (typeof m.recordFrozen !== 'boolean') throw new LayerAdminError(400, 'invalid-parameter', 'recordFrozen must be true or false', 'recordFrozen');
    set.record_frozen = m.recordFrozen;
  }
  if (m.defaultCrs !== undefined) {
    await checkCrs(db, [m.defaultCrs], 'defaultCrs');
    set.default_crs = m.defaultCrs;
  }
  if (m.offeredCrs !== undefined) {
    if (m.offeredCrs !== null && (!Array.isArray(m.offeredCrs) || m.offeredCrs.length > 100)) throw new LayerAdminError(400, 'invalid-parameter', 'offeredCrs must be an array of EPSG codes (at most 100) or null (the platform list)', 'offeredCrs');
    if (m.offeredCrs) await checkCrs(db, m.offeredCrs, 'offeredCrs');
    set.other_crs = m.offeredCrs ? [...new Set(m.offeredCrs)] : null;
  }
  if (m.idColumn !== undefined) {
    await checkIdColumn(db, schema, table, facts, text(m.idColumn, 'idColumn', 63, false));
    set.id_column = m.idColumn;
  }
  if (m.attributeAliases !== undefined) {
    const a = m.attributeAliases;
    if (!a || typeof a !== 'object' || Array.isArray(a)) throw new LayerAdminError(400, 'invalid-parameter', 'attributeAliases must be an object {column: label}', 'attributeAliases');
    const out: Record<string, string> = {};
    for (const [col, label] of Object.entries(a)) {
      if (!facts.columns.has(col) || col === geometryColumn) throw new LayerAdminError(422, 'unknown-property', `${schema}.${table} has no attribute ${col.slice(0, 63)}`, `attributeAliases/${col.slice(0, 63)}`);
      out[col] = text(label, `attributeAliases/${col}`, 200, false);
    }
    set.attribute_aliases = out;
  }
  void idColumn;
  return set;
}

function refuseUnknown(body: Record<string, unknown>, allowed: string[]): void {
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  if (extra.length) throw new LayerAdminError(400, 'invalid-parameter', `Unknown member ${extra[0]!.slice(0, 60)} (allowed: ${allowed.join(', ')})`, extra[0]!.slice(0, 60));
}

const update = async (c: PoolClient, name: string, set: Record<string, unknown>): Promise<void> => {
  const cols = Object.keys(set);
  if (!cols.length) return;
  const assignments = cols.map((k, i) => `${quoteIdent(k)} = $${i + 2}${k === 'producer' || k === 'contact' || k === 'attribute_aliases' ? '::jsonb' : ''}`);
  const values = cols.map((k) => (k === 'producer' || k === 'contact' || k === 'attribute_aliases') && set[k] !== null ? JSON.stringify(set[k]) : set[k]);
  await c.query(`UPDATE sdi.layers SET ${assignments.join(', ')}, updated_at = now() WHERE name = $1`, [name, ...values]);
};

// ---------------------------------------------------------------------------------------------- operations

/** Edit a layer's metadata (a PATCH: members absent are left as they are). */
export async function updateLayerMetadata(pool: Pool, config: Config, name: string, patch: LayerMetadataInput): Promise<AdminLayer | AdminRasterLayer> {
  if (await isRaster(pool, name)) {
    refuseUnknown(patch as Record<string, unknown>, RASTER_FIELDS);
    await withTransaction(pool, async (c) => {
      const noTable: TableFacts = { kind: 'table', columns: new Map(), geometries: [] };
      const set = await metadataColumns(c, '', '', noTable, '', null, patch);
      const cols = Object.keys(set);
      if (!cols.length) return;
      const json = (k: string) => k === 'producer' || k === 'contact';
      await c.query(
        `UPDATE sdi.raster_layers SET ${cols.map((k, i) => `${quoteIdent(k)} = $${i + 2}${json(k) ? '::jsonb' : ''}`).join(', ')}, updated_at = now() WHERE name = $1`,
        [name, ...cols.map((k) => (json(k) && set[k] !== null ? JSON.stringify(set[k]) : set[k]))],
      );
    });
    await syncLayerRecords(pool, config);
    return getAdminLayer(pool, name);
  }
  refuseUnknown(patch as Record<string, unknown>, METADATA_FIELDS);
  await withTransaction(pool, async (c) => {
    const row = (await c.query<{ table_schema: string; table_name: string; id_column: string; geometry_column: string | null }>(
      `SELECT table_schema, table_name, id_column, geometry_column FROM sdi.layers WHERE name = $1 AND kind = 'feature' FOR UPDATE`, [name])).rows[0];
    if (!row) throw new LayerAdminError(404, 'not-found', `No layer ${name.slice(0, 80)}`, 'name');
    const facts = await tableFacts(c, row.table_schema, row.table_name);
    await update(c, name, await metadataColumns(c, row.table_schema, row.table_name, facts, row.id_column, row.geometry_column, patch));
  });
  await syncLayerRecords(pool, config);
  return getAdminLayer(pool, name);
}

/**
 * Publish a table or view as a layer (or update the registration of an existing layer of that name), after
 * checking it: a geometry column present, an id column unique and never NULL (the table's single-column key
 * when none is named). Refused when the name is another table's layer.
 */
export async function publishTable(pool: Pool, config: Config, input: PublishInput): Promise<AdminLayer> {
  const { name, schema, table, geometryColumn, temporalProperty, temporalEndProperty, ...metadata } = input;
  refuseUnknown(metadata as Record<string, unknown>, METADATA_FIELDS);
  if (typeof name !== 'string' || !NAME.test(name)) throw new LayerAdminError(400, 'invalid-parameter', 'A layer name is 1 to 63 of A-Z a-z 0-9 _ . - starting with a letter or _', 'name');
  let published: { geom: string } | undefined;
  await withTransaction(pool, async (c) => {
    const { geometryColumn: geom, idColumn, facts } = await checkFeatureTable(c, schema, table, geometryColumn, metadata.idColumn);
    const other = (await c.query<{ name: string }>(`SELECT name FROM sdi.layers WHERE table_schema = $1 AND table_name = $2 AND name <> $3`, [schema, table, name])).rows[0];
    if (other) throw new LayerAdminError(409, 'conflict', `${schema}.${table} is already published as layer ${other.name}`, 'table');
    const existing = (await c.query<{ table_schema: string; table_name: string; kind: string }>(`SELECT table_schema, table_name, kind FROM sdi.layers WHERE name = $1 FOR UPDATE`, [name])).rows[0];
    if (existing && existing.kind !== 'feature') throw new LayerAdminError(409, 'conflict', `${name} is a ${existing.kind} layer`, 'name');
    const raster = (await c.query(`SELECT 1 FROM sdi.raster_layers WHERE name = $1`, [name])).rowCount;
    if (raster) throw new LayerAdminError(409, 'conflict', `${name} is already the name of a raster layer`, 'name');
    let temporal;
    try {
      temporal = await checkTemporalProperty(c, schema, table, temporalProperty, temporalEndProperty);
    } catch (e) {
      if (e instanceof LayerPublishError) throw new LayerAdminError(422, 'bad-temporal-property', e.message, 'temporalProperty');
      throw e;
    }
    const title = metadata.title ?? (existing ? undefined : name);
    await c.query(
      `INSERT INTO sdi.layers (name, table_schema, table_name, id_column, geometry_column, title, published, temporal_property, temporal_end_property)
       VALUES ($1, $2, $3, $4, $5, $6, true, $7, $8)
       ON CONFLICT (name) DO UPDATE SET table_schema = EXCLUDED.table_schema, table_name = EXCLUDED.table_name, id_column = EXCLUDED.id_column,
         geometry_column = EXCLUDED.geometry_column, published = true, temporal_property = EXCLUDED.temporal_property,
         temporal_end_property = EXCLUDED.temporal_end_property, updated_at = now()`,
      [name, schema, table, idColumn, geom, title ?? name, temporal.start, temporal.end],
    );
    await update(c, name, await metadataColumns(c, schema, table, facts, idColumn, geom, { ...metadata, idColumn: undefined, title }));
    published = { geom };
  });
  // A polygon table gets the vector tiles' GiST (geom, ST_Area(geom)) in the background, as imported layers do
  // (src/publishing/area-index-job.ts; not for views, nor tables the platform's role does not own). The layer is
  // published (committed) whatever happens here: a failed queueing is redone by the job workers' start sweep.
  await queueAreaIndex(pool, schema, table, published!.geom).catch(() => undefined);
  await syncLayerRecords(pool, config);
  return (await getAdminLayer(pool, name)) as AdminLayer;
}

/**
 * Withdraw a layer from every service (published = false; its generated record is removed from the catalogue),
 * or publish it again after checking that its table still fits (geometry, id column).
 */
export async function setLayerPublished(pool: Pool, config: Config, name: string, published: boolean, opts: { record?: RecordFate } = {}): Promise<AdminLayer | AdminRasterLayer> {
  if (await isRaster(pool, name)) {
    if (opts.record === 'keep-withdrawn') throw new LayerAdminError(400, 'invalid-parameter', `${name} is a raster layer: record=keep-withdrawn is for vector layers`, 'record');
    await pool.query(`UPDATE sdi.raster_layers SET published = $2, updated_at = now() WHERE name = $1 AND published IS DISTINCT FROM $2`, [name, published]);
    await syncLayerRecords(pool, config);
    return getAdminLayer(pool, name);
  }
  await withTransaction(pool, async (c) => {
    const row = (await c.query<{ table_schema: string; table_name: string; id_column: string; geometry_column: string | null }>(
      `SELECT table_schema, table_name, id_column, geometry_column FROM sdi.layers WHERE name = $1 AND kind = 'feature' FOR UPDATE`, [name])).rows[0];
    if (!row) throw new LayerAdminError(404, 'not-found', `No layer ${name.slice(0, 80)}`, 'name');
    if (published) {
      const facts = await tableFacts(c, row.table_schema, row.table_name);
      if (!facts.geometries.length || (row.geometry_column && !facts.geometries.includes(row.geometry_column))) {
        throw new LayerAdminError(422, 'no-geometry', `${row.table_schema}.${row.table_name} has no geometry column ${row.geometry_column ?? ''}`.trim(), 'table');
      }
      await checkIdColumn(c, row.table_schema, row.table_name, facts, row.id_column);
    }
    if (!published && opts.record === 'keep-withdrawn') await keepRecordWithdrawn(c, name);
    await c.query(`UPDATE sdi.layers SET published = $2, updated_at = now() WHERE name = $1 AND published IS DISTINCT FROM $2`, [name, published]);
  });
  await syncLayerRecords(pool, config);
  return getAdminLayer(pool, name);
}

/**
 * What becomes of a layer's record when it is deleted or unpublished: `withdraw` (default) removes the generated
 * record from the catalogue; `keep-withdrawn` keeps it there, marked obsolete and without links
 * (src/metadata/withdrawn-record.ts), until the layer is published again.
 */
export type RecordFate = 'withdraw' | 'keep-withdrawn';
export const RECORD_FATES: readonly RecordFate[] = ['withdraw', 'keep-withdrawn'];

/** Mark the layer's record withdrawn in the caller's transaction (the sync then leaves it alone); its identifier. */
async function keepRecordWithdrawn(c: PoolClient, name: string): Promise<string> {
  const row = (await c.query<{ metadata_record_id: number | null }>(`SELECT metadata_record_id FROM sdi.layers WHERE name = $1 AND kind = 'feature' FOR UPDATE`, [name])).rows[0];
  if (!row) throw new LayerAdminError(404, 'not-found', `No layer ${name.slice(0, 80)}`, 'name');
  const rec = row.metadata_record_id === null ? undefined : await managedRecord(c, { id: row.metadata_record_id });
  if (!rec) throw new LayerAdminError(409, 'no-record', `Layer ${name.slice(0, 80)} has no record to keep (it is not published)`, 'record');
  let record;
  try {
    record = parseRecord(withdrawnRecordXml(rec.document, stampOf(new Date())));
  } catch (e) {
    if (e instanceof MetadataError) throw new LayerAdminError(422, 'invalid-record', `The layer's record cannot be marked withdrawn: ${e.message.slice(0, 200)}`, 'record');
    throw e;
  }
  await upsertRecord(c, record, { force: true });
  await setManagedBy(c, { id: rec.id }, withdrawnManagedBy(name));
  return rec.identifier;
}

/** Delete a layer (its styles go with it, its generated record is withdrawn or kept marked withdrawn); its table is dropped on request. */
export async function deleteLayer(pool: Pool, config: Config, name: string, opts: { dropTable?: boolean; record?: RecordFate } = {}): Promise<{ name: string; table?: string; file?: string; tableDropped: boolean; record?: string }> {
  if (await isRaster(pool, name)) {
    if (opts.record === 'keep-withdrawn') throw new LayerAdminError(400, 'invalid-parameter', `${name} is a raster layer: record=keep-withdrawn is for vector layers`, 'record');
    // The file stays where it is: the platform did not make it.
    if (opts.dropTable) throw new LayerAdminError(400, 'invalid-parameter', `${name} is a raster layer: it has no table to drop (its file is kept)`, 'dropTable');
    const { rows } = await pool.query<{ file_path: string }>(`DELETE FROM sdi.raster_layers WHERE name = $1 RETURNING file_path`, [name]);
    await syncLayerRecords(pool, config);
    return { name, file: rows[0]!.file_path, tableDropped: false };
  }
  const out = await withTransaction(pool, async (c) => {
    const kept = opts.record === 'keep-withdrawn' ? await keepRecordWithdrawn(c, name) : undefined;
    const row = (await c.query<{ table_schema: string; table_name: string }>(`DELETE FROM sdi.layers WHERE name = $1 AND kind = 'feature' RETURNING table_schema, table_name`, [name])).rows[0];
    if (!row) throw new LayerAdminError(404, 'not-found', `No layer ${name.slice(0, 80)}`, 'name');
    let dropped = false;
    if (opts.dropTable) {
      const rel = (await c.query<{ relkind: string }>(
        `SELECT c.relkind::text AS relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`, [row.table_schema, row.table_name])).rows[0];
      if (rel) {
        // A running build of its area index is cancelled, not waited for (src/import/index-builds.ts).
        if (rel.relkind === 'r') await abandonIndexBuilds(c, row.table_schema, row.table_name, 30_000);
        const what = rel.relkind === 'v' ? 'VIEW' : rel.relkind === 'm' ? 'MATERIALIZED VIEW' : rel.relkind === 'f' ? 'FOREIGN TABLE' : 'TABLE';
        // No CASCADE: a view or another object built on the table makes the delete fail whole (nothing dropped).
        await c.query(`DROP ${what} ${quoteIdent(row.table_schema)}.${quoteIdent(row.table_name)}`);
        dropped = true;
      }
    }
    return { name, table: `${row.table_schema}.${row.table_name}`, tableDropped: dropped, ...(kept ? { record: kept } : {}) };
  }).catch((e: unknown) => {
    if ((e as { code?: string }).code === '2BP01') throw new LayerAdminError(409, 'conflict', 'Other objects depend on the table (views…): drop them first or keep the table', 'dropTable');
    throw e;
  });
  await syncLayerRecords(pool, config);
  return out;
}

// ---------------------------------------------------------------------------------------------- the layer's record

/** The ISO 19139 record of a published layer as the catalogue serves it, and whether a person wrote it. */
export async function getLayerRecord(db: Pool | PoolClient, name: string): Promise<{ identifier: string; document: string; generated: boolean; frozen: boolean }> {
  const { rows } = await db.query<{ identifier: string | null; document: string | null; managed_by: string | null; record_frozen: boolean }>(
    `SELECT ${recordColumnOf('l.metadata_record_id', 'identifier')} AS identifier, ${recordColumnOf('l.metadata_record_id', 'document')} AS document,
            ${recordColumnOf('l.metadata_record_id', 'managed_by')} AS managed_by, l.record_frozen
       FROM sdi.layers l WHERE l.name = $1 AND l.kind = 'feature'`, [name]);
  if (!rows[0]) throw new LayerAdminError(404, 'not-found', `No layer ${name.slice(0, 80)}`, 'name');
  if (!rows[0].identifier) throw new LayerAdminError(404, 'no-record', `Layer ${name.slice(0, 80)} has no record (it is not published)`, 'name');
  return { identifier: rows[0].identifier, document: rows[0].document!, generated: rows[0].managed_by !== null, frozen: rows[0].record_frozen };
}

/**
 * Replace a layer's record by an ISO 19139 document written by a person (the API's equivalent of a CSW-T
 * Update): its fileIdentifier must be the layer's record's. It then keeps following the layer's facts unless the
 * layer's record is frozen (recordFrozen), and its title and abstract become the layer's.
 */
export async function putLayerRecord(pool: Pool, config: Config, name: string, xml: string): Promise<{ identifier: string; document: string; generated: boolean; frozen: boolean }> {
  const current = await getLayerRecord(pool, name);
  let record;
  try {
    record = parseRecord(xml);
  } catch (e) {
    if (e instanceof MetadataError) throw new LayerAdminError(400, 'invalid-record', e.message.slice(0, 300), 'body');
    throw e;
  }
  if (record.schema !== 'iso19139') throw new LayerAdminError(422, 'invalid-record', 'A layer record is an ISO 19139 document (gmd:MD_Metadata)', 'body');
  if (record.identifier !== current.identifier) throw new LayerAdminError(422, 'wrong-identifier', `The record's fileIdentifier must be the layer's: ${current.identifier}`, 'body');
  await withTransaction(pool, async (c) => {
    await upsertRecord(c, record, { force: true });
    // Hand edits win over the generated record (as a CSW-T Update does).
    await setManagedBy(c, { identifier: record.identifier }, null);
  });
  await syncLayerRecords(pool, config);
  return getLayerRecord(pool, name);
}

/** Give a layer back its generated record (the person's one is removed). */
export async function resetLayerRecord(pool: Pool, config: Config, name: string): Promise<{ identifier: string; document: string; generated: boolean; frozen: boolean }> {
  const current = await getLayerRecord(pool, name);
  if (!current.generated) await deleteHandRecord(pool, current.identifier);
  await syncLayerRecords(pool, config);
  return getLayerRecord(pool, name);
}
