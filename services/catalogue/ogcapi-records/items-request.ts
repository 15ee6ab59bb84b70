/**
 * The query parameters of /collections/{id}/items (OGC 20-004 §8.1 core query parameters, §9 sorting, and the
 * filter parameters of OGC API – Features Part 3 §7–8) → one catalogue search: a filter AST over the catalogue
 * queryables (compiled by the catalogue compiler, src/record-search), sort keys, and the page. Nothing here touches the database.
 *
 * - q: comma-separated terms, a record matching any of them (/req/core/query-param-q-response); the words of
 *   one term must all occur, through the catalogue's full-text index (AnyText, as CSW and OpenSearch search).
 * - bbox: 4 or 6 numbers in CRS84, longitude first (the 6-number form's heights are ignored).
 * - datetime: an instant or interval of OGC API – Features Part 1 §7.15.4, compared with the record's temporal
 *   extent (the resource's, gmd:EX_TemporalExtent): [begin, end], an absent end open (an ongoing resource,
 *   `indeterminatePosition="now"`), an absent begin open too, as the record's `time` shows them (`..`). Records
 *   without a temporal extent do not match.
 * - type, ids, externalIds: comma-separated lists, any value matching.
 * - sortby: comma-separated sortables, `-` descending, `+` or nothing ascending.
 * - filter with filter-lang cql2-text (default) or cql2-json, filter-crs CRS84 only.
 */
import type { Filter } from '../../../src/filter/ast.js';
import { parseCql2Text } from '../../../src/filter/cql2-text-reader.js';
import { parseCql2Json } from '../../../src/filter/cql2-json-reader.js';
import { parseDatetime, DatetimeError } from '../../../src/filter/temporal.js';
import { CRS84_URI } from '../../../src/crs/identifiers.js';
import type { Kvp } from '../../../src/ogc/kvp.js';
import { invalid } from '../../../src/ogc/errors.js';
import { toCatalogueFilter, sortableName } from './queryables.js';
import type { SortKey } from '../../../src/record-search/plan.js';

export const ITEMS_PARAMETERS = ['f', 'limit', 'offset', 'bbox', 'datetime', 'q', 'type', 'ids', 'externalIds', 'sortby', 'filter', 'filter-lang', 'filter-crs'] as const;

export const DEFAULT_LIMIT = 10;

export interface ItemsRequest {
  /** Over the catalogue queryables (src/record-search/queryables.ts). */
  constraint?: Filter;
  sortBy: SortKey[];
  limit: number;
  offset: number;
}

/** Comma-separated values, trimmed, empty ones dropped. */
const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function integer(kvp: Kvp, name: string, fallback: number, min: number): number {
  const v = kvp.value(name);
  if (v === undefined) {
    if (kvp.has(name)) throw invalid(name, `${name} is empty`);
    return fallback;
  }
  if (!/^\d+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) throw invalid(name, `${name} must be an integer of at least ${min}, not '${v.slice(0, 40)}'`);
  return Number(v);
}

/** Free text: each comma-separated term through AnyText (as MetaSearch's words), any term matching. */
function freeText(q: string): Filter | undefined {
  const terms = list(q);
  if (terms.length === 0) return undefined;
  const like = (t: string): Filter => ({ kind: 'like', expr: { kind: 'property', name: 'AnyText' }, pattern: t.replace(/[\\%_]/g, '\\$&'), matchCase: false });
  return terms.length === 1 ? like(terms[0]!) : { kind: 'or', operands: terms.map(like) };
}

function bbox(v: string): Filter {
  const n = v.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
  if ((n.length !== 4 && n.length !== 6) || n.some((x) => !Number.isFinite(x))) throw invalid('bbox', 'bbox must be 4 or 6 numbers: west,south,east,north (CRS84, longitude first)');
  const [w, s, e, north] = n.length === 4 ? n : [n[0]!, n[1]!, n[3]!, n[4]!];
  if (s! > north!) throw invalid('bbox', 'bbox: the south edge must not be north of the north edge');
  if ([s!, north!].some((y) => y < -90 || y > 90) || [w!, e!].some((x) => x < -180 || x > 180)) throw invalid('bbox', 'bbox: longitudes lie in [-180, 180], latitudes in [-90, 90] (CRS84)');
  // West east of east crosses the antimeridian (the compiler splits the box).
  return { kind: 'bbox', envelope: { minx: w!, miny: s!, maxx: e!, maxy: north!, srid: 4326 } };
}

/** The first and the last instant a bound covers, as RFC 3339 text the compiler reads: a date is its whole UTC day. */
function instants(b: { date: string } | { instant: string }): { first: string; afterLast?: string; last?: string } {
  if ('instant' in b) return { first: b.instant, last: b.instant };
  const next = new Date(Date.parse(`${b.date}T00:00:00Z`) + 86_400_000).toISOString();
  return { first: `${b.date}T00:00:00Z`, afterLast: next };
}

