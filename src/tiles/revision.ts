/**
 * A layer's revision for the tile cache: what a cached tile's key must change with (issue 9), read in one
 * small query, and kept in memory by TileRevisions while the process's change feed (src/db/change-feed.ts,
 * the triggers of migration 0027) says nothing changed since, so that a cached tile costs no query:
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
 *
 * Kept in memory: each revision with the feed's generation read before its query (a change committed during
 * the query moves the generation, so the answer is stale at once), trusted while the feed is live and the
 * generation unchanged, for REVISION_TTL_MS at most. The TTL is for what no trigger sees: the table dropped
 * and created again under the same name (another OID), the trigger dropped by hand. Without a live feed
 * (connection lost, not yet up) the revision is read on every request, as before.
 *
 * Measured (issue 9, T1, a cached WMTS tile, one process, before/after on one run): 2.03 → 0.03 database
 * transactions per hit (the catalogue's revision check and this query before), p50 under wrk -c8 12–16 →
 * 1.4–1.9 ms; see bench/README.md *Maps*.
 */
import { createHash } from 'node:crypto';
import type { Pool } from '../db/pool.js';
import type { Layer } from '../catalog/layers.js';
import { quoteIdent } from '../db/identifiers.js';
import type { ChangeFeed } from '../db/change-feed.js';

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

/** Put the data-revision trigger on a layer's table (false: not possible now: no privilege, its writers held it). */
export async function installTrigger(pool: Pool, layer: Pick<Layer, 'schema' | 'table'>): Promise<boolean> {
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

/** How long a revision is trusted at most, notifications or not (changes no trigger sees: a table replaced). */
export const REVISION_TTL_MS = 5_000;

interface Known {
  revision: string | undefined;
  generation: number;
  at: number;
}

/** The layer revisions of one process, kept while its change feed is quiet (see the header). */
export class TileRevisions {
  private readonly known = new Map<string, Known>();
  private readonly reading = new Map<string, Promise<Known>>();

  constructor(
    private readonly pool: Pool,
    private readonly feed: ChangeFeed | undefined,
    private readonly ttlMs = REVISION_TTL_MS,
  ) {
    // Entries and reads of older generations are never used again: dropped at once (bounded by the layers).
    feed?.onChange(() => {
      this.known.clear();
      this.reading.clear();
    });
  }

  async get(layer: Layer): Promise<string | undefined> {
    const feed = this.feed;
    if (!feed) return layerRevision(this.pool, layer);
    const key = `${layer.name}\u0000${layer.schema}\u0000${layer.table}`;
    const trusted = () => {
      const k = this.known.get(key);
      return k && feed.live && k.generation === feed.generation && Date.now() - k.at < this.ttlMs ? k : undefined;
    };
    if (trusted()) {
      await feed.settled();
      const k = trusted();
      if (k) return k.revision;
    }
    // Requests of one layer in one generation share one read (a notification clears the reads under way).
    let p = this.reading.get(key);
    if (!p) {
      const generation = feed.generation;
      const at = Date.now();
      const read = layerRevision(this.pool, layer).then((revision) => ({ revision, generation, at }));
      p = read;
      this.reading.set(key, read);
      read.then(
        (r) => {
          if (this.reading.get(key) === read) this.reading.delete(key);
          if (feed.live && r.generation === feed.generation) this.known.set(key, r);
        },
        () => {
          if (this.reading.get(key) === read) this.reading.delete(key);
        },
      );
    }
    return (await p).revision;
  }
}
