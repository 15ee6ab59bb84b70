/**
 * The paging caches (services/catalogue/csw/page-cache.ts) never change an answer: numberOfRecordsMatched
 * follows every committed write (the catalogue revision moves once per writing transaction, at commit), a
 * sequential harvest resumed after the last identifier gives exactly the pages OFFSET gives, also when the
 * catalogue changes between two pages; and the bulk loader (`cli.js records-load`) stores rows identical to
 * the one-by-one loader's.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { db, ROOT } from '../helpers.js';
import { CSW, FIXTURES, VARIANT, allIdentifiers, loadFixtures, postCsw, recordIds, searchResults } from './setup.js';
import { loadRecordsFromDirectory, parseRecord } from '../../src/metadata/store.js';
import { deleteRecord, upsertRecord } from '../../src/records/repository.js';

const TEMP_IDS = ['0000-page-cache-test-a', 'zzzz-page-cache-test-b'];

beforeAll(async () => {
  expect((await loadFixtures()).failed).toEqual([]);
});
afterAll(async () => {
  for (const id of TEMP_IDS) await deleteRecord(db(), id);
});

const revision = async () => Number((await db().query<{ revision: string }>('SELECT revision FROM sdi.catalogue_revision')).rows[0]!.revision);

/** data.gouv.fr's csw-iso-19139 request (apiso:type filter, SortBy apiso:identifier), brief ISO records. */
const udata = (start: number, n: number) =>
  `<csw:GetRecords xmlns:csw="${CSW}" xmlns:ogc="http://www.opengis.net/ogc" xmlns:apiso="http://www.opengis.net/cat/csw/apiso/1.0" service="CSW" version="2.0.2" resultType="results" startPosition="${start}" maxRecords="${n}" outputSchema="http://www.isotc211.org/2005/gmd">` +
  `<csw:Query typeNames="gmd:MD_Metadata" xmlns:gmd="http://www.isotc211.org/2005/gmd"><csw:ElementSetName>brief</csw:ElementSetName><csw:Constraint version="1.1.0"><ogc:Filter><ogc:Or>` +
  ['dataset', 'nonGeographicDataset', 'series', 'service'].map((t) => `<ogc:PropertyIsEqualTo><ogc:PropertyName>apiso:type</ogc:PropertyName><ogc:Literal>${t}</ogc:Literal></ogc:PropertyIsEqualTo>`).join('') +
  `</ogc:Or></ogc:Filter></csw:Constraint><ogc:SortBy><ogc:SortProperty><ogc:PropertyName>apiso:identifier</ogc:PropertyName><ogc:SortOrder>ASC</ogc:SortOrder></ogc:SortProperty></ogc:SortBy></csw:Query></csw:GetRecords>`;
const TYPES = `type IN ('dataset', 'nonGeographicDataset', 'series', 'service')`;

const anyTextHits = async (word: string) => {
  const r = await postCsw(
    `<csw:GetRecords xmlns:csw="${CSW}" xmlns:ogc="http://www.opengis.net/ogc" service="CSW" version="2.0.2" resultType="hits"><csw:Query typeNames="csw:Record"><csw:Constraint version="1.1.0"><ogc:Filter><ogc:PropertyIsLike wildCard="%" singleChar="_" escapeChar="\\"><ogc:PropertyName>csw:AnyText</ogc:PropertyName><ogc:Literal>%${word}%</ogc:Literal></ogc:PropertyIsLike></ogc:Filter></csw:Constraint></csw:Query></csw:GetRecords>`,
  );
  expect(r.status, r.body.slice(0, 300)).toBe(200);
  return searchResults(r.body).matched;
};

/** A copy of a fixture under another identifier (and a word of our own in its title). */
function variantOf(file: string, identifier: string, word: string) {
  const text = readFileSync(join(FIXTURES, file), 'utf8');
  const doc = text
    .replace(/(<gmd:fileIdentifier>\s*<gco:CharacterString>)[^<]+/, `$1${identifier}`)
    .replace(/(<gmd:title>\s*<gco:CharacterString>)/, `$1${word} `);
  return parseRecord(doc);
}
const FIXTURE = readdirSync(FIXTURES).filter((f) => f.endsWith('.xml') && f !== VARIANT).sort()[0]!;

describe('catalogue revision', () => {
  it('moves once per committed writing transaction, not for a rolled-back one, not for reads', async () => {
    const r0 = await revision();
    await anyTextHits('cadastre');
    expect(await revision()).toBe(r0);
    const c = await db().connect();
    try {
      await c.query('BEGIN');
      await upsertRecord(c, variantOf(FIXTURE, TEMP_IDS[0]!, 'pagecachezebu'));
      await upsertRecord(c, variantOf(FIXTURE, TEMP_IDS[1]!, 'pagecachezebu'));
      await c.query('ROLLBACK');
      expect(await revision()).toBe(r0);
      await c.query('BEGIN');
      await upsertRecord(c, variantOf(FIXTURE, TEMP_IDS[0]!, 'pagecachezebu'));
      await upsertRecord(c, variantOf(FIXTURE, TEMP_IDS[1]!, 'pagecachezebu'));
      expect(await revision(), 'not before the commit').toBe(r0);
      await c.query('COMMIT');
    } finally {
      c.release();
    }
    expect(await revision()).toBe(r0 + 1);
    for (const id of TEMP_IDS) await deleteRecord(db(), id);
    expect(await revision()).toBe(r0 + 3);
  });
});

