/**
 * A layer's revision for the tile cache: what a cached tile's key must change with (issue 9), read in one
 * small query per tile request (no cache of its own, so a change shows at once in every process):
 *
 * - the layer's table itself (its OID: a table dropped and created again is another table);
 * - the layer's publication (sdi.layers.updated_at: republished, re-imported, edited);
 * - its data: sdi.data_revisions.changed_at, stamped by a statement-level trigger on the layer's table
 *   (migration 0016) that this module puts there the first time a tile of the layer is asked for;
 * - its styles: an MD5 of the layer's style rows and of the defaults per kind of geometry (any change of a
 *   document, title, name or default flag changes it; the style a tile is drawn with is a part of its address).
 *
 * A layer whose table cannot carry the trigger (a view, a foreign table, no privilege) has no revision:
 * its tiles are drawn every time, never cached.
 */
import { createHash } from 'node:crypto';
import type { Pool } from '../db/pool.js';
import type { Layer } from '../catalog/layers.js';
import { quoteIdent } from '../db/identifiers.js';

const TRIGGER = 'sdi_data_revision';

interface Row {
  relid: string;
  relkind: string;
  tracked: boolean;
  data: string | null;
  published: string | null;
  styles: string | null;
}

const REVISION_SQL = `
  SELECT c.oid::text AS relid, c.relkind::text AS relkind,
         EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = '${TRIGGER}') AS tracked,
         (SELECT (extract(epoch FROM d.changed_at) * 1000000)::bigint::text FROM sdi.data_revisions d
           WHERE d.table_schema = $1 AND d.table_name = $2) AS data,
         (SELECT (extract(epoch FROM l.updated_at) * 1000000)::bigint::text FROM sdi.layers l WHERE l.name = $3) AS published,
         (SELECT md5(string_agg(concat_ws('|', s.layer_name, s.geometry_kind, s.name, s.title, s.is_default::text, s.document::text), '||' ORDER BY s.id))
            FROM sdi.styles s WHERE s.layer_name = $3 OR s.geometry_kind IS NOT NULL) AS styles
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $1 AND c.relname = $2`;

async function installTrigger(pool: Pool, layer: Layer): Promise<boolean> {
  const client = await pool.connect();
  try {
    // The trigger needs a lock that waits for the table's writers: a request does not wait long for it.
    await client.query('BEGIN');
    await client.query("SET LOCAL lock_timeout = '2s'");
    await client.query(
      `CREATE OR REPLACE TRIGGER ${TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${quoteIdent(layer.schema)}.${quoteIdent(layer.table)} FOR EACH STATEMENT EXECUTE FUNCTION sdi.note_data_change()`,
    );
    await client.query('COMMIT');
    return true;
  } catch {
    await client.query('ROLLBACK').catch(() => undefined);
    return false; // no privilege on the table, or its writers held it: not cached (asked again next time)
  } finally {
    client.release();
  }
}

/**
 * The revision part of a cached tile's key for a layer, or undefined when the layer cannot be cached. Read before the tile is drawn: a change committed meanwhile
 * is then drawn under the older key, which is no longer asked for, never an old drawing under the newer key.
 */
export async function layerRevision(pool: Pool, layer: Layer): Promise<string | undefined> {
  const read = async () => (await pool.query<Row>(REVISION_SQL, [layer.schema, layer.table, layer.name])).rows[0];
  let r = await read();
  if (!r || (r.relkind !== 'r' && r.relkind !== 'p')) return undefined;
  if (!r.tracked) {
    if (!(await installTrigger(pool, layer))) return undefined;
    r = await read();
    if (!r?.tracked) return undefined;
  }
  return createHash('sha256').update(`${r.relid}|${r.published}|${r.data ?? '-'}|${r.styles ?? '-'}`).digest('hex').slice(0, 20);
}
