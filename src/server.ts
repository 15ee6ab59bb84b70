/**
 * Serve the whole platform in one process: migrations, demo data (unless SDI_DEMO=0), every service
 * mounted under one base URL on PORT (default 8080).
 */
import pino from 'pino';
import { loadConfig } from './config/index.js';
import { createPlatform, closePlatform } from './platform.js';
import { buildApp } from './server/app.js';
import { loadDemo } from './demo/load-demo.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ level: config.logLevel });
  const platform = await createPlatform(config, log);
  if (config.demo) await loadDemo(platform.pool, config.databaseUrl, (m) => log.info(m));
  const app = await buildApp(platform);
  const close = async () => {
    await app.close();
    await closePlatform(platform);
    process.exit(0);
  };
  process.on('SIGINT', close);
  process.on('SIGTERM', close);
  await app.listen({ port: config.port, host: config.host });
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
