/**
 * XML request bodies parsed off the event loop (issue 13 §4: a 9.9 MB body held the loop ~3 s, and three such
 * clients pushed every other request, GetCapabilities included, to ~10 s).
 *
 * Small documents (nearly every request: GetRecords, GetFeature with a filter) are parsed inline: a worker's
 * round trip costs more than they do. Larger ones go to a small pool of worker threads running the same
 * parseXml; the main thread then only receives the tree. Measured on a 9.9 MB CSW Transaction: 0.7 s of
 * parsing inline, about 0.2 s of the main thread's time with the worker (receiving the cloned tree).
 * Documents waiting for a worker are bounded: beyond that the caller gets XmlBusyError (a 503).
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { parseXml, XmlInputError, DEFAULT_MAX_XML_BYTES, type XmlElement } from './tree.js';

/** Below this many characters a document is parsed inline. */
export const INLINE_MAX_CHARS = 256 * 1024;
const MAX_WAITING = 16;
/**
 * Elements of a request body. The tree crosses back to the main thread by structured clone, which costs
 * about 2 µs per element there (700,000 elements in 9.8 MB: 1.6 s); no OGC request needs anywhere near
 * this many (a CSW Transaction of 100 ISO records has ~20,000).
 */
export const MAX_REQUEST_ELEMENTS = 50_000;

export class XmlBusyError extends Error {}

interface Job {
  id: number;
  input: string;
  maxBytes: number;
  maxElements: number;
  resolve: (root: XmlElement) => void;
  reject: (e: Error) => void;
}

const WORKER_FILE = fileURLToPath(new URL('./parse-worker.js', import.meta.url));
const SIZE = Math.max(1, Math.min(2, availableParallelism() - 1));
const idle: Worker[] = [];
const busy = new Map<Worker, Job>();
const waiting: Job[] = [];
let started = 0;
let nextId = 1;

function spawnWorker(): Worker {
  const w = new Worker(WORKER_FILE);
  w.unref();
  started++;
  w.on('message', (m: { id: number; root?: XmlElement; error?: string; input?: boolean }) => {
    const job = busy.get(w);
    busy.delete(w);
    if (job && job.id === m.id) {
      if (m.root) job.resolve(m.root);
      else job.reject(m.input ? new XmlInputError(m.error ?? 'malformed XML') : new Error(m.error ?? 'the XML parser failed'));
    }
    idle.push(w);
    pump();
  });
  // A worker that dies (out of memory on a hostile document) fails its job only; the next one is spawned anew.
  w.on('error', () => undefined);
  w.on('exit', () => {
    const job = busy.get(w);
    busy.delete(w);
    started--;
    const i = idle.indexOf(w);
    if (i >= 0) idle.splice(i, 1);
    job?.reject(new Error('the XML parser stopped'));
    pump();
  });
  return w;
}

function pump(): void {
  while (waiting.length) {
    const w = idle.pop() ?? (started < SIZE ? spawnWorker() : undefined);
    if (!w) return;
    const job = waiting.shift()!;
    busy.set(w, job);
    w.postMessage({ id: job.id, input: job.input, maxBytes: job.maxBytes, maxElements: job.maxElements });
  }
}

/** parseXml, on a worker thread for large documents. Same results and errors (XmlInputError) as parseXml. */
export function parseXmlOffThread(input: string, maxBytes = DEFAULT_MAX_XML_BYTES, maxElements = MAX_REQUEST_ELEMENTS): Promise<XmlElement> {
  // The compiled worker is absent when running from TypeScript sources (unit tests): parse inline there.
  if (input.length <= INLINE_MAX_CHARS || !existsSync(WORKER_FILE)) {
    try {
      return Promise.resolve(parseXml(input, maxBytes, maxElements));
    } catch (e) {
      return Promise.reject(e);
    }
  }
  if (waiting.length >= MAX_WAITING) return Promise.reject(new XmlBusyError('too many large XML documents are being parsed; retry later'));
  return new Promise((resolve, reject) => {
    waiting.push({ id: nextId++, input, maxBytes, maxElements, resolve, reject });
    pump();
  });
}
