/**
 * Application schemas (XSD) for DescribeFeatureType, in the shape QGIS's schema analyser expects:
 * a top-level element per type with `type="prefix:nameType"`, a complexType extending gml:AbstractFeatureType,
 * simple properties typed xs:*, the geometry typed with a literal `gml:…PropertyType`.
 */
import type { Layer, ColumnKind } from '../../catalog/layers.js';
import { xmlEscape, XML_DECLARATION } from '../../xml/escape.js';
import { GML_NS, type GmlVersion } from './feature.js';

const XSD_TYPE: Record<ColumnKind, string> = {
  string: 'xs:string',
  integer: 'xs:int',
  bigint: 'xs:long',
  number: 'xs:double',
  boolean: 'xs:boolean',
  date: 'xs:date',
  datetime: 'xs:dateTime',
  time: 'xs:time',
  json: 'xs:string',
  other: 'xs:string',
};

const GML_SCHEMA_LOCATION: Record<GmlVersion, string> = {
  '3.2': 'http://schemas.opengis.net/gml/3.2.1/gml.xsd',
  '3.1.1': 'http://schemas.opengis.net/gml/3.1.1/base/gml.xsd',
  '2': 'http://schemas.opengis.net/gml/2.1.2/feature.xsd',
};

export function geometryPropertyType(type: string, version: GmlVersion): string {
  const t = type.toUpperCase().replace(/[ZM]+$/, '');
  if (version === '2') {
    const m: Record<string, string> = { POINT: 'PointPropertyType', LINESTRING: 'LineStringPropertyType', POLYGON: 'PolygonPropertyType', MULTIPOINT: 'MultiPointPropertyType', MULTILINESTRING: 'MultiLineStringPropertyType', MULTIPOLYGON: 'MultiPolygonPropertyType' };
    return 'gml:' + (m[t] ?? 'GeometryPropertyType');
  }
  const m: Record<string, string> = { POINT: 'PointPropertyType', LINESTRING: 'CurvePropertyType', POLYGON: 'SurfacePropertyType', MULTIPOINT: 'MultiPointPropertyType', MULTILINESTRING: 'MultiCurvePropertyType', MULTIPOLYGON: 'MultiSurfacePropertyType' };
  return 'gml:' + (m[t] ?? 'GeometryPropertyType');
}

export function applicationSchema(layers: Layer[], ns: { prefix: string; uri: string }, version: GmlVersion, gmlSchemaLocation = GML_SCHEMA_LOCATION[version]): string {
  const p = ns.prefix;
  let s = XML_DECLARATION;
  s += `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:gml="${GML_NS[version]}" xmlns:${p}="${xmlEscape(ns.uri)}" targetNamespace="${xmlEscape(ns.uri)}" elementFormDefault="qualified" version="1.0">\n`;
  s += `  <xs:import namespace="${GML_NS[version]}" schemaLocation="${xmlEscape(gmlSchemaLocation)}"/>\n`;
  for (const l of layers) {
    const base = version === '2' ? 'gml:AbstractFeatureType' : 'gml:AbstractFeatureType';
    const subst = version === '3.2' ? 'gml:AbstractFeature' : 'gml:_Feature';
    s += `  <xs:element name="${l.name}" type="${p}:${l.name}Type" substitutionGroup="${subst}"/>\n`;
    s += `  <xs:complexType name="${l.name}Type"><xs:complexContent><xs:extension base="${base}"><xs:sequence>\n`;
    // minOccurs 0 everywhere (PROPERTYNAME may leave a property out); nillable where the column may be NULL: the
    // WFS writes such a NULL as xsi:nil="true" (src/formats/gml/feature.ts), a NOT NULL column never.
    const nillable = (notNull?: boolean) => (notNull ? '' : ' nillable="true"');
    for (const c of l.columns) {
      s += `    <xs:element name="${xmlEscape(c.name)}" type="${XSD_TYPE[c.kind]}" minOccurs="0"${nillable(c.notNull)}/>\n`;
    }
    if (l.geometry) s += `    <xs:element name="${xmlEscape(l.geometry.column)}" type="${geometryPropertyType(l.geometry.type, version)}" minOccurs="0"${nillable(l.geometry.notNull)}/>\n`;
    s += `  </xs:sequence></xs:extension></xs:complexContent></xs:complexType>\n`;
  }
  s += '</xs:schema>\n';
  return s;
}
