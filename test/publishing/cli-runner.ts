/**
 * The publishing CLI as the publishing tests run it (`cli.js import|rollback|publish…` in a child process with the
 * test's environment), the small GeoPackages they import and their clean-up: one copy for the publishing tests.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { expect } from 'vitest';
import { db, ROOT } from '../helpers.js';
import { AREA_INDEX_JOB_KIND } from '../../src/publishing/area-index-job.js';

export function cliRunner(env: () => NodeJS.ProcessEnv, dir: () => string) {
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'dist/app/cli.js'), ...args], { env: env(), encoding: 'utf8' });

  /** The CLI run in the background: its exit status and output once it ends. */
  function cliAsync(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const p = spawn(process.execPath, [join(ROOT, 'dist/app/cli.js'), ...args], { env: env() });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    return new Promise((resolve) => p.on('close', (status) => resolve({ status, stdout, stderr })));
  }

  /**
   * A GeoPackage in Lambert-93 of `n` squares near Orléans (100 m, or of 7 sizes from 50 to 410 m so that an area
   * predicate keeps some and not others), or of their corners as points.
   */
  function gpkg(name: string, n: number, o: { kind?: 'polygon' | 'point'; sizes?: 'same' | 'varied' } = {}): string {
    const point = o.kind === 'point';
    const file = join(dir(), `${name}-${n}.gpkg`);
    const ds = gdal.drivers.get('GPKG').create(file);
    const l = ds.layers.create(name, gdal.SpatialReference.fromEPSG(2154), point ? gdal.wkbPoint : gdal.wkbMultiPolygon);
    l.fields.add(new gdal.FieldDefn('num', gdal.OFTInteger));
    for (let i = 0; i < n; i++) {
      const x = 610000 + (i % 20) * 500;
      const y = 6750000 + Math.floor(i / 20) * 500;
      const s = o.sizes === 'varied' ? 50 + (i % 7) * 60 : 100;
      const f = new gdal.Feature(l);
      f.fields.set('num', i);
      f.setGeometry(gdal.Geometry.fromWKT(point ? `POINT(${x} ${y})` : `MULTIPOLYGON(((${x} ${y},${x + s} ${y},${x + s} ${y + s},${x} ${y + s},${x} ${y})))`));
      l.features.add(f);
    }
    ds.close();
    return file;
  }

  /** `cli.js import FILE --name NAME`, which must succeed: its report's first layer. */
  function importFile(file: string, name: string): any {
    const r = cli('import', file, '--name', name);
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout).layers[0];
  }

  return { cli, cliAsync, gpkg, importFile };
}

/** Remove the test's layers, their tables, their kept versions and their area-index jobs. */
export async function dropTestLayers(tables: string[]): Promise<void> {
  await db().query(`DELETE FROM sdi.layers WHERE name = ANY($1)`, [tables]);
  for (const t of tables) await db().query(`DROP TABLE IF EXISTS data.${t}`);
  const v = await db().query<{ table_name: string }>(`DELETE FROM sdi.layer_versions WHERE layer_name = ANY($1) RETURNING table_name`, [tables]);
  for (const r of v.rows) await db().query(`DROP TABLE IF EXISTS sdi_versions."${r.table_name}"`);
  await db().query(`DELETE FROM sdi.jobs WHERE kind = $1 AND request->>'table' = ANY($2)`, [AREA_INDEX_JOB_KIND, tables]);
}
