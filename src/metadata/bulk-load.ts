/**
 * Bulk loading of metadata records (`cli.js records-load DIR…`): tens of thousands of ISO 19139 / Dublin Core
 * files into the catalogue, with the same parser, the same queryable extraction and the same upsert
 * statement as the one-record path (store.ts: parseRecord; src/records: recordRow, upsertStatement), only batched:
 * files are parsed by worker threads, and each batch of records is one INSERT … SELECT FROM json_to_recordset … ON CONFLICT
 * (its records' JSON and long texts as binary parameters made whole in the parser thread, bulkUpsertParams, and
 * handed over without a copy: the writing thread only sends them).
 * The result is the same table, row for row, as loading the files one by one with upsertRecord.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { cpus } from 'node:os';
import type { Pool } from '../db/pool.js';
import { MetadataError } from '../records/record.js';
import { parseRecord } from './store.js';
import { bulkUpsertParams, recordRow, type RecordRow } from '../records/sql.js';
import { analyzeRecords, upsertRows } from '../records/repository.js';

export interface BulkLoadOptions {
  /** Records per INSERT statement (default 200; at most 1000: a batch is one JSON text of ~40 kB a generated record). */
  batchSize?: number;
  /** Parser threads (default: one per CPU, the writing thread mostly waits; 0 parses in this thread). */
  workers?: number;
  /** INSERT statements in flight at once, each on its own connection (default 2). */
  connections?: number;
  /** Rewrite records whose document did not change (after the extraction rules changed). */
  force?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface BulkLoadReport {
  files: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: Array<{ file: string; reason: string }>;
  seconds: number;
}

/** Every `*.xml` under the given files and directories (recursively), sorted by path. */
export function listRecordFiles(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) {
      for (const e of readdirSync(p).sort()) walk(join(p, e));
    } else if (p.toLowerCase().endsWith('.xml')) out.push(p);
  };
  for (const p of paths) walk(p);
  return out;
}

/** What a parser (thread) returns for one batch of files. */
export interface ParsedBatch {
  /** Distinct records of the batch (one statement cannot upsert an identifier twice: the last file wins, as it would one by one). */
  records: number;
  /** upsertStatement's parameters (bulkUpsertParams); none when no file of the batch is a record. */
  params: Uint8Array[];
  failed: Array<{ file: string; reason: string }>;
}

export function parseFiles(files: string[]): ParsedBatch {
  const byId = new Map<string, RecordRow>();
  const failed: ParsedBatch['failed'] = [];
  for (const f of files) {
    try {
      const row = recordRow(parseRecord(readFileSync(f)));
      byId.set(row.identifier, row);
    } catch (e) {
      if (!(e instanceof MetadataError)) throw e;
      failed.push({ file: f, reason: e.message });
    }
  }
  return { records: byId.size, params: byId.size > 0 ? bulkUpsertParams([...byId.values()]) : [], failed };
}

/** A pool of parser threads (bulk-parse-worker.js), each answering one batch at a time. */
class ParserPool {
  private idle: Worker[] = [];
  private waiting: Array<(w: Worker) => void> = [];
  private all: Worker[] = [];

  constructor(n: number) {
    for (let i = 0; i < n; i++) {
      const w = new Worker(new URL('./bulk-parse-worker.js', import.meta.url));
      w.unref();
      this.all.push(w);
      this.idle.push(w);
    }
  }

