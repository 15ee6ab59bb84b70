/**
 * The janitor of deferred downloads, run every few minutes in the serving process (and on demand:
 * `node dist/app/cli.js download-janitor`). Safe to run in several processes at once. It
 *  - marks done jobs whose link has expired as 'expired' and deletes their files;
 *  - deletes result directories of jobs that are over (cancelled, failed, expired, or an attempt that was not
 *    the one that finished); a directory of no job it knows is never deleted (it may be another deployment's) and work directories of attempts that are no longer running;
 *  - deletes leftover direct-extract work directories (older than a day) and download_work.params rows of crashed extracts
 *    nobody has used since its previous pass (tables of crashed extracts);
 *  - sends the notifications of finished jobs whose worker died before sending them;
 *  - deletes expired resumable uploads of imports (src/import/uploads.ts: unfinished, or never imported).
 */
import { join } from 'node:path';
import { readdir, rm, stat } from 'node:fs/promises';
import type { Platform } from '../../platform.js';
import type { JobRow } from './queue.js';
import { jobsWorkRoot, resultsRoot, type WorkerLog } from './worker.js';
import { notifyJob } from './notify.js';
import { isDeadOwner, ownerOf } from '../work-owner.js';
import { ensureOwnWorkDir } from '../work-dir.js';
import { UploadStore, uploadsRoot } from '../../import/uploads.js';

export interface JanitorReport {
  expired: string[];
  removedDirs: number;
  droppedParams: number;
  notified: number;
  /** Result directories of no job of this database, left alone. */
  foreign: number;
}

const DIRECT_MAX_AGE_MS = 24 * 3600 * 1000;

export async function runJanitor(platform: Platform, log: WorkerLog): Promise<JanitorReport> {
  const report: JanitorReport = { expired: [], removedDirs: 0, droppedParams: 0, notified: 0, foreign: 0 };
  // Never clean a directory that another database's jobs live in (it would see them all as unknown).
  await ensureOwnWorkDir(platform);
  const pool = platform.pool;
  const { rows: expired } = await pool.query<{ id: string }>(
    `UPDATE sdi.jobs SET state = 'expired', message = 'the result has expired and was deleted', updated_at = now()
      WHERE state = 'done' AND expires_at <= now() RETURNING id`,
  );
  for (const { id } of expired) {
    await rm(join(resultsRoot(platform), id), { recursive: true, force: true });
    report.expired.push(id);
  }
  // Result directories: keep only results/<id>/<attempt> of done jobs, with that attempt.
  const results = await readdir(resultsRoot(platform)).catch(() => [] as string[]);
  if (results.length) {
    const { rows } = await pool.query<{ id: string; file: string | null; live: boolean }>(
      "SELECT id::text, result->>'file' AS file, state IN ('done', 'running', 'queued') AS live FROM sdi.jobs WHERE id::text = ANY($1::text[])",
      [results],
    );
    const live = new Map(rows.filter((r) => r.live).map((r) => [r.id, r.file]));
    const known = new Set(rows.map((r) => r.id));
    for (const id of results) {
      // A directory of no job of this database is not ours to judge (issue 12): left alone, never deleted.
      if (!known.has(id)) {
        report.foreign++;
        continue;
      }
      if (!live.has(id)) {
        // A job over (cancelled, failed, expired): its directory goes (a worker finishing right now re-creates its own).
        if (await olderThan(join(resultsRoot(platform), id), 60_000)) {
          await rm(join(resultsRoot(platform), id), { recursive: true, force: true });
          report.removedDirs++;
        }
        continue;
      }
      const file = live.get(id);
      if (!file) continue; // running or queued: its worker manages it
      const keep = file.split('/')[1];
      for (const attempt of await readdir(join(resultsRoot(platform), id)).catch(() => [] as string[])) {
        if (attempt !== keep) {
          await rm(join(resultsRoot(platform), id, attempt), { recursive: true, force: true });
          report.removedDirs++;
        }
      }
    }
  }
  // Work directories <id>-<attempt> of runs that are over (their worker died or stopped).
  const work = await readdir(jobsWorkRoot(platform)).catch(() => [] as string[]);
  if (work.length) {
    const { rows } = await pool.query<{ id: string; attempts: number }>("SELECT id::text, attempts FROM sdi.jobs WHERE state = 'running'");
    const runningAttempt = new Map(rows.map((r) => [r.id, r.attempts]));
    for (const d of work) {
      const m = /^(.{36})-(\d+)$/.exec(d);
      if (m && runningAttempt.get(m[1]!) === Number(m[2])) continue;
      if (await olderThan(join(jobsWorkRoot(platform), d), 60_000)) {
        await rm(join(jobsWorkRoot(platform), d), { recursive: true, force: true });
        report.removedDirs++;
      }
    }
  }
  // Direct extracts clean up after themselves; a crash leaves their directory: removed at once when its
  // process is known dead, else after a day.
  const dead = await removeDeadOwnersWork(platform);
  report.removedDirs += dead.dirs;
  report.droppedParams += dead.params;
  const directRoot = join(platform.config.download.workDir, 'direct');
  for (const d of await readdir(directRoot).catch(() => [] as string[])) {
    if (await olderThan(join(directRoot, d), DIRECT_MAX_AGE_MS)) {
      await rm(join(directRoot, d), { recursive: true, force: true });
      report.removedDirs++;
    }
  }
  report.droppedParams += await deleteStaleParams(platform);
  const imports = platform.config.import;
  report.removedDirs += await new UploadStore(uploadsRoot(platform.config.download.workDir), imports.maxBytes, imports.uploadExpiryHours * 3600_000).removeExpired();
  // Notifications a dead worker did not send (finished over a minute ago, never notified).
  const { rows: unsent } = await pool.query<JobRow>(
    `SELECT * FROM sdi.jobs WHERE state IN ('done', 'failed') AND notified_at IS NULL AND request ? 'notify'
        AND finished_at < now() - interval '1 minute' ORDER BY finished_at LIMIT 100`,
  );
  for (const j of unsent) {
    await notifyJob(platform, j, log);
    report.notified++;
  }
  if (report.expired.length || report.removedDirs || report.droppedParams || report.notified) log.info({ ...report, expired: report.expired.length }, 'download janitor');
  return report;
}

