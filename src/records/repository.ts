/**
 * The catalogue repository: every read and write of the stored metadata records goes through these functions
 * (CSW, DCAT, Atom, downloads, harvesting, the layer-record sync, the loaders). Their statements are in sql.ts;
 * the paging caches of searches (page-cache.ts) sit here, over the search, not in a protocol adapter.
 *
 * Every function takes the connection to run on (`Db`): the caller owns the transaction (a CSW request's
 * REPEATABLE READ snapshot, a CSW-T or harvest transaction, the sync's locked client).
 */
import type { QueryConfig } from 'pg';
import { withReadTransaction, type Pool, type PoolClient } from '../db/pool.js';
import type { PositionalBinder } from '../db/sql.js';
import type { MetadataRecord } from './record.js';
import { cachedCount, cachedPage, pageKey, queryKey, rememberCount, rememberPage, rememberResume, resumeAfter } from './page-cache.js';
import {
  byIdentifiersSql,
  countAndFewMatchesPageSql,
  countSql,
  deleteWhereSql,
  DOCUMENTS_PAGE_SQL,
  documentSql,
  estimateSql,
  EXTENT_SQL,
  domainValuesSql,
  FEW_MATCHES,
  fewMatchesPageSql,
  pageByIdentifiersSql,
  pageSql,
  readsSearchColumnsOnly,
  RECORDS_TABLE,
  SEARCH_TABLE,
  searchTablePageSql,
  recordRow,
  upsertParams,
  REVISION_SQL,
  SUMMARY_SQL,
  upsertStatement,
} from './sql.js';

export type Db = Pool | PoolClient;

/**
 * A read-only REPEATABLE READ transaction for a catalogue answer (a count and its page see one snapshot), with
 * the statement timeout and UTC as the session time zone (date literals without offset are read as UTC, like the
 * stored dates). CSW, DCAT and OGC API – Records answer inside one.
 */
export function withCatalogueSnapshot<T>(pool: Pool, statementTimeoutMs: number, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  return withReadTransaction(pool, statementTimeoutMs, fn, { timeZone: 'UTC' });
}

// ------------------------------------------------------------------------------------------------- search

/** A compiled search: predicate and order over the alias `r`, the predicate's values in `params`. */
export interface RecordQuery {
  where: string;
  params: PositionalBinder;
  order: string;
  /** Ordered by identifier alone: a page may start after the last identifier of the previous one. */
  identifierOrder: boolean;
}

export interface PageRequest {
  /** 1-based position of the first record. */
  startPosition: number;
  maxRecords: number;
  /** Select list over `r` (trusted text). */
  columns: string;
  /** Rows as the bytes PostgreSQL sends (binary result format, every column a Buffer): stored documents unparsed. */
  raw?: boolean;
}

/** Result columns in binary format handed over as Buffers (text and varchar are their UTF-8 bytes). */
const RAW_TYPES = { getTypeParser: () => (v: Buffer | string) => v };

/**
 * Count the records matching `q` and read one page of them (none when `page` is absent, maxRecords is 0 or the
 * start is past the end). With `cache`, the count and the page starts are remembered per catalogue revision
 * read in this very snapshot: any committed change moves the revision, so cached answers stay exact.
 */
