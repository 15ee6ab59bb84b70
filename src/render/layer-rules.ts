/**
 * A style's rules as one map draws them: those in scale at the map's scale denominator, the filters PostGIS
 * evaluates for each row (one per filtered rule, in order), the label attributes the row brings, and which
 * rules draw a row given the '1'/'0' matches PostGIS sent (SLD semantics: every matching rule draws, in rule
 * order; an else rule draws the rows no other rule in scale drew).
 */
import type { Filter } from '../filter/ast.js';
import { ruleInScale, type LabelPart, type MapStyle, type StyleRule } from './style.js';

export interface LayerRules {
  rules: StyleRule[];
  /** Per rule: the index of its filter in `filters` (and in the row's matches), or -1 when it has none. */
  filterOf: number[];
  filters: Filter[];
  /** Label attribute names, in the order of the row's label columns. */
  labelProperties: string[];
  hasLabels: boolean;
  /** Some rule has a point symbolizer: on lines and polygons its mark goes at the label point (as GeoServer does). */
  hasMarks: boolean;
}

export function layerRules(style: MapStyle, scale: number | undefined): LayerRules {
  const rules = style.rules.filter((r) => ruleInScale(r, scale));
  const filters: Filter[] = [];
  const filterOf = rules.map((r) => (r.filter && !r.else ? filters.push(r.filter) - 1 : -1));
  const labels = new Set<string>();
  let hasLabels = false;
  for (const r of rules) {
    for (const s of r.symbolizers) {
      if (s.kind !== 'text') continue;
      hasLabels = true;
      for (const p of s.label) if ('property' in p) labels.add(p.property);
    }
  }
  const hasMarks = rules.some((r) => r.symbolizers.some((s) => s.kind === 'point'));
  return { rules, filterOf, filters, labelProperties: [...labels], hasLabels, hasMarks };
}

/**
 * Whether all rows are drawn by every rule (no filters, no else rule), or otherwise the filter that lets through
 * only the rows some rule draws (undefined when an unfiltered or else rule draws any row anyway).
 */
export function anyRuleFilter(lr: LayerRules): Filter | undefined {
  if (lr.rules.some((r, i) => r.else || lr.filterOf[i]! < 0)) return undefined;
  return lr.filters.length === 1 ? lr.filters[0] : { kind: 'or', operands: lr.filters };
}

/** Which of the rules draw a row whose filters matched as `matches` ('1'/'0' per filter). */
export function rulesOfRow(lr: LayerRules, matches: string): boolean[] {
  const out = lr.rules.map((r, i) => !r.else && (lr.filterOf[i]! < 0 || matches.charCodeAt(lr.filterOf[i]!) === 49));
  if (lr.rules.some((r) => r.else)) {
    const any = out.some(Boolean);
    lr.rules.forEach((r, i) => {
      if (r.else) out[i] = !any;
    });
  }
  return out;
}

/** The text of a label from its parts and the row's label values. */
export function labelText(parts: LabelPart[], lr: LayerRules, values: ReadonlyArray<string | null>): string {
  let s = '';
  for (const p of parts) s += 'text' in p ? p.text : (values[lr.labelProperties.indexOf(p.property)] ?? '');
  return s.trim();
}
