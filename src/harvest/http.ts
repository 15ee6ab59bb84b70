/**
 * HTTP for harvesting: Node's fetch with a timeout, a size cap, and redirects followed by hand (at most 5)
 * so that a redirect can never lead to anything but http(s). Bodies are decoded as XML (declared encoding,
 * then the Content-Type charset) or returned as text.
 */
import { decodeXml } from '../metadata/xml.js';

export class HarvestError extends Error {}

export const USER_AGENT = 'sdi-backend-harvester/0.1';
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

export interface FetchOptions {
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  maxBytes?: number;
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

async function readCapped(res: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) throw new HarvestError(`response larger than ${maxBytes} bytes`);
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > maxBytes) throw new HarvestError(`response larger than ${maxBytes} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** Fetch a document; any HTTP status other than 2xx, a timeout or a network error is a HarvestError. */
export async function fetchDocument(url: string, options: FetchOptions = {}): Promise<FetchedDocument> {
  let current = checkHttpUrl(url);
  let method = options.method ?? 'GET';
  let body = options.body;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await fetch(current, {
        method,
        body,
        redirect: 'manual',
        signal,
        headers: { 'user-agent': USER_AGENT, accept: 'application/xml, text/xml, application/rdf+xml, application/ld+json;q=0.9, */*;q=0.5', ...(options.headers ?? {}) },
      });
    } catch (e) {
      const err = e as Error & { cause?: Error };
      if (err.name === 'TimeoutError' || err.name === 'AbortError') throw new HarvestError(`${current.href}: no complete answer within ${timeoutMs} ms`);
      throw new HarvestError(`${current.href}: ${err.cause?.message ?? err.message}`);
    }
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      await res.body?.cancel().catch(() => undefined);
      if (hop >= 5) throw new HarvestError(`${url}: too many redirects`);
      current = checkHttpUrl(new URL(res.headers.get('location')!, current).href, 'Redirect target');
      // 303 turns into a GET; otherwise the method and body are kept (a CSW POST must stay a POST).
      if (res.status === 303) {
        method = 'GET';
        body = undefined;
      }
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = await readCapped(res, options.maxBytes ?? DEFAULT_MAX_BYTES);
    } catch (e) {
      if (e instanceof HarvestError) throw new HarvestError(`${current.href}: ${e.message}`);
      const err = e as Error & { cause?: Error };
      if (err.name === 'TimeoutError' || err.name === 'AbortError') throw new HarvestError(`${current.href}: no complete answer within ${timeoutMs} ms`);
      throw new HarvestError(`${current.href}: the connection broke while reading the answer (${err.cause?.message ?? err.message})`);
    }
    const contentType = res.headers.get('content-type') ?? '';
    const charset = /charset\s*=\s*"?([A-Za-z0-9._-]+)/i.exec(contentType)?.[1];
    const text = /json/i.test(contentType) ? bytes.toString('utf8') : decodeXml(bytes, charset);
    if (res.status < 200 || res.status >= 300) {
      // An OWS exception report with a 4xx/5xx status is still worth reading: the caller reports it.
      if (/ExceptionReport/.test(text.slice(0, 2000))) return { url: current.href, status: res.status, contentType, text };
      throw new HarvestError(`${current.href}: HTTP ${res.status}`);
    }
    return { url: current.href, status: res.status, contentType, text };
  }
}
