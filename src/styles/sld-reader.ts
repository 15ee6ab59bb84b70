/**
 * SLD → the renderer's style model (src/render/style.ts), for SLD 1.0.0 (OGC 02-070: symbology in the sld
 * namespace, CssParameter) and SLD 1.1.0 with Symbology Encoding 1.1 (OGC 05-078r4 / 05-077r4: symbology in
 * the se namespace, SvgParameter) — the two forms QGIS exports (*Save as SLD*, QgsVectorLayer.exportSldStyle
 * writes 1.1.0). One reader class per version; they differ only in where symbology lives.
 *
 * Read: NamedLayer (Name, UserStyle, NamedStyle), UserStyle (Name, Title/Description, IsDefault),
 * FeatureTypeStyle (its rules, in order, concatenated), Rule (Name, Title, ogc:Filter through the project's FES
 * reader, ElseFilter, Min/MaxScaleDenominator), PolygonSymbolizer (Fill, Stroke), LineSymbolizer (Stroke),
 * PointSymbolizer (Graphic: Mark with a well-known name, Fill, Stroke; Size, Rotation, Opacity), TextSymbolizer
 * (Label, Font, PointPlacement's AnchorPoint and Displacement, Halo, Fill); fill, fill-opacity, stroke,
 * stroke-width, stroke-opacity, stroke-linejoin, stroke-linecap, stroke-dasharray; font-family, font-size,
 * font-style, font-weight; RasterSymbolizer (Opacity, ColorMap of ColorMapEntry or SE 1.1 Categorize/Interpolate, the grey channel of band 1: see
 * rasterSymbolizer), in a NamedLayer or in a UserLayer as QGIS exports a raster layer's style. Every element or parameter not read is reported by name and place (never silently
 * dropped): the caller shows the list (the admin API's answer, GetMap's Warning header). Sizes are pixels:
 * a `uom` other than pixel is reported. Malformed XML, a wrong root or version, a bad number or colour, a filter
 * the FES reader refuses: an SldError saying what and where.
 */
import { parseXml, XmlInputError, type XmlElement } from '../xml/tree.js';
import { NS } from '../xml/namespaces.js';
import { readFesFilter } from '../filter/fes-reader.js';
import type { Filter } from '../filter/ast.js';
import { MARKS, type Fill, type LabelPart, type MapStyle, type MarkName, type PointSymbolizer, type StyleRule, type Stroke, type Symbolizer, type TextSymbolizer } from '../render/style.js';
import { COLOR_MAP_TYPES, type ColorMap, type ColorMapEntry, type RasterStyle } from '../render/raster-style.js';

export const SLD_NS = 'http://www.opengis.net/sld';
export const SE_NS = 'http://www.opengis.net/se';

/** Largest SLD accepted (bytes) and most elements: a style, not a data set. */
export const MAX_SLD_BYTES = 1024 * 1024;
export const MAX_SLD_ELEMENTS = 20_000;

export class SldError extends Error {}

export interface SldNamedLayer {
  /** The layer's name as the SLD writes it (maybe prefixed); '' for a UserLayer without Name (QGIS's raster export). */
  layer: string;
  /** Its user styles, the one marked IsDefault first. */
  styles: MapStyle[];
  /** The raster styles of its user styles that hold a RasterSymbolizer, in the same order. */
  rasterStyles: RasterStyle[];
  /** Names of NamedStyle references (styles stored on the server). */
  namedStyles: string[];
}

export interface SldDocument {
  version: '1.0.0' | '1.1.0';
  layers: SldNamedLayer[];
  /** What was not read, by name and place, e.g. `NamedLayer[communes]/UserStyle[x]/Rule[a]/se:VendorOption[maxDisplacement]`. */
  unsupported: string[];
  /**
   * The RasterSymbolizers read (their place, as `unsupported` names parts): they style raster layers only, so a
   * caller applying the SLD to a vector layer (GetMap's SLD_BODY, a vector layer's style) reports them as unsupported.
   */
  rasterParts: string[];
}

