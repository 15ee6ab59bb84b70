/**
 * OWSLib (Debian python3-owslib) used as a Python script author would: WebFeatureService 2.0.0, 1.1.0
 * and 1.0.0, getfeature with its default arguments, outputFormat, paging with startindex, get_schema.
 * owslib_check.py records each step (result or exception, and the exact HTTP requests); GML is parsed
 * with lxml and geometries are checked by OGR/GEOS. Everything is compared with PostGIS here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseUrl, db } from '../helpers.js';

const PYTHON = process.env.OWSLIB_PYTHON ?? '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, 'owslib_check.py');
const LAYERS = ['region', 'departements', 'arrondissements', 'cantons', 'epci', 'communes', 'communes_points'];
const TYPE_NAMES = LAYERS.map((n) => `sdi:${n}`).sort();

interface Req { method: string; url: string; status?: number; responseBody?: string }
interface Step { result?: any; exception?: string; traceback?: string; requests: Req[] }
interface Feature { id: string; attrs: Record<string, string | null>; geom: { element: string; srsName: string | null; ogrType?: string; empty?: boolean; valid?: boolean; area?: number | null; npoints?: number; x?: number; y?: number; error?: string } | null }
interface Parsed { root: string; rootNs: string; numberMatched: string | null; numberReturned: string | null; numberOfFeatures: string | null; next: string | null; features: Feature[] }

let report: { error?: string; owslibVersion?: string; steps: Record<string, Step> };
let runError = '';

interface PgRow { attrs: Record<string, unknown>; area: number | null; npoints: number; x: number | null; y: number | null }
const pg: Record<string, { columns: string[]; rows: Map<string, PgRow> }> = {};
let wgs84Extent: number[] = [];

async function load(name: string): Promise<void> {
  const { rows: reg } = await db().query(`SELECT table_schema s, table_name t, id_column id, geometry_column g FROM sdi.layers WHERE name = $1 AND published`, [name]);
  expect(reg).toHaveLength(1);
  const { s, t, id, g } = reg[0];
  const { rows: cols } = await db().query(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name NOT IN ($3, $4) ORDER BY ordinal_position`,
    [s, t, id, g],
  );
  const key = name === 'epci' ? 'siren' : 'code';
  const { rows } = await db().query(
    `SELECT "${key}"::text AS k, to_jsonb(x) - $1::text - $2::text AS attrs,
            CASE WHEN ST_Dimension("${g}") = 2 THEN ST_Area("${g}") END AS area, ST_NPoints("${g}") AS npoints,
            CASE WHEN GeometryType("${g}") = 'POINT' THEN ST_X("${g}") END AS x, CASE WHEN GeometryType("${g}") = 'POINT' THEN ST_Y("${g}") END AS y
       FROM "${s}"."${t}" x`,
    [id, g],
  );
  pg[name] = { columns: cols.map((c) => c.column_name), rows: new Map(rows.map((r) => [r.k, r])) };
  if (name === 'communes') {
    const { rows: e } = await db().query(`SELECT ST_XMin(b) a, ST_YMin(b) b, ST_XMax(b) c, ST_YMax(b) d FROM (SELECT ST_Extent(ST_Transform("${g}", 4326)) b FROM "${s}"."${t}") z`);
    wgs84Extent = [e[0].a, e[0].b, e[0].c, e[0].d];
  }
}

beforeAll(async () => {
  for (const n of LAYERS) await load(n);
  expect(existsSync(PYTHON), `${PYTHON} (with python3-owslib) must exist`).toBe(true);
  const dir = mkdtempSync(join(tmpdir(), 'sdi-owslib-'));
  const out = join(dir, 'report.json');
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONIOENCODING: 'utf-8' };
  for (const k of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY']) delete env[k];
  await new Promise<void>((resolve) => {
    execFile(PYTHON, [SCRIPT, '--base', baseUrl(), '--out', out], { env, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 }, (err, _o, stderr) => {
      if (existsSync(out)) report = JSON.parse(readFileSync(out, 'utf8'));
      rmSync(dir, { recursive: true, force: true });
      if (err) runError = `${PYTHON} ${SCRIPT} failed (${err.message}):\n${String(stderr).slice(-4000)}`;
      resolve();
    });
  });
}, 700_000);

/** The step's result, or a failure that shows the exception and every request OWSLib sent. */
function result(name: string): any {
  expect(report, runError).toBeTruthy();
  const s = report.steps[name];
  expect(s, `step ${name} ran`).toBeTruthy();
  const trace = s.requests.map((r) => `  ${r.method} ${r.url} -> HTTP ${r.status}${r.responseBody ? `\n    ${r.responseBody.replace(/\s+/g, ' ').slice(0, 600)}` : ''}`).join('\n');
  expect(s.exception, `${name}: ${s.exception?.slice(0, 600)}\nrequests:\n${trace}`).toBeUndefined();
  for (const r of s.requests) expect(r.status, `${name}: ${r.url}`).toBe(200);
  return s.result;
}

