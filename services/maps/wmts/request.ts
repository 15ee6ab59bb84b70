/**
 * WMTS 1.0.0 requests, KVP (OGC 07-057r7 §7.1.1.1 Table 10, §7.2.2.1 Table 18, §7.3.2.1 Table 26) and RESTful (§10.2: the
 * ResourceURL template of the capabilities), into one typed GetTile request. Parameter names in any case,
 * values as given (identifiers are case-sensitive, §7.2.2.1); unknown parameters refused
 * (InvalidParameterValue, issue 13); a row, column or matrix outside the set is TileOutOfRange (Table 28).
 */
import { Kvp, refuseRepeatedKeys } from '../../../src/ogc/kvp.js';
import type { Layer } from '../../../src/catalog/layers.js';
import type { RasterLayer } from '../../../src/catalog/rasters.js';
import type { ImageFormat } from '../../../src/render/canvas.js';
import { matrixSetById, TILE_MATRIX_SETS, TILE_SIZE, type TileMatrix, type TileMatrixSet } from '../../../src/tiles/matrix-sets.js';
import { FEATURE_INFO_FORMATS, infoFormatOf, type InfoFormat } from '../wms/feature-info-formats.js';
import { layerByName, rasterByName } from '../wms/kvp-reader.js';
import { WmtsError, toWmtsError } from './errors.js';

export const WMTS_VERSION = '1.0.0';

/** Tile formats: media type → renderer format and the REST extension. */
export const TILE_FORMATS: Record<string, { format: ImageFormat; ext: string }> = {
  'image/png': { format: 'png', ext: 'png' },
  'image/jpeg': { format: 'jpeg', ext: 'jpeg' },
};

/** A tile of a vector layer, or of a raster layer (drawn by the same GetMap; never cached: see cached-tile.ts). */
export type GetTileRequest = TileOf & ({ layer: Layer; raster?: undefined } | { raster: RasterLayer; layer?: undefined });

interface TileOf {
  op: 'GetTile';
  /** Style identifier as given ('' or 'default' = the layer's default). */
  style: string;
  mime: string;
  format: ImageFormat;
  set: TileMatrixSet;
  matrix: TileMatrix;
  row: number;
  col: number;
}

/** GetFeatureInfo (§7.3): a tile, the pixel (I, J) in it, and the answer's format. */
export interface TileFeatureInfoRequest {
  op: 'GetFeatureInfo';
  tile: GetTileRequest;
  i: number;
  j: number;
  infoFormat: InfoFormat;
  infoMime: string;
}

export type WmtsRequest = { op: 'GetCapabilities' } | GetTileRequest | TileFeatureInfoRequest;

const CAPABILITIES_PARAMETERS = ['SERVICE', 'REQUEST', 'VERSION', 'ACCEPTVERSIONS', 'SECTIONS', 'UPDATESEQUENCE', 'ACCEPTFORMATS', 'ACCEPTLANGUAGES'];
const GETTILE_PARAMETERS = ['SERVICE', 'REQUEST', 'VERSION', 'LAYER', 'STYLE', 'FORMAT', 'TILEMATRIXSET', 'TILEMATRIX', 'TILEROW', 'TILECOL'];
export const WMTS_PARAMETERS: ReadonlySet<string> = new Set([...CAPABILITIES_PARAMETERS, ...GETTILE_PARAMETERS, 'I', 'J', 'INFOFORMAT']);

function tileParams(kvp: Kvp): TileParams {
  return {
    layer: required(kvp, 'LAYER'),
    style: kvp.value('STYLE') ?? '',
    format: required(kvp, 'FORMAT'),
    set: required(kvp, 'TILEMATRIXSET'),
    matrix: required(kvp, 'TILEMATRIX'),
    row: required(kvp, 'TILEROW'),
    col: required(kvp, 'TILECOL'),
  };
}

function checkVersion(kvp: Kvp): void {
  const version = required(kvp, 'VERSION');
  if (version !== WMTS_VERSION) throw new WmtsError('InvalidParameterValue', `VERSION must be ${WMTS_VERSION}`, 'VERSION');
}

function required(kvp: Kvp, name: string): string {
  const v = kvp.value(name);
  if (v === undefined || v === '') throw new WmtsError('MissingParameterValue', `Parameter ${name} is required`, name);
  return v;
}

export function readWmtsKvp(kvp: Kvp, layers: readonly Layer[], nsPrefix: string, rasters: readonly RasterLayer[] = []): WmtsRequest {
  try {
    refuseRepeatedKeys(kvp);
  } catch (e) {
    throw toWmtsError(e);
  }
  for (const k of kvp.keys()) {
    if (k !== '' && !WMTS_PARAMETERS.has(k)) throw new WmtsError('InvalidParameterValue', `Unknown WMTS parameter ${k.slice(0, 60)} (known: ${[...WMTS_PARAMETERS].sort().join(', ')})`, k);
  }
  const service = required(kvp, 'SERVICE');
  if (service.toUpperCase() !== 'WMTS') throw new WmtsError('InvalidParameterValue', `SERVICE must be WMTS, not ${service.slice(0, 40)}`, 'SERVICE');
  const request = required(kvp, 'REQUEST');
  switch (request) {
    case 'GetCapabilities': {
      // OWS 1.1 §7.3.2: AcceptVersions without 1.0.0 fails the negotiation.
      const accept = kvp.value('ACCEPTVERSIONS');
      if (accept && !accept.split(',').map((v) => v.trim()).includes(WMTS_VERSION)) throw new WmtsError('VersionNegotiationFailed', `Only WMTS ${WMTS_VERSION} is served`, 'AcceptVersions');
      return { op: 'GetCapabilities' };
    }
    case 'GetTile':
      checkVersion(kvp);
      for (const k of ['I', 'J', 'INFOFORMAT']) if (kvp.has(k)) throw new WmtsError('InvalidParameterValue', `${k} belongs to GetFeatureInfo, not GetTile`, k);
      return readTile(layers, nsPrefix, tileParams(kvp), rasters);
    case 'GetFeatureInfo': {
      checkVersion(kvp);
      const tile = readTile(layers, nsPrefix, tileParams(kvp), rasters);
      return featureInfoOf(tile, required(kvp, 'INFOFORMAT'), required(kvp, 'I'), required(kvp, 'J'));
    }
    default:
      throw new WmtsError('OperationNotSupported', `Request ${request.slice(0, 40)} is not supported (GetCapabilities, GetTile, GetFeatureInfo)`, 'REQUEST');
  }
}

