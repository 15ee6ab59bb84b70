/**
 * The download service alone on its own port (DOWNLOAD_PORT, default 8083), against the same shared store.
 * `node dist/app/download-server.js`
 */
process.env.SDI_SERVICES = 'download';
process.env.PORT = process.env.DOWNLOAD_PORT ?? process.env.PORT ?? '8083';
await import('./server.js');
