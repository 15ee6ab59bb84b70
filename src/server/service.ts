/**
 * What a service (services/<name>/index.ts) gives the composition root (app/): its routes, each endpoint under
 * its own path, and the background work it runs in a serving process, started and stopped by the root.
 * The core (src/) never imports a service: the root puts them together.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Platform } from '../platform.js';

/** Background work running in the serving process (harvests, download job workers, the janitor). */
export interface BackgroundWork {
  /** Stop it; resolves when what was running is over or handed back. */
  stop(): Promise<void>;
}

export interface Service {
  name: 'features' | 'catalogue' | 'download' | 'maps' | 'admin';
  /** Register the service's endpoints on the application, each at its path (/wfs, /csw, /download, …). */
  routes(app: FastifyInstance, platform: Platform): Promise<void>;
  /** Start the service's background work, once the application listens (none if absent). */
  start?(platform: Platform, log: Logger): BackgroundWork;
}
