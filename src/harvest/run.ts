/**
 * One harvest run of one source, all or nothing:
 *
 * 1. under a PostgreSQL advisory lock for the source (two processes never run the same source at once),
 *    a row in sdi.harvest_runs records the attempt;
 * 2. fetch: the source's pages are read one by one; each document is parsed (src/metadata) and staged in
 *    sdi.harvest_staging (so memory holds one page at most); a document that cannot be read as a record is
 *    reported as failed and skipped;
 * 3. apply: ONE transaction reads the staging rows back in order and creates, updates or leaves each record
 *    (provenance: source_id, remote_id), writes the per-record report, the run's counts and the source's
 *    watermark, and commits. A record that belongs to another source (or is a local record) with the same
 *    identifier is not taken over: it is reported as failed.
 *
 * Any failure before the commit (remote unreachable, a page that is not XML, an exception report, the
 * database) rolls back: the catalogue is left as it was, and the run is recorded as failed with the reason.
 */
import type { Pool, PoolClient } from '../db/pool.js';
import { parseRecord } from '../metadata/store.js';
import { lockForHarvest, setHarvestOrigin, upsertRecord } from '../records/repository.js';
import { MetadataError } from '../records/record.js';
import { getSource, type HarvestSource, type SourceKind } from './sources.js';
import { HarvestError } from './http.js';
import { OutboundPolicy } from '../net/outbound.js';
import { harvestCsw } from './csw.js';
import { harvestDcat } from './dcat.js';
import { harvestIso } from './iso.js';
import { capabilitiesHarvester, withoutDateStamp } from './capabilities.js';
import type { Harvester } from './types.js';

export const HARVESTERS: Record<SourceKind, Harvester> = {
  csw: harvestCsw,
  dcat: harvestDcat,
  iso: harvestIso,
  wms: capabilitiesHarvester('wms'),
  wfs: capabilitiesHarvester('wfs'),
};

/** First key of the two-key advisory locks of harvest runs (the second is the source id). */
export const HARVEST_LOCK_CLASS = 727_155;
const APPLY_BATCH = 200;

export type ItemAction = 'created' | 'updated' | 'unchanged' | 'failed';

export interface RunItem {
  remoteId: string;
  identifier?: string;
  title?: string;
  action: ItemAction;
  reason?: string;
}

export interface HarvestReport {
  runId: number;
  sourceId: number;
  status: 'succeeded' | 'failed';
  incremental: boolean;
  /** Why the run failed (nothing was applied): the detail, for the log and sdi.harvest_runs.error. */
  error?: string;
  /** The same, as a remote caller may read it: generic, never a remote's error text (see harvestFailureText). */
  publicError?: string;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  items: RunItem[];
}

export class HarvestBusyError extends Error {}

export interface RunOptions {
  /** Ignore the watermark: read everything (CSW sources). */
  full?: boolean;
  trigger?: 'manual' | 'schedule' | 'csw';
  /** Scheduler runs: give up (HarvestBusyError) when the source is no longer due once the lock is taken. */
  onlyIfDue?: boolean;
  timeoutMs?: number;
  log?: (msg: string) => void;
  /** Which destinations the harvest may reach (the platform's SDI_OUTBOUND_ALLOW); default: public addresses only. */
  policy?: OutboundPolicy;
}

const shorten = (s: string, n = 2000) => (s.length > n ? `${s.slice(0, n)}…` : s);

const KIND_NAMES: Record<SourceKind, string> = { csw: 'a CSW', dcat: 'a DCAT', iso: 'an ISO 19139', wms: 'a WMS capabilities', wfs: 'a WFS capabilities' };

/**
 * The text a caller of a failed harvest gets: the same for every network cause (refused destination,
 * connection refused, bad port, timeout, redirect), and never a remote exception report's text, so that the
 * harvest cannot be used to probe internal hosts (issue 13 point 8). The detail goes to the log and the run row.
 */
export function harvestFailureText(e: unknown, kind: SourceKind): string {
  if (e instanceof HarvestError && e.kind === 'unreachable') return 'the source could not be reached';
  if (e instanceof HarvestError || e instanceof MetadataError) return `the source did not answer with ${KIND_NAMES[kind]} document`;
  return 'the harvest could not be completed';
}

function reasonOf(e: unknown): string {
  if (e instanceof HarvestError || e instanceof MetadataError) return shorten(e.message);
  const err = e as { message?: string; code?: string };
  return shorten(err?.message ?? String(e));
}