const PIXEL_UOM = 'http://www.opengeospatial.org/se/units/pixel';
const SYMBOLIZERS = new Set(['PolygonSymbolizer', 'LineSymbolizer', 'PointSymbolizer', 'TextSymbolizer']);

/** A RasterSymbolizer as read, with the scale range of its rule. */
type RasterRead = Omit<RasterStyle, 'name' | 'title' | 'abstract'>;

/** Parse an SLD document (1.0.0 or 1.1.0) with the project's safe XML reader. */
export function readSld(xml: string): SldDocument {
  let root: XmlElement;
  try {
    root = parseXml(xml, MAX_SLD_BYTES, MAX_SLD_ELEMENTS);
  } catch (e) {
    if (e instanceof XmlInputError) throw new SldError(`The SLD is not well-formed XML: ${e.message}`);
    throw e;
  }
  if (root.name !== 'StyledLayerDescriptor' || root.ns !== SLD_NS) throw new SldError(`The root element must be sld:StyledLayerDescriptor (${SLD_NS}), not ${root.prefix ? `${root.prefix}:` : ''}${root.name}`);
  const version = root.attrs.version;
  if (version === '1.0.0') return new SldReader10(root).read('1.0.0');
  if (version === '1.1.0') return new SldReader11(root).read('1.1.0');
  throw new SldError(`SLD version ${String(version ?? '(none)').slice(0, 20)} is not supported (1.0.0, 1.1.0)`);
}

abstract class SldReader {
  /** Namespace of the symbology elements (Rule, Stroke, Fill…). */
  protected abstract readonly se: string;
  /** Namespace of Name/Title/Abstract of NamedLayer and UserStyle. */
  protected abstract readonly names: string;
  /** Name of the parameter element (CssParameter, SvgParameter). */
  protected abstract readonly param: string;

  private readonly used = new Set<XmlElement>();
  /** The RasterSymbolizer of each rule that has one (the first: a raster is drawn once). */
  private readonly rasters = new Map<StyleRule, RasterRead>();

  constructor(private readonly root: XmlElement) {}

  read(version: SldDocument['version']): SldDocument {
    this.used.add(this.root);
    // NamedLayer, and UserLayer (what QGIS writes for a raster layer), in document order.
    const layers = this.root.children
      .filter((c) => c.ns === SLD_NS && (c.name === 'NamedLayer' || c.name === 'UserLayer'))
      .map((c) => {
        this.used.add(c);
        return c.name === 'NamedLayer' ? this.namedLayer(c) : this.userLayer(c);
      });
    if (!layers.length) throw new SldError('The SLD has no NamedLayer or UserLayer');
    const unsupported: string[] = [];
    const rasterParts: string[] = [];
    this.report(this.root, '', unsupported, rasterParts);
    return { version, layers, unsupported, rasterParts };
  }

  // --- tree walking that remembers what was read ---------------------------------------------------

  protected one(el: XmlElement, ns: string, name: string): XmlElement | undefined {
    const c = el.children.find((x) => x.name === name && x.ns === ns);
    if (c) this.used.add(c);
    return c;
  }

  protected all(el: XmlElement, ns: string, name: string): XmlElement[] {
    const cs = el.children.filter((x) => x.name === name && x.ns === ns);
    cs.forEach((c) => this.used.add(c));
    return cs;
  }

  /** Mark a whole subtree read (filters, labels: read by their own readers). */
  private useAll(el: XmlElement): void {
    this.used.add(el);
    el.children.forEach((c) => this.useAll(c));
  }

