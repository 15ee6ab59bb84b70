/**
 * A PostgreSQL cluster of a test's own, and a platform server on it, so that a test (or the soak) can stop and
 * restart the database without touching the suite's. initdb and the server refuse root, so the binaries run
 * as the postgres user; the cluster listens on a free port of 127.0.0.1 with its socket in its own directory.
 * Shared by test/integration/db-restart.test.ts and test/soak/db-restart.soak.ts.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../free-port.js';
import { ROOT } from '../helpers.js';

const BIN = '/usr/lib/postgresql/15/bin';

/** Run a PostgreSQL binary as the postgres user. */
function asPostgres(cmd: string, args: string[]): string {
  const quoted = [cmd, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return execFileSync('su', ['postgres', '-s', '/bin/sh', '-c', quoted], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class OwnCluster {
  readonly work = mkdtempSync(join(tmpdir(), 'sdi-pg-own-'));
  private readonly data = join(this.work, 'data');
  port = 0;
  up = false;

  private ctl(...args: string[]): string {
    return asPostgres(`${BIN}/pg_ctl`, ['-D', this.data, '-l', join(this.work, 'pg.log'), '-w', ...args]);
  }

  url(db: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${db}`;
  }

  /** initdb, start, and create the database `sdi`. */
  async create(): Promise<void> {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
    chownSync(this.work, id('-u'), id('-g'));
    this.port = await freePort();
    asPostgres(`${BIN}/initdb`, ['-D', this.data, '--auth=trust', '-U', 'postgres', '--no-sync']);
    this.start();
    const admin = new pg.Client({ connectionString: this.url('postgres') });
    await admin.connect();
    await admin.query('CREATE DATABASE sdi');
    await admin.end();
  }

  start(): void {
    this.ctl('-o', `-p ${this.port} -k ${this.work} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start');
    this.up = true;
  }

  stop(mode: 'fast' | 'immediate' = 'fast'): void {
    this.up = false;
    this.ctl('-m', mode, 'stop');
  }

  restart(mode: 'fast' | 'immediate' = 'fast'): void {
    this.ctl('-m', mode, 'restart');
  }

  /** Sessions of one application name, by state. */
  async sessions(applicationName: string): Promise<Array<{ state: string | null; n: number }>> {
    const c = new pg.Client({ connectionString: this.url('postgres') });
    await c.connect();
    try {
      const { rows } = await c.query(`SELECT state, count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 GROUP BY state`, [applicationName]);
      return rows;
    } finally {
      await c.end();
    }
  }

  destroy(): void {
    if (this.up) {
      try {
        this.stop('immediate');
      } catch {
        /* already down */
      }
    }
    rmSync(this.work, { recursive: true, force: true });
  }
}

export interface OwnServer {
  proc: ChildProcess;
  base: string;
  downloadDir: string;
  log: () => string;
  alive: () => boolean;
}

/** The compiled server with the demo data on `cluster`'s database `sdi`, ready (/readyz 200). */
export async function startServer(cluster: OwnCluster, applicationName: string, env: Record<string, string> = {}): Promise<OwnServer> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const downloadDir = join(cluster.work, 'downloads');
  let log = '';
  const proc = spawn(process.execPath, [join(ROOT, 'dist/app/server.js')], {
    env: {
      ...process.env,
      DATABASE_URL: cluster.url('sdi'),
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SDI_DEMO: '1',
      SDI_DB_APPLICATION_NAME: applicationName,
      SDI_DOWNLOAD_DIR: downloadDir,
      SDI_DOWNLOAD_WORKERS: '0',
      SDI_DOWNLOAD_DIRECT_MAX_FEATURES: '400',
      SDI_DOWNLOAD_MAX_FEATURES: '3000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => (log += d));
  proc.stderr!.on('data', (d) => (log += d));
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  for (let i = 0; ; i++) {
    if (!alive()) throw new Error(`server exited: ${log}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {
      /* not yet */
    }
    if (i > 600) throw new Error(`server did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { proc, base, downloadDir, log: () => log, alive };
}
