/**
 * The catalogue search statements of src/records/sql.ts agree with each other: a first search expected to match
 * few records is counted and paged in one statement (countAndFewMatchesPageSql, issue 12), and must give the
 * count of countSql and the rows, in order, of pageSql (OGC 07-006r1 §10.8.4.4: numberOfRecordsMatched exact,
 * records from startPosition in the requested sort order), including a page past the end (none, count kept).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '../helpers.js';
import { PositionalBinder } from '../../src/db/binder.js';
import { countAndFewMatchesPageSql, countSql, pageSql } from '../../src/records/sql.js';
import { loadFixtures } from './setup.js';

beforeAll(async () => {
  await loadFixtures();
});

const WHERES = ['TRUE', 'FALSE', `r.anytext_tsv @@ to_tsquery('sdi.french_unaccent', 'cadastr:*')`, `r.type = 'service'`, `r.bbox IS NOT NULL`];
const ORDERS = ['r.identifier ASC', 'lower(r.title) DESC, r.identifier ASC'];
const COLUMNS = 'r.identifier, r.title, ST_XMin(r.bbox) AS minx';

describe('count and page in one statement', () => {
  it('gives the count and the page of the two-statement path, for every start, order and filter', async () => {
    for (const where of WHERES) {
      const n = (await db().query<{ n: number }>(countSql(where))).rows[0]!.n;
      for (const order of ORDERS) {
        for (const offset of [0, 1, 3, n - 1, n, n + 5].filter((o) => o >= 0)) {
          const two = new PositionalBinder();
          const expected = (await db().query(pageSql(COLUMNS, where, order, two, 3, { offset }), two.values)).rows;
          const one = new PositionalBinder();
          const got = (await db().query(countAndFewMatchesPageSql(COLUMNS, where, order, one, 3, offset), one.values)).rows;
          expect(got.length).toBeGreaterThanOrEqual(1);
          expect(got[0].__n).toBe(n);
          const rows = got.filter((r) => r.__in !== null).map(({ __n: _n, __in: _i, ...rest }) => rest);
          expect(rows, `${where} / ${order} / ${offset}`).toEqual(expected);
        }
      }
    }
  });
});
