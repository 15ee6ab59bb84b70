/**
 * Legend images (WMS GetLegendGraphic, SLD 1.1 profile): one swatch per rule with its title beside it, rules in
 * style order; a style of one rule is its swatch alone (the image is then WIDTH × HEIGHT, as LegendURL says).
 * The swatch is WIDTH × HEIGHT (20 × 20 by default), titles in DejaVu Sans.
 */
import { MapCanvas } from './canvas.js';
import type { DrawKind } from './twkb.js';
import type { StyleRule } from './style.js';
import { rampColour } from './raster.js';
import { entryLabel, type ColorMap } from './raster-style.js';

const FONT_SIZE = 12;
const GAP = 4;
const ROW_GAP = 2;

/** Whether the legend of these rules is a bare swatch (a single rule). */
const bare = (rules: readonly StyleRule[]) => rules.length <= 1;

/** The rule's title, else its name, else what it labels (a rule of labels only), else its number. */
function titleOf(r: StyleRule, i: number): string {
  if (r.title || r.name) return r.title || r.name!;
  const labels = r.symbolizers.flatMap((s) => (s.kind === 'text' ? s.label.map((p) => ('property' in p ? p.property : p.text)) : []));
  return labels.length ? labels.join('') : `${i + 1}`;
}

/** The size of the legend image of these rules with swatches of w × h. */
export function legendSize(rules: readonly StyleRule[], w: number, h: number): { width: number; height: number } {
  if (bare(rules)) return { width: w, height: h };
  const probe = new MapCanvas(1, 1, { color: '#ffffff', transparent: true });
  const text = Math.max(...rules.map((r, i) => probe.measureLegendText(titleOf(r, i), FONT_SIZE)));
  return { width: Math.ceil(w + GAP + text + GAP), height: rules.length * h + (rules.length - 1) * ROW_GAP };
}

/** The legend image (PNG) of these rules for a layer whose geometry is of `kind`. */
export function renderLegend(rules: readonly StyleRule[], kind: DrawKind | 'mixed', w: number, h: number): Promise<Buffer> {
  const size = legendSize(rules, w, h);
  const canvas = new MapCanvas(size.width, size.height, { color: '#ffffff', transparent: true });
  rules.forEach((r, i) => {
    const y = i * (h + ROW_GAP);
    canvas.drawLegendSwatch(r, kind, 0, y, w, h);
    if (!bare(rules)) canvas.drawLegendText(titleOf(r, i), w + GAP, y + h / 2, FONT_SIZE);
  });
  return canvas.encode('png');
}

/** Height of a raster ramp legend, in swatch heights. */
const RAMP_ROWS = 5;

/** The values written beside a ramp legend (top to bottom): the maximum, the log-scale middle, the minimum. */
function rampLabels(range: { min: number; max: number }): string[] {
  const mid = range.min + Math.expm1(Math.log1p(range.max - range.min) / 2);
  const fmt = (v: number) => (range.max - range.min >= 10 ? String(Math.round(v)) : v.toPrecision(3));
  return [fmt(range.max), fmt(mid), fmt(range.min)];
}

/** The size of a raster layer's legend: its ramp, w wide and 5 h tall, and the values beside it. */
export function rampLegendSize(range: { min: number; max: number }, w: number, h: number): { width: number; height: number } {
  const probe = new MapCanvas(1, 1, { color: '#ffffff', transparent: true });
  const text = Math.max(...rampLabels(range).map((t) => probe.measureLegendText(t, FONT_SIZE)));
  return { width: Math.ceil(w + GAP + text + GAP), height: Math.max(RAMP_ROWS * h, 3 * FONT_SIZE + 6) };
}

/** The legend (PNG) of a raster layer drawn on the log ramp of src/render/raster.ts: the ramp, maximum at the top. */
export function renderRampLegend(range: { min: number; max: number }, w: number, h: number): Promise<Buffer> {
  const size = rampLegendSize(range, w, h);
  const canvas = new MapCanvas(size.width, size.height, { color: '#ffffff', transparent: true });
  const ctx = canvas.ctx;
  for (let y = 0; y < size.height; y++) {
    const [r, g, b] = rampColour(1 - y / Math.max(1, size.height - 1));
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect(0, y, w, 1);
  }
  const [top, mid, bottom] = rampLabels(range);
  canvas.drawLegendText(top!, w + GAP, FONT_SIZE / 2 + 1, FONT_SIZE);
  canvas.drawLegendText(mid!, w + GAP, size.height / 2, FONT_SIZE);
  canvas.drawLegendText(bottom!, w + GAP, size.height - FONT_SIZE / 2 - 1, FONT_SIZE);
  return canvas.encode('png');
}

/** The size of a colour map's legend: one swatch (w × h) and its label per entry. */
export function colorMapLegendSize(map: ColorMap, w: number, h: number): { width: number; height: number } {
  const probe = new MapCanvas(1, 1, { color: '#ffffff', transparent: true });
  const text = Math.max(0, ...map.entries.map((e) => probe.measureLegendText(entryLabel(map, e), FONT_SIZE)));
  const n = Math.max(1, map.entries.length);
  return { width: Math.ceil(w + GAP + text + GAP), height: n * h + (n - 1) * ROW_GAP };
}

/**
 * The legend (PNG) of a raster style with a colour map (SLD ColorMap): one swatch per entry, in the entry's
 * colour and opacity × the style's, its label (else its quantity) beside it, entries top to bottom as written
 * (QGIS's own legend of a pseudocolour raster lists them so).
 */
export function renderColorMapLegend(map: ColorMap, opacity: number, w: number, h: number): Promise<Buffer> {
  const size = colorMapLegendSize(map, w, h);
  const canvas = new MapCanvas(size.width, size.height, { color: '#ffffff', transparent: true });
  const ctx = canvas.ctx;
  map.entries.forEach((e, i) => {
    const y = i * (h + ROW_GAP);
    const [r, g, b] = [1, 3, 5].map((k) => parseInt(e.color.slice(k, k + 2), 16));
    ctx.fillStyle = `rgba(${r},${g},${b},${e.opacity * opacity})`;
    ctx.fillRect(0, y, w, h);
    canvas.drawLegendText(entryLabel(map, e), w + GAP, y + h / 2, FONT_SIZE);
  });
  return canvas.encode('png');
}
