/**
 * The map service alone (WMS) on its own port (MAPS_PORT, default 8084), against the same shared store.
 * `node dist/app/maps-server.js`
 */
process.env.SDI_SERVICES = 'maps';
process.env.PORT = process.env.MAPS_PORT ?? process.env.PORT ?? '8084';
await import('./server.js');
