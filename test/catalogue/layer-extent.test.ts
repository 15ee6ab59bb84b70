/**
 * Issues 9 and 11: a layer's extent (OGC API Features collection `extent.spatial.bbox`, OGC 17-069r4 §7.14.1;
 * the same function feeds WFS, WMS, WMTS, TileJSON, Atom and the catalogue records, src/catalog/extent.ts)
 * is not thrown off by stale statistics or a stray geometry:
 *  - a small table moved 320 km without ANALYZE (autovacuum off for it): ST_EstimatedExtent still gives the old
 *    place, the collection gives the new one (exact extent for small tables);
 *  - a small table with a stray point far outside the area of use of its CRS (EPSG:2154, metropolitan France):
 *    the extent is that of the other points;
 *  - a large table (25,000 points, above the exact-extent size) moved without ANALYZE: the server renews the
 *    stale statistics (ANALYZE of the column) and the extent follows the data.
 * Tables of the test's own (other files restrict demo layers for a while).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { baseUrl, db } from '../helpers.js';
import { layerExtent } from '../../src/catalog/extent.js';

const TABLES = ['ext_moved', 'ext_stray', 'ext_big'] as const;
/** 20 × 10 (or 200 × 125) points 500 m apart near Orléans, in Lambert-93. */
const grid = (n: number, cols: number) =>
  `SELECT i AS fid, ST_SetSRID(ST_MakePoint(600000 + (i % ${cols}) * 500, 6740000 + (i / ${cols}) * 500), 2154)::geometry(Point, 2154) AS geom FROM generate_series(0, ${n - 1}) i`;
const MOVE = 'ST_Translate(geom, 250000, -200000)';

async function cleanUp(): Promise<void> {
  await db().query(`DELETE FROM sdi.layers WHERE name = ANY($1::text[])`, [[...TABLES]]);
  for (const t of TABLES) await db().query(`DROP TABLE IF EXISTS data.${t}`);
}

/** The exact lon/lat extent of a table's points, those within the EPSG:2154 area only (west of 20°E). */
async function exactWgs84(table: string, where = 'true'): Promise<number[]> {
  const { rows } = await db().query(`SELECT ST_XMin(e) AS a, ST_YMin(e) AS b, ST_XMax(e) AS c, ST_YMax(e) AS d FROM (SELECT ST_Extent(ST_Transform(geom, 4326)) AS e FROM data.${table} WHERE ${where}) s`);
  return [rows[0].a, rows[0].b, rows[0].c, rows[0].d].map(Number);
}

async function collectionBbox(name: string): Promise<number[]> {
  const r = await fetch(`${baseUrl()}/ogcapi/collections/${name}?f=json`);
  const body = (await r.json()) as { extent?: { spatial?: { bbox?: number[][] } } };
  expect(r.status, JSON.stringify(body)).toBe(200);
  return body.extent!.spatial!.bbox![0]!;
}