/** A GetFeatureInfo's format and pixel (KVP or REST) checked: Table 30, I and J inside the tile, else PointIJOutOfRange. */
export function featureInfoOf(tile: GetTileRequest, infoMime: string, i: string, j: string): TileFeatureInfoRequest {
  const infoFormat = infoFormatOf(infoMime);
  if (!infoFormat) throw new WmtsError('InvalidParameterValue', `INFOFORMAT ${infoMime.slice(0, 60)} is not offered (${FEATURE_INFO_FORMATS.join(', ')})`, 'INFOFORMAT');
  const point = (name: 'I' | 'J', v: string) => {
    if (!/^\d{1,9}$/.test(v)) throw new WmtsError('InvalidParameterValue', `${name} must be a non-negative integer`, name);
    if (Number(v) >= TILE_SIZE) throw new WmtsError('PointIJOutOfRange', `${name} must be from 0 to ${TILE_SIZE - 1}`, name);
    return Number(v);
  };
  return { op: 'GetFeatureInfo', tile, i: point('I', i), j: point('J', j), infoFormat, infoMime: infoMime.trim().toLowerCase() };
}

/**
 * The extension of each GetFeatureInfo format in the RESTful FeatureInfo template (§10.2.1, Table 33:
 * {TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}/{J}/{I}, then the format's extension).
 */
export const INFO_EXTENSIONS: Record<string, string> = {
  'application/json': 'json',
  'application/geo+json': 'geojson',
  'text/xml': 'xml',
  'application/vnd.ogc.gml': 'gml',
  'text/html': 'html',
  'text/plain': 'txt',
};

export interface TileParams {
  layer: string;
  style: string;
  /** A media type (KVP) or, from REST, undefined with `ext`. */
  format?: string;
  ext?: string;
  set: string;
  matrix: string;
  row: string;
  col: string;
}

function index(v: string, name: string): number {
  if (!/^\d{1,9}$/.test(v)) throw new WmtsError('InvalidParameterValue', `${name} must be a non-negative integer, not ${v.slice(0, 40)}`, name);
  return Number(v);
}

/** A GetTile's parameters (KVP or REST) checked against the layers and matrix sets. */
export function readTile(layers: readonly Layer[], nsPrefix: string, p: TileParams, rasters: readonly RasterLayer[] = []): GetTileRequest {
  const layer = layerByName(layers, p.layer, nsPrefix);
  const raster = layer ? undefined : rasterByName(rasters, p.layer, nsPrefix);
  if (!layer && !raster) throw new WmtsError('InvalidParameterValue', `Layer ${p.layer.slice(0, 80)} is not defined`, 'LAYER');
  let mime: string | undefined;
  if (p.format !== undefined) mime = p.format in TILE_FORMATS ? p.format : undefined;
  else mime = Object.keys(TILE_FORMATS).find((m) => TILE_FORMATS[m]!.ext === p.ext || (p.ext === 'jpg' && m === 'image/jpeg'));
  if (!mime) throw new WmtsError('InvalidParameterValue', `Format ${(p.format ?? p.ext ?? '').slice(0, 40)} is not offered (${Object.keys(TILE_FORMATS).join(', ')})`, 'FORMAT');
  const set = matrixSetById(p.set);
  if (!set) throw new WmtsError('InvalidParameterValue', `TileMatrixSet ${p.set.slice(0, 40)} is not offered (${TILE_MATRIX_SETS.map((s) => s.id).join(', ')})`, 'TILEMATRIXSET');
  const matrix = set.matrices.find((m) => m.id === p.matrix);
  if (!matrix) throw new WmtsError('TileOutOfRange', `TileMatrix ${p.matrix.slice(0, 40)} is not in ${set.id} (0 to ${set.matrices.length - 1})`, 'TILEMATRIX');
  const row = index(p.row, 'TILEROW');
  const col = index(p.col, 'TILECOL');
  if (row >= matrix.matrixHeight) throw new WmtsError('TileOutOfRange', `TILEROW ${row} is outside matrix ${matrix.id} of ${set.id} (0 to ${matrix.matrixHeight - 1})`, 'TILEROW');
  if (col >= matrix.matrixWidth) throw new WmtsError('TileOutOfRange', `TILECOL ${col} is outside matrix ${matrix.id} of ${set.id} (0 to ${matrix.matrixWidth - 1})`, 'TILECOL');
  const tile = { op: 'GetTile' as const, style: p.style, mime, format: TILE_FORMATS[mime]!.format, set, matrix, row, col };
  return layer ? { ...tile, layer } : { ...tile, raster: raster! };
}
