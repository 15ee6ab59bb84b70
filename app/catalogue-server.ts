/**
 * The catalogue service alone (CSW 2.0.2) on its own port (CATALOGUE_PORT, default 8082), against the same
 * shared store. `node dist/app/catalogue-server.js`
 */
process.env.SDI_SERVICES = 'catalogue';
process.env.PORT = process.env.CATALOGUE_PORT ?? process.env.PORT ?? '8082';
await import('./server.js');
