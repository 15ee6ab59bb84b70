/**
 * Errors the framework or Node raise before a service's handler runs (issue 13, point 11): body too large,
 * body that is not JSON, media type not accepted, URL or headers too large, unknown path, method not
 * allowed, client too slow. Each is answered in the format of the service the URL belongs to, with the
 * service's own writer: an OWS 1.1 ExceptionReport (version 2.0.0) under /wfs, or ServiceExceptionReport
 * when the request says VERSION=1.0.0; an OWS 1.0 ExceptionReport (version 1.2.0) under /csw (OGC 06-121r3 /
 * 09-025r2 §7.6); application/problem+json elsewhere (RFC 9457). The detail is ours, never the framework's
 * text, an echo of the body, or a stack.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OgcError, type OwsExceptionCode } from '../ogc/errors.js';
import { owsExceptionReport, owsExceptionReport10, problemJson, serviceExceptionReport, wmsExceptionReport130 } from '../ogc/exception-report.js';
import { Kvp } from '../ogc/kvp.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { DownloadError, problemDocument } from '../download/errors.js';

/** A caller's X-Request-Id is kept only if it is this safe (it is echoed in a header and written to logs). */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The service a URL belongs to, by its mount path (app/build-app.ts mounts every service at the same path alone or together). */
export type ServiceFormat = 'wfs' | 'csw' | 'wms' | 'ogcapi' | 'download' | 'other';

export function serviceOf(url: string): ServiceFormat {
  const path = url.split('?')[0] ?? '';
  for (const s of ['wfs', 'csw', 'wms', 'ogcapi', 'download'] as const) if (path === `/${s}` || path.startsWith(`/${s}/`)) return s;
  return 'other';
}

export interface HttpProblem {
  status: number;
  /** OWS exception code, for the XML services. */
  code: OwsExceptionCode;
  /** Short stable code of the download service's problem types. */
  slug: string;
  detail: string;
  locator?: string;
}

export interface Rendered {
  contentType: string;
  body: string;
}

/** The error body for a URL's service. */
export function renderProblem(url: string, p: HttpProblem): Rendered {
  const err = new OgcError(p.code, p.detail, p.locator, p.status);
  switch (serviceOf(url)) {
    case 'wfs': {
      const v10 = Kvp.fromUrl(url).value('VERSION') === '1.0.0';
      return { contentType: 'text/xml; charset=utf-8', body: v10 ? serviceExceptionReport(err) : owsExceptionReport(err, '2.0.0') };
    }
    case 'csw':
      return { contentType: 'application/xml; charset=utf-8', body: owsExceptionReport10(err) };
    case 'wms':
      // WMS 1.3.0 has OperationNotSupported and NoApplicableCode of its own (OGC 06-042 annex H).
      return { contentType: 'text/xml; charset=utf-8', body: wmsExceptionReport130(p.code, p.detail, p.locator) };
    case 'ogcapi':
      return { contentType: 'application/problem+json', body: JSON.stringify(problemJson(err, pathOf(url))) };
    case 'download':
      return { contentType: 'application/problem+json', body: JSON.stringify(problemDocument(new DownloadError(p.status, p.slug, p.detail, p.locator), pathOf(url))) };
    case 'other':
      return { contentType: 'application/problem+json', body: JSON.stringify({ type: 'about:blank', title: STATUS_CODES[p.status] ?? 'Error', status: p.status, detail: p.detail }) };
  }
}

/** The path only: a query string may be long or hold anything; it is not echoed in an error. */
const pathOf = (url: string) => (url.split('?')[0] ?? '/').slice(0, 200);

const printable = (s: unknown, max = 80) => String(s ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, max);

/** A framework error (Fastify's FST_ERR_*, the JSON parser's SyntaxError, a database outage, anything else) → what to answer. */
export function problemOf(err: unknown, req: FastifyRequest, bodyLimit: number): HttpProblem {
  const e = err as { code?: string; statusCode?: number; name?: string };
  if (isDatabaseUnavailable(err)) return { status: 503, code: 'NoApplicableCode', slug: 'unavailable', detail: 'The database is temporarily unavailable; retry in a few seconds' };
  const parsing = serviceOf(req.url) === 'wfs' ? 'OperationParsingFailed' : 'NoApplicableCode';
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'NoApplicableCode', slug: 'body-too-large', detail: `The request body exceeds the limit of ${bodyLimit} bytes` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: 'NoApplicableCode', slug: 'unsupported-media-type', detail: `Content-Type '${printable(req.headers['content-type'])}' is not accepted here`, locator: 'Content-Type' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, code: parsing, slug: 'bad-request', detail: 'Content-Length does not match the body received' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, code: parsing, slug: 'invalid-json', detail: 'The request body is not valid JSON' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, code: parsing, slug: 'invalid-json', detail: 'The body is empty although Content-Type is application/json' };
    case 'FST_ERR_CTP_INVALID_TYPE':
    case 'FST_ERR_CTP_INVALID_HANDLER':
      return { status: 400, code: parsing, slug: 'bad-request', detail: 'The request body could not be read' };
    case 'FST_ERR_BAD_URL':
      return { status: 400, code: 'InvalidParameterValue', slug: 'bad-request', detail: 'The URL path holds an invalid %-escape' };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { status: 414, code: 'NoApplicableCode', slug: 'uri-too-long', detail: 'A segment of the URL path is too long' };
  }
  // The JSON parser (secure-json-parse): a SyntaxError, or a refused __proto__ / constructor key; 400 either way.
  if (e.statusCode === 400 && (err instanceof SyntaxError || /prototype|constructor/i.test((err as Error).message ?? ''))) {
    return { status: 400, code: parsing, slug: 'invalid-json', detail: 'The request body is not valid JSON' };
  }
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
  if (status >= 500) return { status, code: 'NoApplicableCode', slug: 'internal-error', detail: 'Internal error' };
  return { status, code: 'NoApplicableCode', slug: 'bad-request', detail: `The request could not be accepted (${STATUS_CODES[status] ?? status})` };
}

