/**
 * Issue 10, import speed: an imported polygon layer is published with the plain GiST (geom), as ogr2ogr builds
 * it, and its GiST (geom, ST_Area(geom)) — the vector tiles' generalisation rule, src/render/mvt-sql.ts — is
 * built afterwards by a job of kind 'layer-index' on the download queue (src/publishing/area-index-job.ts):
 *  - `cli.js import` of a polygon GeoPackage: the plain index at once, no area index, the job queued and named in
 *    the report; a second queueing (the function, a re-import) gives the same job, never a second one;
 *  - a `cli.js download-worker` process runs it: the area index present (used by the tiles' predicate, its
 *    expression's statistics gathered), the plain index gone, nothing left to queue;
 *  - a point layer gets no job; a table gone or not of polygons is a no-op;
 *  - readers holding the table past the DROP's lock_timeout: the area index committed, the plain one kept;
 *  - the start sweep queues a polygon layer whose job was lost, once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { db, ROOT } from '../helpers.js';
import { cliRunner, dropTestLayers } from './cli-runner.js';
import { AREA_INDEX_JOB_KIND, buildAreaIndex, queueAreaIndex, sweepAreaIndexes } from '../../src/publishing/area-index-job.js';

let dir: string;
const TABLES = ['aix_parcels', 'aix_points', 'aix_sweep', 'aix_locked'];

const { cli, gpkg, importFile } = cliRunner(() => ({ ...process.env, DATABASE_URL: inject('databaseUrl'), BASE_URL: '' }), () => dir);

/** The table's indexes, by definition (the names aside). */
const indexes = async (table: string) =>
  (await db().query<{ name: string; def: string }>(`SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = 'data' AND tablename = $1 ORDER BY 1`, [table])).rows;
const gistDefs = async (table: string) => (await indexes(table)).filter((i) => /USING gist/.test(i.def)).map((i) => i.def.replace(/^.* USING gist /, ''));
const jobsOf = async (table: string) =>
  (await db().query(`SELECT id, state, request, priority, result FROM sdi.jobs WHERE kind = $1 AND request->>'table' = $2 ORDER BY created_at`, [AREA_INDEX_JOB_KIND, table])).rows;

const cleanUp = () => dropTestLayers(TABLES);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sdi-area-index-test-'));
  await cleanUp();
});

afterAll(async () => {
  await cleanUp();
  cli('records');
  rmSync(dir, { recursive: true, force: true });
});

