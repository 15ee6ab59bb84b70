/**
 * One basket layer → the FeatureQuery of the one planner (src/query/planner.ts: the same plan WFS and OGC
 * API Features run, the policy asked with the caller's principal for 'download'), with the extraction area
 * and the clip in the plan; compiled by src/query/compile.ts like every other feature statement.
 */
import type { Platform } from '../platform.js';
import type { Layer } from '../catalog/layers.js';
import type { Principal } from '../access/policy.js';
import type { FeatureQuery } from '../query/plan.js';
import { compileCount, compileSelect, type CompileOptions } from '../query/compile.js';
import { planFeatureQuery, PlanError } from '../query/planner.js';
import { PositionalBinder, type SqlParams, type CompiledSql } from '../db/sql.js';
import { parseCql2Text } from '../filter/cql2-text-reader.js';
import { crsRef } from '../crs/identifiers.js';
import { OgcError } from '../ogc/errors.js';
import { DownloadError } from './errors.js';
import type { ExtractRequest } from './request.js';
import type { ResolvedArea } from './area.js';


export interface LayerExtractPlan {
  layer: Layer;
  query: FeatureQuery;
  area?: ResolvedArea;
  clip: boolean;
}

/** A refusal or a bad value of the planner, as the download service says it. */
export function downloadPlanError(e: PlanError): DownloadError {
  if (e.kind === 'forbidden') return new DownloadError(e.status, e.status === 401 ? 'unauthorized' : 'forbidden', e.message, 'layer');
  return new DownloadError(400, 'invalid-parameter', e.message, e.param === 'crs' ? 'crs' : e.param === 'layer' ? 'layer' : e.param);
}

export function planLayer(platform: Platform, layer: Layer, req: ExtractRequest, area: ResolvedArea | undefined, principal: Principal): LayerExtractPlan {
  let filter;
  if (req.filter) {
    try {
      filter = parseCql2Text(req.filter);
    } catch (e) {
      throw new DownloadError(400, 'invalid-filter', e instanceof OgcError ? e.message : 'The CQL2 filter could not be parsed', 'filter');
    }
  }
  try {
    const query = planFeatureQuery(platform, principal, layer, {
      action: 'download',
      filter,
      outputCrs: crsRef(req.crs, 'epsg'),
      // A whole extract has no paging: no order to pay for.
      ordered: false,
      area: area ? { ewkbHex: area.ewkbHex, srid: area.srid, clip: req.clip, ...(area.spec.kind === 'admin' ? { minShare: platform.config.download.adminMinShare } : {}) } : undefined,
    });
    return { layer, query, area: query.area ? area : undefined, clip: req.clip };
  } catch (e) {
    throw e instanceof PlanError ? downloadPlanError(e) : e;
  }
}

/** SELECT <selectList> over the layer's extracted rows (row alias t). */
export function compileExtract(p: LayerExtractPlan, opts: CompileOptions, selectList: (params: SqlParams) => string, params: SqlParams = new PositionalBinder()): CompiledSql {
  return compileSelect(p.query, opts, selectList, 0, params);
}

/** Features the extract will hold (intersecting the area and passing the filter; a clip drops those that only touch it). */
export function compileExtractCount(p: LayerExtractPlan, opts: CompileOptions): CompiledSql {
  return compileCount(p.query, opts);
}
