/**
 * QGIS 3.22 (headless, the Debian python3-qgis build) loads every demo layer through its WFS provider
 * (version auto, 2.0.0 with urn and EPSG srsname, 2.0.0 paged by 500, 1.1.0, 1.0.0) and its OAPIF
 * provider, and gets every feature, every attribute (accents intact) and a valid geometry equal to the
 * one in PostGIS. qgis_load.py does the loading and reports raw facts; every judgement is here.
 *
 * Nothing is skipped: if /usr/bin/python3 cannot import qgis, the suite fails (scripts/test.sh installs
 * python3-qgis).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseUrl, db } from '../helpers.js';

const PYTHON = process.env.QGIS_PYTHON ?? '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, 'qgis_load.py');

/** The demo layers and the attribute that identifies a feature in each. */
const LAYERS: Record<string, string> = {
  region: 'code',
  departements: 'code',
  arrondissements: 'code',
  cantons: 'code',
  epci: 'siren',
  communes: 'code',
  communes_points: 'code',
};
const VARIANTS = ['wfs-auto', 'wfs-2.0.0', 'wfs-2.0.0-epsg', 'wfs-2.0.0-paged', 'wfs-1.1.0', 'wfs-1.0.0', 'oapif'] as const;

interface PgFeature {
  attrs: Record<string, unknown>;
  type: string;
  area: number | null;
  npoints: number;
  x: number | null;
  y: number | null;
}
interface PgLayer {
  columns: string[];
  geomType: string;
  features: Map<string, PgFeature>;
}

/** Everything the clients must reproduce, read from PostGIS through the layer registry. */
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
  const columns = cols.map((c) => c.column_name as string);
  const q = (x: string) => `"${x.replace(/"/g, '""')}"`;
  const { rows } = await db().query(
    `SELECT ${q(key)}::text AS k, to_jsonb(t) - ${'$1'}::text - ${'$2'}::text AS attrs,
            GeometryType(${q(g)}) AS type,
            CASE WHEN ST_Dimension(${q(g)}) = 2 THEN ST_Area(${q(g)}) END AS area,
            ST_NPoints(${q(g)}) AS npoints,
            CASE WHEN GeometryType(${q(g)}) = 'POINT' THEN ST_X(${q(g)}) END AS x,
            CASE WHEN GeometryType(${q(g)}) = 'POINT' THEN ST_Y(${q(g)}) END AS y
       FROM ${q(s)}.${q(t)} t`,
    [id, g],
  );
  const features = new Map<string, PgFeature>();
  for (const r of rows) features.set(r.k, { attrs: r.attrs, type: r.type, area: r.area, npoints: r.npoints, x: r.x, y: r.y });
  expect(features.size, `${name}: key ${key} is unique in PostGIS`).toBe(rows.length);
  const types = new Set(rows.map((r) => r.type));
  expect(types.size, `${name}: one geometry type`).toBe(1);
  return { columns, geomType: [...types][0], features };
}

const QGIS_TYPE: Record<string, string> = { POINT: 'Point', POLYGON: 'Polygon', MULTIPOLYGON: 'MultiPolygon', LINESTRING: 'LineString', MULTILINESTRING: 'MultiLineString', MULTIPOINT: 'MultiPoint' };

interface QRequest { url: string; status: number | null; error: string | null }
interface QResult {
  layer: string;
  variant: string;
  provider: string;
  uri: string;
  valid?: boolean;
  error?: string;
  exception?: string;
  crs?: string;
  featureCount?: number;
  featureCountAfter?: number;
  wkbType?: string;
  fields?: Array<{ name: string; type: string; variant: string }>;
  iterated?: number;
  duplicateKeys?: string[];
  geometryProblems?: string[];
  extent2154?: number[] | null;
  features?: Record<string, { attrs: Record<string, unknown>; geom: { null: boolean; empty?: boolean; type?: string; valid?: boolean; npoints?: number; area?: number; x?: number; y?: number } }>;
  requests: QRequest[];
  messages: Array<{ tag: string; level: number; message: string }>;
}
interface QReport { error?: string; qgisVersion?: string; results: QResult[] }

