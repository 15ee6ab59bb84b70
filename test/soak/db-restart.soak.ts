/**
 * Soak (issue 13, "Measure it"): mixed traffic at SOAK_CLIENTS connections (8) for SOAK_MINUTES (10) with a
 * PostgreSQL restart every SOAK_RESTART_EVERY_S (120 s), on a cluster of its own. Reported: requests served,
 * errors and when they happened relative to the restarts, the server's RSS over time, its connections
 * after each restart. Run by `npm run soak` (scripts/soak.sh), not by `npm test`: it takes ten minutes.
 * Writes bench-results/soak-<timestamp>/soak.json and summary.md, and prints the summary.
 *
 * It fails if the process dies, if any answer is 'bad' (wrong status or format, a hang, a short 200), or if
 * an error (503, cut stream) happened away from a restart (more than SOAK_GRACE_S, 10 s, after it ended).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';
import { mixedLoad, everyRequestSucceeds, type Outcome } from '../integration/fault-load.js';
import { OwnCluster, startServer, type OwnServer } from '../integration/own-cluster.js';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const RESTART_EVERY_S = Number(process.env.SOAK_RESTART_EVERY_S ?? 120);
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 8);
const GRACE_S = Number(process.env.SOAK_GRACE_S ?? 10);
const SAMPLE_S = 10;
const APP = 'sdi-soak';

const cluster = new OwnCluster();
let server: OwnServer | undefined;

afterAll(() => {
  server?.proc.kill('SIGTERM');
  cluster.destroy();
});

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

interface Sample {
  t: number;
  rssMiB: number;
  served: number;
  sessions: number;
}

describe('soak: mixed traffic with a PostgreSQL restart every 2 minutes', () => {
  it(`${MINUTES} min at ${CLIENTS} connections`, async () => {
    await cluster.create();
    server = await startServer(cluster, APP);
    const s = server;
    const t0 = Date.now();
    const restarts: Array<{ start: number; end: number; sessionsAfter?: number }> = [];
    const samples: Sample[] = [];
    const errors: Array<{ t: number; kind: Outcome['kind']; request: string; detail?: string }> = [];
    let served = 0;
    const sessionsNow = async () => (await cluster.sessions(APP).catch(() => [])).reduce((a, r) => a + r.n, 0);

    const scenario = (async () => {
      const end = t0 + MINUTES * 60_000;
      let nextRestart = t0 + RESTART_EVERY_S * 1000;
      let nextSample = t0;
      while (Date.now() < end) {
        if (Date.now() >= nextSample) {
          samples.push({ t: Math.round((Date.now() - t0) / 1000), rssMiB: rssMiB(s.proc.pid!), served, sessions: await sessionsNow() });
          nextSample += SAMPLE_S * 1000;
        }
        if (Date.now() >= nextRestart && nextRestart < end - 30_000) {
          const r = { start: Date.now(), end: 0 } as (typeof restarts)[number];
          cluster.restart('fast');
          r.end = Date.now();
          restarts.push(r);
          nextRestart += RESTART_EVERY_S * 1000;
          // Connections back to normal: counted 15 s after the restart (the pool reconnects on demand).
          setTimeout(() => void sessionsNow().then((n) => (r.sessionsAfter = n)), 15_000);
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    const report = await mixedLoad(s.base, CLIENTS, scenario, undefined, (r, o, _sentAt, endedAt) => {
      if (o.kind === 'ok') served++;
      else errors.push({ t: Math.round((endedAt - t0) / 100) / 10, kind: o.kind, request: r.name, ...(o.kind === 'bad' ? { detail: o.detail } : {}) });
    });
    await scenario;
    samples.push({ t: Math.round((Date.now() - t0) / 1000), rssMiB: rssMiB(s.proc.pid!), served, sessions: await sessionsNow() });
    const after = await everyRequestSucceeds(s.base);

    // An error belongs to a restart when it ended between the restart's start and GRACE_S after its end.
    const nearRestart = (t: number) => restarts.some((r) => t * 1000 + t0 >= r.start - 1000 && t * 1000 + t0 <= r.end + GRACE_S * 1000);
    const stray = errors.filter((e) => !nearRestart(e.t));
    const perRestart = restarts.map((r, i) => ({
      restart: i + 1,
      at_s: Math.round((r.start - t0) / 1000),
      took_ms: r.end - r.start,
      errors: errors.filter((e) => e.t * 1000 + t0 >= r.start - 1000 && e.t * 1000 + t0 <= r.end + GRACE_S * 1000).length,
      sessions_15s_after: r.sessionsAfter,
    }));
    const rss = samples.map((x) => x.rssMiB);
    const summary = {
      minutes: MINUTES,
      clients: CLIENTS,
      restart_every_s: RESTART_EVERY_S,
      requests: report.total,
      served,
      by_kind: report.counts,
      errors: errors.length,
      errors_away_from_restarts: stray.length,
      bad: report.bad.length,
      restarts: perRestart,
      rss_mib: { first: rss[0], after_first_minute: samples.find((x) => x.t >= 60)?.rssMiB, max: Math.max(...rss), last: rss[rss.length - 1] },
      sessions_at_end: samples[samples.length - 1]?.sessions,
      every_request_after: after.length ? after : 'all succeed',
      alive: s.alive(),
    };
    const out = join(ROOT, 'bench-results', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'soak.json'), JSON.stringify({ summary, samples, errors }, null, 2));
    const md = [
      `# Soak: ${MINUTES} min, ${CLIENTS} connections, PostgreSQL restarted every ${RESTART_EVERY_S} s`,
      '',
      `requests ${report.total}, served ${served}, errors ${errors.length} (away from restarts: ${stray.length}), bad ${report.bad.length}, alive ${s.alive()}`,
      '',
      '| restart | at (s) | took (ms) | errors around it | sessions 15 s after |',
      '|---|---|---|---|---|',
      ...perRestart.map((r) => `| ${r.restart} | ${r.at_s} | ${r.took_ms} | ${r.errors} | ${r.sessions_15s_after ?? '?'} |`),
      '',
      `RSS (MiB) every ${SAMPLE_S} s: ${rss.join(' ')}`,
      '',
      `served so far at each sample: ${samples.map((x) => x.served).join(' ')}`,
      '',
      '| request | ok | 503 | cut | bad |',
      '|---|---|---|---|---|',
      ...Object.entries(report.counts).map(([k, c]) => `| ${k} | ${c.ok} | ${c.unavailable} | ${c.cut} | ${c.bad} |`),
    ].join('\n');
    writeFileSync(join(out, 'summary.md'), md + '\n');
    console.log(`${md}\n\n(${out})`);

    expect(s.alive(), s.log().slice(-3000)).toBe(true);
    expect(report.bad).toEqual([]);
    expect(stray, JSON.stringify(stray.slice(0, 10))).toEqual([]);
    expect(after).toEqual([]);
  }, (MINUTES * 60 + 300) * 1000);
});
