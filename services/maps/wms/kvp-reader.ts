/**
 * WMS 1.3.0 and 1.1.1 KVP → typed requests (1.1.1: SRS for CRS, X/Y for I/J, BBOX always x/y). Parameter names in any case (the Kvp reader upper-cases them), values
 * `%xx`/`+` decoded; SERVICE may be missing (CITE and some clients leave it out of GetMap; the path says
 * WMS). The parameters of WMS 1.3.0 and 1.1.1 (OGC 06-042 Tables 8, 9; GetLegendGraphic of SLD 1.1) and the
 * vendor ones QGIS and MapServer clients send (DPI, MAP_RESOLUTION, FORMAT_OPTIONS, OPACITIES, TILED, BUFFER,
 * DIM_*) are accepted; any other is refused (InvalidParameterValue, issue 13), and a QGIS FILTER, which would
 * otherwise be ignored and draw every feature, is refused until it is supported. Axis order: in 1.3.0 a CRS `EPSG:n` follows the EPSG
 * order, so `EPSG:4326` boxes come `minLat,minLon,maxLat,maxLon`; `CRS:84` is lon/lat. Boxes are turned to
 * x/y order here and nowhere else.
 */
import { Kvp, list, refuseRepeatedKeys } from '../../../src/ogc/kvp.js';
import { parseCrs, type CrsRef } from '../../../src/crs/identifiers.js';
import { axisIsNorthingFirst } from '../../../src/crs/facts.js';
import type { Bbox } from '../../../src/crs/registry.js';
import type { Layer } from '../../../src/catalog/layers.js';
import type { RasterLayer } from '../../../src/catalog/rasters.js';
import type { ImageFormat } from '../../../src/render/canvas.js';
import { WmsError, toWmsError } from './errors.js';
import type { WmsSettings } from './settings.js';
import { infoFormatOf, FEATURE_INFO_FORMATS, type InfoFormat } from './feature-info-formats.js';
import { readSld, SldError, type SldDocument, type SldNamedLayer } from '../../../src/styles/sld-reader.js';
import type { RasterStyle } from '../../../src/render/raster-style.js';
import { wmsResponseLanguage } from './inspire.js';

export const WMS_VERSION = '1.3.0';

/** The versions served: 1.3.0 (OGC 06-042) and 1.1.1 (OGC 01-068r3), which older clients and QGIS's "1.1.1" connections speak. */
export type WmsVersion = '1.3.0' | '1.1.1';

/**
 * GetMap formats as advertised, in that order. PNG8 (an 8-bit palette PNG, quantised by libimagequant) under
 * the names MapServer (`image/png; mode=8bit`) and GeoServer (`image/png8`) give it; both answer `image/png`.
 */
export const MAP_FORMAT_LIST: ReadonlyArray<[advertised: string, format: ImageFormat, contentType: string]> = [
  ['image/png', 'png', 'image/png'],
  ['image/jpeg', 'jpeg', 'image/jpeg'],
  ['image/png; mode=8bit', 'png8', 'image/png'],
  ['image/png8', 'png8', 'image/png'],
];

/** A FORMAT as a key: lower case, no blanks (`image/png;+mode=8bit` arrives as `image/png; mode=8bit`). */
const formatKey = (f: string) => f.toLowerCase().replace(/\s+/g, '');

export const MAP_FORMATS: Record<string, { format: ImageFormat; contentType: string }> = Object.fromEntries(
  MAP_FORMAT_LIST.map(([name, format, contentType]) => [formatKey(name), { format, contentType }]),
);

/** Compare dotted version numbers ("1.1.1" < "1.3.0"); NaN parts count as 0. */
function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((n) => Number(n) || 0);
  const pb = b.split('.').map((n) => Number(n) || 0);
  for (let k = 0; k < Math.max(pa.length, pb.length); k++) {
    const d = (pa[k] ?? 0) - (pb[k] ?? 0);
    if (d) return d;
  }
  return 0;
}

/**
 * The version a request speaks, for its answer and its exceptions, read leniently (the request may be
 * malformed): VERSION (WMTVER, the 1.0 name, too) below 1.3.0 means 1.1.1; without a version, a request
 * giving SRS and no CRS is a 1.1.1 one; anything else is 1.3.0.
 */
