/**
 * The JSON form of a style in the admin API: the renderer's model (src/render/style.ts) with defaults left out
 * and rule filters as CQL2 text (read by the project's CQL2 reader into the filter AST), validated against
 * schemas/style.schema.json. `styleToJson` gives a stored style back in the same form; a rule imported from SLD
 * has no CQL2 text and carries its filter as the AST (`filterAst`), its SLD being kept beside it.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { projectPath } from '../paths.js';
import { parseCql2Text } from '../filter/cql2-text-reader.js';
import type { Fill, LabelPart, MapStyle, StyleRule, Stroke, Symbolizer } from '../render/style.js';

export class StyleInputError extends Error {
  constructor(
    message: string,
    /** JSON pointer of the part at fault. */
    readonly pointer = '',
  ) {
    super(message);
  }
}

let validator: ValidateFunction | undefined;
function validate(doc: unknown): void {
  validator ??= new Ajv({ allErrors: false, strict: false }).compile(JSON.parse(readFileSync(projectPath('schemas', 'style.schema.json'), 'utf8')) as object);
  if (!validator(doc)) {
    const e = validator.errors?.[0];
    throw new StyleInputError(`Invalid style: ${e?.instancePath || '/'} ${e?.message ?? 'does not match the style schema'}`, e?.instancePath ?? '');
  }
}

type In<T> = Partial<T> & Record<string, unknown>;

const fill = (f: In<Fill> | undefined): Fill | null => (f ? { color: f.color!.toLowerCase(), opacity: f.opacity ?? 1 } : null);
const stroke = (s: In<Stroke> | undefined): Stroke | null =>
  s ? { color: s.color!.toLowerCase(), opacity: s.opacity ?? 1, width: s.width ?? 1, ...(s.dasharray ? { dasharray: s.dasharray } : {}), ...(s.linejoin ? { linejoin: s.linejoin } : {}), ...(s.linecap ? { linecap: s.linecap } : {}) } : null;

function symbolizer(s: Record<string, unknown>): Symbolizer {
  switch (s.kind) {
    case 'polygon':
      return { kind: 'polygon', fill: fill(s.fill as In<Fill>), stroke: stroke(s.stroke as In<Stroke>) };
    case 'line':
      return { kind: 'line', stroke: stroke(s.stroke as In<Stroke>)! };
    case 'point':
      return { kind: 'point', mark: (s.mark as 'circle') ?? 'circle', size: (s.size as number) ?? 8, rotation: (s.rotation as number) ?? 0, fill: fill(s.fill as In<Fill>), stroke: stroke(s.stroke as In<Stroke>) };
    default: {
      const font = (s.font ?? {}) as Record<string, unknown>;
      const halo = s.halo as { radius?: number; fill?: In<Fill> } | undefined;
      return {
        kind: 'text',
        label: s.label as LabelPart[],
        font: { family: (font.family as string) ?? 'DejaVu Sans', size: (font.size as number) ?? 10, weight: (font.weight as 'bold') ?? 'normal', style: (font.style as 'italic') ?? 'normal' },
        fill: fill(s.fill as In<Fill>) ?? { color: '#000000', opacity: 1 },
        halo: halo ? { radius: halo.radius ?? 1, fill: fill(halo.fill) ?? { color: '#ffffff', opacity: 1 } } : null,
        anchor: (s.anchor as [number, number]) ?? [0.5, 0.5],
        displacement: (s.displacement as [number, number]) ?? [0, 0],
      };
    }
  }
}

/** A JSON style document → the model; `name` is the style's name from the URL (the document's, if any, must match). */
export function readStyleJson(doc: unknown, name: string): MapStyle {
  validate(doc);
  const d = doc as { name?: string; title?: string; abstract?: string; rules: Array<Record<string, unknown>> };
  if (d.name !== undefined && d.name !== name) throw new StyleInputError(`The style's name ${d.name} differs from the name in the URL (${name})`, '/name');
  const rules = d.rules.map((r, i): StyleRule => {
    const out: StyleRule = { title: (r.title as string) ?? (r.name as string) ?? '', symbolizers: (r.symbolizers as Array<Record<string, unknown>>).map(symbolizer) };
    if (r.name) out.name = r.name as string;
    if (r.filter !== undefined && r.else) throw new StyleInputError('A rule has a filter or is an else rule, not both', `/rules/${i}`);
    if (r.filter !== undefined) {
      try {
        out.filter = parseCql2Text(r.filter as string);
      } catch (e) {
        throw new StyleInputError(`Rule ${i + 1}: ${(e as Error).message}`, `/rules/${i}/filter`);
      }
      out.filterText = r.filter as string;
    }
    if (r.else) out.else = true;
    if (r.minScale !== undefined) out.minScale = r.minScale as number;
    if (r.maxScale !== undefined) out.maxScale = r.maxScale as number;
    return out;
  });
  return { name, title: d.title ?? name, ...(d.abstract ? { abstract: d.abstract } : {}), rules };
}

/** A stored style in the JSON form (CQL2 text where the rule was written so, else the filter AST as `filterAst`). */
export function styleToJson(style: MapStyle): Record<string, unknown> {
  return {
    name: style.name,
    title: style.title,
    ...(style.abstract ? { abstract: style.abstract } : {}),
    rules: style.rules.map((r) => {
      const { filter, filterText, symbolizers, ...rest } = r;
      // Absent fills and strokes are left out, as the JSON form writes them.
      const sym = symbolizers.map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== null)));
      return { ...rest, ...(filterText !== undefined ? { filter: filterText } : filter ? { filterAst: filter } : {}), symbolizers: sym };
    }),
  };
}
