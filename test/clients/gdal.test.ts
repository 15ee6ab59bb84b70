/**
 * GDAL/OGR (the system gdal-bin) reads every demo layer through its WFS driver (2.0 default paging,
 * 2.0 with OGR_WFS_PAGE_SIZE=500, 1.1.0, 1.0.0) and its OAPIF driver, and gets every feature with the
 * attributes and a valid geometry equal to PostGIS. ogr2ogr writes GeoJSON; the features are then checked
 * in PostGIS itself (ST_IsValid, ST_Area, ST_NPoints) and compared with the source tables.
 * The requests GDAL sent are read from its debug output (CPL_DEBUG=ON) to prove the paging it did.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { baseUrl, db } from '../helpers.js';

const LAYERS: Record<string, string> = {
  region: 'code',
  departements: 'code',
  arrondissements: 'code',
  cantons: 'code',
  epci: 'siren',
  communes: 'code',
  communes_points: 'code',
};

interface PgFeature { attrs: Record<string, unknown>; type: string; area: number | null; npoints: number; x: number | null; y: number | null }
interface PgLayer { columns: string[]; geomType: string; features: Map<string, PgFeature>; fids: Map<string, string> }
const pg: Record<string, PgLayer> = {};
const q = (x: string) => `"${x.replace(/"/g, '""')}"`;

async function expected(name: string, key: string): Promise<PgLayer> {
  const { rows: reg } = await db().query(
    `SELECT table_schema, table_name, id_column, geometry_column FROM sdi.layers WHERE name = $1 AND published`,
    [name],
  );
  expect(reg, `layer ${name} registered and published`).toHaveLength(1);
  const { table_schema: s, table_name: t, id_column: id, geometry_column: g } = reg[0];
  const { rows: cols } = await db().query(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name NOT IN ($3, $4) ORDER BY ordinal_position`,
    [s, t, id, g],
  );
  const { rows } = await db().query(
    `SELECT ${q(key)}::text AS k, ${q(id)}::text AS fid, to_jsonb(t) - $1::text - $2::text AS attrs, GeometryType(${q(g)}) AS type,
            CASE WHEN ST_Dimension(${q(g)}) = 2 THEN ST_Area(${q(g)}) END AS area, ST_NPoints(${q(g)}) AS npoints,
            CASE WHEN GeometryType(${q(g)}) = 'POINT' THEN ST_X(${q(g)}) END AS x,
            CASE WHEN GeometryType(${q(g)}) = 'POINT' THEN ST_Y(${q(g)}) END AS y
       FROM ${q(s)}.${q(t)} t`,
    [id, g],
  );
  const features = new Map<string, PgFeature>();
  const fids = new Map<string, string>();
  for (const r of rows) {
    features.set(r.k, { attrs: r.attrs, type: r.type, area: r.area, npoints: r.npoints, x: r.x, y: r.y });
    fids.set(r.k, r.fid);
  }
  expect(features.size, `${name}: key ${key} unique in PostGIS`).toBe(rows.length);
  return { columns: cols.map((c) => c.column_name), geomType: rows[0].type, features, fids };
}

beforeAll(async () => {
  for (const [name, key] of Object.entries(LAYERS)) pg[name] = await expected(name, key);
});

interface Run { stdout: string; stderr: string; status: number | null; requests: string[] }

/** Run a GDAL utility with debug on; the request URLs are taken from its debug lines. */
function gdal(cmd: string, args: string[], config: Record<string, string> = {}): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, CPL_DEBUG: 'ON', GDAL_HTTP_TIMEOUT: '120', ...config };
  for (const k of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'GDAL_HTTP_PROXY']) delete env[k];
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, timeout: 600_000 });
  const requests = [...r.stderr.matchAll(/^HTTP: Fetch\((.*)\)$|^VSICURL: Start download for (.*)$/gm)].map((m) => m[1] ?? m[2]);
  return { stdout: r.stdout, stderr: r.stderr, status: r.status, requests };
}

interface GeoJson { type: string; crs?: { properties: { name: string } }; features: Array<{ properties: Record<string, unknown>; geometry: unknown }> }

function toGeoJson(src: string, layer: string, extra: string[] = [], config: Record<string, string> = {}): { fc: GeoJson; run: Run } {
  const run = gdal('ogr2ogr', ['-f', 'GeoJSON', '/vsistdout/', src, layer, ...extra], config);
  expect(run.status, `ogr2ogr ${src} ${layer} failed:\n${run.stderr.split('\n').filter((l) => /ERROR|Warning/i.test(l)).join('\n').slice(0, 3000)}\nrequests:\n${run.requests.join('\n')}`).toBe(0);
  return { fc: JSON.parse(run.stdout), run };
}

/**
 * Compare GDAL's features with the table: each feature is checked by PostGIS (validity, type, vertex
 * count, area or position in EPSG:2154) and its attributes are compared with the row of the same key.
 */
