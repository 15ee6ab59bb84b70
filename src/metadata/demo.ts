/**
 * Demo catalogue records: the BSD-licensed ISO 19139 records of fixtures/metadata (see its SOURCES.md).
 * Idempotent: records whose document is unchanged are left alone, so a second start loses nothing.
 */
import { projectPath } from '../paths.js';
import type { Pool } from '../db/pool.js';
import { loadRecordsFromDirectory, type LoadReport } from './store.js';

export async function loadCatalogueDemo(pool: Pool, log: (msg: string) => void = () => undefined): Promise<LoadReport> {
  const report = await loadRecordsFromDirectory(pool, projectPath('fixtures', 'metadata'));
  if (report.created.length || report.updated.length) log(`demo catalogue: ${report.created.length} records created, ${report.updated.length} updated`);
  for (const f of report.failed) log(`demo catalogue: ${f.file} not loaded: ${f.reason}`);
  return report;
}
