/**
 * The narrow search table (migrations/0034_record_search.sql, issue 12) follows every write of the catalogue
 * (its statement triggers), and a search counted or paged through it gives what the wide table gives
 * (OGC 07-006r1 §10.8.4.4: numberOfRecordsMatched exact; records from startPosition in the requested order),
 * the records of restricted resources left out on this path too (issue 11).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { PoolClient } from 'pg';
import { db } from '../helpers.js';
import { loadFixtures, searchTableDrift } from './setup.js';
import { parseRecord } from '../../src/metadata/store.js';
import { withCrsFacts } from '../../src/crs/facts.js';
import { datasetRecordXml } from '../../src/metadata/layer-records.js';
import { loadConfig } from '../../src/config/index.js';
import { CrsRegistry } from '../../src/crs/registry.js';
import { planSearch, type SortKey } from '../../src/record-search/plan.js';
import { deleteMatching, deleteRecord, searchRecords, setHarvestOrigin, upsertRecord } from '../../src/records/repository.js';
import { countSql, pageSql, readsSearchColumnsOnly, SEARCH_TABLE } from '../../src/records/sql.js';
import type { Filter } from '../../src/filter/ast.js';

const crs = CrsRegistry.fromCodes([2154, 4326, 3857], [2154, 4326, 3857]);
const PREFIX = 'sdi-test-search-table-';

beforeAll(async () => {
  await loadFixtures();
});

/** A transaction rolled back whatever happens: the suite's catalogue is left as found. */
async function rolledBack(fn: (c: PoolClient) => Promise<void>): Promise<void> {
  const c = await db().connect();
  try {
    await c.query('BEGIN');
    await fn(c);
  } finally {
    await c.query('ROLLBACK').catch(() => undefined);
    c.release();
  }
}

const record = async (id: string, title: string, bbox = { west: 1.1, east: 2.2, south: 47.1, north: 48.2 }) =>
  withCrsFacts(() =>
    parseRecord(
      datasetRecordXml(loadConfig(), {
        identifier: id,
        layerName: 'search_table_test',
        title,
        abstract: 'Fiche de test du cadastre, table de recherche',
        keywords: ['test'],
        srid: 2154,
        dateStamp: '2026-01-02T03:04:05Z',
        created: '2026-01-01',
        bbox,
      }),
    ),
  );

describe('the search table follows the records', () => {
  it('is in step with the records after the fixtures load', async () => {
    expect(await searchTableDrift()).toEqual([]);
    expect((await db().query(`SELECT count(*)::int AS n FROM ${SEARCH_TABLE}`)).rows[0].n).toBeGreaterThan(5);
  });

  it('follows inserts, updates (CSW-T replace, a harvest origin), deletes by identifier and by constraint, and TRUNCATE', async () => {
    await rolledBack(async (c) => {
      const a = await upsertRecord(c, await record(`${PREFIX}a`, 'Parcelles du cadastre A'));
      await upsertRecord(c, await record(`${PREFIX}b`, 'Parcelles B'));
      expect(a.outcome).toBe('created');
      expect(await searchTableDrift(c)).toEqual([]);
      // a replace (CSW-T Update, a harvested record whose dateStamp moved): new words, new footprint
      const moved = await upsertRecord(c, await record(`${PREFIX}a`, 'Réseau hydrographique', { west: -3, east: -2, south: 47.5, north: 48 }));
      expect(moved).toEqual({ id: a.id, outcome: 'updated' });
      const row = (await c.query(`SELECT ST_XMin(bbox) AS w, anytext_tsv @@ sdi.anytext_query('hydrographique') AS hydro FROM ${SEARCH_TABLE} WHERE id = $1`, [a.id])).rows[0];
      expect(row).toEqual({ w: -3, hydro: true });
      // what a harvest writes after the upsert: the source and remote id
      const source = (await c.query(`INSERT INTO sdi.harvest_sources (name, kind, url) VALUES ('search-table-test', 'csw', 'http://example.test/csw') RETURNING id`)).rows[0].id;
      await setHarvestOrigin(c, a.id, { sourceId: source, remoteId: 'remote-a' });
      expect((await c.query(`SELECT source_id::int AS s FROM ${SEARCH_TABLE} WHERE id = $1`, [a.id])).rows[0].s).toBe(Number(source));
      expect(await searchTableDrift(c)).toEqual([]);
      expect(await deleteRecord(c, `${PREFIX}a`)).toBe(true);
      expect(await searchTableDrift(c)).toEqual([]);
      const q = planSearch({ constraint: { kind: 'like', expr: { kind: 'property', name: 'dc:identifier' }, pattern: `${PREFIX}%`, matchCase: true }, crs });
      expect(await deleteMatching(c, q.where, q.params)).toBe(1);
      expect(await searchTableDrift(c)).toEqual([]);
      expect((await c.query(`SELECT count(*)::int AS n FROM ${SEARCH_TABLE} WHERE identifier LIKE $1`, [`${PREFIX}%`])).rows[0].n).toBe(0);
    });
    // (alone in its transaction: TRUNCATE refuses a table with deferred trigger events pending, the revision's)
    await rolledBack(async (c) => {
      await c.query('TRUNCATE sdi.metadata_records CASCADE');
      expect((await c.query(`SELECT count(*)::int AS n FROM ${SEARCH_TABLE}`)).rows[0].n).toBe(0);
    });
    expect(await searchTableDrift()).toEqual([]);
  });
});

