/** Parser thread of the bulk loader (bulk-load.ts): a list of file paths in, their rows and failures out. */
import { parentPort } from 'node:worker_threads';
import { parseFiles } from './bulk-load.js';

parentPort!.on('message', (files: string[]) => {
  try {
    const batch = parseFiles(files);
    // The parameters' memory moves to the writing thread (each Buffer has an ArrayBuffer of its own).
    parentPort!.postMessage({ ok: true, batch }, batch.params.map((p) => p.buffer as ArrayBuffer));
  } catch (e) {
    parentPort!.postMessage({ ok: false, error: e instanceof Error ? e.stack ?? e.message : String(e) });
  }
});
