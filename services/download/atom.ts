/**
 * INSPIRE pre-defined download service: a top Atom feed and one feed per dataset (being written: issue 4).
 */
import type { FastifyInstance } from 'fastify';
import type { Platform } from '../../src/platform.js';

export async function atomRoutes(_app: FastifyInstance, _opts: { platform: Platform; mountPath: string }): Promise<void> {}
