/**
 * Issue 10, large files: resumable uploads (tus 1.0.0, https://tus.io/protocols/resumable-upload: core protocol,
 * creation, expiration and termination extensions) under /admin/uploads, then imported with POST /admin/imports
 * `upload=<id>` through the same import function. A GeoPackage written here is sent in 3 chunks, the second one
 * broken off mid-way (the socket destroyed): HEAD gives the offset the server kept and the upload resumes from it
 * (the last chunk sent by plain curl). A PATCH at a wrong offset is 409, an upload over SDI_IMPORT_MAX_BYTES 413,
 * a chunk past its declared length 413; errors are problem+json; the janitor removes expired uploads.
 */
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { db, get, ROOT } from '../helpers.js';
import { startServerProcess, type ServerProcess } from '../server-process.js';

const TOKEN = 'sdi-upload-test-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const TUS = { 'tus-resumable': '1.0.0' };
const MAX = 1_000_000;
/** The one origin allowed by CORS (a browser client such as tus-js-client on the admin site). */
const ORIGIN = 'https://admin.example.fr';
let admin: ServerProcess;
let dir: string;
let downloadDir: string;
let gpkg: Buffer;

const problem = (r: { status: number; type: string; body: string }, status: number) => {
  expect(r.status, r.body).toBe(status);
  expect(r.type).toContain('application/problem+json');
  return JSON.parse(r.body);
};

const create = (length: number, filename = 'points.gpkg') =>
  get(`${admin.base}/admin/uploads`, { method: 'POST', headers: { ...auth, ...TUS, 'upload-length': String(length), 'upload-metadata': `filename ${Buffer.from(filename).toString('base64')},filetype ` } });
const head = (location: string) => get(location, { method: 'HEAD', headers: { ...auth, ...TUS } });
const patch = (location: string, offset: number, bytes: Buffer) =>
  get(location, { method: 'PATCH', headers: { ...auth, ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset) }, body: bytes });

/** A PATCH whose connection breaks after `sent` of its bytes (Content-Length says all of them). */
function brokenPatch(location: string, offset: number, bytes: Buffer, sent: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request(location, { method: 'PATCH', headers: { ...auth, ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset), 'content-length': String(bytes.length) } });
    req.on('error', () => resolve());
    req.on('response', () => resolve());
    req.write(bytes.subarray(0, sent), () => setTimeout(() => req.destroy(), 300));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sdi-upload-test-'));
  downloadDir = join(dir, 'downloads');
  await db().query(`DELETE FROM sdi.layers WHERE name = 'up_points'`);
  await db().query(`DROP TABLE IF EXISTS data.up_points`);
  // A GeoPackage of 3,000 points near Orléans with a text attribute: a few hundred kB.
  const path = join(dir, 'points.gpkg');
  const ds = gdal.drivers.get('GPKG').create(path);
  const l = ds.layers.create('points', gdal.SpatialReference.fromEPSG(2154), gdal.wkbPoint);
  l.fields.add(new gdal.FieldDefn('nom', gdal.OFTString));
  for (let i = 0; i < 3000; i++) {
    const f = new gdal.Feature(l);
    f.fields.set('nom', `Point n°${i} près d’Orléans`);
    f.setGeometry(gdal.Geometry.fromWKT(`POINT(${619000 + (i % 60) * 100} ${6754000 + Math.floor(i / 60) * 100})`));
    l.features.add(f);
  }
  ds.close();
  gpkg = readFileSync(path);
  admin = await startServerProcess({ DATABASE_URL: inject('databaseUrl'), SDI_DEMO: '0', SDI_ADMIN_TOKEN: TOKEN, SDI_HARVEST: '0', SDI_DOWNLOAD_WORKERS: '0', SDI_DOWNLOAD_DIR: downloadDir, SDI_IMPORT_MAX_BYTES: String(MAX), SDI_CORS_ORIGINS: ORIGIN });
}, 120_000);

afterAll(async () => {
  admin?.stop();
  await db().query(`DELETE FROM sdi.layers WHERE name = 'up_points'`);
  await db().query(`DROP TABLE IF EXISTS data.up_points`);
  rmSync(dir, { recursive: true, force: true });
});

