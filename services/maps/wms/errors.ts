/**
 * WMS 1.3.0 exceptions (OGC 06-042 §6.11 and annex H): a `ServiceExceptionReport version="1.3.0"` in the
 * `http://www.opengis.net/ogc` namespace, served as text/xml, with the WMS codes (LayerNotDefined,
 * StyleNotDefined, InvalidCRS, InvalidFormat, …). Parameter problems that have no WMS code use the OWS ones
 * (MissingParameterValue, InvalidParameterValue) with the parameter as locator. HTTP status: 400 for the
 * client's errors, 403 for a refusal, 500/503 for ours (QGIS and OWSLib read the report whatever the status).
 *
 * EXCEPTIONS=INIMAGE and BLANK (GetMap only, when the image size is known) are drawn by the GetMap handler.
 */
import { OgcError, toOgcError } from '../../../src/ogc/errors.js';
import { wmsExceptionReport130 } from '../../../src/ogc/exception-report.js';

export type WmsExceptionCode =
  | 'InvalidFormat'
  | 'InvalidCRS'
  | 'LayerNotDefined'
  | 'StyleNotDefined'
  | 'LayerNotQueryable'
  | 'InvalidPoint'
  | 'CurrentUpdateSequence'
  | 'InvalidUpdateSequence'
  | 'MissingDimensionValue'
  | 'InvalidDimensionValue'
  | 'OperationNotSupported'
  | 'MissingParameterValue'
  | 'InvalidParameterValue'
  | 'NoApplicableCode';

export class WmsError extends Error {
  constructor(
    readonly code: WmsExceptionCode,
    message: string,
    readonly locator?: string,
    readonly status = code === 'NoApplicableCode' ? 500 : 400,
  ) {
    super(message);
  }
}

/** Any error of a WMS request as a WmsError (OgcErrors keep their code and status; others are 500/503). */
export function toWmsError(e: unknown): WmsError {
  if (e instanceof WmsError) return e;
  const o: OgcError = toOgcError(e);
  const code: WmsExceptionCode = o.code === 'MissingParameterValue' || o.code === 'InvalidParameterValue' || o.code === 'OperationNotSupported' ? o.code : 'NoApplicableCode';
  return new WmsError(code, o.message, o.locator, o.status);
}

export const XML_EXCEPTION_TYPE = 'text/xml; charset=utf-8';

export function serviceExceptionReport130(err: WmsError): string {
  return wmsExceptionReport130(err.code, err.message, err.locator);
}