export function requestVersion(kvp: Kvp): WmsVersion {
  const v = kvp.value('VERSION') ?? kvp.value('WMTVER');
  if (v !== undefined) return compareVersions(v, '1.3.0') < 0 ? '1.1.1' : '1.3.0';
  return kvp.value('SRS') !== undefined && kvp.value('CRS') === undefined ? '1.1.1' : '1.3.0';
}

export type ExceptionsMode = 'xml' | 'inimage' | 'blank';

const EXCEPTION_FORMATS: Record<string, ExceptionsMode> = {
  xml: 'xml',
  'text/xml': 'xml',
  'application/vnd.ogc.se_xml': 'xml',
  inimage: 'inimage',
  'application/vnd.ogc.se_inimage': 'inimage',
  blank: 'blank',
  'application/vnd.ogc.se_blank': 'blank',
};

export interface ImageRequest {
  width: number;
  height: number;
  format: ImageFormat;
  /** The answer's media type (image/png for PNG8 too). */
  mime: string;
  transparent: boolean;
  /** `#rrggbb`. */
  bgcolor: string;
}

/** One entry of LAYERS in drawing order: a vector layer (its index in `layers`) or a raster layer. */
/** A layer of the map in LAYERS order: a vector layer (its index in `layers`) or a raster layer with its style (STYLES' name, or SLD_BODY's RasterSymbolizer). */
export type MapItem = { vector: number } | { raster: RasterLayer; style: string; sldStyle?: RasterStyle };

export interface GetMapRequest extends ImageRequest {
  op: 'GetMap';
  version: WmsVersion;
  /** The vector layers among LAYERS, in their order. */
  layers: Layer[];
  /** Style names as given ('' = default), one per vector layer. */
  styles: string[];
  /** LAYERS in drawing order, the first at the bottom (raster layers included). */
  order: MapItem[];
  /** SLD_BODY, read: its user styles override STYLES for the layers it names. */
  sld?: SldDocument;
  crs: CrsRef;
  /** In the CRS, x/y order. */
  bbox: Bbox;
  exceptions: ExceptionsMode;
  /** Rendering resolution (DPI, MAP_RESOLUTION or FORMAT_OPTIONS=dpi:), 96 by default. */
  dpi: number;
}

export interface GetFeatureInfoRequest {
  op: 'GetFeatureInfo';
  version: WmsVersion;
  layers: Layer[];
  styles: string[];
  crs: CrsRef;
  bbox: Bbox;
  width: number;
  height: number;
  queryLayers: Layer[];
  /** Raster layers among QUERY_LAYERS: their value at the pixel. */
  queryRasters: RasterLayer[];
  infoFormat: InfoFormat;
  /** INFO_FORMAT as asked (lower case): the answer's media type. */
  infoMime: string;
  featureCount: number;
  /** Column and row of the pixel asked about (0-based, from the top left). */
  i: number;
  j: number;
  /** Search radius in pixels (vendor BUFFER, as GeoServer names it); undefined = the default per geometry kind. */
  buffer?: number;
}

export interface GetLegendGraphicRequest {
  op: 'GetLegendGraphic';
  layer: Layer;
  raster?: undefined;
  style: string;
  /** Size of each rule's swatch (WIDTH, HEIGHT: 20 by default). */
  width: number;
  height: number;
  /** RULE: only this rule's swatch, alone. */
  rule?: string;
  /** SCALE: only the rules in scale at this denominator. */
  scale?: number;
  /** SLD_BODY: the legend of its user style for LAYER. */
  sld?: SldDocument;
}

/** GetLegendGraphic of a raster layer: its ramp, WIDTH wide (20 by default) and 5 × HEIGHT tall, or its colour map's entries. */
export interface GetRasterLegendRequest {
  op: 'GetLegendGraphic';
  raster: RasterLayer;
  /** Style name as given ('' = the default); checked against the stored raster styles when drawn. */
  style: string;
  /** SLD_BODY's RasterSymbolizer for this layer, when it has one. */
  sldStyle?: RasterStyle;
  /** SLD_BODY, read (its unsupported parts go to the Warning header). */
  sld?: SldDocument;
  width: number;
  height: number;
}

