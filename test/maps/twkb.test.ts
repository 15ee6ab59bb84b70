/**
 * The TWKB decoder (src/render/twkb.ts) against PostGIS's encoder: every geometry type, holes, parts whose
 * deltas carry over, collections, Z, negative and large coordinates, empties, ids; decoded vertices equal
 * the source rounded to the precision.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT, db } from '../helpers.js';

const { decodeTwkbToArrays } = (await import(join(ROOT, 'dist/src/render/twkb.js'))) as typeof import('../../src/render/twkb.js');

const CASES = [
  'POINT(12.34 -56.78)',
  'LINESTRING(0 0, 10.26 3.5, -4 7.74)',
  'POLYGON((0 0, 100 0, 100 100, 0 100, 0 0), (10 10, 20 10, 20 20, 10 10))',
  'MULTIPOINT((1 2), (3 4), (-5 -6))',
  'MULTILINESTRING((0 0, 1 1), (5 5, 6 7, 8 9))',
  'MULTIPOLYGON(((0 0, 10 0, 10 10, 0 0)), ((20 20, 30 20, 30 30, 20 20), (22 21, 28 21, 28 27, 22 21)))',
  'GEOMETRYCOLLECTION(POINT(1 1), LINESTRING(2 2, 3 3), POLYGON((0 0, 4 0, 4 4, 0 0)))',
  'LINESTRING Z (0 0 1, 5 5 2, 9 1 3)',
  'LINESTRING(700000.5 6600000.27, 3000000000 -3000000000)',
];

function arraysOf(geojson: { type: string; coordinates?: unknown; geometries?: unknown[] }, out = { points: [] as number[][], lines: [] as number[][][], rings: [] as number[][][] }) {
  const xy = (p: number[]) => [p[0]!, p[1]!];
  const c = geojson.coordinates as never;
  switch (geojson.type) {
    case 'Point': out.points.push(xy(c)); break;
    case 'MultiPoint': for (const p of c as number[][]) out.points.push(xy(p)); break;
    case 'LineString': out.lines.push((c as number[][]).map(xy)); break;
    case 'MultiLineString': for (const l of c as number[][][]) out.lines.push(l.map(xy)); break;
    case 'Polygon': for (const r of c as number[][][]) out.rings.push(r.map(xy)); break;
    case 'MultiPolygon': for (const p of c as number[][][][]) for (const r of p) out.rings.push(r.map(xy)); break;
    case 'GeometryCollection': for (const g of geojson.geometries as never[]) arraysOf(g, out); break;
  }
  return out;
}

describe('TWKB decoder', () => {
  for (const wkt of CASES) {
    it(wkt.slice(0, 60), async () => {
      const { rows } = await db().query(`SELECT ST_AsTWKB(g, 1) AS twkb, ST_AsTWKB(g, 1, 0, 0, false, true) AS with_bbox, ST_AsGeoJSON(g, 1) AS json FROM (SELECT $1::geometry AS g) s`, [wkt]);
      const expected = arraysOf(JSON.parse(rows[0].json));
      const round = (a: number[][]) => a.map((p) => p.map((v) => Math.round(v * 10) / 10));
      for (const col of ['twkb', 'with_bbox']) {
        const got = decodeTwkbToArrays(rows[0][col] as Buffer);
        expect(got.points.map((p) => p.map((v) => Math.round(v * 10) / 10))).toEqual(round(expected.points));
        expect(got.lines.map(round)).toEqual(expected.lines.map(round));
        expect(got.rings.map(round)).toEqual(expected.rings.map(round));
      }
    });
  }

  it('an empty geometry draws nothing; an id list is skipped', async () => {
    const { rows } = await db().query(`SELECT ST_AsTWKB('POLYGON EMPTY'::geometry, 0) AS e, ST_AsTWKB(array_agg(g), array_agg(i)) AS ids FROM (VALUES ('POINT(1 2)'::geometry, 7), ('POINT(3 4)'::geometry, 9)) v(g, i)`);
    expect(decodeTwkbToArrays(rows[0].e as Buffer)).toEqual({ points: [], lines: [], rings: [] });
    expect(decodeTwkbToArrays(rows[0].ids as Buffer).points).toEqual([[1, 2], [3, 4]]);
  });
});

/**
 * The map canvas writes decoded TWKB as SVG path data in TWKB units (one Path2D a batch, scaled by addPath);
 * before, it called moveTo/lineTo/closePath per vertex. The picture must stay the same: the same rows drawn
 * both ways, with a parcel-like outline (0.6 px, Skia's modulated hairline), a fill with holes, and lines.
 */
