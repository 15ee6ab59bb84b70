/**
 * Issue 10: publishing under a plain database role, as a deployment runs it (the rest of the suite runs as a
 * superuser, which no ownership or privilege check ever stops). Set-up as a DBA would: a role that is not a
 * superuser, a database it owns, PostGIS installed by a superuser (not a trusted extension: the one step the
 * role cannot do); then everything as the role, which so owns what the platform makes (unaccent and btree_gist
 * are trusted extensions: the database's owner creates them):
 *  - `cli.js migrate`, import of a new layer, replace (a version kept), rollback, publish of a table it made, and
 *    the area-index jobs run by `cli.js download-worker`: all work, the tables are the role's;
 *  - a table the DBA owns, granted for reading: publish registers it and queues no area index (a build says
 *    not-owner); a replace of it fails saying why, the layer's table unchanged;
 *  - a replace during a build of the table, both under the role: the build is cancelled (pg_cancel_backend of a
 *    session of its own role), the replace applied.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { cliRunner } from './cli-runner.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { AREA_INDEX_JOB_KIND, buildAreaIndex, queueAreaIndex } from '../../src/publishing/area-index-job.js';
import { BUILD_MARK_CLASS } from '../../src/import/index-builds.js';

const ROLE = `sdi_plain_${process.pid}`;
let dbName: string;
let dir: string;
/** The DBA (a superuser) on the postgres database, and on the role's database. */
let admin: pg.Client;
let dba: pg.Client;
/** The platform's role on its database. */
let role: pg.Pool;
let roleUrl: string;

const urlOf = (user: string | undefined, database: string) => {
  const u = new URL(inject('databaseUrl'));
  if (user) u.username = user;
  u.pathname = `/${database}`;
  return u.href;
};
const env = () => ({ ...process.env, DATABASE_URL: roleUrl, BASE_URL: '', SDI_DOWNLOAD_DIR: join(dir, 'downloads'), LOG_LEVEL: 'warn' });
const { cli, cliAsync, gpkg, importFile } = cliRunner(env, () => dir);

