/**
 * Caches of catalogue search paging (used by search() in repository.ts, hence by CSW GetRecords), keyed by the catalogue revision (migrations/0010_catalogue_revision.sql) read
 * in the request's own snapshot, and by the compiled query (SQL text and parameter values):
 *
 * - numberOfRecordsMatched: a count computed once per query and catalogue state. Every GetRecords needs it
 *   (a harvest asks the same query 4,000 times); it stays exact because any committed change of the records
 *   changes the revision, hence the key.
 * - where the next page starts: for queries ordered by identifier alone (no SortBy, or SortBy identifier as
 *   data.gouv.fr sends it), the identifier of the last record served for startPosition s + returned. The next
 *   page is then read with `identifier > last … LIMIT n` on the identifier index instead of skipping s rows
 *   (OFFSET), which makes page 4,000 as cheap as page 1. Same state, same order: the same records.
 *
 * - the identifiers of a page: a search repeated in the same catalogue state (same predicate, values, order, start
 *   and size: a portal's home-page search, a client refreshing) reads the page's rows by identifier instead of
 *   finding them again. A page of a search matching few records is otherwise picked from all its matches (the
 *   full-text and footprint bitmaps, issue 12): C2, AnyText + BBOX, 1,720 of 100,000 records, counted from the
 *   cache, still spent ~15–30 ms (load 12) building them for 10 records. Pages of up to PAGE_IDS_MAX records only.
 *
 * All are small LRU maps in the process (several processes each keep their own); SDI_CSW_PAGE_CACHE=0
 * disables them (every request then counts and OFFSETs, as before).
 */
import { createHash } from 'node:crypto';

class Lru<V> {
  private map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(k: string): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
  clear(): void {
    this.map.clear();
  }
}

const counts = new Lru<number>(2000);
/** page key (queryKey + order, start, size) → the identifiers of that page, in order. */
const pages = new Lru<string[]>(500);
export const PAGE_IDS_MAX = 100;
/** key → (startPosition of the next page → identifier of the record just before it). */
const resumes = new Lru<Map<number, string>>(200);
const RESUMES_PER_QUERY = 64;

/**
 * The key of a query in a catalogue state. Its values hold the caller's hidden record ids (src/access/records.ts),
 * thousands for an anonymous caller once harvested records are restricted (migration 0036): the key is then the
 * SHA-256 of its text, so that 2,000 cached counts cannot hold 2,000 copies of those lists.
 */
export function queryKey(revision: string, where: string, values: unknown[]): string {
  const key = `${revision}\u0000${where}\u0000${JSON.stringify(values)}`;
  return key.length > 512 ? `sha256:${createHash('sha256').update(key).digest('base64')}` : key;
}

export function cachedCount(key: string): number | undefined {
  return counts.get(key);
}

export function rememberCount(key: string, n: number): void {
  counts.set(key, n);
}

/** The identifier after which the page starting at `startPosition` begins, when a previous page ended there. */
export function resumeAfter(key: string, startPosition: number): string | undefined {
  return resumes.get(key)?.get(startPosition);
}

export function rememberResume(key: string, nextPosition: number, lastIdentifier: string): void {
  let m = resumes.get(key);
  if (!m) {
    m = new Map();
    resumes.set(key, m);
  }
  m.set(nextPosition, lastIdentifier);
  if (m.size > RESUMES_PER_QUERY) m.delete(m.keys().next().value!);
}

export function pageKey(key: string, order: string, startPosition: number, maxRecords: number): string {
  return `${key}\u0000${order}\u0000${startPosition}\u0000${maxRecords}`;
}

export function cachedPage(key: string): string[] | undefined {
  return pages.get(key);
}

export function rememberPage(key: string, identifiers: string[]): void {
  if (identifiers.length <= PAGE_IDS_MAX) pages.set(key, identifiers);
}

export function clearPageCaches(): void {
  counts.clear();
  resumes.clear();
  pages.clear();
}