  private report(el: XmlElement, path: string, out: string[], rasterParts: string[]): void {
    for (const c of el.children) {
      const here = `${path}${path ? '/' : ''}${label(c)}`;
      if (!this.used.has(c)) out.push(here);
      else {
        if (c.name === 'RasterSymbolizer') rasterParts.push(here);
        this.report(c, here, out, rasterParts);
      }
    }
    if (el.attrs.uom && el.attrs.uom !== PIXEL_UOM) out.push(`${path}@uom=${el.attrs.uom}`);
    if (el.name === 'Interpolate' && el.attrs.mode && el.attrs.mode !== 'linear') out.push(`${path}@mode=${el.attrs.mode}`);
  }

  private text(el: XmlElement, ns: string, name: string): string | undefined {
    const c = this.one(el, ns, name);
    return c ? c.text.trim() : undefined;
  }

  // --- structure --------------------------------------------------------------------------------------

  private namedLayer(nl: XmlElement): SldNamedLayer {
    const layer = this.text(nl, this.names, 'Name');
    if (!layer) throw new SldError('A NamedLayer has no Name');
    const styles = this.all(nl, SLD_NS, 'UserStyle').map((us, i) => this.userStyle(us, layer, i));
    styles.sort((a, b) => Number(b.isDefault) - Number(a.isDefault));
    const namedStyles = this.all(nl, SLD_NS, 'NamedStyle').map((ns) => this.text(ns, this.names, 'Name') ?? '');
    if (!styles.length && !namedStyles.length) throw new SldError(`NamedLayer ${layer} has no UserStyle or NamedStyle`);
    return { layer, styles: styles.map((s) => s.style), rasterStyles: styles.flatMap((s) => (s.raster ? [s.raster] : [])), namedStyles };
  }

  /**
   * A UserLayer: QGIS exports a raster layer's style so (SLD 1.0, no Name, an empty FeatureTypeConstraint). Its
   * user styles are read as a NamedLayer's; an empty FeatureTypeConstraint (no restriction) is read; any other
   * constraint, InlineFeature or RemoteOWS stays reported.
   */
  private userLayer(ul: XmlElement): SldNamedLayer {
    const layer = this.text(ul, this.names, 'Name') ?? '';
    const lfc = ul.children.find((c) => c.ns === SLD_NS && c.name === 'LayerFeatureConstraints');
    if (lfc && lfc.children.every((c) => c.ns === SLD_NS && c.name === 'FeatureTypeConstraint' && c.children.length === 0)) this.useAll(lfc);
    const styles = this.all(ul, SLD_NS, 'UserStyle').map((us, i) => this.userStyle(us, layer || 'layer', i));
    styles.sort((a, b) => Number(b.isDefault) - Number(a.isDefault));
    if (!styles.length) throw new SldError(`UserLayer${layer ? ` ${layer}` : ''} has no UserStyle`);
    return { layer, styles: styles.map((s) => s.style), rasterStyles: styles.flatMap((s) => (s.raster ? [s.raster] : [])), namedStyles: [] };
  }

  private title(el: XmlElement): { title?: string; abstract?: string } {
    const d = this.one(el, this.se, 'Description');
    const from = d ?? el;
    const ns = d ? this.se : this.names;
    return { title: this.text(from, ns, 'Title'), abstract: this.text(from, ns, 'Abstract') };
  }

  private userStyle(us: XmlElement, layer: string, index: number): { style: MapStyle; isDefault: boolean; raster?: RasterStyle } {
    const name = this.text(us, this.names, 'Name') || `${layer}-${index + 1}`;
    const { title, abstract } = this.title(us);
    const isDefault = ['1', 'true'].includes(this.text(us, SLD_NS, 'IsDefault') ?? '');
    const rules: StyleRule[] = [];
    for (const fts of this.all(us, this.se, 'FeatureTypeStyle')) {
      this.one(fts, this.se, 'Name');
      this.title(fts);
      this.one(fts, this.se, 'FeatureTypeName');
      for (const r of this.all(fts, this.se, 'Rule')) rules.push(this.rule(r, `${name}/Rule ${rules.length + 1}`));
    }
    if (!rules.length) throw new SldError(`UserStyle ${name} has no Rule`);
    const style: MapStyle = { name, title: title || name, ...(abstract ? { abstract } : {}), rules };
    const rasterRule = rules.find((r) => this.rasters.has(r));
    const raster = rasterRule ? { name: style.name, title: style.title, ...(abstract ? { abstract } : {}), ...this.rasters.get(rasterRule)! } : undefined;
    return { style, isDefault, ...(raster ? { raster } : {}) };
  }

