/**
 * A catalogue of a test's own: a fresh database (migrations applied by the server at start, no demo data) and
 * a server process on it, so that a conformance suite knows every record the catalogue holds. The records are
 * loaded through the catalogue's own repository (parseRecord + upsertRecord), as the bulk loader does.
 */
import { inject } from 'vitest';
import pg from 'pg';
import { createPool } from '../../src/db/pool.js';
import { parseRecord } from '../../src/metadata/store.js';
import { upsertRecord } from '../../src/records/repository.js';
import { withCrsFacts } from '../../src/crs/facts.js';
import { startServerProcess, type ServerProcess } from '../server-process.js';

export interface OwnCatalogue {
  base: string;
  pool: pg.Pool;
  /** The identifiers of every record held, the platform's own service records included. */
  identifiers: () => Promise<string[]>;
  close: () => Promise<void>;
}

const withDatabase = (url: string, name: string) => {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.href;
};

/** `env`: settings of the server process (e.g. SDI_CSW_PROFILE). */
export async function startOwnCatalogue(tag: string, documents: string[], env: Record<string, string> = {}): Promise<OwnCatalogue> {
  const databaseUrl = inject('databaseUrl');
  // One database per test process: two suites running at once must not drop each other's.
  const name = `${new URL(databaseUrl).pathname.slice(1)}_${tag}_${process.pid}`;
  const admin = new pg.Client({ connectionString: withDatabase(databaseUrl, 'postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = withDatabase(databaseUrl, name);
  let server: ServerProcess | undefined;
  let pool: pg.Pool | undefined;
  const close = async () => {
    await pool?.end().catch(() => undefined);
    if (server?.alive()) {
      const exited = new Promise((r) => server!.proc.once('exit', r));
      server.stop();
      await exited;
    }
    const a = new pg.Client({ connectionString: withDatabase(databaseUrl, 'postgres') });
    await a.connect();
    await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
    await a.end();
  };
  try {
    server = await startServerProcess({ DATABASE_URL: url, SDI_DEMO: '0', SDI_HARVEST: '0', SDI_DOWNLOAD_WORKERS: '0', ...env });
    pool = createPool(url, 2);
    for (const d of documents) await upsertRecord(pool, await withCrsFacts(() => parseRecord(d)));
  } catch (e) {
    await close();
    throw e;
  }
  const p = pool;
  return {
    base: server.base,
    pool: p,
    identifiers: async () => (await p.query<{ identifier: string }>('SELECT identifier FROM sdi.metadata_records ORDER BY identifier')).rows.map((r) => r.identifier),
    close,
  };
}