let report: QReport;
let runError = '';
const pg: Record<string, PgLayer> = {};

function runQgis(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sdi-qgis-'));
  const out = join(dir, 'report.json');
  const env: NodeJS.ProcessEnv = { ...process.env, QT_QPA_PLATFORM: 'offscreen', PYTHONIOENCODING: 'utf-8' };
  for (const k of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY']) delete env[k];
  const layers = Object.entries(LAYERS).map(([n, k]) => `${n}:${k}`).join(',');
  return new Promise((resolve) => {
    execFile(
      PYTHON,
      ['-X', 'faulthandler', SCRIPT, '--base', baseUrl(), '--out', out, '--layers', layers],
      { env, timeout: 900_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, _stdout, stderr) => {
        if (existsSync(out)) report = JSON.parse(readFileSync(out, 'utf8'));
        rmSync(dir, { recursive: true, force: true });
        if (err) {
          const how = err.signal ? `killed by ${err.signal}` : `exit status ${err.code}`;
          const seen = report?.results?.length ?? 0;
          runError = `${PYTHON} ${SCRIPT} failed (${how}) after ${seen} layer loads:\n${stderr.replace(/^QObject::connect.*\n/gm, '').slice(-4000)}`;
        }
        resolve();
      },
    );
  });
}

beforeAll(async () => {
  for (const [name, key] of Object.entries(LAYERS)) pg[name] = await expected(name, key);
  expect(existsSync(PYTHON), `${PYTHON} (with python3-qgis) must exist`).toBe(true);
  await runQgis();
}, 1_000_000);

/** Booleans: QGIS 3.22's WFS provider types xs:boolean fields as strings ("true"/"false"); later versions as bool. */
function sameValue(actual: unknown, exp: unknown, fieldType: string | undefined): boolean {
  if (typeof exp === 'boolean') return actual === exp || (fieldType === 'xs:boolean' && actual === String(exp));
  return actual === exp;
}

describe('QGIS 3.22 headless', () => {
  it('imports qgis and runs the loader to the end', () => {
    expect(runError, runError).toBe('');
    expect(report, 'report written').toBeTruthy();
    expect(report.error, report.error).toBeUndefined();
    expect(report.qgisVersion).toMatch(/^3\./);
    expect(report.results).toHaveLength(VARIANTS.length * Object.keys(LAYERS).length);
  });

  it('PostGIS holds the known demo values the clients are checked against', () => {
    expect(pg.communes.features.size).toBe(1776);
    expect(pg.communes_points.features.size).toBe(1776);
    expect(pg.communes.features.get('45234')!.attrs.nom).toBe('Orléans');
    expect(pg.communes.features.get('36044')!.attrs.nom).toBe('Châteauroux');
  });

  for (const variant of VARIANTS) {
    describe(variant, () => {
      for (const [name, key] of Object.entries(LAYERS)) {
        it(`${name}: complete, attributes intact, geometries valid and equal to PostGIS`, () => {
          expect(report, runError).toBeTruthy();
          const r = report.results.find((x) => x.variant === variant && x.layer === name)!;
          expect(r, `${variant} ${name} in the report`).toBeTruthy();
          const trace = `\nuri: ${r.uri}\nrequests:\n${r.requests.map((q) => `  ${q.status} ${q.url}${q.error ? ` (${q.error})` : ''}`).join('\n')}\nmessages: ${JSON.stringify(r.messages).slice(0, 3000)}`;
          expect(r.exception, `${r.exception}${trace}`).toBeUndefined();
          expect(r.valid, `layer invalid: ${r.error}${trace}`).toBe(true);
          const exp = pg[name];
          const n = exp.features.size;

          // Every HTTP exchange succeeded, and QGIS logged no provider warning.
          for (const q of r.requests) expect(q.status, `HTTP ${q.status} ${q.error ?? ''} for ${q.url}${trace}`).toBe(200);
          expect(r.messages.filter((m) => /WFS|OAPIF|OGR/i.test(m.tag)), trace).toEqual([]);

          // CRS: the WFS provider works in the native CRS; 3.22's OAPIF provider only knows CRS84.
          if (r.provider === 'WFS') expect(r.crs, trace).toBe('EPSG:2154');
          else expect(['EPSG:4326', 'OGC:CRS84'], trace).toContain(r.crs);

          // Counts: announced (hits / numberMatched; WFS 1.0 has no hits so QGIS only knows after the download), then real.
          if (variant !== 'wfs-1.0.0') expect(r.featureCount, `featureCount() before download${trace}`).toBe(n);
          expect(r.featureCountAfter, `featureCount() after download${trace}`).toBe(n);
          expect(r.iterated, `features iterated${trace}`).toBe(n);
          expect(r.duplicateKeys, trace).toEqual([]);
          expect(Object.keys(r.features!).sort()).toEqual([...exp.features.keys()].sort());

          // Layer geometry type and every feature's geometry.
          const gtype = QGIS_TYPE[exp.geomType];
          expect(r.wkbType, trace).toBe(gtype);
          expect(r.geometryProblems, `null, empty or GEOS-invalid geometries (by ${key})${trace}`).toEqual([]);

          // Fields: every attribute column of the table is a field.
          const fieldType = new Map(r.fields!.map((f) => [f.name, f.type]));
          for (const c of exp.columns) expect([...fieldType.keys()], `field ${c}${trace}`).toContain(c);

          const wrongAttr: string[] = [];
          const wrongGeom: string[] = [];
          const areaTol = r.provider === 'WFS' ? 1e-6 : 1e-5; // relative; WFS GML is written at mm precision
          const posTol = r.provider === 'WFS' ? 0.002 : 1.0; // metres; GeoJSON CRS84 at 5 decimals ≈ 1 m
          for (const [k, e] of exp.features) {
            const f = r.features![k];
            for (const c of exp.columns) {
              if (!sameValue(f.attrs[c], e.attrs[c], fieldType.get(c))) wrongAttr.push(`${k}.${c}: got ${JSON.stringify(f.attrs[c])}, expected ${JSON.stringify(e.attrs[c])}`);
            }
            const g = f.geom;
            if (g.type !== gtype) wrongGeom.push(`${k}: type ${g.type}`);
            if (g.npoints !== e.npoints) wrongGeom.push(`${k}: ${g.npoints} vertices, PostGIS ${e.npoints}`);
            if (e.area !== null && !(Math.abs(g.area! - e.area) <= areaTol * e.area)) wrongGeom.push(`${k}: area ${g.area}, PostGIS ${e.area}`);
            if (e.x !== null && !(Math.hypot(g.x! - e.x, g.y! - e.y!) <= posTol)) wrongGeom.push(`${k}: point ${g.x} ${g.y}, PostGIS ${e.x} ${e.y}`);
          }
          expect(wrongAttr.slice(0, 20), `${wrongAttr.length} wrong attribute values${trace}`).toEqual([]);
          expect(wrongGeom.slice(0, 20), `${wrongGeom.length} wrong geometries${trace}`).toEqual([]);

          // Known values with accents, as a human would check them.
          if (name === 'communes' || name === 'communes_points') {
            expect(r.features!['45234'].attrs.nom).toBe('Orléans');
            expect(r.features!['36044'].attrs.nom).toBe('Châteauroux');
          }

          // The paged configuration really paged (STARTINDEX/COUNT=500) and fetched each page once.
          if (variant === 'wfs-2.0.0-paged') {
            const pages = r.requests.filter((q) => /REQUEST=GetFeature/i.test(q.url) && !/RESULTTYPE=hits/i.test(q.url));
            const starts = pages.map((q) => Number(/[?&]STARTINDEX=(\d+)/i.exec(q.url)?.[1]));
            const expectedStarts = Array.from({ length: Math.floor(n / 500) + 1 }, (_, i) => i * 500);
            expect(starts, trace).toEqual(expectedStarts);
            for (const q of pages) expect(q.url, trace).toMatch(/[?&]COUNT=500(&|$)/i);
          }
        });
      }
    });
  }
});
