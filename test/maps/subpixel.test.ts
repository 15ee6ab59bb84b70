/**
 * Polygons under a pixel sent as a point and stamped as a smudge (src/render/sql.ts subPixelSql,
 * src/render/canvas.ts SUBPIXEL_SMUDGE) against the same polygons drawn whole (simplified rings, Skia's
 * stroke), both from real PostGIS rows drawn by the real MapCanvas. Data: parcel-like cells on rotated grids
 * (26 × 40 m urban plots, 120 × 260 m field strips) as ../shared/bench/gen-data.sql lays them out, drawn at
 * W5's 48.8 m a pixel with bench/anchor-styles.json's parcel outline (0.6 px): the plots go the short way, the
 * strips the whole way. The pictures differ pixel by pixel (a smudge is not the outline's exact footprint),
 * so the comparison is of what the eye sees at that scale: each pixel's 3 × 3 neighbourhood, and the ink overall.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT, db } from '../helpers.js';

const { pixelSelectList } = (await import(join(ROOT, 'dist/src/render/sql.js'))) as typeof import('../../src/render/sql.js');
const { MapCanvas } = (await import(join(ROOT, 'dist/src/render/canvas.js'))) as typeof import('../../src/render/canvas.js');
const { layerRules } = (await import(join(ROOT, 'dist/src/render/layer-rules.js'))) as typeof import('../../src/render/layer-rules.js');
const { PositionalBinder } = (await import(join(ROOT, 'dist/src/db/binder.js'))) as typeof import('../../src/db/binder.js');
type Layer = import('../../src/catalog/layers.js').Layer;
type CrsRegistry = import('../../src/crs/registry.js').CrsRegistry;
type MapStyle = import('../../src/render/style.js').MapStyle;
type MapRow = import('../../src/render/canvas.js').MapRow;

const SIZE = 256;
const X0 = 600000;
const Y0 = 6740000;
const PIXEL = 50000 / 1024; // W5's metres a pixel
const GRID = { srid: 2154, bbox: { minx: X0, miny: Y0, maxx: X0 + SIZE * PIXEL, maxy: Y0 + SIZE * PIXEL }, width: SIZE, height: SIZE };
const TABLE = 'subpixel_test.parcels';
// Same SRID: the CRS registry is not consulted (bboxInLayerCrs returns the map box).
const LAYER = { geometry: { column: 'geom', srid: 2154, type: 'MULTIPOLYGON' } } as unknown as Layer;
const OUTLINE: MapStyle = { name: 'anchor', title: 'anchor', rules: [{ title: 'parcel', symbolizers: [{ kind: 'polygon', fill: null, stroke: { color: '#b43c1e', opacity: 1, width: 0.6 } }] }] };
const FILLED: MapStyle = { name: 'filled', title: 'filled', rules: [{ title: 'parcel', symbolizers: [{ kind: 'polygon', fill: { color: '#3060c0', opacity: 0.5 }, stroke: { color: '#203040', opacity: 1, width: 0.6 } }] }] };

beforeAll(async () => {
  // Three settlements: a core of plots (26 × 40 m cells, 2 m apart) on a grid rotated by the settlement's
  // angle, and a ring of field strips (120 × 260 m) around it.
  await db().query(`
    DROP SCHEMA IF EXISTS subpixel_test CASCADE;
    CREATE SCHEMA subpixel_test;
    CREATE TABLE ${TABLE} AS
    WITH s(cx, cy, r, w, d, theta) AS (VALUES (${X0 + 3000}, ${Y0 + 3500}, 1800, 26.0, 40.0, 0.3), (${X0 + 8500}, ${Y0 + 8000}, 1200, 24.0, 36.0, 1.1), (${X0 + 9500}, ${Y0 + 2500}, 900, 30.0, 44.0, 0.7))
    SELECT row_number() OVER () AS id,
           ST_Multi(ST_Rotate(ST_MakeEnvelope(s.cx + u, s.cy + v, s.cx + u + s.w - 2, s.cy + v + s.d - 2, 2154), s.theta, s.cx, s.cy))::geometry(MultiPolygon, 2154) AS geom
    FROM s, generate_series(-60, 60) i, generate_series(-60, 60) j, LATERAL (SELECT i * s.w AS u, j * s.d AS v) uv
    WHERE sqrt(u * u + v * v) < s.r
    UNION ALL
    SELECT 100000 + row_number() OVER (),
           ST_Multi(ST_Rotate(ST_MakeEnvelope(s.cx + i * 122, s.cy + j * 262, s.cx + i * 122 + 120, s.cy + j * 262 + 260, 2154), s.theta, s.cx, s.cy))
    FROM s, generate_series(-25, 25) i, generate_series(-12, 12) j
    WHERE sqrt((i * 122.0) ^ 2 + (j * 262.0) ^ 2) BETWEEN s.r + 100 AND s.r + 1500;
    CREATE INDEX ON ${TABLE} USING gist (geom);`);
});

afterAll(async () => {
  await db().query('DROP SCHEMA IF EXISTS subpixel_test CASCADE');
});

async function mapRows(subPixel: boolean, fills: boolean): Promise<MapRow[]> {
  const params = new PositionalBinder();
  const select = pixelSelectList(LAYER, GRID, params, { crs: {} as CrsRegistry, margin: 1, fills, ...(subPixel ? { subPixel: 1 } : {}) }, { filters: [], labelColumns: [], labelPoint: false, locator: 'STYLES' });
  const box = [GRID.bbox.minx, GRID.bbox.miny, GRID.bbox.maxx, GRID.bbox.maxy].map((v) => params.add(v, 'float8'));
  const { rows } = await db().query<MapRow>({ text: `SELECT ${select} FROM ${TABLE} t WHERE t.geom && ST_MakeEnvelope(${box.join(', ')}, 2154)`, values: params.values, rowMode: 'array' });
  return rows;
}

function drawn(rows: MapRow[], style: MapStyle, subPixel: boolean): Uint8ClampedArray {
  const canvas = new MapCanvas(SIZE, SIZE, { color: '#ffffff', transparent: false });
  canvas.drawRows(rows, layerRules(style, undefined), subPixel);
  canvas.drawLabels(); // paints pending stamps
  return canvas.ctx.getImageData(0, 0, SIZE, SIZE).data;
}

/** TWKB type of a row's geometry (low nibble of the first byte): 1 point, 3 polygon (clipped at the edge), 6 multipolygon. */
const twkbType = (r: MapRow) => r[0]![0]! & 15;
const isPolygon = (r: MapRow) => twkbType(r) === 3 || twkbType(r) === 6;

