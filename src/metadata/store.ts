/**
 * Reading metadata documents into records (ISO 19139 or Dublin Core, in the declared encoding, queryables
 * extracted) and loading them into the catalogue through its repository (src/records/repository.ts), upserted by
 * identifier. Idempotent: a record whose document has not changed is left untouched (its updated_at does not move).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseXml, XmlInputError } from '../xml/tree.js';
import { decodeXml, stripXmlDeclaration } from './xml.js';
import { extractIso, isIsoRoot } from './iso19139.js';
import { extractDublinCore, isDublinCoreRoot } from './dublin-core.js';
import { MetadataError, type MetadataRecord } from '../records/record.js';
import { allDocuments, upsertRecord, type Db } from '../records/repository.js';

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
  const rows = await allDocuments(db);
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
