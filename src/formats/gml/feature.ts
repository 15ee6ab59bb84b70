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

/** `<sdi:x xsi:nil="true"/>`: a NULL of a nillable property (the document root declares xsi). */
const nilElement = (prefix: string, name: string) => `'<${prefix}:${name.replace(/["'<>&]/g, '')} xsi:nil="true"/>'`;

/**
 * The attribute elements in schema order. Without `nil`, NULLs are left out (one xmlforest for the row). With
 * `nil`, a NULL of a nullable column is written `<sdi:x xsi:nil="true"/>` in its place (GML 3.2 §8.2.3.2, the
 * application schema declares it nillable): WFS clients then read a NULL rather than a missing value, and
 * PropertyIsNil selects exactly the features that carry xsi:nil (the OGC suite checks it).
 */
function propertyElements(t: EncodeTarget, nil: boolean): string {
  if (t.columns.length === 0) return `''`;
  const item = (c: (typeof t.columns)[number]) => {
    const value = c.kind === 'json' || c.kind === 'other' ? `${columnRef(c.name)}::text` : columnRef(c.name);
    return `${value} AS "${t.prefix}:${c.name.replace(/"/g, '')}"`;
  };
  const all = `COALESCE(xmlforest(${t.columns.map(item).join(', ')})::text, '')`;
  const nullable = t.columns.filter((c) => !c.notNull);
  if (!nil || nullable.length === 0) return all;
  // A row without NULL (most rows) takes the one-xmlforest path: the per-column one costs ~25 % more (psql, the
  // attributes of communes_points × 20, 35,520 rows, best of 6: 257 ms vs 328 ms; with the num_nulls test, 255 ms).
  // NOT NULL columns are never nil: consecutive ones share one xmlforest; concat() skips their NULL.
  const parts: string[] = [];
  let run: string[] = [];
  const flush = () => {
    if (run.length) parts.push(`xmlforest(${run.join(', ')})::text`);
    run = [];
  };
  for (const c of t.columns) {
    if (c.notNull) {
      run.push(item(c));
      continue;
    }
    flush();
    parts.push(`COALESCE(xmlforest(${item(c)})::text, ${nilElement(t.prefix, c.name)})`);
  }
  flush();
  const nulls = variadic(nullable.map((c) => columnRef(c.name)), (a) => `num_nulls(${a.join(', ')})`, ' + ');
  return `CASE WHEN ${nulls} = 0 THEN ${all} ELSE ${variadic(parts, (a) => `concat(${a.join(', ')})`, ' || ')} END`;
}

/** PostgreSQL functions take at most 100 arguments (FUNC_MAX_ARGS): wide tables are written in groups of 90. */
function variadic(args: string[], call: (a: string[]) => string, join: string): string {
  const groups: string[] = [];
  for (let i = 0; i < args.length; i += 90) groups.push(call(args.slice(i, i + 90)));
  return groups.length === 1 ? groups[0]! : `(${groups.join(join)})`;
}

function geometryElement(t: EncodeTarget, params: SqlParams, version: GmlVersion, idText: string, nil: boolean): string {
  const g = t.layer.geometry!;
  const none = nil && !g.notNull ? nilElement(t.prefix, g.column) : `''`;
  const geom = geometryExpression(t, params);
  const digits = coordinateDecimals(t.outputCrs.srid);
  const srid = t.outputCrs.srid;
  let gml: string;
  if (version === '2') {
    gml = `ST_AsGML(2, ${geom}, ${digits}, 0)`;
    return `COALESCE('<${t.prefix}:${g.column}>' || ${gml} || '</${t.prefix}:${g.column}>', ${none})`;
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
  return `COALESCE('<${t.prefix}:${g.column}>' || ${gml} || '</${t.prefix}:${g.column}>', ${none})`;
}

/**
 * SQL expression producing one feature member's text. `nil`: NULLs as xsi:nil elements (the WFS, whose
 * documents declare xsi and whose schemas declare the properties nillable); otherwise left out.
 */
export function gmlFeatureSql(t: EncodeTarget, params: SqlParams, version: GmlVersion, nil = false): string {
  const type = `${t.prefix}:${t.layer.name}`;
  const idText = sqlXmlAttr(featureIdText(t, params));
  const idAttr = version === '2' ? 'fid' : 'gml:id';
  const open = version === '3.2' ? '<wfs:member>' : '<gml:featureMember>';
  const close = version === '3.2' ? '</wfs:member>' : '</gml:featureMember>';
  const geometry = t.includeGeometry && t.layer.geometry ? ` || ${geometryElement(t, params, version, idText, nil)}` : '';
  return `'${open}<${type} ${idAttr}="' || ${idText} || '">' || ${propertyElements(t, nil)}${geometry} || '</${type}>${close}'`;
}

/** A bare feature (GetFeatureById): same element, namespaces (xsi among them) declared on it; NULLs as xsi:nil. */
export function gmlBareFeatureSql(t: EncodeTarget, params: SqlParams, nsDecls: string): string {
  const type = `${t.prefix}:${t.layer.name}`;
  const idText = sqlXmlAttr(featureIdText(t, params));
  const geometry = t.includeGeometry && t.layer.geometry ? ` || ${geometryElement(t, params, '3.2', idText, true)}` : '';
  return `'<${type} ' || ${params.add(nsDecls, 'text')} || ' gml:id="' || ${idText} || '">' || ${propertyElements(t, true)}${geometry} || '</${type}>'`;
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
