/**
 * Errors of the download API, rendered as application/problem+json (RFC 9457) with the HTTP status, a
 * stable type, and, for limits, the figures the caller needs (count and limit), never SQL or a stack.
 */
export class DownloadError extends Error {
  constructor(
    readonly status: number,
    /** Short stable code, also the last segment of the problem type URI. */
    readonly code: string,
    detail: string,
    /** The request parameter at fault, if one is. */
    readonly parameter?: string,
    /** Extra members of the problem document (e.g. { count, limit }). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

export function problemDocument(e: DownloadError, instance?: string): Record<string, unknown> {
  return {
    type: `https://sdi.example.org/problems/download/${e.code}`,
    title: e.code.replace(/-/g, ' '),
    status: e.status,
    detail: e.message,
    ...(e.parameter ? { parameter: e.parameter } : {}),
    ...(instance ? { instance } : {}),
    ...e.extra,
  };
}