async function compare(name: string, fc: GeoJson, srid: number, trace: string): Promise<void> {
  const exp = pg[name];
  const key = LAYERS[name];
  const n = exp.features.size;
  expect(fc.features.length, `${name}: features received${trace}`).toBe(n);
  const keys = fc.features.map((f) => String(f.properties[key]));
  expect(new Set(keys).size, `${name}: duplicate keys${trace}`).toBe(n);
  expect([...keys].sort()).toEqual([...exp.features.keys()].sort());
  for (const c of exp.columns) expect(Object.keys(fc.features[0].properties), `field ${c}${trace}`).toContain(c);

  const { rows } = await db().query(
    `WITH f AS (SELECT e->'properties'->>$2 AS k, NULLIF(e->'geometry', 'null'::jsonb) AS g FROM jsonb_array_elements($1::jsonb) e),
          g AS (SELECT k, ST_SetSRID(ST_GeomFromGeoJSON(g::text), $3) AS geom FROM f)
     SELECT k, geom IS NULL AS isnull, ST_IsEmpty(geom) AS empty, ST_IsValid(geom) AS valid, GeometryType(geom) AS type,
            ST_NPoints(geom) AS npoints, ST_Area(ST_Transform(geom, 2154)) AS area,
            CASE WHEN GeometryType(geom) = 'POINT' THEN ST_X(ST_Transform(geom, 2154)) END AS x,
            CASE WHEN GeometryType(geom) = 'POINT' THEN ST_Y(ST_Transform(geom, 2154)) END AS y
       FROM g`,
    [JSON.stringify(fc.features), key, srid],
  );
  const got = new Map(rows.map((r) => [r.k as string, r]));
  const byKey = new Map(fc.features.map((f) => [String(f.properties[key]), f.properties]));
  const areaTol = srid === 2154 ? 1e-6 : 1e-5;
  const posTol = srid === 2154 ? 0.002 : 1.0;
  const wrong: string[] = [];
  for (const [k, e] of exp.features) {
    const p = byKey.get(k)!;
    for (const c of exp.columns) if ((p[c] ?? null) !== e.attrs[c]) wrong.push(`${k}.${c}: got ${JSON.stringify(p[c])}, expected ${JSON.stringify(e.attrs[c])}`);
    const g = got.get(k)!;
    if (g.isnull || g.empty) wrong.push(`${k}: null or empty geometry`);
    else {
      if (!g.valid) wrong.push(`${k}: invalid geometry`);
      if (g.type !== e.type) wrong.push(`${k}: ${g.type}, PostGIS ${e.type}`);
      if (g.npoints !== e.npoints) wrong.push(`${k}: ${g.npoints} vertices, PostGIS ${e.npoints}`);
      if (e.area !== null && !(Math.abs(g.area - e.area) <= areaTol * e.area)) wrong.push(`${k}: area ${g.area}, PostGIS ${e.area}`);
      if (e.x !== null && !(Math.hypot(g.x - e.x, g.y - e.y!) <= posTol)) wrong.push(`${k}: at ${g.x} ${g.y}, PostGIS ${e.x} ${e.y}`);
    }
  }
  expect(wrong.slice(0, 20), `${name}: ${wrong.length} differences with PostGIS${trace}`).toEqual([]);
  if (name === 'communes' || name === 'communes_points') {
    expect(byKey.get('45234')!.nom).toBe('Orléans');
    expect(byKey.get('36044')!.nom).toBe('Châteauroux');
  }
}

const traceOf = (run: Run) => `\nrequests:\n${run.requests.join('\n').slice(0, 4000)}`;
const startIndexes = (run: Run) =>
  run.requests.filter((u) => /REQUEST=GetFeature/i.test(u) && !/RESULTTYPE=hits/i.test(u)).map((u) => Number(/[?&]STARTINDEX=(\d+)/i.exec(u)?.[1] ?? NaN));

