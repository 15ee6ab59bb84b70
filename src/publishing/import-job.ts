/**
 * Long imports as jobs on the download job queue (sdi.jobs, kind 'import'), run by the same workers
 * (src/download/jobs/worker.ts: progress, cancel, a status with the report). POST /admin/imports with
 * `async=true` keeps the uploaded files in <download work dir>/imports/<job id>/ (shared by the processes,
 * like download results) and queues the job; the worker runs importFiles on them and removes them when the
 * job ends (not when its worker stops: another one takes the job over with the files).
 */
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Platform } from '../platform.js';
import { enqueue, getJob, type JobRow } from '../download/jobs/queue.js';
import { JobFailure, type JobContext } from '../download/jobs/worker.js';
import { importFiles, ImportError, type ImportRequest } from './import.js';

export const IMPORT_JOB_KIND = 'import';

/** What the job stores: the files' folder (a job id) and the request's options. */
type StoredRequest = Omit<ImportRequest, 'files' | 'onProgress' | 'signal'>;

export const importUploadsRoot = (platform: Platform) => join(platform.config.download.workDir, 'imports');

/** Queue an import of the files in `dir` (copied to the shared uploads folder). */
export async function queueImport(platform: Platform, dir: string, request: StoredRequest, principal?: string): Promise<JobRow> {
  const id = randomUUID();
  const target = join(importUploadsRoot(platform), id);
  mkdirSync(importUploadsRoot(platform), { recursive: true });
  cpSync(dir, target, { recursive: true });
  try {
    return await enqueue(platform.pool, { id, kind: IMPORT_JOB_KIND, request: { files: id, options: request }, principal, maxAttempts: 2 });
  } catch (e) {
    rmSync(target, { recursive: true, force: true });
    throw e;
  }
}

export async function runImportJob(platform: Platform, job: JobRow, ctx: JobContext): Promise<Record<string, unknown>> {
  const stored = job.request as { files: string; options: StoredRequest };
  if (!/^[0-9a-f-]{36}$/.test(String(stored.files))) throw new JobFailure('The job names no upload');
  const dir = join(importUploadsRoot(platform), stored.files);
  let files: string[];
  try {
    files = readdirSync(dir).map((f) => join(dir, f));
  } catch {
    throw new JobFailure('The uploaded files of this import are gone');
  }
  let step = 0;
  let finished = false;
  try {
    const report = await importFiles(platform.pool, platform.config, {
      ...stored.options,
      files,
      signal: ctx.signal,
      onProgress: (m) => ctx.setProgress(Math.min(0.95, (step += 1) / 12), m),
    });
    finished = true;
    platform.layers.invalidate();
    return report as unknown as Record<string, unknown>;
  } catch (e) {
    if (e instanceof ImportError) {
      finished = !ctx.signal.aborted;
      throw new JobFailure(e.message);
    }
    throw e;
  } finally {
    // Kept when the job may run again (its worker stopped, the database was away); gone once it ended or was cancelled.
    const cancelled = ctx.signal.aborted && (await getJob(platform.pool, job.id).catch(() => undefined))?.cancel_requested === true;
    if (finished || cancelled) rmSync(dir, { recursive: true, force: true });
  }
}

/** Remove the uploaded files of an import job cancelled before a worker took it. */
export function discardQueuedImport(platform: Platform, job: JobRow): void {
  if (job.kind === IMPORT_JOB_KIND && job.state === 'cancelled' && /^[0-9a-f-]{36}$/.test(job.id)) rmSync(join(importUploadsRoot(platform), job.id), { recursive: true, force: true });
}
