/**
 * SQL identifiers: quoting, the column reference of the feature table alias, and the resolution of a property
 * name a client wrote to a column of a layer. A leaf module (no imports): the filter compiler, the query planner
 * and compiler, the encoders and the download all use it.
 */

/** Quote an identifier that comes from the database catalogue (never from a request). */
export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/** A column of the feature table, which every compiled statement reads under the alias `t`. */
export function columnRef(name: string): string {
  return `t.${quoteIdent(name)}`;
}

/** What property resolution needs of a layer (a src/catalog Layer is one). */
export interface PropertySource {
  idColumn: string;
  columns: ReadonlyArray<{ name: string }>;
  geometry?: { column: string };
}

/** Resolve a property name written by a client (prefix stripped, case-insensitive fallback) to a column. */
export function resolveProperty(layer: PropertySource, raw: string): string | undefined {
  const name = raw.includes(':') ? raw.slice(raw.lastIndexOf(':') + 1) : raw;
  const all = [layer.idColumn, ...layer.columns.map((c) => c.name), ...(layer.geometry ? [layer.geometry.column] : [])];
  return all.find((c) => c === name) ?? all.find((c) => c.toLowerCase() === name.toLowerCase());
}
