/**
 * Deferred download jobs over HTTP: create, status with progress, cancel, and the signed result link.
 * (Being written: see issue 4.)
 */
import type { FastifyInstance } from 'fastify';
import type { Platform } from '../../src/platform.js';

export async function jobRoutes(_app: FastifyInstance, _opts: { platform: Platform; mountPath: string }): Promise<void> {}
