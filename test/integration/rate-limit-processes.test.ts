/**
 * Rate limits across serving processes (issue 11 hardening, SDI_PROCESSES): the per-address limit holds for the
 * deployment, not for each process (src/server/rate-limit-store.ts). Each request opens its own connection, so
 * the cluster's round robin spreads them over both processes; with per-process counters 2 × the limit passed.
 * Requests are a little apart (more than the store's sync interval), as a sequential client's are.
 */
import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../server-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET on a new connection (no keep-alive: the next request may reach the other process). */
const statusOnNewConnection = (url: string) =>
  new Promise<number>((resolve, reject) => {
    http
      .get(url, { agent: false, headers: { connection: 'close' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });

describe('rate limits with two serving processes', () => {
  let server: ServerProcess | undefined;
  afterAll(() => server?.stop());

  it('lets through the per-address limit once for the deployment, not once per process', async () => {
    const LIMIT = 6;
    server = await startServerProcess({
      SDI_PROCESSES: '2',
      SDI_DEMO: '0',
      LOG_LEVEL: 'info',
      SDI_RATE_LIMIT_IP: String(LIMIT),
      SDI_RATE_LIMIT_WINDOW_MS: '120000',
      // Loopback is exempt by default: nothing exempt here but a documentation network.
      SDI_RATE_LIMIT_EXEMPT: '203.0.113.0/24',
    });
    for (let i = 0; i < 300 && (server.log().match(/serving process listening/g)?.length ?? 0) < 2; i++) await sleep(100);
    expect(server.log().match(/serving process listening/g)?.length).toBe(2);
    const statuses: number[] = [];
    for (let i = 0; i < 4 * LIMIT; i++) {
      statuses.push(await statusOnNewConnection(`${server.base}/ogcapi/conformance`));
      await sleep(150);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3 * LIMIT);
    // The first LIMIT pass, then every one is refused (whichever process answers).
    expect(statuses.slice(0, LIMIT)).toEqual(Array(LIMIT).fill(200));
  }, 120_000);
});
