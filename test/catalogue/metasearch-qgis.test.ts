/**
 * The one-click path of issue 3: a MetaSearch search (OWSLib CatalogueServiceWeb, as QGIS MetaSearch uses it)
 * finds a demo layer's record, its OGC:WFS link and the feature type named in the ISO record are handed to
 * QGIS headless, and the WFS layer QGIS opens from them is valid and holds every row of the PostGIS table.
 * metasearch_qgis.py reports raw facts; every judgement is here. Nothing is skipped: without OWSLib or QGIS
 * in /usr/bin/python3 the test fails.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseUrl, db } from '../helpers.js';
import { cswUrl, loadFixtures } from './setup.js';

const PYTHON = process.env.QGIS_PYTHON ?? '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, 'metasearch_qgis.py');
/** The words a technician types in MetaSearch, and the demo layer whose record must come out. */
const SEARCHES: Array<{ term: string; layer: string }> = [
  { term: 'communes', layer: 'communes' },
  { term: 'EPCI fiscalité', layer: 'epci' },
];

interface Expected { layer: string; identifier: string; table: string; count: number; extent: [number, number, number, number] }
interface Target {
  term: string;
  identifier: string;
  exception?: string;
  search?: { matches: number; pages: number; identifier: string | null; title?: string; type?: string; references?: Array<{ scheme: string | null; url: string }>; bbox?: number[] | null };
  wfsReferences?: Array<{ scheme: string; url: string }>;
  iso?: { fileIdentifier: string; online: Array<{ url: string; protocol: string | null; name: string | null; description: string | null; function: string | null }> };
  typename?: string | null;
  qgis?: QgisLayer;
  oapifReferences?: Array<{ scheme: string; url: string }>;
  collection?: string | null;
  qgisOapif?: QgisLayer;
}
interface QgisLayer { uri: string; valid: boolean; crs?: string; featureCount?: number; featureCountAfter?: number; iterated?: number; nullGeometries?: number; wkbType?: string; fields?: string[]; extent4326?: number[]; messages: string[] }
let report: { error?: string; owslibVersion: string; qgisVersion: string; targets: Target[] };
const expected = new Map<string, Expected>();