/** Compare parsed GML features with PostGIS: count, ids, every attribute text, geometry validity and measures. */
function checkFeatures(layer: string, p: Parsed, opts: { columns?: string[]; geomElements: string[] }) {
  const exp = pg[layer];
  const key = layer === 'epci' ? 'siren' : 'code';
  const columns = opts.columns ?? exp.columns;
  expect(p.features).toHaveLength(exp.rows.size);
  const ids = p.features.map((f) => f.id);
  expect(ids.every((i) => typeof i === 'string' && i.length > 0), 'every feature has a gml:id').toBe(true);
  expect(new Set(ids).size, 'distinct gml:id').toBe(ids.length);
  expect(p.features.map((f) => f.attrs[key]).sort()).toEqual([...exp.rows.keys()].sort());
  const wrong: string[] = [];
  for (const f of p.features) {
    const e = exp.rows.get(f.attrs[key]!)!;
    for (const c of columns) {
      const want = e.attrs[c] === null ? null : String(e.attrs[c]);
      if ((f.attrs[c] ?? null) !== want) wrong.push(`${f.id}.${c}: got ${JSON.stringify(f.attrs[c])}, expected ${JSON.stringify(want)}`);
    }
    const g = f.geom;
    if (!g) { wrong.push(`${f.id}: no geometry`); continue; }
    if (g.error) wrong.push(`${f.id}: OGR cannot read the GML geometry: ${g.error}`);
    if (!opts.geomElements.includes(g.element)) wrong.push(`${f.id}: gml:${g.element}`);
    if (g.empty || !g.valid) wrong.push(`${f.id}: empty or invalid geometry`);
    if (g.npoints !== e.npoints) wrong.push(`${f.id}: ${g.npoints} vertices, PostGIS ${e.npoints}`);
    if (e.area !== null && !(Math.abs(g.area! - e.area) <= 1e-6 * e.area)) wrong.push(`${f.id}: area ${g.area}, PostGIS ${e.area}`);
    if (e.x !== null && !(Math.hypot(g.x! - e.x, g.y! - e.y!) <= 0.002)) wrong.push(`${f.id}: at ${g.x} ${g.y}, PostGIS ${e.x} ${e.y}`);
  }
  expect(wrong.slice(0, 20), `${wrong.length} differences with PostGIS`).toEqual([]);
  const byKey = new Map(p.features.map((f) => [f.attrs[key], f]));
  if (layer === 'communes' || layer === 'communes_points') {
    expect(byKey.get('45234')!.attrs.nom).toBe('Orléans');
    expect(byKey.get('36044')!.attrs.nom).toBe('Châteauroux');
  }
}

