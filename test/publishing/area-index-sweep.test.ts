/**
 * Issue 10: the sweep queueing the area index of polygon layers that lack it runs where job workers run, and
 * only there (src/publishing/job-workers.ts). It ran at every download service start, SDI_DOWNLOAD_WORKERS=0
 * included: a serving process without workers queued jobs nobody in it runs.
 *  - the download service started with SDI_DOWNLOAD_WORKERS=0, then stopped: nothing queued;
 *  - started with one worker: the lost job is queued at its start (and the worker runs it);
 *  - workers claiming other kinds only (`cli.js download-worker --kinds download`) do not sweep.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { db, ROOT } from '../helpers.js';
import { AREA_INDEX_JOB_KIND } from '../../src/publishing/area-index-job.js';
import { startJobWorkers } from '../../src/publishing/job-workers.js';
import { downloadService } from '../../services/download/index.js';
import { loadConfig } from '../../src/config/index.js';
import { createPlatform, closePlatform, type Platform } from '../../src/platform.js';

let dir: string;
const LAYER = 'aix_swept';
const log = pino({ level: 'silent' });

const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'dist/app/cli.js'), ...args], { env: { ...process.env, DATABASE_URL: inject('databaseUrl'), BASE_URL: '' }, encoding: 'utf8' });
const jobs = async () => (await db().query(`SELECT id, state FROM sdi.jobs WHERE kind = $1 AND request->>'table' = $2`, [AREA_INDEX_JOB_KIND, LAYER])).rows;

async function platformWith(workers: number): Promise<Platform> {
  return createPlatform(loadConfig({ ...process.env, DATABASE_URL: inject('databaseUrl'), SDI_DEMO: '0', LOG_LEVEL: 'silent', SDI_DOWNLOAD_DIR: inject('downloadDir'), SDI_DOWNLOAD_WORKERS: String(workers), SDI_JOB_POLL_MS: '200' }), log);
}

async function cleanUp(): Promise<void> {
  await db().query(`DELETE FROM sdi.layers WHERE name = $1`, [LAYER]);
  await db().query(`DROP TABLE IF EXISTS data.${LAYER}`);
  await db().query(`DELETE FROM sdi.jobs WHERE kind = $1 AND request->>'table' = $2`, [AREA_INDEX_JOB_KIND, LAYER]);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sdi-sweep-test-'));
  await cleanUp();
  const file = join(dir, `${LAYER}.gpkg`);
  const ds = gdal.drivers.get('GPKG').create(file);
  const l = ds.layers.create(LAYER, gdal.SpatialReference.fromEPSG(2154), gdal.wkbPolygon);
  for (let i = 0; i < 10; i++) {
    const f = new gdal.Feature(l);
    f.setGeometry(gdal.Geometry.fromWKT(`POLYGON((${610000 + i * 100} 6750000,${610050 + i * 100} 6750000,${610050 + i * 100} 6750050,${610000 + i * 100} 6750000))`));
    l.features.add(f);
  }
  ds.close();
  const r = cli('import', file, '--name', LAYER);
  expect(r.status, r.stderr).toBe(0);
  // The job lost: a stop between the publication and the queueing, or a store from before the job existed.
  await db().query(`DELETE FROM sdi.jobs WHERE id = $1`, [JSON.parse(r.stdout).layers[0].areaIndexJob]);
});

afterAll(async () => {
  await cleanUp();
  cli('records');
  rmSync(dir, { recursive: true, force: true });
});

describe('the area-index sweep runs where job workers run (issue 10)', () => {
  it('a download service without workers (SDI_DOWNLOAD_WORKERS=0) queues nothing', async () => {
    const platform = await platformWith(0);
    try {
      const work = downloadService.start!(platform, log);
      await work.stop();
    } finally {
      await closePlatform(platform);
    }
    expect(await jobs()).toEqual([]);
  });

  it('workers of other kinds only (download-worker --kinds download) queue nothing', async () => {
    const platform = await platformWith(0);
    try {
      const w = startJobWorkers(platform, 1, log, { kinds: ['download'], pollMs: 200 });
      expect(await w.swept).toEqual([]);
      await w.stop();
    } finally {
      await closePlatform(platform);
    }
    expect(await jobs()).toEqual([]);
  });

  it('a download service with a worker queues the lost job at its start, once', async () => {
    const platform = await platformWith(1);
    try {
      const work = downloadService.start!(platform, log);
      await work.stop(); // after the sweep (the stop waits for it)
    } finally {
      await closePlatform(platform);
    }
    expect(await jobs()).toHaveLength(1);
    // And a second process starting workers does not queue it again.
    const p2 = await platformWith(0);
    try {
      const w = startJobWorkers(p2, 1, log, { kinds: ['download'] });
      await w.stop();
      const w2 = startJobWorkers(p2, 1, log, { kinds: [AREA_INDEX_JOB_KIND], pollMs: 200 });
      const swept = await w2.swept;
      await w2.stop();
      expect(swept.map((q) => q.id)).not.toContain((await jobs())[0].id);
    } finally {
      await closePlatform(p2);
    }
    expect(await jobs()).toHaveLength(1);
  });
});
