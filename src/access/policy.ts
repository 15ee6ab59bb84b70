/**
 * The access policy: the single place that decides what a caller may see and that adds the predicate
 * restricting a query (territorial grants will be an ST_Intersects with the grant's territory).
 * Every service asks it before touching a layer; the query compiler ANDs its restriction into every
 * statement it builds (features, counts, property values, downloads).
 *
 * For now every published layer is public to everyone (issue 2); users, groups and grants (sdi.users,
 * sdi.grants) come with the rights issue and must be decided here.
 */
import type { Layer } from '../catalog/layers.js';
import type { SqlParams } from '../db/sql.js';

export interface Principal {
  /** Login, or undefined for an anonymous caller. */
  login?: string;
}

export type Action = 'read' | 'download' | 'edit' | 'admin';

export interface AccessDecision {
  allowed: boolean;
  /** SQL predicate over the layer's row alias restricting what may be returned; undefined = no restriction. */
  restriction?: (params: SqlParams, alias: string) => string;
}

export const ANONYMOUS: Principal = {};

export class AccessPolicy {
  /** May `principal` perform `action` on `layer`, and under which restriction? */
  decide(_principal: Principal, _layer: Layer, action: Action): AccessDecision {
    if (action === 'read' || action === 'download') return { allowed: true };
    return { allowed: false };
  }

  /** Is the layer listed at all (capabilities, collections)? */
  canList(principal: Principal, layer: Layer): boolean {
    return this.decide(principal, layer, 'read').allowed;
  }
}
