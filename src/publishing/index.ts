/**
 * Publishing: a layer and its catalogue record together. Above both the layer registry (src/catalog) and the
 * catalogue records (src/metadata), which do not know each other: publishing a layer registers it, then syncs the
 * records of every published layer and of the services that operate on them.
 */
import type { Pool } from '../db/pool.js';
import { loadConfig, type Config } from '../config/index.js';
import { readPublishedLayers, registerLayer, type LayerRegistration } from '../catalog/published.js';
import { listRasterLayers } from '../catalog/rasters.js';
import { LAYER_RECORDS_LOCK, writeLayerRecords, type SyncReport } from '../metadata/layer-records.js';

export type { SyncReport };

/**
 * Register (or update) a table as a published layer, then write its catalogue record and refresh the WFS and
 * Atom service records. Used by the demo loader, the CLI and imports.
 */
export async function publishLayer(pool: Pool, l: LayerRegistration, config: Config = loadConfig()): Promise<void> {
  await registerLayer(pool, l);
  await syncLayerRecords(pool, config);
}

/**
 * Write (or refresh) the dataset record of every published feature and raster layer and the service records, link each
 * layer to its record, and remove the generated records of layers no longer published (src/metadata/layer-records.ts).
 * Idempotent; one transaction, serialised between processes: the layers are read in it, under the lock.
 */
export async function syncLayerRecords(pool: Pool, config: Config): Promise<SyncReport> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [LAYER_RECORDS_LOCK]);
    const layers = await readPublishedLayers(client);
    const rasters = await listRasterLayers(client);
    const report = await writeLayerRecords(client, pool, config, layers, rasters);
    await client.query('COMMIT');
    return report;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}
