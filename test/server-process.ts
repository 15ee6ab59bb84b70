/**
 * A platform server process of a test's own (its own port, settings and download directory), started from
 * the compiled entry point and awaited until it answers. Tests that need a server with other settings than
 * the suite's (small limits, a deny-all policy, an admin token, another database) use this.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { ROOT } from './helpers.js';

export interface ServerProcess {
  proc: ChildProcess;
  port: number;
  base: string;
  log: () => string;
  alive: () => boolean;
  stop: () => void;
}

/**
 * Start `dist/app/server.js` with `env` over the test's environment (PORT and HOST are chosen here) and wait
 * until `readyPath` answers 2xx (default /readyz; /healthz when the database may be unreachable).
 */
export async function startServerProcess(env: Record<string, string>, readyPath = '/readyz'): Promise<ServerProcess> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let log = '';
  const proc = spawn(process.execPath, [join(ROOT, 'dist/app/server.js')], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => (log += d));
  proc.stderr!.on('data', (d) => (log += d));
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  for (let i = 0; ; i++) {
    if (!alive()) throw new Error(`server exited: ${log}`);
    try {
      if ((await fetch(`${base}${readyPath}`)).ok) break;
    } catch {
      /* not yet */
    }
    if (i > 600) throw new Error(`server did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { proc, port, base, log: () => log, alive, stop: () => void proc.kill('SIGTERM') };
}