async function olderThan(path: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await stat(path)).mtimeMs > ms;
  } catch {
    return false;
  }
}

/**
 * Direct-extract directories and download_work.params rows of processes of this host that are gone (a crash,
 * a kill): run at start and by every janitor pass (src/download/work-owner.ts).
 */
export async function removeDeadOwnersWork(platform: Platform): Promise<{ dirs: number; params: number }> {
  let dirs = 0;
  const directRoot = join(platform.config.download.workDir, 'direct');
  for (const d of await readdir(directRoot).catch(() => [] as string[])) {
    const owner = ownerOf(d);
    if (owner && isDeadOwner(owner)) {
      await rm(join(directRoot, d), { recursive: true, force: true });
      dirs++;
    }
  }
  const { rows } = await platform.pool.query<{ owner: string }>('SELECT DISTINCT owner FROM download_work.params WHERE owner IS NOT NULL');
  const gone = rows.map((r) => r.owner).filter(isDeadOwner);
  const params = gone.length ? ((await platform.pool.query('DELETE FROM download_work.params WHERE owner = ANY($1::text[])', [gone])).rowCount ?? 0) : 0;
  return { dirs, params };
}

/** Bound values of extraction statements (download_work.params) outlive their extract only after a crash. */
async function deleteStaleParams(platform: Platform): Promise<number> {
  const r = await platform.pool.query("DELETE FROM download_work.params WHERE created_at < now() - interval '1 day'");
  return r.rowCount ?? 0;
}

export interface Janitor {
  stop(): void;
}

/** Run the janitor now and then every `intervalMs` (default 10 minutes, SDI_DOWNLOAD_JANITOR_MS). */
export function startJanitor(platform: Platform, log: WorkerLog, intervalMs = platform.config.download.janitorIntervalMs): Janitor {
  let busy = false;
  const pass = async () => {
    if (busy) return;
    busy = true;
    try {
      await runJanitor(platform, log);
    } catch (err) {
      log.warn({ err: String(err) }, 'download janitor failed');
    } finally {
      busy = false;
    }
  };
  // What a crashed predecessor left is removed at once; the full pass follows a few seconds after start.
  void removeDeadOwnersWork(platform).then(
    (r) => r.dirs + r.params > 0 && log.info(r, 'download work of dead processes removed'),
    (err) => log.warn({ err: String(err) }, 'download work of dead processes not removed'),
  );
  const first = setTimeout(() => void pass(), 5_000);
  const timer = setInterval(() => void pass(), intervalMs);
  first.unref();
  timer.unref();
  return {
    stop() {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
