/**
 * The statements of the catalogue repository (src/records/repository.ts), as pure functions of their inputs:
 * the only text in the code base that names sdi.metadata_records (migrations/0002_catalogue.sql). Built here
 * without a connection, so that they are unit-tested without a server (test/unit/records-sql.test.ts).
 *
 * A search predicate (`where`) is compiled by the catalogue's filter compiler over the row alias `r`, its values
 * bound in a PositionalBinder; this module only appends its own placeholders after them.
 */
import type { SqlParams } from '../db/sql.js';
import { emptyRecord, MetadataError, type Box, type MetadataRecord } from './record.js';

export const RECORDS_TABLE = 'sdi.metadata_records';

/**
 * The narrow table of the searchable columns, kept in step with RECORDS_TABLE by its triggers (migrations/
 * 0034_record_search.sql): a search reading only these columns counts its matches there, visiting a fifth of
 * the heap pages (AnyText 'cadastre', 29,100 of 100,000 records: 2,702 pages instead of 13,038).
 */
export const SEARCH_TABLE = 'sdi.record_search';
const SEARCH_COLUMNS = new Set(['id', 'identifier', 'type', 'modified', 'temp_extent_begin', 'temp_extent_end', 'source_id', 'bbox', 'anytext_tsv']);

/**
 * Does this trusted SQL over alias `r` (a compiled predicate or order: request values are bound parameters, never
 * in the text) read only columns of SEARCH_TABLE? Any other use of `r` (a whole row, `r.*`) counts as no.
 */