describe('MapCanvas draws TWKB as SVG path data', () => {
  it('gives the pixels of vertex-by-vertex Path2D calls (anti-aliasing rounding aside)', async () => {
    const { MapCanvas } = (await import(join(ROOT, 'dist/src/render/canvas.js'))) as typeof import('../../src/render/canvas.js');
    const { layerRules } = (await import(join(ROOT, 'dist/src/render/layer-rules.js'))) as typeof import('../../src/render/layer-rules.js');
    const { decodeTwkb } = (await import(join(ROOT, 'dist/src/render/twkb.js'))) as typeof import('../../src/render/twkb.js');
    const { createCanvas, Path2D } = await import('@napi-rs/canvas');
    // In pixels already (as src/render/sql.ts sends them): 1,600 small polygons (sub-pixel to 7 px, some
    // with a hole), a multipolygon, lines, a collection; one decimal as the map SQL sends.
    const { rows } = await db().query(`
      SELECT ST_AsTWKB(g, 1) AS g FROM (
        SELECT CASE WHEN i % 5 = 0 THEN ST_Difference(b, ST_Buffer(ST_Centroid(b), 0.4 * r, 2)) ELSE b END AS g
        FROM generate_series(0, 1599) i,
             LATERAL (SELECT 0.3 + (i % 7) * 0.55 AS r) rr,
             LATERAL (SELECT ST_Buffer(ST_MakePoint(6 + (i % 40) * 6.1, 6 + (i / 40) * 6.07), r, 2) AS b) bb
        UNION ALL SELECT 'MULTIPOLYGON(((3 250, 60 250, 60 253.3, 3 253.3, 3 250)), ((70.25 250, 90 251, 80 254.9, 70.25 250)))'::geometry
        UNION ALL SELECT ST_MakeLine(ST_MakePoint(0.5, i * 17.3), ST_MakePoint(255.5, 256 - i * 17.3)) FROM generate_series(0, 14) i
        UNION ALL SELECT 'GEOMETRYCOLLECTION(LINESTRING(10 10, 200.55 30.25), POLYGON((100 100, 140 100, 140 140, 100 100)))'::geometry
      ) s`);
    const geoms = rows.map((r) => r.g as Buffer);
    const fill = { color: '#2a6fdb', opacity: 0.5 };
    const outline = { color: '#b43c1e', opacity: 1, width: 0.6 };
    const road = { color: '#5a5a5a', opacity: 1, width: 1 };
    const style = { name: 's', rules: [{ symbolizers: [{ kind: 'polygon', fill, stroke: outline }, { kind: 'line', stroke: road }] }] };
    const map = new MapCanvas(256, 256, { color: '#ffffff', transparent: false });
    map.drawRows(geoms.map((g) => [g, ''] as [Buffer, string]), layerRules(style as never, undefined));
    const mine = map.ctx.getImageData(0, 0, 256, 256).data;

    // The reference: the same paths built call by call, painted as MapCanvas paints a rule.
    const ref = createCanvas(256, 256);
    const ctx = ref.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, 256, 256);
    const polygons = new Path2D();
    const lines = new Path2D();
    for (const g of geoms) {
      decodeTwkb(g, {
        point: () => undefined,
        moveTo: (k, x, y) => (k === 'polygon' ? polygons : lines).moveTo(x, y),
        lineTo: (k, x, y) => (k === 'polygon' ? polygons : lines).lineTo(x, y),
        closeRing: () => polygons.closePath(),
      });
    }
    ctx.lineJoin = 'round';
    ctx.lineCap = 'round';
    const stroke = (p: InstanceType<typeof Path2D>, s: typeof road) => {
      ctx.strokeStyle = s.color;
      ctx.lineWidth = s.width;
      ctx.stroke(p);
    };
    ctx.fillStyle = 'rgba(42, 111, 219, 0.5)';
    ctx.fill(polygons, 'nonzero');
    stroke(polygons, outline);
    stroke(lines, road);
    stroke(polygons, road);
    const theirs = ctx.getImageData(0, 0, 256, 256).data;

    let differing = 0;
    let max = 0;
    let painted = 0;
    for (let i = 0; i < mine.length; i += 4) {
      let d = 0;
      for (let k = 0; k < 4; k++) d = Math.max(d, Math.abs(mine[i + k]! - theirs[i + k]!));
      if (d) differing++;
      max = Math.max(max, d);
      if (theirs[i] !== 255 || theirs[i + 1] !== 255 || theirs[i + 2] !== 255) painted++;
    }
    expect(painted).toBeGreaterThan(20_000); // the scene is drawn, not blank
    expect(differing).toBeLessThan(mine.length / 4 / 200); // under 0.5 % of the pixels…
    expect(max).toBeLessThanOrEqual(8); // …by a rounding of float32 coordinates at most
  });
});
