/**
 * What an encoder needs to turn one row into one feature's text in SQL. Shared by every format so that
 * reprojection, axis swapping and precision are decided once.
 */
import type { Layer, LayerColumn } from '../catalog/layers.js';
import { isYX, type CrsRef } from '../crs/identifiers.js';
import type { SqlParams } from '../db/sql.js';
import { columnRef } from '../db/identifiers.js';
import { isGeographic } from '../crs/facts.js';
import type { FeatureQuery } from '../query/plan.js';
import { encodedLayer } from '../query/compile.js';

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

export interface EncodeOptions {
  /** Application-schema prefix of the XML formats (config namespace.prefix). */
  prefix: string;
  /** Prefix of feature ids: `<layer>.` for WFS and WMS (gml:id must be an NCName), '' for OGC API and downloads. */
  idPrefix: string;
  /**
   * 'crs': coordinates in the axis order of the CRS as the client named it (northing first for a URN/URI of a
   * lat/lon CRS: WFS 1.1/2.0 GML, OGC API Features Part 2, WMS 1.3.0 GML); 'xy': always easting/longitude first
   * (GeoJSON as RFC 7946 and WFS 1.0.0 write it, CSV, downloads).
   */
  axisOrder: 'crs' | 'xy';
}

/**
 * The one place where a plan becomes what the encoders write: the selected columns, whether the geometry goes
 * out, which geometry column (the clipped one of a clipped extract), the output CRS and the axis order.
 */
export function encodeTarget(q: FeatureQuery, o: EncodeOptions): EncodeTarget {
  return {
    layer: encodedLayer(q),
    prefix: o.prefix,
    columns: q.properties ? q.layer.columns.filter((c) => q.properties!.includes(c.name)) : q.layer.columns,
    includeGeometry: q.includeGeometry && !!q.layer.geometry,
    outputCrs: q.outputCrs,
    swapXY: o.axisOrder === 'crs' && isYX(q.outputCrs),
    idPrefix: o.idPrefix,
  };
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