export type WmsRequest = { op: 'GetCapabilities'; version: WmsVersion; language: string } | GetMapRequest | GetFeatureInfoRequest | GetLegendGraphicRequest | GetRasterLegendRequest;

/** Legend images: 20×20 by default (what LegendURL advertises), at most this size. */
export const LEGEND_SIZE = 20;
const MAX_LEGEND_SIZE = 512;

/** Most features per layer a GetFeatureInfo returns, whatever FEATURE_COUNT asks. */
export const MAX_FEATURE_COUNT = 100;

export const WMS_PARAMETERS: ReadonlySet<string> = new Set([
  'SERVICE', 'VERSION', 'WMTVER', 'REQUEST', 'FORMAT', 'UPDATESEQUENCE', 'LAYERS', 'STYLES', 'CRS', 'SRS', 'BBOX', 'WIDTH',
  'HEIGHT', 'TRANSPARENT', 'BGCOLOR', 'EXCEPTIONS', 'TIME', 'ELEVATION', 'QUERY_LAYERS', 'INFO_FORMAT', 'FEATURE_COUNT',
  'I', 'J', 'X', 'Y', 'LAYER', 'STYLE', 'SLD', 'SLD_BODY', 'SLD_VERSION', 'RULE', 'SCALE', 'LEGEND_OPTIONS',
  'DPI', 'MAP_RESOLUTION', 'FORMAT_OPTIONS', 'OPACITIES', 'TILED', 'BUFFER', 'FILTER',
  // INSPIRE TG View Services: the capabilities' language.
  'LANGUAGE',
]);

export function readWmsKvp(kvp: Kvp, layers: Layer[], settings: WmsSettings, nsPrefix: string, rasters: readonly RasterLayer[] = []): WmsRequest {
  try {
    refuseRepeatedKeys(kvp, [['CRS', 'SRS'], ['I', 'X'], ['J', 'Y']]);
  } catch (e) {
    throw toWmsError(e);
  }
  for (const k of kvp.keys()) {
    if (k !== '' && !WMS_PARAMETERS.has(k) && !k.startsWith('DIM_')) throw new WmsError('InvalidParameterValue', `Unknown WMS parameter ${k.slice(0, 60)} (known: ${[...WMS_PARAMETERS].sort().join(', ')}, DIM_*)`, k);
  }
  if (kvp.value('FILTER')) throw new WmsError('InvalidParameterValue', 'FILTER is not supported yet: every feature would be drawn', 'FILTER');
  const service = kvp.value('SERVICE');
  if (service && service.toUpperCase() !== 'WMS') throw new WmsError('InvalidParameterValue', `SERVICE must be WMS, not ${service.slice(0, 40)}`, 'SERVICE');
  const request = kvp.value('REQUEST');
  if (!request) throw new WmsError('MissingParameterValue', 'Parameter REQUEST is required', 'REQUEST');
  switch (request.toLowerCase()) {
    case 'getcapabilities':
    case 'capabilities':
      // Version negotiation (WMS 1.3.0 §6.2.4): none or 1.3.0 and above → 1.3.0; below → 1.1.1, the highest
      // lower version served (and the lowest: a request for 1.0.0 gets it too).
      return { op: 'GetCapabilities', version: requestVersion(kvp), language: wmsResponseLanguage(kvp.value('LANGUAGE')) };
    case 'getmap':
    case 'map':
      return readGetMap(kvp, layers, settings, nsPrefix, rasters);
    case 'getfeatureinfo':
    case 'feature_info':
      return readGetFeatureInfo(kvp, layers, settings, nsPrefix, rasters);
    case 'getlegendgraphic':
      return readGetLegendGraphic(kvp, layers, nsPrefix, rasters);
    default:
      throw new WmsError('OperationNotSupported', `Request ${request.slice(0, 40)} is not supported (GetCapabilities, GetMap, GetFeatureInfo, GetLegendGraphic)`, 'REQUEST');
  }
}