  private rule(r: XmlElement, where: string): StyleRule {
    const name = this.text(r, this.se, 'Name');
    const { title } = this.title(r);
    const at = name ? `rule ${name}` : where;
    const out: StyleRule = { ...(name ? { name } : {}), title: title || name || '', symbolizers: [] };
    const filterEl = r.children.find((c) => c.name === 'Filter' && c.ns === NS.ogc);
    if (filterEl) {
      this.useAll(filterEl);
      out.filter = this.filter(filterEl, at);
    }
    if (this.one(r, this.se, 'ElseFilter')) {
      if (out.filter) throw new SldError(`${at}: a Rule has a Filter or an ElseFilter, not both`);
      out.else = true;
    }
    const min = this.text(r, this.se, 'MinScaleDenominator');
    const max = this.text(r, this.se, 'MaxScaleDenominator');
    if (min !== undefined) out.minScale = number(min, `${at}: MinScaleDenominator`);
    if (max !== undefined) out.maxScale = number(max, `${at}: MaxScaleDenominator`);
    for (const c of r.children) {
      if (c.ns === this.se && c.name === 'RasterSymbolizer' && !this.rasters.has(out)) {
        this.used.add(c);
        const raster = this.rasterSymbolizer(c, at);
        this.rasters.set(out, { ...raster, ...(out.minScale !== undefined ? { minScale: out.minScale } : {}), ...(out.maxScale !== undefined ? { maxScale: out.maxScale } : {}) });
        continue;
      }
      if (c.ns !== this.se || !SYMBOLIZERS.has(c.name)) continue;
      this.used.add(c);
      const s = this.symbolizer(c, at);
      if (s) out.symbolizers.push(s);
    }
    return out;
  }

  private filter(el: XmlElement, at: string): Filter {
    try {
      return readFesFilter(el);
    } catch (e) {
      throw new SldError(`${at}: ${(e as Error).message}`);
    }
  }

  // --- symbolizers ------------------------------------------------------------------------------------

