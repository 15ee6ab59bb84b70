/** What a part of the administration API (publishing, rights, styles…) gives the /admin plugin. */
import type { FastifyInstance } from 'fastify';
import type { Platform } from '../../src/platform.js';

export interface AdminModule {
  /** Short name, also the OpenAPI tag. */
  name: string;
  /** Register the module's routes on the /admin plugin (paths relative to /admin). */
  routes(app: FastifyInstance, platform: Platform): Promise<void>;
  /** The module's OpenAPI 3.0 paths, relative to /admin (e.g. '/layers/{name}'), and its component schemas. */
  openapi: { paths: Record<string, unknown>; schemas?: Record<string, unknown> };
}
