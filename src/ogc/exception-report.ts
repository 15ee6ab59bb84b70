/** Writers for OGC exception documents (OWS 1.1 for WFS 2.0 / 1.1, ServiceExceptionReport for WFS 1.0). */
import { OgcError } from './errors.js';
import { xmlEscape, XML_DECLARATION } from '../xml/escape.js';

export function owsExceptionReport(err: OgcError, version = '2.0.0'): string {
  const locator = err.locator ? ` locator="${xmlEscape(err.locator)}"` : '';
  return (
    XML_DECLARATION +
    `<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ` +
    `xsi:schemaLocation="http://www.opengis.net/ows/1.1 http://schemas.opengis.net/ows/1.1.0/owsExceptionReport.xsd" ` +
    `version="${xmlEscape(version)}" xml:lang="en">` +
    `<ows:Exception exceptionCode="${err.code}"${locator}><ows:ExceptionText>${xmlEscape(err.message)}</ows:ExceptionText></ows:Exception>` +
    `</ows:ExceptionReport>\n`
  );
}

export function serviceExceptionReport(err: OgcError): string {
  const locator = err.locator ? ` locator="${xmlEscape(err.locator)}"` : '';
  return (
    XML_DECLARATION +
    `<ServiceExceptionReport version="1.2.0" xmlns="http://www.opengis.net/ogc">` +
    `<ServiceException code="${err.code}"${locator}>${xmlEscape(err.message)}</ServiceException></ServiceExceptionReport>\n`
  );
}

/**
 * WMS 1.3.0 ServiceExceptionReport (OGC 06-042 annex H, exceptions_1_3_0.xsd): the WMS service's writer, and the
 * framework errors' under /wms. `code` is a WMS code (LayerNotDefined, InvalidCRS…) or an OWS one.
 */
export function wmsExceptionReport130(code: string, message: string, locator?: string): string {
  const loc = locator ? ` locator="${xmlEscape(locator)}"` : '';
  return (
    XML_DECLARATION +
    `<ServiceExceptionReport version="1.3.0" xmlns="http://www.opengis.net/ogc" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ` +
    `xsi:schemaLocation="http://www.opengis.net/ogc http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd">` +
    `<ServiceException code="${xmlEscape(code)}"${loc}>${xmlEscape(message)}</ServiceException></ServiceExceptionReport>\n`
  );
}

/** RFC 9457 problem details, for the JSON APIs. */
export function problemJson(err: OgcError, instance?: string): Record<string, unknown> {
  return { type: `urn:ogc:exception:${err.code}`, title: err.code, status: err.status, detail: err.message, ...(err.locator ? { locator: err.locator } : {}), ...(instance ? { instance } : {}) };
}

/** OWS 1.0.0 (`http://www.opengis.net/ows`) ExceptionReport, as CSW 2.0.2 uses it (report version 1.2.0). */
/**
 * OWS 1.0 (CSW 2.0.2, WFS 1.1.0) knows six exception codes (OGC 05-008 Table 20); OperationProcessingFailed, an
 * OWS 1.1 / ISO 19142 code, is said with the nearest of them: a request value that cannot be evaluated is
 * InvalidParameterValue, a failure of the server (timeout, no connection) NoApplicableCode.
 */
function ows10Code(err: OgcError): string {
  if (err.code !== 'OperationProcessingFailed') return err.code;
  return err.status < 500 ? 'InvalidParameterValue' : 'NoApplicableCode';
}

export function owsExceptionReport10(err: OgcError, version = '1.2.0'): string {
  const locator = err.locator ? ` locator="${xmlEscape(err.locator)}"` : '';
  return (
    XML_DECLARATION +
    `<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ` +
    `xsi:schemaLocation="http://www.opengis.net/ows http://schemas.opengis.net/ows/1.0.0/owsExceptionReport.xsd" ` +
    `version="${xmlEscape(version)}" language="en">` +
    `<ows:Exception exceptionCode="${ows10Code(err)}"${locator}><ows:ExceptionText>${xmlEscape(err.message)}</ows:ExceptionText></ows:Exception>` +
    `</ows:ExceptionReport>\n`
  );
}
