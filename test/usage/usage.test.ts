/**
 * Issue 11, "usage statistics for every service (requests and features/bytes per layer, service, day,
 * principal), served by the admin API as JSON and CSV, written without slowing the request path (batched)".
 * A server process of this file's own; a user of its own makes real requests to WFS, OGC API Features, WMS,
 * WMTS, vector tiles and CSW (and one refused request); GET /admin/usage then shows them per service and layer,
 * with the features read and the bytes sent, in JSON and CSV; bad parameters are problem+json 400.
 */
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { startServerProcess, type ServerProcess } from '../server-process.js';
import { classifyRequest } from '../../src/usage/classify.js';
import { UsageRecorder } from '../../src/usage/recorder.js';
import { db } from '../helpers.js';
import type { Pool } from '../../src/db/pool.js';

const TOKEN = 'sdi-usage-test-admin-token-0123456789';
const admin = { authorization: `Bearer ${TOKEN}` };
const LOGIN = 'usage_tester';
const user = { authorization: `Basic ${Buffer.from(`${LOGIN}:usage-test-password`).toString('base64')}` };
let srv: ServerProcess;

const today = () => new Date().toISOString().slice(0, 10);
async function usage(query: string): Promise<{ status: number; type: string; body: string }> {
  const r = await fetch(`${srv.base}/admin/usage?${query}`, { headers: admin });
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
}

beforeAll(async () => {
  srv = await startServerProcess({ DATABASE_URL: inject('databaseUrl'), SDI_DEMO: '0', SDI_ADMIN_TOKEN: TOKEN, SDI_HARVEST: '0', SDI_DOWNLOAD_WORKERS: '0' });
  const r = await fetch(`${srv.base}/admin/users`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ login: LOGIN, password: 'usage-test-password' }) });
  expect([201, 409]).toContain(r.status);
}, 120_000);

afterAll(async () => {
  await fetch(`${srv.base}/admin/users/${LOGIN}`, { method: 'DELETE', headers: admin });
  srv?.stop();
});

describe('requests classified by service, operation and layer (the protocols\' own parameters)', () => {
  it('reads WFS TYPENAMES, WMS LAYERS, WMTS KVP and REST, OGC API collections and tiles, /tiles, CSW', () => {
    expect(classifyRequest('GET', '/wfs?service=WFS&request=GetFeature&typeNames=sdi:communes,sdi:epci')).toEqual({ service: 'wfs', operation: 'GetFeature', layers: ['communes', 'epci'] });
    expect(classifyRequest('POST', '/wfs')).toEqual({ service: 'wfs', operation: 'POST', layers: [] });
    expect(classifyRequest('GET', '/wms?REQUEST=GetFeatureInfo&LAYERS=a&QUERY_LAYERS=communes')).toMatchObject({ service: 'wms', layers: ['communes'] });
    expect(classifyRequest('GET', '/wmts/1.0.0/communes/default/WebMercatorQuad/8/89/129.png')).toEqual({ service: 'wmts', operation: 'GetTile', layers: ['communes'] });
    expect(classifyRequest('GET', '/ogcapi/collections/communes/items?limit=2')).toEqual({ service: 'ogcapi', operation: 'items', layers: ['communes'] });
    expect(classifyRequest('GET', '/ogcapi/collections/communes/tiles/WebMercatorQuad/8/89/129')).toEqual({ service: 'tiles', operation: 'tile', layers: ['communes'] });
    expect(classifyRequest('GET', '/tiles/communes/8/129/89.pbf')).toEqual({ service: 'tiles', operation: 'tile', layers: ['communes'] });
    expect(classifyRequest('GET', '/csw?request=GetRecords')).toEqual({ service: 'csw', operation: 'GetRecords', layers: [] });
    expect(classifyRequest('GET', '/admin/layers')).toBeUndefined();
    expect(classifyRequest('GET', '/download/')).toBeUndefined();
  });
});