export function sendProblem(req: FastifyRequest, reply: FastifyReply, p: HttpProblem, headers: Record<string, string> = {}): FastifyReply {
  const r = renderProblem(req.url, p);
  return reply.status(p.status).headers(headers).type(r.contentType).send(r.body);
}

/** Methods that may reach a path, from the routes registered (for 405 and its Allow header). */
export class RouteTable {
  private readonly routes: { re: RegExp; methods: Set<string> }[] = [];
  add(url: string, methods: string | string[]): void {
    // The CORS preflight route ('*', every path) says nothing about which paths exist.
    if (url === '*' || url === '/*') return;
    const pattern = url
      .replace(/\/+$/, '')
      .split('/')
      .map((seg) => (seg === '*' ? '.*' : seg.includes(':') ? seg.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z0-9_]+/g, '[^/]+') : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    this.routes.push({ re: new RegExp(`^${pattern}/?$`), methods: new Set([methods].flat().map((m) => m.toUpperCase())) });
  }
  allowed(url: string): string[] {
    const path = url.split('?')[0] ?? '/';
    const out = new Set<string>();
    for (const r of this.routes) if (r.re.test(path)) for (const m of r.methods) out.add(m);
    return [...out].sort();
  }
}

/**
 * Node's 'clientError': the request could not be parsed (headers too large, a malformed request line) or did
 * not arrive in time (headers or request timeout). No Fastify request exists; the answer is written on the
 * socket, in the service's format when the request line got far enough to name the path, and the connection
 * is closed. Nothing is written over a response already begun.
 */
export function clientErrorHandler(opts: { maxHeaderBytes: number; pathOfSocket: (s: Socket) => string | undefined; log: (err: unknown) => void }) {
  return (error: Error, socket: Socket): void => {
    const err = error as Error & { code?: string; rawPacket?: unknown };
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    opts.log(err);
    const inFlight = (socket as unknown as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const raw = Buffer.isBuffer(err.rawPacket) ? err.rawPacket.subarray(0, 8192).toString('latin1') : '';
    // "METHOD /path?query HTTP/1.1\r\n…": the URL the request line names, when this packet starts with it.
    const line = /^[A-Z]{3,10} (\/[^ \r\n]*)/.exec(raw);
    let url = line?.[1] ?? opts.pathOfSocket(socket) ?? '/';
    let p: HttpProblem;
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      const eol = raw.indexOf('\r\n');
      // The request line alone used most of the allowance: the URL is what is too long. The packet that overflows
      // need not be the first one (a long request line arrives in several TCP reads under load): one that starts
      // in the middle and whose first line ends the request line (" HTTP/1.1") overflowed on the URL as well.
      const packet = Buffer.isBuffer(err.rawPacket) ? err.rawPacket : Buffer.alloc(0);
      const packetEol = packet.indexOf('\r\n');
      const endsRequestLine = line === null && packetEol >= 9 && / HTTP\/\d\.\d$/.test(packet.subarray(packetEol - 9, packetEol).toString('latin1'));
      const longUrl = (line !== null && (eol < 0 || eol > opts.maxHeaderBytes / 2)) || endsRequestLine;
      p = longUrl
        ? { status: 414, code: 'NoApplicableCode', slug: 'uri-too-long', detail: `The URL is too long (request line and headers are limited to ${opts.maxHeaderBytes} bytes); send the parameters in a POST body` }
        : { status: 431, code: 'NoApplicableCode', slug: 'headers-too-large', detail: `The request headers are too large (request line and headers are limited to ${opts.maxHeaderBytes} bytes)` };
    } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      p = { status: 408, code: 'NoApplicableCode', slug: 'request-timeout', detail: 'The request did not arrive in time' };
    } else {
      p = { status: 400, code: 'NoApplicableCode', slug: 'bad-request', detail: 'The request is not valid HTTP' };
    }
    // Only the path and a VERSION=1.0.0 decide the format; the rest of a truncated query is not read.
    url = url.length > 4096 ? url.slice(0, 4096) : url;
    const r = renderProblem(url, p);
    const body = Buffer.from(r.body, 'utf8');
    socket.end(
      `HTTP/1.1 ${p.status} ${STATUS_CODES[p.status]}\r\nContent-Type: ${r.contentType}\r\nContent-Length: ${body.length}\r\n` +
        'Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n' +
        body.toString('latin1'),
      'latin1',
      () => socket.destroy(),
    );
    // The server's sockets are half-open: a client that neither reads nor closes is not waited for.
    setTimeout(() => socket.destroy(), 5000).unref();
  };
}
