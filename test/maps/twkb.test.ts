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
