/**
 * The catalogue service alone (CSW 2.0.2) on its own port (CATALOGUE_PORT, default 8082), against the same
 * shared store. `node dist/app/catalogue-server.js`
 */
import { serveAlone } from '../src/config/index.js';

serveAlone('catalogue');
await import('./server.js');
