/**
 * CRS identifiers as OGC clients write them, and the axis order each form implies.
 *
 *   EPSG:4326                                   → x/y (lon/lat) always: the "traditional GIS" form
 *   http://www.opengis.net/gml/srs/epsg.xml#4326 → x/y always (GML 2 / WFS 1.0 form)
 *   urn:ogc:def:crs:EPSG::4326, urn:x-ogc:def:crs:EPSG:4326,
 *   http://www.opengis.net/def/crs/EPSG/0/4326  → the EPSG axis order (lat/lon for 4326, N/E for 3035)
 *   CRS:84, urn:ogc:def:crs:OGC:1.3:CRS84,
 *   http://www.opengis.net/def/crs/OGC/1.3/CRS84 → WGS 84 lon/lat
 *
 * This is what QGIS (Honour_EPSG_if_urn), GDAL and GeoServer do, and what CITE checks.
 * Axis order is decided here and only here.
 */
import { axisIsNorthingFirst } from './facts.js';

export type CrsForm = 'epsg' | 'urn' | 'uri' | 'gml-srs' | 'crs84';

export interface CrsRef {
  srid: number;
  form: CrsForm;
  /** The identifier exactly as the client wrote it (echoed back in responses). */
  text: string;
}

const PATTERNS: Array<[RegExp, CrsForm]> = [
  [/^EPSG:(\d+)$/i, 'epsg'],
  [/^urn:ogc:def:crs:EPSG:[\d.]*:(\d+)$/i, 'urn'],
  [/^urn:x-ogc:def:crs:EPSG:(?:[\d.]*:)?(\d+)$/i, 'urn'],
  [/^https?:\/\/www\.opengis\.net\/def\/crs\/EPSG\/[^/]+\/(\d+)$/i, 'uri'],
  [/^https?:\/\/www\.opengis\.net\/gml\/srs\/epsg\.xml#(\d+)$/i, 'gml-srs'],
];

const CRS84 = [
  /^CRS:84$/i,
  /^urn:ogc:def:crs:OGC:1\.3:CRS84$/i,
  /^urn:ogc:def:crs:OGC::CRS84$/i,
  /^https?:\/\/www\.opengis\.net\/def\/crs\/OGC\/1\.3\/CRS84$/i,
];

/** Parse an identifier; returns undefined when it is not a CRS identifier we understand. */
export function parseCrs(text: string): CrsRef | undefined {
  const t = text.trim();
  if (CRS84.some((re) => re.test(t))) return { srid: 4326, form: 'crs84', text: t };
  for (const [re, form] of PATTERNS) {
    const m = re.exec(t);
    if (m) return { srid: Number(m[1]), form, text: t };
  }
  return undefined;
}

/** True when coordinates written in this CRS form come northing/latitude first. */
export function isYX(ref: CrsRef): boolean {
  return (ref.form === 'urn' || ref.form === 'uri') && axisIsNorthingFirst(ref.srid);
}

export const crsUrn = (srid: number) => `urn:ogc:def:crs:EPSG::${srid}`;
export const crsUri = (srid: number) => `http://www.opengis.net/def/crs/EPSG/0/${srid}`;
export const CRS84_URI = 'http://www.opengis.net/def/crs/OGC/1.3/CRS84';

/** Build a CrsRef in the given form for a code (used for defaults). */
export function crsRef(srid: number, form: CrsForm = 'urn'): CrsRef {
  const text =
    form === 'epsg' ? `EPSG:${srid}` : form === 'uri' ? crsUri(srid) : form === 'crs84' ? CRS84_URI : form === 'gml-srs' ? `http://www.opengis.net/gml/srs/epsg.xml#${srid}` : crsUrn(srid);
  return { srid, form, text };
}
