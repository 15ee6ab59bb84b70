/**
 * WMS limits, from the environment (they move to the SDI_CONFIG file with the maps configuration):
 * SDI_WMS_MAX_WIDTH / SDI_WMS_MAX_HEIGHT (pixels, default 4096, advertised as MaxWidth / MaxHeight) and
 * SDI_WMS_LAYER_LIMIT (layers per GetMap, default 50, advertised as LayerLimit).
 */
export interface WmsSettings {
  maxWidth: number;
  maxHeight: number;
  layerLimit: number;
}

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer (got ${raw})`);
  return n;
}

export function wmsSettings(): WmsSettings {
  return { maxWidth: positive('SDI_WMS_MAX_WIDTH', 4096), maxHeight: positive('SDI_WMS_MAX_HEIGHT', 4096), layerLimit: positive('SDI_WMS_LAYER_LIMIT', 50) };
}
