/**
 * The queryables and sortables of the OGC API – Records collection (OGC 20-004 §8.3 /req/queryables, §9
 * sorting), each the name of a record property bound to a catalogue queryable of the CSW compiler
 * (services/catalogue/csw/queryables.ts). A Records filter is rewritten onto those names and compiled by the
 * one catalogue compiler: the same column, the same multi-valued and case rules as a CSW constraint.
 *
 * Names are exact (case-sensitive, as JSON property names are); anything else is refused, not guessed.
 */
import type { Filter, Expression } from '../../../src/filter/ast.js';
import { invalid } from '../../../src/ogc/errors.js';

export interface RecordQueryable {
  /** The record property (OGC 20-004 record schema). */
  name: string;
  /** The catalogue queryable it is compiled as. */
  csw: string;
  title: string;
  /** JSON Schema of its values (OGC API – Features Part 3 §6.2). */
  schema: Record<string, unknown>;
  sortable: boolean;
}

const text = { type: 'string' };
const texts = { type: 'array', items: { type: 'string' } };

export const RECORD_QUERYABLES: readonly RecordQueryable[] = [
  { name: 'id', csw: 'Identifier', title: 'Identifier of the record', schema: text, sortable: true },
  { name: 'title', csw: 'Title', title: 'Title', schema: text, sortable: true },
  { name: 'description', csw: 'Abstract', title: 'Description (abstract)', schema: text, sortable: false },
  { name: 'keywords', csw: 'Subject', title: 'Keywords (and ISO topic categories)', schema: texts, sortable: false },
  { name: 'themes', csw: 'TopicCategory', title: 'ISO 19115 topic categories', schema: texts, sortable: false },
  { name: 'type', csw: 'Type', title: 'Resource type (dataset, series, service…)', schema: text, sortable: true },
  { name: 'language', csw: 'Language', title: 'Language of the record (ISO 639-2)', schema: text, sortable: true },
  { name: 'resourceLanguages', csw: 'ResourceLanguage', title: 'Languages of the resource (ISO 639-2)', schema: texts, sortable: false },
  { name: 'formats', csw: 'Format', title: 'Distribution formats', schema: texts, sortable: false },
  { name: 'externalIds', csw: 'ResourceIdentifier', title: 'Identifiers of the resource (codes)', schema: texts, sortable: false },
  { name: 'rights', csw: 'Rights', title: 'Use limitations and other constraints', schema: texts, sortable: false },
  { name: 'publisher', csw: 'Publisher', title: 'Publishers', schema: texts, sortable: false },
  { name: 'created', csw: 'CreationDate', title: 'Creation date of the resource', schema: { type: 'string', format: 'date' }, sortable: true },
  { name: 'updated', csw: 'Modified', title: 'Date the record was last changed', schema: { type: 'string', format: 'date-time' }, sortable: true },
  { name: 'geometry', csw: 'BoundingBox', title: 'Footprint (CRS84)', schema: { format: 'geometry-any' }, sortable: false },
];

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

function expression(e: Expression): Expression {
  switch (e.kind) {
    case 'property':
      return { kind: 'property', name: catalogueName(e.name, 'filter') };
    case 'function':
      return { ...e, args: e.args.map(expression) };
    case 'arithmetic':
      return { ...e, left: expression(e.left), right: expression(e.right) };
    default:
      return e;
  }
}

const spatialProperty = (p: string | undefined) => (p === undefined ? undefined : catalogueName(p, 'filter'));

/** A filter over record properties → the same filter over the catalogue queryables (unknown names refused). */
export function toCatalogueFilter(f: Filter): Filter {
  switch (f.kind) {
    case 'and':
    case 'or':
      return { kind: f.kind, operands: f.operands.map(toCatalogueFilter) };
    case 'not':
      return { kind: 'not', operand: toCatalogueFilter(f.operand) };
    case 'compare':
      return { ...f, left: expression(f.left), right: expression(f.right) };
    case 'like':
    case 'isNull':
      return { ...f, expr: expression(f.expr) };
    case 'between':
      return { ...f, expr: expression(f.expr), lower: expression(f.lower), upper: expression(f.upper) };
    case 'in':
      return { ...f, expr: expression(f.expr), values: f.values.map(expression) };
    case 'bbox':
    case 'spatial':
    case 'distance':
      return { ...f, property: spatialProperty(f.property) };
    case 'timeOp':
      return { ...f, property: catalogueName(f.property, 'filter') };
    default:
      return f;
  }
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
