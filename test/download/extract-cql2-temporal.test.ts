/**
 * CQL2 temporal functions (OGC 21-065 /req/temporal-functions) on a feature layer's date property, through the
 * download service's CQL2 attribute filter (the one feature path that reads CQL2 text): the exact feature count
 * of the estimate equals the same selection written in SQL on PostGIS (communes_points, date column date_maj).
 * The predicates become the FES temporal node the layer compiler already evaluates (src/filter/cql2-predicates.ts).
 */
import { describe, expect, it } from 'vitest';
import { baseUrl, db } from '../helpers.js';

const count = async (where: string) => Number((await db().query(`SELECT count(*) FROM data.communes_points WHERE ${where}`)).rows[0].count);

async function estimated(filter: string): Promise<number> {
  const r = await fetch(`${baseUrl()}/download/estimate?layer=communes_points&format=geojson&filter=${encodeURIComponent(filter)}`);
  const body = await r.text();
  expect(r.status, body.slice(0, 300)).toBe(200);
  return (JSON.parse(body) as { features: number }).features;
}

describe('CQL2 temporal functions on a date column (download filter)', () => {
  it('/req/temporal-functions: T_AFTER, T_BEFORE, T_DURING, T_INTERSECTS, T_DISJOINT, T_EQUALS select what PostgreSQL selects', async () => {
    const cases: Array<[string, string]> = [
      ["T_AFTER(date_maj, DATE('2024-06-30'))", "date_maj > '2024-06-30'"],
      ["T_BEFORE(date_maj, DATE('2019-03-01'))", "date_maj < '2019-03-01'"],
      ["T_DURING(date_maj, INTERVAL('2020-01-01', '2020-12-31'))", "date_maj > '2020-01-01' AND date_maj < '2020-12-31'"],
      ["T_INTERSECTS(date_maj, INTERVAL('2020-01-01', '..'))", "date_maj >= '2020-01-01'"],
      ["T_DISJOINT(date_maj, INTERVAL('2020-01-01', '2023-12-31'))", "date_maj < '2020-01-01' OR date_maj > '2023-12-31'"],
      ["T_EQUALS(date_maj, DATE('2019-01-02'))", "date_maj = '2019-01-02'"],
      // A timestamp on a date property: its UTC day.
      ["T_AFTER(date_maj, TIMESTAMP('2024-06-30T12:00:00Z'))", "date_maj > '2024-06-30'"],
    ];
    let nonEmpty = 0;
    for (const [filter, where] of cases) {
      const want = await count(where);
      if (want > 0) nonEmpty++;
      expect(await estimated(filter), `${filter} ~ ${where}`).toBe(want);
    }
    expect(nonEmpty).toBeGreaterThan(3);
  });

  it('a temporal predicate on a property that is not a date, or an array predicate, is a 400 naming the filter', async () => {
    for (const filter of ["T_AFTER(nom, DATE('2020-01-01'))", "A_CONTAINS(nom, ('x'))"]) {
      const r = await fetch(`${baseUrl()}/download/estimate?layer=communes_points&format=geojson&filter=${encodeURIComponent(filter)}`);
      const body = await r.text();
      expect(r.status, body.slice(0, 300)).toBe(400);
      expect(body).not.toMatch(/SELECT |ST_\w+\(/);
    }
  });
});
