/**
 * Issue 8: each adapter maps the one planner's protocol-neutral errors (PlanError) to its own exception format,
 * naming its own parameters, without a server. The errors come from the real planner (a deny-all policy for the
 * refusals, an unknown property, a sort on the geometry, a CRS not offered), and each mapped error is written by
 * the adapter's own document writer: WFS ExceptionReport, OGC API and download problem+json, WMS
 * ServiceExceptionReport.
 */
import { describe, expect, it } from 'vitest';
import { planFeatureQuery, type PlanError } from '../../src/query/planner.js';
import { DenyAllPolicy } from '../../src/access/policy.js';
import { crsRef } from '../../src/crs/identifiers.js';
import { owsExceptionReport, problemJson } from '../../src/ogc/exception-report.js';
import { downloadPlanError } from '../../src/download/sql.js';
import { problemDocument } from '../../src/download/errors.js';
import { wfsPlanError } from '../../services/features/wfs/get-feature.js';
import { ogcapiPlanError } from '../../services/features/ogcapi/plan-error.js';
import { featureInfoPlanError, getMapPlanError } from '../../services/maps/wms/plan-error.js';
import { serviceExceptionReport111, serviceExceptionReport130 } from '../../services/maps/wms/errors.js';
import { anonymous, communes, env, planError, read, someone } from './planner-fixtures.js';

/** One PlanError of each kind, as the planner throws them. */
const errors = (): Record<'anonymousRefused' | 'userRefused' | 'property' | 'sort' | 'crs', PlanError> => ({
  anonymousRefused: planError(() => planFeatureQuery(env(new DenyAllPolicy()), anonymous, communes, read())),
  userRefused: planError(() => planFeatureQuery(env(new DenyAllPolicy()), someone, communes, read())),
  property: planError(() => planFeatureQuery(env(), someone, communes, read({ properties: ['population'] }))),
  sort: planError(() => planFeatureQuery(env(), someone, communes, read({ sortBy: [{ name: 'geom', descending: false }] }))),
  // 3035 exists but is not offered for the layer.
  crs: planError(() => planFeatureQuery(env(), someone, communes, read({ outputCrs: crsRef(3035, 'urn') }))),
});

describe('the planner says what and which part, not how', () => {
  it('a refusal is 401 for an anonymous caller (RFC 9110 §15.5.2: a credential may help), 403 for a known one; bad values name their part', () => {
    const e = errors();
    expect(e.anonymousRefused).toMatchObject({ kind: 'forbidden', param: 'layer', status: 401 });
    expect(e.userRefused).toMatchObject({ kind: 'forbidden', param: 'layer', status: 403 });
    expect(e.property).toMatchObject({ kind: 'invalid', param: 'properties', status: 400 });
    expect(e.sort).toMatchObject({ kind: 'invalid', param: 'sortBy', status: 400 });
    expect(e.crs).toMatchObject({ kind: 'invalid', param: 'crs', status: 400 });
  });
});

describe('WFS: OWS ExceptionReport with WFS parameter names as locators (OGC 09-025r2 §7.5, OGC 06-121r9 Table 28)', () => {
  it('a refusal: NoApplicableCode on typeNames, with the planner status', () => {
    const e = errors();
    expect(wfsPlanError(e.anonymousRefused)).toMatchObject({ code: 'NoApplicableCode', locator: 'typeNames', status: 401 });
    expect(wfsPlanError(e.userRefused)).toMatchObject({ code: 'NoApplicableCode', locator: 'typeNames', status: 403 });
    expect(owsExceptionReport(wfsPlanError(e.userRefused))).toContain('<ows:Exception exceptionCode="NoApplicableCode" locator="typeNames">');
  });

  it('bad values: InvalidParameterValue 400 on PROPERTYNAME, SORTBY, srsName', () => {
    const e = errors();
    expect(wfsPlanError(e.property)).toMatchObject({ code: 'InvalidParameterValue', locator: 'PROPERTYNAME', status: 400 });
    expect(wfsPlanError(e.sort)).toMatchObject({ code: 'InvalidParameterValue', locator: 'SORTBY', status: 400 });
    expect(wfsPlanError(e.crs)).toMatchObject({ code: 'InvalidParameterValue', locator: 'srsName', status: 400 });
    expect(owsExceptionReport(wfsPlanError(e.property))).toContain('exceptionCode="InvalidParameterValue" locator="PROPERTYNAME"');
  });
});

