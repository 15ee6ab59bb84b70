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

/** Row ids of the records of layers and raster layers this caller may not view. */
async function restrictedRecordIds(platform: Platform, caller: Principal): Promise<string[]> {
  const ids = new Set<string>();
  for (const l of await platform.layers.list()) if (l.metadataRecordId !== null && !platform.policy.canList(caller, l)) ids.add(String(l.metadataRecordId));
  const { rows } = await platform.pool.query<{ name: string; id: string }>(
    'SELECT name, metadata_record_id::text AS id FROM sdi.raster_layers WHERE published AND NOT public AND metadata_record_id IS NOT NULL',
  );
  for (const r of rows) if (!platform.policy.decideRaster(caller, { name: r.name, public: false }, 'view').allowed) ids.add(r.id);
  return [...ids].sort();
}

/** The SQL predicate over alias `r` of sdi.metadata_records, or undefined when nothing is hidden. */
export function visibleRecordsSql(hidden: readonly string[], add: (value: unknown, cast?: string) => string): string | undefined {
  return hidden.length ? `NOT (r.id = ANY(${add([...hidden], 'bigint[]')}))` : undefined;
}
