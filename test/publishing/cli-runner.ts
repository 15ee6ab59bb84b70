/**
 * The publishing CLI as the publishing tests run it (`cli.js import|rollback|publish…` in a child process with the
 * test's environment), and the small polygon GeoPackage they import: one copy for the area-index tests.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { expect } from 'vitest';
import { ROOT } from '../helpers.js';

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

  /** A GeoPackage in Lambert-93 of `n` squares near Orléans. */
  function gpkg(name: string, n: number): string {
    const file = join(dir(), `${name}-${n}.gpkg`);
    const ds = gdal.drivers.get('GPKG').create(file);
    const l = ds.layers.create(name, gdal.SpatialReference.fromEPSG(2154), gdal.wkbMultiPolygon);
    l.fields.add(new gdal.FieldDefn('num', gdal.OFTInteger));
    for (let i = 0; i < n; i++) {
      const x = 610000 + (i % 20) * 500;
      const y = 6750000 + Math.floor(i / 20) * 500;
      const f = new gdal.Feature(l);
      f.fields.set('num', i);
      f.setGeometry(gdal.Geometry.fromWKT(`MULTIPOLYGON(((${x} ${y},${x + 100} ${y},${x + 100} ${y + 100},${x} ${y + 100},${x} ${y})))`));
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