function required(kvp: Kvp, name: string): string {
  const v = kvp.value(name);
  if (v === undefined) throw new WmsError('MissingParameterValue', `Parameter ${name} is required`, name);
  return v;
}

/** VERSION of an operation: 1.3.0 or 1.1.1 (1.1.0, whose KVP is the same, is read as 1.1.1); none: as requestVersion says. */
function checkVersion(kvp: Kvp): WmsVersion {
  const v = kvp.value('VERSION');
  if (v === undefined) return requestVersion(kvp);
  if (v === '1.3.0') return '1.3.0';
  if (v === '1.1.1' || v === '1.1.0') return '1.1.1';
  throw new WmsError('InvalidParameterValue', `VERSION ${v.slice(0, 20)} is not supported (1.3.0, 1.1.1)`, 'VERSION');
}

/** The CRS parameter of a version: CRS in 1.3.0, SRS in 1.1.1. */
const crsParam = (version: WmsVersion) => (version === '1.1.1' ? 'SRS' : 'CRS');

/**
 * The parts of an image request that an INIMAGE or BLANK exception needs (size, format, background),
 * read leniently: undefined when they are not usable, and then the exception is XML.
 */
export function imageRequestOf(kvp: Kvp, settings: WmsSettings): (ImageRequest & { exceptions: ExceptionsMode }) | undefined {
  try {
    const exceptions = EXCEPTION_FORMATS[(kvp.value('EXCEPTIONS') ?? 'xml').toLowerCase()] ?? 'xml';
    return { ...readImage(kvp, settings), exceptions };
  } catch {
    return undefined;
  }
}

function readImage(kvp: Kvp, settings: WmsSettings): ImageRequest {
  const width = size(kvp, 'WIDTH', settings.maxWidth);
  const height = size(kvp, 'HEIGHT', settings.maxHeight);
  const mime = required(kvp, 'FORMAT');
  const known = MAP_FORMATS[formatKey(mime)];
  if (!known) throw new WmsError('InvalidFormat', `Format ${mime.slice(0, 60)} is not offered (${MAP_FORMAT_LIST.map((f) => f[0]).join(', ')})`, 'FORMAT');
  const { format, contentType } = known;
  const t = (kvp.value('TRANSPARENT') ?? 'FALSE').toUpperCase();
  if (t !== 'TRUE' && t !== 'FALSE') throw new WmsError('InvalidParameterValue', 'TRANSPARENT must be TRUE or FALSE', 'TRANSPARENT');
  const bg = kvp.value('BGCOLOR') ?? '0xFFFFFF';
  const m = /^0x([0-9a-f]{6})$/i.exec(bg);
  if (!m) throw new WmsError('InvalidParameterValue', 'BGCOLOR must be 0xRRGGBB', 'BGCOLOR');
  // JPEG has no alpha: TRANSPARENT (QGIS sends it for every format but JPEG) is ignored there.
  return { width, height, format, mime: contentType, transparent: t === 'TRUE' && format !== 'jpeg', bgcolor: `#${m[1]!.toLowerCase()}` };
}

function size(kvp: Kvp, name: 'WIDTH' | 'HEIGHT', max: number): number {
  const v = required(kvp, name);
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new WmsError('InvalidParameterValue', `${name} must be a positive integer`, name);
  if (Number(v) > max) throw new WmsError('InvalidParameterValue', `${name} ${v.slice(0, 12)} exceeds the maximum of ${max}`, name);
  return Number(v);
}

