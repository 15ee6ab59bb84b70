/**
 * Issue 10, import speed without a changed result: a layer that declares no geometry type (a GeoPackage written
 * from SQL says "Unknown (any)", GeoJSON, Shapefiles whose Polygon type holds multipolygons) is loaded straight
 * into the multi type its first features show (src/import/staging.ts sampledMultiType), so no table rewrite retypes
 * it afterwards and its check runs beside the index build. The published layer must be exactly what the generic
 * path gives: single rows promoted to multi; a later row of another kind makes the typed load fail and the layer
 * is loaded again into a generic column (every feature kept, the mix said); singles only stay singles.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { db } from '../helpers.js';
import { cliRunner, dropTestLayers } from './cli-runner.js';

let dir: string;
const TABLES = ['tg_multi', 'tg_mixed', 'tg_single', 'tg_far'];
const { cli } = cliRunner(() => ({ ...process.env, DATABASE_URL: inject('databaseUrl'), BASE_URL: '' }), () => dir);

const square = (i: number, s = 100) => {
  const x = 610000 + (i % 40) * 300;
  const y = 6750000 + Math.floor(i / 40) * 300;
  return `((${x} ${y},${x + s} ${y},${x + s} ${y + s},${x} ${y + s},${x} ${y}))`;
};

/** A GeoPackage layer of no declared geometry type (wkbUnknown), its features' WKT given by `wkt(i)`. */
function untypedGpkg(name: string, n: number, wkt: (i: number) => string): string {
  const file = join(dir, `${name}.gpkg`);
  const ds = gdal.drivers.get('GPKG').create(file);
  const l = ds.layers.create(name, gdal.SpatialReference.fromEPSG(2154), gdal.wkbUnknown);
  l.fields.add(new gdal.FieldDefn('num', gdal.OFTInteger));
  for (let i = 0; i < n; i++) {
    const f = new gdal.Feature(l);
    f.fields.set('num', i);
    f.setGeometry(gdal.Geometry.fromWKT(wkt(i)));
    l.features.add(f);
  }
  ds.close();
  return file;
}

function imported(file: string, name: string): { layer: any; progress: string } {
  const r = cli('import', file, '--name', name);
  expect(r.status, r.stderr).toBe(0);
  return { layer: JSON.parse(r.stdout).layers[0], progress: r.stderr };
}

const column = async (table: string) =>
  (await db().query(`SELECT type FROM geometry_columns WHERE f_table_schema = 'data' AND f_table_name = $1`, [table])).rows[0]?.type;
const neverRewritten = async (table: string) =>
  (await db().query(`SELECT relfilenode = oid AS same FROM pg_class WHERE oid = $1::regclass`, [`data.${table}`])).rows[0]?.same;
const kinds = async (table: string) =>
  (await db().query(`SELECT GeometryType(geom) AS t, count(*)::int AS n FROM data.${table} GROUP BY 1 ORDER BY 1`)).rows;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sdi-type-guess-test-'));
  await dropTestLayers(TABLES);
});

afterAll(async () => {
  await dropTestLayers(TABLES);
  cli('records');
  rmSync(dir, { recursive: true, force: true });
});

describe('a layer without a declared geometry type (issue 10: load typed, no retyping rewrite)', () => {
  it('multipolygons with single polygons among them: loaded as MULTIPOLYGON, the check beside the index build, singles promoted', async () => {
    const file = untypedGpkg('tg_multi', 1500, (i) => (i % 3 === 0 ? `POLYGON${square(i)}` : `MULTIPOLYGON(${square(i)},${square(i + 2000, 50)})`));
    const { layer, progress } = imported(file, 'tg_multi');
    expect(layer).toMatchObject({ count: 1500, geometryType: 'MULTIPOLYGON' });
    expect(progress).toMatch(/checking s_\w+, indexing it/); // the typed path: no separate check (no rewrite)
    expect(await column('tg_multi')).toBe('MULTIPOLYGON');
    // The table as the load wrote it: never rewritten (a rewrite gives the heap a new file; a new table's file is
    // its OID). The check once retyped every typed multi column to its own type (ST_Multi seen as a change).
    expect(await neverRewritten('tg_multi')).toBe(true);
    expect(await kinds('tg_multi')).toEqual([{ t: 'MULTIPOLYGON', n: 1500 }]);
    const parts = await db().query(`SELECT sum(ST_NumGeometries(geom))::int AS n FROM data.tg_multi`);
    expect(parts.rows[0].n).toBe(500 + 1000 * 2);
  });

  it('a line after 1,000 multipolygons: the typed load fails, the layer loaded again generic, every feature kept and the mix said', async () => {
    const file = untypedGpkg('tg_mixed', 1001, (i) => (i < 1000 ? `MULTIPOLYGON(${square(i)})` : 'LINESTRING(611000 6751000,612000 6752000)'));
    const { layer } = imported(file, 'tg_mixed');
    expect(layer.count).toBe(1001);
    expect(layer.geometryType).toBe('GEOMETRY');
    expect(layer.warnings.join(' ')).toMatch(/mixes geometry kinds/);
    expect(await kinds('tg_mixed')).toEqual([{ t: 'LINESTRING', n: 1 }, { t: 'MULTIPOLYGON', n: 1000 }]);
  });

  it('single polygons only: not guessed, published as POLYGON as before', async () => {
    const file = untypedGpkg('tg_single', 50, (i) => `POLYGON${square(i)}`);
    const { layer, progress } = imported(file, 'tg_single');
    expect(layer).toMatchObject({ count: 50, geometryType: 'POLYGON' });
    expect(progress).toMatch(/checking s_\w+\n/); // the generic path: the check (with its retyping) first
    expect(await column('tg_single')).toBe('POLYGON');
    expect(await neverRewritten('tg_single')).toBe(false); // the generic column retyped: the rewrite the typed path avoids
  });

  it('the one scan beside the index build, split in page ranges, counts what the two scans did: invalid geometries in both halves, features outside the territory', async () => {
    // 2,000 multipolygons (enough pages for two ranges); a bow-tie near each end of the table; 150 plots 2,000 km east.
    const bowtie = (i: number) => {
      const x = 610000 + (i % 40) * 300;
      const y = 6750000 + Math.floor(i / 40) * 300;
      return `MULTIPOLYGON(((${x} ${y},${x + 100} ${y + 100},${x + 100} ${y},${x} ${y + 100},${x} ${y})))`;
    };
    const far = (i: number) => `MULTIPOLYGON(((${2_610_000 + i} 6750000,${2_610_100 + i} 6750000,${2_610_100 + i} 6750100,${2_610_000 + i} 6750000)))`;
    const file = untypedGpkg('tg_far', 2000, (i) => (i === 5 || i === 1990 ? bowtie(i) : i >= 1000 && i < 1150 ? far(i) : `MULTIPOLYGON(${square(i)})`));
    const { layer, progress } = imported(file, 'tg_far');
    expect(progress).toMatch(/checking s_\w+, indexing it/);
    expect(layer).toMatchObject({ count: 2000, geometryType: 'MULTIPOLYGON' });
    const warnings = layer.warnings.join(' ');
    expect(warnings).toMatch(/2 invalid geometries were made valid/);
    expect(warnings).toMatch(/150 of 2000 features lie outside the platform's territory/);
    const valid = await db().query(`SELECT bool_and(ST_IsValid(geom)) AS v FROM data.tg_far`);
    expect(valid.rows[0].v).toBe(true);
  });
});
