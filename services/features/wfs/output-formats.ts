/**
 * WFS OUTPUTFORMAT values → encoders. Matching ignores case, spaces and the `+` that an unencoded KVP
 * turns into a space (`application/gml+xml; version=3.2` arrives as `application/gml xml; version=3.2`).
 */
import { invalid } from '../../../src/ogc/errors.js';
import type { GmlVersion } from '../../../src/formats/gml/feature.js';
import type { WfsVersion } from './request.js';

export type OutputFormat =
  | { kind: 'gml'; gml: GmlVersion; contentType: string }
  | { kind: 'geojson'; contentType: string }
  | { kind: 'csv'; contentType: string };

const GML32: OutputFormat = { kind: 'gml', gml: '3.2', contentType: 'application/gml+xml; version=3.2' };
const GML311: OutputFormat = { kind: 'gml', gml: '3.1.1', contentType: 'text/xml; subtype=gml/3.1.1' };
const GML2: OutputFormat = { kind: 'gml', gml: '2', contentType: 'text/xml; subtype=gml/2.1.2' };

const TABLE: Array<[string[], OutputFormat]> = [
  [['application/gml+xml; version=3.2', 'text/xml; subtype=gml/3.2.1', 'text/xml; subtype=gml/3.2', 'application/gml+xml; version=3.2.1', 'gml32', 'gml3.2'], GML32],
  [['text/xml; subtype=gml/3.1.1', 'application/gml+xml; version=3.1', 'gml3', 'gml311'], GML311],
  [['text/xml; subtype=gml/2.1.2', 'gml2', 'xmlschema'], GML2],
  [['application/json', 'json'], { kind: 'geojson', contentType: 'application/json; charset=utf-8' }],
  [['application/geo+json', 'geojson', 'application/vnd.geo+json'], { kind: 'geojson', contentType: 'application/geo+json' }],
  [['text/csv', 'csv'], { kind: 'csv', contentType: 'text/csv; charset=utf-8' }],
];

const norm = (s: string) => s.toLowerCase().replace(/[\s+"]/g, '');

/** Formats listed in capabilities, per version. */
export const ADVERTISED: Record<WfsVersion, string[]> = {
  '2.0.0': ['application/gml+xml; version=3.2', 'text/xml; subtype=gml/3.2.1', 'text/xml; subtype=gml/3.1.1', 'text/xml; subtype=gml/2.1.2', 'application/json', 'application/geo+json', 'text/csv'],
  '1.1.0': ['text/xml; subtype=gml/3.1.1', 'text/xml; subtype=gml/3.2.1', 'text/xml; subtype=gml/2.1.2', 'application/json', 'text/csv'],
  '1.0.0': ['GML2', 'GML3', 'application/json', 'text/csv'],
};

export function defaultFormat(version: WfsVersion): OutputFormat {
  return version === '2.0.0' ? GML32 : version === '1.1.0' ? GML311 : GML2;
}

export function outputFormat(value: string | undefined, version: WfsVersion, locator = 'outputFormat'): OutputFormat {
  if (!value) return defaultFormat(version);
  const n = norm(value);
  // "text/xml" alone (or "GML3" in 1.0) means the version's own GML.
  if (n === 'text/xml' || n === 'application/xml' || n === norm('application/gml+xml')) return defaultFormat(version);
  for (const [names, f] of TABLE) if (names.some((x) => norm(x) === n)) return f;
  throw invalid(locator, `Output format '${value.slice(0, 80)}' is not supported`);
}