export async function searchRecords<R extends { identifier: string | Buffer }>(db: Db, q: RecordQuery, page: PageRequest | undefined, options: { cache: boolean }): Promise<{ matched: number; rows: R[] }> {
  let key: string | undefined;
  if (options.cache) {
    const revision = await catalogueRevision(db);
    if (revision !== undefined) key = queryKey(revision, q.where, q.params.values);
  }
  let matched = key === undefined ? undefined : cachedCount(key);
  // The same page of the same search in the same catalogue state: its rows by identifier (page-cache.ts).
  const pk = key !== undefined && page && page.maxRecords > 0 ? pageKey(key, q.order, page.startPosition, page.maxRecords) : undefined;
  const ids = pk === undefined || matched === undefined ? undefined : cachedPage(pk);
  if (ids !== undefined) {
    const sql = pageByIdentifiersSql(page!.columns, q.order);
    const config = (page!.raw ? { text: sql, values: [ids], binary: true, types: RAW_TYPES } : { text: sql, values: [ids] }) as unknown as QueryConfig;
    const { rows } = await db.query<R>(config);
    // Same revision, same rows; fewer would mean a change the revision did not see: then the search runs again.
    if (rows.length === ids.length) return { matched: matched!, rows };
  }
  const remember = (rows: R[]) => {
    if (pk !== undefined) rememberPage(pk, rows.map((r) => (typeof r.identifier === 'string' ? r.identifier : r.identifier.toString('utf8'))));
  };
  // A predicate over the searchable columns alone is counted (and its few matches collected) in the narrow table.
  const narrow = readsSearchColumnsOnly(q.where);
  const narrowOrder = narrow && readsSearchColumnsOnly(q.order);
  const table = narrow ? SEARCH_TABLE : RECORDS_TABLE;
  if (matched === undefined && page && page.maxRecords > 0 && (await estimatedMatches(db, q, table)) <= FEW_MATCHES) {
    // A first search expected to match few records: its count and page in one statement (see the SQL's header).
    const sql = narrow
      ? searchTablePageSql(page.columns, q.where, q.order, q.params, page.maxRecords, page.startPosition - 1, { withCount: true, narrowOrder })
      : countAndFewMatchesPageSql(page.columns, q.where, q.order, q.params, page.maxRecords, page.startPosition - 1);
    const config = (page.raw ? { text: sql, values: q.params.values, binary: true, types: RAW_TYPES } : { text: sql, values: q.params.values }) as unknown as QueryConfig;
    const { rows: all } = await db.query<R & { __n: number | Buffer; __in: unknown }>(config);
    const n = all[0]!.__n;
    const count = typeof n === 'number' ? n : n.readInt32BE(0);
    if (key !== undefined) rememberCount(key, count);
    const rows: R[] = [];
    for (const row of all) {
      if (row.__in === null) continue;
      const { __n: _n, __in: _in, ...rest } = row;
      rows.push(rest as unknown as R);
    }
    rememberLast(key, q, page, rows);
    remember(rows);
    return { matched: count, rows };
  }
  if (matched === undefined) {
    const { rows } = await db.query<{ n: number }>(countSql(q.where, table), [...q.params.values]);
    matched = rows[0]!.n;
    if (key !== undefined) rememberCount(key, matched);
  }
  if (!page || page.maxRecords <= 0 || page.startPosition > matched) return { matched, rows: [] };
  const after = key !== undefined && q.identifierOrder && page.startPosition > 1 ? resumeAfter(key, page.startPosition) : undefined;
  // The exact count is known here: few matches are read from themselves, many along the order's index.
  const sql =
    after !== undefined
      ? pageSql(page.columns, q.where, q.order, q.params, page.maxRecords, { after })
      : matched <= FEW_MATCHES
        ? narrow
          ? searchTablePageSql(page.columns, q.where, q.order, q.params, page.maxRecords, page.startPosition - 1, { withCount: false, narrowOrder })
          : fewMatchesPageSql(page.columns, q.where, q.order, q.params, page.maxRecords, page.startPosition - 1)
        : pageSql(page.columns, q.where, q.order, q.params, page.maxRecords, { offset: page.startPosition - 1 });
  // `binary` (result format) is a pg Query option its type declarations do not list
  const config = (page.raw ? { text: sql, values: q.params.values, binary: true, types: RAW_TYPES } : { text: sql, values: q.params.values }) as unknown as QueryConfig;
  const { rows } = await db.query<R>(config);
  rememberLast(key, q, page, rows);
  remember(rows);
  return { matched, rows };
}

/** Remember where the next page starts (seek paging by identifier). */
function rememberLast<R extends { identifier: string | Buffer }>(key: string | undefined, q: RecordQuery, page: PageRequest, rows: R[]): void {
  const last = rows[rows.length - 1];
  if (key !== undefined && q.identifierOrder && last) {
    const id = typeof last.identifier === 'string' ? last.identifier : last.identifier.toString('utf8');
    rememberResume(key, page.startPosition + rows.length, id);
  }
}

/** The planner's row estimate for a search (EXPLAIN without running it; ~1 planning, no execution). */
async function estimatedMatches(db: Db, q: RecordQuery, table: string): Promise<number> {
  const { rows } = await db.query<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }>(estimateSql(q.where, table), [...q.params.values]);
  return rows[0]?.['QUERY PLAN'][0]?.Plan['Plan Rows'] ?? Number.POSITIVE_INFINITY;
}

/** Records by identifier, in the order of `identifiers`; unknown identifiers are absent. */
/** `hidden`: ids of records the caller may not see (restricted resources), left out of every read below. */
export async function recordsByIdentifiers<R>(db: Db, columns: string, identifiers: readonly string[], hidden: readonly (number | string)[] = []): Promise<R[]> {
  return (await db.query<R & Record<string, unknown>>(byIdentifiersSql(columns), [identifiers, hidden])).rows;
}

/** Distinct stored values of a queryable expression (trusted SQL over `r`), at most `limit`. */
export async function domainValues(db: Db, expr: string, multiValued: boolean, limit: number, hidden: readonly (number | string)[] = []): Promise<string[]> {
  return (await db.query<{ v: string }>(domainValuesSql(expr, multiValued, limit), [hidden])).rows.map((r) => r.v);
}

// -------------------------------------------------------------------------------------- whole catalogue

