/**
 * OGC API Features Part 1 `datetime` (§7.15.4, /req/core/fc-time-definition, /req/core/fc-time-response):
 * parsing into a `temporal` filter node, and its SQL over a layer's declared temporal property.
 *
 * Values: an instant, `2018-02-12T23:20:50Z` (RFC 3339 date-time, offset required) or `2018-02-12` (a date:
 * the whole day, in UTC); an interval `start/end` of two such values, both ends included; an open end is `..`
 * or empty (`../2018-03-18`, `2018-02-12/..`, `2018-02-12/`, `/2018-03-18`). Refused: anything else, a start
 * after the end, and both ends open (`../..`, `/`).
 *
 * Semantics: a feature is selected when its temporal value intersects the requested interval (an instant is
 * the interval [t, t]; a date end covers its whole UTC day):
 * - a `timestamp with time zone` value v: start ≤ v ≤ end (an instant t therefore matches v = t exactly);
 * - a `timestamp without time zone` value is read as UTC wall time, compared the same way;
 * - a `date` value d is the UTC day [d 00:00Z, d+1 00:00Z): it matches when that day meets the interval, i.e.
 *   date(start in UTC) ≤ d ≤ date(end in UTC) (an instant matches the date of its UTC day);
 * - with a declared end property the feature is the interval [p, e] (a NULL e: still open), selected when
 *   p ≤ end and e ≥ start; a NULL p never matches.
 * Every value is bound as a parameter; only the constant 'UTC' and the casts are written in the statement.
 */
import type { Filter, TemporalBound, TemporalOperator } from './ast.js';
import type { LayerColumn, LayerTemporal } from '../catalog/layers.js';
import type { SqlParams } from '../db/sql.js';
import { quoteIdent } from '../db/identifiers.js';

export class DatetimeError extends Error {}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|([+-])(\d{2}):(\d{2}))$/i;

/** Milliseconds of y-m-d 00:00Z (years 1–9999: Date.UTC would map 0–99 to 1900–1999), or undefined if no such day. */
function dayMs(y: number, m: number, d: number): number | undefined {
  if (y < 1 || m < 1 || m > 12 || d < 1) return undefined;
  const t = new Date(0);
  t.setUTCFullYear(y, m - 1, d);
  return t.getUTCMonth() === m - 1 && t.getUTCDate() === d ? t.getTime() : undefined;
}

const DAY_MS = 86_400_000;

interface ParsedBound {
  bound: TemporalBound;
  /** First and last microsecond (since 1970, UTC) the bound covers. */
  first: bigint;
  last: bigint;
}

function parseBound(text: string): ParsedBound {
  const d = DATE.exec(text);
  if (d) {
    const ms = dayMs(Number(d[1]), Number(d[2]), Number(d[3]));
    if (ms === undefined) throw new DatetimeError(`'${text}' is not a calendar date`);
    return { bound: { date: text }, first: BigInt(ms) * 1000n, last: BigInt(ms + DAY_MS) * 1000n - 1n };
  }
  const t = DATE_TIME.exec(text);
  if (!t) throw new DatetimeError(`'${text.slice(0, 60)}' is neither an RFC 3339 date (2018-02-12) nor a date-time with its offset (2018-02-12T23:20:50Z)`);
  const ms = dayMs(Number(t[1]), Number(t[2]), Number(t[3]));
  const [h, mi, s] = [Number(t[4]), Number(t[5]), Number(t[6])];
  const [oh, om] = t[9] ? [Number(t[10]), Number(t[11])] : [0, 0];
  // Seconds up to 60: RFC 3339 leap seconds (PostgreSQL reads 23:59:60 as the next minute's 00).
  if (ms === undefined || h > 23 || mi > 59 || s > 60 || oh > 23 || om > 59) throw new DatetimeError(`'${text}' is not a valid date-time`);
  const offsetMin = (t[9] === '-' ? -1 : 1) * (oh * 60 + om);
  const micros = BigInt(ms + ((h * 60 + mi - offsetMin) * 60 + s) * 1000) * 1000n + BigInt(((t[7] ?? '.').slice(1) + '000000').slice(0, 6));
  return { bound: { instant: text.toUpperCase() }, first: micros, last: micros };
}

