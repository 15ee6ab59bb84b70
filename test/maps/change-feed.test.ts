/**
 * Issue 9, "Measure it" (T1): a cached tile is served with no query. Each process LISTENs on sdi_changes
 * (src/db/change-feed.ts; the triggers of migration 0027 notify on a statement on a layer's table, on the
 * layer registry and on the styles), and keeps the layer catalogue and the tiles' revisions in memory while
 * nothing was heard. Two platforms (two "processes" with their own pools and feeds) on the suite's database and
 * tile cache, and a layer of this file's own (cf_squares), so that no other file's changes interfere:
 *
 * - a hit runs no statement at all (every query of the platform's pool is counted);
 * - a change made by a third connection invalidates the tile in both at once (the next request is a miss), and
 *   so does a style change and a change of the layer's publication; repeated many times, the request sent right
 *   after the COMMIT never got the older tile (the notification is delivered before the writer's COMMIT returns
 *   to it and the HTTP request can be sent);
 * - without its feed (closed: as when the connection is lost) a process reads the revision on every request.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { join } from 'node:path';
import { baseUrl, db, ROOT } from '../helpers.js';

interface App {
  listen(o: { port: number; host: string }): Promise<string>;
  close(): Promise<unknown>;
}
interface Platform {
  pool: { query: (...a: unknown[]) => Promise<unknown> };
  changes?: { live: boolean; onChange(fn: (payload?: string) => void): () => void; close(): Promise<void> };
}

const L = 'cf_squares';
const platforms: Platform[] = [];
const apps: App[] = [];
/** Each platform's server, listening: requests go through real sockets (the event loop reads the feed's too). */
const urls: string[] = [];
let queries = 0;
let closePlatform: (p: Platform) => Promise<void>;

// The WebMercatorQuad level-12 tile (x 2069, y 1425) holding the squares (1.877–1.933° E, 47.887–47.918° N).
const WMTS = `/wmts/1.0.0/${L}/default/WebMercatorQuad/12/1425/2069.png`;
const MVT = `/tiles/${L}/12/2069/1425.pbf`;
/** The notification of a statement on the layer's table (json_build_array of migration 0027). */
const DATA = `["data", "data", "${L}"]`;

/**
 * Run a change, then wait until every live feed has heard its notification (the payload of migration 0027:
 * ["data", schema, table], ["styles"], ["layers"]); the table is this file's own, so no other file's change
 * can stand in for it.
 */
