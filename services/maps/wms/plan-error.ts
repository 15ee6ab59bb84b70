/**
 * The one planner's errors (src/query/planner.ts, protocol-neutral) as WMS exceptions, with WMS's parameter names
 * as locators: a refusal keeps the planner's status (401 anonymous, 403 otherwise), a CRS not offered for the layer
 * is InvalidCRS, anything else InvalidParameterValue. Kept apart from the handlers so that the mapping is unit-tested
 * without a server (test/unit/plan-errors.test.ts), as the other adapters' are.
 */
import type { PlanError } from '../../../src/query/planner.js';
import { WmsError } from './errors.js';

/** GetMap: the layer is named by LAYERS; a property its style names and the layer lacks is the style's fault. */
export function getMapPlanError(e: PlanError, o: { layer: string; style: string; crs: string; styleLocator: 'STYLES' | 'SLD_BODY' }): WmsError {
  if (e.kind === 'forbidden') return new WmsError('NoApplicableCode', e.message, 'LAYERS', e.status);
  if (e.param === 'crs') return new WmsError('InvalidCRS', `CRS ${o.crs.slice(0, 80)} is not offered for layer ${o.layer}`, 'CRS');
  if (e.param === 'properties') return new WmsError('InvalidParameterValue', `Style ${o.style} does not fit layer ${o.layer}: ${e.message}`, o.styleLocator);
  return new WmsError('InvalidParameterValue', e.message, 'LAYERS');
}

/** GetFeatureInfo: the layer is named by QUERY_LAYERS; a refusal there is LayerNotQueryable (OGC 06-042 Table E.1). */
export function featureInfoPlanError(e: PlanError, o: { layer: string; crs: string }): WmsError {
  if (e.kind === 'forbidden') return new WmsError('LayerNotQueryable', e.message, 'QUERY_LAYERS', e.status);
  if (e.param === 'crs') return new WmsError('InvalidCRS', `CRS ${o.crs.slice(0, 80)} is not offered for layer ${o.layer}`, 'CRS');
  return new WmsError('InvalidParameterValue', e.message, 'QUERY_LAYERS');
}
