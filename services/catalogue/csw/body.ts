/**
 * The CSW POST body, read as bytes (an XML request is decoded in the encoding it declares), with the
 * administrator's credential checked as soon as the root element is known (issue 13 §4: a 9.9 MB anonymous
 * Transaction was read and parsed for seconds before the credential was looked at). csw:Transaction and
 * csw:Harvest are refused after the first bytes; the rest of such a body is never buffered.
 */
import type { FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { OgcError } from '../../../src/ogc/errors.js';

/** Root elements of the operations that need the administrator. */
const ADMIN_ROOTS = new Set(['Transaction', 'Harvest']);
/** Bytes looked at to find the root element (after the XML declaration, comments and PIs). */
const SNIFF_BYTES = 64 * 1024;

/**
 * Local name of the root element from the first bytes of a document; undefined when more bytes are needed,
 * null when it cannot be told (no XML, a DOCTYPE, an encoding that is not ASCII-compatible).
 */
export function sniffRootName(head: Buffer, complete: boolean): string | null | undefined {
  const text = head.subarray(0, SNIFF_BYTES).toString('latin1');
  const rest = text.replace(/^(\xEF\xBB\xBF)?(\s+|<\?[\s\S]*?\?>|<!--[\s\S]*?-->)*/, '');
  const m = /^<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s/>]/.exec(rest);
  if (m) return m[1]!;
  if (rest.length === 0 || /^<([!?][^>]*)?$|^<[\w.:-]*$/.test(rest)) return complete || head.length >= SNIFF_BYTES ? null : undefined;
  return null;
}

/**
 * Read the body: bytes up to `limit` (413 beyond), and `checkAdmin` called (it throws the 401/403) as soon as
 * the root is an administrative operation.
 */
export function readCswBody(req: FastifyRequest, payload: Readable, limit: number, checkAdmin: (root: string) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return reject(tooLarge(limit));
    const chunks: Buffer[] = [];
    let size = 0;
    let sniffed = false;
    let settled = false;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      payload.removeListener('data', onData);
      payload.resume(); // let the rest go by: the answer does not wait for it
      reject(e);
    };
    const sniff = (complete: boolean) => {
      if (sniffed) return;
      const name = sniffRootName(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), complete);
      if (name === undefined) return;
      sniffed = true;
      if (name && ADMIN_ROOTS.has(name)) checkAdmin(name);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) return fail(tooLarge(limit));
      chunks.push(c);
      try {
        sniff(false);
      } catch (e) {
        fail(e);
      }
    };
    payload.on('data', onData);
    payload.on('error', fail);
    payload.on('end', () => {
      if (settled) return;
      try {
        sniff(true);
      } catch (e) {
        return fail(e);
      }
      settled = true;
      resolve(Buffer.concat(chunks));
    });
  });
}

function tooLarge(limit: number): OgcError {
  return new OgcError('NoApplicableCode', `The request body is larger than ${limit} bytes`, 'request', 413);
}
