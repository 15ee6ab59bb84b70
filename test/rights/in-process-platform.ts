/**
 * The fixture of the rights tests (rights, editing, hardening): a platform built in the test's process on the
 * suite's database with the grants policy, an administrator token, no demo data and no download workers, driven
 * by light-my-request (Fastify inject); `env` adds or overrides settings (rate limits, an admin login…).
 */
import { inject } from 'vitest';
import { join } from 'node:path';
import { ROOT, baseUrl } from '../helpers.js';

export type Reply = { statusCode: number; headers: Record<string, unknown>; body: string; rawPayload: Buffer };
export interface App {
  inject(o: { method: string; url: string; headers?: Record<string, string>; payload?: string; remoteAddress?: string }): Promise<Reply>;
  ready(): Promise<unknown>;
  close(): Promise<unknown>;
  routeList: Array<{ method: string; url: string }>;
}
export interface TestPlatform {
  pool: { end(): Promise<void> };
  audit?: { flush(): Promise<void> };
  config: { namespace: { uri: string; prefix: string } };
}

export async function inProcessPlatform(adminToken: string, env: Record<string, string> = {}): Promise<{ app: App; platform: TestPlatform }> {
  const { loadConfig } = await import(join(ROOT, 'dist/src/config/index.js'));
  const { createPlatform } = await import(join(ROOT, 'dist/src/platform.js'));
  const { buildApp } = await import(join(ROOT, 'dist/app/build-app.js'));
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: inject('databaseUrl'),
    BASE_URL: baseUrl(),
    SDI_ACCESS_POLICY: 'grants',
    SDI_DEMO: '0',
    LOG_LEVEL: 'silent',
    SDI_DOWNLOAD_DIR: inject('downloadDir'),
    SDI_DOWNLOAD_WORKERS: '0',
    SDI_ADMIN_TOKEN: adminToken,
    ...env,
  });
  const platform = (await createPlatform(config)) as TestPlatform;
  const app = (await buildApp(platform)) as App;
  await app.ready();
  return { app, platform };
}

/** Closes what inProcessPlatform made (either may be missing when the set-up failed). */
export async function closePlatform(f: { app?: App; platform?: TestPlatform }): Promise<void> {
  await f.app?.close();
  await f.platform?.pool.end();
}