  async parse(files: string[]): Promise<ParsedBatch> {
    const w = this.idle.pop() ?? (await new Promise<Worker>((resolve) => this.waiting.push(resolve)));
    try {
      return await new Promise<ParsedBatch>((resolve, reject) => {
        const done = () => {
          w.off('message', onMessage);
          w.off('error', onError);
          w.off('exit', onExit);
        };
        const onMessage = (m: { ok: true; batch: ParsedBatch } | { ok: false; error: string }) => {
          done();
          if (m.ok) resolve(m.batch);
          else reject(new Error(m.error));
        };
        const onError = (e: Error) => {
          done();
          reject(e);
        };
        const onExit = () => {
          done();
          reject(new Error('parser thread stopped'));
        };
        w.once('message', onMessage);
        w.once('error', onError);
        w.once('exit', onExit);
        w.postMessage(files);
      });
    } finally {
      const next = this.waiting.shift();
      if (next) next(w);
      else this.idle.push(w);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}

/**
 * Settings of a batch's transaction. work_mem: a 200-record batch is ~8 MB of rows twice over (the rows of
 * json_to_recordset, materialised, and the statement triggers' transition table of the same rows); with the
 * default 4 MB both went to temporary files (EXPLAIN: temp written=2,134 blocks a batch). synchronous_commit off: a
 * batch's commit does not wait for its WAL to reach the disk; a crash can lose the last batches' commits, never
 * half a batch, and loading again (idempotent) puts them back.
 */
const BATCH_SETTINGS_SQL = "SELECT set_config('work_mem', '64MB', true), set_config('synchronous_commit', 'off', true)";

export async function bulkLoadRecords(pool: Pool, paths: string[], options: BulkLoadOptions = {}): Promise<BulkLoadReport> {
  const t0 = performance.now();
  const batchSize = Math.min(1000, Math.max(1, options.batchSize ?? 200));
  const nWorkers = options.workers ?? Math.max(1, cpus().length);
  const connections = Math.max(1, options.connections ?? 2);
  const files = listRecordFiles(paths);
  const report: BulkLoadReport = { files: files.length, created: 0, updated: 0, unchanged: 0, failed: [], seconds: 0 };
  const batches: string[][] = [];
  for (let i = 0; i < files.length; i += batchSize) batches.push(files.slice(i, i + batchSize));

  const parsers = nWorkers > 0 ? new ParserPool(nWorkers) : undefined;
  const parse = (b: string[]) => (parsers ? parsers.parse(b) : Promise.resolve(parseFiles(b)));
  let done = 0;
  let next = 0;
  // Batches are parsed ahead (as many as there are threads and lanes) while the lanes write earlier ones:
  // parsing and writing overlap, and no thread waits for a lane.
  const ahead = new Map<number, Promise<ParsedBatch>>();
  let parsedUpTo = 0;
  const prefetch = (upTo: number) => {
    for (; parsedUpTo < batches.length && parsedUpTo <= upTo; parsedUpTo++) {
      const p = parse(batches[parsedUpTo]!);
      p.catch(() => undefined); // awaited (and thrown) by its lane
      ahead.set(parsedUpTo, p);
    }
  };
  const lane = async () => {
    const client = await pool.connect();
    try {
      for (;;) {
        const i = next++;
        if (i >= batches.length) return;
        prefetch(i + Math.max(1, nWorkers) + connections);
        const parsed = await ahead.get(i)!;
        ahead.delete(i);
        report.failed.push(...parsed.failed);
        if (parsed.records > 0) {
          await client.query('BEGIN');
          try {
            await client.query(BATCH_SETTINGS_SQL);
            // (a thread's Buffers arrive as Uint8Arrays: pg sends a Buffer in binary format)
            const params = parsed.params.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
            const rows = await upsertRows(client, params, options.force);
            await client.query('COMMIT');
            for (const r of rows) r.inserted ? report.created++ : report.updated++;
            report.unchanged += parsed.records - rows.length;
          } catch (e) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw e;
          }
        }
        done += batches[i]!.length;
        options.onProgress?.(done, files.length);
      }
    } finally {
      client.release();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(connections, batches.length || 1) }, lane));
  } finally {
    await parsers?.close();
  }
  // Fresh statistics and visibility map: the planner knows the new size and index-only scans work at once.
  if (report.created + report.updated > 0) await analyzeRecords(pool);
  report.seconds = Math.round((performance.now() - t0) / 100) / 10;
  return report;
}