beforeAll(async () => {
  expect((await loadFixtures()).failed).toEqual([]);
  expect(existsSync(PYTHON), `${PYTHON} must exist`).toBe(true);
  for (const s of SEARCHES) {
    const { rows } = await db().query<{ identifier: string; schema: string; table: string; geom: string }>(
      `SELECT m.identifier, l.table_schema AS schema, l.table_name AS table, l.geometry_column AS geom
         FROM sdi.layers l JOIN sdi.metadata_records m ON m.id = l.metadata_record_id WHERE l.name = $1 AND l.published`,
      [s.layer],
    );
    expect(rows, `layer ${s.layer} has a catalogue record`).toHaveLength(1);
    const q = (x: string) => `"${x.replace(/"/g, '""')}"`;
    const table = `${q(rows[0]!.schema)}.${q(rows[0]!.table)}`;
    const { rows: c } = await db().query<{ n: number; xmin: number; ymin: number; xmax: number; ymax: number }>(
      `SELECT n, ST_XMin(e) xmin, ST_YMin(e) ymin, ST_XMax(e) xmax, ST_YMax(e) ymax
         FROM (SELECT count(*)::int AS n, ST_Extent(ST_Transform(${q(rows[0]!.geom)}, 4326)) e FROM ${table}) x`,
    );
    expected.set(s.layer, { layer: s.layer, identifier: rows[0]!.identifier, table, count: c[0]!.n, extent: [c[0]!.xmin, c[0]!.ymin, c[0]!.xmax, c[0]!.ymax] });
  }
  const out = join(mkdtempSync(join(tmpdir(), 'sdi-metasearch-')), 'report.json');
  const args = [SCRIPT, cswUrl(), out, ...SEARCHES.map((s) => `${s.term}=${expected.get(s.layer)!.identifier}`)];
  await new Promise<void>((resolve, reject) =>
    execFile(PYTHON, args, { env: { ...process.env, PYTHONIOENCODING: 'utf-8' }, timeout: 280_000 }, (err, _o, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(),
    ),
  );
  report = JSON.parse(readFileSync(out, 'utf8'));
  expect(report.error).toBeUndefined();
}, 300_000);

describe.each(SEARCHES)('MetaSearch "$term" → Add WFS → QGIS layer $layer', ({ term, layer }) => {
  const target = () => {
    const t = report.targets.find((x) => x.term === term)!;
    expect(t, `report for ${term}`).toBeDefined();
    expect(t.exception).toBeUndefined();
    return t;
  };

  it('the AnyText search finds the layer record among its hits, as a dataset with an OGC:WFS reference to our WFS', async () => {
    const t = target();
    const e = expected.get(layer)!;
    expect(t.search!.identifier).toBe(e.identifier);
    const { rows } = await db().query<{ title: string; n: number }>(
      `SELECT (SELECT title FROM sdi.metadata_records WHERE identifier = $2) AS title,
              (SELECT count(*)::int FROM sdi.metadata_records WHERE anytext_tsv @@ sdi.anytext_query($1, true)) AS n`,
      [term, e.identifier],
    );
    expect(t.search!.matches).toBe(rows[0]!.n);
    expect(t.search!.title).toBe(rows[0]!.title);
    expect(t.search!.type).toBe('dataset');
    expect(t.wfsReferences).toHaveLength(1);
    const link = new URL(t.wfsReferences![0]!.url);
    expect(link.origin).toBe(new URL(baseUrl()).origin);
    expect(link.pathname).toBe('/wfs');
    expect(link.searchParams.get('request')).toBe('GetCapabilities');
  });

  it('the ISO record (getrecordbyid, gmd) names the feature type of that link', () => {
    const t = target();
    expect(t.iso!.fileIdentifier).toBe(expected.get(layer)!.identifier);
    expect(t.typename).toBe(`sdi:${layer}`);
  });

  it('QGIS opens the link as a valid WFS layer with every feature of the PostGIS table, inside the record footprint', () => {
    const t = target();
    const e = expected.get(layer)!;
    const q = t.qgis!;
    expect(q.uri).toContain(`url='${t.wfsReferences![0]!.url}'`);
    expect(q.valid, q.messages.join('\n')).toBe(true);
    expect(q.iterated).toBe(e.count);
    expect(q.featureCountAfter).toBe(e.count);
    expect(q.nullGeometries).toBe(0);
    expect(q.wkbType).toMatch(/Polygon/);
    // The record's footprint is the layer extent rounded outwards: QGIS's extent lies inside it and close to PostGIS's.
    const [minx, miny, maxx, maxy] = t.search!.bbox!;
    const [qx0, qy0, qx1, qy1] = q.extent4326!;
    expect(qx0).toBeGreaterThanOrEqual(minx! - 1e-6);
    expect(qy0).toBeGreaterThanOrEqual(miny! - 1e-6);
    expect(qx1).toBeLessThanOrEqual(maxx! + 1e-6);
    expect(qy1).toBeLessThanOrEqual(maxy! + 1e-6);
    e.extent.forEach((v, i) => expect(Math.abs(q.extent4326![i]! - v)).toBeLessThan(1e-4));
  });

  it('its OGC:API-Features link (issue 12): QGIS OAPIF opens the landing page with the collection of gmd:name, every feature', () => {
    const t = target();
    const e = expected.get(layer)!;
    expect(t.oapifReferences).toHaveLength(1);
    expect(t.oapifReferences![0]!.url).toBe(`${baseUrl()}/ogcapi`);
    expect(t.collection).toBe(layer);
    const q = t.qgisOapif!;
    expect(q.valid, q.messages.join('\n')).toBe(true);
    expect(q.iterated).toBe(e.count);
    expect(q.nullGeometries).toBe(0);
    expect(q.wkbType).toMatch(/Polygon/);
  });
});
