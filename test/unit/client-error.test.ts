/**
 * The clientError handler's 414 / 431 choice (RFC 9110 §15.5.15 URI Too Long, RFC 6585 §5 Request Header Fields Too
 * Large) when Node's parser overflows its header allowance: the packet that overflows is not always the first one (a
 * 40 KB request line arrives in several TCP reads under load: the clean-clone CI run once answered 431 to a long CSW
 * URL), so the status is read from whichever packet it is.
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { clientErrorHandler } from '../../src/server/http-errors.js';

function answer(rawPacket: string): string {
  let out = '';
  const socket = { destroyed: false, writable: true, end: (data: string, _enc: string, cb?: () => void) => ((out = data), cb?.()), destroy: () => undefined } as unknown as Socket;
  const handler = clientErrorHandler({ maxHeaderBytes: 32 * 1024, pathOfSocket: () => '/csw', log: () => undefined });
  handler(Object.assign(new Error('Header overflow'), { code: 'HPE_HEADER_OVERFLOW', rawPacket: Buffer.from(rawPacket, 'latin1') }), socket);
  return out.slice(0, out.indexOf('\r\n'));
}

const A = 'a'.repeat(20_000);

describe('clientError: URL too long (414) or headers too large (431), whichever packet overflows', () => {
  it('the first packet, all request line: 414', () => expect(answer(`GET /csw?x=${A}`)).toBe('HTTP/1.1 414 URI Too Long'));
  it('a later packet that ends the request line (" HTTP/1.1"): 414', () => expect(answer(`${A} HTTP/1.1\r\nHost: x\r\n\r\n`)).toBe('HTTP/1.1 414 URI Too Long'));
  it('the first packet, a short request line then a long header: 431', () =>
    expect(answer(`GET /download/ HTTP/1.1\r\nHost: x\r\nX-Big: ${A}`)).toBe('HTTP/1.1 431 Request Header Fields Too Large'));
  it('a later packet inside the headers: 431', () => expect(answer(`${A}\r\nX-Other: b\r\n\r\n`)).toBe('HTTP/1.1 431 Request Header Fields Too Large'));
});
