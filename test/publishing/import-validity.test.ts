/**
 * Issue 10, "geometries made valid": an import repairs invalid geometries in SQL after the load (ST_IsValid in the
 * check's one scan, ST_MakeValid on the invalid rows only; GDAL's per-feature -makevalid is no longer used, see
 * bench/import.sh). A GeoPackage whose MultiPolygon layer holds a self-intersecting "bow-tie" (loaded into a typed
 * column) and a GeoJSON with one (loaded generic) are published with every geometry valid (OGC 06-103r4 §6.1.11.1),
 * the layer's type kept, the count kept, and a warning saying how many were repaired; a valid file gets none.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { db } from '../helpers.js';
import { startServerProcess, type ServerProcess } from '../server-process.js';

const TOKEN = 'sdi-validity-test-admin-token-0123456789';
let admin: ServerProcess;
let dir: string;
const BOWTIE = 'POLYGON((619000 6754000,620000 6755000,620000 6754000,619000 6755000,619000 6754000))';
const SQUARE = 'POLYGON((621000 6754000,622000 6754000,622000 6755000,621000 6755000,621000 6754000))';

async function importFile(file: string, name: string): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append('file', new Blob([readFileSync(file)]), basename(file));
  form.append('name', name);
  const r = await fetch(`${admin.base}/admin/imports`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: form });
  const text = await r.text();
  return { status: r.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

const facts = async (table: string) =>
  (await db().query(`SELECT count(*)::int AS n, bool_and(ST_IsValid(geom)) AS valid, GeometryType(geom) AS type FROM ${table} GROUP BY 3`)).rows;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sdi-validity-test-'));
  for (const t of ['iv_gpkg', 'iv_json', 'iv_ok']) {
    await db().query(`DELETE FROM sdi.layers WHERE name = $1`, [t]);
    await db().query(`DROP TABLE IF EXISTS data.${t}`);
  }
  admin = await startServerProcess({ DATABASE_URL: inject('databaseUrl'), SDI_DEMO: '0', SDI_ADMIN_TOKEN: TOKEN, SDI_HARVEST: '0', SDI_DOWNLOAD_WORKERS: '0' });
}, 120_000);

afterAll(async () => {
  admin?.stop();
  for (const t of ['iv_gpkg', 'iv_json', 'iv_ok']) {
    await db().query(`DELETE FROM sdi.layers WHERE name = $1`, [t]);
    await db().query(`DROP TABLE IF EXISTS data.${t}`);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('invalid geometries are repaired in SQL after the load', () => {
  it('a GeoPackage MultiPolygon layer with a bow-tie: valid, still MULTIPOLYGON, 2 features, a warning', async () => {
    const file = join(dir, 'iv.gpkg');
    const ds = gdal.drivers.get('GPKG').create(file);
    const l = ds.layers.create('iv', gdal.SpatialReference.fromEPSG(2154), gdal.wkbMultiPolygon);
    for (const wkt of [BOWTIE, SQUARE]) {
      const f = new gdal.Feature(l);
      f.setGeometry(gdal.Geometry.fromWKT(`MULTI${wkt.replace('POLYGON', 'POLYGON(')})`));
      l.features.add(f);
    }
    ds.close();
    const r = await importFile(file, 'iv_gpkg');
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.layers[0]).toMatchObject({ count: 2, geometryType: 'MULTIPOLYGON' });
    expect(r.body.layers[0].warnings).toContain('1 invalid geometries were made valid (ST_MakeValid)');
    expect(await facts('data.iv_gpkg')).toEqual([{ n: 2, valid: true, type: 'MULTIPOLYGON' }]);
    // The bow-tie became its two triangles: same area as the two halves, 500,000 m².
    const area = await db().query(`SELECT round(sum(ST_Area(geom)))::int AS a FROM data.iv_gpkg`);
    expect(area.rows[0].a).toBe(1_000_000 + 500_000);
  });

  it('a GeoJSON with a bow-tie (generic column while loading): valid, one type', async () => {
    const file = join(dir, 'iv.geojson');
    const toLonLat = (wkt: string) => {
      const g = gdal.Geometry.fromWKT(wkt, gdal.SpatialReference.fromEPSG(2154));
      g.transformTo(gdal.SpatialReference.fromEPSG(4326));
      g.swapXY();
      return JSON.parse(g.toJSON());
    };
    writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', features: [BOWTIE, SQUARE].map((w, i) => ({ type: 'Feature', properties: { n: i }, geometry: toLonLat(w) })) }));
    const r = await importFile(file, 'iv_json');
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.layers[0].warnings).toContain('1 invalid geometries were made valid (ST_MakeValid)');
    expect(await facts('data.iv_json')).toEqual([{ n: 2, valid: true, type: 'MULTIPOLYGON' }]);
  });

  it('a valid file: no repair, no warning about it', async () => {
    const file = join(dir, 'ok.gpkg');
    const ds = gdal.drivers.get('GPKG').create(file);
    const l = ds.layers.create('ok', gdal.SpatialReference.fromEPSG(2154), gdal.wkbPolygon);
    const f = new gdal.Feature(l);
    f.setGeometry(gdal.Geometry.fromWKT(SQUARE));
    l.features.add(f);
    ds.close();
    const r = await importFile(file, 'iv_ok');
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.layers[0].warnings.join()).not.toMatch(/made valid/);
    expect(await facts('data.iv_ok')).toEqual([{ n: 1, valid: true, type: 'POLYGON' }]);
  });
});
