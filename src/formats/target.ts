/**
 * What an encoder needs to turn one row into one feature's text in SQL. Shared by every format so that
 * reprojection, axis swapping and precision are decided once.
 */
import type { Layer, LayerColumn } from '../catalog/layers.js';
import type { CrsRef } from '../crs/identifiers.js';
import type { SqlParams } from '../db/sql.js';
import { columnRef } from '../db/identifiers.js';
import { isGeographic } from '../crs/facts.js';

export interface EncodeTarget {
  layer: Layer;
  /** Application-schema prefix (e.g. `sdi`) used for element names in XML formats. */
  prefix: string;
  /** Selected attribute columns, in layer order. */
  columns: LayerColumn[];
  includeGeometry: boolean;
  outputCrs: CrsRef;
  /** Write coordinates northing/latitude first (decided by the protocol from the CRS form). */
  swapXY: boolean;
  /** Prefix of feature ids in the output (`communes.` for WFS; '' for OGC API). */
  idPrefix: string;
}

/** Decimal places: about a millimetre in either degrees or metres. */
export function coordinateDecimals(srid: number): number {
  return isGeographic(srid) ? 8 : 3;
}

/** The geometry column, transformed to the output CRS in PostGIS and axis-swapped if asked. */
export function geometryExpression(t: EncodeTarget, params: SqlParams): string {
  const g = t.layer.geometry!;
  let expr = columnRef(g.column);
  if (t.outputCrs.srid !== g.srid) expr = `ST_Transform(${expr}, ${params.add(t.outputCrs.srid, 'integer')})`;
  if (t.swapXY) expr = `ST_FlipCoordinates(${expr})`;
  return expr;
}

/** Feature id as SQL text, with the protocol's prefix. */
export function featureIdText(t: EncodeTarget, params: SqlParams): string {
  const id = `${columnRef(t.layer.idColumn)}::text`;
  return t.idPrefix ? `(${params.add(t.idPrefix, 'text')} || ${id})` : id;
}

/** Escape text for an XML attribute value in SQL (ids may be strings). */
export function sqlXmlAttr(expr: string): string {
  return `replace(replace(replace(${expr}, '&', '&amp;'), '<', '&lt;'), '"', '&quot;')`;
}
