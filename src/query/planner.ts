/**
 * The one feature planner: every protocol that reads a layer (WFS GetFeature and GetPropertyValue, OGC API
 * Features items, downloads, and next WMS GetMap / GetFeatureInfo and tiles) turns its request into a
 * FeatureQuery here, so that the access policy is asked with the real caller on every path, and properties,
 * sort keys, CRS, paging and the extraction area are resolved by the same rules (issue 8).
 *
 * Errors are protocol-neutral (PlanError: what went wrong and which part of the spec); each adapter maps
 * them to its own format and parameter names (see WFS_LOCATORS and friends in the adapters).
 */
import type { Layer } from '../catalog/layers.js';
import type { Filter } from '../filter/ast.js';
import type { CrsRef } from '../crs/identifiers.js';
import type { CrsRegistry } from '../crs/registry.js';
import type { AccessPolicy, Principal } from '../access/policy.js';
import type { FeatureQuery, NearestPoint, OverviewSource, QueryArea } from './plan.js';
import type { AccessDecision } from '../access/policy.js';
import type { OverviewLevel } from '../catalog/overviews.js';
import { resolveProperty } from '../db/identifiers.js';

/** The part of a request a PlanError is about; adapters name it their own way (PROPERTYNAME, properties…). */
export type PlanParam = 'layer' | 'properties' | 'sortBy' | 'crs';

export class PlanError extends Error {
  constructor(
    readonly kind: 'forbidden' | 'invalid',
    readonly param: PlanParam,
    message: string,
    /** HTTP status of a refusal: 401 for an anonymous caller (a credential may open it), 403 otherwise. */
    readonly status: 400 | 401 | 403 = kind === 'forbidden' ? 403 : 400,
  ) {
    super(message);
  }
}

/** The status of a refusal to this caller: 401 when anonymous (RFC 9110 §15.5.2: credentials may help), else 403. */
export const refusalStatus = (caller: Principal): 401 | 403 => (caller.login === undefined ? 401 : 403);

export interface FeatureQuerySpec {
  /** read: WFS / OGC API / GetFeatureInfo; view: maps (WMS GetMap, tiles); download: the download service. */
  action: 'read' | 'view' | 'download';
  filter?: Filter;
  /** Output CRS as the client wrote it (parsed by the adapter); must be offered for the layer. */
  outputCrs: CrsRef;
  /** Property names as written by the client; undefined = every attribute and the geometry. */
  properties?: string[];
  sortBy?: Array<{ name: string; descending: boolean }>;
  offset?: number;
  /** null or undefined: no limit (the service's cap is applied by the adapter). */
  limit?: number | null;
  /** Whether the rows must come in a stable order (paging needs it; maps, tiles and whole extracts do not). */
  ordered?: boolean;
  /** Restrict to an area (bound as EWKB), clipping the geometries to it or not. */
  area?: QueryArea;
  /** Rows nearest this point first (GetFeatureInfo: the feature under the click before its neighbours). */
  nearest?: NearestPoint;
  /**
   * A map that could draw from an overview (src/publishing/overview-job.ts): its resolution (map CRS units a
   * pixel, the finer axis) and CRS, and the layer's registered levels. Offered by the caller only when the style
   * draws every row alike (no rule filter, no label); the planner decides the rest (chooseOverview).
   */
  overview?: { resolution: number; srid: number; levels: readonly OverviewLevel[] };
}

export interface PlannerEnv {
  policy: AccessPolicy;
  crs: CrsRegistry;
}

export function planFeatureQuery(env: PlannerEnv, caller: Principal, layer: Layer, spec: FeatureQuerySpec): FeatureQuery {
  const access = env.policy.decide(caller, layer, spec.action);
  if (!access.allowed) throw new PlanError('forbidden', 'layer', `You may not ${spec.action} layer ${layer.name}`, refusalStatus(caller));
  checkOutputCrs(env.crs, layer, spec.outputCrs);
  let properties: string[] | undefined;
  let includeGeometry = !!layer.geometry;
  if (spec.properties) {
    const resolved = spec.properties.map((p) => {
      const c = resolveProperty(layer, p);
      if (!c) throw new PlanError('invalid', 'properties', `Unknown property '${p.slice(0, 80)}' for ${layer.name}`);
      return c;
    });
    includeGeometry = !!layer.geometry && resolved.includes(layer.geometry.column);
    properties = layer.columns.map((c) => c.name).filter((c) => resolved.includes(c));
  }
  const sortBy = (spec.sortBy ?? []).map((s) => {
    const c = resolveProperty(layer, s.name);
    if (!c || c === layer.geometry?.column) throw new PlanError('invalid', 'sortBy', `Cannot sort on '${s.name.slice(0, 80)}'`);
    return { column: c, descending: s.descending };
  });
  return {
    layer,
    access,
    filter: spec.filter,
    outputCrs: spec.outputCrs,
    properties,
    includeGeometry,
    sortBy,
    offset: spec.offset ?? 0,
    limit: spec.limit ?? null,
    ordered: spec.ordered ?? true,
    area: layer.geometry ? spec.area : undefined,
    nearest: layer.geometry ? spec.nearest : undefined,
    overview: chooseOverview(layer, access, spec),
  };
}

/**
 * The overview level a map reads instead of the layer's table, or none (the table, as always). Only for a map
 * (view, unordered, no limit, no area) whose only filter is its box, in the layer's own CRS, for a caller the
 * policy lets view the whole layer (an overview cannot apply a restriction or a territory: one row holds the
 * features of a block), and a level detailed enough: made for this resolution or a finer one. Of those,
 * the coarsest (fewest rows). Whether the level is fresh is decided by the statement itself (compile.ts).
 */
export function chooseOverview(layer: Layer, access: AccessDecision, spec: FeatureQuerySpec): OverviewSource | undefined {
  const o = spec.overview;
  const geom = layer.geometry;
  if (!o || !geom || spec.action !== 'view' || spec.ordered !== false || (spec.limit ?? null) !== null || spec.area || spec.nearest || spec.sortBy?.length) return undefined;
  if (!access.allowed || access.restriction !== undefined || access.territory !== undefined) return undefined;
  const f = spec.filter;
  if (!f || f.kind !== 'bbox' || (f.envelope.srid ?? geom.srid) !== geom.srid || o.srid !== geom.srid) return undefined;
  let best: OverviewLevel | undefined;
  for (const l of o.levels) {
    if (l.srid !== geom.srid || l.layer !== layer.name || l.minResolution > o.resolution * (1 + 1e-9)) continue;
    if (!best || l.minResolution > best.minResolution) best = l;
  }
  if (!best) return undefined;
  const e = f.envelope;
  return { table: best.table, level: best.level, cell: best.cell, srid: geom.srid, box: { minx: e.minx, miny: e.miny, maxx: e.maxx, maxy: e.maxy } };
}

/** Features come out in the layer's CRSs or WGS 84 only (every service offers WGS 84). */
function checkOutputCrs(crs: CrsRegistry, layer: Layer, ref: CrsRef): void {
  const native = layer.geometry?.srid ?? layer.defaultCrs;
  if (ref.srid === 4326 || crs.layerCrs(native, layer.otherCrs).includes(ref.srid)) return;
  throw new PlanError('invalid', 'crs', `CRS EPSG:${ref.srid} is not offered for ${layer.name}`);
}
