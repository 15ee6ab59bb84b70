/**
 * WMS 1.3.0 exceptions (OGC 06-042 §6.11 and annex H): a `ServiceExceptionReport version="1.3.0"` in the
 * `http://www.opengis.net/ogc` namespace, served as text/xml, with the WMS codes (LayerNotDefined,
 * StyleNotDefined, InvalidCRS, InvalidFormat, …). Parameter problems that have no WMS code use the OWS ones
 * (MissingParameterValue, InvalidParameterValue) with the parameter as locator. HTTP status: 400 for the
 * client's errors, 403 for a refusal, 500/503 for ours (QGIS and OWSLib read the report whatever the status).
 *
 * WMS 1.1.1 requests get the 1.1.1 report (serviceExceptionReport111).
 *
 * EXCEPTIONS=INIMAGE and BLANK (GetMap only, when the image size is known) are drawn by the GetMap handler.
 */
import { OgcError, toOgcError } from '../../../src/ogc/errors.js';
import { wmsExceptionReport130 } from '../../../src/ogc/exception-report.js';
import { xmlEscape, XML_DECLARATION } from '../../../src/xml/escape.js';

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

/** WMS 1.1.1 exceptions are served as application/vnd.ogc.se_xml (OGC 01-068r3 §6.8; OWSLib's 1.1.1 client looks for it). */
export const XML_EXCEPTION_TYPE_111 = 'application/vnd.ogc.se_xml; charset=utf-8';

/** The 1.1.1 names of the 1.3.0 parameters that were renamed. */
const LOCATORS_111: Record<string, string> = { CRS: 'SRS', I: 'X', J: 'Y' };

/**
 * A WMS 1.1.1 ServiceExceptionReport (OGC 01-068r3 annex A.3, valid against exception_1_1_1.dtd): no
 * namespace, no locator attribute (the parameter is named in the text), and the 1.1.1 name InvalidSRS
 * for what 1.3.0 calls InvalidCRS.
 */
export function serviceExceptionReport111(err: WmsError): string {
  const code = err.code === 'InvalidCRS' ? 'InvalidSRS' : err.code;
  const locator = err.locator && (LOCATORS_111[err.locator] ?? err.locator);
  const text = locator ? `${err.message} (parameter ${locator})` : err.message;
  return (
    XML_DECLARATION +
    '<!DOCTYPE ServiceExceptionReport SYSTEM "http://schemas.opengis.net/wms/1.1.1/exception_1_1_1.dtd">' +
    `<ServiceExceptionReport version="1.1.1"><ServiceException code="${code}">${xmlEscape(text)}</ServiceException></ServiceExceptionReport>\n`
  );
}
