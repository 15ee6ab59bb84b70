/**
 * What one request delivered, as usage statistics count it (issue 11): the features its cursors read. A store
 * per request (AsyncLocalStorage, entered by the usage hook, src/usage/hook.ts) so that the one cursor stream
 * (src/query/cursor.ts) counts for whichever protocol asked, without each service passing a counter down.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestUsage {
  features: number;
  /** Layers whose features the request read (a WFS POST body names its layers where the URL does not). */
  layers: Set<string>;
  /** Features read per layer, when the statement said which layer it read (src/db/sql.ts CompiledSql.layer). */
  byLayer: Map<string, number>;
}

export const usageStorage = new AsyncLocalStorage<RequestUsage>();

/** Count `n` features read by the current request (no-op outside a request, e.g. the CLI or a download job). */
export function countFeatures(n: number): void {
  const u = usageStorage.getStore();
  if (u) u.features += n;
}

/**
 * A counter bound to the current request's store, for code that goes on after the handler returned (a stream's
 * later batches are read on the socket's 'drain', outside the request's async context).
 */
export function featureCounter(layer?: string): (n: number) => void {
  const u = usageStorage.getStore();
  if (!u) return () => undefined;
  if (layer === undefined) return (n) => (u.features += n);
  u.layers.add(layer);
  return (n) => {
    u.features += n;
    u.byLayer.set(layer, (u.byLayer.get(layer) ?? 0) + n);
  };
}
