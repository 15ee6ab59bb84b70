/**
 * Editing features (issue 11): the one place where WFS-T Transaction and OGC API Features Part 4 change a
 * layer's table. Protocol code reads its request into EditOperations; this module checks them and applies them
 * all in one database transaction, or none:
 *
 * - the caller must hold the edit right on each layer (policy.decide(caller, layer, 'edit')): 401 when
 *   anonymous, 403 otherwise;
 * - properties must be attribute columns of the layer, values of their kind; the geometry must be of the
 *   layer's geometry type (a single part is made multi for a MULTI* layer), valid, and is reprojected from its
 *   srsName to the layer's SRID;
 * - under a territorial grant, every feature an Update or Delete selects must lie in the territory before the
 *   edit (rows are locked, then checked), and every inserted or updated feature after it (the same predicate as
 *   reads: the geometry intersects the territory); otherwise the whole transaction is rolled back (403);
 * - on success the layer's publication row is touched (sdi.layers.updated_at), which moves the tile cache's
 *   revision (src/tiles/revision.ts) and the layer catalogue's revision (sdi.layers_revision).
 *
 * All SQL is parameterised; identifiers come from the catalogue only (quoteIdent).
 */
import type { Pool, PoolClient } from '../db/pool.js';
import type { Layer, LayerColumn } from '../catalog/layers.js';
import type { AccessDecision, AccessPolicy, Principal } from '../access/policy.js';
import type { Filter, GeometryLiteral } from '../filter/ast.js';
import type { CrsRegistry } from '../crs/registry.js';
import { compileFilter, checkLiteralSize } from '../filter/compile-sql.js';
import { PositionalBinder, type SqlParams } from '../db/sql.js';
import { quoteIdent, resolveProperty } from '../db/identifiers.js';
import { OgcError, fromDatabaseError } from '../ogc/errors.js';
import { refusalStatus } from '../query/planner.js';

export type EditValue = string | number | boolean | null | Record<string, unknown> | unknown[];

export interface FeatureValues {
  /** Attribute values by property name as the client wrote it (prefix allowed). */
  properties: Record<string, EditValue>;
  /** undefined: not given (unchanged on update); null: no geometry. */
  geometry?: GeometryLiteral | null;
}

export type EditOperation =
  | { op: 'insert'; layer: Layer; values: FeatureValues; /** Used only when the id column has no default. */ id?: string }
  | { op: 'update'; layer: Layer; filter: Filter; values: FeatureValues; /** Replace: properties not given become NULL. */ replace?: boolean }
  | { op: 'delete'; layer: Layer; filter: Filter };

export interface EditedFeature {
  layer: string;
  id: string;
}

export interface EditOutcome {
  inserted: EditedFeature[];
  updated: EditedFeature[];
  deleted: EditedFeature[];
}

export interface EditEnv {
  pool: Pool;
  policy: AccessPolicy;
  crs: CrsRegistry;
  statementTimeoutMs: number;
}

/** Locators of errors, named by each protocol its own way (WFS: Insert/Update/Delete; OGC API: body). */
export interface EditLocators {
  layer: string;
  property: string;
  geometry: string;
  filter: string;
}

const TERRITORY = 'The edit would touch features outside your territory; nothing was changed';

