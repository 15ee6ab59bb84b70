/**
 * The feature service alone (WFS + OGC API Features) on its own port (FEATURES_PORT, default 8081),
 * against the same shared store. `node dist/app/features-server.js`
 */
process.env.SDI_SERVICES = 'features';
process.env.PORT = process.env.FEATURES_PORT ?? process.env.PORT ?? '8081';
await import('./server.js');
