/**
 * Issue 9, tiles and the access policy: the platform is built in this process on the suite's database and tile
 * cache with three policies — public, a territorial one (communes restricted to the Loiret, code 45…, as a
 * grant would be) and deny-all — and the same tiles are asked through each. The policy is asked before the
 * cache: a restricted answer is drawn for its caller (only the Loiret), never cached nor served from the cache,
 * never given a shared Cache-Control or an ETag; under deny-all a tile the public one cached does not come out.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { join } from 'node:path';
import { baseUrl, db, ROOT } from '../helpers.js';
import { decode, pixel } from './image.js';

type Inject = (o: { method: string; url: string }) => Promise<{ statusCode: number; headers: Record<string, unknown>; rawPayload: Buffer; body: string }>;
interface App {
  inject: Inject;
  ready(): Promise<unknown>;
  close(): Promise<unknown>;
}

let platform: { pool: { end(): Promise<void> } };
const apps: Record<'public' | 'territorial' | 'denied', App> = {} as never;
/** The LAMB93_10cm level-9 tile (105 km) holding Orléans: communes of the Loiret and of its neighbours. */
let tileUrl = '';
let mvtUrl = '';
/** Pixel of Blois (Loir-et-Cher, 41018) in that tile, and of Orléans (Loiret). */
let blois: [number, number];
let orleans: [number, number];

beforeAll(async () => {
  const { loadConfig } = await import(join(ROOT, 'dist/src/config/index.js'));
  const { createPlatform } = await import(join(ROOT, 'dist/src/platform.js'));
  const { buildApp } = await import(join(ROOT, 'dist/app/build-app.js'));
  const { PublicPolicy, DenyAllPolicy } = await import(join(ROOT, 'dist/src/access/policy.js'));
  const config = loadConfig({ ...process.env, DATABASE_URL: inject('databaseUrl'), BASE_URL: baseUrl(), SDI_DEMO: '0', LOG_LEVEL: 'silent', SDI_DOWNLOAD_DIR: inject('downloadDir'), SDI_TILE_CACHE_DIR: inject('tileCacheDir') });
  platform = await createPlatform(config);
  class Territorial extends PublicPolicy {
    decide(p: unknown, layer: { name: string }, action: string) {
      const d = super.decide(p, layer, action);
      if (!d.allowed || layer.name !== 'communes') return d;
      return { allowed: true, restriction: (params: { add(v: unknown, cast?: string): string }, alias: string) => `${alias}.code LIKE ${params.add('45%', 'text')}` };
    }
  }
  for (const [name, policy] of [['public', new PublicPolicy()], ['territorial', new Territorial()], ['denied', new DenyAllPolicy()]] as const) {
    apps[name] = (await buildApp({ ...platform, policy })) as App;
    await apps[name].ready();
  }
  const { rows } = await db().query(
    `SELECT code, ST_X(c) AS x, ST_Y(c) AS y FROM (SELECT code, (ST_MaximumInscribedCircle(geom)).center AS c FROM data.communes WHERE code IN ('45234', '41018')) s`,
  );
  const at = (code: string) => rows.find((r) => r.code === code)!;
  const span = 0.1 * 2 ** (21 - 9) * 256;
  const o = at('45234');
  const col = Math.floor(+o.x / span);
  const row = Math.floor((12_000_000 - +o.y) / span);
  const px = (r: { x: number; y: number }): [number, number] => [Math.floor(((+r.x - col * span) / span) * 256), Math.floor(((12_000_000 - row * span - +r.y) / span) * 256)];
  orleans = px(o);
  blois = px(at('41018'));
  expect(blois.every((v) => v >= 0 && v < 256)).toBe(true);
  tileUrl = `/wmts/1.0.0/communes/default/LAMB93_10cm/9/${row}/${col}.png`;
  mvtUrl = '/tiles/communes/8/129/89.pbf';
});

afterAll(async () => {
  for (const a of Object.values(apps)) await a?.close();
  await platform?.pool.end();
});

describe('tiles and the access policy', () => {
  it('public: the tile is cached (miss, then hit) with a shared Cache-Control and an ETag; Blois and Orléans drawn', async () => {
    const a = await apps.public.inject({ method: 'GET', url: tileUrl });
    expect(a.statusCode).toBe(200);
    const b = await apps.public.inject({ method: 'GET', url: tileUrl });
    expect(b.headers['x-tile-cache']).toBe('hit');
    expect(b.headers['cache-control']).toBe('public, max-age=60');
    expect(b.headers.etag).toBeDefined();
    const img = await decode(b.rawPayload);
    expect(pixel(img, ...blois)[3]).toBeGreaterThan(50);
    expect(pixel(img, ...orleans)[3]).toBeGreaterThan(50);
  });

  it('territorial: the cached tile is not served; the tile is drawn for the grant (the Loiret only), private, not cached', async () => {
    for (let k = 0; k < 2; k++) {
      const r = await apps.territorial.inject({ method: 'GET', url: tileUrl });
      expect(r.statusCode).toBe(200);
      expect(r.headers['x-tile-cache']).toBe('bypass');
      expect(r.headers['cache-control']).toBe('private, max-age=0');
      expect(r.headers.etag).toBeUndefined();
      const img = await decode(r.rawPayload);
      expect(pixel(img, ...blois)[3]).toBe(0);
      expect(pixel(img, ...orleans)[3]).toBeGreaterThan(50);
    }
    const v = await apps.territorial.inject({ method: 'GET', url: mvtUrl });
    expect(v.statusCode).toBe(200);
    expect(v.headers['x-tile-cache']).toBe('bypass');
    const pub = await apps.public.inject({ method: 'GET', url: mvtUrl });
    expect(pub.rawPayload.length).toBeGreaterThan(v.rawPayload.length);
  });

  it('deny-all: neither the cached image tile nor the cached vector tile comes out', async () => {
    for (const url of [tileUrl, mvtUrl]) {
      const r = await apps.denied.inject({ method: 'GET', url });
      expect(r.statusCode).toBeGreaterThanOrEqual(400);
      expect(String(r.headers['content-type'])).not.toMatch(/^image\/|vnd\.mapbox/);
    }
  });
});
