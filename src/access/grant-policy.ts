/**
 * GrantPolicy (issue 11): public resources need no grant; a restricted one (sdi.layers.public = false,
 * sdi.raster_layers.public = false, a catalogue record in sdi.restricted_records) needs a grant of the action, or of an action that implies it, to the caller
 * or one of its groups, on the resource itself or on its dataset. A grant limited to a territory yields the SQL
 * predicate the compiler ANDs into every statement on the layer (WFS, OGC API, GetMap, GetFeatureInfo,
 * downloads): the feature's geometry intersects the union of the caller's territories for that action, read
 * from sdi.grants by grant id (bound parameters; a scalar sub-select, so evaluated once per statement and usable
 * by the spatial index). A grant without territory wins over territorial ones. On a raster layer, a territorial
 * grant yields the territory itself (AccessDecision.territory): maps, feature info and extracts cut the pixels to it.
 *
 * Decisions are synchronous: the caller's grants come with its principal (src/access/accounts.ts), loaded when
 * its credential is verified; the layer's public flag comes with the layer catalogue.
 */
import type { Layer } from '../catalog/layers.js';
import { quoteIdent } from '../db/identifiers.js';
import type { SqlParams } from '../db/sql.js';
import { mayUseEdit, type AccessDecision, type AccessPolicy, type Action, type AdminOperation, type Grant, type Principal, type RasterResource, type RecordResource, type ResourceKind } from './policy.js';

/** Which granted actions cover an asked one: download and edit imply read, read implies view, admin implies all. */
const IMPLIED_BY: Record<Action, readonly Action[]> = {
  view: ['view', 'read', 'download', 'edit', 'admin'],
  read: ['read', 'download', 'edit', 'admin'],
  download: ['download', 'admin'],
  edit: ['edit', 'admin'],
  admin: ['admin'],
};

const PUBLIC_ACTIONS: readonly Action[] = ['view', 'read', 'download'];
const ALLOWED: AccessDecision = { allowed: true };
const DENIED: AccessDecision = { allowed: false };

/** The caller's grants on any of `resources` covering `action`. */
export function grantsFor(principal: Principal, resources: Array<{ kind: ResourceKind; name: string | undefined }>, action: Action): Grant[] {
  const covering = IMPLIED_BY[action];
  return (principal.grants ?? []).filter((g) => covering.includes(g.action) && resources.some((r) => r.name !== undefined && r.kind === g.kind && r.name === g.name));
}

/** `alias.geom` intersects the union of the territories of these grants, in the layer's SRID. */
export function territoryPredicate(grantIds: number[], geometryColumn: string, srid: number): (params: SqlParams, alias: string) => string {
  return (params, alias) => {
    const ids = params.add(grantIds.map(String), 'bigint[]');
    const s = params.add(srid, 'integer');
    return `ST_Intersects(${alias}.${quoteIdent(geometryColumn)}, (SELECT ST_Transform(ST_Union(g.territory), ${s}) FROM sdi.grants g WHERE g.id = ANY(${ids}::bigint[])))`;
  };
}

/** The union of these grants' territories (EPSG:2154, as stored): a scalar sub-select, evaluated once. */
export function territoryGeometry(grantIds: number[]): (params: SqlParams) => string {
  return (params) => `(SELECT ST_Union(g.territory) FROM sdi.grants g WHERE g.id = ANY(${params.add(grantIds.map(String), 'bigint[]')}::bigint[]))`;
}

/**
 * The identifiers of the records these grants open for `action`, kept with the grants (a verified credential's
 * principal keeps its grants array): the catalogue asks for each restricted record of every request, and
 * filtering the grants each time cost 31 ms for 4,000 records and 100 grants at load 13 (/tmp/recgrants/bench.mjs).
 */
const recordSets = new WeakMap<readonly Grant[], Map<Action, ReadonlySet<string>>>();
const NO_GRANTS: readonly Grant[] = [];

function grantedRecords(principal: Principal, action: Action): ReadonlySet<string> {
  const grants = principal.grants ?? NO_GRANTS;
  let byAction = recordSets.get(grants);
  if (!byAction) recordSets.set(grants, (byAction = new Map()));
  let set = byAction.get(action);
  if (!set) {
    const covering = IMPLIED_BY[action];
    set = new Set(grants.filter((g) => g.kind === 'record' && !g.territorial && covering.includes(g.action)).map((g) => g.name));
    byAction.set(action, set);
  }
  return set;
}

export class GrantPolicy implements AccessPolicy {
  decide(principal: Principal, layer: Layer, action: Action): AccessDecision {
    if (action === 'edit' && !mayUseEdit(principal)) return DENIED;
    if (principal.admin) return ALLOWED;
    if (layer.public !== false && PUBLIC_ACTIONS.includes(action)) return ALLOWED;
    const grants = grantsFor(principal, [{ kind: 'layer', name: layer.name }, { kind: 'dataset', name: layer.dataset }], action);
    if (grants.length === 0) return DENIED;
    if (grants.some((g) => !g.territorial)) return ALLOWED;
    // A territory restricts geometries: a layer without one cannot be cut to it.
    if (!layer.geometry) return DENIED;
    return { allowed: true, restriction: territoryPredicate(grants.map((g) => g.id), layer.geometry.column, layer.geometry.srid) };
  }

  canList(principal: Principal, layer: Layer): boolean {
    return this.decide(principal, layer, 'view').allowed;
  }

  decideRaster(principal: Principal, raster: RasterResource, action: Action): AccessDecision {
    if (principal.admin) return ALLOWED;
    if (raster.public === true && PUBLIC_ACTIONS.includes(action)) return ALLOWED;
    const grants = grantsFor(principal, [{ kind: 'raster', name: raster.name }], action);
    if (grants.length === 0) return DENIED;
    if (grants.some((g) => !g.territorial)) return ALLOWED;
    // Territorial grants only: the pixels are cut to the union of their territories (maps, feature info, downloads).
    return { allowed: true, territory: territoryGeometry(grants.map((g) => g.id)) };
  }

  decideRecords(_principal: Principal): AccessDecision {
    return ALLOWED;
  }

  /**
   * A record restricted on its own: a `record` grant on its identifier. A territory cannot cut a record (no
   * features): the admin API refuses one on a record grant, and a territorial one found here opens nothing.
   */
  decideRecord(principal: Principal, record: RecordResource, action: Action): AccessDecision {
    if (principal.admin) return ALLOWED;
    if (record.public === true && PUBLIC_ACTIONS.includes(action)) return ALLOWED;
    return grantedRecords(principal, action).has(record.identifier) ? ALLOWED : DENIED;
  }

  mayAdminister(principal: Principal, _operation: AdminOperation): boolean {
    return principal.admin === true;
  }
}
