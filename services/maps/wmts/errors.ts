/**
 * WMTS 1.0.0 exceptions (OGC 07-057r7 §7.1.1.3, §8.3 Table 28): an OWS 1.1 `ows:ExceptionReport` (version
 * 1.0.0) with the OWS codes and WMTS's own TileOutOfRange and PointIJOutOfRange (Table 30), the parameter as
 * locator. HTTP status as OWS 1.1
 * §8.6 and WMTS Table 28 give it: 400 for the client's errors (TileOutOfRange included), 403 for a refusal,
 * 404 for a REST resource that does not exist (GDAL and QGIS treat a 404 tile as empty), 500/503 for ours.
 */
import { toOgcError } from '../../../src/ogc/errors.js';
import { xmlEscape, XML_DECLARATION } from '../../../src/xml/escape.js';

export type WmtsExceptionCode = 'OperationNotSupported' | 'MissingParameterValue' | 'InvalidParameterValue' | 'TileOutOfRange' | 'PointIJOutOfRange' | 'VersionNegotiationFailed' | 'InvalidUpdateSequence' | 'NoApplicableCode';

export class WmtsError extends Error {
  constructor(
    readonly code: WmtsExceptionCode,
    message: string,
    readonly locator?: string,
    readonly status = code === 'NoApplicableCode' ? 500 : 400,
  ) {
    super(message);
  }
}

/** Any error of a WMTS request as a WmtsError (OgcErrors keep their code when WMTS has it, and their status). */
export function toWmtsError(e: unknown): WmtsError {
  if (e instanceof WmtsError) return e;
  const o = toOgcError(e);
  const known: WmtsExceptionCode[] = ['OperationNotSupported', 'MissingParameterValue', 'InvalidParameterValue', 'VersionNegotiationFailed', 'InvalidUpdateSequence'];
  const code = (known as string[]).includes(o.code) ? (o.code as WmtsExceptionCode) : 'NoApplicableCode';
  return new WmtsError(code, o.message, o.locator, o.status);
}

export const WMTS_EXCEPTION_TYPE = 'application/xml; charset=utf-8';

export function wmtsExceptionReport(err: WmtsError): string {
  const locator = err.locator ? ` locator="${xmlEscape(err.locator)}"` : '';
  return (
    XML_DECLARATION +
    `<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ` +
    `xsi:schemaLocation="http://www.opengis.net/ows/1.1 http://schemas.opengis.net/ows/1.1.0/owsExceptionReport.xsd" version="1.0.0" xml:lang="en">` +
    `<ows:Exception exceptionCode="${err.code}"${locator}><ows:ExceptionText>${xmlEscape(err.message)}</ows:ExceptionText></ows:Exception>` +
    `</ows:ExceptionReport>\n`
  );
}
