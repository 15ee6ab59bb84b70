/**
 * The job workers of a process, wherever they run (the download service's SDI_DOWNLOAD_WORKERS slots, `cli.js
 * download-worker`): downloads, imports and area-index builds, one set of handlers.
 *
 * The sweep of polygon layers lacking their area index (sweepAreaIndexes: a process stopped between a
 * publication and its job, a store from before the job existed) runs here, at the workers' start, and only
 * where workers claim layer-index jobs. It ran at the download service's start: a serving process with
 * SDI_DOWNLOAD_WORKERS=0 (beside separate worker processes, or the in-process test platforms) queued work it
 * does not run, on every start of every serving process; the workers are what needs the queue filled.
 */
import type { Platform } from '../platform.js';
import { DOWNLOAD_JOB_KIND, startDownloadWorkers, type DownloadWorkers, type WorkerLog, type WorkerOptions } from '../download/jobs/worker.js';
import { IMPORT_JOB_KIND, runImportJob } from './import-job.js';
import { AREA_INDEX_JOB_KIND, areaIndexJobHandler, sweepAreaIndexes, type QueuedAreaIndex } from './area-index-job.js';
import { OVERVIEW_JOB_KIND, overviewJobHandler, sweepOverviews } from './overview-job.js';

export interface JobWorkers extends DownloadWorkers {
  /** The start sweep's queued jobs ([] when these workers do not run layer-index jobs, or it failed: logged). */
  swept: Promise<QueuedAreaIndex[]>;
}

/** Start `n` worker slots claiming `kinds` (default: every kind), and the area-index sweep if they build indexes. */
export function startJobWorkers(platform: Platform, n: number, log: WorkerLog, opts: Pick<WorkerOptions, 'pollMs' | 'kinds'> = {}): JobWorkers {
  const handlers = { [IMPORT_JOB_KIND]: runImportJob, [AREA_INDEX_JOB_KIND]: areaIndexJobHandler(log), [OVERVIEW_JOB_KIND]: overviewJobHandler(log) };
  const kinds = opts.kinds ?? [DOWNLOAD_JOB_KIND, ...Object.keys(handlers)];
  const workers = startDownloadWorkers(platform, n, log, { ...opts, handlers, kinds });
  const swept = kinds.includes(AREA_INDEX_JOB_KIND)
    ? sweepAreaIndexes(platform.pool).then(
        (queued) => {
          if (queued.length) log.info({ jobs: queued.map((q) => q.id) }, 'area indexes of polygon layers queued');
          return queued;
        },
        (err: unknown) => {
          log.warn({ err: String(err) }, 'the sweep of missing area indexes failed');
          return [];
        },
      )
    : Promise.resolve([]);
  // Large layers whose overviews are missing or stale (src/publishing/overview-job.ts); after the area indexes.
  const sweptOverviews = kinds.includes(OVERVIEW_JOB_KIND)
    ? swept.then(() => sweepOverviews(platform.pool, platform.config.maps.overviewMinFeatures)).then(
        (queued) => {
          if (queued.length) log.info({ jobs: queued.map((q) => q.id) }, 'overviews of large layers queued');
        },
        (err: unknown) => log.warn({ err: String(err) }, 'the sweep of missing overviews failed'),
      )
    : Promise.resolve();
  return {
    swept,
    running: () => workers.running(),
    async stop() {
      // The slots first: the sweep's look-up may wait on a lock the job in hand is also behind (a table locked by
      // a long transaction), and a job is put back in the queue only by its slot's stop (jobs.test.ts, SIGTERM
      // mid-job, timed out while stop() awaited the sweep). Then the sweep: not under a pool the caller closes next.
      await workers.stop();
      await swept;
      await sweptOverviews;
    },
  };
}
