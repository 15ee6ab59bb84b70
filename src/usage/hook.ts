/**
 * Usage statistics of every protocol request (issue 11): one row per request of WFS, OGC API Features, WMS,
 * WMTS, vector tiles and CSW (src/usage/classify.ts) with its caller, status, the features its cursors read
 * (src/usage/context.ts) and the bytes sent on its connection (headers included), handed to the batching
 * recorder after the answer left: nothing is awaited on the request path.
 */
import type { FastifyInstance } from 'fastify';
import type { Pool } from '../db/pool.js';
import { classifyRequest } from './classify.js';
import { usageStorage, type RequestUsage } from './context.js';
import { UsageRecorder } from './recorder.js';
import { schedulePurge } from './retention.js';
import type { RetentionSettings } from '../config/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    usage?: RequestUsage & { bytesBefore: number };
  }
}

export function registerUsage(app: FastifyInstance, pool: Pool, retention?: RetentionSettings): UsageRecorder {
  const recorder = new UsageRecorder(pool, { onError: (e, dropped) => app.log.warn({ err: e, dropped }, 'usage statistics not written') });
  // Rows past their retention (statistics and audit log) are purged in the background.
  const purge = retention ? schedulePurge(pool, retention, (e) => app.log.warn({ err: e }, 'usage and audit purge failed')) : undefined;
  app.addHook('onRequest', (req, _reply, done) => {
    const store = { features: 0, layers: new Set<string>(), byLayer: new Map<string, number>(), bytesBefore: req.raw.socket?.bytesWritten ?? 0 };
    req.usage = store;
    // The handler and its cursors run inside this store (the pattern of @fastify/request-context).
    usageStorage.run(store, done);
  });
  app.addHook('onResponse', (req, reply, done) => {
    const kind = classifyRequest(req.method, req.raw.url ?? req.url);
    const u = req.usage;
    if (kind && u && req.method !== 'OPTIONS') {
      // The layers the URL names (asked, even if refused) and those read (a POST body's, a default set).
      const layers = [...new Set([...kind.layers, ...u.layers])].slice(0, 20);
      const bytes = (req.raw.socket?.bytesWritten ?? u.bytesBefore) - u.bytesBefore;
      recorder.record({
        at: new Date(),
        service: kind.service,
        operation: kind.operation,
        layer: layers.length ? layers.join(',') : null,
        principal: req.principal?.login ?? null,
        features: u.features,
        bytes: bytes > 0 ? bytes : null,
        status: reply.statusCode,
        // Features per layer, for a request of several layers (the report shares the rest evenly).
        layerFeatures: layers.length > 1 && u.byLayer.size ? Object.fromEntries(u.byLayer) : undefined,
      });
    }
    done();
  });
  app.addHook('onClose', async () => {
    purge?.stop();
    await recorder.close();
  });
  return recorder;
}
