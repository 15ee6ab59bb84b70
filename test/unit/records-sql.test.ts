/**
 * The catalogue repository's statements without a server (issue 8, "a catalogue repository"): every value
 * is a placeholder appended after the search predicate's own, seek paging reads after an identifier instead of
 * skipping rows, and the upsert statement takes the same parameters for one record as for a batch.
 */
import { describe, expect, it } from 'vitest';
import { PositionalBinder } from '../../src/db/binder.js';
import { emptyRecord } from '../../src/records/record.js';
import { byIdentifiersSql, countSql, deleteWhereSql, domainValuesSql, fewMatchesPageSql, pageSql, recordIdentifierOf, recordRowJson, recordsBatchJson, upsertStatement } from '../../src/records/sql.js';

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
  it('one statement text for any number of records (one JSON parameter), unchanged documents left alone', () => {
    const sql = upsertStatement();
    expect(sql).toContain('json_to_recordset($1::json)');
    expect(sql).not.toContain('$2');
    expect(sql).toContain('WHERE m.document IS DISTINCT FROM EXCLUDED.document');
    expect(upsertStatement(true)).not.toContain('IS DISTINCT FROM EXCLUDED.document');
  });

  it('a record is a JSON object of its columns and box corners; a batch is their array', () => {
    const r = emptyRecord('fr-45-1', 'iso19139', '<x/>');
    r.boxes = [{ west: 170, south: -10, east: -170, north: 10 }];
    r.parties = [{ organisation: 'DDT 45', scope: 'resource' }];
    const row = JSON.parse(recordRowJson(r)) as Record<string, unknown>;
    expect(row.identifier).toBe('fr-45-1');
    // jsonb columns are JSON values, not strings holding JSON
    expect(row.parties).toEqual([{ organisation: 'DDT 45', scope: 'resource' }]);
    // An antimeridian-crossing box is stored as two envelopes (west, south, east, north corner arrays).
    expect([row.w, row.s, row.e, row.n]).toEqual([[170, -180], [-10, -10], [180, -170], [10, 10]]);
    expect(JSON.parse(recordsBatchJson([recordRowJson(r), recordRowJson(r)]))).toHaveLength(2);
  });
});
