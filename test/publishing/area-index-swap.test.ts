/**
 * Issue 10: a replace never waits for, nor fails because of, the background build of the area index of the table
 * it replaces (src/import/index-builds.ts, src/publishing/area-index-job.ts). Before, the swap queued behind the
 * build's locks (~17 s on a million parcels, then 409 past the 30 s lock timeout).
 *  - a build in progress as the swap finds it — holding its mark, waiting for its table lock behind a writer the
 *    test holds, so it lasts exactly as long as the test wants — is cancelled by `cli.js import` (replace), by
 *    `cli.js rollback` and by a delete dropping the table: the build ends 'superseded', nothing of it is left,
 *    the command publishes once the writer is gone, and the new table's build is queued;
 *  - a build in its CREATE INDEX (pg_stat_progress_create_index) on 100,000 polygons, and a replace with a lock
 *    timeout of 500 ms: the replace is applied, the build 'superseded';
 *  - a cancel that is not a swap's (the job's own) is not reported as 'superseded'.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { cliRunner, dropTestLayers } from './cli-runner.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { db } from '../helpers.js';
import { AREA_INDEX_JOB_KIND, buildAreaIndex } from '../../src/publishing/area-index-job.js';
import { BUILD_MARK_CLASS } from '../../src/import/index-builds.js';
import { swapIntoPlace } from '../../src/import/versions.js';
import { deleteLayer } from '../../src/publishing/layer-admin.js';
import { loadConfig } from '../../src/config/index.js';

let dir: string;
let buildPool: pg.Pool;
const TABLES = ['aix_swap', 'aix_swap_big', 'aix_swap_del', 'aix_swap_own'];

const env = () => ({ ...process.env, DATABASE_URL: inject('databaseUrl'), BASE_URL: '' });
const { cli, cliAsync, gpkg, importFile } = cliRunner(env, () => dir);

const oidOf = async (table: string): Promise<number> => (await db().query(`SELECT $1::regclass::oid::int8 AS oid`, [`data.${table}`])).rows[0].oid;
const areaIndexes = async (oid: number) =>
  (await db().query(`SELECT count(*)::int AS n FROM pg_index WHERE indrelid = $1::oid AND pg_get_indexdef(indexrelid) ILIKE '%st_area(geom)%'`, [oid])).rows[0].n;
const jobsOf = async (table: string) =>
  (await db().query(`SELECT id, state FROM sdi.jobs WHERE kind = $1 AND request->>'table' = $2 ORDER BY created_at`, [AREA_INDEX_JOB_KIND, table])).rows;

/** Ask `look` again until it is true (a wait on another session's progress, not a measure of time). */
async function until(what: string, look: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (await look()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

/** A build of `oid` holds its mark and waits for the table's lock. */
const buildWaiting = (oid: number) => async () =>
  (await db().query(
    `SELECT EXISTS (SELECT 1 FROM pg_locks m JOIN pg_locks r ON r.pid = m.pid AND r.locktype = 'relation' AND r.relation = $2::oid AND NOT r.granted
                     WHERE m.locktype = 'advisory' AND m.classid = $1 AND m.objid = $2::oid AND m.objsubid = 2 AND m.granted) AS w`,
    [BUILD_MARK_CLASS, oid],
  )).rows[0].w;

/** A session writing the table, uncommitted: a build's SHARE ROW EXCLUSIVE waits for it (and so would a swap). */
async function holdWriter(table: string): Promise<pg.PoolClient> {
  const w = await db().connect();
  await w.query('BEGIN');
  await w.query(`UPDATE data.${table} SET num = num WHERE fid = 1`);
  return w;
}

const cleanUp = () => dropTestLayers(TABLES);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sdi-area-swap-test-'));
  buildPool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 3 });
  await cleanUp();
});

afterAll(async () => {
  await cleanUp();
  await buildPool.end();
  cli('records');
  rmSync(dir, { recursive: true, force: true });
});

