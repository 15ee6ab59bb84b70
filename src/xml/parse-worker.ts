/**
 * Worker side of src/xml/parse-pool.ts: parses one document per message with the same reader as the main
 * thread (parseXml), and answers the element tree or the reason it was refused.
 */
import { parentPort } from 'node:worker_threads';
import { parseXml, XmlInputError } from './tree.js';

parentPort?.on('message', (m: { id: number; input: string; maxBytes: number; maxElements: number }) => {
  try {
    parentPort!.postMessage({ id: m.id, root: parseXml(m.input, m.maxBytes, m.maxElements) });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: e instanceof XmlInputError ? e.message : 'the XML parser failed', input: e instanceof XmlInputError });
  }
});