/** The catalogue revision (undefined before migration 0010 made its row). */
export async function catalogueRevision(db: Db): Promise<string | undefined> {
  return (await db.query<{ revision: string }>(REVISION_SQL)).rows[0]?.revision;
}

/** Number of records and UTC date (YYYY-MM-DD) of the last change, undefined when the catalogue is empty. */
export async function catalogueSummary(db: Db, hidden: readonly (number | string)[] = []): Promise<{ total: number; modified: string | undefined }> {
  const { rows } = await db.query<{ n: number; d: string | null }>(SUMMARY_SQL, [hidden]);
  return { total: rows[0]!.n, modified: rows[0]!.d ?? undefined };
}

/** The envelope (WGS 84) and the first and last instants of the temporal extents of the records the caller sees (of one harvest source). */
export async function catalogueExtent(db: Db, hidden: readonly (number | string)[] = [], sourceId?: number): Promise<{ box?: [number, number, number, number]; first?: Date; last?: Date }> {
  const r = (await db.query<{ minx: number | null; miny: number | null; maxx: number | null; maxy: number | null; first: Date | null; last: Date | null }>(EXTENT_SQL, [hidden, sourceId ?? null])).rows[0]!;
  return {
    ...(r.minx !== null && r.miny !== null && r.maxx !== null && r.maxy !== null ? { box: [r.minx, r.miny, r.maxx, r.maxy] as [number, number, number, number] } : {}),
    ...(r.first ? { first: r.first } : {}),
    ...(r.last ? { last: r.last } : {}),
  };
}

/** Stored documents of the whole catalogue, by identifier, one page. */
export async function documentsPage(db: Db, limit: number, offset: number, hidden: readonly (number | string)[] = []): Promise<string[]> {
  return (await db.query<{ document: string }>(DOCUMENTS_PAGE_SQL, [limit, offset, hidden])).rows.map((r) => r.document);
}

/** The stored document of one record, by its identifier or its row id. */
export async function recordDocument(db: Db, key: { identifier: string } | { id: number }, hidden: readonly (number | string)[] = []): Promise<string | undefined> {
  const { rows } = 'id' in key ? await db.query<{ document: string }>(documentSql('id'), [key.id, hidden]) : await db.query<{ document: string }>(documentSql('identifier'), [key.identifier, hidden]);
  return rows[0]?.document;
}

export async function recordExists(db: Db, identifier: string): Promise<boolean> {
  return ((await db.query(`SELECT 1 FROM ${RECORDS_TABLE} WHERE identifier = $1`, [identifier])).rowCount ?? 0) > 0;
}

/** Every stored document (re-extraction of the queryables). */
export async function allDocuments(db: Db): Promise<Array<{ identifier: string; document: string }>> {
  return (await db.query<{ identifier: string; document: string }>(`SELECT identifier, document FROM ${RECORDS_TABLE} ORDER BY id`)).rows;
}

// ------------------------------------------------------------------------------------------------ writes

export type UpsertOutcome = 'created' | 'updated' | 'unchanged';

/**
 * Insert or replace a record by identifier. `force` rewrites the extracted columns even when the document
 * is unchanged (after the extraction rules changed).
 */
export async function upsertRecord(db: Db, r: MetadataRecord, options: { force?: boolean } = {}): Promise<{ id: number; outcome: UpsertOutcome }> {
  const res = await db.query<{ id: number; inserted: boolean }>(upsertStatement(options.force), upsertParams([recordRow(r)]));
  if (res.rows.length === 0) {
    const { rows } = await db.query<{ id: number }>(`SELECT id FROM ${RECORDS_TABLE} WHERE identifier = $1`, [r.identifier]);
    return { id: rows[0]!.id, outcome: 'unchanged' };
  }
  return { id: res.rows[0]!.id, outcome: res.rows[0]!.inserted ? 'created' : 'updated' };
}

/** Many records in one upsertStatement (the bulk loader), its parameters as upsertParams or bulkUpsertParams makes them. */
export async function upsertRows(db: Db, params: readonly unknown[], force = false): Promise<Array<{ id: number; identifier: string; inserted: boolean }>> {
  return (await db.query<{ id: number; identifier: string; inserted: boolean }>(upsertStatement(force), [...params])).rows;
}

export async function deleteRecord(db: Db, identifier: string): Promise<boolean> {
  const r = await db.query(`DELETE FROM ${RECORDS_TABLE} WHERE identifier = $1`, [identifier]);
  return (r.rowCount ?? 0) > 0;
}

/** Delete the records a compiled search predicate matches; the number deleted. */
export async function deleteMatching(db: Db, where: string, params: PositionalBinder): Promise<number> {
  return (await db.query(deleteWhereSql(where), params.values)).rowCount ?? 0;
}

