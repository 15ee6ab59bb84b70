/**
 * The feature service alone (WFS + OGC API Features) on its own port (FEATURES_PORT, default 8081),
 * against the same shared store. `node dist/app/features-server.js`
 */
import { serveAlone } from '../src/config/index.js';

serveAlone('features');
await import('./server.js');
