/**
 * Issue 10, replacing a layer whose table has views on it (an administrator's CREATE VIEW on data.<layer>, and a
 * view on that view): the replace re-creates them on the new table in the swap's transaction (their comment and
 * grants kept), so they show the new data and the kept version has nothing depending on it; a new table a view
 * cannot carry (a column it reads is gone) is refused with 409 naming the view, and nothing changes; a rollback
 * takes the views along too.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { db, get } from '../helpers.js';
import { startServerProcess, type ServerProcess } from '../server-process.js';

const TOKEN = 'sdi-views-test-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
let admin: ServerProcess;
let dir: string;

/** A GeoJSON file of points near Orléans with these attributes. */
function geojson(name: string, rows: Array<Record<string, unknown>>): string {
  const file = join(dir, `${name}.geojson`);
  writeFileSync(file, JSON.stringify({
    type: 'FeatureCollection',
    features: rows.map((p, i) => ({ type: 'Feature', properties: p, geometry: { type: 'Point', coordinates: [1.9 + i * 0.01, 47.9] } })),
  }));
  return file;
}

async function importFile(file: string, fields: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append('file', new Blob([readFileSync(file)]), basename(file));
  for (const [k, v] of Object.entries({ name: 'dv_sites', ...fields })) form.append(k, v);
  const r = await fetch(`${admin.base}/admin/imports`, { method: 'POST', headers: auth, body: form });
  const text = await r.text();
  return { status: r.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

const names = async (view: string) => (await db().query(`SELECT nom FROM ${view} ORDER BY nom`)).rows.map((r) => r.nom);
/** Relations depending on a table, through pg_depend (views' rewrite rules). */
const dependents = async (table: string) =>
  (await db().query(`SELECT DISTINCT r.ev_class::regclass::text AS v FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid WHERE d.refobjid = $1::regclass AND r.ev_class <> $1::regclass ORDER BY 1`, [table])).rows.map((r) => r.v);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sdi-views-test-'));
  await db().query(`DROP VIEW IF EXISTS data.dv_big_names, data.dv_big`);
  await db().query(`DELETE FROM sdi.layer_versions WHERE layer_name = 'dv_sites'`);
  await db().query(`DELETE FROM sdi.layers WHERE name = 'dv_sites'`);
  await db().query(`DROP TABLE IF EXISTS data.dv_sites`);
  admin = await startServerProcess({ DATABASE_URL: inject('databaseUrl'), SDI_DEMO: '0', SDI_ADMIN_TOKEN: TOKEN, SDI_HARVEST: '0', SDI_DOWNLOAD_WORKERS: '0' });
}, 120_000);

afterAll(async () => {
  admin?.stop();
  await db().query(`DROP VIEW IF EXISTS data.dv_big_names, data.dv_big`);
  await db().query(`DELETE FROM sdi.layers WHERE name = 'dv_sites'`);
  await db().query(`DROP TABLE IF EXISTS data.dv_sites`);
  rmSync(dir, { recursive: true, force: true });
});

describe('a replace keeps the views built on the layer\'s table', () => {
  it('re-creates them on the new table (comment and grants kept); the kept version has no dependents', async () => {
    const v1 = await importFile(geojson('v1', [{ nom: 'Orléans', pop: 116000 }, { nom: 'Olivet', pop: 22000 }, { nom: 'Ingré', pop: 9000 }]));
    expect(v1.status, JSON.stringify(v1.body)).toBe(201);
    await db().query(`CREATE VIEW data.dv_big AS SELECT fid, nom, pop, geom FROM data.dv_sites WHERE pop > 10000`);
    await db().query(`CREATE VIEW data.dv_big_names AS SELECT upper(nom) AS nom FROM data.dv_big`);
    await db().query(`COMMENT ON VIEW data.dv_big IS 'Communes de plus de 10 000 habitants'`);
    await db().query(`GRANT SELECT ON data.dv_big TO PUBLIC`);
    expect(await names('data.dv_big')).toEqual(['Olivet', 'Orléans']);

    const v2 = await importFile(geojson('v2', [{ nom: 'Tours', pop: 136000 }, { nom: 'Blois', pop: 45000 }, { nom: 'Vendôme', pop: 4000 }]));
    expect(v2.status, JSON.stringify(v2.body)).toBe(201);
    expect(v2.body.layers[0].keptVersion).toBe(1);
    // The views show the new data…
    expect(await names('data.dv_big')).toEqual(['Blois', 'Tours']);
    expect(await names('data.dv_big_names')).toEqual(['BLOIS', 'TOURS']);
    // …are built on the new table, not on the version kept in sdi_versions…
    expect(await dependents('data.dv_sites')).toEqual(['data.dv_big']);
    expect(await dependents('data.dv_big')).toEqual(['data.dv_big_names']);
    const kept = (await db().query(`SELECT table_name FROM sdi.layer_versions WHERE layer_name = 'dv_sites' AND version = 1`)).rows[0].table_name;
    expect(await dependents(`sdi_versions.${kept}`)).toEqual([]);
    // …with their comment and grants.
    expect((await db().query(`SELECT obj_description('data.dv_big'::regclass, 'pg_class') AS c`)).rows[0].c).toBe('Communes de plus de 10 000 habitants');
    expect((await db().query(`SELECT has_table_privilege('public', 'data.dv_big', 'SELECT') AS p`)).rows[0]).toEqual({ p: true });
  });

  it('a new table a view cannot carry is refused with 409 naming the view; layer, views and versions unchanged', async () => {
    const before = await db().query(`SELECT count(*)::int AS n, (SELECT count(*)::int FROM sdi.layer_versions WHERE layer_name = 'dv_sites') AS versions FROM data.dv_sites`);
    const r = await importFile(geojson('v3', [{ nom: 'Chartres' }]));
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body.detail).toContain('data.dv_big');
    expect(r.body.detail).toContain('pop');
    expect(r.body.detail).not.toMatch(/SELECT|CREATE/);
    expect(await names('data.dv_big')).toEqual(['Blois', 'Tours']);
    expect((await db().query(`SELECT count(*)::int AS n, (SELECT count(*)::int FROM sdi.layer_versions WHERE layer_name = 'dv_sites') AS versions FROM data.dv_sites`)).rows).toEqual(before.rows);
    expect((await db().query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'sdi_import'`)).rows[0].n).toBe(0);
  });

  it('a rollback takes the views along to the restored table', async () => {
    const r = await get(`${admin.base}/admin/layer-versions/dv_sites/rollback`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
    expect(r.status, r.body).toBe(200);
    expect(await names('data.dv_big')).toEqual(['Olivet', 'Orléans']);
    expect(await dependents('data.dv_sites')).toEqual(['data.dv_big']);
  });
});
