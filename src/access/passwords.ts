/**
 * Password hashing with scrypt (node:crypto, RFC 7914), a memory-hard KDF: N = 2^15, r = 8, p = 1 is 32 MiB
 * and some 50–100 ms per hash, OWASP's recommended minimum. The hash is stored with its parameters and salt
 * (`scrypt$N$r$p$salt$hash`, base64), so that parameters may be raised later and old hashes still verify.
 * Hashing runs on libuv's thread pool (the async scrypt), never on the event loop.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 1 << 15;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

function scrypt(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  // maxmem must exceed 128·N·r (32 MiB here), Node's default limit.
  const options: ScryptOptions = { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 };
  return new Promise((resolve, reject) => scryptCb(password.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored ?? '');
  if (!m) {
    // No usable hash: still spend the time of one, so that timing does not tell which logins exist.
    await scrypt(password, DUMMY_SALT, N, R, P);
    return false;
  }
  const expected = Buffer.from(m[5]!, 'base64');
  const key = await scrypt(password, Buffer.from(m[4]!, 'base64'), Number(m[1]), Number(m[2]), Number(m[3]));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

const DUMMY_SALT = randomBytes(16);

/** A password acceptable for a new or changed account: 12 characters at least (ANSSI / CNIL recommendation for passwords alone). */
export function passwordProblem(password: unknown): string | undefined {
  if (typeof password !== 'string') return 'password must be a string';
  if (password.length < 12) return 'password must have at least 12 characters';
  if (password.length > 1024) return 'password must have at most 1024 characters';
  return undefined;
}
