/**
 * The queryables and sortables of the OGC API – Records collection (OGC 20-004 §8.3 /req/queryables, §9
 * sorting), each the name of a record property bound to a catalogue queryable (the catalogue compiler of
 * src/record-search, CSW's too). A Records filter is rewritten onto those names and compiled by the
 * one catalogue compiler: the same column, the same multi-valued and case rules as a CSW constraint.
 *
 * Names are exact (case-sensitive, as JSON property names are); anything else is refused, not guessed.
 */
import { mapFilterProperties, type Filter } from '../../../src/filter/ast.js';
import { findQueryable, type QueryableKind } from '../../../src/record-search/queryables.js';
import { invalid } from '../../../src/ogc/errors.js';

export interface RecordQueryable {
  /** The record property (OGC 20-004 record schema). */
  name: string;
  /** The catalogue queryable it is compiled as. */
  csw: string;
  title: string;
  /** JSON Schema of its values (OGC API – Features Part 3 §6.2), from the kind of the catalogue queryable. */
  schema: Record<string, unknown>;
  sortable: boolean;
}

/** The JSON Schema of a record property from the catalogue queryable's kind: the compiler's types, said once. */
const SCHEMA_OF: Partial<Record<QueryableKind, Record<string, unknown>>> = {
  text: { type: 'string' },
  texts: { type: 'array', items: { type: 'string' } },
  date: { type: 'string', format: 'date' },
  timestamp: { type: 'string', format: 'date-time' },
  geometry: { format: 'geometry-any' },
};

/** Record property → catalogue queryable, title; the sortable ones (OGC 20-004 §9) are listed apart. */
const TABLE: ReadonlyArray<readonly [name: string, csw: string, title: string]> = [
  ['id', 'Identifier', 'Identifier of the record'], ['title', 'Title', 'Title'], ['description', 'Abstract', 'Description (abstract)'],
  ['keywords', 'Subject', 'Keywords (and ISO topic categories)'], ['themes', 'TopicCategory', 'ISO 19115 topic categories'],
  ['type', 'Type', 'Resource type (dataset, series, service…)'], ['language', 'Language', 'Language of the record (ISO 639-2)'],
  ['resourceLanguages', 'ResourceLanguage', 'Languages of the resource (ISO 639-2)'], ['formats', 'Format', 'Distribution formats'],
  ['externalIds', 'ResourceIdentifier', 'Identifiers of the resource (codes)'], ['rights', 'Rights', 'Use limitations and other constraints'],
  ['publisher', 'Publisher', 'Publishers'], ['created', 'CreationDate', 'Creation date of the resource'],
  ['updated', 'Modified', 'Date the record was last changed'], ['geometry', 'BoundingBox', 'Footprint (CRS84)'],
];
const SORTABLE = new Set(['id', 'title', 'type', 'language', 'created', 'updated']);

export const RECORD_QUERYABLES: readonly RecordQueryable[] = TABLE.map(([name, csw, title]) => ({ name, csw, title, schema: SCHEMA_OF[findQueryable(csw)!.kind]!, sortable: SORTABLE.has(name) }));

const BY_NAME = new Map(RECORD_QUERYABLES.map((q) => [q.name, q]));

/** The catalogue queryable of a record property, or a 400 naming the known ones. */
function catalogueName(name: string, locator: string, sortable = false): string {
  const q = BY_NAME.get(name);
  if (!q || (sortable && !q.sortable)) {
    const known = RECORD_QUERYABLES.filter((x) => !sortable || x.sortable).map((x) => x.name);
    throw invalid(locator, `Unknown ${sortable ? 'sortable' : 'queryable'} '${name.slice(0, 60)}' (${sortable ? 'sortables' : 'queryables'}: ${known.join(', ')})`);
  }
  return q.csw;
}

export const sortableName = (name: string) => catalogueName(name, 'sortby', true);

/** A filter over record properties → the same filter over the catalogue queryables (unknown names refused). */
export function toCatalogueFilter(f: Filter): Filter {
  return mapFilterProperties(f, (name) => catalogueName(name, 'filter'));
}

/** The queryables (or sortables) document: a JSON Schema of the record properties (OGC 20-004 §8.3, §9.4). */
export function queryablesDocument(url: string, title: string, sortables: boolean): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const q of RECORD_QUERYABLES) if (!sortables || q.sortable) properties[q.name] = { title: q.title, ...q.schema };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: url,
    type: 'object',
    title,
    properties,
    additionalProperties: false,
  };
}