  /**
   * RasterSymbolizer (SLD 1.0 §11.6): Opacity; ChannelSelection when it is the first band as grey (what QGIS
   * writes; another band stays reported); ColorMap with its `type` (ramp, intervals, values: GeoServer's and
   * QGIS's extension; ramp when absent) and its ColorMapEntry (color, quantity — `inf` / `-inf` as QGIS writes
   * the open end of a discrete ramp —, opacity, label), in increasing order of quantity. ContrastEnhancement,
   * ShadedRelief, ImageOutline, OverlapBehavior, Geometry and QGIS's VendorOptions stay reported.
   */
  private rasterSymbolizer(el: XmlElement, at: string): Pick<RasterStyle, 'opacity' | 'colorMap'> {
    const o = this.text(el, this.se, 'Opacity');
    const opacity = o === undefined ? 1 : fraction(o, `${at}: Opacity`);
    const cs = el.children.find((c) => c.ns === this.se && c.name === 'ChannelSelection');
    const gray = cs?.children.length === 1 ? cs.children.find((c) => c.ns === this.se && c.name === 'GrayChannel') : undefined;
    const band = gray?.children.find((c) => c.ns === this.se && c.name === 'SourceChannelName');
    if (gray && band && gray.children.length === 1 && band.text.trim() === '1') this.useAll(cs!);
    const cm = this.one(el, this.se, 'ColorMap');
    let colorMap: ColorMap | null = null;
    const fn = cm?.children.find((c) => c.ns === this.se && (c.name === 'Categorize' || c.name === 'Interpolate'));
    if (cm && fn) {
      this.used.add(fn);
      colorMap = fn.name === 'Categorize' ? this.categorize(fn, at) : this.interpolate(fn, at);
    } else if (cm) {
      const type = cm.attrs.type ?? 'ramp';
      // The `type` attribute of GeoServer and QGIS names three types; the fourth model type comes from SE 1.1's Categorize only.
      const entryTypes = COLOR_MAP_TYPES.filter((t) => t !== 'categorize');
      if (!(entryTypes as readonly string[]).includes(type)) throw new SldError(`${at}: ColorMap type ${type.slice(0, 40)} is not one of ${entryTypes.join(', ')}`);
      const entries: ColorMapEntry[] = this.all(cm, this.se, 'ColorMapEntry').map((e, k) => {
        const where = `${at}: ColorMapEntry ${k + 1}`;
        if (e.attrs.quantity === undefined) throw new SldError(`${where} has no quantity`);
        if (e.attrs.color === undefined) throw new SldError(`${where} has no color`);
        const q = e.attrs.quantity.trim().toLowerCase();
        const quantity = q === 'inf' || q === '+inf' || q === 'infinity' ? Infinity : q === '-inf' || q === '-infinity' ? -Infinity : number(q, `${where} quantity`);
        return { quantity, color: color(e.attrs.color, `${where} color`), opacity: e.attrs.opacity === undefined ? 1 : fraction(e.attrs.opacity, `${where} opacity`), ...(e.attrs.label ? { label: e.attrs.label } : {}) };
      });
      for (let k = 1; k < entries.length; k++) {
        if (entries[k]!.quantity < entries[k - 1]!.quantity) throw new SldError(`${at}: ColorMapEntry quantities must increase (${entries[k - 1]!.quantity} then ${entries[k]!.quantity})`);
      }
      if (entries.length) colorMap = { type: type as ColorMap['type'], entries };
    }
    return { opacity, colorMap };
  }

  /**
   * SE 1.1 Categorize in a ColorMap (OGC 05-077r4 §11.6.4, Symbolizer.xsd CategorizeType): LookupValue (the band:
   * "Rasterdata", band 1 here), Value, then Threshold/Value pairs in increasing order. Thresholds belong to the
   * succeeding interval unless threshholdsBelongTo (the schema's spelling; "thresholdsBelongTo" read too) says
   * preceding. The fallbackValue is the colour where the lookup fails: no-data, which is never drawn here.
   */
  private categorize(el: XmlElement, at: string): ColorMap {
    this.one(el, this.se, 'LookupValue');
    const values = this.all(el, this.se, 'Value').map((v, k) => color(this.literal(v, `${at}: Categorize Value ${k + 1}`), `${at}: Categorize Value ${k + 1}`));
    const thresholds = this.all(el, this.se, 'Threshold').map((t, k) => number(this.literal(t, `${at}: Categorize Threshold ${k + 1}`), `${at}: Categorize Threshold ${k + 1}`));
    if (!values.length || values.length !== thresholds.length + 1) throw new SldError(`${at}: Categorize has ${values.length} Value and ${thresholds.length} Threshold (one Value more than thresholds)`);
    for (let k = 1; k < thresholds.length; k++) {
      if (thresholds[k]! <= thresholds[k - 1]!) throw new SldError(`${at}: Categorize thresholds must increase (${thresholds[k - 1]} then ${thresholds[k]})`);
    }
    const belongs = el.attrs.threshholdsBelongTo ?? el.attrs.thresholdsBelongTo ?? 'succeeding';
    oneOf(belongs, ['succeeding', 'preceding'] as const, `${at}: Categorize threshholdsBelongTo`);
    if (belongs === 'preceding') {
      // v ≤ T1 → V0, T1 < v ≤ T2 → V1, …, v > Tn → Vn: the first entry whose quantity is ≥ v.
      return { type: 'intervals', entries: values.map((c, k) => ({ quantity: k < thresholds.length ? thresholds[k]! : Infinity, color: c, opacity: 1 })) };
    }
    return { type: 'categorize', entries: values.map((c, k) => ({ quantity: k === 0 ? -Infinity : thresholds[k - 1]!, color: c, opacity: 1 })) };
  }

