/**
 * The JSON form of a raster style in the admin API (src/render/raster-style.ts): `opacity` (0–1, 1 when absent)
 * and `colorMap` ({ type: ramp | intervals | values | categorize, entries: [{ quantity, color, opacity?, label? }] }, quantities
 * increasing, "inf" / "-inf" for an open end) or no colour map (the log ramp). Validated by Ajv (the project's
 * JSON Schema validator, already used for vector styles) against the schema below.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { COLOR_MAP_TYPES, rasterStyleFromJson, type RasterStyle } from '../render/raster-style.js';
import { StyleInputError } from './json-style.js';

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    title: { type: 'string', maxLength: 200 },
    abstract: { type: 'string', maxLength: 2000 },
    opacity: { type: 'number', minimum: 0, maximum: 1 },
    minScale: { type: 'number', minimum: 0 },
    maxScale: { type: 'number', minimum: 0 },
    colorMap: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['entries'],
      properties: {
        type: { enum: [...COLOR_MAP_TYPES] },
        entries: {
          type: 'array',
          minItems: 1,
          maxItems: 1000,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['quantity', 'color'],
            properties: {
              quantity: { anyOf: [{ type: 'number' }, { enum: ['inf', '-inf'] }] },
              color: { type: 'string', pattern: '^#[0-9A-Fa-f]{6}$' },
              opacity: { type: 'number', minimum: 0, maximum: 1 },
              label: { type: 'string', maxLength: 200 },
            },
          },
        },
      },
    },
  },
} as const;

let validator: ValidateFunction | undefined;

/** A JSON raster style → the model; `name` is the style's name from the URL (the document's, if any, must match). */
export function readRasterStyleJson(doc: unknown, name: string): RasterStyle {
  validator ??= new Ajv({ allErrors: false, strict: false }).compile(SCHEMA);
  if (!validator(doc)) {
    const e = validator.errors?.[0];
    throw new StyleInputError(`Invalid raster style: ${e?.instancePath || '/'} ${e?.message ?? 'does not match the raster style schema'}`, e?.instancePath ?? '');
  }
  const d = doc as { name?: string; title?: string; abstract?: string; opacity?: number; minScale?: number; maxScale?: number; colorMap?: Record<string, unknown> | null };
  if (d.name !== undefined && d.name !== name) throw new StyleInputError(`The style's name ${d.name} differs from the name in the URL (${name})`, '/name');
  const style = rasterStyleFromJson({
    name,
    title: d.title ?? name,
    ...(d.abstract ? { abstract: d.abstract } : {}),
    opacity: d.opacity ?? 1,
    colorMap: d.colorMap ? { type: d.colorMap.type ?? 'ramp', entries: (d.colorMap.entries as Array<Record<string, unknown>>).map((e) => ({ ...e, color: String(e.color).toLowerCase(), opacity: e.opacity ?? 1 })) } : null,
    ...(d.minScale !== undefined ? { minScale: d.minScale } : {}),
    ...(d.maxScale !== undefined ? { maxScale: d.maxScale } : {}),
  });
  const e = style.colorMap?.entries ?? [];
  for (let k = 1; k < e.length; k++) if (e[k]!.quantity < e[k - 1]!.quantity) throw new StyleInputError('colorMap entries must be in increasing order of quantity', `/colorMap/entries/${k}/quantity`);
  return style;
}
