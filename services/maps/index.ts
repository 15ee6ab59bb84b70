/** The map service: WMS 1.3.0 (next: WMTS, vector tiles, the viewer page; issue 9). */
export { wmsRoutes } from './wms/index.js';
