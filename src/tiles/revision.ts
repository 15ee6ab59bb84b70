/**
 * A layer's revision for the tile cache: what a cached tile's key must change with (issue 9).
 *
 * - the layer's publication (sdi.layers.updated_at: republished, re-imported, edited);
 * - its data: sdi.data_revisions.changed_at, moved by a statement-level trigger on the layer's table
 *   (migration 0016) that this module puts there the first time a tile of the layer is cached;
 * - its style: a hash of the style document the tile is drawn with (any change of the style, or of the
 *   default it falls back to, changes the hash).
 *
 * A layer whose table cannot carry the trigger (a view, a foreign table, no privilege) has no revision:
 * its tiles are drawn every time, never cached.
 */
import { createHash } from 'node:crypto';
import type { Pool } from '../db/pool.js';
import type { Layer } from '../catalog/layers.js';
import { quoteIdent } from '../db/identifiers.js';
import type { MapStyle } from '../render/style.js';

const TRIGGER = 'sdi_data_revision';

/** Tables (schema.table at a layer publication) known to carry the trigger, or known not to be able to. */
const tracked = new Map<string, Promise<boolean>>();

async function installTrigger(pool: Pool, layer: Layer): Promise<boolean> {
  const { rows } = await pool.query<{ relkind: string; has: boolean }>(
    `SELECT c.relkind, EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = $3) AS has
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
    [layer.schema, layer.table, TRIGGER],
  );
  const r = rows[0];
  if (!r || (r.relkind !== 'r' && r.relkind !== 'p')) return false;
  if (r.has) return true;
  try {
    await pool.query(
      `CREATE OR REPLACE TRIGGER ${TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${quoteIdent(layer.schema)}.${quoteIdent(layer.table)} FOR EACH STATEMENT EXECUTE FUNCTION sdi.note_data_change()`,
    );
    return true;
  } catch {
    return false;
  }
}

/** Whether the layer's data changes are tracked (installing the trigger once per table and publication). */
export function ensureTracked(pool: Pool, layer: Layer): Promise<boolean> {
  const key = `${layer.schema}.${layer.table}@${layer.updatedAt.getTime()}`;
  let p = tracked.get(key);
  if (!p) {
    p = installTrigger(pool, layer).catch(() => false);
    tracked.set(key, p);
    // A failure to reach the database is not remembered: asked again next time.
    p.then((ok) => ok || tracked.delete(key));
  }
  return p;
}

/** The data revision of a tracked layer: its last change, or its publication when unchanged since tracked. */
export async function dataRevision(pool: Pool, layer: Layer): Promise<string> {
  const { rows } = await pool.query<{ us: string | null }>(
    `SELECT (extract(epoch FROM changed_at) * 1000000)::bigint::text AS us FROM sdi.data_revisions WHERE table_schema = $1 AND table_name = $2`,
    [layer.schema, layer.table],
  );
  return rows[0]?.us ?? '-';
}

export function styleHash(style: MapStyle): string {
  return createHash('sha256').update(JSON.stringify(style)).digest('hex').slice(0, 16);
}

/**
 * The revision part of a cached tile's key, or undefined when the layer cannot be cached. Read before the
 * tile is drawn: a change committed meanwhile is then drawn under the older key, which is no longer asked
 * for, never an old drawing under the newer key.
 */
export async function layerRevision(pool: Pool, layer: Layer, style: MapStyle): Promise<string | undefined> {
  if (!(await ensureTracked(pool, layer))) return undefined;
  const data = await dataRevision(pool, layer);
  return createHash('sha256').update(`${layer.updatedAt.getTime()}|${data}|${style.name}|${styleHash(style)}`).digest('hex').slice(0, 20);
}
