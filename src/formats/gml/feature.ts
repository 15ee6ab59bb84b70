/**
 * GML feature members built in SQL: property elements by xmlforest (escaping, ISO dates, nulls omitted),
 * geometry by ST_AsGML in the requested GML version, and the client's srsName echoed verbatim.
 *
 *   GML 3.2  (WFS 2.0)  <wfs:member><sdi:t gml:id="t.1">…<sdi:geom><gml:… gml:id="t.1.geom"></sdi:geom></sdi:t></wfs:member>
 *   GML 3.1.1 (WFS 1.1) <gml:featureMember><sdi:t gml:id="t.1">…</sdi:t></gml:featureMember>
 *   GML 2    (WFS 1.0)  <gml:featureMember><sdi:t fid="t.1">…</sdi:t></gml:featureMember>
 */
import type { SqlParams } from '../../db/sql.js';
import { columnRef } from '../../db/identifiers.js';
import { coordinateDecimals, featureIdText, geometryExpression, sqlXmlAttr, type EncodeTarget } from '../target.js';

export type GmlVersion = '3.2' | '3.1.1' | '2';

export const GML_NS: Record<GmlVersion, string> = {
  '3.2': 'http://www.opengis.net/gml/3.2',
  '3.1.1': 'http://www.opengis.net/gml',
  '2': 'http://www.opengis.net/gml',
};

// ST_AsGML options: 1 = long CRS form (urn:ogc:def:crs:EPSG::n), 4 = LineString instead of Curve.
const OPT_LONG_CRS = 1;
const OPT_LINESTRING = 4;

function propertyElements(t: EncodeTarget): string {
  if (t.columns.length === 0) return `''`;
  const items = t.columns.map((c) => {
    const value = c.kind === 'json' || c.kind === 'other' ? `${columnRef(c.name)}::text` : columnRef(c.name);
    return `${value} AS "${t.prefix}:${c.name.replace(/"/g, '')}"`;
  });
  return `COALESCE(xmlforest(${items.join(', ')})::text, '')`;
}

function geometryElement(t: EncodeTarget, params: SqlParams, version: GmlVersion, idText: string): string {
  const g = t.layer.geometry!;
  const geom = geometryExpression(t, params);
  const digits = coordinateDecimals(t.outputCrs.srid);
  const srid = t.outputCrs.srid;
  let gml: string;
  if (version === '2') {
    gml = `ST_AsGML(2, ${geom}, ${digits}, 0)`;
    return `COALESCE('<${t.prefix}:${g.column}>' || ${gml} || '</${t.prefix}:${g.column}>', '')`;
  }
  const opts = OPT_LONG_CRS | OPT_LINESTRING;
  if (version === '3.2') {
    const gid = `${idText} || '.geom'`;
    // ST_AsGML repeats this id on the members of multi-geometries: numberGeometryIds() renumbers them.
    gml = `ST_AsGML(3, ${geom}, ${digits}, ${opts}, 'gml', ${gid})`;
  } else {
    gml = `ST_AsGML(3, ${geom}, ${digits}, ${opts}, 'gml')`;
  }
  const longForm = `urn:ogc:def:crs:EPSG::${srid}`;
  if (t.outputCrs.text !== longForm) {
    gml = `replace(${gml}, 'srsName="${longForm}"', ${params.add(`srsName="${t.outputCrs.text.replace(/[&<"]/g, '')}"`, 'text')})`;
  }
  return `COALESCE('<${t.prefix}:${g.column}>' || ${gml} || '</${t.prefix}:${g.column}>', '')`;
}

/** SQL expression producing one feature member's text. */
export function gmlFeatureSql(t: EncodeTarget, params: SqlParams, version: GmlVersion): string {
  const type = `${t.prefix}:${t.layer.name}`;
  const idText = sqlXmlAttr(featureIdText(t, params));
  const idAttr = version === '2' ? 'fid' : 'gml:id';
  const open = version === '3.2' ? '<wfs:member>' : '<gml:featureMember>';
  const close = version === '3.2' ? '</wfs:member>' : '</gml:featureMember>';
  const geometry = t.includeGeometry && t.layer.geometry ? ` || ${geometryElement(t, params, version, idText)}` : '';
  return `'${open}<${type} ${idAttr}="' || ${idText} || '">' || ${propertyElements(t)}${geometry} || '</${type}>${close}'`;
}

/** A bare feature (GetFeatureById): same element, namespaces declared on it. */
export function gmlBareFeatureSql(t: EncodeTarget, params: SqlParams, nsDecls: string): string {
  const type = `${t.prefix}:${t.layer.name}`;
  const idText = sqlXmlAttr(featureIdText(t, params));
  const geometry = t.includeGeometry && t.layer.geometry ? ` || ${geometryElement(t, params, '3.2', idText)}` : '';
  return `'<${type} ' || ${params.add(nsDecls, 'text')} || ' gml:id="' || ${idText} || '">' || ${propertyElements(t)}${geometry} || '</${type}>'`;
}

/** Does this layer's GML 3.2 output need numberGeometryIds (multi or generic geometry type)? */
export function needsGeometryIdNumbering(geometryType: string | undefined): boolean {
  return !!geometryType && /^(MULTI|GEOMETRY)/.test(geometryType);
}

const MARK = '.geom"';

/**
 * GML 3.2 makes gml:id mandatory and document-unique on every geometry, including the members of a
 * MultiSurface; ST_AsGML writes the one id it is given on each of them. Renumber the repeats within one
 * feature's text: id, id.1, id.2, … Done here rather than in SQL (a per-row SQL string split cost 4× the
 * whole query), with indexOf rather than a regular expression (on the hot path). Only the text after the
 * first `.geom"` is touched: that is the geometry element, which comes last and where attribute values
 * (whose `<` are escaped) cannot be.
 */
export function numberGeometryIds(feature: string): string {
  const first = feature.indexOf(MARK);
  if (first < 0) return feature;
  let next = feature.indexOf(MARK, first + MARK.length);
  if (next < 0) return feature;
  let out = feature.slice(0, next);
  let n = 0;
  while (next >= 0) {
    out += `.geom.${++n}"`;
    const from = next + MARK.length;
    next = feature.indexOf(MARK, from);
    out += next < 0 ? feature.slice(from) : feature.slice(from, next);
  }
  return out;
}
