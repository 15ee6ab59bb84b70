/** OGC API Features Part 1 §7.15.4 datetime values: the parser (src/filter/temporal.ts), without a server. */
import { describe, expect, it } from 'vitest';
import { parseDatetime, DatetimeError } from '../../src/filter/temporal.js';

describe('parseDatetime (/req/core/fc-time-definition)', () => {
  it('instants: a date-time with offset, a date', () => {
    expect(parseDatetime('2018-02-12T23:20:50Z')).toEqual({ kind: 'temporal', start: { instant: '2018-02-12T23:20:50Z' }, end: { instant: '2018-02-12T23:20:50Z' } });
    expect(parseDatetime('2018-02-12t23:20:50.25+01:00')).toEqual({ kind: 'temporal', start: { instant: '2018-02-12T23:20:50.25+01:00' }, end: { instant: '2018-02-12T23:20:50.25+01:00' } });
    expect(parseDatetime('2018-02-12')).toEqual({ kind: 'temporal', start: { date: '2018-02-12' }, end: { date: '2018-02-12' } });
  });
  it('intervals: closed, and open with .. or nothing', () => {
    expect(parseDatetime('2018-02-12/2018-03-18T12:31:12Z')).toEqual({ kind: 'temporal', start: { date: '2018-02-12' }, end: { instant: '2018-03-18T12:31:12Z' } });
    for (const v of ['../2018-03-18', '/2018-03-18']) expect(parseDatetime(v)).toEqual({ kind: 'temporal', end: { date: '2018-03-18' } });
    for (const v of ['2018-02-12T00:00:00Z/..', '2018-02-12T00:00:00Z/']) expect(parseDatetime(v)).toEqual({ kind: 'temporal', start: { instant: '2018-02-12T00:00:00Z' } });
  });
  it('a start equal to the end, or before it across offsets, is accepted', () => {
    expect(() => parseDatetime('2018-02-12/2018-02-12')).not.toThrow();
    // 01:00+02:00 is 23:00Z the day before: before 2018-02-12T00:00Z.
    expect(() => parseDatetime('2018-02-12T01:00:00+02:00/2018-02-12T00:00:00Z')).not.toThrow();
    // A date end covers its whole day.
    expect(() => parseDatetime('2018-02-12T23:00:00Z/2018-02-12')).not.toThrow();
  });
  for (const v of ['', '..', '/', '../..', 'garbage', '2018-2-12', '2018-02-30', '2019-02-29', '0000-01-01', '2018-02-12T24:00:00Z', '2018-02-12T23:60:00Z', '2018-02-12T23:20:50', '2018-02-12T23:20:50+1:00', '2018-02-12 23:20:50Z', '2018-02-13/2018-02-12', '2018-02-12T00:00:01Z/2018-02-12T00:00:00Z', '2018-02-13T00:00:00Z/2018-02-12', 'a/b/c', `2018-02-12/${'9'.repeat(100)}`]) {
    it(`refuses '${v.slice(0, 40)}'`, () => {
      expect(() => parseDatetime(v)).toThrow(DatetimeError);
    });
  }
});
