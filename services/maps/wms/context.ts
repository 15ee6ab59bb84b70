/** Per-request context of the WMS operations. */
import type { Platform } from '../../../src/platform.js';
import type { Principal } from '../../../src/access/policy.js';
import type { Layer } from '../../../src/catalog/layers.js';
import type { RasterLayer } from '../../../src/catalog/rasters.js';
import type { WmsSettings } from './settings.js';

export interface WmsContext {
  platform: Platform;
  principal: Principal;
  settings: WmsSettings;
  /** Public base URL of the platform (no trailing slash). */
  baseUrl: string;
  /** Public URL of the WMS endpoint, without query string. */
  serviceUrl: string;
  /** The access_token of the request's URL, carried on in the capabilities' operation and legend URLs (issue 11). */
  urlToken?: string;
  /** Vector layers this caller may see and view, in catalogue order. */
  layers: Layer[];
  /** Raster layers this caller may view (access policy, decideRaster 'view'), by name. */
  rasters: RasterLayer[];
}
