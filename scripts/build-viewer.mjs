#!/usr/bin/env node
/**
 * Bundle the map viewer's browser code (services/maps/viewer/client/, OpenLayers from npm) with esbuild into
 * dist/viewer/viewer.js and dist/viewer/viewer.css, served by the platform at /viewer (no CDN). The bundle is
 * generated, never committed. Skipped when the bundle is newer than every input (the client sources, esbuild's
 * and OpenLayers' package.json, this script), so a second run costs a few milliseconds.
 * Run by scripts/setup.sh's build step (npm test, npm start) and by `npm run build`; `--force` rebuilds.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'services/maps/viewer/client');
const OUT = join(ROOT, 'dist/viewer');
const OUTPUTS = [join(OUT, 'viewer.js'), join(OUT, 'viewer.css')];

function newestInput() {
  const files = [fileURLToPath(import.meta.url), join(ROOT, 'node_modules/ol/package.json'), join(ROOT, 'node_modules/esbuild/package.json')];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else files.push(join(dir, e.name));
    }
  };
  walk(SRC);
  return Math.max(...files.filter(existsSync).map((f) => statSync(f).mtimeMs));
}

const force = process.argv.includes('--force');
const oldest = OUTPUTS.every(existsSync) ? Math.min(...OUTPUTS.map((f) => statSync(f).mtimeMs)) : 0;
if (!force && oldest > newestInput()) process.exit(0);

const started = Date.now();
// OpenLayers is BSD 2-Clause: its notice travels with the bundle that holds it.
const olLicence = readFileSync(join(ROOT, 'node_modules/ol/LICENSE.md'), 'utf8').replace(/\*\//g, '* /').trim();
// esbuild is loaded only when there is something to build: an up-to-date check stays a few milliseconds.
const { build } = await import('esbuild');
await build({
  entryPoints: { viewer: join(SRC, 'main.ts') },
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  platform: 'browser',
  minify: true,
  sourcemap: false,
  legalComments: 'eof',
  banner: { js: `/*! Map viewer of the platform; bundles OpenLayers (ol ${JSON.parse(readFileSync(join(ROOT, 'node_modules/ol/package.json'), 'utf8')).version}):\n${olLicence}\n*/` },
  outdir: OUT,
  logLevel: 'warning',
});
console.error(`[setup] viewer bundle built in ${Date.now() - started} ms (${OUT})`);