  /**
   * SE 1.1 Interpolate in a ColorMap (Symbolizer.xsd InterpolateType): LookupValue, InterpolationPoint (Data, Value)
   * in increasing order of Data, method color: the `ramp` type. A mode other than linear (cosine, cubic) is drawn
   * linear and reported (the report names `Interpolate@mode`).
   */
  private interpolate(el: XmlElement, at: string): ColorMap {
    this.one(el, this.se, 'LookupValue');
    if (el.attrs.method !== undefined && el.attrs.method !== 'color') throw new SldError(`${at}: Interpolate method ${el.attrs.method.slice(0, 40)} in a ColorMap must be color`);
    const entries = this.all(el, this.se, 'InterpolationPoint').map((p, k) => {
      const where = `${at}: InterpolationPoint ${k + 1}`;
      const data = this.text(p, this.se, 'Data');
      const value = this.one(p, this.se, 'Value');
      if (data === undefined || !value) throw new SldError(`${where} needs a Data and a Value`);
      return { quantity: number(data, `${where} Data`), color: color(this.literal(value, `${where} Value`), `${where} Value`), opacity: 1 };
    });
    if (!entries.length) throw new SldError(`${at}: Interpolate has no InterpolationPoint`);
    for (let k = 1; k < entries.length; k++) {
      if (entries[k]!.quantity < entries[k - 1]!.quantity) throw new SldError(`${at}: InterpolationPoint Data must increase (${entries[k - 1]!.quantity} then ${entries[k]!.quantity})`);
    }
    return { type: 'ramp', entries };
  }

  /** The text of a ParameterValueType element given as a literal (an expression inside is refused: not evaluated here). */
  private literal(el: XmlElement, what: string): string {
    if (el.children.length) throw new SldError(`${what}: only a literal value is read, not ${label(el.children[0]!)}`);
    return el.text;
  }

  private symbolizer(el: XmlElement, at: string): Symbolizer | undefined {
    switch (el.name) {
      case 'PolygonSymbolizer':
        return { kind: 'polygon', fill: this.fill(el, at), stroke: this.stroke(el, at) };
      case 'LineSymbolizer': {
        const stroke = this.stroke(el, at);
        return stroke ? { kind: 'line', stroke } : undefined;
      }
      case 'PointSymbolizer':
        return this.point(el, at);
      case 'TextSymbolizer':
        return this.textSymbolizer(el, at);
      default:
        return undefined;
    }
  }

