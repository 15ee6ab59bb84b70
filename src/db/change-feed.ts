/**
 * The change feed of a process (issue 9, "Measure it"): one connection that LISTENs on sdi_changes, which the
 * triggers of migration 0027 notify on every statement that changes a tracked layer table, the layer registry
 * or the styles. It turns "has anything changed?" from a query per request into a memory read: whatever is
 * derived from those tables (the layer catalogue, the tile revisions) is kept with the feed's `generation` at
 * the time it was read, and is current while the feed is `live` and the generation has not moved.
 *
 * Why a generation read *before* the query: a change committed while the query runs may be missed by the
 * query, but its notification then moves the generation, so what the query read is already stale when it is
 * stored. Every notification moves it (whatever its payload): the readers are cheap to refresh (one small
 * query per layer), so precision is not worth a second bookkeeping.
 *
 * Consistency: a notification is sent by PostgreSQL at commit, before the writer hears its COMMIT answered,
 * so a process learns of a change within the delivery of one message (well under a millisecond on one host;
 * measured with test/maps/change-feed.test.ts). While the connection is down (not yet up, lost, database
 * restarting) the feed is not live and readers query every time, as before; on every (re)connection the
 * generation moves, since notifications sent meanwhile were lost. Readers still re-read after a TTL of their
 * own, for the changes no trigger sees (a table dropped and created again, a trigger removed by hand).
 */
import pg from 'pg';

export const CHANGE_CHANNEL = 'sdi_changes';

export interface ChangeFeedOptions {
  /** Delay before reconnecting a lost listener. */
  retryMs?: number;
  applicationName?: string;
  onError?: (e: unknown) => void;
}

export class ChangeFeed {
  private _generation = 0;
  private _live = false;
  private client: pg.Client | undefined;
  private stopped = false;
  private readonly listeners = new Set<(payload?: string) => void>();
  private settling: Promise<void> | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly opts: ChangeFeedOptions = {},
  ) {}

  /** Moves on every notification, (re)connection and loss of the connection. */
  get generation(): number {
    return this._generation;
  }

  /** Listening: what was read at the current generation is still current. */
  get live(): boolean {
    return this._live;
  }

  /**
   * Resolves after the notifications already received by the process are handled: at the check phase of the
   * event loop's turn (setImmediate), after every socket that the turn's poll found readable was read. An HTTP
   * request is read in the poll phase, before the listener's socket if both came together: a reader that
   * trusts what it holds awaits this first (one turn shared by all callers, a few microseconds).
   */
  settled(): Promise<void> {
    return (this.settling ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.settling = undefined;
        resolve();
      }),
    ));
  }

  /** Called on every move of the generation: a notification (with its payload), a connection made or lost (none). */
  onChange(fn: (payload?: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private move(payload?: string): void {
    this._generation++;
    for (const fn of this.listeners) fn(payload);
  }

  /** Connect and LISTEN; resolves once listening (or once the first attempt failed: it retries in the background). */
  async start(): Promise<void> {
    if (this.stopped) return;
    const c = new pg.Client({ connectionString: this.databaseUrl, application_name: this.opts.applicationName ?? 'sdi-change-feed', keepAlive: true });
    let retried = false;
    const lost = (err?: unknown) => {
      if (this.client === c) this.client = undefined;
      if (this._live && this.client === undefined) this._live = false;
      this.move();
      if (retried || this.stopped) return;
      retried = true;
      if (err) this.opts.onError?.(err);
      setTimeout(() => void this.start(), this.opts.retryMs ?? 1000).unref();
    };
    c.on('error', (err) => lost(err));
    c.on('end', () => lost());
    c.on('notification', (msg) => {
      if (msg.channel === CHANGE_CHANNEL) this.move(msg.payload ?? '');
    });
    try {
      await c.connect();
      // The socket does not keep a process alive on its own (a CLI command, a test ending its pool only).
      (c as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
      await c.query(`LISTEN ${CHANGE_CHANNEL}`);
      if (this.stopped) {
        await c.end().catch(() => undefined);
        return;
      }
      this.client = c;
      // Whatever was read before this connection listened may have missed a notification.
      this.move();
      this._live = true;
    } catch (err) {
      await c.end().catch(() => undefined);
      lost(err);
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    this._live = false;
    const c = this.client;
    this.client = undefined;
    this.move();
    await c?.end().catch(() => undefined);
  }
}
