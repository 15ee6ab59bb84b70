/**
 * A catalogue search planned once for every protocol that searches the records (CSW GetRecords, OGC API –
 * Records items, OpenSearch): the filter compiled by the catalogue compiler (compile.ts) over the stored
 * records `r`, the records of resources the caller may not view left out (issue 11), and the order made total by
 * the identifier, so that paging is stable. The protocol adapters read their requests into a filter AST and sort
 * keys over the catalogue queryables (queryables.ts) and run the plan through the repository (src/records).
 *
 * A folder beside src/records rather than in it: the compiler builds on src/filter, src/access and src/metadata,
 * which build on src/records (src/filter → src/catalog → src/records): inside src/records that is a folder cycle
 * (`npm run deps`, rule no-circular-folders counts subfolders with their parent).
 */
import { PositionalBinder } from '../db/sql.js';
import type { Filter } from '../filter/ast.js';
import type { CrsRegistry } from '../crs/registry.js';
import { visibleRecordsSql } from '../access/records.js';
import type { RecordQuery } from '../records/repository.js';
import { compileFilter, sortItem } from './compile.js';

export interface SortKey {
  /** A catalogue queryable (queryables.ts), as the request names it. */
  name: string;
  descending: boolean;
}

export interface SearchRequest {
  constraint?: Filter;
  sortBy?: readonly SortKey[];
  /** Row ids of the records the caller may not view (src/access/records.ts). */
  hiddenRecords?: readonly string[];
  /** CRSs of literals other than WGS 84. */
  crs: CrsRegistry;
}

export function planSearch(req: SearchRequest): RecordQuery {
  const params = new PositionalBinder();
  const constraint = req.constraint ? compileFilter(req.constraint, { params, crs: req.crs }) : 'TRUE';
  // Records of restricted resources the caller may not view (issue 11): part of the statement and of the cache key.
  const visible = visibleRecordsSql(req.hiddenRecords ?? [], (v, c) => params.add(v, c));
  const where = visible ? `(${constraint}) AND ${visible}` : constraint;
  const keys = (req.sortBy ?? []).map((k) => sortItem(k.name, k.descending));
  // The identifier is unique: appended last, it makes every order total, hence paging stable.
  const order = [...keys, 'r.identifier ASC'].join(', ');
  // Ordered by identifier alone (no SortBy, or SortBy identifier ascending): pages can resume after an identifier.
  const identifierOrder = keys.every((k) => k === 'r.identifier ASC');
  return { where, order, params, identifierOrder };
}