  /** The SvgParameter/CssParameter values of an element by name (only the names in `known` are read). */
  private params(el: XmlElement, known: readonly string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const p of el.children) {
      if (p.name !== this.param || p.ns !== this.se) continue;
      const n = p.attrs.name ?? '';
      // A parameter given as an expression (ogc:Function, PropertyName) is not read: it stays reported.
      if (!known.includes(n) || p.children.some((c) => c.name !== 'Literal')) continue;
      this.used.add(p);
      p.children.forEach((c) => this.used.add(c));
      out[n] = (p.children[0]?.text ?? p.text).trim();
    }
    return out;
  }

  private fill(parent: XmlElement, at: string, param = 'fill'): Fill | null {
    const f = this.one(parent, this.se, 'Fill');
    if (!f) return null;
    const p = this.params(f, [param, `${param}-opacity`]);
    return { color: color(p[param] ?? '#808080', `${at}: ${param}`), opacity: p[`${param}-opacity`] === undefined ? 1 : fraction(p[`${param}-opacity`]!, `${at}: ${param}-opacity`) };
  }

  private stroke(parent: XmlElement, at: string): Stroke | null {
    const s = this.one(parent, this.se, 'Stroke');
    if (!s) return null;
    const p = this.params(s, ['stroke', 'stroke-width', 'stroke-opacity', 'stroke-linejoin', 'stroke-linecap', 'stroke-dasharray']);
    const out: Stroke = {
      color: color(p.stroke ?? '#000000', `${at}: stroke`),
      opacity: p['stroke-opacity'] === undefined ? 1 : fraction(p['stroke-opacity'], `${at}: stroke-opacity`),
      width: p['stroke-width'] === undefined ? 1 : number(p['stroke-width'], `${at}: stroke-width`),
    };
    const join = p['stroke-linejoin'];
    if (join) out.linejoin = join === 'mitre' ? 'miter' : oneOf(join, ['miter', 'round', 'bevel'] as const, `${at}: stroke-linejoin`);
    const cap = p['stroke-linecap'];
    if (cap) out.linecap = oneOf(cap, ['butt', 'round', 'square'] as const, `${at}: stroke-linecap`);
    const dash = p['stroke-dasharray'];
    if (dash) out.dasharray = dash.split(/[\s,]+/).filter(Boolean).map((d) => number(d, `${at}: stroke-dasharray`));
    return out;
  }

  private point(el: XmlElement, at: string): PointSymbolizer | undefined {
    const g = this.one(el, this.se, 'Graphic');
    if (!g) return undefined;
    const mark = this.one(g, this.se, 'Mark');
    const size = this.text(g, this.se, 'Size');
    const rotation = this.text(g, this.se, 'Rotation');
    const opacity = this.text(g, this.se, 'Opacity');
    if (!mark) return undefined; // an ExternalGraphic alone: reported, nothing drawn
    const wkn = (this.text(mark, this.se, 'WellKnownName') ?? 'square').toLowerCase();
    const name: MarkName = (MARKS as readonly string[]).includes(wkn) ? (wkn as MarkName) : wkn === 'rectangle' ? 'square' : oneOf(wkn, MARKS, `${at}: WellKnownName`);
    const o = opacity === undefined ? 1 : fraction(opacity, `${at}: Opacity`);
    const fill = this.fill(mark, at);
    const stroke = this.stroke(mark, at);
    return {
      kind: 'point',
      mark: name,
      size: size === undefined ? 6 : number(size, `${at}: Size`),
      rotation: rotation === undefined ? 0 : number(rotation, `${at}: Rotation`),
      // SLD: a Mark without Fill is grey-filled, without Stroke black-stroked (SE 1.1 §11.3.2).
      fill: fill ? { ...fill, opacity: fill.opacity * o } : mark.children.some((c) => c.name === 'Stroke') ? null : { color: '#808080', opacity: o },
      stroke: stroke ? { ...stroke, opacity: stroke.opacity * o } : null,
    };
  }

  private textSymbolizer(el: XmlElement, at: string): TextSymbolizer | undefined {
    const labelEl = this.one(el, this.se, 'Label');
    if (!labelEl) return undefined;
    const label = this.label(labelEl, at);
    const fontEl = this.one(el, this.se, 'Font');
    const fp = fontEl ? this.params(fontEl, ['font-family', 'font-size', 'font-style', 'font-weight']) : {};
    const out: TextSymbolizer = {
      kind: 'text',
      label,
      font: {
        family: fp['font-family'] ?? 'DejaVu Sans',
        size: fp['font-size'] === undefined ? 10 : number(fp['font-size'], `${at}: font-size`),
        weight: fp['font-weight'] === 'bold' ? 'bold' : 'normal',
        style: fp['font-style'] === 'italic' || fp['font-style'] === 'oblique' ? 'italic' : 'normal',
      },
      fill: this.fill(el, at) ?? { color: '#000000', opacity: 1 },
      halo: null,
      anchor: [0, 0.5],
      displacement: [0, 0],
    };
    const halo = this.one(el, this.se, 'Halo');
    if (halo) {
      const r = this.text(halo, this.se, 'Radius');
      out.halo = { radius: r === undefined ? 1 : number(r, `${at}: Halo Radius`), fill: this.fill(halo, at) ?? { color: '#ffffff', opacity: 1 } };
    }
    const placement = this.one(el, this.se, 'LabelPlacement');
    const pp = placement && this.one(placement, this.se, 'PointPlacement');
    if (pp) {
      const a = this.one(pp, this.se, 'AnchorPoint');
      if (a) out.anchor = [number(this.text(a, this.se, 'AnchorPointX') ?? '0', `${at}: AnchorPointX`), number(this.text(a, this.se, 'AnchorPointY') ?? '0.5', `${at}: AnchorPointY`)];
      const d = this.one(pp, this.se, 'Displacement');
      if (d) out.displacement = [number(this.text(d, this.se, 'DisplacementX') ?? '0', `${at}: DisplacementX`), number(this.text(d, this.se, 'DisplacementY') ?? '0', `${at}: DisplacementY`)];
      const rot = pp.children.find((c) => c.name === 'Rotation' && c.ns === this.se);
      // A rotation of 0 is what QGIS writes for unrotated labels: read; any other stays reported.
      if (rot && Number(rot.text.trim() || rot.children[0]?.text) === 0) this.useAll(rot);
    }
    return out;
  }

  /** Label content: ogc:PropertyName → an attribute, ogc:Literal and text → literal text. */
  private label(el: XmlElement, at: string): LabelPart[] {
    const parts: LabelPart[] = [];
    if (el.text.trim()) parts.push({ text: el.text.trim() });
    for (const c of el.children) {
      if (c.ns === NS.ogc && c.name === 'PropertyName') {
        this.used.add(c);
        parts.push({ property: c.text.trim() });
      } else if (c.ns === NS.ogc && c.name === 'Literal') {
        this.used.add(c);
        parts.push({ text: c.text });
      }
    }
    if (!parts.length) throw new SldError(`${at}: an empty Label`);
    return parts;
  }
}

