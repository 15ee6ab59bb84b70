/** Parser thread of the bulk loader (bulk-load.ts): a list of file paths in, their rows and failures out. */
import { parentPort } from 'node:worker_threads';
import { parseFiles } from './bulk-load.js';

parentPort!.on('message', (files: string[]) => {
  try {
    parentPort!.postMessage({ ok: true, batch: parseFiles(files) });
  } catch (e) {
    parentPort!.postMessage({ ok: false, error: e instanceof Error ? e.stack ?? e.message : String(e) });
  }
});