/** Fresh statistics and visibility map after a bulk load (the planner knows the new size, index-only scans work). */
export async function analyzeRecords(pool: Pool): Promise<void> {
  await pool.query(`VACUUM (ANALYZE) ${RECORDS_TABLE}`);
}

// ----------------------------------------------------------- who maintains a record: sync and harvest

/** What the layer-record sync reads of a record. */
export interface ManagedRecord {
  id: number;
  identifier: string;
  document: string;
  date_stamp: string | null;
  modified: Date | null;
  managed_by: string | null;
}

/** A record by identifier, row id, or the platform object that generates it (`layer:<name>`, `service:wfs`). */
export async function managedRecord(db: Db, key: { identifier: string } | { id: number } | { managedBy: string }): Promise<ManagedRecord | undefined> {
  const [column, value] = 'id' in key ? ['id', key.id] : 'identifier' in key ? ['identifier', key.identifier] : ['managed_by', key.managedBy];
  return (await db.query<ManagedRecord>(`SELECT id, identifier, document, date_stamp, modified, managed_by FROM ${RECORDS_TABLE} WHERE ${column} = $1`, [value])).rows[0];
}

/** Mark a record as generated by `managedBy`, or (null) as hand-maintained: the sync then leaves it alone. */
export async function setManagedBy(db: Db, key: { id: number } | { identifier: string }, managedBy: string | null): Promise<void> {
  if ('id' in key) await db.query(`UPDATE ${RECORDS_TABLE} SET managed_by = $2 WHERE id = $1 AND managed_by IS DISTINCT FROM $2`, [key.id, managedBy]);
  else await db.query(`UPDATE ${RECORDS_TABLE} SET managed_by = $2 WHERE identifier = $1 AND managed_by IS DISTINCT FROM $2`, [key.identifier, managedBy]);
}

/** Delete the generated layer records whose layer is not in `keep` (`layer:<name>` values); their identifiers. */
export async function deleteLayerRecordsExcept(db: Db, keep: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ identifier: string }>(`DELETE FROM ${RECORDS_TABLE} WHERE managed_by LIKE 'layer:%' AND NOT (managed_by = ANY($1::text[])) RETURNING identifier`, [keep]);
  return rows.map((r) => r.identifier);
}

/** A record as a harvest sees it, locked for the rest of the harvest's transaction. */
export async function lockForHarvest(db: Db, identifier: string): Promise<{ id: number; source_id: number | null; remote_id: string | null; document: string } | undefined> {
  return (await db.query<{ id: number; source_id: number | null; remote_id: string | null; document: string }>(`SELECT id, source_id, remote_id, document FROM ${RECORDS_TABLE} WHERE identifier = $1 FOR UPDATE`, [identifier])).rows[0];
}

/** Where a harvested record comes from: its source, and its identifier there (or only the latter). */
export async function setHarvestOrigin(db: Db, id: number, origin: { sourceId?: number; remoteId: string | null }): Promise<void> {
  if (origin.sourceId === undefined) await db.query(`UPDATE ${RECORDS_TABLE} SET remote_id = $2 WHERE id = $1`, [id, origin.remoteId]);
  else await db.query(`UPDATE ${RECORDS_TABLE} SET source_id = $2, remote_id = $3 WHERE id = $1`, [id, origin.sourceId, origin.remoteId]);
}

// ------------------------------------------------------------------- reads and writes of layer administration

/** Links, parties and document of the record generated by `managedBy` (e.g. the WFS service record). */
export async function managedRecordFacts(db: Db, managedBy: string): Promise<{ links: Array<{ url?: string }>; parties: Array<{ email?: string; role?: string }>; document: string } | undefined> {
  return (await db.query<{ links: Array<{ url?: string }>; parties: Array<{ email?: string; role?: string }>; document: string }>(`SELECT links, parties, document FROM ${RECORDS_TABLE} WHERE managed_by = $1`, [managedBy])).rows[0];
}

/** When a record was last stored. */
export async function recordUpdatedAt(db: Db, id: number): Promise<Date | undefined> {
  return (await db.query<{ updated_at: Date }>(`SELECT updated_at FROM ${RECORDS_TABLE} WHERE id = $1`, [id])).rows[0]?.updated_at;
}

/** Delete a hand-written record (managed_by NULL) by identifier; a generated one is left alone. */
export async function deleteHandRecord(db: Db, identifier: string): Promise<void> {
  await db.query(`DELETE FROM ${RECORDS_TABLE} WHERE identifier = $1 AND managed_by IS NULL`, [identifier]);
}

/** The record (identifier, document, managed_by) a row id points to, as SQL columns of a sub-select over `idExpr`. */
export const recordColumnOf = (idExpr: string, column: 'identifier' | 'document' | 'managed_by') => `(SELECT m.${column} FROM ${RECORDS_TABLE} m WHERE m.id = ${idExpr})`;