class SldReader10 extends SldReader {
  protected readonly se = SLD_NS;
  protected readonly names = SLD_NS;
  protected readonly param = 'CssParameter';
}

class SldReader11 extends SldReader {
  protected readonly se = SE_NS;
  protected readonly names = SE_NS;
  protected readonly param = 'SvgParameter';
}

function label(el: XmlElement): string {
  const q = `${el.prefix ? `${el.prefix}:` : ''}${el.name}`;
  const n = el.attrs.name;
  return n ? `${q}[${n}]` : q;
}

function number(v: string, what: string): number {
  const n = Number(v.trim());
  if (v.trim() === '' || !Number.isFinite(n) || n < -1e9 || n > 1e12) throw new SldError(`${what}: ${v.slice(0, 40)} is not a number`);
  return n;
}

function fraction(v: string, what: string): number {
  const n = number(v, what);
  if (n < 0 || n > 1) throw new SldError(`${what}: ${v.slice(0, 40)} is not between 0 and 1`);
  return n;
}

function color(v: string, what: string): string {
  const t = v.trim();
  if (/^#[0-9a-f]{6}$/i.test(t)) return t.toLowerCase();
  if (/^#[0-9a-f]{3}$/i.test(t)) return `#${[...t.slice(1)].map((c) => c + c).join('')}`.toLowerCase();
  throw new SldError(`${what}: ${t.slice(0, 40)} is not a #rrggbb colour`);
}

function oneOf<T extends string>(v: string, allowed: readonly T[], what: string): T {
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new SldError(`${what}: ${v.slice(0, 40)} is not one of ${allowed.join(', ')}`);
}
