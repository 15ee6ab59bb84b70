/**
 * Signed, expiring links to the result of a deferred job: /download/files/<id>?expires=<unix s>&signature=<s>
 * where s = base64url(HMAC-SHA256(secret, "<id>.<expires>")). Changing the id or the expiry breaks the
 * signature; the comparison is constant-time.
 *
 * The secret is config.download.linkSecret (SDI_DOWNLOAD_SECRET) when set; otherwise a random one generated
 * once and kept in sdi.settings, so that every process (servers, workers on other machines) signs alike and
 * links survive restarts.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Pool } from '../../db/pool.js';
import type { Platform } from '../../platform.js';

const SETTING = 'download.link_secret';
const secrets = new WeakMap<Pool, Promise<Buffer>>();

/** The secret of this platform's links (read once per pool). */
export function linkSecret(platform: Platform): Promise<Buffer> {
  if (platform.config.download.linkSecret) return Promise.resolve(Buffer.from(platform.config.download.linkSecret, 'utf8'));
  let p = secrets.get(platform.pool);
  if (!p) {
    p = (async () => {
      await platform.pool.query('INSERT INTO sdi.settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [SETTING, randomBytes(32).toString('base64url')]);
      const { rows } = await platform.pool.query<{ value: string }>('SELECT value FROM sdi.settings WHERE key = $1', [SETTING]);
      return Buffer.from(rows[0]!.value, 'utf8');
    })();
    p.catch(() => secrets.delete(platform.pool));
    secrets.set(platform.pool, p);
  }
  return p;
}

export function sign(secret: Buffer, id: string, expires: number): string {
  return createHmac('sha256', secret).update(`${id}.${expires}`).digest('base64url');
}

export type LinkCheck = 'ok' | 'bad-signature' | 'expired';

/** Check a link's parameters: the signature first (a tampered expiry is a bad signature), then the time. */
export function verify(secret: Buffer, id: string, expires: string | undefined, signature: string | undefined, now = Date.now()): LinkCheck {
  if (!expires || !signature || !/^\d{1,12}$/.test(expires)) return 'bad-signature';
  const want = Buffer.from(sign(secret, id, Number(expires)), 'utf8');
  const got = Buffer.from(signature, 'utf8');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return 'bad-signature';
  return Number(expires) * 1000 <= now ? 'expired' : 'ok';
}

/** The signed link of a job's result, valid until `expiresAt`. `base` is the download service's public URL. */
export async function resultLink(platform: Platform, base: string, id: string, expiresAt: Date): Promise<{ href: string; expires: string }> {
  const expires = Math.floor(expiresAt.getTime() / 1000);
  const signature = sign(await linkSecret(platform), id, expires);
  return { href: `${base}/files/${id}?expires=${expires}&signature=${signature}`, expires: new Date(expires * 1000).toISOString() };
}