function readGetMap(kvp: Kvp, all: Layer[], settings: WmsSettings, nsPrefix: string, rasters: readonly RasterLayer[]): GetMapRequest {
  const version = checkVersion(kvp);
  const exceptionsText = kvp.value('EXCEPTIONS') ?? 'XML';
  const exceptions = EXCEPTION_FORMATS[exceptionsText.toLowerCase()];
  if (!exceptions) throw new WmsError('InvalidParameterValue', `EXCEPTIONS ${exceptionsText.slice(0, 40)} is not offered (XML, INIMAGE, BLANK)`, 'EXCEPTIONS');
  if (kvp.value('SLD')) throw new WmsError('InvalidParameterValue', 'SLD by reference is not supported: send the document itself in SLD_BODY', 'SLD');
  const sld = readSldBody(kvp);
  // SLD profile of WMS: with SLD_BODY, LAYERS may be left out; the SLD's named layers are drawn then.
  let named: { layers: Layer[]; styles: string[]; order: MapItem[] };
  if (sld && kvp.value('LAYERS') === undefined) named = sldLayers(sld, all, rasters, readStyles(kvp, sld.layers.length), settings, nsPrefix);
  else named = readMapLayers(kvp, all, rasters, settings, nsPrefix);
  const { layers, styles, order } = named;
  const applied = sld && applySldToRasters(sld, order, nsPrefix);
  const crs = readCrs(kvp, version);
  const bbox = readBbox(kvp, crs, version);
  const image = readImage(kvp, settings);
  return { op: 'GetMap', version, layers, styles, order, ...(applied ? { sld: applied } : {}), crs, bbox, exceptions, dpi: readDpi(kvp), ...image };
}

function readGetFeatureInfo(kvp: Kvp, all: Layer[], settings: WmsSettings, nsPrefix: string, rasters: readonly RasterLayer[]): GetFeatureInfoRequest {
  const version = checkVersion(kvp);
  const { layers, styles, order } = readMapLayers(kvp, all, rasters, settings, nsPrefix);
  const crs = readCrs(kvp, version);
  const bbox = readBbox(kvp, crs, version);
  const width = size(kvp, 'WIDTH', settings.maxWidth);
  const height = size(kvp, 'HEIGHT', settings.maxHeight);
  // QUERY_LAYERS: vector layers (their features) and raster layers (their value), each one of LAYERS.
  const queryNames = list(required(kvp, 'QUERY_LAYERS'));
  if (queryNames.length === 0) throw new WmsError('MissingParameterValue', 'Parameter QUERY_LAYERS is required', 'QUERY_LAYERS');
  if (queryNames.length > settings.layerLimit) throw new WmsError('InvalidParameterValue', `At most ${settings.layerLimit} layers per request`, 'QUERY_LAYERS');
  const queryLayers: Layer[] = [];
  const queryRasters: RasterLayer[] = [];
  for (const n of queryNames) {
    const l = layerByName(all, n, nsPrefix);
    const r = l ? undefined : rasterByName(rasters, n, nsPrefix);
    if (!l && !r) throw new WmsError('LayerNotDefined', `Layer ${n.slice(0, 80)} is not defined`, 'QUERY_LAYERS');
    if (l ? !layers.includes(l) : !order.some((o) => 'raster' in o && o.raster === r)) throw new WmsError('LayerNotDefined', `Query layer ${n.slice(0, 80)} is not one of LAYERS`, 'QUERY_LAYERS');
    if (l) queryLayers.push(l);
    else queryRasters.push(r!);
  }
  const infoText = required(kvp, 'INFO_FORMAT');
  const infoFormat = infoFormatOf(infoText);
  if (!infoFormat) throw new WmsError('InvalidFormat', `INFO_FORMAT ${infoText.slice(0, 60)} is not offered (${FEATURE_INFO_FORMATS.join(', ')})`, 'INFO_FORMAT');
  const fc = kvp.value('FEATURE_COUNT') ?? '1';
  if (!/^\d+$/.test(fc) || Number(fc) < 1) throw new WmsError('InvalidParameterValue', 'FEATURE_COUNT must be a positive integer', 'FEATURE_COUNT');
  // The pixel: I, J in 1.3.0; X, Y in 1.1.1 (OGC 01-068r3 §7.3.3.7).
  const point = (name: 'I' | 'J' | 'X' | 'Y', max: number) => {
    const v = required(kvp, name);
    if (!/^\d+$/.test(v) || Number(v) >= max) throw new WmsError('InvalidPoint', `${name} must be an integer from 0 to ${max - 1}`, name);
    return Number(v);
  };
  const i = point(version === '1.1.1' ? 'X' : 'I', width);
  const j = point(version === '1.1.1' ? 'Y' : 'J', height);
  const b = kvp.value('BUFFER');
  if (b !== undefined && (!/^\d+$/.test(b) || Number(b) > 100)) throw new WmsError('InvalidParameterValue', 'BUFFER must be an integer from 0 to 100 (pixels)', 'BUFFER');
  return { op: 'GetFeatureInfo', version, layers, styles, crs, bbox, width, height, queryLayers, queryRasters, infoFormat, infoMime: infoText.trim().toLowerCase(), featureCount: Math.min(MAX_FEATURE_COUNT, Number(fc)), i, j, buffer: b === undefined ? undefined : Number(b) };
}