describe('GDAL WFS driver', () => {
  it('ogrinfo -so lists the 7 demo layers with their PostGIS counts', () => {
    const list = gdal('ogrinfo', ['-ro', '-so', `WFS:${baseUrl()}/wfs`]);
    expect(list.status, list.stderr).toBe(0);
    const names = [...list.stdout.matchAll(/^\d+: (\S+)/gm)].map((m) => m[1]).sort();
    expect(names).toEqual(Object.keys(LAYERS).map((n) => `sdi:${n}`).sort());

    const all = gdal('ogrinfo', ['-ro', '-so', '-al', `WFS:${baseUrl()}/wfs`]);
    expect(all.status, all.stderr).toBe(0);
    const counts: Record<string, number> = {};
    for (const block of all.stdout.split(/^Layer name: /m).slice(1)) {
      counts[block.split('\n')[0].trim()] = Number(/^Feature Count: (-?\d+)/m.exec(block)?.[1]);
    }
    for (const name of Object.keys(LAYERS)) expect(counts[`sdi:${name}`], `sdi:${name}${traceOf(all)}`).toBe(pg[name].features.size);
  });

  it('ogrinfo -al -q sdi:communes prints all 1776 features with their names', () => {
    const r = gdal('ogrinfo', ['-ro', '-al', '-q', `WFS:${baseUrl()}/wfs`, 'sdi:communes']);
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    expect(r.stdout.match(/^OGRFeature\(sdi:communes\):\d+$/gm)?.length, traceOf(r)).toBe(pg.communes.features.size);
    expect(r.stdout).toContain('  nom (String) = Orléans\n');
    expect(r.stdout).toContain('  nom (String) = Châteauroux\n');
    expect(r.stdout.match(/^ {2}MULTI(SURFACE|POLYGON) \(\(\(/gm)?.length).toBe(pg.communes.features.size);
  });

  for (const name of Object.keys(LAYERS)) {
    it(`ogr2ogr sdi:${name} (WFS 2.0, GDAL's default paging) equals PostGIS`, async () => {
      const { fc, run } = toGeoJson(`WFS:${baseUrl()}/wfs`, `sdi:${name}`);
      expect(fc.crs?.properties.name).toMatch(/EPSG::?2154$/);
      await compare(name, fc, 2154, traceOf(run));
      const ids = fc.features.map((f) => f.properties.gml_id);
      expect(new Set(ids).size, 'distinct gml:id').toBe(ids.length);
    });
  }

  for (const name of ['communes', 'communes_points']) {
    it(`OGR_WFS_PAGE_SIZE=500: sdi:${name} comes in STARTINDEX/COUNT pages, complete, no duplicate`, async () => {
      const config = { OGR_WFS_PAGING_ALLOWED: 'ON', OGR_WFS_PAGE_SIZE: '500' };
      const { fc, run } = toGeoJson(`WFS:${baseUrl()}/wfs`, `sdi:${name}`, [], config);
      const trace = traceOf(run);
      expect(startIndexes(run), `GetFeature pages${trace}`).toEqual([0, 500, 1000, 1500]);
      for (const u of run.requests.filter((x) => /REQUEST=GetFeature/i.test(x))) expect(u, trace).toMatch(/[?&]COUNT=500(&|$)/i);
      const ids = fc.features.map((f) => String(f.properties.gml_id));
      expect(new Set(ids).size, `duplicate gml:id across pages${trace}`).toBe(ids.length);
      await compare(name, fc, 2154, trace);

      // The same feature keeps the same gml:id whether paged or not.
      const whole = toGeoJson(`WFS:${baseUrl()}/wfs`, `sdi:${name}`, [], { OGR_WFS_PAGING_ALLOWED: 'OFF' });
      const idOf = (g: GeoJson) => Object.fromEntries(g.features.map((f) => [String(f.properties.code), f.properties.gml_id]));
      expect(idOf(fc)).toEqual(idOf(whole.fc));
    });
  }

  for (const version of ['1.1.0', '1.0.0']) {
    for (const name of ['communes', 'communes_points', 'epci']) {
      it(`WFS ${version}: ogr2ogr sdi:${name} equals PostGIS`, async () => {
        const { fc, run } = toGeoJson(`WFS:${baseUrl()}/wfs?VERSION=${version}`, `sdi:${name}`);
        const trace = traceOf(run);
        expect(run.requests.filter((u) => /REQUEST=GetFeature/i.test(u)).every((u) => u.includes(`VERSION=${version}`)), trace).toBe(true);
        expect(fc.crs?.properties.name).toMatch(/EPSG::?2154$/);
        await compare(name, fc, 2154, trace);
      });
    }
  }
});

describe('GDAL OAPIF driver', () => {
  it('ogrinfo -so lists the 7 collections', () => {
    const r = gdal('ogrinfo', ['-ro', '-so', `OAPIF:${baseUrl()}/ogcapi`]);
    expect(r.status, r.stderr).toBe(0);
    expect([...r.stdout.matchAll(/^\d+: (\S+)/gm)].map((m) => m[1]).sort()).toEqual(Object.keys(LAYERS).sort());
  });

  it('ogr2ogr communes_points (default page size, following next links) gets all 1776 features', async () => {
    const { fc, run } = toGeoJson(`OAPIF:${baseUrl()}/ogcapi`, 'communes_points');
    const pages = run.requests.filter((u) => /\/collections\/communes_points\/items/.test(u));
    expect(pages.length, traceOf(run)).toBeGreaterThan(1);
    await compare('communes_points', fc, 4326, traceOf(run));
  });

  for (const name of Object.keys(LAYERS)) {
    it(`ogr2ogr ${name} with -oo PAGE_SIZE=500 equals PostGIS`, async () => {
      const { fc, run } = toGeoJson(`OAPIF:${baseUrl()}/ogcapi`, name, ['-oo', 'PAGE_SIZE=500']);
      await compare(name, fc, 4326, traceOf(run));
    });
  }
});
