/**
 * The one planner's errors (src/query/planner.ts, protocol-neutral) as OGC API Features errors, sent as
 * problem+json by the routes: a refusal keeps the planner's status (401 anonymous, 403 otherwise) and names the
 * collection; a bad value is a 400 InvalidParameterValue naming OGC API's own query parameter.
 */
import { OgcError, invalid } from '../../../src/ogc/errors.js';
import type { PlanError, PlanParam } from '../../../src/query/planner.js';

const OGCAPI_PARAMS: Record<PlanParam, string> = { layer: 'collectionId', properties: 'properties', sortBy: 'sortby', crs: 'crs' };

export function ogcapiPlanError(e: PlanError): OgcError {
  if (e.kind === 'forbidden') return new OgcError('NoApplicableCode', e.message, OGCAPI_PARAMS.layer, e.status);
  return invalid(OGCAPI_PARAMS[e.param], e.message);
}
