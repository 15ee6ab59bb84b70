/**
 * Legend images (WMS GetLegendGraphic, SLD 1.1 profile): one swatch per rule with its title beside it, rules in
 * style order; a style of one rule is its swatch alone (the image is then WIDTH × HEIGHT, as LegendURL says).
 * The swatch is WIDTH × HEIGHT (20 × 20 by default), titles in DejaVu Sans.
 */
import { MapCanvas } from './canvas.js';
import type { DrawKind } from './twkb.js';
import type { StyleRule } from './style.js';

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
