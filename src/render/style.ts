/**
 * The style model of the map renderer: what to paint for each kind of geometry. A style has one
 * symbolizer per kind (a layer of mixed geometries uses all three); sizes are in pixels at 96 DPI and
 * scaled by the request's DPI. Styles stored in the database, rules, classes, labels and SLD import come
 * next (issue 9); for now every layer has the default style, named `default`.
 */

/** CSS colour as the canvas takes it (`#rrggbb`, `rgba(…)`). */
export type Color = string;

export interface PolygonSymbolizer {
  fill: Color | null;
  stroke: Color | null;
  strokeWidth: number;
}

export interface LineSymbolizer {
  stroke: Color;
  strokeWidth: number;
}

export interface PointSymbolizer {
  /** Circle radius in pixels. */
  radius: number;
  fill: Color | null;
  stroke: Color | null;
  strokeWidth: number;
}

export interface MapStyle {
  name: string;
  title: string;
  polygon: PolygonSymbolizer;
  line: LineSymbolizer;
  point: PointSymbolizer;
}

export const DEFAULT_STYLE_NAME = 'default';

/** The default style: a translucent blue fill with a darker outline, dark blue lines, orange dots. */
export const DEFAULT_STYLE: MapStyle = Object.freeze({
  name: DEFAULT_STYLE_NAME,
  title: 'Style par défaut',
  polygon: { fill: 'rgba(66, 133, 204, 0.35)', stroke: '#1f4e8c', strokeWidth: 1 },
  line: { stroke: '#1f4e8c', strokeWidth: 1.5 },
  point: { radius: 4, fill: '#e67e22', stroke: '#7a3e00', strokeWidth: 1 },
}) as MapStyle;

/** The styles a layer offers (the default first). */
export function stylesOf(_layerName: string): MapStyle[] {
  return [DEFAULT_STYLE];
}

/** A layer's style by name; '' and 'default' (any case) are the default. Undefined when unknown. */
export function styleOf(layerName: string, name: string | undefined): MapStyle | undefined {
  const styles = stylesOf(layerName);
  if (!name || name.toLowerCase() === DEFAULT_STYLE_NAME) return styles[0];
  return styles.find((s) => s.name === name);
}

/** How far (pixels) a symbol reaches beyond its geometry: the margin of the map query's bbox. */
export function symbolReach(style: MapStyle, scale: number): number {
  const p = style.point;
  return Math.ceil((Math.max(p.radius + p.strokeWidth, style.line.strokeWidth, style.polygon.strokeWidth) + 1) * scale);
}