describe('OGC API Features: problem+json naming OGC API parameters (OGC 17-069r4 /req/core/query-param-invalid)', () => {
  it('a refusal names the collection, with the planner status', () => {
    const e = errors();
    expect(problemJson(ogcapiPlanError(e.anonymousRefused))).toMatchObject({ status: 401, locator: 'collectionId' });
    expect(problemJson(ogcapiPlanError(e.userRefused))).toMatchObject({ status: 403, locator: 'collectionId' });
  });

  it('bad values: 400 on properties, sortby, crs (the query parameters of Part 1 and 2)', () => {
    const e = errors();
    expect(problemJson(ogcapiPlanError(e.property))).toMatchObject({ type: 'urn:ogc:exception:InvalidParameterValue', status: 400, locator: 'properties' });
    expect(problemJson(ogcapiPlanError(e.sort))).toMatchObject({ status: 400, locator: 'sortby' });
    expect(problemJson(ogcapiPlanError(e.crs))).toMatchObject({ status: 400, locator: 'crs' });
  });
});

describe('download: problem+json of the download service (RFC 9457) naming its parameters', () => {
  it('a refusal: unauthorized 401 / forbidden 403 on layer', () => {
    const e = errors();
    expect(problemDocument(downloadPlanError(e.anonymousRefused))).toMatchObject({ status: 401, type: expect.stringMatching(/\/unauthorized$/), parameter: 'layer' });
    expect(problemDocument(downloadPlanError(e.userRefused))).toMatchObject({ status: 403, type: expect.stringMatching(/\/forbidden$/), parameter: 'layer' });
  });

  it('a CRS not offered for the layer: invalid-parameter 400 on crs', () => {
    expect(problemDocument(downloadPlanError(errors().crs))).toMatchObject({ status: 400, type: expect.stringMatching(/\/invalid-parameter$/), parameter: 'crs' });
  });
});

describe('WMS: ServiceExceptionReport with WMS codes and parameters (OGC 06-042 §6.11, Table E.1)', () => {
  const map = { layer: 'communes', style: 'default', crs: 'EPSG:3035', styleLocator: 'STYLES' as const };

  it('GetMap: a refusal on LAYERS with the planner status; a CRS not offered is InvalidCRS (InvalidSRS in 1.1.1); a property its style names is the style\'s fault', () => {
    const e = errors();
    expect(getMapPlanError(e.anonymousRefused, map)).toMatchObject({ code: 'NoApplicableCode', locator: 'LAYERS', status: 401 });
    expect(getMapPlanError(e.userRefused, map)).toMatchObject({ code: 'NoApplicableCode', locator: 'LAYERS', status: 403 });
    const crs = getMapPlanError(e.crs, map);
    expect(crs).toMatchObject({ code: 'InvalidCRS', locator: 'CRS', status: 400 });
    expect(serviceExceptionReport130(crs)).toContain('<ServiceException code="InvalidCRS" locator="CRS">');
    expect(serviceExceptionReport111(crs)).toContain('code="InvalidSRS"');
    expect(getMapPlanError(e.property, map)).toMatchObject({ code: 'InvalidParameterValue', locator: 'STYLES', status: 400 });
    expect(getMapPlanError(e.property, { ...map, styleLocator: 'SLD_BODY' })).toMatchObject({ locator: 'SLD_BODY' });
  });

  it('GetFeatureInfo: a refusal is LayerNotQueryable on QUERY_LAYERS; a CRS not offered is InvalidCRS', () => {
    const e = errors();
    expect(featureInfoPlanError(e.userRefused, map)).toMatchObject({ code: 'LayerNotQueryable', locator: 'QUERY_LAYERS', status: 403 });
    expect(featureInfoPlanError(e.crs, map)).toMatchObject({ code: 'InvalidCRS', locator: 'CRS', status: 400 });
  });
});
