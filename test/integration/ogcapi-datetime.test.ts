/**
 * OGC API Features Part 1 `datetime` (§7.15.4) on the demo layer with a temporal property (communes_points,
 * date column date_maj): each answer's numberMatched and feature ids compared with the same selection written
 * in SQL on PostGIS; bad values; the collection's temporal extent (§7.14.5). Then the compiled predicate itself
 * on timestamp with / without time zone and start/end columns, run on PostGIS against a temporary table.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { get, baseUrl, db } from '../helpers.js';
import { compileFilter } from '../../src/filter/compile-sql.js';
import { parseDatetime } from '../../src/filter/temporal.js';
import { PositionalBinder } from '../../src/db/binder.js';
import { CrsRegistry } from '../../src/crs/registry.js';
import type { Layer, LayerColumn } from '../../src/catalog/layers.js';

const items = (q: string) => `${baseUrl()}/ogcapi/collections/communes_points/items?${q}`;

interface Page { numberMatched: number; numberReturned: number; features: Array<{ id: number | string; properties: Record<string, unknown> }>; links: Array<{ rel: string; href: string }> }

/** Every feature id the API gives for `datetime` (and an optional bbox), following next links. */
async function apiIds(datetime: string, extra = ''): Promise<{ matched: number; ids: number[]; first: Page }> {
  let url: string | undefined = items(`limit=1000&datetime=${encodeURIComponent(datetime)}${extra}`);
  const ids: number[] = [];
  let first: Page | undefined;
  while (url) {
    const r = await get(url);
    expect(r.status, r.body.slice(0, 300)).toBe(200);
    const page = JSON.parse(r.body) as Page;
    first ??= page;
    ids.push(...page.features.map((f) => Number(f.id)));
    url = page.links.find((l) => l.rel === 'next')?.href;
  }
  return { matched: first!.numberMatched, ids: ids.sort((a, b) => a - b), first: first! };
}

async function sqlIds(where: string, params: unknown[] = []): Promise<number[]> {
  const { rows } = await db().query<{ fid: number }>(`SELECT fid FROM data.communes_points WHERE ${where} ORDER BY fid`, params);
  return rows.map((r) => Number(r.fid));
}

async function expectSame(datetime: string, where: string, params: unknown[] = []): Promise<number[]> {
  const want = await sqlIds(where, params);
  const got = await apiIds(datetime);
  expect(got.matched, `numberMatched for datetime=${datetime}`).toBe(want.length);
  expect(got.ids).toEqual(want);
  return want;
}

/** A day with several features, and its neighbours, chosen from the data. */
let day = '';
beforeAll(async () => {
  const { rows } = await db().query<{ d: string }>(`SELECT date_maj::text AS d FROM data.communes_points WHERE date_maj IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`);
  day = rows[0]!.d;
});