/** Run a harvest of a source now. Throws HarvestBusyError when the source is being harvested elsewhere. */
export async function runHarvest(pool: Pool, sourceId: number, options: RunOptions = {}): Promise<HarvestReport> {
  const log = options.log ?? (() => undefined);
  const lock = await pool.connect();
  let locked = false;
  try {
    locked = (await lock.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2::int) AS ok', [HARVEST_LOCK_CLASS, sourceId])).rows[0]!.ok;
    if (!locked) throw new HarvestBusyError(`source ${sourceId} is being harvested by another run`);
    const source = await getSource(lock, sourceId);
    if (!source) throw new Error(`no harvest source ${sourceId}`);
    if (options.onlyIfDue) {
      // Another process may have run it between our look at the due sources and taking the lock.
      const due = await lock.query<{ due: boolean }>(
        'SELECT (enabled AND schedule_interval IS NOT NULL AND (last_run_at IS NULL OR last_run_at + schedule_interval <= now())) AS due FROM sdi.harvest_sources WHERE id = $1',
        [sourceId],
      );
      if (!due.rows[0]?.due) throw new HarvestBusyError(`source ${sourceId} is not due any more (harvested meanwhile)`);
    }
    return await runLocked(lock, source, options, log);
  } finally {
    if (locked) await lock.query('SELECT pg_advisory_unlock($1, $2::int)', [HARVEST_LOCK_CLASS, sourceId]).catch(() => undefined);
    lock.release();
  }
}

interface Failure {
  seq: number;
  remoteId: string;
  identifier?: string;
  reason: string;
}

