/**
 * Cheap limits, checked on the parsed request before any SQL is sent (issue 13 §5): a 200,002-vertex polygon
 * cost 16.8 s of database time before PostGIS counted its points and the limit answered; 100 copies of one
 * type name in TYPENAMES made 100 queries and a 346 MB answer. Counting is linear in what was already parsed.
 */
import { OgcError } from '../ogc/errors.js';

/** Vertices of one geometry in a request (a filter literal, a download area). */
export const MAX_GEOMETRY_VERTICES = 100_000;
/** Queries of one WFS GetFeature (type names in TYPENAMES, wfs:Query elements). */
export const MAX_QUERIES_PER_REQUEST = 20;
/** Sort keys of one query (WFS SORTBY, OGC API sortby, CSW SortBy). */
export const MAX_SORT_KEYS = 10;

/** Positions of GeoJSON-shaped coordinates (any nesting, geometry collections included), without recursion. */
export function countPositions(g: { coordinates?: unknown; geometries?: unknown[] }): number {
  let n = 0;
  const stack: unknown[] = [g];
  while (stack.length) {
    const v = stack.pop() as { coordinates?: unknown; geometries?: unknown[] } | unknown[];
    if (Array.isArray(v)) {
      if (v.length > 0 && typeof v[0] === 'number') n++;
      else for (const x of v) stack.push(x);
    } else if (v && typeof v === 'object') {
      if (v.coordinates !== undefined) stack.push(v.coordinates);
      if (Array.isArray(v.geometries)) for (const x of v.geometries) stack.push(x);
    }
  }
  return n;
}

/** Positions of a WKT text (each run between '(' ')' ',' that holds a number is one position). */
export function countWktPositions(wkt: string): number {
  let n = 0;
  let numberSeen = false;
  for (let i = 0; i < wkt.length; i++) {
    const c = wkt.charCodeAt(i);
    if (c === 40 || c === 41 || c === 44) {
      // ( ) ,
      if (numberSeen) n++;
      numberSeen = false;
    } else if (c >= 48 && c <= 57) numberSeen = true;
  }
  return n + (numberSeen ? 1 : 0);
}

/** Sort keys within the limit (an OGC InvalidParameterValue naming the parameter otherwise). */
export function limitSortKeys<T>(keys: T[], locator: string): T[] {
  if (keys.length > MAX_SORT_KEYS) throw new OgcError('InvalidParameterValue', `${keys.length} sort keys; the limit is ${MAX_SORT_KEYS}`, locator);
  return keys;
}

/** Queries of one request within the limit. */
export function limitQueries<T>(queries: T[], locator: string): T[] {
  if (queries.length > MAX_QUERIES_PER_REQUEST) throw new OgcError('InvalidParameterValue', `${queries.length} queries (type names) in one request; the limit is ${MAX_QUERIES_PER_REQUEST}`, locator);
  return queries;
}
