/**
 * Catalogue records of restricted resources (issue 11): the record of a layer or raster layer the caller may not
 * view is hidden from CSW (GetRecords, GetRecordById, GetDomain) and DCAT, as the layer is hidden from the
 * capabilities. The ids come from the layer catalogue and the policy; the catalogue adds `NOT (r.id =
 * ANY($hidden))` to its statements, a bound parameter that also keys its page cache (so a cached count or page
 * is never shared by callers who see different records). A record described by several layers is hidden as
 * soon as one of them is. A record can also be restricted on its own (sdi.restricted_records, migration 0036,
 * `PUT /admin/access/records/{identifier}`): then only holders of a `record` grant on its identifier see it.
 */
import type { Platform } from '../platform.js';
import type { Principal } from './policy.js';

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
  const restricted = await restrictedRecords(platform, caller);
  if (platform.config.catalogue.restricted !== 'describe') return { hidden: restricted.map((r) => r.id), withoutLinks: new Set() };
  return { hidden: [], withoutLinks: new Set(restricted.map((r) => r.identifier)) };
}

/** The records hidden from this caller (none in describe mode: see recordVisibility). */
export async function hiddenRecordIds(platform: Platform, caller: Principal): Promise<string[]> {
  return (await recordVisibility(platform, caller)).hidden;
}

/**
 * The records this caller may not view (row id and identifier, by id): those of layers and raster layers it may
 * not view, and those restricted on their own (sdi.restricted_records, migration 0036) it holds no record grant
 * for. One round trip per request, as before the latter existed: the restricted records themselves are read
 * again only when the catalogue revision (moved by any change of the records or of the restrictions) has moved.
 */
async function restrictedRecords(platform: Platform, caller: Principal): Promise<Array<{ id: string; identifier: string }>> {
  const byId = new Map<string, string>();
  const layerRecords: string[] = [];
  for (const l of await platform.layers.list()) if (l.metadataRecordId !== null && !platform.policy.canList(caller, l)) layerRecords.push(String(l.metadataRecordId));
  const { rows } = await platform.pool.query<{ kind: 'raster' | 'layer' | 'revision'; name: string | null; id: string | null; identifier: string | null }>(CANDIDATES_SQL, [layerRecords]);
  let revision = '';
  for (const r of rows) {
    if (r.kind === 'revision') revision = r.name ?? '';
    else if (r.kind === 'layer' || !platform.policy.decideRaster(caller, { name: r.name!, public: false }, 'view').allowed) byId.set(r.id!, r.identifier!);
  }
  for (const r of await ownRestrictions(platform, revision)) if (!platform.policy.decideRecord(caller, { identifier: r.identifier, public: false }, 'view').allowed) byId.set(r.id, r.identifier);
  return [...byId].map(([id, identifier]) => ({ id, identifier })).sort((a, b) => Number(a.id) - Number(b.id));
}

/**
 * The records of the layers already decided ($1), of restricted raster layers, and the catalogue revision (as
 * `name` of a row of kind 'revision').
 */
const CANDIDATES_SQL = `
SELECT 'layer' AS kind, NULL AS name, r.id::text AS id, r.identifier FROM sdi.metadata_records r WHERE r.id = ANY($1::bigint[])
UNION ALL
SELECT 'raster', l.name, r.id::text, r.identifier FROM sdi.raster_layers l JOIN sdi.metadata_records r ON r.id = l.metadata_record_id WHERE l.published AND NOT l.public
UNION ALL
SELECT 'revision', revision::text, NULL, NULL FROM sdi.catalogue_revision`;

/**
 * The records restricted on their own, kept per platform for one catalogue revision. Reading them is a join of
 * the restrictions with the narrow search table (sdi.record_search: id, identifier), ~40 ms for 4,000 of 20,010
 * records at load 14 (/tmp/recgrants/bench.mjs): too much for every catalogue request, nothing once per change.
 * A restriction whose record is not (or no longer) in the catalogue has nothing to hide: the join leaves it out.
 * The list is read with its revision in one snapshot, so a list is never paired with a revision it is not of.
 */
const own = new WeakMap<Platform, { revision: string; rows: Array<{ id: string; identifier: string }> }>();

async function ownRestrictions(platform: Platform, revision: string): Promise<Array<{ id: string; identifier: string }>> {
  const hit = own.get(platform);
  if (hit && revision !== '' && hit.revision === revision) return hit.rows;
  const { rows } = await platform.pool.query<{ id: string | null; identifier: string | null; revision: string }>(OWN_SQL);
  const fresh = { revision: rows[0]?.revision ?? '', rows: rows.filter((r) => r.id !== null).map((r) => ({ id: r.id!, identifier: r.identifier! })) };
  own.set(platform, fresh);
  return fresh.rows;
}

/** One statement, one snapshot: the revision row always, with each restricted record of the catalogue. */
const OWN_SQL = `SELECT c.revision::text AS revision, r.id::text AS id, r.identifier
  FROM sdi.catalogue_revision c LEFT JOIN (sdi.restricted_records x JOIN sdi.record_search r ON r.identifier = x.identifier) ON true`;

/** The SQL predicate over alias `r` of sdi.metadata_records, or undefined when nothing is hidden. */
export function visibleRecordsSql(hidden: readonly string[], add: (value: unknown, cast?: string) => string): string | undefined {
  return hidden.length ? `NOT (r.id = ANY(${add([...hidden], 'bigint[]')}))` : undefined;
}
