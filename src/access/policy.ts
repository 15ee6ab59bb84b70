/**
 * The access policy: the single place that decides what a caller may see and that adds the predicate
 * restricting a query (territorial grants will be an ST_Intersects with the grant's territory). Every
 * service asks it with the request's principal (src/server/principal.ts) before touching a resource:
 * feature layers (through the planner, src/query/planner.ts), raster layers, catalogue records (CSW,
 * DCAT), Atom feeds and files, and the administrative operations (CSW-T, Harvest). The query compiler ANDs
 * a layer's restriction into every statement it builds (features, counts, property values, downloads).
 *
 * PublicPolicy: every published layer and record is public; administration needs the admin principal.
 * DenyAllPolicy (SDI_ACCESS_POLICY=deny-all): nothing is served to anyone, a lockdown for maintenance, and
 * the policy of the route-walk test that proves no path skips the policy. GrantPolicy (src/access/grant-policy.ts,
 * SDI_ACCESS_POLICY=grants, the default once users exist): users, groups and grants (issue 11).
 */
import type { Layer } from '../catalog/layers.js';
import type { SqlParams } from '../db/sql.js';

export interface Principal {
  /** Login, or undefined for an anonymous caller. */
  login?: string;
  /** An administrator (the environment's admin token, or a user with is_admin): every right. */
  admin?: boolean;
  /** The user's grants and those of its groups, as loaded when the credential was verified. */
  grants?: readonly Grant[];
  /** The scopes of the API token the caller came with (undefined: a password, every scope). Editing needs 'edit'. */
  scopes?: readonly string[];
  /** The id of that API token (sdi.api_tokens.id): its own rate limit (src/server/rate-limit.ts). */
  tokenId?: string;
}

/** A token without the edit scope edits nothing, whatever its owner's grants (an administrator's token included). */
export const mayUseEdit = (principal: Principal): boolean => principal.scopes === undefined || principal.scopes.includes('edit');

export type Action = 'view' | 'read' | 'download' | 'edit' | 'admin';

export type ResourceKind = 'layer' | 'raster' | 'dataset' | 'record';

/** One row of sdi.grants as the policy needs it (the territory itself stays in the database). */
export interface Grant {
  id: number;
  kind: ResourceKind;
  /** Name of the layer, raster layer or dataset, or identifier of the record. */
  name: string;
  action: Action;
  territorial: boolean;
}

export interface AccessDecision {
  allowed: boolean;
  /** SQL predicate over the resource's row alias restricting what may be returned; undefined = no restriction. */
  restriction?: (params: SqlParams, alias: string) => string;
  /**
   * Raster layers (decideRaster): the granted territory as an SQL geometry expression (EPSG:2154, as stored in
   * sdi.grants), to which the pixels are cut (src/render/raster-cut.ts, src/download/raster.ts); undefined = the whole raster.
   */
  territory?: TerritorySql;
}

/** An SQL geometry expression (its values bound through `params`). */
export type TerritorySql = (params: SqlParams) => string;

/** A raster layer as the policy sees it. */
export interface RasterResource {
  name: string;
  /** false: restricted (needs a grant); undefined: unknown, taken as restricted by GrantPolicy. */
  public?: boolean;
}

/** A catalogue record as the policy sees it (records restricted on their own: sdi.restricted_records, migration 0036). */
export interface RecordResource {
  identifier: string;
  /** false: restricted (needs a `record` grant); undefined: unknown, taken as restricted by GrantPolicy. */
  public?: boolean;
}

/** Administrative operations. */
export type AdminOperation = 'csw-transaction' | 'harvest' | 'jobs' | 'admin-api';

export const ANONYMOUS: Principal = {};

export const ADMIN_PRINCIPAL_LOGIN = 'admin';

const DENIED: AccessDecision = { allowed: false };
const ALLOWED: AccessDecision = { allowed: true };

export interface AccessPolicy {
  /** May `principal` perform `action` on the feature layer, and under which restriction? */
  decide(principal: Principal, layer: Layer, action: Action): AccessDecision;
  /** Is the layer listed at all (capabilities, collections, feeds)? */
  canList(principal: Principal, layer: Layer): boolean;
  decideRaster(principal: Principal, raster: RasterResource, action: Action): AccessDecision;
  /** Catalogue records (CSW, DCAT): allowed, with a restriction over the stored records (src/records) when some are hidden. */
  decideRecords(principal: Principal): AccessDecision;
  /** One catalogue record restricted on its own (src/access/records.ts asks for each; the records of layers follow their layer). */
  decideRecord(principal: Principal, record: RecordResource, action: Action): AccessDecision;
  mayAdminister(principal: Principal, operation: AdminOperation): boolean;
}

export class PublicPolicy implements AccessPolicy {
  decide(_principal: Principal, _layer: Layer, action: Action): AccessDecision {
    return action === 'view' || action === 'read' || action === 'download' ? ALLOWED : DENIED;
  }

  canList(principal: Principal, layer: Layer): boolean {
    return this.decide(principal, layer, 'read').allowed;
  }

  decideRaster(_principal: Principal, _raster: RasterResource, action: Action): AccessDecision {
    return action === 'view' || action === 'read' || action === 'download' ? ALLOWED : DENIED;
  }

  decideRecords(_principal: Principal): AccessDecision {
    return ALLOWED;
  }

  decideRecord(_principal: Principal, _record: RecordResource, action: Action): AccessDecision {
    return action === 'view' || action === 'read' || action === 'download' ? ALLOWED : DENIED;
  }

  mayAdminister(principal: Principal, _operation: AdminOperation): boolean {
    return principal.admin === true;
  }
}

export class DenyAllPolicy implements AccessPolicy {
  decide(): AccessDecision {
    return DENIED;
  }
  canList(): boolean {
    return false;
  }
  decideRaster(): AccessDecision {
    return DENIED;
  }
  decideRecords(): AccessDecision {
    return DENIED;
  }
  decideRecord(): AccessDecision {
    return DENIED;
  }
  mayAdminister(): boolean {
    return false;
  }
}

/** The policies a name selects; 'grants' lives in its own module (src/access/grant-policy.ts, chosen by src/platform.ts). */
export function policyByName(name: string | undefined): AccessPolicy {
  return name === 'deny-all' ? new DenyAllPolicy() : new PublicPolicy();
}

/**
 * May the caller read the catalogue's records? A restriction over records is not compiled by the catalogue
 * yet (no policy returns one before the rights issue): it fails closed, so a future grant cannot leak.
 */
export function mayReadRecords(policy: AccessPolicy, caller: Principal): boolean {
  const d = policy.decideRecords(caller);
  return d.allowed && d.restriction === undefined;
}
