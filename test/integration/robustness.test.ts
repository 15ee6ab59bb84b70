/**
 * Clients that go away: a response abandoned before or during its body must give its database session
 * back, or the pool runs dry and the server stops answering (seen under wrk load at the end of a run).
 */
import { describe, it, expect } from 'vitest';
import { request } from 'node:http';
import { baseUrl, get, wfsUrl, db } from '../helpers.js';

/** Drop a request: before any response (-1: while the server is still querying), at the headers (0) or mid-body. */
function abandon(url: string, afterBytes: number): Promise<void> {
  return new Promise((resolve) => {
    if (afterBytes < 0) {
      const early = request(url);
      early.on('error', () => undefined);
      early.end();
      setTimeout(() => {
        early.destroy();
        // Leave the server time to finish the query and try to answer a closed socket.
        setTimeout(resolve, 150);
      }, 15);
      return;
    }
    const req = request(url, (res) => {
      let n = 0;
      if (afterBytes === 0) {
        req.destroy();
        return resolve();
      }
      res.on('data', (d: Buffer) => {
        n += d.length;
        if (n >= afterBytes) {
          req.destroy();
          resolve();
        }
      });
      res.on('end', () => resolve());
      res.on('close', () => resolve());
    });
    req.on('error', () => resolve());
    req.end();
  });
}

describe('abandoned responses', () => {
  it('36 GetFeature and OGC API requests dropped while querying, at the headers or mid-body leave the server answering', async () => {
    const urls = [
      wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&COUNT=1500'),
      wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&OUTPUTFORMAT=application/json'),
      wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetPropertyValue&TYPENAMES=sdi:communes&VALUEREFERENCE=geom'),
      `${baseUrl()}/ogcapi/collections/communes/items?limit=2000`,
    ];
    for (let i = 0; i < 36; i++) await abandon(urls[i % urls.length]!, [-1, 0, 20_000][i % 3]!);
    // No transaction left open by an abandoned response (checked a moment later, once the server has seen the closes).
    let open = -1;
    for (let t = 0; t < 20 && open !== 0; t++) {
      await new Promise((r) => setTimeout(r, 250));
      open = Number((await db().query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction' AND application_name = 'sdi'`)).rows[0].n);
    }
    expect(open).toBe(0);
    const started = Date.now();
    const r = await get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:departements&RESULTTYPE=hits'));
    expect(r.status).toBe(200);
    expect(r.body).toContain('numberMatched="6"');
    expect(Date.now() - started).toBeLessThan(5_000);
    // And every session went back to the pool: the server can still serve 12 requests at once.
    const many = await Promise.all(Array.from({ length: 12 }, () => get(wfsUrl('SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:region&OUTPUTFORMAT=application/json'))));
    expect(many.every((x) => x.status === 200)).toBe(true);
  });
});