describe('OWSLib', () => {
  it('runs (python3-owslib, lxml and GDAL importable)', () => {
    expect(runError, runError).toBe('');
    expect(report.error, report.error).toBeUndefined();
    expect(report.owslibVersion).toMatch(/^\d+\.\d+/);
  });

  describe('WebFeatureService(url, version="2.0.0")', () => {
    it('contents: the 7 demo type names, EPSG:2154 first, WGS84 box around the data', () => {
      const r = result('wfs20_capabilities');
      expect(r.version).toBe('2.0.0');
      expect(r.contents).toEqual(TYPE_NAMES);
      for (const n of TYPE_NAMES) expect(r.crs[n][0], n).toBe('urn:ogc:def:crs:EPSG::2154');
      const [w, s, e, nn] = r.wgs84['sdi:communes'];
      const [pw, ps, pe, pn] = wgs84Extent;
      expect(w).toBeLessThanOrEqual(pw + 1e-4);
      expect(s).toBeLessThanOrEqual(ps + 1e-4);
      expect(e).toBeGreaterThanOrEqual(pe - 1e-4);
      expect(nn).toBeGreaterThanOrEqual(pn - 1e-4);
      expect(Math.max(pw - w, ps - s, e - pe, nn - pn)).toBeLessThan(0.1);
      expect(r.titles['sdi:departements']).toBe('Départements de la région Centre-Val de Loire');
    });

    it('getfeature(sdi:communes, maxfeatures=5000, outputFormat=GML 3.2): all 1776 features, equal to PostGIS', () => {
      const p: Parsed = result('wfs20_getfeature_communes_gml32');
      expect(p.root).toBe('FeatureCollection');
      expect(p.rootNs).toBe('http://www.opengis.net/wfs/2.0');
      expect(p.numberMatched).toBe('1776');
      expect(p.numberReturned).toBe('1776');
      expect(p.features.every((f) => f.geom?.srsName === 'urn:ogc:def:crs:EPSG::2154')).toBe(true);
      checkFeatures('communes', p, { geomElements: ['MultiSurface'] });
    });

    it('getfeature(sdi:communes, maxfeatures=10) with the default format: 10 of 1776', () => {
      const p: Parsed = result('wfs20_getfeature_communes_default');
      expect(p.features).toHaveLength(10);
      expect(p.numberMatched).toBe('1776');
      expect(p.numberReturned).toBe('10');
    });

    it('getfeature(outputFormat="application/json"): 1776 GeoJSON features with their names', () => {
      const r = result('wfs20_getfeature_communes_geojson');
      expect(r.type).toBe('FeatureCollection');
      expect(r.features).toHaveLength(1776);
      const byCode = new Map<string, any>(r.features.map((f: any) => [f.attrs.code, f]));
      expect(byCode.size).toBe(1776);
      for (const [k, e] of pg.communes.rows) expect(byCode.get(k)?.attrs.nom, k).toBe(e.attrs.nom);
      expect(r.features.every((f: any) => f.geomType === 'MultiPolygon')).toBe(true);
    });

    it('paging sdi:communes_points with startindex/maxfeatures=500 collects all 1776 features once', () => {
      const r = result('wfs20_paging_communes_points');
      const pages: Parsed[] = r.pages;
      expect(pages.map((p) => p.features.length)).toEqual([500, 500, 500, 276]);
      expect(pages.map((p) => p.numberMatched)).toEqual(['1776', '1776', '1776', '1776']);
      expect(pages.slice(0, 3).every((p) => !!p.next)).toBe(true);
      expect(pages[3].next).toBeNull();
      const all: Parsed = { ...pages[0], features: pages.flatMap((p) => p.features) };
      checkFeatures('communes_points', all, { geomElements: ['Point'] });
    });

    it('get_schema: every layer has its PostGIS attribute columns and the geometry column', () => {
      const r = result('wfs20_get_schema');
      for (const n of LAYERS) {
        expect(Object.keys(r[`sdi:${n}`].properties).sort(), n).toEqual([...pg[n].columns].sort());
        expect(r[`sdi:${n}`].geometry_column, n).toBe('geom');
      }
      expect(r['sdi:communes_points'].properties.pmun_2023).toBe('int');
      expect(r['sdi:epci'].properties.epci_hors_region).toBe('boolean');
    });
  });

  describe('WebFeatureService(url, version="1.1.0")', () => {
    it('contents: the 7 demo type names', () => {
      const r = result('wfs11_capabilities');
      expect(r.version).toBe('1.1.0');
      expect(r.contents).toEqual(TYPE_NAMES);
    });

    it('getfeature(typename=[sdi:communes_points], maxfeatures=5000) with OWSLib defaults returns all features', () => {
      // OWSLib 0.27 sends PROPERTYNAME=* when propertyname is not given: "all properties".
      const p: Parsed = result('wfs11_getfeature_communes_points');
      expect(p.rootNs).toBe('http://www.opengis.net/wfs');
      expect(p.numberOfFeatures).toBe('1776');
      checkFeatures('communes_points', p, { geomElements: ['Point'] });
    });

    it('getfeature with propertyname=[sdi:code, sdi:nom, sdi:geom] returns those properties only', () => {
      const p: Parsed = result('wfs11_getfeature_communes_points_propertyname_list');
      expect(p.features.every((f) => Object.keys(f.attrs).sort().join() === 'code,nom')).toBe(true);
      checkFeatures('communes_points', p, { columns: ['code', 'nom'], geomElements: ['Point'] });
    });

    it('get_schema', () => {
      const r = result('wfs11_get_schema');
      expect(Object.keys(r['sdi:communes'].properties).sort()).toEqual([...pg.communes.columns].sort());
      expect(Object.keys(r['sdi:communes_points'].properties).sort()).toEqual([...pg.communes_points.columns].sort());
    });
  });

  describe('WebFeatureService(url, version="1.0.0")', () => {
    it('contents: the 7 demo type names', () => {
      expect(result('wfs10_capabilities').contents).toEqual(TYPE_NAMES);
    });

    it('getfeature(typename=[sdi:communes], maxfeatures=5000) with OWSLib defaults returns all features (GML 2)', () => {
      // OWSLib's 1.0.0 getfeature defaults to propertyname="*" as well.
      const p: Parsed = result('wfs10_getfeature_communes');
      expect(p.rootNs).toBe('http://www.opengis.net/wfs');
      checkFeatures('communes', p, { geomElements: ['MultiPolygon'] });
    });
  });
});