const ownerOf = async (table: string) => (await role.query(`SELECT pg_get_userbyid(relowner) AS o FROM pg_class WHERE oid = $1::regclass`, [table])).rows[0].o;
const count = async (table: string) => (await role.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;

async function until(what: string, look: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (await look()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sdi-plain-role-test-'));
  dbName = `${new URL(inject('databaseUrl')).pathname.slice(1)}_plain_${process.pid}`;
  admin = new pg.Client({ connectionString: urlOf(undefined, 'postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.query(`DROP ROLE IF EXISTS "${ROLE}"`);
  await admin.query(`CREATE ROLE "${ROLE}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT`);
  await admin.query(`CREATE DATABASE "${dbName}" OWNER "${ROLE}"`);
  dba = new pg.Client({ connectionString: urlOf(undefined, dbName) });
  await dba.connect();
  await dba.query('CREATE EXTENSION postgis');
  roleUrl = urlOf(ROLE, dbName);
  role = new pg.Pool({ connectionString: roleUrl, max: 3 });
}, 60_000);

afterAll(async () => {
  await role?.end();
  await dba?.end();
  if (admin) {
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS "${ROLE}"`);
    await admin.end();
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('publishing as a plain role owning what the platform makes (issue 10)', () => {
  it('the role is no superuser; it applies the migrations and owns every table they make', async () => {
    expect((await role.query(`SELECT rolsuper FROM pg_roles WHERE rolname = current_user`)).rows[0].rolsuper).toBe(false);
    const r = cli('migrate');
    expect(r.status, r.stderr).toBe(0);
    const foreign = await role.query(
      `SELECT schemaname, tablename, tableowner FROM pg_tables WHERE schemaname IN ('sdi', 'data', 'sdi_import', 'sdi_versions') AND tableowner <> current_user`,
    );
    expect(foreign.rows).toEqual([]);
    expect((await role.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'sdi'`)).rows[0].n).toBeGreaterThan(10);
  });

  it('import, replace (a version kept) and rollback', async () => {
    const created = importFile(gpkg('plain_parcels', 40), 'plain_parcels');
    expect(created).toMatchObject({ layer: 'plain_parcels', table: 'data.plain_parcels', created: true, count: 40 });
    expect(created.areaIndexJob).toBeDefined();
    expect(await ownerOf('data.plain_parcels')).toBe(ROLE);
    const replaced = importFile(gpkg('plain_parcels', 60), 'plain_parcels');
    expect(replaced).toMatchObject({ created: false, count: 60, keptVersion: 1 });
    const rb = cli('rollback', '--name', 'plain_parcels');
    expect(rb.status, rb.stderr).toBe(0);
    expect(await count('data.plain_parcels')).toBe(40);
    expect(await ownerOf('data.plain_parcels')).toBe(ROLE);
  });

  it('publish of a table the role made queues its area index; download-worker builds every queued one', async () => {
    await role.query(`CREATE TABLE data.plain_made (id integer PRIMARY KEY, geom geometry(Polygon, 2154))`);
    await role.query(`INSERT INTO data.plain_made SELECT i, ST_MakeEnvelope(610000 + i * 100, 6750000, 610050 + i * 100, 6750050, 2154) FROM generate_series(1, 30) i`);
    await role.query(`CREATE INDEX plain_made_geom ON data.plain_made USING gist (geom)`);
    const p = cli('publish', '--table', 'data.plain_made', '--name', 'plain_made');
    expect(p.status, p.stderr).toBe(0);
    const queued = await role.query(`SELECT request->>'table' AS t FROM sdi.jobs WHERE kind = $1 AND state = 'queued' ORDER BY 1`, [AREA_INDEX_JOB_KIND]);
    expect(queued.rows.map((r) => r.t)).toEqual(['plain_made', 'plain_parcels']);
    const worker = spawn(process.execPath, [join(ROOT, 'dist/app/cli.js'), 'download-worker', '--kinds', AREA_INDEX_JOB_KIND, '--poll-ms', '200'], { env: env(), stdio: 'ignore' });
    try {
      await until('no area-index job left to run', async () =>
        (await role.query(`SELECT count(*)::int AS n FROM sdi.jobs WHERE kind = $1 AND state IN ('queued', 'running')`, [AREA_INDEX_JOB_KIND])).rows[0].n === 0,
      );
    } finally {
      worker.kill('SIGTERM');
    }
    const jobs = await role.query(`SELECT request->>'table' AS t, state, result->>'outcome' AS outcome FROM sdi.jobs WHERE kind = $1 ORDER BY 1, created_at`, [AREA_INDEX_JOB_KIND]);
    // plain_parcels: its first job built it on the table the rollback restored (the same queued job for the table's name).
    expect(jobs.rows).toEqual([
      { t: 'plain_made', state: 'done', outcome: 'built' },
      { t: 'plain_parcels', state: 'done', outcome: 'built' },
    ]);
    const area = await role.query(`SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = 'data' AND tablename IN ('plain_made', 'plain_parcels') AND indexdef ILIKE '%st_area(geom)%'`);
    expect(area.rows[0].n).toBe(2);
  });

  it("a table the DBA owns: published, no area index (not-owner); a replace of it refused with the reason, the table unchanged", async () => {
    await dba.query(`CREATE TABLE data.plain_dba (id integer PRIMARY KEY, num integer, geom geometry(MultiPolygon, 2154))`);
    await dba.query(`INSERT INTO data.plain_dba SELECT i, i, ST_Multi(ST_MakeEnvelope(610000 + i * 100, 6750000, 610050 + i * 100, 6750050, 2154)) FROM generate_series(1, 12) i`);
    await dba.query(`GRANT SELECT ON data.plain_dba TO "${ROLE}"`);
    const p = cli('publish', '--table', 'data.plain_dba', '--name', 'plain_dba');
    expect(p.status, p.stderr).toBe(0);
    expect(await queueAreaIndex(role, 'data', 'plain_dba', 'geom')).toBeUndefined();
    expect(await buildAreaIndex(role, { schema: 'data', table: 'plain_dba', column: 'geom' })).toEqual({ outcome: 'not-owner' });
    const oid = (await role.query(`SELECT 'data.plain_dba'::regclass::oid::int8 AS oid`)).rows[0].oid;
    const r = cli('import', gpkg('plain_dba', 5), '--name', 'plain_dba');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/database role lacks a privilege.*must be owner of table plain_dba.*OWNER TO/);
    expect((await role.query(`SELECT 'data.plain_dba'::regclass::oid::int8 AS oid`)).rows[0].oid).toBe(oid);
    expect(await count('data.plain_dba')).toBe(12);
    expect((await role.query(`SELECT count(*)::int AS n FROM sdi.layer_versions WHERE layer_name = 'plain_dba'`)).rows[0].n).toBe(0);
    expect((await role.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'sdi_import'`)).rows[0].n).toBe(0);
  });

  it('a replace during a build of the table, both as the role: the build cancelled (superseded), the replace applied', async () => {
    importFile(gpkg('plain_swap', 30), 'plain_swap');
    const oid = (await role.query(`SELECT 'data.plain_swap'::regclass::oid::int8 AS oid`)).rows[0].oid;
    // A writer holds the table: the build takes its mark and waits for its lock, as long as the test wants.
    const writer = await role.connect();
    await writer.query('BEGIN');
    await writer.query(`UPDATE data.plain_swap SET num = num WHERE fid = 1`);
    const buildPool = new pg.Pool({ connectionString: roleUrl, max: 2 });
    let build: Promise<unknown> | undefined;
    try {
      build = buildAreaIndex(buildPool, { schema: 'data', table: 'plain_swap', column: 'geom' });
      await until('the build holds its mark and waits for the table', async () =>
        (await role.query(
          `SELECT EXISTS (SELECT 1 FROM pg_locks m JOIN pg_locks r ON r.pid = m.pid AND r.locktype = 'relation' AND r.relation = $2::oid AND NOT r.granted
                           WHERE m.locktype = 'advisory' AND m.classid = $1 AND m.objid = $2::oid AND m.objsubid = 2 AND m.granted) AS w`,
          [BUILD_MARK_CLASS, oid],
        )).rows[0].w,
      );
      const imported = cliAsync('import', gpkg('plain_swap', 45), '--name', 'plain_swap');
      expect(await build).toEqual({ outcome: 'superseded' });
      await writer.query('COMMIT');
      const r = await imported;
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).layers[0]).toMatchObject({ count: 45, keptVersion: 1 });
    } finally {
      await writer.query('ROLLBACK').catch(() => undefined);
      writer.release();
      await build?.catch(() => undefined);
      await buildPool.end();
    }
  });
});
