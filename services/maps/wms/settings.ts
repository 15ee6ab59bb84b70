/** WMS limits (src/config: SDI_WMS_MAX_WIDTH / SDI_WMS_MAX_HEIGHT, default 4096, advertised as MaxWidth / MaxHeight;
 * SDI_WMS_LAYER_LIMIT, default 50, advertised as LayerLimit). */
import type { Config } from '../../../src/config/index.js';

export interface WmsSettings {
  maxWidth: number;
  maxHeight: number;
  layerLimit: number;
}

export function wmsSettings(config: Config): WmsSettings {
  return { ...config.maps };
}
