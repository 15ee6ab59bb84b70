/**
 * SDI_PROCESSES: several serving processes on one port (node:cluster). Both answer, a serving process killed by
 * SIGKILL fails its own requests at most and is replaced while the other keeps serving, and SIGTERM to the
 * supervisor ends them all.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../server-process.js';

const children = (pid: number): number[] => {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The status, with the body read (an unread body keeps its connection busy and the server's close waiting). */
const statusOf = async (url: string) => {
  const r = await fetch(url);
  await r.arrayBuffer();
  return r.status;
};

describe('serving processes (SDI_PROCESSES)', () => {
  let server: ServerProcess | undefined;
  afterAll(() => server?.stop());

  it('serves from two processes, replaces a killed one, and stops them all on SIGTERM', async () => {
    server = await startServerProcess({ SDI_PROCESSES: '2', SDI_DEMO: '0', LOG_LEVEL: 'info' });
    const supervisor = server.proc.pid!;
    let workers: number[] = [];
    for (let i = 0; i < 100 && workers.length < 2; i++) {
      workers = children(supervisor);
      await sleep(100);
    }
    expect(workers).toHaveLength(2);
    // Both listening before one is killed (else the only listener may be the one killed).
    for (let i = 0; i < 300 && (server.log().match(/serving process listening/g)?.length ?? 0) < 2; i++) await sleep(100);
    expect(server.log().match(/serving process listening/g)?.length).toBe(2);
    // The list of collections, not a layer's items: other files of the suite make demo layers restricted for a while.
    const items = `${server.base}/ogcapi/collections`;
    for (let i = 0; i < 6; i++) expect(await statusOf(items)).toBe(200);

    process.kill(workers[0]!, 'SIGKILL');
    // The other process keeps answering while the killed one is replaced. A request on a kept-alive connection
    // to the killed process fails (connection reset): one request at most, the next ones open a new connection.
    const outcomes: Array<number | string> = [];
    for (let i = 0; i < 8; i++) outcomes.push(await statusOf(items).then((st) => st, (e: Error) => String((e.cause as Error | undefined)?.message ?? e.message)));
    expect(outcomes.filter((o) => o !== 200).length, outcomes.join()).toBeLessThanOrEqual(1);
    expect(outcomes.slice(-6)).toEqual([200, 200, 200, 200, 200, 200]);
    let replaced: number[] = [];
    for (let i = 0; i < 150; i++) {
      replaced = children(supervisor);
      if (replaced.length === 2 && !replaced.includes(workers[0]!)) break;
      await sleep(100);
    }
    expect(replaced).toHaveLength(2);
    expect(replaced).not.toContain(workers[0]);
    expect(server.log()).toMatch(/a serving process ended; starting another/);
    for (let i = 0; i < 10; i++) {
      if ((await fetch(`${server.base}/readyz`).catch(() => undefined))?.ok) break;
      await sleep(300);
    }
    for (let i = 0; i < 6; i++) expect(await statusOf(items)).toBe(200);

    server.stop();
    for (let i = 0; i < 150 && server.alive(); i++) await sleep(100);
    expect(server.alive()).toBe(false);
    for (const w of replaced) expect(() => process.kill(w, 0)).toThrow();
  });

  it('refuses a process count that is not a number from 1 to 64', async () => {
    await expect(startServerProcess({ SDI_PROCESSES: 'many', SDI_DEMO: '0' })).rejects.toThrow(/SDI_PROCESSES must be 'auto' or an integer/);
  });
});