async function runLocked(db: PoolClient, source: HarvestSource, options: RunOptions, log: (m: string) => void): Promise<HarvestReport> {
  const incremental = source.kind === 'csw' && !options.full && source.modifiedWatermark !== null;
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO sdi.harvest_runs (source_id, trigger, incremental) VALUES ($1, $2, $3) RETURNING id`,
    [source.id, options.trigger ?? 'manual', incremental],
  );
  const runId = rows[0]!.id;
  await db.query('UPDATE sdi.harvest_sources SET last_run_at = now() WHERE id = $1', [source.id]);
  const report: HarvestReport = { runId, sourceId: source.id, status: 'failed', incremental, created: 0, updated: 0, unchanged: 0, failed: 0, items: [] };
  const failures: Failure[] = [];
  let inTransaction = false;
  try {
    // ---- fetch and stage
    const harvester = HARVESTERS[source.kind];
    const ctx = {
      modifiedSince: incremental ? source.modifiedWatermark!.toISOString() : undefined,
      timeoutMs: options.timeoutMs ?? source.options.timeoutMs ?? 60_000,
      log,
      policy: options.policy ?? new OutboundPolicy(),
    };
    let seq = 0;
    let maxModified: number | undefined;
    const seenRemote = new Set<string>();
    const seenIdentifiers = new Set<string>();
    for await (const page of harvester(source, ctx)) {
      const staged: { seq: number[]; remote: string[]; doc: string[] } = { seq: [], remote: [], doc: [] };
      for (const item of page) {
        seq++;
        if (seenRemote.has(item.remoteId)) continue; // the same record again on a later page (unstable remote paging)
        seenRemote.add(item.remoteId);
        if (item.error || item.document === undefined) {
          failures.push({ seq, remoteId: item.remoteId, reason: item.error ?? 'no document' });
          continue;
        }
        try {
          const rec = parseRecord(item.document);
          if (seenIdentifiers.has(rec.identifier)) {
            failures.push({ seq, remoteId: item.remoteId, identifier: rec.identifier, reason: `identifier '${rec.identifier}' already given by another record of this harvest` });
            continue;
          }
          seenIdentifiers.add(rec.identifier);
          if (rec.modified) {
            const t = Date.parse(rec.modified);
            if (Number.isFinite(t) && (maxModified === undefined || t > maxModified)) maxModified = t;
          }
          staged.seq.push(seq);
          staged.remote.push(item.remoteId);
          staged.doc.push(rec.document);
        } catch (e) {
          if (!(e instanceof MetadataError)) throw e;
          failures.push({ seq, remoteId: item.remoteId, reason: reasonOf(e) });
        }
      }
      if (staged.seq.length) {
        await db.query(
          `INSERT INTO sdi.harvest_staging (run_id, seq, remote_id, document) SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[])`,
          [runId, staged.seq, staged.remote, staged.doc],
        );
      }
    }

    // ---- apply, in one transaction
    await db.query('BEGIN');
    inTransaction = true;
    let last = 0;
    const counts = { created: 0, updated: 0, unchanged: 0, failed: 0 };
    const generated = source.kind === 'wms' || source.kind === 'wfs';
    for (;;) {
      const batch = await db.query<{ seq: number; remote_id: string; document: string }>(
        'SELECT seq, remote_id, document FROM sdi.harvest_staging WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
        [runId, last, APPLY_BATCH],
      );
      if (batch.rows.length === 0) break;
      const items: Array<RunItem & { seq: number }> = [];
      for (const row of batch.rows) {
        last = row.seq;
        const rec = parseRecord(row.document);
        const old = await lockForHarvest(db, rec.identifier);
        const item: RunItem & { seq: number } = { seq: row.seq, remoteId: row.remote_id, identifier: rec.identifier, title: rec.title, action: 'unchanged' };
        if (old && (old.source_id === null || Number(old.source_id) !== Number(source.id))) {
          item.action = 'failed';
          item.reason = old.source_id === null ? `identifier '${rec.identifier}' is already a local record of the catalogue` : `identifier '${rec.identifier}' is already harvested from source ${old.source_id}`;
        } else if (old && (old.document === rec.document || (generated && withoutDateStamp(old.document) === withoutDateStamp(rec.document)))) {
          item.action = 'unchanged';
          if (old.remote_id !== row.remote_id) await setHarvestOrigin(db, old.id, { remoteId: row.remote_id });
        } else {
          await db.query('SAVEPOINT harvest_record');
          try {
            const { id, outcome } = await upsertRecord(db, rec);
            await setHarvestOrigin(db, id, { sourceId: source.id, remoteId: row.remote_id });
            await db.query('RELEASE SAVEPOINT harvest_record');
            item.action = outcome;
          } catch (e) {
            await db.query('ROLLBACK TO SAVEPOINT harvest_record');
            item.action = 'failed';
            item.reason = `could not be stored: ${reasonOf(e)}`;
          }
        }
        counts[item.action]++;
        items.push(item);
      }
      await insertItems(db, runId, items);
      for (const { seq: _s, ...i } of items) report.items.push(i);
    }
    if (failures.length) {
      await insertItems(db, runId, failures.map((f) => ({ ...f, action: 'failed' as const })));
      for (const f of failures) report.items.push({ remoteId: f.remoteId, identifier: f.identifier, action: 'failed', reason: f.reason });
      counts.failed += failures.length;
    }
    await db.query(
      `UPDATE sdi.harvest_runs SET status = 'succeeded', finished_at = clock_timestamp(), created = $2, updated = $3, unchanged = $4, failed = $5 WHERE id = $1`,
      [runId, counts.created, counts.updated, counts.unchanged, counts.failed],
    );
    await db.query(
      `UPDATE sdi.harvest_sources SET last_success_at = now(),
              modified_watermark = CASE WHEN $2::timestamptz IS NULL THEN modified_watermark ELSE GREATEST(modified_watermark, $2::timestamptz) END
        WHERE id = $1`,
      [source.id, maxModified === undefined ? null : new Date(maxModified).toISOString()],
    );
    await db.query('DELETE FROM sdi.harvest_staging WHERE run_id = $1', [runId]);
    await db.query('COMMIT');
    inTransaction = false;
    Object.assign(report, counts, { status: 'succeeded' });
    report.items.sort((a, b) => a.remoteId.localeCompare(b.remoteId));
    log(`harvest of source ${source.id} (${source.kind} ${source.url}): ${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged, ${counts.failed} failed`);
    return report;
  } catch (e) {
    if (inTransaction) await db.query('ROLLBACK').catch(() => undefined);
    const error = reasonOf(e);
    log(`harvest of source ${source.id} (${source.kind} ${source.url}) failed: ${error}`);
    // The catalogue is untouched; record the failure and what was already known per record.
    await db.query('DELETE FROM sdi.harvest_staging WHERE run_id = $1', [runId]).catch(() => undefined);
    await insertItems(db, runId, failures.map((f) => ({ ...f, action: 'failed' as const }))).catch(() => undefined);
    await db
      .query(`UPDATE sdi.harvest_runs SET status = 'failed', finished_at = clock_timestamp(), failed = $2, error = $3 WHERE id = $1`, [runId, failures.length, error])
      .catch(() => undefined);
    report.items = failures.map((f) => ({ remoteId: f.remoteId, identifier: f.identifier, action: 'failed', reason: f.reason }));
    report.failed = failures.length;
    report.error = error;
    report.publicError = harvestFailureText(e, source.kind);
    return report;
  }
}

async function insertItems(db: PoolClient, runId: number, items: Array<{ seq: number; remoteId: string; identifier?: string; action: ItemAction; reason?: string }>): Promise<void> {
  if (!items.length) return;
  await db.query(
    `INSERT INTO sdi.harvest_run_items (run_id, seq, remote_id, identifier, action, reason)
     SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[])`,
    [runId, items.map((i) => i.seq), items.map((i) => i.remoteId), items.map((i) => i.identifier ?? null), items.map((i) => i.action), items.map((i) => i.reason ?? null)],
  );
}

/** The report of a past run, read back from the database. */
export async function readRun(db: Pool | PoolClient, runId: number): Promise<(Omit<HarvestReport, 'items'> & { items: RunItem[]; startedAt: Date; finishedAt: Date | null }) | undefined> {
  const { rows } = await db.query(
    `SELECT id, source_id, status, incremental, error, created, updated, unchanged, failed, started_at, finished_at FROM sdi.harvest_runs WHERE id = $1`,
    [runId],
  );
  const r = rows[0];
  if (!r) return undefined;
  const items = await db.query<{ remote_id: string; identifier: string | null; action: ItemAction; reason: string | null }>(
    'SELECT remote_id, identifier, action, reason FROM sdi.harvest_run_items WHERE run_id = $1 ORDER BY seq',
    [runId],
  );
  return {
    runId: r.id,
    sourceId: r.source_id,
    status: r.status,
    incremental: r.incremental,
    error: r.error ?? undefined,
    created: r.created,
    updated: r.updated,
    unchanged: r.unchanged,
    failed: r.failed,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    items: items.rows.map((i) => ({ remoteId: i.remote_id, identifier: i.identifier ?? undefined, action: i.action, reason: i.reason ?? undefined })),
  };
}
