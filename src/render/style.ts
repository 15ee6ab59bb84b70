/**
 * The style model of the map renderer (issue 9), close to SLD 1.0 / SE 1.1 so that QGIS's exports map onto it
 * one to one: a style is a list of rules; a rule has an optional filter (the project's filter AST, compiled in
 * PostGIS by the one filter compiler), or is an "else" rule (drawn for the features no other rule drew), an
 * optional scale range, and symbolizers (polygon, line, point mark, text). Attribute-driven classes are rules
 * whose filters split an attribute's values (QGIS's categorised and graduated renderers export exactly so).
 *
 * Sizes are pixels at 96 DPI, scaled by the request's DPI. Colours are `#rrggbb` with a separate opacity.
 * Styles live in the database (src/styles/store.ts); the built-in defaults below are those the migration
 * seeds for each kind of geometry, used as they are when that row is absent.
 */
import type { Filter } from '../filter/ast.js';

export interface Fill {
  /** `#rrggbb`. */
  color: string;
  /** 0–1. */
  opacity: number;
}

export interface Stroke {
  color: string;
  opacity: number;
  /** Pixels. */
  width: number;
  /** Dash and gap lengths in pixels; absent = solid. */
  dasharray?: number[];
  linejoin?: 'miter' | 'round' | 'bevel';
  linecap?: 'butt' | 'round' | 'square';
}

export const MARKS = ['circle', 'square', 'triangle', 'star', 'cross', 'x'] as const;
export type MarkName = (typeof MARKS)[number];

export interface PolygonSymbolizer {
  kind: 'polygon';
  fill: Fill | null;
  stroke: Stroke | null;
}

/** Strokes lines, and the outlines of polygons (as SLD does). */
export interface LineSymbolizer {
  kind: 'line';
  stroke: Stroke;
}

/** A well-known mark at each point. */
export interface PointSymbolizer {
  kind: 'point';
  mark: MarkName;
  /** Diameter of the mark, pixels. */
  size: number;
  /** Degrees, clockwise. */
  rotation: number;
  fill: Fill | null;
  stroke: Stroke | null;
}

/** A label: literal text and attribute values, concatenated. */
export type LabelPart = { property: string } | { text: string };

export interface TextSymbolizer {
  kind: 'text';
  label: LabelPart[];
  font: { family: string; size: number; weight: 'normal' | 'bold'; style: 'normal' | 'italic' };
  fill: Fill;
  halo: { radius: number; fill: Fill } | null;
  /** Which point of the label's box sits on the anchor: [0, 0] bottom left, [0.5, 0.5] centre (SE AnchorPoint). */
  anchor: [number, number];
  /** Shift of the label from its anchor, pixels, x right and y up (SE Displacement). */
  displacement: [number, number];
}

export type Symbolizer = PolygonSymbolizer | LineSymbolizer | PointSymbolizer | TextSymbolizer;

export interface StyleRule {
  name?: string;
  /** Shown in the legend next to the rule's swatch. */
  title: string;
  /** Features the rule draws; absent = all. */
  filter?: Filter;
  /** The filter as CQL2 text, when it was written so (JSON styles): given back as written. */
  filterText?: string;
  /** SLD ElseFilter: the features no other rule of the style drew at this scale. */
  else?: boolean;
  /** SE: the rule applies when minScale ≤ scale denominator < maxScale. */
  minScale?: number;
  maxScale?: number;
  symbolizers: Symbolizer[];
}

export interface MapStyle {
  name: string;
  title: string;
  abstract?: string;
  rules: StyleRule[];
}

export type GeometryKind = 'point' | 'line' | 'polygon' | 'mixed';
export const GEOMETRY_KINDS: readonly GeometryKind[] = ['point', 'line', 'polygon', 'mixed'];

export const DEFAULT_STYLE_NAME = 'default';

/** The kind of symbols a layer's geometry type takes (GEOMETRY and collections are mixed). */
export function geometryKindOf(type: string): GeometryKind {
  const t = type.toUpperCase();
  if (t.endsWith('POLYGON') || t.endsWith('SURFACE')) return 'polygon';
  if (t.endsWith('LINESTRING') || t.endsWith('CURVE')) return 'line';
  if (t.endsWith('POINT')) return 'point';
  return 'mixed';
}

const BLUE_FILL: Fill = { color: '#4285cc', opacity: 0.35 };
const BLUE_STROKE: Stroke = { color: '#1f4e8c', opacity: 1, width: 1 };
const POLYGON: PolygonSymbolizer = { kind: 'polygon', fill: BLUE_FILL, stroke: BLUE_STROKE };
const LINE: LineSymbolizer = { kind: 'line', stroke: { color: '#1f4e8c', opacity: 1, width: 1.5 } };
const POINT: PointSymbolizer = { kind: 'point', mark: 'circle', size: 8, rotation: 0, fill: { color: '#e67e22', opacity: 1 }, stroke: { color: '#7a3e00', opacity: 1, width: 1 } };

