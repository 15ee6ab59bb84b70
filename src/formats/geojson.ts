/**
 * GeoJSON (RFC 7946 shape): one Feature per row, built by PostgreSQL (json_build_object escapes values,
 * ST_AsGeoJSON writes coordinates), concatenated by the collection writer as rows arrive.
 */
import type { SqlParams } from '../db/sql.js';
import { columnRef } from '../db/identifiers.js';
import { coordinateDecimals, geometryExpression, type EncodeTarget } from './target.js';
import { rowsToBuffer } from './chunk.js';

const MAX_ARGS_PER_OBJECT = 50; // json_build_object takes at most 100 arguments

export function geojsonFeatureSql(t: EncodeTarget, params: SqlParams, numericId: boolean): string {
  const id = numericId && !t.idPrefix ? `to_json(${columnRef(t.layer.idColumn)})::text` : `to_json(${t.idPrefix ? `${params.add(t.idPrefix, 'text')} || ` : ''}${columnRef(t.layer.idColumn)}::text)::text`;
  const geometry = t.includeGeometry && t.layer.geometry
    ? `COALESCE(ST_AsGeoJSON(${geometryExpression(t, params)}, ${coordinateDecimals(t.outputCrs.srid)}, 0), 'null')`
    : `'null'`;
  return `'{"type":"Feature","id":' || ${id} || ',"geometry":' || ${geometry} || ',"properties":' || ${propertiesObject(t)} || '}'`;
}

function propertiesObject(t: EncodeTarget): string {
  if (t.columns.length === 0) return `'{}'`;
  const chunks: string[] = [];
  for (let i = 0; i < t.columns.length; i += MAX_ARGS_PER_OBJECT) {
    const args = t.columns.slice(i, i + MAX_ARGS_PER_OBJECT).map((c) => `'${c.name.replace(/'/g, "''")}', ${columnRef(c.name)}`);
    chunks.push(chunks.length || t.columns.length > MAX_ARGS_PER_OBJECT ? `jsonb_build_object(${args.join(', ')})` : `json_build_object(${args.join(', ')})`);
  }
  return chunks.length === 1 ? `${chunks[0]}::text` : `(${chunks.join(' || ')})::text`;
}

export interface GeoJsonCollectionParts {
  /** Text between '{"type":"FeatureCollection"' and '"features":[' (e.g. name, crs member). */
  head?: Record<string, unknown>;
  /** Members written after the features array, once the count is known. */
  tail: (returned: number) => Promise<Record<string, unknown>> | Record<string, unknown>;
  /** 'lines': one feature per line (files of the download service, easy to split and diff); 'compact' by default. */
  layout?: 'compact' | 'lines';
}

/**
 * The one GeoJSON FeatureCollection writer (WFS, OGC API Features, downloads): head members, the features as
 * the cursor yields them, then the tail members (numberMatched, links…) once the number written is known.
 */
export async function* geojsonCollection(parts: GeoJsonCollectionParts, first: string[], rest: AsyncIterable<string[]>): AsyncGenerator<string | Buffer> {
  const nl = parts.layout === 'lines' ? '\n' : '';
  const sep = ',' + nl;
  let head = '{"type":"FeatureCollection"';
  for (const [k, v] of Object.entries(parts.head ?? {})) head += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
  let n = first.length;
  yield head + ',"features":[' + nl;
  if (first.length) yield rowsToBuffer(first, sep);
  for await (const batch of rest) {
    if (batch.length) yield rowsToBuffer(batch, sep, n > 0);
    n += batch.length;
  }
  const tail = await parts.tail(n);
  let s = nl + ']';
  for (const [k, v] of Object.entries(tail)) s += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
  yield s + '}\n';
}