const prop = (name: string) => ({ kind: 'property' as const, name });
const lit = (value: string) => ({ kind: 'literal' as const, value });
const cmp = (name: string, op: '<' | '<=' | '>=', value: string): Filter => ({ kind: 'compare', op, left: prop(name), right: lit(value), matchCase: true });
const isNull = (name: string): Filter => ({ kind: 'isNull', expr: prop(name) });

/**
 * datetime against the record's temporal extent [B, E] (either end absent: open): B ≤ the interval's end and
 * E ≥ its start, both ends included (Features Part 1 §7.15.4 "intersects").
 */
function datetime(v: string): Filter {
  let t: Extract<Filter, { kind: 'temporal' }>;
  try {
    t = parseDatetime(v);
  } catch (e) {
    if (e instanceof DatetimeError) throw invalid('datetime', `datetime must be an RFC 3339 instant or interval (2018-02-12T23:20:50Z, 2018-02-12, 2018-02-12/2018-03-18, ../2018-03-18, 2018-02-12/..): ${e.message}`);
    throw e;
  }
  const [B, E] = ['TempExtent_begin', 'TempExtent_end'];
  const parts: Filter[] = [{ kind: 'not', operand: { kind: 'and', operands: [isNull(B), isNull(E)] } }];
  if (t.end) {
    const end = instants(t.end);
    parts.push({ kind: 'or', operands: [isNull(B), end.afterLast ? cmp(B, '<', end.afterLast) : cmp(B, '<=', end.last!)] });
  }
  if (t.start) parts.push({ kind: 'or', operands: [isNull(E), cmp(E, '>=', instants(t.start).first)] });
  return { kind: 'and', operands: parts };
}

function filter(kvp: Kvp): Filter | undefined {
  const text = kvp.get('filter');
  const lang = (kvp.value('filter-lang') ?? 'cql2-text').toLowerCase();
  if (lang !== 'cql2-text' && lang !== 'cql2-json') throw invalid('filter-lang', `filter-lang must be cql2-text or cql2-json, not '${lang.slice(0, 40)}'`);
  const crs = kvp.value('filter-crs');
  if (crs !== undefined && crs !== CRS84_URI) throw invalid('filter-crs', `filter-crs: only ${CRS84_URI} is offered`);
  if (text === undefined) {
    if (kvp.has('filter-lang') || kvp.has('filter-crs')) throw invalid('filter', 'filter-lang and filter-crs need a filter');
    return undefined;
  }
  if (text.trim() === '') throw invalid('filter', 'filter is empty');
  return toCatalogueFilter(lang === 'cql2-json' ? parseCql2Json(text) : parseCql2Text(text));
}

function sortBy(v: string | undefined): SortKey[] {
  if (v === undefined) return [];
  const keys = list(v);
  if (keys.length === 0) throw invalid('sortby', 'sortby is empty');
  return keys.map((k) => {
    const descending = k.startsWith('-');
    const name = k.startsWith('-') || k.startsWith('+') ? k.slice(1).trim() : k;
    return { name: sortableName(name), descending };
  });
}

/** Read the items request (its parameters already checked against ITEMS_PARAMETERS). `maxLimit`: the server's page cap. */
export function readItemsRequest(kvp: Kvp, maxLimit: number): ItemsRequest {
  const operands: Filter[] = [];
  const add = (f: Filter | undefined) => f && operands.push(f);
  const q = kvp.get('q');
  if (q !== undefined) add(freeText(q));
  if (kvp.has('bbox')) add(bbox(kvp.get('bbox') ?? ''));
  if (kvp.has('datetime')) add(datetime(kvp.get('datetime') ?? ''));
  const type = kvp.value('type');
  if (type) add({ kind: 'in', expr: prop('Type'), values: list(type).map(lit) });
  const ids = kvp.value('ids');
  if (ids) add({ kind: 'resourceId', ids: list(ids) });
  const external = kvp.value('externalIds');
  if (external) add({ kind: 'in', expr: prop('ResourceIdentifier'), values: list(external).map(lit) });
  add(filter(kvp));
  // /req/core/query-param-limit: a limit above the server's maximum is answered with the maximum.
  const limit = Math.min(integer(kvp, 'limit', DEFAULT_LIMIT, 1), maxLimit);
  const offset = integer(kvp, 'offset', 0, 0);
  const constraint = operands.length === 0 ? undefined : operands.length === 1 ? operands[0] : { kind: 'and' as const, operands };
  return { ...(constraint ? { constraint } : {}), sortBy: sortBy(kvp.value('sortby')), limit, offset };
}
