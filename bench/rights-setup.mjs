#!/usr/bin/env node
/**
 * The territorial caller of the rights workloads (issue 11, scripts/bench.sh W1T/O1T): LAYER (the parcels, measured
 * public just before as W1/O1; a table is published once only, so the same layer) made restricted, a user of this
 * run holding a `read` grant on it whose territory is a département (its boundary from fixtures/data/cvl-departements.geojson, sent as
 * a GeoJSON polygon, the way the admin API takes a territory that is not in the reference tables), and an API token
 * of that user with the `features` scope. Prints the token (the workloads send it as `access_token`: wrk sends
 * no header per workload). A user per run, so that grants never pile up on one user across runs.
 *
 * Usage: node bench/rights-setup.mjs BASE_URL LAYER DEPARTEMENT_CODE   (admin token: SDI_ADMIN_TOKEN)
 *        node bench/rights-setup.mjs BASE_URL LAYER public           (the layer public again, after W1T/O1T)
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [base, layer, code] = process.argv.slice(2);
const adminToken = process.env.SDI_ADMIN_TOKEN;
if (!base || !layer || !code || !adminToken) {
  console.error('usage: SDI_ADMIN_TOKEN=… node bench/rights-setup.mjs BASE_URL LAYER DEPARTEMENT_CODE|public');
  process.exit(2);
}

async function admin(method, path, body) {
  const r = await fetch(`${base}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} /admin${path}: ${r.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

if (code === 'public') {
  await admin('PUT', `/access/layers/${encodeURIComponent(layer)}`, { public: true });
  process.exit(0);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const depts = JSON.parse(readFileSync(join(root, 'fixtures/data/cvl-departements.geojson'), 'utf8'));
const dept = depts.features.find((f) => String(f.properties.code) === code);
if (!dept) throw new Error(`no département ${code} in cvl-departements.geojson`);

const login = `bench_territorial_${Date.now()}`;
await admin('PUT', `/access/layers/${encodeURIComponent(layer)}`, { public: false });
await admin('POST', '/users', { login });
await admin('POST', '/grants', { user: login, resourceKind: 'layer', resourceName: layer, action: 'read', territory: { kind: 'polygon', geometry: dept.geometry } });
const { token } = await admin('POST', `/users/${encodeURIComponent(login)}/tokens`, { name: 'bench rights workloads', scopes: ['features'] });
process.stdout.write(`${token}\n`);
