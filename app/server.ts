/**
 * Serve the platform: migrations, demo data (unless SDI_DEMO=0), and the services named in SDI_SERVICES
 * (comma list; default: all) mounted under one base URL on PORT (default 8080), and their background work
 * (harvests, download job workers and janitor) once listening. A service run alone uses its own entry point
 * (app/<name>-server.ts), which sets SDI_SERVICES and a port of its own. `node dist/app/server.js`
 */
import pino from 'pino';
import { loadConfig } from '../src/config/index.js';
import { createPlatform, closePlatform } from '../src/platform.js';
import { buildApp, SERVICE_NAMES, servicesNamed, type ServiceName } from './build-app.js';
import type { BackgroundWork } from '../src/server/service.js';
import { loadDemo } from '../src/demo/load-demo.js';
import { loadCatalogueDemo } from '../src/metadata/demo.js';
import { syncLayerRecords } from '../src/publishing/index.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ level: config.logLevel });
  const platform = await createPlatform(config, log);
  if (config.demo) {
    await loadDemo(platform.pool, config.databaseUrl, (m) => log.info(m));
    await loadCatalogueDemo(platform.pool, (m) => log.info(m));
  }
  // Every published layer has its dataset record, and the WFS its service record (idempotent).
  await syncLayerRecords(platform.pool, config);
  const wanted = config.services ?? [...SERVICE_NAMES];
  const unknown = wanted.filter((s) => !(SERVICE_NAMES as readonly string[]).includes(s));
  if (unknown.length) throw new Error(`Unknown service(s) in SDI_SERVICES: ${unknown.join(', ')} (known: ${SERVICE_NAMES.join(', ')})`);
  const app = await buildApp(platform, wanted as ServiceName[]);
  const work: BackgroundWork[] = [];
  let closing: Promise<void> | undefined;
  const close = () => {
    // A second signal while closing must not end the pool twice.
    closing ??= (async () => {
      const force = setTimeout(() => process.exit(1), 10_000);
      force.unref();
      // Harvests end their run; running download jobs go back to the queue for another worker.
      for (const w of work) await w.stop().catch(() => undefined);
      await app.close().catch(() => undefined);
      await closePlatform(platform).catch(() => undefined);
      process.exit(0);
    })();
    return closing;
  };
  process.on('SIGINT', close);
  process.on('SIGTERM', close);
  await app.listen({ port: config.port, host: config.host });
  // Each service's background work: the catalogue's scheduled harvests, the download's job workers and janitor.
  for (const s of servicesNamed(wanted as ServiceName[])) if (s.start) work.push(s.start(platform, log));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