describe('numberOfRecordsMatched stays exact with the count cache', () => {
  it('follows inserts, updates and deletes between identical requests', async () => {
    const base = await anyTextHits('pagecachezebu');
    expect(base).toBe(0);
    expect(await anyTextHits('pagecachezebu')).toBe(0);
    await upsertRecord(db(), variantOf(FIXTURE, TEMP_IDS[0]!, 'pagecachezebu'));
    expect(await anyTextHits('pagecachezebu')).toBe(1);
    await upsertRecord(db(), variantOf(FIXTURE, TEMP_IDS[1]!, 'pagecachezebu'));
    expect(await anyTextHits('pagecachezebu')).toBe(2);
    // an update that removes the word
    await upsertRecord(db(), variantOf(FIXTURE, TEMP_IDS[1]!, 'autre'));
    expect(await anyTextHits('pagecachezebu')).toBe(1);
    await deleteRecord(db(), TEMP_IDS[0]!);
    expect(await anyTextHits('pagecachezebu')).toBe(0);
    await deleteRecord(db(), TEMP_IDS[1]!);
  });
});

describe('a repeated page read by its identifiers (page cache)', () => {
  /** AnyText search, DC summary, sorted by identifier in `dir` (OGC 07-006r1 §10.8.4.4: startPosition, maxRecords, SortBy). */
  const search = async (word: string, start: number, n: number, dir: 'ASC' | 'DESC') => {
    const r = await postCsw(
      `<csw:GetRecords xmlns:csw="${CSW}" xmlns:ogc="http://www.opengis.net/ogc" service="CSW" version="2.0.2" resultType="results" startPosition="${start}" maxRecords="${n}"><csw:Query typeNames="csw:Record"><csw:ElementSetName>summary</csw:ElementSetName><csw:Constraint version="1.1.0"><ogc:Filter><ogc:PropertyIsLike wildCard="%" singleChar="_" escapeChar="\\"><ogc:PropertyName>csw:AnyText</ogc:PropertyName><ogc:Literal>%${word}%</ogc:Literal></ogc:PropertyIsLike></ogc:Filter></csw:Constraint>` +
        `<ogc:SortBy><ogc:SortProperty><ogc:PropertyName>dc:identifier</ogc:PropertyName><ogc:SortOrder>${dir}</ogc:SortOrder></ogc:SortProperty></ogc:SortBy></csw:Query></csw:GetRecords>`,
    );
    expect(r.status, r.body.slice(0, 300)).toBe(200);
    // the response without its timestamp: the same page must be the same bytes
    return { ...searchResults(r.body), ids: recordIds(r.body), body: r.body.replace(/timestamp="[^"]*"/, '') };
  };

  it('§10.8.4.4: the same records in the same order as the first time, for each order and start; a write gives the new page', async () => {
    const [a, b] = TEMP_IDS as [string, string];
    await upsertRecord(db(), variantOf(FIXTURE, a, 'pagecacheokapi'));
    await upsertRecord(db(), variantOf(FIXTURE, b, 'pagecacheokapi'));
    try {
      for (const [dir, ids] of [['ASC', [a, b]], ['DESC', [b, a]]] as const) {
        const first = await search('pagecacheokapi', 1, 10, dir);
        expect(first.ids).toEqual(ids);
        expect(first.matched).toBe(2);
        const again = await search('pagecacheokapi', 1, 10, dir);
        expect(again.body).toBe(first.body);
        // the second record alone, twice
        for (let i = 0; i < 2; i++) expect((await search('pagecacheokapi', 2, 1, dir)).ids).toEqual([ids[1]]);
      }
      // a record loses the word: the revision moves, the cached page is not served
      await upsertRecord(db(), variantOf(FIXTURE, b, 'autre'));
      const after = await search('pagecacheokapi', 1, 10, 'ASC');
      expect(after.ids).toEqual([a]);
      expect(after.matched).toBe(1);
      expect((await search('pagecacheokapi', 2, 1, 'ASC')).ids).toEqual([]);
    } finally {
      for (const id of TEMP_IDS) await deleteRecord(db(), id);
    }
  });
});

describe('sequential harvest resumed after the last identifier', () => {
  const page = async (start: number, n: number) => {
    const r = await postCsw(udata(start, n));
    expect(r.status, r.body.slice(0, 300)).toBe(200);
    return { ...searchResults(r.body), ids: recordIds(r.body) };
  };
  /** What OFFSET paging gives in the current state (the reference). */
  const expectedPage = async (start: number, n: number) => (await allIdentifiers(TYPES)).slice(start - 1, start - 1 + n);

  it('gives the OFFSET pages, twice in a row (second time from the caches)', async () => {
    const all = await allIdentifiers(TYPES);
    for (let round = 0; round < 2; round++) {
      const got: string[] = [];
      for (let start = 1; start !== 0; ) {
        const p = await page(start, 3);
        expect(p.matched).toBe(all.length);
        expect(p.ids).toEqual(all.slice(start - 1, start + 2));
        got.push(...p.ids);
        start = p.next;
      }
      expect(got).toEqual(all);
    }
  });

  it('a write between two pages: the next page is the OFFSET page of the new state, counts follow', async () => {
    const p1 = await page(1, 4);
    const p2 = await page(p1.next, 4);
    expect(p2.ids).toEqual(await expectedPage(5, 4));
    // a record sorting first shifts every position by one
    await upsertRecord(db(), variantOf(FIXTURE, TEMP_IDS[0]!, 'pagecachezebu'));
    const p3 = await page(p2.next, 4);
    expect(p3.matched).toBe(p2.matched + 1);
    expect(p3.ids).toEqual(await expectedPage(9, 4));
    expect(p3.ids[0]).toBe(p2.ids[3]);
    await deleteRecord(db(), TEMP_IDS[0]!);
    const p4 = await page(p3.next, 4);
    expect(p4.matched).toBe(p2.matched);
    expect(p4.ids).toEqual(await expectedPage(13, 4));
  });
});

describe('bulk loader (cli.js records-load)', () => {
  /** Each row of the records and of the narrow search table (record_search, kept by triggers), ids and times aside. */
  const rowsDigest = async (ids: string[]) => {
    const { rows } = await db().query<{ identifier: string; digest: string; search: string | null }>(
      `SELECT m.identifier, md5((to_jsonb(m) - 'id' - 'created_at' - 'updated_at' - 'bbox')::text || coalesce(encode(ST_AsEWKB(m.bbox), 'hex'), '-')) AS digest,
              (SELECT md5((to_jsonb(s) - 'id' - 'bbox')::text || coalesce(encode(ST_AsEWKB(s.bbox), 'hex'), '-')) FROM sdi.record_search s WHERE s.id = m.id) AS search
         FROM sdi.metadata_records m WHERE m.identifier = ANY($1) ORDER BY m.identifier`,
      [ids],
    );
    return rows;
  };
  const env = () => ({ ...process.env, DATABASE_URL: inject('databaseUrl'), LOG_LEVEL: 'warn' });
  const cli = (args: string[]) => JSON.parse(execFileSync(process.execPath, [join(ROOT, 'dist/app/cli.js'), 'records-load', '--workers', '2', '--batch', '7', ...args], { env: env(), encoding: 'utf8' }).trim().split('\n').pop()!);
  let fixtureIds: string[] = [];

  it('rewrites the fixtures (--force) into rows identical to the one-by-one loader, in parser threads', async () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.xml') && f !== VARIANT).map((f) => join(FIXTURES, f));
    fixtureIds = files.map((f) => parseRecord(readFileSync(f)).identifier);
    const before = await rowsDigest(fixtureIds);
    expect(before.length).toBe(new Set(fixtureIds).size);
    expect(before.every((r) => r.search !== null)).toBe(true);
    const unchanged = cli(files);
    expect(unchanged).toMatchObject({ files: files.length, created: 0, updated: 0, failed: 0 });
    expect(unchanged.unchanged).toBe(files.length);
    const forced = cli(['--force', ...files]);
    expect(forced).toMatchObject({ files: files.length, created: 0, unchanged: 0, failed: 0 });
    expect(forced.updated).toBe(files.length);
    expect(await rowsDigest(fixtureIds)).toEqual(before);
  });

  it('inserts new records into rows identical to the one-by-one loader (records and record_search)', async () => {
    // The fixtures under identifiers of their own (bytes kept: some are ISO-8859-1), loaded one by one, deleted,
    // then loaded by the bulk loader (INSERT, not the ON CONFLICT update of the test above).
    const dir = mkdtempSync(join(tmpdir(), 'bulk-eq-'));
    const ids: string[] = [];
    try {
      for (const f of readdirSync(FIXTURES).filter((f) => f.endsWith('.xml') && f !== VARIANT)) {
        const text = readFileSync(join(FIXTURES, f), 'latin1');
        const id = `bulk-eq-${f.replace(/\.xml$/, '')}`;
        const doc = text.replace(/(<gmd:fileIdentifier>\s*<gco:CharacterString>)[^<]+/, `$1${id}`);
        if (doc === text) continue;
        writeFileSync(join(dir, f), doc, 'latin1');
        ids.push(id);
      }
      expect(ids.length).toBeGreaterThan(5);
      const one = await loadRecordsFromDirectory(db(), dir);
      expect(one.failed).toEqual([]);
      expect(one.created.length).toBe(ids.length);
      const expected = await rowsDigest(ids);
      expect(expected.length).toBe(ids.length);
      expect(expected.every((r) => r.search !== null)).toBe(true);
      for (const id of ids) await deleteRecord(db(), id);
      expect(cli([dir])).toMatchObject({ files: ids.length, created: ids.length, updated: 0, unchanged: 0, failed: 0 });
      expect(await rowsDigest(ids)).toEqual(expected);
    } finally {
      for (const id of ids) await deleteRecord(db(), id);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
