/**
 * A collection's properties as JSON Schema (draft 2020-12), served at /collections/{id}/schema (OGC API – Features
 * Part 5 "Schemas", OGC 23-058: properties with `title`, `x-ogc-role` id / primary-geometry / primary-instant,
 * geometry as `format: geometry-…`) and /collections/{id}/queryables (Part 3 "Filtering", OGC 19-079r2 §6.2: the
 * same properties, `additionalProperties: false`). Each property's `title` is the alias an administrator gave it
 * (PATCH /admin/layers attributeAliases), else its name; `description` names the column when an alias is shown.
 * No conformance class is declared for them: items take no `filter` yet (Part 3) and Part 5 is a draft.
 */
import type { ColumnKind, Layer } from '../../../src/catalog/layers.js';

const TYPE: Record<ColumnKind, Record<string, unknown>> = {
  string: { type: 'string' },
  integer: { type: 'integer' },
  bigint: { type: 'integer' },
  number: { type: 'number' },
  boolean: { type: 'boolean' },
  date: { type: 'string', format: 'date' },
  datetime: { type: 'string', format: 'date-time' },
  time: { type: 'string', format: 'time' },
  json: {},
  other: { type: 'string' },
};

/** Part 5 §"geometry": the geometry type as `format`. */
function geometryFormat(type: string): string {
  const t = type.toUpperCase().replace(/[ZM]+$/, '');
  const m: Record<string, string> = {
    POINT: 'geometry-point', MULTIPOINT: 'geometry-multipoint', LINESTRING: 'geometry-linestring', MULTILINESTRING: 'geometry-multilinestring',
    POLYGON: 'geometry-polygon', MULTIPOLYGON: 'geometry-multipolygon', GEOMETRYCOLLECTION: 'geometry-geometrycollection',
  };
  return m[t] ?? 'geometry-any';
}

export const SCHEMA_MEDIA_TYPE = 'application/schema+json';
export const REL_SCHEMA = 'http://www.opengis.net/def/rel/ogc/1.0/schema';
export const REL_QUERYABLES = 'http://www.opengis.net/def/rel/ogc/1.0/queryables';

export function collectionSchema(l: Layer, collectionUrl: string, kind: 'schema' | 'queryables'): Record<string, unknown> {
  const properties: Record<string, Record<string, unknown>> = {};
  if (kind === 'schema') properties[l.idColumn] = { title: l.idColumn, ...TYPE[l.idKind], 'x-ogc-role': 'id' };
  for (const c of l.columns) {
    properties[c.name] = {
      title: c.alias ?? c.name,
      ...(c.alias ? { description: `Attribut ${c.name}` } : {}),
      ...TYPE[c.kind],
      ...(kind === 'schema' && l.temporal?.start.name === c.name ? { 'x-ogc-role': 'primary-instant' } : {}),
    };
  }
  if (l.geometry) properties[l.geometry.column] = { title: l.geometry.column, format: geometryFormat(l.geometry.type), ...(kind === 'schema' ? { 'x-ogc-role': 'primary-geometry' } : {}) };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `${collectionUrl}/${kind}`,
    type: 'object',
    title: l.title,
    ...(l.abstract ? { description: l.abstract } : {}),
    properties,
    ...(kind === 'queryables' ? { additionalProperties: false } : {}),
  };
}
