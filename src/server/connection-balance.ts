/**
 * Kept-alive connections spread over the serving processes of a cluster (SDI_PROCESSES=N).
 *
 * The serving processes accept from the shared listening socket themselves (app/server.ts, SCHED_NONE: the
 * supervisor's round robin left connections unanswered when a process died). libuv accepts every pending
 * connection in one go, so a burst of new connections (wrk's 8, QGIS's several at a layer's first draw) goes to
 * whichever process woke first, and kept alive, they stay there: measured on the W5 bench (c=8, 2 processes,
 * 1024² maps of ~160 ms CPU each), 8/0 in three runs of four (6.7 req/s, one core idle) against 5/3 in the fourth
 * (11.0 req/s). Requests of 5 ms never showed it (the accepting process is back in its loop at once).
 *
 * Each serving process reports its open connections to the supervisor (on change, at most every 250 ms), which
 * sends the sum back to all. A process holding more than its share (the sum over the processes, rounded up)
 * answers that many of its next requests with `Connection: close`: the client opens a new connection, which the
 * process with fewer (hence less busy, back in its loop sooner) most often accepts. Nothing is refused or cut: a
 * response is whole, only its connection is not kept. Alone (no cluster) nothing is done.
 */
import cluster from 'node:cluster';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

const COUNT = 'sdi-connections';
const TOTAL = 'sdi-connections-total';

interface CountMessage {
  type: typeof COUNT;
  open: number;
}
interface TotalMessage {
  type: typeof TOTAL;
  total: number;
  processes: number;
}

const isCount = (m: unknown): m is CountMessage => (m as CountMessage | null)?.type === COUNT && Number.isInteger((m as CountMessage).open);
const isTotal = (m: unknown): m is TotalMessage => (m as TotalMessage | null)?.type === TOTAL && Number.isInteger((m as TotalMessage).total);

/** How many of its connections a process holding `own` of `total` over `processes` processes should let go. */
export function excessConnections(own: number, total: number, processes: number): number {
  if (processes < 2 || total <= 0) return 0;
  return Math.max(0, own - Math.ceil(total / processes));
}

/** In a serving process: count the open connections, report them, close the excess after their current response. */
export function balanceConnections(server: Server): void {
  if (!cluster.isWorker || typeof process.send !== 'function') return;
  let open = 0;
  let reported = -1;
  let shed = 0;
  server.on('connection', (socket) => {
    open++;
    socket.once('close', () => open--);
  });
  const report = setInterval(() => {
    if (open === reported || !process.connected) return;
    reported = open;
    process.send!({ type: COUNT, open } satisfies CountMessage, undefined, {}, () => undefined);
  }, 250);
  report.unref();
  process.on('message', (m: unknown) => {
    if (isTotal(m)) shed = excessConnections(open, m.total, m.processes);
  });
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (shed <= 0 || res.headersSent) return;
    shed--;
    res.setHeader('Connection', 'close');
  });
}

/** In the supervisor: sum the serving processes' reports and send the sum to each of them. */
export function relayConnectionCounts(): void {
  const counts = new Map<number, number>();
  cluster.on('exit', (w) => counts.delete(w.id));
  cluster.on('message', (worker, m: unknown) => {
    if (!isCount(m)) return;
    counts.set(worker.id, m.open);
    const live = Object.values(cluster.workers ?? {}).filter((w) => w?.isConnected());
    let total = 0;
    for (const w of live) total += counts.get(w!.id) ?? 0;
    for (const w of live) w!.send({ type: TOTAL, total, processes: live.length } satisfies TotalMessage, undefined, () => undefined);
  });
}
