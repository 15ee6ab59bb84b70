/**
 * The map service alone (WMS) on its own port (MAPS_PORT, default 8084), against the same shared store.
 * `node dist/app/maps-server.js`
 */
import { serveAlone } from '../src/config/index.js';

serveAlone('maps');
await import('./server.js');
