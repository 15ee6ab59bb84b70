/**
 * OPTIONS on the OGC API – Features resources, with an Allow header that says what this caller may do there
 * (RFC 9110 §9.3.7; OGC 20-002 Part 4 §6: clients such as QGIS read Allow to offer editing). Every resource
 * allows GET, HEAD and OPTIONS; items adds POST and an item PUT, PATCH and DELETE only for a caller holding the
 * edit right on the collection. A collection the caller may not see, or that does not exist, gets the read-only
 * list, as any other caller would: OPTIONS tells nothing about which restricted collections exist.
 *
 * CORS: @fastify/cors still writes the preflight answer's headers (Access-Control-Allow-Methods, …) in its
 * onRequest hook, but with preflightContinue on these routes it lets the request go on instead of answering it
 * there: the caller's credential is then read (the principal hook runs after the CORS one) and the 204 below
 * carries the Allow of this caller. Without it, an OPTIONS with a Basic credential and no Origin (as QGIS sends
 * it) was answered before authentication, as if anonymous, and never offered editing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Platform } from '../../../src/platform.js';
import { callerOf } from '../../../src/server/principal.js';

const READ = ['GET', 'HEAD', 'OPTIONS'];
const WRITES: Record<string, string[]> = { items: ['POST'], item: ['PUT', 'PATCH', 'DELETE'] };

type Resource = { path: string; kind: 'document' | 'items' | 'item' };
const RESOURCES: Resource[] = [
  { path: '/', kind: 'document' },
  { path: '/conformance', kind: 'document' },
  { path: '/api', kind: 'document' },
  { path: '/collections', kind: 'document' },
  { path: '/collections/:collectionId', kind: 'document' },
  { path: '/collections/:collectionId/items', kind: 'items' },
  { path: '/collections/:collectionId/items/:featureId', kind: 'item' },
];

export function registerOptionsRoutes(app: FastifyInstance, platform: Platform): void {
  const allowOf = async (req: FastifyRequest, kind: Resource['kind']): Promise<string> => {
    const id = (req.params as { collectionId?: string }).collectionId;
    if (kind === 'document' || !id) return READ.join(', ');
    const layer = await platform.layers.get(id);
    const caller = callerOf(req);
    const editor = !!layer && platform.policy.canList(caller, layer) && platform.policy.decide(caller, layer, 'edit').allowed;
    return (editor ? [...READ, ...WRITES[kind]!] : READ).join(', ');
  };

  for (const r of RESOURCES) {
    app.route({
      method: 'OPTIONS',
      url: r.path,
      config: { cors: { preflightContinue: true } },
      handler: async (req, reply) => reply.status(204).header('allow', await allowOf(req, r.kind)).send(),
    });
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Per-route @fastify/cors options (merged over the global ones by the plugin). */
    cors?: boolean | { preflightContinue?: boolean };
  }
}