/** Waits until the statistics collector has seen the table's changes (PostgreSQL reports them at the end of a transaction, not at once). */
async function changesSeen(table: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const { rows } = await db().query(`SELECT n_mod_since_analyze AS n FROM pg_stat_user_tables WHERE schemaname = 'data' AND relname = $1`, [table]);
    if (Number(rows[0]?.n ?? 0) > 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const expectClose = (got: number[], want: number[], tolerance: number) => got.forEach((v, i) => expect(Math.abs(v - want[i]!), `${got} vs ${want}`).toBeLessThan(tolerance));

beforeAll(async () => {
  await cleanUp();
  for (const [t, sql] of [['ext_moved', grid(200, 20)], ['ext_stray', grid(200, 20)], ['ext_big', grid(25_000, 200)]] as const) {
    await db().query(`CREATE TABLE data.${t} WITH (autovacuum_enabled = false) AS ${sql}`);
    await db().query(`ALTER TABLE data.${t} ADD PRIMARY KEY (fid)`);
  }
  // A point typed with a wrong sign: 2,000 km west of the area of use of Lambert-93.
  await db().query(`INSERT INTO data.ext_stray VALUES (100000, ST_SetSRID(ST_MakePoint(-2000000, 100), 2154))`);
  for (const t of TABLES) await db().query(`ANALYZE data.${t}`);
  // Moved after their statistics were taken.
  await db().query(`UPDATE data.ext_moved SET geom = ${MOVE}`);
  await db().query(`UPDATE data.ext_big SET geom = ${MOVE}`);
  await changesSeen('ext_big');
  for (const t of TABLES) await db().query(`INSERT INTO sdi.layers (name, table_schema, table_name, id_column, geometry_column, title) VALUES ($1, 'data', $1, 'fid', 'geom', $1)`, [t]);
}, 120_000);

afterAll(cleanUp);

describe('layer extents robust to stale statistics and stray geometries (issues 9, 11)', () => {
  it('a small table moved without ANALYZE: the estimate is stale, the collection extent is exact', async () => {
    // The precondition: the statistics still put the table where it was (x below 700 km).
    const est = await db().query(`SELECT ST_XMax(ST_EstimatedExtent('data', 'ext_moved', 'geom')) AS maxx`);
    expect(Number(est.rows[0].maxx)).toBeLessThan(700_000);
    expectClose(await collectionBbox('ext_moved'), await exactWgs84('ext_moved'), 1e-5);
  });

  it('a stray point outside the area of use of the CRS does not stretch the extent', async () => {
    const all = await db().query(`SELECT ST_XMin(ST_Extent(geom)) AS minx FROM data.ext_stray`);
    expect(Number(all.rows[0].minx)).toBe(-2_000_000);
    const bbox = await collectionBbox('ext_stray');
    expectClose(bbox, await exactWgs84('ext_stray', 'fid <> 100000'), 1e-5);
    expect(bbox[0]).toBeGreaterThan(1);
  });

  it('a large table moved without ANALYZE: its statistics are renewed, the extent follows the data', async () => {
    const before = await db().query(`SELECT ST_XMax(ST_EstimatedExtent('data', 'ext_big', 'geom')) AS maxx`);
    expect(Number(before.rows[0].maxx)).toBeLessThan(720_000);
    const bbox = await collectionBbox('ext_big');
    // ST_EstimatedExtent is the histogram's box (float4, a cell wider): within 0.02° of the exact one.
    expectClose(bbox, await exactWgs84('ext_big'), 0.02);
    const after = await db().query(`SELECT n_mod_since_analyze AS n FROM pg_stat_user_tables WHERE schemaname = 'data' AND relname = 'ext_big'`);
    expect(Number(after.rows[0].n)).toBe(0);
  });

  it('a table locked by another session (an import swapping it): the extent does not wait behind the lock, it is the statistics\' one, not cached', async () => {
    const locker = new pg.Client({ connectionString: inject('databaseUrl') });
    await locker.connect();
    const layer = { schema: 'data', table: 'ext_moved', updatedAt: new Date(1_000), geometry: { column: 'geom', srid: 2154 } };
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE data.ext_moved IN ACCESS EXCLUSIVE MODE');
      // Before the change this waited until the lock went (a server start behind an import: test/download/jobs.test.ts).
      const during = await layerExtent(db(), layer);
      const estimate = await db().query(`SELECT ST_XMin(e) AS minx, ST_XMax(e) AS maxx FROM (SELECT ST_EstimatedExtent('data', 'ext_moved', 'geom') AS e) s`);
      expect(during).not.toBeNull();
      expect(during!.minx).toBeCloseTo(Number(estimate.rows[0].minx), 0);
      expect(during!.maxx).toBeCloseTo(Number(estimate.rows[0].maxx), 0);
    } finally {
      await locker.query('COMMIT');
      await locker.end();
    }
    // The lock gone, the exact extent (the table was moved 250 km east after its statistics were taken).
    const after = await layerExtent(db(), layer);
    const exact = await db().query(`SELECT ST_XMin(e) AS minx FROM (SELECT ST_Extent(geom) AS e FROM data.ext_moved) s`);
    expect(after!.minx).toBeCloseTo(Number(exact.rows[0].minx), 0);
  });
});
