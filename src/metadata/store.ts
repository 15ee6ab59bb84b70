/**
 * Storing metadata records in sdi.metadata_records: parse (ISO 19139 or Dublin Core, in the declared
 * encoding), extract the queryables, upsert by identifier. Idempotent: a record whose document has not
 * changed is left untouched (its updated_at does not move).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool, PoolClient } from '../db/pool.js';
import { parseXml, XmlInputError } from '../xml/tree.js';
import { decodeXml, stripXmlDeclaration } from './xml.js';
import { extractIso, isIsoRoot } from './iso19139.js';
import { extractDublinCore, isDublinCoreRoot } from './dublin-core.js';
import { emptyRecord, MetadataError, type Box, type MetadataRecord } from './record.js';

export type Db = Pool | PoolClient;

/** Parse a metadata document (text, or bytes in any declared encoding) into a record. */
export function parseRecord(input: string | Buffer): MetadataRecord {
  const text = typeof input === 'string' ? input : decodeXml(input);
  const document = stripXmlDeclaration(text);
  let root;
  try {
    root = parseXml(document);
  } catch (e) {
    if (e instanceof XmlInputError) throw new MetadataError(e.message);
    throw e;
  }
  if (isIsoRoot(root)) return extractIso(root, document);
  if (isDublinCoreRoot(root)) return extractDublinCore(root, document);
  throw new MetadataError(`Unsupported metadata document: root element ${root.prefix ? root.prefix + ':' : ''}${root.name} (${root.ns || 'no namespace'})`);
}

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

/** Column name → [value, SQL cast]. The bbox is built from the box arrays separately. */
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
    ['parties', JSON.stringify(r.parties), 'jsonb'],
    ['resource_identifiers', JSON.stringify(r.resourceIdentifiers), 'jsonb'],
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
    ['specifications', JSON.stringify(r.specifications), 'jsonb'],
    ['specification_titles', r.specifications.map((s) => s.title), 'text[]'],
    ['specification_dates', r.specifications.map((s) => s.date).filter((d): d is string => !!d), 'date[]'],
    ['specification_date_types', [...new Set(r.specifications.map((s) => s.dateType).filter((d): d is string => !!d))], 'text[]'],
    ['degrees', [...new Set(r.specifications.map((s) => s.degree))], 'text[]'],
    ['links', JSON.stringify(r.links), 'jsonb'],
    ['iso_brief', r.isoBrief ?? null, 'text'],
    ['iso_summary', r.isoSummary ?? null, 'text'],
    ['anytext', r.anytext, 'text'],
  ];
}

export type UpsertOutcome = 'created' | 'updated' | 'unchanged';

/**
 * Insert or replace a record by identifier. `force` rewrites the extracted columns even when the document
 * is unchanged (after the extraction rules changed).
 */
export async function upsertRecord(db: Db, r: MetadataRecord, options: { force?: boolean } = {}): Promise<{ id: number; outcome: UpsertOutcome }> {
  const res = await db.query<{ id: number; inserted: boolean }>(upsertStatement(1, options.force), recordRowValues(r));
  if (res.rows.length === 0) {
    const { rows } = await db.query<{ id: number }>('SELECT id FROM sdi.metadata_records WHERE identifier = $1', [r.identifier]);
    return { id: rows[0]!.id, outcome: 'unchanged' };
  }
  return { id: res.rows[0]!.id, outcome: res.rows[0]!.inserted ? 'created' : 'updated' };
}

/** Names and SQL casts of the stored columns, in the order of recordRowValues (the bbox follows them). */
const COLUMN_SPECS: Array<[string, string]> = columns(parseRecordShape()).map((c) => [c[0], c[2]]);
/** Parameters one record takes in upsertStatement: its columns, then the four box corner arrays. */
export const PARAMS_PER_RECORD = COLUMN_SPECS.length + 4;

function parseRecordShape(): MetadataRecord {
  return emptyRecord('x', 'iso19139', '');
}