/** GetLegendGraphic (SLD 1.1 profile of WMS, as QGIS sends it): LAYER, STYLE, FORMAT=image/png, WIDTH, HEIGHT. */
function readGetLegendGraphic(kvp: Kvp, all: Layer[], nsPrefix: string, rasters: readonly RasterLayer[]): GetLegendGraphicRequest | GetRasterLegendRequest {
  const dim = (name: 'WIDTH' | 'HEIGHT') => (kvp.value(name) === undefined ? LEGEND_SIZE : size(kvp, name, MAX_LEGEND_SIZE));
  const raster = rasterByName(rasters, required(kvp, 'LAYER'), nsPrefix);
  if (raster) {
    const format = required(kvp, 'FORMAT');
    if (format.toLowerCase() !== 'image/png') throw new WmsError('InvalidFormat', `Legends are served as image/png, not ${format.slice(0, 60)}`, 'FORMAT');
    if (kvp.value('SLD')) throw new WmsError('InvalidParameterValue', 'SLD by reference is not supported: send the document itself in SLD_BODY', 'SLD');
    const item: MapItem = { raster, style: kvp.value('STYLE') ?? '' };
    const sldText = readSldBody(kvp);
    const sld = sldText && applySldToRasters(sldText, [item], nsPrefix);
    return { op: 'GetLegendGraphic', raster, style: item.style, ...(item.sldStyle ? { sldStyle: item.sldStyle } : {}), ...(sld ? { sld } : {}), width: dim('WIDTH'), height: dim('HEIGHT') };
  }
  const [layer] = readLayers(kvp, all, { maxWidth: 1, maxHeight: 1, layerLimit: 1 }, nsPrefix, 'LAYER');
  const format = required(kvp, 'FORMAT');
  if (format.toLowerCase() !== 'image/png') throw new WmsError('InvalidFormat', `Legends are served as image/png, not ${format.slice(0, 60)}`, 'FORMAT');
  const scaleText = kvp.value('SCALE');
  const scale = scaleText === undefined ? undefined : Number(scaleText);
  if (scale !== undefined && (!Number.isFinite(scale) || scale <= 0)) throw new WmsError('InvalidParameterValue', 'SCALE must be a positive number (a scale denominator)', 'SCALE');
  const rule = kvp.value('RULE');
  if (kvp.value('SLD')) throw new WmsError('InvalidParameterValue', 'SLD by reference is not supported: send the document itself in SLD_BODY', 'SLD');
  const read = readSldBody(kvp);
  // A vector layer's legend: a RasterSymbolizer of the SLD draws nothing, and is said so.
  const sld = read && { ...read, unsupported: [...read.unsupported, ...read.rasterParts] };
  return { op: 'GetLegendGraphic', layer: layer!, style: kvp.value('STYLE') ?? '', width: dim('WIDTH'), height: dim('HEIGHT'), ...(rule ? { rule } : {}), ...(scale !== undefined ? { scale } : {}), ...(sld ? { sld } : {}) };
}

/** SLD_BODY read by the SLD reader (malformed or unreadable: InvalidParameterValue, locator SLD_BODY). */
function readSldBody(kvp: Kvp): SldDocument | undefined {
  const text = kvp.value('SLD_BODY');
  if (!text) return undefined;
  try {
    // Its RasterSymbolizers are applied to the raster layers it names (applySldToRasters), else reported.
    return readSld(text);
  } catch (e) {
    if (e instanceof SldError) throw new WmsError('InvalidParameterValue', `SLD_BODY: ${e.message}`, 'SLD_BODY');
    throw e;
  }
}

