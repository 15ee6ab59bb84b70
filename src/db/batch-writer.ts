/**
 * Rows written in batches, off the request path (issue 11: statistics and audit "written without slowing the
 * request path"): a request only appends to an in-memory buffer; the buffer goes to the database in one
 * multi-row statement every second, or at once when it holds `maxRows` rows, and on close. A failed insert is
 * reported and its rows dropped; beyond `maxBuffered` rows waiting (a database down), new rows are dropped and
 * counted once per flush. Used by the usage recorder (src/usage/recorder.ts) and the audit log (src/audit).
 */
export interface BatchOptions {
  intervalMs?: number;
  maxRows?: number;
  maxBuffered?: number;
  onError?: (e: unknown, dropped: number) => void;
}

export class BatchWriter<T> {
  private buffer: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly maxRows: number;
  private readonly maxBuffered: number;
  /** Rows refused since the last flush because the buffer was full: reported once per flush, not per row. */
  private dropped = 0;

  constructor(
    private readonly insert: (rows: T[]) => Promise<unknown>,
    private readonly opts: BatchOptions = {},
  ) {
    this.maxRows = opts.maxRows ?? 500;
    this.maxBuffered = opts.maxBuffered ?? 50_000;
    this.timer = setInterval(() => void this.flush(), opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  add(row: T): void {
    if (this.buffer.length >= this.maxBuffered) {
      this.dropped++;
      return;
    }
    this.buffer.push(row);
    if (this.buffer.length >= this.maxRows) void this.flush();
  }

  /** Write what is buffered (one statement per `maxRows` rows); resolves when written or dropped. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.dropped) {
        this.opts.onError?.(new Error('buffer full'), this.dropped);
        this.dropped = 0;
      }
      while (this.buffer.length) {
        const rows = this.buffer.splice(0, this.maxRows);
        try {
          await this.insert(rows);
        } catch (e) {
          this.opts.onError?.(e, rows.length);
        }
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
