/**
 * HTTP for harvesting, through the one guarded outbound client (src/net/outbound.ts): our own DNS
 * resolution, loopback / link-local / private / mapped / decimal / hex forms refused unless allowed by
 * SDI_OUTBOUND_ALLOW, every redirect checked again and never to another scheme, a timeout and a size cap.
 * Bodies are decoded as XML (declared encoding, then the Content-Type charset) or returned as text.
 *
 * A HarvestError has two texts: `message`, the detail for the log and the run's record, and `kind`, from
 * which the caller-facing text is made (harvestFailureText): a remote ECONNREFUSED, "bad port" or the text of
 * a remote exception report would otherwise tell an administrator's client what lives on internal hosts.
 */
import { decodeXml } from '../metadata/xml.js';
import { OutboundError, OutboundPolicy, outboundRequest } from '../net/outbound.js';

export class HarvestError extends Error {
  constructor(
    /** The detail (log, sdi.harvest_runs.error). */
    message: string,
    /** 'unreachable': the source could not be reached (refused destination, network, timeout, redirect);
     *  'document': it answered, but not with a document of the expected kind. */
    readonly kind: 'unreachable' | 'document' = 'document',
  ) {
    super(message);
  }
}

export const USER_AGENT = 'sdi-backend-harvester/0.1';
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

export interface FetchOptions {
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  maxBytes?: number;
  /** Which destinations may be reached; default: public addresses only. */
  policy?: OutboundPolicy;
}

export interface FetchedDocument {
  url: string;
  status: number;
  contentType: string;
  text: string;
}

export function checkHttpUrl(value: string, what = 'URL'): URL {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new HarvestError(`${what} '${value.slice(0, 200)}' is not a valid URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new HarvestError(`${what} '${value.slice(0, 200)}' is not an http(s) URL`);
  return u;
}

const PUBLIC_ONLY = new OutboundPolicy();

/** Fetch a document; any HTTP status other than 2xx, a timeout, a refusal or a network error is a HarvestError. */
export async function fetchDocument(url: string, options: FetchOptions = {}): Promise<FetchedDocument> {
  checkHttpUrl(url);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let res;
  try {
    res = await outboundRequest(
      url,
      {
        method: options.method ?? 'GET',
        body: options.body,
        timeoutMs,
        maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
        headers: { 'user-agent': USER_AGENT, accept: 'application/xml, text/xml, application/rdf+xml, application/ld+json;q=0.9, */*;q=0.5', ...(options.headers ?? {}) },
      },
      options.policy ?? PUBLIC_ONLY,
    );
  } catch (e) {
    if (e instanceof OutboundError) throw new HarvestError(`${url}: ${e.message} (${e.detail})`, e.kind === 'too-large' ? 'document' : 'unreachable');
    throw e;
  }
  const contentType = String(res.headers['content-type'] ?? '');
  const charset = /charset\s*=\s*"?([A-Za-z0-9._-]+)/i.exec(contentType)?.[1];
  const text = /json/i.test(contentType) ? res.body.toString('utf8') : decodeXml(res.body, charset);
  if (res.status < 200 || res.status >= 300) {
    // An OWS exception report with a 4xx/5xx status is still worth reading: the caller reports it.
    if (/ExceptionReport/.test(text.slice(0, 2000))) return { url: res.url, status: res.status, contentType, text };
    throw new HarvestError(`${res.url}: HTTP ${res.status}`);
  }
  return { url: res.url, status: res.status, contentType, text };
}