export function readsSearchColumnsOnly(sql: string): boolean {
  for (const m of sql.matchAll(/\br\b(\.("?)([A-Za-z_][A-Za-z0-9_$]*)\2)?/g)) if (m[3] === undefined || !SEARCH_COLUMNS.has(m[3])) return false;
  return true;
}

// ------------------------------------------------------------------------------------------------ writes

/** Boxes → envelope corner arrays for SQL; antimeridian-crossing boxes split in two, degenerate ones padded. */
function boxArrays(boxes: Box[]): { w: number[]; s: number[]; e: number[]; n: number[] } {
  const out = { w: [] as number[], s: [] as number[], e: [] as number[], n: [] as number[] };
  const push = (w: number, s: number, e: number, n: number) => {
    const pad = 1e-7;
    if (e - w < pad) [w, e] = [w - pad, e + pad];
    if (n - s < pad) [s, n] = [s - pad, n + pad];
    out.w.push(w);
    out.s.push(s);
    out.e.push(e);
    out.n.push(n);
  };
  for (const b of boxes) {
    if (b.west > b.east) {
      push(b.west, b.south, 180, b.north);
      push(-180, b.south, b.east, b.north);
    } else push(b.west, b.south, b.east, b.north);
  }
  return out;
}

/** Column name → [value, SQL type]. The bbox is built from the box arrays separately. */
function columns(r: MetadataRecord): Array<[string, unknown, string]> {
  return [
    ['identifier', r.identifier, 'text'],
    ['schema', r.schema, 'text'],
    ['document', r.document, 'text'],
    ['title', r.title, 'text'],
    ['alternate_titles', r.alternateTitles, 'text[]'],
    ['abstract', r.abstract, 'text'],
    ['type', r.type, 'text'],
    ['keywords', r.keywords, 'text[]'],
    ['keyword_types', r.keywordTypes, 'text[]'],
    ['thesauri', r.thesauri, 'text[]'],
    ['topic_categories', r.topicCategories, 'text[]'],
    ['formats', r.formats, 'text[]'],
    ['language', r.language ?? null, 'text'],
    ['resource_languages', r.resourceLanguages, 'text[]'],
    ['parent_identifier', r.parentIdentifier ?? null, 'text'],
    ['date_stamp', r.dateStamp ?? null, 'text'],
    ['modified', r.modified ?? null, 'timestamptz'],
    ['creation_date', r.creationDate ?? null, 'date'],
    ['publication_date', r.publicationDate ?? null, 'date'],
    ['revision_date', r.revisionDate ?? null, 'date'],
    ['temp_extent_begin', r.tempExtentBegin ?? null, 'timestamptz'],
    ['temp_extent_end', r.tempExtentEnd ?? null, 'timestamptz'],
    ['organisations', r.organisations, 'text[]'],
    ['creators', r.creators, 'text[]'],
    ['publishers', r.publishers, 'text[]'],
    ['contributors', r.contributors, 'text[]'],
    ['responsible_party_roles', r.responsiblePartyRoles, 'text[]'],
    ['parties', r.parties, 'jsonb'],
    ['resource_identifiers', r.resourceIdentifiers, 'jsonb'],
    ['resource_identifier_codes', r.resourceIdentifierCodes, 'text[]'],
    ['crs', r.crs, 'text[]'],
    ['geographic_description_codes', r.geographicDescriptionCodes, 'text[]'],
    ['denominators', r.denominators, 'integer[]'],
    ['distance_values', r.distanceValues, 'double precision[]'],
    ['distance_uoms', r.distanceUoms, 'text[]'],
    ['service_type', r.serviceType ?? null, 'text'],
    ['service_type_versions', r.serviceTypeVersions, 'text[]'],
    ['coupling_type', r.couplingType ?? null, 'text'],
    ['operations', r.operations, 'text[]'],
    ['operates_on', r.operatesOn, 'text[]'],
    ['operates_on_names', r.operatesOnNames, 'text[]'],
    ['access_constraints', r.accessConstraints, 'text[]'],
    ['use_constraints', r.useConstraints, 'text[]'],
    ['other_constraints', r.otherConstraints, 'text[]'],
    ['use_limitations', r.useLimitations, 'text[]'],
    ['classification', r.classification, 'text[]'],
    ['has_security_constraints', r.hasSecurityConstraints, 'boolean'],
    ['licences', r.licences, 'text[]'],
    ['lineage', r.lineage ?? null, 'text'],
    ['specifications', r.specifications, 'jsonb'],
    ['specification_titles', r.specifications.map((s) => s.title), 'text[]'],
    ['specification_dates', r.specifications.map((s) => s.date).filter((d): d is string => !!d), 'date[]'],
    ['specification_date_types', [...new Set(r.specifications.map((s) => s.dateType).filter((d): d is string => !!d))], 'text[]'],
    ['degrees', [...new Set(r.specifications.map((s) => s.degree))], 'text[]'],
    ['links', r.links, 'jsonb'],
    ['iso_brief', r.isoBrief ?? null, 'text'],
    ['iso_summary', r.isoSummary ?? null, 'text'],
    ['anytext', r.anytext, 'text'],
  ];
}

/**
 * The long texts of a record (its document, the ISO brief and summary cut from it, its AnyText: ~37 of a generated
 * record's ~41 kB), each given to upsertStatement as a text[] parameter of its own beside the JSON of the other
 * columns (issue 12). In the JSON they were escaped by the loader and un-escaped by PostgreSQL twice over (json_in
 * checks the parameter, json_to_recordset lexes it again, appending each character of a string one by one:
 * json_lex and appendStringInfoChar were 11 % of the backend's CPU in a 10,000-record load, perf). A text[] in
 * binary format (textArrayBinary, what the bulk loader sends) is copied, and checked as UTF-8, nothing more.
 */
export const LONG_COLUMNS = ['document', 'iso_brief', 'iso_summary', 'anytext'] as const;
const LONG = new Set<string>(LONG_COLUMNS);

/** Names and SQL types of the stored columns given in the JSON (the bbox is built from the box corner arrays w, s, e, n). */
const COLUMN_SPECS: Array<[string, string]> = columns(emptyRecord('x', 'iso19139', '')).map((c) => [c[0], c[2]]);
const JSON_SPECS = COLUMN_SPECS.filter(([n]) => !LONG.has(n));

/** One record as upsertStatement takes it: the JSON object of its other columns and box corners, and its long texts. */
export interface RecordRow {
  identifier: string;
  /** Its columns but the long ones by name, and the corners of its boxes (w, s, e, n), as JSON text. */
  json: string;
  /** The values of LONG_COLUMNS, in that order. */
  long: Array<string | null>;
}

/**
 * A record as a row of upsertStatement. Plain strings, so that a parser thread computes it and hands it over.
 * A long text with an unpaired surrogate (a character reference to U+D800–U+DFFF) is refused: UTF-8 cannot
 * carry it (it would be replaced by U+FFFD), and PostgreSQL refused it in the JSON too.
 */
export function recordRow(r: MetadataRecord): RecordRow {
  const row: Record<string, unknown> = {};
  const long: Array<string | null> = [null, null, null, null];
  for (const [name, value] of columns(r)) {
    const i = LONG_COLUMNS.indexOf(name as (typeof LONG_COLUMNS)[number]);
    if (i < 0) row[name] = value;
    else if (value !== null) {
      if (!(value as string & { isWellFormed(): boolean }).isWellFormed()) throw new MetadataError(`The record ${r.identifier} has an unpaired surrogate code point (a character reference to U+D800–U+DFFF) in its ${name}`);
      long[i] = value as string;
    }
  }
  Object.assign(row, boxArrays(r.boxes));
  return { identifier: r.identifier, json: JSON.stringify(row), long };
}

/** upsertStatement's parameters for records (the one-record path: values pg sends as text). */
export function upsertParams(rows: readonly RecordRow[]): unknown[] {
  return [`[${rows.map((r) => r.json).join(',')}]`, ...LONG_COLUMNS.map((_, i) => rows.map((r) => r.long[i]))];
}

/**
 * A text[] parameter in PostgreSQL's binary format (array_recv: dimensions, flags, element type oid 25 = text,
 * size and lower bound, then each element's byte length, -1 for NULL, and its UTF-8 bytes). pg sends a Buffer
 * parameter as binary. Its own ArrayBuffer (allocUnsafeSlow), so that a thread can transfer it without a copy.
 */
export function textArrayBinary(values: ReadonlyArray<string | null>): Buffer {
  let size = 20;
  for (const v of values) size += 4 + (v === null ? 0 : Buffer.byteLength(v, 'utf8'));
  const b = Buffer.allocUnsafeSlow(size);
  b.writeInt32BE(1, 0);
  b.writeInt32BE(values.some((v) => v === null) ? 1 : 0, 4);
  b.writeInt32BE(25, 8);
  b.writeInt32BE(values.length, 12);
  b.writeInt32BE(1, 16);
  let o = 20;
  for (const v of values) {
    if (v === null) {
      b.writeInt32BE(-1, o);
      o += 4;
    } else {
      const n = b.write(v, o + 4, 'utf8');
      b.writeInt32BE(n, o);
      o += 4 + n;
    }
  }
  return b;
}

/**
 * upsertStatement's parameters for a batch as the bulk loader sends them, all in binary format: the JSON array as its
 * UTF-8 bytes (the binary form of json is its text) and each long column a textArrayBinary. Built in a parser
 * thread; the Buffers' memory is handed to the writing thread, not copied.
 */
export function bulkUpsertParams(rows: readonly RecordRow[]): Buffer[] {
  const json = `[${rows.map((r) => r.json).join(',')}]`;
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(json, 'utf8'));
  bytes.write(json, 0, 'utf8');
  return [bytes, ...LONG_COLUMNS.map((_, i) => textArrayBinary(rows.map((r) => r.long[i] ?? null)))];
}

/**
 * INSERT … ON CONFLICT (identifier) DO UPDATE for records given as ($1) the JSON array of their RecordRow.json and
 * ($2…$5) one text[] per LONG_COLUMNS, unchanged documents left alone unless `force`. RETURNING the rows written
 * (id, inserted). One statement whatever the number of records, so the single-record upsert and the bulk loader
 * store exactly the same thing.
 *
 * Why JSON rather than a VALUES list of 62 placeholders a record (as before, issue 12): a batch of 200 records was
 * a 12,400-parameter statement that PostgreSQL planned for ~195 ms and bound value by value; json_to_recordset is
 * one statement text, planned in < 1 ms whatever the batch size, and PostgreSQL parses the JSON in one pass (the
 * arrays of text, dates and numbers as it reads them). ROWS FROM zips the JSON's rows with the long texts' arrays.
 */
export function upsertStatement(force = false): string {
  const defs = [...JSON_SPECS, ['w', 'float8[]'], ['s', 'float8[]'], ['e', 'float8[]'], ['n', 'float8[]']].map(([n, t]) => `"${n}" ${t}`);
  const aliases = [...JSON_SPECS.map((c) => c[0]), 'w', 's', 'e', 'n', ...LONG_COLUMNS].map((n) => `"${n}"`);
  const bbox = `(SELECT ST_Multi(ST_CollectionExtract(ST_UnaryUnion(ST_Collect(ST_MakeEnvelope(b.w, b.s, b.e, b.n, 4326))), 3))
                  FROM unnest(x.w, x.s, x.e, x.n) AS b(w, s, e, n))`;
  const names = [...COLUMN_SPECS.map((c) => c[0]), 'bbox'];
  return `INSERT INTO ${RECORDS_TABLE} AS m (${names.join(', ')})
    SELECT ${[...COLUMN_SPECS.map((c) => `x."${c[0]}"`), bbox].join(', ')}
      FROM ROWS FROM (json_to_recordset($1::json) AS (${defs.join(', ')}), ${LONG_COLUMNS.map((_, i) => `unnest($${i + 2}::text[])`).join(', ')}) AS x(${aliases.join(', ')})
    ON CONFLICT (identifier) DO UPDATE SET ${names.filter((n) => n !== 'identifier').map((n) => `${n} = EXCLUDED.${n}`).join(', ')}, updated_at = now()
    ${force ? '' : 'WHERE m.document IS DISTINCT FROM EXCLUDED.document'}
    RETURNING m.id, m.identifier, (xmax = 0) AS inserted`;
}

/** Delete the records a compiled predicate over `r` matches. */
export const deleteWhereSql = (where: string) => `DELETE FROM ${RECORDS_TABLE} r WHERE ${where}`;

// ------------------------------------------------------------------------------------------------- reads

/** The revision counter every committed change of the records moves (migrations/0010_catalogue_revision.sql). */
export const REVISION_SQL = 'SELECT revision::text AS revision FROM sdi.catalogue_revision';

/** Number of records and the UTC date of the last change (CSW capabilities, DCAT catalogue). */
/** Records whose ids are in the bigint[] parameter `$n` are hidden from the caller (restricted resources, issue 11). */
const notHidden = (n: number) => `NOT (r.id = ANY($${n}::bigint[]))`;

export const SUMMARY_SQL = `SELECT count(*)::int AS n, to_char(max(updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS d FROM ${RECORDS_TABLE} r WHERE ${notHidden(1)}`;

/**
 * Spatial (WGS 84 envelope) and temporal extent of the records the caller sees ($1: hidden ids, bigint[]), all of
 * them or ($2) those harvested from one source: the OGC API – Records catalogue's `extent`. A record's open end
 * counts as its other end.
 */
export const EXTENT_SQL = `SELECT ST_XMin(x.e) AS minx, ST_YMin(x.e) AS miny, ST_XMax(x.e) AS maxx, ST_YMax(x.e) AS maxy, x.first, x.last
  FROM (SELECT ST_Extent(r.bbox) AS e, min(coalesce(r.temp_extent_begin, r.temp_extent_end)) AS first, max(coalesce(r.temp_extent_end, r.temp_extent_begin)) AS last
        FROM ${RECORDS_TABLE} r WHERE ${notHidden(1)} AND ($2::bigint IS NULL OR r.source_id = $2::bigint)) x`;

/** A search predicate over alias `r`: the record was harvested from the source whose id is bound as `param`. */
export const harvestedFromSql = (param: string) => `r.source_id = ${param}`;

/** The count of a search, over RECORDS_TABLE or (a predicate readsSearchColumnsOnly) SEARCH_TABLE. */
export const countSql = (where: string, table: string = RECORDS_TABLE) => `SELECT count(*)::int AS n FROM ${table} r WHERE ${where}`;

/** Where a page starts: after `offset` records, or (seek paging) after the record whose identifier is `after`. */
export type PageStart = { offset: number } | { after: string };

/**
 * One page of a search, `columns` over the alias `r`. Seeking (`after`) needs an order by identifier alone:
 * it reads the identifier index from that identifier on instead of skipping `offset` rows.
 */
export function pageSql(columns: string, where: string, order: string, params: SqlParams, limit: number, start: PageStart): string {
  if ('after' in start) {
    const a = params.add(start.after, 'text');
    return `SELECT ${columns} FROM ${RECORDS_TABLE} r WHERE (${where}) AND r.identifier > ${a} ORDER BY ${order} LIMIT ${params.add(limit, 'integer')}`;
  }
  const l = params.add(limit, 'integer');
  const o = params.add(start.offset, 'integer');
  return `SELECT ${columns} FROM ${RECORDS_TABLE} r WHERE ${where} ORDER BY ${order} LIMIT ${l} OFFSET ${o}`;
}

/**
 * Searches matching at most this many records read their page from the matches themselves (fewMatchesPageSql).
 * Past it, walking the order's index and testing each record in turn finds a page sooner: with C1's 29,000
 * matches in 100,000 records, the first 10 by identifier are among the first ~35 of the index.
 */
export const FEW_MATCHES = 5000;

/**
 * One page of a search known (from its count) to match few records: the matches are collected first, by the
 * predicate alone (a materialised CTE is planned without the ORDER BY … LIMIT), so that PostgreSQL combines
 * the full-text and spatial indexes in one bitmap, and only they are sorted. Left to itself, the planner may
 * walk the identifier or footprint index and test every record it meets, detoasting its tsvector: on the
 * generated records C2 (AnyText + BBOX) was a footprint index scan testing 5,986 rows for 1,720 matches
 * (EXPLAIN ANALYZE). The CTE keeps the alias `r`, so columns and order read as in pageSql. Same rows, same order.
 */
export function fewMatchesPageSql(columns: string, where: string, order: string, params: SqlParams, limit: number, offset: number): string {
  const l = params.add(limit, 'integer');
  const o = params.add(offset, 'integer');
  return `WITH m AS MATERIALIZED (SELECT r.* FROM ${RECORDS_TABLE} r WHERE ${where}) SELECT ${columns} FROM m r ORDER BY ${order} LIMIT ${l} OFFSET ${o}`;
}

/**
 * The count and the first page of a search in one statement, for a search expected (estimateSql) to match few
 * records and whose count is not cached (issue 12, a search seen for the first time). Counting and paging in
 * two statements built the same bitmap twice (the GIN prefix scan of `'cadastr':*` alone is ~5 ms) and visited
 * the same heap pages twice: the matches' row addresses (ctid) are collected once, counted, and the page is
 * read by those addresses (a TID scan, no index condition evaluated again) and sorted. C2 (AnyText + BBOX, 1,720
 * of 100,000 records), pgbench 60 runs each, alternated on one loaded 2-core machine: count 14.7 / 19.4 ms +
 * page 20.9 / 31.3 ms as two statements, 21.3 / 30.9 ms as this one. Not for many matches: materialising
 * 29,100 ctids (C1) cost 38 / 42 ms against 23 / 29 + 1.7 / 3.9 ms for the count and the index-walk page.
 * The count is exact whatever the estimate was (the page is then only slower). The result always has one row
 * at least: `__n` the count, `__in` NULL when the page is empty (start past the end).
 */
export function countAndFewMatchesPageSql(columns: string, where: string, order: string, params: SqlParams, limit: number, offset: number): string {
  const l = params.add(limit, 'integer');
  const o = params.add(offset, 'integer');
  return (
    `WITH m AS MATERIALIZED (SELECT r.ctid AS t FROM ${RECORDS_TABLE} r WHERE ${where}) ` +
    `SELECT (SELECT count(*)::int FROM m) AS __n, p.* FROM (SELECT 1) one LEFT JOIN LATERAL ` +
    `(SELECT 1 AS __in, ${columns} FROM ${RECORDS_TABLE} r WHERE r.ctid = ANY (ARRAY(SELECT t FROM m)) ORDER BY ${order} LIMIT ${l} OFFSET ${o}) p ON true`
  );
}

/** The planner's estimate of a search's matches (EXPLAIN, not run): chooses between the statements above. */
export const estimateSql = (where: string, table: string = RECORDS_TABLE) => `EXPLAIN (FORMAT JSON) SELECT 1 FROM ${table} r WHERE ${where}`;

/**
 * One page of a search whose predicate reads only SEARCH_TABLE's columns and that matches few records, with its
 * count (`withCount`, as countAndFewMatchesPageSql: `__n`, `__in`) or without: the matches are collected in the
 * narrow table (a materialised CTE, planned without the ORDER BY … LIMIT, as in fewMatchesPageSql), and the wide
 * rows of RECORDS_TABLE are read for the page alone when the order reads only narrow columns too (`narrowOrder`:
 * the page's ids are picked in the narrow table, then their wide rows sorted again by the same total order), or
 * for the matches otherwise. C2 (AnyText + BBOX, 1,662 of 100,000 records) read the wide rows of its 1,662
 * matches to sort them (ctid scan); here 10 rows by primary key.
 */
export function searchTablePageSql(columns: string, where: string, order: string, params: SqlParams, limit: number, offset: number, options: { withCount: boolean; narrowOrder: boolean }): string {
  const l = params.add(limit, 'integer');
  const o = params.add(offset, 'integer');
  const matches = `${SEARCH_TABLE} r WHERE r.ctid = ANY (ARRAY(SELECT t FROM m))`;
  const page = options.narrowOrder
    ? `SELECT ${columns} FROM ${RECORDS_TABLE} r WHERE r.id = ANY (ARRAY(SELECT r.id FROM ${matches} ORDER BY ${order} LIMIT ${l} OFFSET ${o})) ORDER BY ${order}`
    : `SELECT ${columns} FROM ${RECORDS_TABLE} r WHERE r.id = ANY (ARRAY(SELECT r.id FROM ${matches})) ORDER BY ${order} LIMIT ${l} OFFSET ${o}`;
  const m = `WITH m AS MATERIALIZED (SELECT r.ctid AS t FROM ${SEARCH_TABLE} r WHERE ${where}) `;
  if (!options.withCount) return m + page;
  return m + `SELECT (SELECT count(*)::int FROM m) AS __n, p.* FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT 1 AS __in, q.* FROM (${page}) q) p ON true`;
}

/** The rows of a page known by its identifiers ($1, a text[]: the page cache), in the search's order over `r`. */
export const pageByIdentifiersSql = (columns: string, order: string) => `SELECT ${columns} FROM ${RECORDS_TABLE} r WHERE r.identifier = ANY($1::text[]) ORDER BY ${order}`;

/** Records by identifier ($1, a text[]), in the order asked; unknown identifiers are absent. */
export const byIdentifiersSql = (columns: string) =>
  `SELECT ${columns} FROM ${RECORDS_TABLE} r WHERE r.identifier = ANY($1::text[]) AND ${notHidden(2)} ORDER BY array_position($1::text[], r.identifier)`;

/** The documents of a page of the whole catalogue, by identifier ($1 limit, $2 offset). */
export const DOCUMENTS_PAGE_SQL = `SELECT r.document FROM ${RECORDS_TABLE} r WHERE ${notHidden(3)} ORDER BY r.identifier ASC LIMIT $1 OFFSET $2`;

export const documentSql = (key: 'id' | 'identifier') => `SELECT document FROM ${RECORDS_TABLE} r WHERE r.${key} = $1 AND ${notHidden(2)}`;

/**
 * Distinct non-empty values of a queryable (`expr`: trusted SQL over `r`, never from a request), sorted, at most
 * `limit`; `multiValued` expressions are arrays whose elements are listed.
 */
/** Distinct values of a queryable; records whose ids are in $1 (bigint[], hidden from the caller) are left out. */
export function domainValuesSql(expr: string, multiValued: boolean, limit: number): string {
  if (!Number.isInteger(limit) || limit < 1) throw new Error('domain limit must be a positive integer');
  return multiValued
    ? `SELECT DISTINCT v::text AS v FROM ${RECORDS_TABLE} r, unnest(${expr}) v WHERE v IS NOT NULL AND ${notHidden(1)} ORDER BY 1 LIMIT ${limit}`
    : `SELECT DISTINCT (${expr})::text AS v FROM ${RECORDS_TABLE} r WHERE ${expr} IS NOT NULL AND (${expr})::text <> '' AND ${notHidden(1)} ORDER BY 1 LIMIT ${limit}`;
}

// ------------------------------------------------------- fragments for the statements of other modules

/** The identifier of the record `idExpr` (an sdi.*.metadata_record_id column) points to, as a scalar sub-select. */
export const recordIdentifierOf = (idExpr: string) => `(SELECT m.identifier FROM ${RECORDS_TABLE} m WHERE m.id = ${idExpr})`;

/** Whether any record was harvested from the source `sourceExpr`, as an SQL condition. */
export const recordsOfSourceExist = (sourceExpr: string) => `EXISTS (SELECT 1 FROM ${RECORDS_TABLE} m WHERE m.source_id = ${sourceExpr})`;
