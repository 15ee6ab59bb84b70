/**
 * INFO_FORMATs of GetFeatureInfo, as QGIS classifies them (shared/research/wfs-wms.md §1.2): GeoJSON and
 * GML are read as features (identify "Feature" mode), HTML and plain text are shown as they are.
 */
export type InfoFormat = 'geojson' | 'gml' | 'html' | 'text';

const FORMATS: Array<[string, InfoFormat]> = [
  ['application/json', 'geojson'],
  ['application/geo+json', 'geojson'],
  ['text/xml', 'gml'],
  ['application/vnd.ogc.gml', 'gml'],
  ['text/html', 'html'],
  ['text/plain', 'text'],
];

export const FEATURE_INFO_FORMATS: string[] = FORMATS.map((f) => f[0]);

export const INFO_CONTENT_TYPE: Record<InfoFormat, string> = {
  geojson: 'application/json; charset=utf-8',
  gml: 'text/xml; charset=utf-8',
  html: 'text/html; charset=utf-8',
  text: 'text/plain; charset=utf-8',
};

export function infoFormatOf(text: string): InfoFormat | undefined {
  const t = text.trim().toLowerCase();
  return FORMATS.find((f) => f[0] === t)?.[1];
}
