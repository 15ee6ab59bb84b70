/**
 * A download directory belongs to one database (issue 12): two deployments writing into the same directory
 * would each see the other's job results as "no job of mine" and the janitor would delete them. The directory
 * is stamped at first use with the database's identity (the cluster's system identifier and the database
 * name); a process whose database differs from the stamp refuses to use it, with a message saying which
 * setting to change. Checked once per process, before routes, workers and the janitor touch the directory.
 */
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Platform } from '../platform.js';

export const STAMP_FILE = '.sdi-database';

const checked = new Map<string, Promise<void>>();

async function databaseIdentity(platform: Platform): Promise<string> {
  const { rows } = await platform.pool.query<{ id: string }>(
    `SELECT coalesce((SELECT system_identifier::text FROM pg_control_system()), inet_server_addr()::text || ':' || inet_server_port()::text) || '/' || current_database() AS id`,
  );
  return rows[0]!.id;
}

/** Create the directory if needed, stamp it, or fail if another database stamped it. */
export function ensureOwnWorkDir(platform: Platform): Promise<void> {
  const dir = platform.config.download.workDir;
  let p = checked.get(dir);
  if (!p) {
    p = check(platform, dir);
    checked.set(dir, p);
    p.catch(() => checked.delete(dir));
  }
  return p;
}

async function check(platform: Platform, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const identity = await databaseIdentity(platform);
  const stampPath = join(dir, STAMP_FILE);
  const stamp = await readFile(stampPath, 'utf8').then((t) => t.trim(), () => undefined);
  if (stamp === undefined) {
    const tmp = `${stampPath}.${process.pid}`;
    await writeFile(tmp, `${identity}\n`);
    await rename(tmp, stampPath);
    return;
  }
  if (stamp !== identity) {
    throw new Error(`The download directory ${dir} belongs to another database (${stamp}; this one is ${identity}): give each deployment its own directory (SDI_DOWNLOAD_DIR or download.workDir)`);
  }
}