/** The statement parameters of one record (what a worker thread can compute and hand over as plain data). */
export function recordRowValues(r: MetadataRecord): unknown[] {
  const b = boxArrays(r.boxes);
  return [...columns(r).map((c) => c[1]), b.w, b.s, b.e, b.n];
}

/**
 * INSERT … ON CONFLICT (identifier) DO UPDATE for `n` records (their recordRowValues concatenated), unchanged
 * documents left alone unless `force`. RETURNING the rows written (id, inserted). One statement whatever n is,
 * so the single-record upsert and the bulk loader store exactly the same thing.
 */
export function upsertStatement(n: number, force = false): string {
  const k = COLUMN_SPECS.length;
  const tuples: string[] = [];
  for (let row = 0; row < n; row++) {
    const o = row * PARAMS_PER_RECORD;
    const placeholders = COLUMN_SPECS.map((c, i) => `$${o + i + 1}::${c[1]}`);
    const bbox = `(SELECT ST_Multi(ST_CollectionExtract(ST_UnaryUnion(ST_Collect(ST_MakeEnvelope(x.w, x.s, x.e, x.n, 4326))), 3))
                  FROM unnest($${o + k + 1}::float8[], $${o + k + 2}::float8[], $${o + k + 3}::float8[], $${o + k + 4}::float8[]) AS x(w, s, e, n))`;
    tuples.push(`(${[...placeholders, bbox].join(', ')})`);
  }
  const names = [...COLUMN_SPECS.map((c) => c[0]), 'bbox'];
  return `INSERT INTO sdi.metadata_records AS m (${names.join(', ')}) VALUES ${tuples.join(',\n')}
    ON CONFLICT (identifier) DO UPDATE SET ${names.filter((n) => n !== 'identifier').map((n) => `${n} = EXCLUDED.${n}`).join(', ')}, updated_at = now()
    ${force ? '' : 'WHERE m.document IS DISTINCT FROM EXCLUDED.document'}
    RETURNING m.id, m.identifier, (xmax = 0) AS inserted`;
}

export interface LoadReport {
  created: string[];
  updated: string[];
  unchanged: string[];
  failed: Array<{ file: string; reason: string }>;
}

/**
 * Load every `*.xml` file of a directory (sorted by name), each file one record. Files that cannot be
 * read as a record are reported, not fatal. `exclude` skips files by name.
 */
export async function loadRecordsFromDirectory(db: Db, dir: string, options: { exclude?: (file: string) => boolean; force?: boolean } = {}): Promise<LoadReport> {
  const report: LoadReport = { created: [], updated: [], unchanged: [], failed: [] };
  const files = readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.xml')).sort();
  for (const f of files) {
    if (options.exclude?.(f)) continue;
    try {
      const rec = parseRecord(readFileSync(join(dir, f)));
      const { outcome } = await upsertRecord(db, rec, { force: options.force });
      report[outcome].push(rec.identifier);
    } catch (e) {
      if (!(e instanceof MetadataError)) throw e;
      report.failed.push({ file: f, reason: e.message });
    }
  }
  return report;
}

/** Re-extract the queryables of every stored record from its document (after the extraction rules changed). */
export async function reindexAll(db: Db): Promise<{ reindexed: number; failed: Array<{ identifier: string; reason: string }> }> {
  const { rows } = await db.query<{ identifier: string; document: string }>('SELECT identifier, document FROM sdi.metadata_records ORDER BY id');
  const failed: Array<{ identifier: string; reason: string }> = [];
  let reindexed = 0;
  for (const row of rows) {
    try {
      await upsertRecord(db, parseRecord(row.document), { force: true });
      reindexed++;
    } catch (e) {
      failed.push({ identifier: row.identifier, reason: (e as Error).message });
    }
  }
  return { reindexed, failed };
}

export async function deleteRecord(db: Db, identifier: string): Promise<boolean> {
  const r = await db.query('DELETE FROM sdi.metadata_records WHERE identifier = $1', [identifier]);
  return (r.rowCount ?? 0) > 0;
}
