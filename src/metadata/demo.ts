/**
 * Demo catalogue records. The demo catalogue holds the records of the demo data only (issue 10): those are
 * the layers' own records, written by the layer sync (src/metadata/layer-records.ts). The foreign OWSLib
 * records (Bavaria, Brittany, Portugal, Canada) are test fixtures: the catalogue tests load them themselves
 * from ../shared/fixtures/metadata/iso19139 (test/catalogue/setup.ts). Kept as a step of the demo start so
 * that records of demo data without a layer (none today) have their place.
 */
import type { Pool } from '../db/pool.js';
import type { LoadReport } from './store.js';

export async function loadCatalogueDemo(_pool: Pool, _log: (msg: string) => void = () => undefined): Promise<LoadReport> {
  return { created: [], updated: [], unchanged: [], failed: [] };
}