const like = (name: string, pattern: string): Filter => ({ kind: 'like', expr: { kind: 'property', name }, pattern, matchCase: false });
const eq = (name: string, value: string): Filter => ({ kind: 'compare', op: '=', left: { kind: 'property', name }, right: { kind: 'literal', value }, matchCase: true });
const box = (minx: number, miny: number, maxx: number, maxy: number): Filter => ({ kind: 'bbox', envelope: { minx, miny, maxx, maxy, srid: 4326 } });
const FILTERS: Array<[string, Filter | undefined, boolean]> = [
  ['no constraint', undefined, true],
  ['AnyText like cadastre', like('csw:AnyText', '%cadastre%'), true],
  ['AnyText = commune', eq('csw:AnyText', 'commune'), true],
  ['AnyText of stop words only (the substring fallback)', eq('csw:AnyText', 'de la'), true],
  ['AnyText + BBOX', { kind: 'and', operands: [like('csw:AnyText', '%commune%'), box(0, 46, 3.2, 49)] }, true],
  ['BBOX', box(1, 47, 2, 48), true],
  ['type', { kind: 'or', operands: [eq('apiso:type', 'dataset'), eq('apiso:type', 'service')] }, true],
  ['NOT AnyText', { kind: 'not', operand: like('csw:AnyText', 'route') }, true],
  ['modified after', { kind: 'compare', op: '>', left: { kind: 'property', name: 'dct:modified' }, right: { kind: 'literal', value: '2015-01-01' }, matchCase: true }, true],
  ['title (wide table only)', like('dc:title', '%commune%'), false],
];
const SORTS: SortKey[][] = [[], [{ name: 'dct:modified', descending: true }], [{ name: 'dc:title', descending: false }]];

describe('a search through the search table', () => {
  it('reads the narrow table only for predicates over its columns', () => {
    for (const [name, f, narrow] of FILTERS) expect(readsSearchColumnsOnly(planSearch({ ...(f ? { constraint: f } : {}), crs }).where), name).toBe(narrow);
    expect(readsSearchColumnsOnly('r.anytext_tsv @@ x AND r.title = $1')).toBe(false);
    expect(readsSearchColumnsOnly('row_to_json(r) IS NOT NULL')).toBe(false);
  });

  it('counts and pages as the wide table does, for every filter, order, start and hidden set', async () => {
    const all = (await db().query<{ id: string }>('SELECT id::text AS id FROM sdi.metadata_records ORDER BY identifier')).rows.map((r) => r.id);
    const hiddenSets = [[], all.filter((_, i) => i % 3 === 0)];
    for (const [name, f] of FILTERS) {
      for (const sortBy of SORTS) {
        for (const hiddenRecords of hiddenSets) {
          const plan = () => planSearch({ ...(f ? { constraint: f } : {}), sortBy, hiddenRecords, crs });
          const q = plan();
          const wide = (await db().query<{ n: number }>(countSql(q.where), q.params.values)).rows[0]!.n;
          const label = `${name} / ${JSON.stringify(sortBy)} / ${hiddenRecords.length} hidden`;
          if (readsSearchColumnsOnly(q.where)) expect((await db().query<{ n: number }>(countSql(q.where, SEARCH_TABLE), q.params.values)).rows[0]!.n, label).toBe(wide);
          for (const start of [1, 2, 5, wide, wide + 1]) {
            const p = plan();
            const expected = (await db().query<{ identifier: string }>(pageSql('r.identifier', p.where, p.order, p.params, 4, { offset: start - 1 }), p.params.values)).rows.map((r) => r.identifier);
            await rolledBack(async (c) => {
              await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
              const got = await searchRecords<{ identifier: string }>(c, plan(), { startPosition: start, maxRecords: 4, columns: 'r.identifier' }, { cache: false });
              expect(got.matched, label).toBe(wide);
              expect(got.rows.map((r) => r.identifier), `${label} / start ${start}`).toEqual(expected);
            });
          }
          if (hiddenRecords.length) {
            const seen = await searchRecords<{ id: string; identifier: string }>(db(), plan(), { startPosition: 1, maxRecords: 1000, columns: 'r.id::text AS id, r.identifier' }, { cache: false });
            expect(seen.rows.filter((r) => hiddenRecords.includes(r.id)), label).toEqual([]);
          }
        }
      }
    }
  });
});