describe('a swap cancels the build of the table it replaces (issue 10)', () => {
  const target = { schema: 'data', table: 'aix_swap', column: 'geom' };

  it('cli import (replace) during a build: the build superseded and nothing of it left, the layer replaced, the new table queued', async () => {
    const first = importFile(gpkg('aix_swap', 200), 'aix_swap');
    expect(first.areaIndexJob).toBeDefined();
    const oldOid = await oidOf('aix_swap');
    const writer = await holdWriter('aix_swap');
    let build: Promise<unknown> | undefined;
    try {
      build = buildAreaIndex(buildPool, target);
      await until('the build holds its mark and waits for the table', buildWaiting(oldOid));
      const imported = cliAsync('import', gpkg('aix_swap', 300), '--name', 'aix_swap');
      // The swap cancels the build at once; it then waits for the writer only (readers and writers it must wait for).
      expect(await build).toEqual({ outcome: 'superseded' });
      await writer.query('COMMIT');
      const r = await imported;
      expect(r.status, r.stderr).toBe(0);
      const layer = JSON.parse(r.stdout).layers[0];
      expect(layer).toMatchObject({ layer: 'aix_swap', count: 300, keptVersion: 1 });
      expect(layer.areaIndexJob).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await writer.query('ROLLBACK').catch(() => undefined);
      writer.release();
      await build?.catch(() => undefined);
    }
    // The old table went to sdi_versions without an area index (the build rolled back); the new one is published.
    expect(await areaIndexes(oldOid)).toBe(0);
    expect((await db().query(`SELECT relnamespace::regnamespace::text AS s FROM pg_class WHERE oid = $1::oid`, [oldOid])).rows[0].s).toBe('sdi_versions');
    expect(await oidOf('aix_swap')).not.toBe(oldOid);
    expect((await db().query(`SELECT count(*)::int AS n FROM data.aix_swap`)).rows[0].n).toBe(300);
    expect((await jobsOf('aix_swap')).filter((j) => j.state === 'queued')).toHaveLength(1);
  });

  it('cli rollback during a build of the current table: the build superseded, the version restored', async () => {
    const current = await oidOf('aix_swap');
    const writer = await holdWriter('aix_swap');
    let build: Promise<unknown> | undefined;
    try {
      build = buildAreaIndex(buildPool, target);
      await until('the build holds its mark and waits for the table', buildWaiting(current));
      const rolled = cliAsync('rollback', '--name', 'aix_swap');
      expect(await build).toEqual({ outcome: 'superseded' });
      await writer.query('COMMIT');
      const r = await rolled;
      expect(r.status, r.stderr).toBe(0);
    } finally {
      await writer.query('ROLLBACK').catch(() => undefined);
      writer.release();
      await build?.catch(() => undefined);
    }
    expect((await db().query(`SELECT count(*)::int AS n FROM data.aix_swap`)).rows[0].n).toBe(200);
    expect(await areaIndexes(current)).toBe(0);
  });

  it('a delete dropping the table during a build: the build superseded, the table gone', async () => {
    importFile(gpkg('aix_swap_del', 50), 'aix_swap_del');
    const oid = await oidOf('aix_swap_del');
    const writer = await holdWriter('aix_swap_del');
    let build: Promise<unknown> | undefined;
    try {
      build = buildAreaIndex(buildPool, { ...target, table: 'aix_swap_del' });
      await until('the build holds its mark and waits for the table', buildWaiting(oid));
      const deleted = deleteLayer(buildPool, loadConfig(env()), 'aix_swap_del', { dropTable: true });
      expect(await build).toEqual({ outcome: 'superseded' });
      await writer.query('COMMIT');
      expect(await deleted).toMatchObject({ tableDropped: true });
    } finally {
      await writer.query('ROLLBACK').catch(() => undefined);
      writer.release();
      await build?.catch(() => undefined);
    }
    expect((await db().query(`SELECT to_regclass('data.aix_swap_del') AS t`)).rows[0].t).toBeNull();
  });

  it('a build in its CREATE INDEX on 100,000 polygons and a replace allowed 500 ms of lock wait: the replace applied, the build superseded', async () => {
    importFile(gpkg('aix_swap_big', 20), 'aix_swap_big');
    await db().query(
      `INSERT INTO data.aix_swap_big (num, geom) SELECT i, ST_Multi(ST_MakeEnvelope(600000 + (i % 400) * 100, 6700000 + (i / 400) * 100, 600050 + (i % 400) * 100 + i % 7, 6700050 + (i / 400) * 100, 2154)) FROM generate_series(1, 100000) i`,
    );
    // The replacement, staged as an import stages it (a copy with its key and index), so that the swap is all that remains.
    await db().query(`CREATE TABLE sdi_import.s_aix_big (LIKE data.aix_swap_big INCLUDING ALL)`);
    await db().query(`INSERT INTO sdi_import.s_aix_big SELECT * FROM data.aix_swap_big WHERE fid <= 10`);
    const oid = await oidOf('aix_swap_big');
    const build = buildAreaIndex(buildPool, { ...target, table: 'aix_swap_big' });
    try {
      await until('the build is in its CREATE INDEX', async () =>
        (await db().query(`SELECT EXISTS (SELECT 1 FROM pg_stat_progress_create_index WHERE relid = $1::oid AND phase LIKE 'building index%') AS b`, [oid])).rows[0].b,
      );
      const swapped = await swapIntoPlace(db(), [{ layerName: 'aix_swap_big', staging: 's_aix_big', mode: 'replace', defaultTitle: 'aix_swap_big', targetSrid: 2154, keepVersions: 3 }], 500);
      expect(swapped).toEqual([expect.objectContaining({ schema: 'data', table: 'aix_swap_big', count: 10, keptVersion: 1 })]);
      expect(await build).toEqual({ outcome: 'superseded' });
    } finally {
      await build.catch(() => undefined);
      await db().query(`DROP TABLE IF EXISTS sdi_import.s_aix_big`);
    }
    expect(await areaIndexes(oid)).toBe(0);
  });

  it("a cancel that is not a swap's (the job's own, by its signal) is not taken for one", async () => {
    importFile(gpkg('aix_swap_own', 50), 'aix_swap_own');
    const oid = await oidOf('aix_swap_own');
    const writer = await holdWriter('aix_swap_own');
    const ac = new AbortController();
    try {
      const build = buildAreaIndex(buildPool, { ...target, table: 'aix_swap_own' }, { signal: ac.signal });
      await until('the build holds its mark and waits for the table', buildWaiting(oid));
      ac.abort();
      await expect(build).rejects.toMatchObject({ code: '57014' });
    } finally {
      await writer.query('ROLLBACK');
      writer.release();
    }
    expect(await areaIndexes(oid)).toBe(0);
  });
});
