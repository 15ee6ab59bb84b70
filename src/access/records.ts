/**
 * Catalogue records of restricted resources (issue 11): the record of a layer or raster layer the caller may not
 * view is hidden from CSW (GetRecords, GetRecordById, GetDomain) and DCAT, as the layer is hidden from the
 * capabilities. The ids come from the layer catalogue and the policy; the catalogue adds `NOT (r.id =
 * ANY($hidden))` to its statements, a bound parameter that also keys its page cache (so a cached count or page
 * is never shared by callers who see different records). A record described by several layers is hidden as
 * soon as one of them is.
 */
import type { Platform } from '../platform.js';
import type { Principal } from './policy.js';
import { identifiersOfRecords } from '../records/repository.js';

/**
 * What the catalogue does with the records of resources this caller may not view (SDI_CATALOGUE_RESTRICTED):
 * hide them (`hidden`, row ids, the default), or list them without their data links (`withoutLinks`, their
 * identifiers, filtered at output by src/access/record-links.ts).
 */
export interface RecordVisibility {
  hidden: string[];
  withoutLinks: ReadonlySet<string>;
}

export async function recordVisibility(platform: Platform, caller: Principal): Promise<RecordVisibility> {
  const restricted = await restrictedRecordIds(platform, caller);
  if (platform.config.catalogue.restricted !== 'describe') return { hidden: restricted, withoutLinks: new Set() };
  return { hidden: [], withoutLinks: new Set(restricted.length ? await identifiersOfRecords(platform.pool, restricted) : []) };
}

/** The records hidden from this caller (none in describe mode: see recordVisibility). */
export async function hiddenRecordIds(platform: Platform, caller: Principal): Promise<string[]> {
  return (await recordVisibility(platform, caller)).hidden;
}

/**
 * Row ids of the records of layers and raster layers this caller may not view.
 *
 * Both lists are read from memory while the change feed (src/db/change-feed.ts) is live and quiet, as the tile
 * routes read the layer catalogue: every statement on sdi.layers or sdi.raster_layers bumps the layers revision
 * and notifies (migrations 0017, 0027). Why: these were two queries before every CSW, DCAT and Records answer,
 * a third of the round trips of a first-seen GetRecords (issue 12; 4–11 ms of a 40–90 ms C1 at load 11–14,
 * bench/csw-steps.mjs). The policy still decides per caller on every request; only the registry is held.
 */
async function restrictedRecordIds(platform: Platform, caller: Principal): Promise<string[]> {
  const ids = new Set<string>();
  for (const l of await platform.layers.list({ notified: true })) if (l.metadataRecordId !== null && !platform.policy.canList(caller, l)) ids.add(String(l.metadataRecordId));
  for (const r of await restrictedRasters(platform)) if (!platform.policy.decideRaster(caller, { name: r.name, public: false }, 'view').allowed) ids.add(r.id);
  return [...ids].sort();
}

/** How long a held list of rasters is trusted whatever the feed says (changes no trigger sees), as the layer catalogue. */
const RASTERS_TTL_MS = 60_000;
const heldRasters = new WeakMap<Platform, { generation: number; at: number; rows: Array<{ name: string; id: string }> }>();

/** The published, non-public raster layers that have a record: held per platform while the change feed is quiet. */
async function restrictedRasters(platform: Platform): Promise<Array<{ name: string; id: string }>> {
  const feed = platform.changes;
  const held = heldRasters.get(platform);
  if (feed?.live && held && held.generation === feed.generation && Date.now() - held.at < RASTERS_TTL_MS) {
    // A notification already received by the process but not yet handled moves the generation first.
    await feed.settled();
    if (feed.live && held.generation === feed.generation) return held.rows;
  }
  // The generation is read before the query: a change notified while it runs leaves what it read stale.
  const generation = feed?.generation ?? -1;
  const live = feed?.live === true;
  const { rows } = await platform.pool.query<{ name: string; id: string }>(
    'SELECT name, metadata_record_id::text AS id FROM sdi.raster_layers WHERE published AND NOT public AND metadata_record_id IS NOT NULL',
  );
  if (feed && live) heldRasters.set(platform, { generation, at: Date.now(), rows });
  return rows;
}

/** The SQL predicate over alias `r` of sdi.metadata_records, or undefined when nothing is hidden. */
export function visibleRecordsSql(hidden: readonly string[], add: (value: unknown, cast?: string) => string): string | undefined {
  return hidden.length ? `NOT (r.id = ANY(${add([...hidden], 'bigint[]')}))` : undefined;
}
