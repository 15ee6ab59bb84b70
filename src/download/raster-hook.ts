/**
 * Where the vector download path meets raster layers (src/download/raster.ts). Kept apart so that the
 * vector path compiles and runs before raster support is wired.
 */
import type { Platform } from '../platform.js';
import type { ExtractRequest } from './request.js';
import type { ResolvedArea } from './area.js';
import type { LayerEstimate } from './estimate.js';
import { DownloadError } from './errors.js';

export async function estimateRasterLayer(_platform: Platform, name: string, _req: ExtractRequest, _area: ResolvedArea | undefined): Promise<LayerEstimate> {
  throw new DownloadError(501, 'not-implemented', `Raster extracts of ${name} are not available yet`);
}

export async function buildRasterLayer(_platform: Platform, name: string, _req: ExtractRequest, _area: ResolvedArea | undefined, _outPath: string, _o: { signal?: AbortSignal; onProgress?: (f: number) => void }): Promise<{ bytes: number }> {
  throw new DownloadError(501, 'not-implemented', `Raster extracts of ${name} are not available yet`);
}
