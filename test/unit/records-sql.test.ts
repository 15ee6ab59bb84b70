/**
 * The catalogue repository's statements without a server (issue 8, "a catalogue repository"): every value
 * is a placeholder appended after the search predicate's own, seek paging reads after an identifier instead of
 * skipping rows, and the upsert statement takes the same parameters for one record as for a batch.
 */
import { describe, expect, it } from 'vitest';
import { PositionalBinder } from '../../src/db/binder.js';
import { emptyRecord } from '../../src/records/record.js';
import { byIdentifiersSql, countSql, deleteWhereSql, domainValuesSql, fewMatchesPageSql, pageSql, recordIdentifierOf, recordRow, textArrayBinary, upsertParams, upsertStatement } from '../../src/records/sql.js';

/** A predicate as the CSW compiler hands it over: its values already bound. */
function predicate(): { where: string; params: PositionalBinder } {
  const params = new PositionalBinder();
  const where = `r.title ILIKE ${params.add('%eau%', 'text')}`;
  return { where, params };
}

describe('search statements', () => {
  it('count and offset page share the predicate; limit and offset come after its values', () => {
    const { where, params } = predicate();
    expect(countSql(where)).toBe('SELECT count(*)::int AS n FROM sdi.metadata_records r WHERE r.title ILIKE $1::text');
    const sql = pageSql('r.identifier', where, 'r.identifier ASC', params, 10, { offset: 20 });
    expect(sql).toBe('SELECT r.identifier FROM sdi.metadata_records r WHERE r.title ILIKE $1::text ORDER BY r.identifier ASC LIMIT $2::integer OFFSET $3::integer');
    expect(params.values).toEqual(['%eau%', 10, 20]);
  });

  it('seek paging reads after the last identifier on the index, without OFFSET', () => {
    const { where, params } = predicate();
    const sql = pageSql('r.identifier', where, 'r.identifier ASC', params, 10, { after: 'fr-45-0042' });
    expect(sql).toBe('SELECT r.identifier FROM sdi.metadata_records r WHERE (r.title ILIKE $1::text) AND r.identifier > $2::text ORDER BY r.identifier ASC LIMIT $3::integer');
    expect(sql).not.toContain('OFFSET');
    expect(params.values).toEqual(['%eau%', 'fr-45-0042', 10]);
  });

  it('a page of few matches is sorted from the matches the predicate alone selects (issue 12, first-seen searches)', () => {
    const { where, params } = predicate();
    const sql = fewMatchesPageSql('r.identifier', where, 'r.identifier ASC', params, 10, 20);
    expect(sql).toBe(
      'WITH m AS MATERIALIZED (SELECT r.* FROM sdi.metadata_records r WHERE r.title ILIKE $1::text) SELECT r.identifier FROM m r ORDER BY r.identifier ASC LIMIT $2::integer OFFSET $3::integer',
    );
    expect(params.values).toEqual(['%eau%', 10, 20]);
  });

  it('records by identifier keep the order asked (CSW 2.0.2 GetRecordById)', () => {
    expect(byIdentifiersSql('r.identifier')).toContain('ORDER BY array_position($1::text[], r.identifier)');
    expect(byIdentifiersSql('r.identifier')).toContain('r.identifier = ANY($1::text[])');
  });

  it('domain values: array queryables unnested, scalar ones non-empty, a bounded list', () => {
    expect(domainValuesSql('r.keywords', true, 1000)).toBe('SELECT DISTINCT v::text AS v FROM sdi.metadata_records r, unnest(r.keywords) v WHERE v IS NOT NULL AND NOT (r.id = ANY($1::bigint[])) ORDER BY 1 LIMIT 1000');
    expect(domainValuesSql('r.type', false, 5)).toBe(`SELECT DISTINCT (r.type)::text AS v FROM sdi.metadata_records r WHERE r.type IS NOT NULL AND (r.type)::text <> '' AND NOT (r.id = ANY($1::bigint[])) ORDER BY 1 LIMIT 5`);
    expect(() => domainValuesSql('r.type', false, 0)).toThrow();
  });

  it('delete by the same predicate as a search (CSW-T Delete)', () => {
    expect(deleteWhereSql('r.title ILIKE $1::text')).toBe('DELETE FROM sdi.metadata_records r WHERE r.title ILIKE $1::text');
  });

  it('the record identifier for a layer or raster row is a scalar sub-select on the record id', () => {
    expect(recordIdentifierOf('l.metadata_record_id')).toBe('(SELECT m.identifier FROM sdi.metadata_records m WHERE m.id = l.metadata_record_id)');
  });
});

describe('upsert statement', () => {
  it('one statement text for any number of records (one JSON parameter, one text[] per long column), unchanged documents left alone', () => {
    const sql = upsertStatement();
    expect(sql).toContain('json_to_recordset($1::json)');
    expect(sql).toContain('unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::text[])');
    expect(sql).not.toContain('$6');
    expect(sql).toContain('WHERE m.document IS DISTINCT FROM EXCLUDED.document');
    expect(upsertStatement(true)).not.toContain('IS DISTINCT FROM EXCLUDED.document');
  });

  it('a record is a JSON object of its short columns and box corners, and its long texts; a batch is their arrays', () => {
    const r = emptyRecord('fr-45-1', 'iso19139', '<x/>');
    r.boxes = [{ west: 170, south: -10, east: -170, north: 10 }];
    r.parties = [{ organisation: 'DDT 45', scope: 'resource' }];
    r.anytext = 'fr-45-1';
    const rr = recordRow(r);
    const row = JSON.parse(rr.json) as Record<string, unknown>;
    expect(row.identifier).toBe('fr-45-1');
    expect(row.document).toBeUndefined();
    expect(rr.long).toEqual(['<x/>', null, null, 'fr-45-1']);
    // jsonb columns are JSON values, not strings holding JSON
    expect(row.parties).toEqual([{ organisation: 'DDT 45', scope: 'resource' }]);
    // An antimeridian-crossing box is stored as two envelopes (west, south, east, north corner arrays).
    expect([row.w, row.s, row.e, row.n]).toEqual([[170, -180], [-10, -10], [180, -170], [10, 10]]);
    const params = upsertParams([rr, rr]);
    expect(JSON.parse(params[0] as string)).toHaveLength(2);
    expect(params.slice(1)).toEqual([['<x/>', '<x/>'], [null, null], [null, null], ['fr-45-1', 'fr-45-1']]);
  });

  it('refuses a long text with an unpaired surrogate (UTF-8 cannot carry it)', () => {
    const r = emptyRecord('fr-45-2', 'iso19139', '<x>\ud800</x>');
    expect(() => recordRow(r)).toThrow(/unpaired surrogate/);
  });

  it('a text[] in binary format: header (1 dimension, NULL flag, oid 25, size, lower bound 1), then length-prefixed UTF-8', () => {
    const b = textArrayBinary(['é', null, '']);
    expect([0, 4, 8, 12, 16].map((o) => b.readInt32BE(o))).toEqual([1, 1, 25, 3, 1]);
    expect(b.readInt32BE(20)).toBe(2);
    expect(b.subarray(24, 26).toString('utf8')).toBe('é');
    expect([b.readInt32BE(26), b.readInt32BE(30)]).toEqual([-1, 0]);
    expect(b.length).toBe(34);
    expect(b.buffer.byteLength).toBe(34); // its own memory: transferable between threads
  });
});
