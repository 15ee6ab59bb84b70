/**
 * The platform: what every service shares in one process — configuration, the PostGIS pool, the layer
 * catalogue, the CRS registry and the access policy. Built once; services receive it.
 */
import type { Logger } from 'pino';
import { loadConfig, type Config } from './config/index.js';
import { createPool, type Pool } from './db/pool.js';
import { migrate } from './db/migrate.js';
import { LayerCatalog } from './catalog/layers.js';
import { CrsRegistry } from './crs/registry.js';
import { policyByName, type AccessPolicy } from './access/policy.js';
import { GrantPolicy } from './access/grant-policy.js';
import { ensureFirstAdministrator } from './access/accounts.js';
import { AuditRecorder } from './audit/recorder.js';
import { ChangeFeed } from './db/change-feed.js';

export interface Platform {
  config: Config;
  pool: Pool;
  layers: LayerCatalog;
  crs: CrsRegistry;
  policy: AccessPolicy;
  /** The audit log's batching recorder (src/audit); absent in platforms assembled by hand (some tests). */
  audit?: AuditRecorder;
  /**
   * Notifications of changes to layer tables, the registry and styles (src/db/change-feed.ts): the catalogue and
   * the tile revisions are kept in memory while it is quiet. Absent: they are read on every request.
   */
  changes?: ChangeFeed;
}

export async function createPlatform(config: Config = loadConfig(), log?: Logger): Promise<Platform> {
  const pool = createPool(config.databaseUrl, 10, config.databaseApplicationName);
  await migrate(pool, (m) => log?.info(m));
  const crs = await CrsRegistry.load(pool, config.features.offeredCrs);
  if (config.firstAdmin && (await ensureFirstAdministrator(pool, config.firstAdmin.login, config.firstAdmin.password))) log?.info({ login: config.firstAdmin.login }, 'first administrator created');
  const audit = new AuditRecorder(pool, (e, dropped) => log?.warn({ err: e, dropped }, 'audit entries not written'));
  const changes = new ChangeFeed(config.databaseUrl, { applicationName: `${config.databaseApplicationName}-changes`, onError: (e) => log?.warn({ err: String(e) }, 'change feed connection lost; reading revisions on every request until it is back') });
  await changes.start();
  return { config, pool, layers: new LayerCatalog(pool, undefined, changes), crs, policy: choosePolicy(config), audit, changes };
}

/**
 * SDI_ACCESS_POLICY. auto (the default) is the grants policy: public resources need no grant, so with no user
 * and no restricted layer it serves exactly what the public policy serves, and the first user or restricted
 * layer made through the admin API takes effect without a restart. `public` ignores the restricted flags.
 */
function choosePolicy(config: Config): AccessPolicy {
  return config.accessPolicy === 'grants' || config.accessPolicy === 'auto' ? new GrantPolicy() : policyByName(config.accessPolicy);
}

export async function closePlatform(p: Platform): Promise<void> {
  await p.changes?.close();
  await p.audit?.close();
  await p.pool.end();
}