describe('OGC API Features datetime on communes_points (date column date_maj)', () => {
  it('/req/core/fc-time-response: a date instant selects the features of that day', async () => {
    const ids = await expectSame(day, `date_maj = $1::date`, [day]);
    expect(ids.length).toBeGreaterThan(1);
  });

  it('/req/core/fc-time-response: a date-time instant selects the features whose date is its UTC day', async () => {
    await expectSame(`${day}T12:34:56Z`, `date_maj = $1::date`, [day]);
    // 00:30 at +02:00 is 22:30 UTC the day before.
    await expectSame(`${day}T00:30:00+02:00`, `date_maj = $1::date - 1`, [day]);
    // Lower-case t and z, fractional seconds (RFC 3339 §5.6).
    await expectSame(`${day}t23:59:59.999z`, `date_maj = $1::date`, [day]);
  });

  it('/req/core/fc-time-response: a closed interval of dates includes both days', async () => {
    const ids = await expectSame('2020-01-01/2020-12-31', `date_maj BETWEEN '2020-01-01' AND '2020-12-31'`);
    expect(ids.length).toBeGreaterThan(100);
  });

  it('/req/core/fc-time-response: a closed interval of date-times covers the days it meets', async () => {
    await expectSame('2020-01-01T12:00:00Z/2020-03-01T00:00:00Z', `date_maj BETWEEN '2020-01-01' AND '2020-03-01'`);
    await expectSame('2020-01-01T23:00:00-02:00/2020-03-01T00:00:00+01:00', `date_maj BETWEEN '2020-01-02' AND '2020-02-29'`);
  });

  it('/req/core/fc-time-definition: open start, ../end and /end', async () => {
    const a = await expectSame('../2019-06-30', `date_maj <= '2019-06-30'`);
    expect(a.length).toBeGreaterThan(0);
    expect(await expectSame('/2019-06-30', `date_maj <= '2019-06-30'`)).toEqual(a);
  });

  it('/req/core/fc-time-definition: open end, start/.. and start/', async () => {
    const a = await expectSame('2024-06-01/..', `date_maj >= '2024-06-01'`);
    expect(a.length).toBeGreaterThan(0);
    expect(await expectSame('2024-06-01T00:00:00Z/', `date_maj >= '2024-06-01'`)).toEqual(a);
  });

  it('/req/core/fc-time-response: features without a value never match, even a half-open interval over everything', async () => {
    const all = await expectSame('../9999-12-31', `date_maj IS NOT NULL`);
    const { rows } = await db().query(`SELECT count(*)::int AS n FROM data.communes_points`);
    expect(all.length).toBeLessThan(rows[0].n);
  });

  it('/req/core/fc-time-response: an interval without features gives an empty collection', async () => {
    const r = await apiIds('1990-01-01/1999-12-31');
    expect(r.matched).toBe(0);
    expect(r.first.numberReturned).toBe(0);
    expect(r.ids).toEqual([]);
  });

  it('/req/core/fc-bbox-response + fc-time-response: bbox and datetime both restrict the result', async () => {
    const bbox = '1.8,47.7,2.1,48.0';
    // The bbox alone (its semantics are the bbox tests' business), then both: the intersection of the two.
    const inBox = new Set<number>();
    for (let url: string | undefined = items(`limit=1000&bbox=${bbox}`); url; ) {
      const page = JSON.parse((await get(url)).body) as Page;
      for (const f of page.features) inBox.add(Number(f.id));
      url = page.links.find((l) => l.rel === 'next')?.href;
    }
    const want = (await sqlIds(`date_maj BETWEEN '2019-01-01' AND '2021-12-31'`)).filter((id) => inBox.has(id));
    const got = await apiIds('2019-01-01/2021-12-31', `&bbox=${bbox}`);
    expect(want.length).toBeGreaterThan(0);
    expect(want.length).toBeLessThan(inBox.size);
    expect(got.matched).toBe(want.length);
    expect(got.ids).toEqual(want);
  });

  it('/req/core/fc-next-1: the next link keeps datetime', async () => {
    const r = JSON.parse((await get(items('limit=5&datetime=2020-01-01/2020-12-31'))).body) as Page;
    const next = new URL(r.links.find((l) => l.rel === 'next')!.href);
    expect(next.searchParams.get('datetime')).toBe('2020-01-01/2020-12-31');
    expect(r.features.every((f) => String(f.properties.date_maj).startsWith('2020-'))).toBe(true);
  });

  for (const [what, value] of [
    ['garbage', 'garbage'],
    ['a date that does not exist', '2020-02-30'],
    ['month 13', '2020-13-01'],
    ['hour 25', '2020-01-01T25:00:00Z'],
    ['a date-time without offset', '2020-01-01T10:00:00'],
    ['a start after the end', '2021-01-01/2020-01-01'],
    ['a start instant after the end instant', '2020-01-01T10:00:01Z/2020-01-01T10:00:00Z'],
    ['both ends open ../..', '../..'],
    ['both ends empty /', '/'],
    ['an empty value', ''],
    ['.. alone', '..'],
    ['three parts', '2020-01-01/2020-02-01/2020-03-01'],
    ['a year 0', '0000-01-01'],
  ] as const) {
    it(`/req/core/query-param-invalid: datetime=${value || '(empty)'} (${what}) → 400 problem+json naming datetime`, async () => {
      const r = await get(items(`datetime=${encodeURIComponent(value)}`));
      expect(r.status, r.body.slice(0, 300)).toBe(400);
      expect(r.type).toContain('application/problem+json');
      const p = JSON.parse(r.body);
      expect(p.status).toBe(400);
      expect(p.locator).toBe('datetime');
      expect(p.detail).toMatch(/datetime/);
    });
  }

  it('a start equal to the end is an interval of one instant (not refused)', async () => {
    await expectSame(`${day}/${day}`, `date_maj = $1::date`, [day]);
  });

  it('datetime on a collection without a temporal property → 400 (never ignored)', async () => {
    const r = await get(`${baseUrl()}/ogcapi/collections/communes/items?datetime=2020-01-01`);
    expect(r.status).toBe(400);
    const p = JSON.parse(r.body);
    expect(p.locator).toBe('datetime');
    expect(p.detail).toMatch(/no temporal property/);
  });

  it('/req/core/fc-md-extent-temporal: the collection gives its temporal extent, computed in SQL, Gregorian', async () => {
    const c = JSON.parse((await get(`${baseUrl()}/ogcapi/collections/communes_points`)).body);
    const { rows } = await db().query(`SELECT min(date_maj)::text AS lo, max(date_maj)::text AS hi FROM data.communes_points`);
    expect(c.extent.temporal).toEqual({ interval: [[`${rows[0].lo}T00:00:00Z`, `${rows[0].hi}T23:59:59Z`]], trs: 'http://www.opengis.net/def/uom/ISO-8601/0/Gregorian' });
    expect(c.extent.spatial.bbox).toHaveLength(1);
    // The extent is the whole range: datetime=first/last selects every dated feature.
    const [lo, hi] = c.extent.temporal.interval[0];
    await expectSame(`${lo}/${hi}`, `date_maj IS NOT NULL`);
    const plain = JSON.parse((await get(`${baseUrl()}/ogcapi/collections/communes`)).body);
    expect(plain.extent.temporal).toBeUndefined();
    expect(plain.extent.spatial).toBeDefined();
  });

  it('OpenAPI: datetime is a parameter of the items of collections with a temporal property only', async () => {
    const d = JSON.parse((await get(`${baseUrl()}/ogcapi/api`)).body);
    const params = (c: string) => d.paths[`/collections/${c}/items`].get.parameters.map((p: { $ref: string }) => p.$ref);
    expect(params('communes_points')).toContain('#/components/parameters/datetime');
    expect(params('communes')).not.toContain('#/components/parameters/datetime');
  });
});

