/**
 * Serve the platform: migrations, demo data (unless SDI_DEMO=0), and the services named in SDI_SERVICES
 * (comma list; default: all) mounted under one base URL on PORT (default 8080). A service run alone uses
 * its own entry point (services/<name>/server.ts), which sets SDI_SERVICES and a port of its own.
 */
import pino from 'pino';
import { loadConfig } from './config/index.js';
import { createPlatform, closePlatform } from './platform.js';
import { buildApp, SERVICE_NAMES, type ServiceName } from './server/app.js';
import { loadDemo } from './demo/load-demo.js';
import { loadCatalogueDemo } from './metadata/demo.js';
import { syncLayerRecords } from './publishing/index.js';
import { startHarvestScheduler, type HarvestScheduler } from './harvest/scheduler.js';
import { OutboundPolicy } from './net/outbound.js';
import { startDownloadWorkers, type DownloadWorkers } from './download/jobs/worker.js';
import { startJanitor, type Janitor } from './download/jobs/janitor.js';

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
  const wanted = (process.env.SDI_SERVICES ?? SERVICE_NAMES.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((s) => !(SERVICE_NAMES as readonly string[]).includes(s));
  if (unknown.length) throw new Error(`Unknown service(s) in SDI_SERVICES: ${unknown.join(', ')} (known: ${SERVICE_NAMES.join(', ')})`);
  const app = await buildApp(platform, wanted as ServiceName[]);
  let harvests: HarvestScheduler | undefined;
  let jobWorkers: DownloadWorkers | undefined;
  let janitor: Janitor | undefined;
  let closing: Promise<void> | undefined;
  const close = () => {
    // A second signal while closing must not end the pool twice.
    closing ??= (async () => {
      const force = setTimeout(() => process.exit(1), 10_000);
      force.unref();
      await harvests?.stop().catch(() => undefined);
      janitor?.stop();
      // Running download jobs go back to the queue for another worker.
      await jobWorkers?.stop().catch(() => undefined);
      await app.close().catch(() => undefined);
      await closePlatform(platform).catch(() => undefined);
      process.exit(0);
    })();
    return closing;
  };
  process.on('SIGINT', close);
  process.on('SIGTERM', close);
  await app.listen({ port: config.port, host: config.host });
  // Scheduled harvests of other catalogues (safe in every process: one advisory lock per source).
  if (wanted.includes('catalogue') && process.env.SDI_HARVEST !== '0') harvests = startHarvestScheduler(platform.pool, { log: (m) => log.info(m), policy: new OutboundPolicy(config.outboundAllow) });
  // Deferred download jobs: workers in this process (others may run `cli.js download-worker`), and the janitor.
  if (wanted.includes('download')) {
    if (config.download.workers > 0) jobWorkers = startDownloadWorkers(platform, config.download.workers, log);
    janitor = startJanitor(platform, log);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
