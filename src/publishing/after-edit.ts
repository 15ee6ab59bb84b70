/**
 * After features were edited (WFS-T, OGC API Part 4; issue 11): the layers' planner statistics are refreshed
 * (ANALYZE: the extent is read from them, src/catalog/extent.ts) and the catalogue records rewritten
 * (syncLayerRecords: the extent, and the dateStamp, which is the layer's updated_at that the edit moved). In the
 * background, after the answer: a record is not worth delaying an edit. Edits arriving while a refresh runs are
 * coalesced into one more run (QGIS saves a layer as a burst of transactions).
 */
import type { Pool } from '../db/pool.js';
import type { Config } from '../config/index.js';
import type { Layer } from '../catalog/layers.js';
import { quoteIdent } from '../db/identifiers.js';
import { syncLayerRecords } from './index.js';

let running: Promise<void> | undefined;
let again = false;
const tables = new Set<string>();
const names = new Set<string>();

export function refreshRecordsAfterEdit(pool: Pool, config: Config, layers: readonly Layer[], onError: (e: unknown) => void): Promise<void> {
  // Identifiers from the layer catalogue, quoted: never from the request.
  for (const l of layers) tables.add(`${quoteIdent(l.schema)}.${quoteIdent(l.table)}`);
  for (const l of layers) names.add(l.name);
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    do {
      again = false;
      const batch = [...tables];
      const edited = [...names];
      tables.clear();
      names.clear();
      for (const t of batch) await pool.query(`ANALYZE ${t}`);
      // Only layers described by a record (read now: the catalogue in memory may predate the record): one without
      // a record gets it when it is published, not from an edit (a sync writes every published layer's record).
      const { rowCount } = await pool.query('SELECT 1 FROM sdi.layers WHERE name = ANY($1::text[]) AND metadata_record_id IS NOT NULL', [edited]);
      if (rowCount) await syncLayerRecords(pool, config);
    } while (again);
  })()
    .catch(onError)
    .finally(() => {
      running = undefined;
    });
  return running;
}
