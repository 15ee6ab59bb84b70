// bench/records-load-cpu.mjs ROOT DATABASE_URL DIR [batch workers connections] — CPU of one bulk load (issue 12).
//
// Empties sdi.metadata_records of DATABASE_URL (never a shared database: it TRUNCATEs), checkpoints, then loads DIR
// with ROOT's compiled bulkLoadRecords (ROOT: a checkout with dist/, e.g. this one, or a copy of main's build with
// its package.json, migrations/ and schemas/, to compare two versions on the same files), and prints one JSON line:
// wall time, CPU per record of this process (all its threads: process.cpuUsage) and of its PostgreSQL backends
// (utime + stime from /proc/<pid>/stat, sampled every 100 ms through pg_stat_activity; same machine only), and the
// load average before and after. Alternate the versions compared, several runs each: the machine is shared.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
const [root, url, dir, batch, workers, connections] = process.argv.slice(2);
if (!dir) throw new Error('usage: records-load-cpu.mjs ROOT DATABASE_URL DIR [batch workers connections]');
if (/\/sdi(\?|$)|_test(\?|$)/.test(url)) throw new Error(`refusing ${url} (demo or test database)`);
const { createPool } = await import(`${root}/dist/src/db/pool.js`);
const { migrate } = await import(`${root}/dist/src/db/migrate.js`);
const { bulkLoadRecords } = await import(`${root}/dist/src/metadata/bulk-load.js`);
const pool = createPool(url, 4, 'loader-measure');
await migrate(pool, () => {});
const mon = new pg.Client({ connectionString: url, application_name: 'loader-monitor' });
await mon.connect();
const monPid = (await mon.query('SELECT pg_backend_pid() AS p')).rows[0].p;
await mon.query('TRUNCATE sdi.metadata_records CASCADE');
await mon.query('CHECKPOINT');
const tick = 100; // USER_HZ
const seen = new Map();
const stat = (pid) => {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * (1000 / tick);
  } catch { return undefined; }
};
const base = new Map();
const poll = async () => {
  const { rows } = await mon.query("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> $1 AND backend_type = 'client backend'", [monPid]);
  for (const { pid } of rows) {
    const v = stat(pid);
    if (v === undefined) continue;
    if (!base.has(pid)) base.set(pid, v);
    seen.set(pid, v);
  }
};
await poll(); // existing pool connections (migrate) before the load
const timer = setInterval(() => poll().catch(() => {}), 100);
const la0 = loadavg()[0];
const c0 = process.cpuUsage();
const t0 = performance.now();
const opt = {};
if (batch) opt.batchSize = Number(batch);
if (workers) opt.workers = Number(workers);
if (connections) opt.connections = Number(connections);
const report = await bulkLoadRecords(pool, [dir], opt);
const wall = performance.now() - t0;
const c = process.cpuUsage(c0);
clearInterval(timer);
await poll();
let backend = 0;
for (const [pid, v] of seen) backend += v - (base.get(pid) ?? 0);
const n = report.files;
const node = (c.user + c.system) / 1000;
console.log(JSON.stringify({ root, n, created: report.created, failed: report.failed.length, wall_s: +(wall / 1000).toFixed(1), node_ms_rec: +(node / n).toFixed(3), node_user_ms_rec: +(c.user / 1000 / n).toFixed(3), backend_ms_rec: +(backend / n).toFixed(3), total_ms_rec: +((node + backend) / n).toFixed(3), load: [la0, loadavg()[0]].map((x) => x.toFixed(2)) }));
await mon.end();
await pool.end();