describe('GET /admin/usage', () => {
  it('counts the requests of every protocol per service, layer, day and principal, with features and bytes (JSON and CSV)', async () => {
    const asUser = async (path: string, expected: number) => {
      const r = await fetch(`${srv.base}${path}`, { headers: user });
      await r.arrayBuffer();
      expect(r.status, path).toBe(expected);
    };
    await asUser('/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&COUNT=3', 200);
    await asUser('/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:nowhere', 400);
    await asUser('/ogcapi/collections/communes/items?limit=2', 200);
    await asUser('/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=communes&STYLES=&CRS=EPSG:2154&BBOX=600000,6650000,650000,6700000&WIDTH=64&HEIGHT=64&FORMAT=image/png', 200);
    await asUser('/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=communes&STYLE=default&FORMAT=image/png&TILEMATRIXSET=WebMercatorQuad&TILEMATRIX=8&TILEROW=89&TILECOL=129', 200);
    await asUser('/tiles/communes/8/129/89.pbf', 200);
    await asUser('/csw?service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=results&elementSetName=brief', 200);

    // Written in batches (every second): polled, not timed.
    type Row = { day: string; service: string; layer: string | null; principal: string | null; requests: number; errors: number; features: number; bytes: number };
    let rows: Row[] = [];
    for (let i = 0; i < 100; i++) {
      const r = await usage(`principal=${LOGIN}&from=${today()}&to=${today()}`);
      expect(r.status, r.body).toBe(200);
      rows = JSON.parse(r.body).rows;
      if (new Set(rows.map((x) => x.service)).size >= 6 && rows.reduce((n, x) => n + x.requests, 0) >= 7) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    const row = (service: string, layer: string | null) => rows.find((x) => x.service === service && x.layer === layer);
    expect(row('wfs', 'communes')).toMatchObject({ day: today(), principal: LOGIN, requests: 1, errors: 0, features: 3 });
    expect(row('wfs', 'communes')!.bytes).toBeGreaterThan(1000);
    expect(row('wfs', 'nowhere')).toMatchObject({ requests: 1, errors: 1, features: 0 });
    expect(row('ogcapi', 'communes')).toMatchObject({ requests: 1, features: 2 });
    expect(row('wms', 'communes')!.features).toBeGreaterThan(0);
    expect(row('wmts', 'communes')!.requests).toBe(1);
    expect(row('tiles', 'communes')!.requests).toBe(1);
    expect(row('csw', null)!.requests).toBe(1);
    for (const r of rows) expect(r.bytes).toBeGreaterThan(0);

    // Filters: a service, a layer.
    const wfs = JSON.parse((await usage(`principal=${LOGIN}&service=wfs`)).body).rows as Row[];
    expect(new Set(wfs.map((r) => r.service))).toEqual(new Set(['wfs']));
    const communes = JSON.parse((await usage(`principal=${LOGIN}&layer=communes`)).body).rows as Row[];
    expect(communes.map((r) => r.service).sort()).toEqual(['ogcapi', 'tiles', 'wfs', 'wms', 'wmts']);

    const csv = await usage(`principal=${LOGIN}&format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.type).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('day,service,layer,principal,requests,errors,features,bytes');
    expect(lines).toContain(`${today()},wfs,communes,${LOGIN},1,0,3,${row('wfs', 'communes')!.bytes}`);
    expect(lines).toHaveLength(rows.length + 1);
  }, 60_000);

  it('refuses bad parameters with problem+json 400, needs the administrator, and is in the OpenAPI document', async () => {
    for (const q of ['colour=red', 'from=2024-13-01', 'to=yesterday', 'from=2025-02-01&to=2025-01-01', 'service=ftp', 'format=xml']) {
      const r = await usage(q);
      expect(r.status, q).toBe(400);
      expect(r.type).toMatch(/application\/problem\+json/);
      expect(JSON.parse(r.body).type).toBe('urn:sdi:problem:admin:invalid-parameter');
    }
    expect((await fetch(`${srv.base}/admin/usage`)).status).toBe(401);
    expect((await fetch(`${srv.base}/admin/usage`, { headers: user })).status).toBe(403);
    const api = await (await fetch(`${srv.base}/admin/openapi.json`, { headers: admin })).json();
    expect(api.paths['/usage'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['from', 'to', 'service', 'layer', 'principal', 'format']);
    expect(api.components.schemas.UsageReport).toBeDefined();
  });
});

describe('the recorder writes in batches', () => {
  it('1 200 rows recorded: three multi-row INSERTs of at most 500 rows, every row stored; nothing written on the request path', async () => {
    const pool = db();
    const statements: number[] = [];
    // The real pool, its INSERTs counted (the rows go to PostgreSQL).
    const counting = { query: (text: string, values: unknown[][]) => (statements.push((values[0] as unknown[]).length), pool.query(text, values)) } as unknown as Pool;
    const rec = new UsageRecorder(counting, { maxRows: 500, intervalMs: 60_000 });
    const marker = `batch-test-${process.pid}`;
    for (let i = 0; i < 1200; i++) rec.record({ at: new Date(), service: marker, operation: 'GetFeature', layer: 'communes', principal: null, features: 1, bytes: 10, status: 200 });
    // record() only buffers; reaching 500 rows schedules a write, which sends what waits in batches of at most 500.
    await rec.close();
    expect(statements).toEqual([500, 500, 200]);
    const { rows } = await pool.query(`SELECT count(*)::int AS n, sum(features)::int AS f FROM sdi.usage_log WHERE service = $1`, [marker]);
    expect(rows[0]).toEqual({ n: 1200, f: 1200 });
    await pool.query('DELETE FROM sdi.usage_log WHERE service = $1', [marker]);
  });
});