async function heard(payload: string, change: () => Promise<unknown>): Promise<void> {
  const live = platforms.filter((p) => p.changes?.live);
  const waits = live.map(
    (p) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no notification ${payload} within 10 s`)), 10_000);
        const off = p.changes!.onChange((got) => {
          if (got !== payload) return;
          clearTimeout(timer);
          off();
          resolve();
        });
      }),
  );
  await change();
  await Promise.all(waits);
}

async function get(k: number, path: string) {
  const r = await fetch(`${urls[k]}${path}`);
  await r.arrayBuffer();
  return r;
}

async function tile(k: number, path = WMTS): Promise<string> {
  const r = await get(k, path);
  expect(r.status).toBe(200);
  return String(r.headers.get('x-tile-cache'));
}

beforeAll(async () => {
  await db().query(`DROP TABLE IF EXISTS data.${L}`);
  await db().query(`DELETE FROM sdi.layers WHERE name = $1`, [L]);
  await db().query(`CREATE TABLE data.${L} (fid serial PRIMARY KEY, nom text, geom geometry(Polygon, 4326))`);
  await db().query(`INSERT INTO data.${L} (nom, geom) SELECT 'c' || i, ST_Expand(ST_MakePoint(1.88 + i * 0.01, 47.89 + i * 0.005), 0.003) FROM generate_series(0, 5) i`);
  await db().query(`INSERT INTO sdi.layers (name, table_schema, table_name, id_column, geometry_column, title) VALUES ($1, 'data', $1, 'fid', 'geom', 'Carrés (flux de changements)')`, [L]);
  const { loadConfig } = await import(join(ROOT, 'dist/src/config/index.js'));
  const platformModule = await import(join(ROOT, 'dist/src/platform.js'));
  closePlatform = platformModule.closePlatform;
  const { buildApp } = await import(join(ROOT, 'dist/app/build-app.js'));
  const config = loadConfig({ ...process.env, DATABASE_URL: inject('databaseUrl'), BASE_URL: baseUrl(), SDI_DEMO: '0', LOG_LEVEL: 'silent', SDI_DOWNLOAD_DIR: inject('downloadDir'), SDI_TILE_CACHE_DIR: inject('tileCacheDir') });
  for (let k = 0; k < 2; k++) {
    const p = (await platformModule.createPlatform(config)) as Platform;
    // Every statement of the first platform is counted (pool.query and the clients it lends).
    if (k === 0) {
      const pool = p.pool as unknown as { query: (...a: unknown[]) => Promise<unknown> };
      const q = pool.query.bind(pool);
      pool.query = (...a: unknown[]) => {
        // The usage statistics and the audit log are written in batches after the answers, not by a request.
        const text = typeof a[0] === 'string' ? a[0] : String((a[0] as { text?: string })?.text ?? '');
        if (!/sdi\.(usage_log|audit_log)/.test(text)) queries++;
        return q(...a);
      };
      // A cursor session borrows a client (pool.connect() without a callback; pool.query passes one).
      const connect = (pool as unknown as { connect: (...a: unknown[]) => unknown }).connect.bind(pool);
      (pool as unknown as { connect: (...a: unknown[]) => unknown }).connect = (...a: unknown[]) => {
        if (a.length === 0) queries++;
        return connect(...a);
      };
    }
    platforms.push(p);
    const app = (await buildApp(p)) as App;
    urls.push(await app.listen({ port: 0, host: '127.0.0.1' }));
    apps.push(app);
  }
});

afterAll(async () => {
  for (const a of apps) await a.close();
  for (const p of platforms) await closePlatform(p);
  await db().query(`DELETE FROM sdi.layers WHERE name = $1`, [L]);
  await db().query(`DROP TABLE IF EXISTS data.${L}`);
});

describe('cached tiles without a query (change feed)', () => {
  it('both feeds listen; a hit (WMTS and vector tile) runs no statement at all', async () => {
    expect(platforms.every((p) => p.changes?.live)).toBe(true);
    for (const url of [WMTS, MVT]) {
      expect(await tile(0, url)).toMatch(/^(miss|hit)$/);
      expect(await tile(0, url)).toBe('hit');
      const before = queries;
      for (let k = 0; k < 20; k++) expect(await tile(0, url)).toBe('hit');
      expect(queries - before).toBe(0);
    }
  });

  it('a statement on the table, from another connection, invalidates the tile in both processes', async () => {
    const etags: string[] = [];
    for (const k of [0, 1]) {
      await tile(k);
      expect(await tile(k)).toBe('hit');
      etags.push(String((await get(k, WMTS)).headers.get('etag')));
    }
    expect(etags[1]).toBe(etags[0]);
    await heard(DATA, () => db().query(`UPDATE data.${L} SET nom = nom || '!' WHERE fid = 1`));
    // The first process draws the tile of the new revision; the second finds it in the shared cache.
    expect(await tile(0)).toBe('miss');
    const r = await get(1, WMTS);
    expect(r.headers.get('x-tile-cache')).toBe('hit');
    expect(r.headers.get('etag')).not.toBe(etags[0]);
    expect(r.headers.get('etag')).toBe((await get(0, WMTS)).headers.get('etag'));
  });

  it('once the notification is heard, the next request never gets the older tile (30 changes in a row)', async () => {
    for (let k = 0; k < 30; k++) {
      await heard(DATA, () => db().query(`UPDATE data.${L} SET nom = $1 WHERE fid = 2`, [`n${k}`]));
      expect(await tile(k % 2, MVT)).toBe('miss');
      expect(await tile(k % 2, MVT)).toBe('hit');
    }
  });

  it('a style change and a change of the publication invalidate it too', async () => {
    await tile(1);
    expect(await tile(1)).toBe('hit');
    await heard('["styles"]', () => db().query(`UPDATE sdi.styles SET title = title || ' (cf)' WHERE geometry_kind = 'polygon'`));
    try {
      expect(await tile(1)).toBe('miss');
      expect(await tile(1)).toBe('hit');
    } finally {
      await heard('["styles"]', () => db().query(`UPDATE sdi.styles SET title = left(title, -5) WHERE geometry_kind = 'polygon' AND title LIKE '% (cf)'`));
    }
    await tile(1);
    await heard('["layers"]', () => db().query(`UPDATE sdi.layers SET title = 'Carrés', updated_at = clock_timestamp() WHERE name = $1`, [L]));
    expect(await tile(1)).toBe('miss');
    expect(await tile(1)).toBe('hit');
  });

  it('made restricted, the layer is no longer served from the cache to anyone without a grant', async () => {
    expect(await tile(0)).toBe('hit');
    await heard('["layers"]', () => db().query(`UPDATE sdi.layers SET public = false WHERE name = $1`, [L]));
    try {
      for (const k of [0, 1]) {
        const r = await get(k, WMTS);
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(String(r.headers.get('content-type'))).not.toMatch(/^image\//);
      }
    } finally {
      await db().query(`UPDATE sdi.layers SET public = true WHERE name = $1`, [L]);
    }
  });

  it('without its feed, a process reads the revision on every request (and still serves hits)', async () => {
    await platforms[0]!.changes!.close();
    expect(platforms[0]!.changes!.live).toBe(false);
    await tile(0);
    const before = queries;
    expect(await tile(0)).toBe('hit');
    expect(queries - before).toBeGreaterThan(0);
    await db().query(`UPDATE data.${L} SET nom = nom WHERE fid = 3`);
    expect(await tile(0)).toBe('miss');
  });
});