/** Apply the operations in one transaction; throws OgcError (nothing changed) on any refusal. */
export async function applyEdits(env: EditEnv, caller: Principal, ops: EditOperation[], loc: EditLocators): Promise<EditOutcome> {
  // Every right and every value is checked before a connection is taken.
  const decisions = new Map<string, AccessDecision>();
  for (const o of ops) {
    if (!decisions.has(o.layer.name)) {
      const d = env.policy.decide(caller, o.layer, 'edit');
      if (!d.allowed) throw new OgcError('NoApplicableCode', `You may not edit layer ${o.layer.name}`, loc.layer, refusalStatus(caller));
      decisions.set(o.layer.name, d);
    }
    if (o.op !== 'delete') checkValues(o.layer, o.values, loc);
  }
  const outcome: EditOutcome = { inserted: [], updated: [], deleted: [] };
  if (ops.length === 0) return outcome;
  const client = await env.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(env.statementTimeoutMs))}`);
    for (const o of ops) {
      const access = decisions.get(o.layer.name)!;
      if (o.op === 'insert') outcome.inserted.push(await insert(env, client, o.layer, o.values, o.id, access, loc));
      else {
        const ids = await lockSelected(env, client, o.layer, o.filter, access, loc);
        if (ids.length === 0) continue;
        if (o.op === 'update') outcome.updated.push(...(await update(env, client, o.layer, ids, o.values, o.replace === true, access, loc)));
        else outcome.deleted.push(...(await remove(env, client, o.layer, ids)));
      }
    }
    const touched = [...new Set([...outcome.inserted, ...outcome.updated, ...outcome.deleted].map((f) => f.layer))];
    if (touched.length) await client.query('UPDATE sdi.layers SET updated_at = now() WHERE name = ANY($1::text[])', [touched]);
    await client.query('COMMIT');
    return outcome;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw editError(e, loc);
  } finally {
    client.release();
  }
}

const table = (l: Layer) => `${quoteIdent(l.schema)}.${quoteIdent(l.table)}`;
const idText = (l: Layer) => `t.${quoteIdent(l.idColumn)}::text`;
const inside = (l: Layer, access: AccessDecision, params: SqlParams) => (access.restriction ? `COALESCE(${access.restriction(params, 't')}, false)` : 'true');
const validity = (l: Layer) => (l.geometry ? `COALESCE(ST_IsValid(t.${quoteIdent(l.geometry.column)}), true)` : 'true');

/** The features an Update or Delete selects, locked; refused when one lies outside the caller's territory. */
async function lockSelected(env: EditEnv, client: PoolClient, l: Layer, filter: Filter, access: AccessDecision, loc: EditLocators): Promise<string[]> {
  const params = new PositionalBinder();
  const where = compileFilter(filter, { layer: l, crs: env.crs, params, locator: loc.filter });
  const sql = `SELECT ${idText(l)} AS id, ${inside(l, access, params)} AS inside FROM ${table(l)} t WHERE ${where} FOR UPDATE OF t`;
  const { rows } = await client.query<{ id: string; inside: boolean }>(sql, params.values);
  if (rows.some((r) => !r.inside)) throw new OgcError('NoApplicableCode', TERRITORY, loc.filter, 403);
  return rows.map((r) => r.id);
}

async function insert(env: EditEnv, client: PoolClient, l: Layer, v: FeatureValues, id: string | undefined, access: AccessDecision, loc: EditLocators): Promise<EditedFeature> {
  const params = new PositionalBinder();
  const cols: string[] = [];
  const vals: string[] = [];
  if (id !== undefined && !(await hasDefault(client, l))) {
    cols.push(quoteIdent(l.idColumn));
    vals.push(params.add(id, l.idKind === 'integer' ? 'integer' : l.idKind === 'bigint' ? 'bigint' : 'text'));
  }
  for (const [c, value] of attributeValues(l, v, false)) {
    cols.push(quoteIdent(c.name));
    vals.push(valueSql(c, value, params));
  }
  if (l.geometry && v.geometry) {
    cols.push(quoteIdent(l.geometry.column));
    vals.push(geometrySql(l, v.geometry, params));
  }
  const body = cols.length ? `(${cols.join(', ')}) VALUES (${vals.join(', ')})` : 'DEFAULT VALUES';
  const sql = `INSERT INTO ${table(l)} AS t ${body} RETURNING ${idText(l)} AS id, ${inside(l, access, params)} AS inside, ${validity(l)} AS valid`;
  const { rows } = await client.query<{ id: string; inside: boolean; valid: boolean }>(sql, params.values);
  checkWritten(rows, loc);
  return { layer: l.name, id: rows[0]!.id };
}

async function update(env: EditEnv, client: PoolClient, l: Layer, ids: string[], v: FeatureValues, replace: boolean, access: AccessDecision, loc: EditLocators): Promise<EditedFeature[]> {
  const params = new PositionalBinder();
  const sets: string[] = [];
  for (const [c, value] of attributeValues(l, v, replace)) sets.push(`${quoteIdent(c.name)} = ${valueSql(c, value, params)}`);
  if (l.geometry && (v.geometry !== undefined || replace)) sets.push(`${quoteIdent(l.geometry.column)} = ${v.geometry ? geometrySql(l, v.geometry, params) : 'NULL'}`);
  if (sets.length === 0) return ids.map((id) => ({ layer: l.name, id }));
  const where = compileFilter({ kind: 'resourceId', ids }, { layer: l, crs: env.crs, params, locator: loc.filter });
  const sql = `UPDATE ${table(l)} AS t SET ${sets.join(', ')} WHERE ${where} RETURNING ${idText(l)} AS id, ${inside(l, access, params)} AS inside, ${validity(l)} AS valid`;
  const { rows } = await client.query<{ id: string; inside: boolean; valid: boolean }>(sql, params.values);
  checkWritten(rows, loc);
  return rows.map((r) => ({ layer: l.name, id: r.id }));
}

async function remove(env: EditEnv, client: PoolClient, l: Layer, ids: string[]): Promise<EditedFeature[]> {
  const params = new PositionalBinder();
  const where = compileFilter({ kind: 'resourceId', ids }, { layer: l, crs: env.crs, params, locator: 'Delete' });
  const { rows } = await client.query<{ id: string }>(`DELETE FROM ${table(l)} AS t WHERE ${where} RETURNING ${idText(l)} AS id`, params.values);
  return rows.map((r) => ({ layer: l.name, id: r.id }));
}

function checkWritten(rows: Array<{ inside: boolean; valid: boolean }>, loc: EditLocators): void {
  if (rows.some((r) => !r.valid)) throw new OgcError('InvalidParameterValue', 'The geometry is not valid (OGC simple features validity: self-intersection, unclosed ring…)', loc.geometry);
  if (rows.some((r) => !r.inside)) throw new OgcError('NoApplicableCode', TERRITORY, loc.geometry, 403);
}

/** Whether the id column is filled by the database (serial, identity, default). */
async function hasDefault(client: PoolClient, l: Layer): Promise<boolean> {
  const { rows } = await client.query<{ d: boolean }>(
    `SELECT (a.atthasdef OR a.attidentity <> '') AS d FROM pg_attribute a WHERE a.attrelid = to_regclass($1)::oid AND a.attname = $2`,
    [table(l), l.idColumn],
  );
  return rows[0]?.d === true;
}

/** The attribute columns to write and their values; with `all`, every attribute column (NULL when not given). */
function attributeValues(l: Layer, v: FeatureValues, all: boolean): Array<[LayerColumn, EditValue]> {
  const given = new Map<string, EditValue>();
  for (const [k, value] of Object.entries(v.properties)) given.set(resolveProperty(l, k)!, value);
  const out: Array<[LayerColumn, EditValue]> = [];
  for (const c of l.columns) if (given.has(c.name) || all) out.push([c, given.has(c.name) ? given.get(c.name)! : null]);
  return out;
}

function valueSql(c: LayerColumn, value: EditValue, params: SqlParams): string {
  if (value === null) return 'NULL';
  const v = typeof value === 'object' ? JSON.stringify(value) : String(value);
  // The cast is the column's own type as the catalogue prints it (format_type), never request text.
  return `${params.add(v)}::${c.pgType}`;
}

function geometrySql(l: Layer, g: GeometryLiteral, params: SqlParams): string {
  const target = l.geometry!.srid;
  let e = `ST_SetSRID(ST_GeomFromGeoJSON(${params.add(JSON.stringify(g.geojson), 'text')}), ${params.add(g.srid ?? target, 'integer')})`;
  if ((g.srid ?? target) !== target) e = `ST_Transform(${e}, ${params.add(target, 'integer')})`;
  return l.geometry!.type.toUpperCase().startsWith('MULTI') ? `ST_Multi(${e})` : e;
}

const SCALAR_OK: Record<string, (v: string) => boolean> = {
  integer: (v) => /^[-+]?\d{1,10}$/.test(v.trim()),
  bigint: (v) => /^[-+]?\d{1,19}$/.test(v.trim()),
  number: (v) => v.trim() !== '' && Number.isFinite(Number(v)),
  boolean: (v) => /^(true|false|1|0|t|f)$/i.test(v.trim()),
};

/** Properties are attribute columns with values of their kind; the geometry is of the layer's type. */
function checkValues(l: Layer, v: FeatureValues, loc: EditLocators): void {
  for (const [k, value] of Object.entries(v.properties)) {
    const name = resolveProperty(l, k);
    const c = l.columns.find((x) => x.name === name);
    if (!c) throw new OgcError('InvalidParameterValue', `Layer ${l.name} has no editable property '${k.slice(0, 80)}'`, loc.property);
    if (value === null) continue;
    const ok = SCALAR_OK[c.kind];
    if (ok && (typeof value === 'object' || !ok(String(value)))) throw new OgcError('InvalidParameterValue', `Property ${c.name} takes ${c.kind} values, not '${String(JSON.stringify(value)).slice(0, 40)}'`, loc.property);
    if (c.kind !== 'json' && c.kind !== 'other' && typeof value === 'object') throw new OgcError('InvalidParameterValue', `Property ${c.name} takes ${c.kind} values, not an object`, loc.property);
  }
  if (v.geometry === undefined || v.geometry === null) return;
  if (!l.geometry) throw new OgcError('InvalidParameterValue', `Layer ${l.name} has no geometry`, loc.geometry);
  checkLiteralSize(v.geometry, loc.geometry);
  const want = l.geometry.type.toUpperCase();
  const got = v.geometry.geojson.type.toUpperCase();
  if (want !== 'GEOMETRY' && want !== got && want !== `MULTI${got}`) throw new OgcError('InvalidParameterValue', `Layer ${l.name} holds ${want} geometries, not ${v.geometry.geojson.type}`, loc.geometry);
}

/** Database refusals of a value, in words (no SQL text); the rest as every service maps them. */
function editError(e: unknown, loc: EditLocators): unknown {
  if (e instanceof OgcError) return e;
  const err = e as { code?: string; column?: string };
  const code = err?.code ?? '';
  if (code === '23502') return new OgcError('InvalidParameterValue', `Property ${err.column ?? ''} needs a value`.replace('  ', ' '), loc.property);
  if (code === '23505') return new OgcError('InvalidParameterValue', 'A feature with this identifier or unique value already exists', loc.property);
  if (code.startsWith('23')) return new OgcError('InvalidParameterValue', 'A value breaks a rule of the layer (constraint)', loc.property);
  if (code.startsWith('22') || code === 'XX000') return new OgcError('InvalidParameterValue', 'A value does not fit the type of its property, or the geometry could not be read', loc.property);
  return fromDatabaseError(e, loc.filter);
}

/**
 * The audit line of an edit (issue 11, until an audit table exists, as services/admin/rights.ts does): who
 * changed which features of which layers, as one structured log line `audit: "edit"`.
 */
/** The layers an outcome changed (their records, extent and dateStamp, follow: src/publishing/after-edit.ts). */
export function editedLayers(ops: EditOperation[], outcome: EditOutcome): Layer[] {
  const names = new Set([...outcome.inserted, ...outcome.updated, ...outcome.deleted].map((f) => f.layer));
  return [...new Map(ops.filter((o) => names.has(o.layer.name)).map((o) => [o.layer.name, o.layer])).values()];
}

export function editAudit(caller: Principal, protocol: string, outcome: EditOutcome): Record<string, unknown> {
  const ids = (list: EditedFeature[]) => list.slice(0, 100).map((f) => `${f.layer}.${f.id}`);
  return { audit: 'edit', by: caller.login ?? null, protocol, inserted: ids(outcome.inserted), updated: ids(outcome.updated), deleted: ids(outcome.deleted) };
}
