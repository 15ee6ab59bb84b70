/**
 * Run `release` when the HTTP response is over, whatever ended it. The client may already have gone while
 * the request was being served (the 'close' event then fired before anyone listened): release at once.
 */
import type { FastifyReply } from 'fastify';

export function releaseWhenResponseCloses(reply: FastifyReply, release: () => Promise<void>): void {
  const res = reply.raw;
  const run = () => void release().catch(() => undefined);
  if (res.closed || res.destroyed || reply.request.raw.socket?.destroyed) run();
  else res.once('close', run);
}
