/**
 * Address classes for outbound requests and trusted proxies. Addresses are checked after DNS resolution,
 * in their canonical form: IPv4-mapped IPv6 (::ffff:127.0.0.1) is checked as the IPv4 it carries; decimal and
 * hex forms (http://2130706433/, http://0x7f.1/) are canonicalised by the WHATWG URL parser before we see them.
 */
import { BlockList, isIP } from 'node:net';

/** Ranges no outbound request may reach unless allowed by configuration (RFC 6890 special-purpose). */
const DENIED_V4 = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const;
const DENIED_V6 = [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32], ['2002::', 16], ['100::', 64],
] as const;

const denied = new BlockList();
for (const [a, p] of DENIED_V4) denied.addSubnet(a, p, 'ipv4');
for (const [a, p] of DENIED_V6) denied.addSubnet(a, p, 'ipv6');

/** The IPv4 an IPv4-mapped or -compatible IPv6 address carries, else the address itself (lower-cased, no zone). */
export function canonicalAddress(address: string): string {
  let a = address.trim().toLowerCase().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const mapped = /^(?:0{0,4}:){0,5}(?:0{0,4}:)?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a) ?? /^::(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1]!;
  const hexMapped = /^(?:0{0,4}:){0,5}(?:0{0,4}:)?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (hexMapped) {
    const hi = parseInt(hexMapped[1]!, 16);
    const lo = parseInt(hexMapped[2]!, 16);
    a = `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return a;
}

/** True for loopback, link-local, private, unspecified, multicast, documentation and other non-public addresses. */
export function isNonPublicAddress(address: string): boolean {
  const a = canonicalAddress(address);
  const family = isIP(a);
  if (family === 0) return true; // not an address at all: never treat it as public
  return denied.check(a, family === 4 ? 'ipv4' : 'ipv6');
}

/** A set of networks from CIDR strings ("10.0.0.0/8", "::1/128", or a bare address). Host names are left out. */
export class NetworkList {
  private readonly list = new BlockList();
  readonly empty: boolean;
  constructor(cidrs: readonly string[]) {
    let n = 0;
    for (const entry of cidrs) {
      const [addr, bits] = entry.trim().split('/');
      const a = canonicalAddress(addr ?? '');
      const family = isIP(a);
      if (family === 0) continue;
      const type = family === 4 ? 'ipv4' : 'ipv6';
      const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) throw new Error(`bad network '${entry}'`);
      this.list.addSubnet(a, prefix, type);
      n++;
    }
    this.empty = n === 0;
  }
  has(address: string | undefined): boolean {
    if (!address || this.empty) return false;
    const a = canonicalAddress(address);
    const family = isIP(a);
    return family !== 0 && this.list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  }
}

const lists = new WeakMap<readonly string[], NetworkList>();
/** The configured trusted proxies as a network list (cached per configuration array). */
export function trusted(list: readonly string[] | undefined): NetworkList | undefined {
  if (!list || list.length === 0) return undefined;
  let l = lists.get(list);
  if (!l) lists.set(list, (l = new NetworkList(list)));
  return l;
}