/**
 * Parse a `datetime` value into a `temporal` filter node; DatetimeError (message for the client) if it is not
 * an instant or interval as Part 1 defines them.
 */
export function parseDatetime(value: string): Extract<Filter, { kind: 'temporal' }> {
  if (value.length > 100) throw new DatetimeError('datetime is too long');
  const parts = value.split('/');
  if (parts.length > 2) throw new DatetimeError('datetime is an instant or one interval start/end');
  if (parts.length === 1) {
    if (parts[0] === '..' || parts[0] === '') throw new DatetimeError('datetime needs an instant, or an interval with at least one end');
    const b = parseBound(parts[0]!);
    return { kind: 'temporal', start: b.bound, end: b.bound };
  }
  const open = (p: string) => p === '' || p === '..';
  const [s, e] = parts.map((p) => (open(p) ? undefined : parseBound(p)));
  if (!s && !e) throw new DatetimeError('an interval needs at least one end (../.. and / are refused)');
  if (s && e && s.first > e.last) throw new DatetimeError(`the interval starts (${parts[0]}) after it ends (${parts[1]})`);
  return { kind: 'temporal', ...(s ? { start: s.bound } : {}), ...(e ? { end: e.bound } : {}) };
}

/** Check a bound again where it is compiled (a node may come from elsewhere than parseDatetime). */
function checked(b: TemporalBound): TemporalBound {
  const text = 'date' in b ? b.date : b.instant;
  const p = parseBound(text);
  if ('date' in b !== 'date' in p.bound) throw new DatetimeError(`'${text}' is not a valid temporal bound`);
  return p.bound;
}

function nextDay(date: string): string {
  const [y, m, d] = date.split('-').map(Number);
  const t = new Date(dayMs(y!, m!, d!)! + DAY_MS);
  return `${String(t.getUTCFullYear()).padStart(4, '0')}-${String(t.getUTCMonth() + 1).padStart(2, '0')}-${String(t.getUTCDate()).padStart(2, '0')}`;
}

type Side = 'atOrAfter' | 'atOrBefore';

/**
 * An instant-valued SQL expression a temporal filter applies to: a layer's date or timestamp column, or a
 * catalogue queryable (src/record-search). `timestamp` (without time zone) values are read as UTC wall time.
 */
export interface TemporalTarget {
  /** Trusted SQL text (a column reference), never built from a request. */
  sql: string;
  kind: 'date' | 'timestamptz' | 'timestamp';
}

const targetOf = (col: LayerColumn): TemporalTarget => ({
  sql: `t.${quoteIdent(col.name)}`,
  kind: col.kind === 'date' ? 'date' : /with time zone/i.test(col.pgType) ? 'timestamptz' : 'timestamp',
});

/** `col` compared with a bound: at or after its first instant, or at or before its last one. */
function boundSql(col: TemporalTarget, b: TemporalBound, side: Side, params: SqlParams): string {
  const c = col.sql;
  const instant = 'instant' in b ? `${params.add(b.instant, 'timestamptz')}` : undefined;
  if (col.kind === 'date') {
    const v = instant ? `(${instant} AT TIME ZONE 'UTC')::date` : params.add((b as { date: string }).date, 'date');
    return `${c} ${side === 'atOrAfter' ? '>=' : '<='} ${v}`;
  }
  const withTz = col.kind === 'timestamptz';
  if (instant) return `${c} ${side === 'atOrAfter' ? '>=' : '<='} ${withTz ? instant : `(${instant} AT TIME ZONE 'UTC')`}`;
  // A date bound on a timestamp column: from its first instant, or before the next day's.
  const day = (b as { date: string }).date;
  const at = side === 'atOrAfter' ? day : nextDay(day);
  const v = withTz ? params.add(`${at}T00:00:00Z`, 'timestamptz') : params.add(`${at} 00:00:00`, 'timestamp');
  return `${c} ${side === 'atOrAfter' ? '>=' : '<'} ${v}`;
}

