/** Namespace URIs used across the OGC readers and writers. */
export const NS = {
  wfs20: 'http://www.opengis.net/wfs/2.0',
  wfs: 'http://www.opengis.net/wfs',
  fes20: 'http://www.opengis.net/fes/2.0',
  ogc: 'http://www.opengis.net/ogc',
  ows11: 'http://www.opengis.net/ows/1.1',
  ows: 'http://www.opengis.net/ows',
  gml32: 'http://www.opengis.net/gml/3.2',
  gml: 'http://www.opengis.net/gml',
  xlink: 'http://www.w3.org/1999/xlink',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  xs: 'http://www.w3.org/2001/XMLSchema',
  csw202: 'http://www.opengis.net/cat/csw/2.0.2',
  gmd: 'http://www.isotc211.org/2005/gmd',
} as const;

export const SCHEMA_LOCATIONS = {
  wfs20: 'http://schemas.opengis.net/wfs/2.0/wfs.xsd',
  wfs11: 'http://schemas.opengis.net/wfs/1.1.0/wfs.xsd',
  wfs10: 'http://schemas.opengis.net/wfs/1.0.0/WFS-basic.xsd',
  gml321: 'http://schemas.opengis.net/gml/3.2.1/gml.xsd',
  gml311: 'http://schemas.opengis.net/gml/3.1.1/base/gml.xsd',
  gml212: 'http://schemas.opengis.net/gml/2.1.2/feature.xsd',
  ows11: 'http://schemas.opengis.net/ows/1.1.0/owsExceptionReport.xsd',
} as const;
