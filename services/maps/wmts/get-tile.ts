/**
 * WMTS GetTile: the tile's box in its matrix set's CRS and 256×256 pixels become a WMS GetMap of that layer and
 * style, drawn by the one GetMap renderer (services/maps/wms/get-map.ts: the same planner, so the same access
 * policy with the same caller, the same SQL, the same canvas). A tile is therefore pixel for pixel the GetMap
 * of the same box and size. PNG tiles are transparent outside the features; JPEG ones white. GetFeatureInfo
 * is likewise the WMS GetFeatureInfo of the tile's map. A raster layer's tile is the GetMap of that raster layer
 * (its style, its territorial cut: src/render/raster-cut.ts), and its feature info the pixel's value.
 */
import { parseCrs } from '../../../src/crs/identifiers.js';
import { TILE_SIZE, tileBbox } from '../../../src/tiles/matrix-sets.js';
import { getMap } from '../wms/get-map.js';
import { getFeatureInfo } from '../wms/get-feature-info.js';
import type { GetMapRequest } from '../wms/kvp-reader.js';
import type { WmsContext } from '../wms/context.js';
import type { GetTileRequest, TileFeatureInfoRequest } from './request.js';

/** The WMS GetMap a tile is. */
export function tileAsGetMap(req: GetTileRequest): GetMapRequest {
  return {
    op: 'GetMap',
    version: '1.3.0',
    layers: req.layer ? [req.layer] : [],
    styles: req.layer ? [req.style] : [],
    order: req.layer ? [{ vector: 0 }] : [{ raster: req.raster, style: req.style }],
    crs: parseCrs(`EPSG:${req.set.srid}`)!,
    bbox: tileBbox(req.set, req.matrix, req.row, req.col),
    width: TILE_SIZE,
    height: TILE_SIZE,
    format: req.format,
    mime: req.mime,
    transparent: req.format === 'png',
    bgcolor: '#ffffff',
    exceptions: 'xml',
    dpi: 96,
  };
}

export function renderTile(ctx: WmsContext, req: GetTileRequest): Promise<Buffer> {
  return getMap(ctx, tileAsGetMap(req));
}

/** Features listed per GetFeatureInfo (WMTS has no FEATURE_COUNT): the nearest first. */
export const TILE_FEATURE_COUNT = 10;

/** WMTS GetFeatureInfo: the WMS GetFeatureInfo of the tile's map at its pixel (I, J), same planner and policy. */
export function tileFeatureInfo(ctx: WmsContext, req: TileFeatureInfoRequest): Promise<{ contentType: string; body: string }> {
  const map = tileAsGetMap(req.tile);
  return getFeatureInfo(ctx, {
    op: 'GetFeatureInfo',
    version: map.version,
    layers: map.layers,
    styles: map.styles,
    crs: map.crs,
    bbox: map.bbox,
    width: map.width,
    height: map.height,
    queryLayers: map.layers,
    queryRasters: req.tile.raster ? [req.tile.raster] : [],
    infoFormat: req.infoFormat,
    infoMime: req.infoMime,
    featureCount: TILE_FEATURE_COUNT,
    i: req.i,
    j: req.j,
  });
}
