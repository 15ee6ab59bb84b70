/**
 * The client address the job quotas count (issue 13 point 7): forwarding headers believed only from a trusted
 * proxy, read from the right, IPv6 and port forms, mapped addresses canonical.
 */
import { describe, expect, it } from 'vitest';
import type { FastifyRequest } from 'fastify';
import { clientAddress } from '../../src/net/client-address.js';

const req = (peer: string, headers: Record<string, string> = {}) => ({ socket: { remoteAddress: peer }, headers }) as unknown as FastifyRequest;
const PROXIES = ['10.0.0.0/8', '::1/128'];

describe('clientAddress (issue 13 point 7)', () => {
  it('an untrusted peer is the client, whatever it forwards', () => {
    expect(clientAddress(req('203.0.113.5', { 'x-forwarded-for': '198.51.100.1' }), PROXIES)).toBe('203.0.113.5');
    expect(clientAddress(req('203.0.113.5', { forwarded: 'for=198.51.100.1' }), PROXIES)).toBe('203.0.113.5');
    expect(clientAddress(req('::ffff:203.0.113.5', { 'x-forwarded-for': '198.51.100.1' }), PROXIES)).toBe('203.0.113.5');
    // No proxy trusted at all (the default): headers are never read.
    expect(clientAddress(req('10.1.1.1', { 'x-forwarded-for': '198.51.100.1' }), [])).toBe('10.1.1.1');
  });

  it('behind trusted proxies: the first hop from the right that is not a proxy', () => {
    expect(clientAddress(req('10.0.0.2', { 'x-forwarded-for': '198.51.100.1' }), PROXIES)).toBe('198.51.100.1');
    expect(clientAddress(req('10.0.0.2', { 'x-forwarded-for': '192.0.2.9, 198.51.100.1, 10.0.0.3' }), PROXIES)).toBe('198.51.100.1');
    expect(clientAddress(req('::1', { forwarded: 'for="[2001:db8::7]:4711";proto=https, for=10.0.0.4' }), PROXIES)).toBe('2001:db8::7');
    expect(clientAddress(req('10.0.0.2', { forwarded: 'for=198.51.100.2:8080' }), PROXIES)).toBe('198.51.100.2');
    expect(clientAddress(req('10.0.0.2', { 'x-forwarded-for': '::ffff:198.51.100.3' }), PROXIES)).toBe('198.51.100.3');
  });

  it('a hop that is no address stops the walk at the last trusted proxy; no header: the proxy itself', () => {
    expect(clientAddress(req('10.0.0.2', { 'x-forwarded-for': 'unknown' }), PROXIES)).toBe('10.0.0.2');
    expect(clientAddress(req('10.0.0.2', { 'x-forwarded-for': '198.51.100.1, _hidden, 10.0.0.3' }), PROXIES)).toBe('10.0.0.3');
    expect(clientAddress(req('10.0.0.2'), PROXIES)).toBe('10.0.0.2');
  });
});