/**
 * What the eye sees: the largest and mean difference of each pixel's 3 × 3 neighbourhood average (darkness,
 * summed over the channels / 3), and the darkness of the whole image, shortcut ÷ whole.
 */
function compare(full: Uint8ClampedArray, short: Uint8ClampedArray): { max: number; mean: number; ink: number; drawn: number } {
  const dark = (d: Uint8ClampedArray, i: number) => (765 - d[i]! - d[i + 1]! - d[i + 2]!) / 3;
  let max = 0;
  let sum = 0;
  let inkFull = 0;
  let inkShort = 0;
  let drawnPixels = 0;
  for (let o = 0; o < full.length; o += 4) {
    inkFull += dark(full, o);
    inkShort += dark(short, o);
    if (dark(full, o) > 0) drawnPixels++;
  }
  for (let y = 1; y < SIZE - 1; y++) {
    for (let x = 1; x < SIZE - 1; x++) {
      let s = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) { const o = ((y + dy) * SIZE + x + dx) * 4; s += dark(full, o) - dark(short, o); }
      const d = Math.abs(s / 9);
      sum += d;
      if (d > max) max = d;
    }
  }
  return { max, mean: sum / (SIZE - 2) ** 2, ink: inkShort / inkFull, drawn: drawnPixels };
}

describe('polygons under a pixel as smudges (issue 9, W5)', () => {
  it('plots under a pixel come as points, field strips as polygons; the rows are smaller', async () => {
    const full = await mapRows(false, false);
    const short = await mapRows(true, false);
    expect(short.length).toBe(full.length);
    const points = short.filter((r) => twkbType(r) === 1).length;
    const polygons = short.filter(isPolygon).length;
    expect(points).toBeGreaterThan(5000);
    expect(polygons).toBeGreaterThan(500);
    expect(points + polygons).toBe(short.length);
    expect(full.every(isPolygon)).toBe(true);
    const bytes = (rows: MapRow[]) => rows.reduce((n, r) => n + r[0]!.length, 0);
    expect(bytes(short)).toBeLessThan(bytes(full) * 0.6);
  });

  for (const style of [OUTLINE, FILLED]) {
    it(`${style.name}: the map with smudges looks like the map drawn whole`, async () => {
      const fills = style === FILLED;
      const full = drawn(await mapRows(false, fills), style, false);
      const short = drawn(await mapRows(true, fills), style, true);
      const d = compare(full, short);
      expect(d.drawn).toBeGreaterThan(5000);
      expect(d.ink).toBeGreaterThan(0.9);
      expect(d.ink).toBeLessThan(1.1);
      expect(d.mean).toBeLessThan(TOLERANCE.mean);
      expect(d.max).toBeLessThan(TOLERANCE.max);
    });
  }
});

/**
 * Darkness of a pixel's 3 × 3 neighbourhood (0–255). Measured on this data (2026-12-06): outline max 22.6,
 * mean 1.49, ink 0.966; filled max 30.0, mean 2.00, ink 0.972.
 */
const TOLERANCE = { mean: 3, max: 48 };