/** SQL of a `temporal` node over the layer's temporal property (see the semantics above). */
export function temporalSql(f: Extract<Filter, { kind: 'temporal' }>, temporal: LayerTemporal, params: SqlParams): string {
  const start = f.start && checked(f.start);
  const end = f.end && checked(f.end);
  const parts: string[] = [`t.${quoteIdent(temporal.start.name)} IS NOT NULL`];
  // The feature starts at or before the end of the requested interval…
  if (end) parts.push(boundSql(targetOf(temporal.start), end, 'atOrBefore', params));
  // … and ends at or after its start (an open feature end never ends).
  if (start) {
    const cond = boundSql(targetOf(temporal.end ?? temporal.start), start, 'atOrAfter', params);
    parts.push(temporal.end ? `(t.${quoteIdent(temporal.end.name)} IS NULL OR ${cond})` : cond);
  }
  return `(${parts.join(' AND ')})`;
}

/**
 * A time position of a FES temporal literal (gml:timePosition, gml:beginPosition, a fes:Literal): an RFC 3339
 * date or date-time; a date-time without offset (allowed by XML Schema's dateTime) is read as UTC.
 */
export function parseTimePosition(text: string): TemporalBound {
  const t = text.trim();
  const withOffset = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/i.test(t) ? `${/T\d{2}:\d{2}$/i.test(t) ? `${t}:00` : t}Z` : t;
  return parseBound(withOffset).bound;
}

/** Check that a period's begin is not after its end. */
export function checkPeriod(begin: TemporalBound, end: TemporalBound): void {
  const b = parseBound('date' in begin ? begin.date : begin.instant);
  const e = parseBound('date' in end ? end.date : end.instant);
  if (b.first > e.last) throw new DatetimeError('the period begins after it ends');
}

/**
 * FES 2.0 §7.9 / ISO 19108 §5.2.3.5 relative positions of a property value v (an instant; a date is its
 * whole UTC day) and a literal [b, e] (an instant: b = e; a date literal covers its day):
 * After v > e · Before v < b · TEquals v = b = e · During b < v < e · Begins v = b · Ends v = e ·
 * AnyInteracts b ≤ v ≤ e. "v > e" is "not (v ≤ the last instant of e)"; NULL values never match.
 */
export function timeOpSql(f: Extract<Filter, { kind: 'timeOp' }>, col: LayerColumn, params: SqlParams): string {
  return timeOpOnSql(f, targetOf(col), params);
}

/** timeOpSql on any instant-valued expression (the catalogue's dates: src/record-search/compile.ts). */
export function timeOpOnSql(f: Extract<Filter, { kind: 'timeOp' }>, col: TemporalTarget, params: SqlParams): string {
  const begin = checked(f.begin);
  const end = checked(f.end);
  const notNull = `${col.sql} IS NOT NULL`;
  const atOrAfter = (b: TemporalBound) => boundSql(col, b, 'atOrAfter', params);
  const atOrBefore = (b: TemporalBound) => boundSql(col, b, 'atOrBefore', params);
  const within = (b: TemporalBound) => `${atOrAfter(b)} AND ${atOrBefore(b)}`;
  const op: TemporalOperator = f.op;
  switch (op) {
    case 'After':
      return `(${notNull} AND NOT (${atOrBefore(end)}))`;
    case 'Before':
      return `(${notNull} AND NOT (${atOrAfter(begin)}))`;
    case 'TEquals':
      return `(${within(begin)} AND ${within(end)})`;
    case 'During':
      return `(${notNull} AND NOT (${atOrBefore(begin)}) AND NOT (${atOrAfter(end)}))`;
    case 'Begins':
      return `(${within(begin)})`;
    case 'Ends':
      return `(${within(end)})`;
    case 'AnyInteracts':
      return `(${atOrAfter(begin)} AND ${atOrBefore(end)})`;
  }
}
