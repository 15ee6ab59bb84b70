/**
 * Serve the platform: migrations, demo data (unless SDI_DEMO=0), and the services named in SDI_SERVICES
 * (comma list; default: all) mounted under one base URL on PORT (default 8080), and their background work
 * (harvests, download job workers and janitor) once listening. A service run alone uses its own entry point
 * (app/<name>-server.ts), which sets SDI_SERVICES and a port of its own. `node dist/app/server.js`
 *
 * With SDI_PROCESSES=N (or auto: one per core) the first process prepares the store (migrations, demo, records)
 * and forks N serving processes sharing the port (node:cluster): a map is drawn and a document encoded on one
 * thread, so one process uses one core. The background work (harvests, job workers, janitor, tile-cache trim)
 * runs in the first serving process only. A serving process that dies is replaced; the requests it held fail,
 * the others go on. Every cache that must agree between processes already does (layers_revision, the tile
 * cache on disk, the job queue in the database, the rate-limit counts relayed by the supervisor).
 */
import cluster from 'node:cluster';
import pino from 'pino';
import { loadConfig } from '../src/config/index.js';
import { createPlatform, closePlatform } from '../src/platform.js';
import { buildApp, SERVICE_NAMES, servicesNamed, type ServiceName } from './build-app.js';
import type { BackgroundWork } from '../src/server/service.js';
import { loadDemo } from '../src/demo/load-demo.js';
import { loadCatalogueDemo } from '../src/metadata/demo.js';
import { syncLayerRecords } from '../src/publishing/index.js';
import { relayRateLimitCounts } from '../src/server/rate-limit-store.js';
import { balanceConnections, relayConnectionCounts } from '../src/server/connection-balance.js';

const SERVING_INDEX = 'SDI_SERVING_PROCESS';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ level: config.logLevel });
  // A promise rejected with nobody listening is a defect of one request's code (test it where it happens, as
  // test/integration/cursor-abandoned.test.ts does); it must not end every other request of the process. Logged
  // at error level so that it is seen and fixed.
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection (a defect: the process goes on)'));
  if (config.processes > 1 && cluster.isPrimary) return supervise(config.processes, config, log);
  const servingIndex = Number(process.env[SERVING_INDEX] ?? 0);
  const platform = await createPlatform(config, log);
  // In a cluster the supervisor prepared the store before forking.
  if (cluster.isPrimary) await prepareStore(platform, config, log);
  await serve(platform, config, log, servingIndex === 0);
}

async function prepareStore(platform: Awaited<ReturnType<typeof createPlatform>>, config: ReturnType<typeof loadConfig>, log: pino.Logger): Promise<void> {
  if (config.demo) {
    await loadDemo(platform.pool, config.databaseUrl, (m) => log.info(m));
    await loadCatalogueDemo(platform.pool, (m) => log.info(m));
  }
  // Every published layer has its dataset record, and the WFS its service record (idempotent).
  await syncLayerRecords(platform.pool, config);
}

/** The supervisor of a cluster: prepares the store once, forks the serving processes, replaces one that dies. */
async function supervise(n: number, config: ReturnType<typeof loadConfig>, log: pino.Logger): Promise<void> {
  const platform = await createPlatform(config, log);
  await prepareStore(platform, config, log);
  await closePlatform(platform);
  let stopping = false;
  // The serving processes accept from the shared listening socket themselves (SCHED_NONE), not through the
  // supervisor's round robin: a connection that round robin hands to a process at the moment it dies is never
  // answered nor closed (the hand-off's acknowledgement never comes and the supervisor keeps the socket), so its
  // client waits forever. Measured (Node 20, 2 processes, 4 clients opening a connection per request, 40
  // SIGKILLs): round robin 36 requests hung, none with SCHED_NONE (70 failed at once, those the killed
  // process held); the CI run of 2026-12-06 11:19 timed out on exactly that. The balance stays even on Linux:
  // 8 kept-alive clients, 5 ms of CPU per request: 957/963, 970/945, 888/958 requests per process (round
  // robin 969/968), the same throughput. Set before the first fork (it is read then).
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  // Rate limits hold across the serving processes: each one's counts go to the others (src/server/rate-limit-store.ts).
  relayRateLimitCounts();
  // Kept-alive connections spread over the processes (src/server/connection-balance.ts).
  relayConnectionCounts();
  const fork = (index: number) => {
    const worker = cluster.fork({ [SERVING_INDEX]: String(index) });
    worker.on('listening', () => log.info({ index, pid: worker.process.pid }, 'serving process listening'));
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      log.error({ index, code, signal }, 'a serving process ended; starting another');
      setTimeout(() => fork(index), 500).unref();
    });
  };
  for (let i = 0; i < n; i++) fork(i);
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {});
    for (const w of workers) w?.process.kill('SIGTERM');
    const force = setTimeout(() => process.exit(1), 12_000);
    force.unref();
    let left = workers.length;
    if (!left) process.exit(0);
    cluster.on('exit', () => {
      if (--left <= 0) process.exit(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  log.info({ processes: n, port: config.port }, 'serving processes started');
}

async function serve(platform: Awaited<ReturnType<typeof createPlatform>>, config: ReturnType<typeof loadConfig>, log: pino.Logger, withBackgroundWork: boolean): Promise<void> {
  const wanted = config.services ?? [...SERVICE_NAMES];
  const unknown = wanted.filter((s) => !(SERVICE_NAMES as readonly string[]).includes(s));
  if (unknown.length) throw new Error(`Unknown service(s) in SDI_SERVICES: ${unknown.join(', ')} (known: ${SERVICE_NAMES.join(', ')})`);
  const app = await buildApp(platform, wanted as ServiceName[]);
  const work: BackgroundWork[] = [];
  let closing: Promise<void> | undefined;
  const close = () => {
    // A second signal while closing must not end the pool twice.
    closing ??= (async () => {
      // Which step a stop that takes too long is waiting on, said in the log before the forced exit.
      let pending = 'background work';
      const force = setTimeout(() => {
        const { totalCount, idleCount, waitingCount } = platform.pool;
        app.server.getConnections((_e, connections) => {
          log.error({ pending, connections, requests: [...inFlight].slice(0, 20), pool: { totalCount, idleCount, waitingCount } }, 'stop still waiting after 10 s: forced exit');
          process.exit(1);
        });
      }, 10_000);
      force.unref();
      // Harvests end their run; running download jobs go back to the queue for another worker.
      for (const w of work) await w.stop().catch(() => undefined);
      pending = 'open requests';
      await app.close().catch(() => undefined);
      pending = 'database connections';
      await closePlatform(platform).catch(() => undefined);
      process.exit(0);
    })();
    return closing;
  };
  // The requests not yet answered, named by the log of a stop that has to be forced.
  const inFlight = new Set<string>();
  app.server.on('request', (req: { method?: string; url?: string }, res: NodeJS.EventEmitter) => {
    const what = `${req.method} ${String(req.url).slice(0, 200)}`;
    inFlight.add(what);
    res.once('close', () => inFlight.delete(what));
  });
  process.on('SIGINT', close);
  process.on('SIGTERM', close);
  await app.listen({ port: config.port, host: config.host });
  balanceConnections(app.server);
  // Each service's background work: the catalogue's scheduled harvests, the download's job workers and janitor.
  if (withBackgroundWork) for (const s of servicesNamed(wanted as ServiceName[])) if (s.start) work.push(s.start(platform, log));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
