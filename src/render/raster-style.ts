/**
 * Raster styles (issue 9): SLD 1.0 RasterSymbolizer (OGC 02-070 §11.6) as this renderer applies it to the first
 * band of a raster layer: an Opacity and a ColorMap of ColorMapEntry (quantity, color, opacity, label), of one of
 * the three types SLD 1.0 as GeoServer and QGIS use it names (the `type` attribute, QGIS's export):
 *   - ramp (QGIS "interpolated", the default): colours interpolated linearly between the entries; a value below
 *     the first entry takes the first colour, above the last the last colour;
 *   - intervals (QGIS "discrete"): a value takes the colour of the first entry whose quantity is ≥ the value;
 *     above the last entry (QGIS writes `inf` as its last quantity) nothing is drawn;
 *   - values (QGIS "exact"): only values equal to an entry's quantity are drawn;
 *   - categorize (SE 1.1 Categorize, OGC 05-077r4 §11.6.4 and §B, thresholds belonging to the succeeding
 *     interval, the default): a value takes the colour of the last entry whose quantity is ≤ the value; the first
 *     entry is the value below the first threshold (quantity -Infinity). Categorize with
 *     threshholdsBelongTo="preceding" is the `intervals` type (the SLD reader maps it so); SE 1.1 Interpolate
 *     (linear, colour) is the `ramp` type.
 * A style without a ColorMap is drawn on the built-in log ramp of src/render/raster.ts (the `default` style).
 * No-data is never drawn. Every pixel's alpha is the entry's opacity × the symbolizer's Opacity.
 */
import type { WarpedBand } from './raster.js';

export interface ColorMapEntry {
  /** A finite number, or ±Infinity (QGIS's `inf` closing a discrete ramp). */
  quantity: number;
  /** `#rrggbb`. */
  color: string;
  /** 0–1. */
  opacity: number;
  label?: string;
}

export const COLOR_MAP_TYPES = ['ramp', 'intervals', 'values', 'categorize'] as const;
export type ColorMapType = (typeof COLOR_MAP_TYPES)[number];

export interface ColorMap {
  type: ColorMapType;
  /** In increasing order of quantity (the SLD reader and the JSON reader check it). */
  entries: ColorMapEntry[];
}

export interface RasterStyle {
  name: string;
  title: string;
  abstract?: string;
  /** 0–1, applied to every pixel. */
  opacity: number;
  /** null: the built-in log ramp over the band's range. */
  colorMap: ColorMap | null;
  /** The scale range of the SLD rule it came from (minScale ≤ denominator < maxScale); outside it nothing is drawn. */
  minScale?: number;
  maxScale?: number;
}

/** The built-in style every raster layer has: the log ramp at 0.8 opacity (what maps showed before raster styles). */
export const DEFAULT_RASTER_STYLE: RasterStyle = { name: 'default', title: 'Rampe de couleurs (échelle logarithmique)', opacity: 0.8, colorMap: null };

const rgb = (hex: string): [number, number, number] => [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];

/** The RGBA (0–255 each) a colour map gives a value, or undefined when it draws nothing there. */
export function colorMapRgba(map: ColorMap, v: number): [number, number, number, number] | undefined {
  const e = map.entries;
  if (!e.length || Number.isNaN(v)) return undefined;
  const out = (x: ColorMapEntry): [number, number, number, number] => [...rgb(x.color), Math.round(x.opacity * 255)];
  if (map.type === 'values') {
    const hit = e.find((x) => x.quantity === v || Math.abs(x.quantity - v) <= 1e-9 * Math.max(1, Math.abs(v)));
    return hit ? out(hit) : undefined;
  }
  // First entry whose quantity is ≥ v (binary search: entries are sorted).
  let lo = 0;
  let hi = e.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (e[mid]!.quantity < v) lo = mid + 1;
    else hi = mid;
  }
  if (map.type === 'intervals') return lo < e.length ? out(e[lo]!) : undefined;
  if (map.type === 'categorize') {
    const k = lo < e.length && e[lo]!.quantity === v ? lo : lo - 1;
    return k >= 0 ? out(e[k]!) : undefined;
  }
  if (lo === 0) return out(e[0]!);
  if (lo === e.length) return out(e[e.length - 1]!);
  const a = e[lo - 1]!;
  const b = e[lo]!;
  const span = b.quantity - a.quantity;
  const f = Number.isFinite(span) && span > 0 ? (v - a.quantity) / span : 1;
  const ca = out(a);
  const cb = out(b);
  return [0, 1, 2, 3].map((k) => Math.round(ca[k]! + (cb[k]! - ca[k]!) * f)) as [number, number, number, number];
}

/**
 * RGBA pixels of a warped band through a colour map. Values repeat a lot in thematic rasters (a commune's
 * density over all its pixels): the colour of the last value is kept, so a run of equal pixels costs one lookup.
 */
export function colouriseWithMap(band: WarpedBand, map: ColorMap, opacity: number): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(band.width * band.height * 4);
  let last = NaN;
  let c: [number, number, number, number] | undefined;
  for (let p = 0; p < band.values.length; p++) {
    const v = band.values[p]!;
    if (Number.isNaN(v)) continue;
    if (v !== last) {
      last = v;
      c = colorMapRgba(map, v);
    }
    if (!c) continue;
    const o = p * 4;
    rgba[o] = c[0];
    rgba[o + 1] = c[1];
    rgba[o + 2] = c[2];
    rgba[o + 3] = Math.round(c[3] * opacity);
  }
  return rgba;
}

/** The text beside an entry in a legend: its label, else its quantity (intervals: "≤ q"; categorize: "≥ q", the first "< next"). */
export function entryLabel(map: ColorMap, e: ColorMapEntry): string {
  if (e.label) return e.label;
  const text = (v: number) => (Number.isFinite(v) ? String(v) : v > 0 ? '∞' : '-∞');
  if (map.type === 'categorize') {
    const next = map.entries[map.entries.indexOf(e) + 1];
    return e.quantity === -Infinity && next ? `< ${text(next.quantity)}` : `≥ ${text(e.quantity)}`;
  }
  return map.type === 'intervals' ? `≤ ${text(e.quantity)}` : text(e.quantity);
}

/** JSON has no infinity: an open end of a colour map is written "inf" / "-inf" (as QGIS writes it in SLD). */
export function rasterStyleToJson(style: RasterStyle): Record<string, unknown> {
  const q = (v: number) => (Number.isFinite(v) ? v : v > 0 ? 'inf' : '-inf');
  return { ...style, colorMap: style.colorMap && { ...style.colorMap, entries: style.colorMap.entries.map((e) => ({ ...e, quantity: q(e.quantity) })) } };
}

/** The inverse of rasterStyleToJson (documents read back from sdi.raster_styles). */
export function rasterStyleFromJson(doc: Record<string, unknown>): RasterStyle {
  const style = doc as unknown as RasterStyle;
  const q = (v: unknown) => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v));
  return { ...style, colorMap: style.colorMap && { ...style.colorMap, entries: style.colorMap.entries.map((e) => ({ ...e, quantity: q(e.quantity) })) } };
}