const builtin = (symbolizers: Symbolizer[]): MapStyle => ({ name: DEFAULT_STYLE_NAME, title: 'Style par défaut', rules: [{ title: 'Défaut', symbolizers }] });

/** Translucent blue polygons with a darker outline, dark blue lines, orange dots (seeded by the styles migration). */
export const BUILTIN_DEFAULT_STYLES: Readonly<Record<GeometryKind, MapStyle>> = Object.freeze({
  polygon: builtin([POLYGON]),
  line: builtin([LINE]),
  point: builtin([POINT]),
  mixed: builtin([POLYGON, LINE, POINT]),
});

/** Point radius of the default point style, pixels (GetFeatureInfo's tolerance around points). */
export const DEFAULT_POINT_RADIUS = POINT.size / 2;

/** The OGC standardised rendering pixel: 0.28 mm (WMS 1.3.0 §7.2.4.6.9, SE 1.1 §10.2). */
export const STANDARD_PIXEL_METRES = 0.00028;
/** Metres per degree on the WGS 84 semi-major axis, as the OGC scale formulas take it for geographic CRSs. */
export const METRES_PER_DEGREE = (6378137 * Math.PI) / 180;

/**
 * The scale denominator of a map: ground metres per pixel over the size of a pixel. The pixel is the OGC
 * standard 0.28 mm at the default 96 DPI; a higher DPI (QGIS's DPI, MAP_RESOLUTION) makes it proportionally
 * smaller, as symbol sizes grow by DPI/96: the same map printed at 192 DPI is at twice the scale denominator.
 */
export function scaleDenominator(unitsPerPixel: number, geographic: boolean, dpi = 96): number {
  const metres = unitsPerPixel * (geographic ? METRES_PER_DEGREE : 1);
  return metres / (STANDARD_PIXEL_METRES * (96 / dpi));
}

/** Whether a rule applies at a scale (SE 1.1 §10.2: min inclusive, max exclusive). */
export function ruleInScale(r: StyleRule, scale: number | undefined): boolean {
  if (scale === undefined) return true;
  return (r.minScale === undefined || scale >= r.minScale) && (r.maxScale === undefined || scale < r.maxScale);
}

/** How far (pixels at 96 DPI) a rule's symbols reach beyond their geometry. */
function ruleReach(r: StyleRule): number {
  let m = 0;
  for (const s of r.symbolizers) {
    if (s.kind === 'point') m = Math.max(m, s.size / 2 + (s.stroke?.width ?? 0));
    else if (s.kind === 'line') m = Math.max(m, s.stroke.width);
    else if (s.kind === 'polygon') m = Math.max(m, s.stroke?.width ?? 0);
  }
  return m;
}

/** How far (pixels) the symbols of these rules reach beyond their geometry: the margin of the map query's bbox. */
export function symbolReach(rules: readonly StyleRule[], scale: number): number {
  return Math.ceil((Math.max(0, ...rules.map(ruleReach)) + 1) * scale);
}

/** `rgba(…)` of a colour and an opacity, as the canvas takes it. */
export function cssColor(color: string, opacity: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!m) return color;
  const a = Math.min(1, Math.max(0, opacity));
  return `rgba(${parseInt(m[1]!, 16)}, ${parseInt(m[2]!, 16)}, ${parseInt(m[3]!, 16)}, ${a})`;
}

/** The attribute names a filter reads (its property expressions; spatial operators' geometry names excluded). */
export function filterProperties(f: Filter, out = new Set<string>()): Set<string> {
  const expr = (e: import('../filter/ast.js').Expression): void => {
    if (e.kind === 'property') out.add(e.name);
    else if (e.kind === 'function') e.args.forEach(expr);
    else if (e.kind === 'arithmetic') (expr(e.left), expr(e.right));
  };
  switch (f.kind) {
    case 'and':
    case 'or':
      f.operands.forEach((o) => filterProperties(o, out));
      break;
    case 'not':
      filterProperties(f.operand, out);
      break;
    case 'compare':
      expr(f.left);
      expr(f.right);
      break;
    case 'like':
    case 'isNull':
      expr(f.expr);
      break;
    case 'between':
      [f.expr, f.lower, f.upper].forEach(expr);
      break;
    case 'in':
      [f.expr, ...f.values].forEach(expr);
      break;
    default:
      break;
  }
  return out;
}

/** The attribute names a style's rules read (filters and labels): what the map query must bring. */
export function styleProperties(rules: readonly StyleRule[]): string[] {
  const out = new Set<string>();
  for (const r of rules) {
    if (r.filter) filterProperties(r.filter, out);
    for (const s of r.symbolizers) if (s.kind === 'text') for (const p of s.label) if ('property' in p) out.add(p.property);
  }
  return [...out];
}