/** The layers an SLD names, in its order (vector and raster layers), with STYLES' names. */
function sldLayers(sld: SldDocument, all: Layer[], rasters: readonly RasterLayer[], allStyles: string[], settings: WmsSettings, nsPrefix: string): { layers: Layer[]; styles: string[]; order: MapItem[] } {
  if (sld.layers.length > settings.layerLimit) throw new WmsError('InvalidParameterValue', `At most ${settings.layerLimit} layers per request`, 'SLD_BODY');
  const out: { layers: Layer[]; styles: string[]; order: MapItem[] } = { layers: [], styles: [], order: [] };
  sld.layers.forEach((n, i) => {
    const l = layerByName(all, n.layer, nsPrefix);
    if (l) {
      out.order.push({ vector: out.layers.length });
      out.layers.push(l);
      out.styles.push(allStyles[i]!);
      return;
    }
    const r = rasterByName(rasters, n.layer, nsPrefix);
    if (!r) throw new WmsError('LayerNotDefined', `Layer ${n.layer.slice(0, 80)} of SLD_BODY is not defined`, 'SLD_BODY');
    out.order.push({ raster: r, style: allStyles[i]! });
  });
  return out;
}

/**
 * SLD_BODY on the raster layers of a map or legend: the NamedLayer (or UserLayer) naming a raster layer gives its
 * style — its first RasterSymbolizer, else its first NamedStyle (a stored style, checked when drawn) —; a
 * UserLayer without Name, as QGIS exports a raster layer's style, applies when the request has that one layer.
 * What cannot apply is reported in the SLD's `unsupported` list (the Warning header): RasterSymbolizers when some
 * layer holding one is not a raster layer of the request (the reader places them by path, not by layer), and a
 * raster layer's vector symbolizers.
 */
function applySldToRasters(sld: SldDocument, order: MapItem[], nsPrefix: string): SldDocument {
  const used = new Set<SldNamedLayer>();
  const unsupported = [...sld.unsupported];
  for (const item of order) {
    if (!('raster' in item)) continue;
    const n = sld.layers.find((x) => (x.layer === '' ? order.length === 1 : !!rasterByName([item.raster], x.layer, nsPrefix)));
    if (!n) continue;
    used.add(n);
    if (n.rasterStyles[0]) item.sldStyle = n.rasterStyles[0];
    else if (n.namedStyles[0]) item.style = n.namedStyles[0];
    if (n.styles.some((st) => st.rules.some((r) => r.symbolizers.length))) unsupported.push(`${n.layer || 'UserLayer'}: vector symbolizers on a raster layer (drawn by its RasterSymbolizer only)`);
  }
  if (sld.layers.some((n) => n.rasterStyles.length && !used.has(n))) unsupported.push(...sld.rasterParts);
  return { ...sld, unsupported };
}

/** A layer by its WMS name (with or without the namespace prefix). */
export function layerByName(all: readonly Layer[], name: string, nsPrefix: string): Layer | undefined {
  const local = name.startsWith(`${nsPrefix}:`) ? name.slice(nsPrefix.length + 1) : name;
  return all.find((x) => x.name === local && x.geometry);
}

/** A raster layer by its WMS name (with or without the namespace prefix). */
export function rasterByName(rasters: readonly RasterLayer[], name: string, nsPrefix: string): RasterLayer | undefined {
  const local = name.startsWith(`${nsPrefix}:`) ? name.slice(nsPrefix.length + 1) : name;
  return rasters.find((r) => r.name === local);
}

/**
 * LAYERS and STYLES of GetMap and GetFeatureInfo: vector and raster layers in drawing order. A raster layer's
 * style is '' or `default` (its default) or one of its stored raster styles (src/styles/raster-store.ts).
 */
