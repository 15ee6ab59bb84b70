/**
 * How the viewer draws the layers of its list. Each display mode is keyed by the endpoint it needs; the page
 * (services/maps/viewer/page.ts) says which endpoints the platform mounts (data-endpoints), and the viewer
 * offers the modes whose endpoint is there: WMS, WMTS (wmts-display.ts) once /wmts is mounted, vector tiles
 * (vector-tiles-display.ts) once /tiles is. Another mode plugs in the same way: a module exporting a DisplayMode,
 * added to DISPLAY_MODES, its endpoint added to the page's table. Feature info stays on WMS GetFeatureInfo
 * whatever draws the map.
 */
import type { DisplayMode } from './display-mode.js';
import { wmsDisplay } from './wms-display.js';
import { wmtsDisplay } from './wmts-display.js';
import { vectorTilesDisplay } from './vector-tiles-display.js';

export type { Display, DisplayMode } from './display-mode.js';

/** Every display mode, the default first. */
export const DISPLAY_MODES: readonly DisplayMode[] = [wmsDisplay, wmtsDisplay, vectorTilesDisplay];
