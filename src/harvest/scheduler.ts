/**
 * Harvest scheduling: `harvestNow` runs a source on demand; `startHarvestScheduler` checks every minute
 * (configurable) for enabled sources whose interval has elapsed since their last attempt and runs them one
 * after another. Each run takes a PostgreSQL advisory lock on its source (src/harvest/run.ts), so several
 * server processes sharing the database never harvest the same source at once: a source locked elsewhere is
 * skipped until the next tick.
 */
import type { Pool } from '../db/pool.js';
import type { OutboundPolicy } from '../net/outbound.js';
import { dueSources, saveSource, type SourceInput } from './sources.js';
import { HARVEST_LOCK_CLASS, HarvestBusyError, runHarvest, type HarvestReport, type RunOptions } from './run.js';

export { runHarvest, HarvestBusyError, type HarvestReport, type RunOptions } from './run.js';

/** Create or update the source (by kind and URL) and harvest it now. */
export async function harvestNow(pool: Pool, source: SourceInput | number, options: RunOptions = {}): Promise<HarvestReport> {
  const id = typeof source === 'number' ? source : (await saveSource(pool, source)).id;
  return runHarvest(pool, id, options);
}

export interface HarvestScheduler {
  /** Run the due sources now (what each tick does); resolves when they are done. */
  tick(): Promise<void>;
  /** Stop ticking; resolves when the run in progress, if any, is over. */
  stop(): Promise<void>;
}

export function startHarvestScheduler(pool: Pool, options: { tickMs?: number; log?: (msg: string) => void; policy?: OutboundPolicy } = {}): HarvestScheduler {
  const log = options.log ?? (() => undefined);
  const tickMs = options.tickMs ?? 60_000;
  let running: Promise<void> | undefined;
  let stopped = false;

  const tick = async (): Promise<void> => {
    if (running) return running;
    running = (async () => {
      try {
        await cleanUpInterruptedRuns(pool);
        for (const source of await dueSources(pool)) {
          if (stopped) break;
          try {
            await runHarvest(pool, source.id, { trigger: 'schedule', onlyIfDue: true, log, policy: options.policy });
          } catch (e) {
            if (e instanceof HarvestBusyError) log(e.message);
            else log(`harvest of source ${source.id} could not run: ${(e as Error).message}`);
          }
        }
      } catch (e) {
        log(`harvest scheduler: ${(e as Error).message}`);
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const timer = setInterval(() => void tick(), tickMs);
  timer.unref();
  return {
    tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * Runs left 'running' by a process that died (no session holds their source's advisory lock any more) are
 * marked failed, and their staging rows removed. Nothing of them was applied: the apply step is one transaction.
 */
export async function cleanUpInterruptedRuns(pool: Pool): Promise<void> {
  const held = `EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND l.classid = ${HARVEST_LOCK_CLASS} AND l.objid = r.source_id AND l.objsubid = 2)`;
  await pool.query(
    `UPDATE sdi.harvest_runs r SET status = 'failed', finished_at = now(), error = 'interrupted (the harvesting process stopped before the end)'
      WHERE r.status = 'running' AND NOT ${held}`,
  );
  await pool.query(`DELETE FROM sdi.harvest_staging s WHERE NOT EXISTS (SELECT 1 FROM sdi.harvest_runs r WHERE r.id = s.run_id AND r.status = 'running')`);
}