function readMapLayers(kvp: Kvp, all: Layer[], rasters: readonly RasterLayer[], settings: WmsSettings, nsPrefix: string): { layers: Layer[]; styles: string[]; order: MapItem[] } {
  const names = list(required(kvp, 'LAYERS'));
  if (names.length === 0) throw new WmsError('MissingParameterValue', 'Parameter LAYERS is required', 'LAYERS');
  if (names.length > settings.layerLimit) throw new WmsError('InvalidParameterValue', `At most ${settings.layerLimit} layers per request`, 'LAYERS');
  const allStyles = readStyles(kvp, names.length);
  const layers: Layer[] = [];
  const styles: string[] = [];
  const order: MapItem[] = [];
  names.forEach((n, i) => {
    const l = layerByName(all, n, nsPrefix);
    if (l) {
      order.push({ vector: layers.length });
      layers.push(l);
      styles.push(allStyles[i]!);
      return;
    }
    const r = rasterByName(rasters, n, nsPrefix);
    if (!r) throw new WmsError('LayerNotDefined', `Layer ${n.slice(0, 80)} is not defined`, 'LAYERS');
    // Its style is checked against its stored styles when the map is drawn (get-map.ts rasterStyles).
    order.push({ raster: r, style: allStyles[i]! });
  });
  return { layers, styles, order };
}

function readLayers(kvp: Kvp, all: Layer[], settings: WmsSettings, nsPrefix: string, param = 'LAYERS'): Layer[] {
  const names = list(required(kvp, param));
  if (names.length === 0) throw new WmsError('MissingParameterValue', `Parameter ${param} is required`, param);
  if (names.length > settings.layerLimit) throw new WmsError('InvalidParameterValue', `At most ${settings.layerLimit} layers per request`, param);
  return names.map((n) => {
    const l = layerByName(all, n, nsPrefix);
    if (!l) throw new WmsError('LayerNotDefined', `Layer ${n.slice(0, 80)} is not defined`, param);
    return l;
  });
}

function readStyles(kvp: Kvp, n: number): string[] {
  const raw = kvp.get('STYLES');
  if (raw === undefined || raw.trim() === '') return new Array<string>(n).fill('');
  const styles = raw.split(',').map((s) => s.trim());
  if (styles.length !== n) throw new WmsError('StyleNotDefined', `STYLES has ${styles.length} entries for ${n} layers`, 'STYLES');
  return styles;
}

function readCrs(kvp: Kvp, version: WmsVersion): CrsRef {
  const param = crsParam(version);
  const text = required(kvp, param);
  const ref = parseCrs(text);
  if (!ref) throw new WmsError('InvalidCRS', `${param} ${text.slice(0, 80)} is not supported`, param);
  return ref;
}

/** True when the CRS's axes come northing/latitude first in WMS 1.3.0 (`EPSG:4326` included, not `CRS:84`). */
export function wmsAxisYX(crs: CrsRef): boolean {
  return crs.form !== 'crs84' && crs.form !== 'gml-srs' && axisIsNorthingFirst(crs.srid);
}

/** BBOX in x/y: 1.3.0 follows the CRS's axis order; 1.1.1 is always x/y (EPSG:4326 lon/lat, OGC 01-068r3 §6.5.6). */
function readBbox(kvp: Kvp, crs: CrsRef, version: WmsVersion): Bbox {
  const text = required(kvp, 'BBOX');
  const v = text.split(',').map((s) => Number(s.trim()));
  if (v.length !== 4 || v.some((n) => !Number.isFinite(n))) throw new WmsError('InvalidParameterValue', 'BBOX must be four numbers: minx,miny,maxx,maxy', 'BBOX');
  const [a, b, c, d] = v as [number, number, number, number];
  if (a >= c || b >= d) throw new WmsError('InvalidParameterValue', 'BBOX minimum values must be less than its maximum values', 'BBOX');
  // Read the CRS's facts here in both versions: the reader runs under withCrsFacts, which loads them, and
  // the map's scale (isGeographic) needs them later whatever the version.
  const yx = wmsAxisYX(crs);
  return version === '1.3.0' && yx ? { minx: b, miny: a, maxx: d, maxy: c } : { minx: a, miny: b, maxx: c, maxy: d };
}

function readDpi(kvp: Kvp): number {
  const candidates = [kvp.value('DPI'), kvp.value('MAP_RESOLUTION'), /(?:^|;)dpi:(\d+(?:\.\d+)?)/i.exec(kvp.value('FORMAT_OPTIONS') ?? '')?.[1]];
  for (const c of candidates) {
    const n = Number(c);
    if (c !== undefined && Number.isFinite(n) && n > 0) return Math.min(600, Math.max(24, n));
  }
  return 96;
}
