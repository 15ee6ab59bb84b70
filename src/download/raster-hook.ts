/**
 * Where the vector download path meets raster layers (src/download/raster.ts): by layer name, for the
 * estimate (src/download/estimate.ts) and the extract (src/download/extract.ts). Loaded lazily, so a basket
 * without raster layers never loads the raster module (nor GDAL).
 */
import type { Platform } from '../platform.js';
import type { ExtractRequest } from './request.js';
import type { ResolvedArea } from './area.js';
import { DownloadError } from './errors.js';
import { getRasterLayer, type RasterLayer } from '../catalog/rasters.js';
import { buildRasterExtract, estimateRaster, type RasterTerritory } from './raster.js';

async function rasterLayer(platform: Platform, name: string): Promise<RasterLayer> {
  const layer = await getRasterLayer(platform.pool, name);
  if (!layer) throw new DownloadError(404, 'unknown-layer', `Layer '${name.slice(0, 80)}' does not exist`, 'layer');
  return layer;
}

/** A raster layer's estimate: a LayerEstimate of src/download/estimate.ts (which imports this module lazily). */
export interface RasterLayerEstimate {
  layer: string;
  kind: 'raster';
  features: 0;
  bytes: number;
  width: number;
  height: number;
  pixels: number;
}

export async function estimateRasterLayer(platform: Platform, name: string, req: ExtractRequest, area: ResolvedArea | undefined, territory?: RasterTerritory): Promise<RasterLayerEstimate> {
  const e = await estimateRaster(platform, await rasterLayer(platform, name), req, area, territory);
  return { layer: name, kind: 'raster', features: 0, bytes: e.bytes, width: e.width, height: e.height, pixels: e.pixels };
}

export async function buildRasterLayer(platform: Platform, name: string, req: ExtractRequest, area: ResolvedArea | undefined, outPath: string, o: { signal?: AbortSignal; onProgress?: (f: number) => void; territory?: RasterTerritory | undefined }): Promise<{ bytes: number }> {
  const { territory, ...rest } = o;
  return buildRasterExtract(platform, await rasterLayer(platform, name), req, area, outPath, { ...rest, ...(territory ? { territory } : {}) });
}
