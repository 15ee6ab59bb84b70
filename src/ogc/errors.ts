/**
 * One error type for every protocol: services throw OgcError with an OWS exception code and a locator;
 * each protocol's renderer turns it into its own body (ows:ExceptionReport, ServiceExceptionReport,
 * application/problem+json). Messages are written for the caller: no SQL, no stack.
 */
import { isDatabaseUnavailable } from '../db/errors.js';

export type OwsExceptionCode =
  | 'OperationNotSupported'
  | 'MissingParameterValue'
  | 'InvalidParameterValue'
  | 'VersionNegotiationFailed'
  | 'InvalidUpdateSequence'
  | 'OptionNotSupported'
  | 'NoApplicableCode'
  | 'OperationParsingFailed'
  | 'OperationProcessingFailed'
  | 'NotFound'
  | 'ResponseCacheExpired'
  | 'CannotLockAllFeatures'
  | 'DuplicateStoredQueryIdValue'
  | 'DuplicateStoredQueryParameterName'
  | 'Forbidden';

const STATUS: Record<OwsExceptionCode, number> = {
  OperationNotSupported: 400,
  MissingParameterValue: 400,
  InvalidParameterValue: 400,
  VersionNegotiationFailed: 400,
  InvalidUpdateSequence: 400,
  OptionNotSupported: 400,
  NoApplicableCode: 500,
  OperationParsingFailed: 400,
  OperationProcessingFailed: 500,
  NotFound: 404,
  ResponseCacheExpired: 410,
  CannotLockAllFeatures: 400,
  DuplicateStoredQueryIdValue: 400,
  DuplicateStoredQueryParameterName: 400,
  Forbidden: 403,
};

export class OgcError extends Error {
  readonly status: number;
  constructor(
    readonly code: OwsExceptionCode,
    message: string,
    readonly locator?: string,
    status?: number,
  ) {
    super(message);
    this.status = status ?? STATUS[code];
  }
}

/** The database is down or restarting: 503 (the app adds Retry-After to every 503). */
export const databaseUnavailable = () => new OgcError('NoApplicableCode', 'The database is temporarily unavailable; retry in a few seconds', undefined, 503);

/** Any error of a request → an OgcError safe to show: OgcErrors as they are, database outages 503, the rest 500. */
export function toOgcError(err: unknown): OgcError {
  if (err instanceof OgcError) return err;
  if (isDatabaseUnavailable(err)) return databaseUnavailable();
  return new OgcError('NoApplicableCode', 'Internal error while processing the request');
}

export const invalid = (locator: string, message: string) => new OgcError('InvalidParameterValue', message, locator);
/**
 * OperationNotSupported / OptionNotSupported with the HTTP status OWS Common gives them (OGC 06-121r9 §8.6,
 * Table 28: 501 Not Implemented; the change request OGC 08-143r1 made for OWS 1.1). Used by the WFS (ISO 19142
 * §7.5 refers to OWS Common for these codes); the other services keep the 400 their own suites and clients expect.
 */
export const notImplemented = (code: 'OperationNotSupported' | 'OptionNotSupported', message: string, locator: string) => new OgcError(code, message, locator, 501);
export const missing = (locator: string) =>
  new OgcError('MissingParameterValue', `Parameter ${locator} is required`, locator);

/**
 * Map a PostgreSQL error to something safe to show. Data-type errors caused by the caller's literals
 * become 400; timeouts say so; anything else is a 500 with no detail (the log keeps the detail).
 */
export function fromDatabaseError(err: unknown, locator = 'FILTER'): OgcError {
  const code = (err as { code?: string })?.code ?? '';
  if (err instanceof OgcError) return err;
  if (isDatabaseUnavailable(err)) return databaseUnavailable();
  if (code === '57014') return new OgcError('OperationProcessingFailed', 'The request took longer than the configured statement timeout', undefined, 503);
  if (/timeout exceeded when trying to connect/.test((err as Error)?.message ?? '')) return new OgcError('OperationProcessingFailed', 'The server is busy: no database connection became free in time', undefined, 503);
  if (code.startsWith('22')) return new OgcError('InvalidParameterValue', 'A value in the request does not fit the type of the property it is compared with', locator);
  if (code === 'XX000' || code.startsWith('42')) return new OgcError('InvalidParameterValue', 'The request could not be evaluated against this feature type', locator);
  return new OgcError('NoApplicableCode', 'Internal error while processing the request');
}