describe('tus 1.0.0 resumable upload, then import', () => {
  it('needs the administrator credential and Tus-Resumable (412)', async () => {
    problem(await get(`${admin.base}/admin/uploads`, { method: 'POST', headers: { ...TUS, 'upload-length': '10' } }), 401);
    const r = await get(`${admin.base}/admin/uploads`, { method: 'POST', headers: { ...auth, 'upload-length': '10' } });
    expect(problem(r, 412).parameter).toBe('Tus-Resumable');
    expect(r.headers.get('tus-version')).toBe('1.0.0');
  });

  it('an upload over SDI_IMPORT_MAX_BYTES is 413 (tus §creation: Tus-Max-Size)', async () => {
    expect(problem(await create(MAX + 1), 413).parameter).toBe('Upload-Length');
    expect(existsSync(join(downloadDir, 'uploads')) ? readdirSync(join(downloadDir, 'uploads')) : []).toEqual([]);
  });

  it('3 chunks, the second broken off and resumed from HEAD\'s offset, wrong offset 409, then imported', async () => {
    expect(gpkg.length).toBeGreaterThan(100_000);
    expect(gpkg.length).toBeLessThan(MAX);
    const c = await create(gpkg.length);
    expect(c.status, c.body).toBe(201);
    const location = c.headers.get('location')!;
    expect(location).toMatch(/\/admin\/uploads\/[0-9a-f]{32}$/);
    expect(c.headers.get('upload-offset')).toBe('0');
    expect(Date.parse(c.headers.get('upload-expires')!)).toBeGreaterThan(Date.now());
    // What the server speaks (tus §OPTIONS headers, given with the creation).
    expect(c.headers.get('tus-version')).toBe('1.0.0');
    expect(c.headers.get('tus-extension')).toBe('creation,expiration,termination');
    expect(c.headers.get('tus-max-size')).toBe(String(MAX));
    const third = Math.floor(gpkg.length / 3);

    // Chunk 1.
    let r = await patch(location, 0, gpkg.subarray(0, third));
    expect(r.status, r.body).toBe(204);
    expect(r.headers.get('upload-offset')).toBe(String(third));
    expect(r.headers.get('tus-resumable')).toBe('1.0.0');

    // Chunk 2, broken after half of its bytes: the server keeps what it received.
    await brokenPatch(location, third, gpkg.subarray(third, 2 * third), Math.floor(third / 2));
    let offset = -1;
    for (let i = 0; i < 50; i++) {
      const h = await head(location);
      expect(h.status).toBe(200);
      expect(h.headers.get('cache-control')).toBe('no-store');
      expect(h.headers.get('upload-length')).toBe(String(gpkg.length));
      const now = Number(h.headers.get('upload-offset'));
      if (now === offset) break;
      offset = now;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(offset).toBeGreaterThan(third);
    expect(offset).toBeLessThan(2 * third);

    // A PATCH at another offset than the server's: 409, nothing appended (tus §PATCH).
    problem(await patch(location, third, gpkg.subarray(third, 2 * third)), 409);
    expect(Number((await head(location)).headers.get('upload-offset'))).toBe(offset);
    // Not a chunk: 415; past the declared length: 413.
    problem(await get(location, { method: 'PATCH', headers: { ...auth, ...TUS, 'content-type': 'application/octet-stream', 'upload-offset': String(offset) }, body: 'x' }), 415);
    problem(await patch(location, offset, Buffer.alloc(gpkg.length - offset + 1)), 413);
    // Importing it before it is complete: 409.
    expect(problem(await get(`${admin.base}/admin/imports`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ upload: location.split('/').pop(), name: 'up_points' }) }), 409).parameter).toBe('upload');

    // Resumed: the rest of chunk 2, then chunk 3 by plain curl.
    r = await patch(location, offset, gpkg.subarray(offset, 2 * third));
    expect(r.status, r.body).toBe(204);
    writeFileSync(join(dir, 'chunk3'), gpkg.subarray(2 * third));
    const out = execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code} %header{upload-offset}', '-X', 'PATCH', '-H', `Authorization: Bearer ${TOKEN}`, '-H', 'Tus-Resumable: 1.0.0',
      '-H', 'Content-Type: application/offset+octet-stream', '-H', `Upload-Offset: ${2 * third}`, '--data-binary', `@${join(dir, 'chunk3')}`, location], { encoding: 'utf8' });
    expect(out).toBe(`204 ${gpkg.length}`);
    const h = await head(location);
    expect(h.headers.get('upload-offset')).toBe(String(gpkg.length));
    expect(Buffer.from(h.headers.get('upload-metadata')!.split(',')[0]!.split(' ')[1]!, 'base64').toString()).toBe('points.gpkg');

    // The finished upload is imported by the same function as a multipart upload.
    const id = location.split('/').pop()!;
    const imp = await get(`${admin.base}/admin/imports`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ upload: id, name: 'up_points' }) });
    expect(imp.status, imp.body).toBe(201);
    const report = JSON.parse(imp.body);
    expect(report.layers[0]).toMatchObject({ layer: 'up_points', count: 3000, srid: 2154, geometryType: 'POINT' });
    const { rows } = await db().query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE nom = 'Point n°2999 près d’Orléans')::int AS last FROM data.up_points`);
    expect(rows[0]).toEqual({ n: 3000, last: 1 });
    // Consumed: gone from the store.
    expect((await head(location)).status).toBe(404);
  });

  it('from a browser (issue 10): the preflight allows PATCH and HEAD with the tus headers; answers expose Location, Upload-Offset, Tus-Resumable (Fetch standard §3.2 CORS protocol; tus 1.0.0 §Browser support)', async () => {
    const c = await get(`${admin.base}/admin/uploads`, { method: 'POST', headers: { ...auth, ...TUS, origin: ORIGIN, 'upload-length': '10' } });
    expect(c.status, c.body).toBe(201);
    expect(c.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const exposed = (c.headers.get('access-control-expose-headers') ?? '').toLowerCase().split(/\s*,\s*/);
    expect(exposed).toEqual(expect.arrayContaining(['location', 'upload-offset', 'upload-length', 'upload-expires', 'tus-resumable', 'tus-version', 'tus-extension', 'tus-max-size']));
    const location = c.headers.get('location')!;
    try {
      await corsChecks(location);
    } finally {
      await get(location, { method: 'DELETE', headers: { ...auth, ...TUS } });
    }
  });

  /** The preflights of a browser's tus client, then a PATCH from that origin. */
  async function corsChecks(location: string): Promise<void> {
    // The preflight carries no credential (Fetch §4.8): answered before the administrator's check.
    for (const [method, wanted] of [['PATCH', 'tus-resumable,upload-offset,content-type,authorization'], ['HEAD', 'tus-resumable,authorization'], ['POST', 'tus-resumable,upload-length,upload-metadata,authorization']] as const) {
      const pre = await get(method === 'POST' ? `${admin.base}/admin/uploads` : location, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': method, 'access-control-request-headers': wanted } });
      expect(pre.status, `${method} ${pre.body}`).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect((pre.headers.get('access-control-allow-methods') ?? '').split(/\s*,\s*/)).toContain(method);
      const allowed = (pre.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/\s*,\s*/);
      expect(allowed).toEqual(expect.arrayContaining(wanted.split(',')));
    }
    // The PATCH that follows the preflight: its answer's offset is readable by the page.
    const r = await get(location, { method: 'PATCH', headers: { ...auth, ...TUS, origin: ORIGIN, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' }, body: Buffer.from('0123456789') });
    expect(r.status, r.body).toBe(204);
    expect(r.headers.get('upload-offset')).toBe('10');
    expect((r.headers.get('access-control-expose-headers') ?? '').toLowerCase()).toContain('upload-offset');
    // An origin not configured gets no CORS headers: the browser keeps the answer from the page.
    const other = await get(`${admin.base}/admin/uploads`, { method: 'OPTIONS', headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'tus-resumable' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  }

  it('DELETE terminates an upload (tus termination); unknown ids are 404', async () => {
    const c = await create(10);
    const location = c.headers.get('location')!;
    expect((await get(location, { method: 'DELETE', headers: { ...auth, ...TUS } })).status).toBe(204);
    expect((await head(location)).status).toBe(404);
    problem(await get(`${admin.base}/admin/uploads/0123456789abcdef0123456789abcdef`, { method: 'DELETE', headers: { ...auth, ...TUS } }), 404);
    problem(await patch(`${admin.base}/admin/uploads/..%2F..%2Fetc`, 0, Buffer.from('x')), 404);
  });

  it('expired uploads are 410 and removed by the download janitor', async () => {
    const a = (await create(10)).headers.get('location')!.split('/').pop()!;
    const b = (await create(10)).headers.get('location')!.split('/').pop()!;
    // Both made to expire (their info says so).
    for (const id of [a, b]) {
      const info = join(downloadDir, 'uploads', id, 'info.json');
      writeFileSync(info, JSON.stringify({ ...JSON.parse(readFileSync(info, 'utf8')), expires: new Date(Date.now() - 1000).toISOString() }));
      utimesSync(info, new Date(), new Date());
    }
    problem(await patch(`${admin.base}/admin/uploads/${a}`, 0, Buffer.from('x')), 410);
    const janitor = execFileSync(process.execPath, [join(ROOT, 'dist/app/cli.js'), 'download-janitor'], { env: { ...process.env, DATABASE_URL: inject('databaseUrl'), SDI_DOWNLOAD_DIR: downloadDir, LOG_LEVEL: 'silent' }, encoding: 'utf8' });
    expect(janitor).toContain('removedDirs');
    expect(readdirSync(join(downloadDir, 'uploads'))).toEqual([]);
  });
});
