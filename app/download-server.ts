/**
 * The download service alone on its own port (DOWNLOAD_PORT, default 8083), against the same shared store.
 * `node dist/app/download-server.js`
 */
import { serveAlone } from '../src/config/index.js';

serveAlone('download');
await import('./server.js');