describe('the temporal predicate on PostGIS: timestamps with / without time zone, start and end properties', () => {
  const col = (name: string, pgType: string, kind: LayerColumn['kind']): LayerColumn => ({ name, pgType, kind });
  const d = col('d', 'date', 'date');
  const tz = col('tz', 'timestamp with time zone', 'datetime');
  const ts = col('ts', 'timestamp without time zone', 'datetime');
  const s = col('s', 'date', 'date');
  const e = col('e', 'timestamp with time zone', 'datetime');
  const layer = (temporal: Layer['temporal']): Layer =>
    ({ id: 0, name: 'dt', title: 'dt', abstract: '', keywords: [], schema: 'pg_temp', table: 'dt', idColumn: 'id', idKind: 'integer', columns: [d, tz, ts, s, e], defaultCrs: 2154, otherCrs: null, metadataRecordId: null, metadataIdentifier: null, temporal, updatedAt: new Date(0) }) as Layer;
  const crs = CrsRegistry.fromCodes([2154, 4326], [2154, 4326]);

  async function run(temporal: Layer['temporal'], datetime: string): Promise<number[]> {
    const params = new PositionalBinder();
    const where = compileFilter(parseDatetime(datetime), { layer: layer(temporal), crs, params, locator: 'datetime' });
    const c = await db().connect();
    try {
      // A session time zone far from UTC: the answers must not depend on it.
      await c.query(`SET TimeZone = 'Pacific/Auckland'`);
      await c.query(`CREATE TEMP TABLE IF NOT EXISTS dt (id int, d date, tz timestamptz, ts timestamp, s date, e timestamptz)`);
      await c.query(`TRUNCATE dt`);
      await c.query(`INSERT INTO dt VALUES
        (1, '2018-02-12', '2018-02-12T23:20:50Z', '2018-02-12 23:20:50', '2018-01-01', '2018-01-31T23:59:59Z'),
        (2, '2018-02-13', '2018-02-13T00:00:00Z', '2018-02-13 00:00:00', '2018-02-01', NULL),
        (3, '2018-02-11', '2018-02-12T00:00:00+01:00', '2018-02-11 23:00:00', '2017-06-01', '2017-12-31T00:00:00Z'),
        (4, NULL, NULL, NULL, NULL, NULL)`);
      const { rows } = await c.query<{ id: number }>(`SELECT id FROM dt t WHERE ${where} ORDER BY id`, params.values);
      return rows.map((r) => r.id);
    } finally {
      await c.query(`DROP TABLE IF EXISTS dt`).catch(() => undefined);
      await c.query('RESET TimeZone').catch(() => undefined);
      c.release();
    }
  }

  it('an instant matches a timestamp by equality, whatever offset writes it', async () => {
    expect(await run({ start: tz }, '2018-02-12T23:20:50Z')).toEqual([1]);
    expect(await run({ start: tz }, '2018-02-13T00:20:50+01:00')).toEqual([1]);
    expect(await run({ start: tz }, '2018-02-12T23:20:51Z')).toEqual([]);
    // Without time zone, stored values are UTC wall time.
    expect(await run({ start: ts }, '2018-02-13T00:20:50+01:00')).toEqual([1]);
    // A date column: the instant's UTC day.
    expect(await run({ start: d }, '2018-02-13T00:20:50+01:00')).toEqual([1]);
  });

  it('a date is the whole UTC day on timestamps', async () => {
    expect(await run({ start: tz }, '2018-02-12')).toEqual([1]);
    expect(await run({ start: ts }, '2018-02-12')).toEqual([1]);
    expect(await run({ start: tz }, '2018-02-11')).toEqual([3]);
    expect(await run({ start: tz }, '2018-02-12/2018-02-13')).toEqual([1, 2]);
  });

  it('intervals with instant ends are closed; open ends are unbounded', async () => {
    expect(await run({ start: tz }, '2018-02-12T23:20:50Z/2018-02-13T00:00:00Z')).toEqual([1, 2]);
    expect(await run({ start: tz }, '2018-02-12T23:20:51Z/..')).toEqual([2]);
    expect(await run({ start: ts }, '2018-02-12T23:20:51Z/..')).toEqual([2]);
    expect(await run({ start: d }, '2018-02-12T23:20:51Z/..')).toEqual([1, 2]);
    expect(await run({ start: tz }, '../2018-02-12T00:00:00Z')).toEqual([3]);
    expect(await run({ start: d }, '../2018-02-12T00:00:00Z')).toEqual([1, 3]);
  });

  it('with an end property, the feature interval [start, end] (NULL end: still open) must meet the requested one', async () => {
    expect(await run({ start: s, end: e }, '2018-01-15')).toEqual([1]);
    expect(await run({ start: s, end: e }, '2018-03-01/..')).toEqual([2]);
    expect(await run({ start: s, end: e }, '2030-01-01')).toEqual([2]);
    expect(await run({ start: s, end: e }, '../2017-07-01')).toEqual([3]);
    expect(await run({ start: s, end: e }, '2017-12-31T12:00:00Z/2018-01-01T00:00:00Z')).toEqual([1]);
    expect(await run({ start: s, end: e }, '2017-12-31/2018-01-01')).toEqual([1, 3]);
    expect(await run({ start: s, end: e }, '2017-01-01/2017-05-31')).toEqual([]);
  });

  it('values are bound, never written into the statement', () => {
    const params = new PositionalBinder();
    const sql = compileFilter(parseDatetime('2018-02-12T23:20:50Z/2018-03-01'), { layer: layer({ start: tz }), crs, params, locator: 'datetime' });
    expect(sql).not.toMatch(/2018/);
    // The date end covers its day: before the next day's first instant.
    expect(params.values).toEqual(['2018-03-02T00:00:00Z', '2018-02-12T23:20:50Z']);
  });
});