describe('an imported polygon layer: plain GiST at publication, the area index by a background job', () => {
  let job: string;

  it('import: the plain GiST (geom) only, the job queued (low priority) and named in the report', async () => {
    const layer = importFile(gpkg('aix_parcels', 400, { sizes: 'varied' }), 'aix_parcels');
    expect(layer).toMatchObject({ layer: 'aix_parcels', table: 'data.aix_parcels', count: 400, geometryType: 'MULTIPOLYGON' });
    expect(layer.areaIndexJob).toMatch(/^[0-9a-f-]{36}$/);
    job = layer.areaIndexJob;
    expect(await gistDefs('aix_parcels')).toEqual(['(geom)']);
    expect(await jobsOf('aix_parcels')).toEqual([expect.objectContaining({ id: job, state: 'queued', priority: -1, request: { schema: 'data', table: 'aix_parcels', column: 'geom' } })]);
  });

  it('queued once per table: the function again, or a re-import (replace), names the same waiting job', async () => {
    expect(await queueAreaIndex(db(), 'data', 'aix_parcels', 'geom')).toEqual({ id: job, created: false });
    const again = importFile(gpkg('aix_parcels', 400, { sizes: 'varied' }), 'aix_parcels');
    expect(again.keptVersion).toBeGreaterThan(0);
    expect(again.areaIndexJob).toBe(job);
    expect((await jobsOf('aix_parcels')).map((j) => j.id)).toEqual([job]);
    // The new table has its own plain index (the old one moved to sdi_versions with its table).
    expect(await gistDefs('aix_parcels')).toEqual(['(geom)']);
  });

  it('run by a download worker process: the area index built, the plain one dropped, statistics of the area gathered', async () => {
    const plain = (await indexes('aix_parcels')).find((i) => /USING gist \(geom\)$/.test(i.def))!.name;
    const worker = spawn(process.execPath, [join(ROOT, 'dist/app/cli.js'), 'download-worker', '--kinds', AREA_INDEX_JOB_KIND, '--poll-ms', '200'], {
      env: { ...process.env, DATABASE_URL: inject('databaseUrl'), SDI_DOWNLOAD_DIR: join(dir, 'downloads'), LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    let row: any;
    try {
      for (let i = 0; i < 300; i++) {
        row = (await jobsOf('aix_parcels'))[0];
        if (['done', 'failed', 'cancelled'].includes(row.state)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      worker.kill('SIGTERM');
    }
    expect(row.state, JSON.stringify(row)).toBe('done');
    expect(row.result).toMatchObject({ outcome: 'built', dropped: [plain], kept: [] });
    expect(await gistDefs('aix_parcels')).toEqual(['(geom, st_area(geom))']);
    const index = row.result.index as string;
    expect((await indexes('aix_parcels')).map((i) => i.name)).toContain(index);
    // ANALYZE after the build: the planner has the area's distribution (gathered for an index expression only).
    const stats = await db().query(`SELECT count(*)::int AS n FROM pg_stats WHERE schemaname = 'data' AND tablename = $1`, [index]);
    expect(stats.rows[0].n).toBeGreaterThan(0);
    // The tiles' predicate (box and area) is one index condition on it.
    const c = await db().connect();
    try {
      await c.query('BEGIN');
      await c.query('SET LOCAL enable_seqscan = off');
      const plan = (await c.query(`EXPLAIN (FORMAT JSON) SELECT fid FROM data.aix_parcels t WHERE t.geom && ST_MakeEnvelope(610000, 6750000, 615000, 6755000, 2154) AND ST_Area(t.geom) >= 100000`)).rows[0]['QUERY PLAN'];
      expect(JSON.stringify(plan)).toMatch(new RegExp(`"Index Name":"${index}".*"Index Cond":"[^"]*st_area`));
      await c.query('ROLLBACK');
    } finally {
      c.release();
    }
    const kept = await db().query(`SELECT count(*)::int AS n FROM data.aix_parcels WHERE ST_Area(geom) >= 100000`);
    expect(kept.rows[0].n).toBeGreaterThan(0);
    expect(kept.rows[0].n).toBeLessThan(400);
    // Nothing left to do: no new job, and a build finds the index there.
    expect(await queueAreaIndex(db(), 'data', 'aix_parcels', 'geom')).toBeUndefined();
    expect(await buildAreaIndex(db(), { schema: 'data', table: 'aix_parcels', column: 'geom' })).toEqual({ outcome: 'exists' });
  });

  it('a point layer gets no job; a build on a point table or a table gone does nothing', async () => {
    const layer = importFile(gpkg('aix_points', 50, { kind: 'point' }), 'aix_points');
    expect(layer.geometryType).toBe('POINT');
    expect(layer.areaIndexJob).toBeUndefined();
    expect(await jobsOf('aix_points')).toEqual([]);
    expect(await gistDefs('aix_points')).toEqual(['(geom)']);
    expect(await buildAreaIndex(db(), { schema: 'data', table: 'aix_points', column: 'geom' })).toEqual({ outcome: 'not-polygon' });
    expect(await buildAreaIndex(db(), { schema: 'data', table: 'aix_nothing', column: 'geom' })).toEqual({ outcome: 'gone' });
    expect(await gistDefs('aix_points')).toEqual(['(geom)']);
  });
});

describe('readers holding the table past the lock timeout of the DROP (55P03)', () => {
  it('the area index is committed, the plain index kept; both serve', async () => {
    await db().query(`CREATE TABLE data.aix_locked (fid integer PRIMARY KEY, geom geometry(Polygon, 2154))`);
    await db().query(`INSERT INTO data.aix_locked SELECT i, ST_MakeEnvelope(610000 + i * 100, 6750000, 610050 + i * 100, 6750050, 2154) FROM generate_series(1, 100) i`);
    await db().query(`CREATE INDEX aix_locked_plain ON data.aix_locked USING gist (geom)`);
    const reader = await db().connect();
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM data.aix_locked'); // ACCESS SHARE until the end of its transaction
      const started = Date.now();
      const out = await buildAreaIndex(db(), { schema: 'data', table: 'aix_locked', column: 'geom' }, { dropLockTimeoutMs: 300 });
      expect(out).toMatchObject({ outcome: 'built', dropped: [], kept: ['aix_locked_plain'] });
      expect(Date.now() - started).toBeLessThan(10_000);
      // Committed while the reader still holds the table.
      const other = await db().query(`SELECT indexname FROM pg_indexes WHERE schemaname = 'data' AND tablename = 'aix_locked' AND indexdef ILIKE '%st_area(geom)%'`);
      expect(other.rows.map((r) => r.indexname)).toEqual([out.index]);
      await reader.query('COMMIT');
    } finally {
      reader.release();
    }
    expect(await gistDefs('aix_locked')).toEqual(expect.arrayContaining(['(geom)', '(geom, st_area(geom))']));
    expect(await buildAreaIndex(db(), { schema: 'data', table: 'aix_locked', column: 'geom' })).toEqual({ outcome: 'exists' });
  });
});

describe('the download service start sweep', () => {
  it('queues a polygon layer whose job was lost, once', async () => {
    const layer = importFile(gpkg('aix_sweep', 30, { sizes: 'varied' }), 'aix_sweep');
    expect(layer.areaIndexJob).toBeDefined();
    // The job lost (a stop between the publication and the queueing, or a store from before the job existed).
    await db().query(`DELETE FROM sdi.jobs WHERE id = $1`, [layer.areaIndexJob]);
    const first = await sweepAreaIndexes(db());
    const jobs = await jobsOf('aix_sweep');
    expect(jobs).toEqual([expect.objectContaining({ state: 'queued', request: { schema: 'data', table: 'aix_sweep', column: 'geom' } })]);
    expect(first.map((q) => q.id)).toContain(jobs[0].id);
    // Two processes starting: the second sweep queues nothing more for it.
    const second = await sweepAreaIndexes(db());
    expect(second.map((q) => q.id)).not.toContain(jobs[0].id);
    expect(await jobsOf('aix_sweep')).toHaveLength(1);
    // A table with its area index is not swept (aix_parcels, built above); a point layer never.
    expect(await jobsOf('aix_parcels')).toHaveLength(1);
    expect(await jobsOf('aix_points')).toEqual([]);
  });
});
