/**
 * A single ISO 19139 (or Dublin Core) document at a URL; a CSW GetRecordByIdResponse wrapping records is
 * unwrapped. One page, one item per record.
 */
import { serializeXml, parseXml, XmlInputError } from '../xml/tree.js';
import { stripXmlDeclaration } from '../metadata/xml.js';
import { fetchDocument, HarvestError } from './http.js';
import { exceptionReportText, recordElementId } from './csw.js';
import type { Harvester, HarvestItem } from './types.js';

export function readIsoDocument(text: string, url: string): HarvestItem[] {
  let root;
  try {
    root = parseXml(text, 64 * 1024 * 1024);
  } catch (e) {
    if (e instanceof XmlInputError) throw new HarvestError(`${url}: not readable XML (${e.message})`);
    throw e;
  }
  const exc = exceptionReportText(root);
  if (exc) throw new HarvestError(`${url}: exception report: ${exc}`);
  if (root.name === 'GetRecordByIdResponse') {
    return root.children.map((el, i) => ({ remoteId: recordElementId(el) || `${url}#${i + 1}`, document: serializeXml(el) }));
  }
  return [{ remoteId: recordElementId(root) || url, document: stripXmlDeclaration(text) }];
}

export const harvestIso: Harvester = async function* (source, ctx) {
  const res = await fetchDocument(source.url, { timeoutMs: ctx.timeoutMs, policy: ctx.policy });
  yield readIsoDocument(res.text, res.url);
};
