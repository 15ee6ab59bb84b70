/**
 * Remote CSW 2.0.2 source: GetRecords by POST, page by page (startPosition / maxRecords), ISO 19139 full
 * records (gmd:MD_Metadata) by default, sorted by identifier so that paging is stable (without SortBy when the
 * server answers the first page with an exception), and on incremental runs only the records with
 * `apiso:Modified >= watermark` (`dct:modified` when asking for csw:Record).
 *
 * Paging does not trust nextRecord alone (GeoNetwork 3.0 sent nextRecord > matched, some servers always send
 * 0, pycsw sends 11 for hits): the next position is startPosition + numberOfRecordsReturned, and the harvest
 * stops when a page is empty, when that position passes numberOfRecordsMatched, or — when the server gives
 * no count — when nextRecord is 0. A server that answers the same page whatever startPosition says is
 * detected and fails the run instead of looping.
 */
import { serializeXml, parseXml, XmlInputError, type XmlElement } from '../xml/tree.js';
import { xmlEscape as x } from '../xml/escape.js';
import { MD_NS, valueAt } from '../metadata/xml.js';
import { fetchDocument, HarvestError } from './http.js';
import type { Harvester, HarvestItem } from './types.js';

const CSW = 'http://www.opengis.net/cat/csw/2.0.2';
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export function getRecordsBody(o: { start: number; pageSize: number; schema: 'gmd' | 'csw'; modifiedSince?: string; sort?: boolean }): string {
  const schemaUri = o.schema === 'gmd' ? MD_NS.gmd : CSW;
  const typeName = o.schema === 'gmd' ? 'gmd:MD_Metadata' : 'csw:Record';
  const modified = o.schema === 'gmd' ? 'apiso:Modified' : 'dct:modified';
  const constraint = o.modifiedSince
    ? `<csw:Constraint version="1.1.0"><ogc:Filter><ogc:PropertyIsGreaterThanOrEqualTo><ogc:PropertyName>${modified}</ogc:PropertyName>` +
      `<ogc:Literal>${x(o.modifiedSince)}</ogc:Literal></ogc:PropertyIsGreaterThanOrEqualTo></ogc:Filter></csw:Constraint>`
    : '';
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<csw:GetRecords xmlns:csw="${CSW}" xmlns:ogc="http://www.opengis.net/ogc" xmlns:gmd="${MD_NS.gmd}" xmlns:apiso="http://www.opengis.net/cat/csw/apiso/1.0" xmlns:dct="${MD_NS.dct}" xmlns:dc="${MD_NS.dc}" ` +
    `service="CSW" version="2.0.2" resultType="results" outputFormat="application/xml" outputSchema="${schemaUri}" startPosition="${o.start}" maxRecords="${o.pageSize}">` +
    `<csw:Query typeNames="${typeName}"><csw:ElementSetName>full</csw:ElementSetName>${constraint}` +
    (o.sort === false
      ? ''
      : `<ogc:SortBy><ogc:SortProperty><ogc:PropertyName>${o.schema === 'gmd' ? 'apiso:Identifier' : 'dc:identifier'}</ogc:PropertyName><ogc:SortOrder>ASC</ogc:SortOrder></ogc:SortProperty></ogc:SortBy>`) +
    `</csw:Query></csw:GetRecords>`
  );
}

const intAttr = (el: XmlElement, name: string): number | undefined => {
  const v = el.attrs[name];
  return v !== undefined && /^\s*\d+\s*$/.test(v) ? Number(v) : undefined;
};

/** The text of an OWS exception report (any OWS version), or undefined when the root is something else. */
export function exceptionReportText(root: XmlElement): string | undefined {
  if (root.name !== 'ExceptionReport' && root.name !== 'ServiceExceptionReport') return undefined;
  const parts: string[] = [];
  const walk = (e: XmlElement) => {
    if (e.name === 'Exception' || e.name === 'ServiceException') {
      const code = e.attrs['exceptionCode'] ?? e.attrs['code'];
      const text = [e.text, ...e.children.map((c) => c.text)].join(' ').replace(/\s+/g, ' ').trim();
      parts.push(`${code ? code + ': ' : ''}${text}`);
    }
    e.children.forEach(walk);
  };
  walk(root);
  return parts.join('; ').slice(0, 1000) || 'exception report';
}

/** The remote id of a record element: gmd:fileIdentifier or dc:identifier ('' if none). */
export function recordElementId(el: XmlElement): string {
  if (el.name === 'MD_Metadata' || el.name === 'MI_Metadata') return valueAt(el, 'gmd:fileIdentifier');
  const id = el.children.find((c) => c.name === 'identifier' && c.ns === MD_NS.dc);
  return id ? id.text.replace(/\s+/g, ' ').trim() : '';
}

export interface CswPage {
  matched?: number;
  returned: number;
  nextRecord?: number;
  items: HarvestItem[];
}

/** Read one GetRecordsResponse; throws HarvestError on an exception report or anything unreadable. */
export function readGetRecordsResponse(text: string, start: number): CswPage {
  let root: XmlElement;
  try {
    root = parseXml(text, MAX_RESPONSE_BYTES);
  } catch (e) {
    if (e instanceof XmlInputError) throw new HarvestError(`page at startPosition ${start} is not readable XML (${e.message})`);
    throw e;
  }
  const exc = exceptionReportText(root);
  if (exc) throw new HarvestError(`the remote CSW answered an exception at startPosition ${start}: ${exc}`);
  if (root.name !== 'GetRecordsResponse') throw new HarvestError(`page at startPosition ${start} is not a csw:GetRecordsResponse (root ${root.name})`);
  const results = root.children.find((c) => c.name === 'SearchResults');
  if (!results) throw new HarvestError(`page at startPosition ${start} has no csw:SearchResults`);
  const items: HarvestItem[] = [];
  results.children.forEach((el, i) => {
    const id = recordElementId(el);
    items.push({ remoteId: id || `#${start + i}`, document: serializeXml(el) });
  });
  return { matched: intAttr(results, 'numberOfRecordsMatched'), returned: items.length, nextRecord: intAttr(results, 'nextRecord'), items };
}

export const harvestCsw: Harvester = async function* (source, ctx) {
  const pageSize = Math.max(1, Math.min(source.options.pageSize ?? 50, 1000));
  const schema = source.options.outputSchema ?? 'gmd';
  const limit = source.options.maxRecords ?? 1_000_000;
  let start = 1;
  let seen = 0;
  let previousFirst: string | undefined;
  let sort = true;
  const fetchPage = async () => {
    const res = await fetchDocument(source.url, {
      method: 'POST',
      body: getRecordsBody({ start, pageSize, schema, modifiedSince: ctx.modifiedSince, sort }),
      headers: { 'content-type': 'application/xml; charset=utf-8' },
      timeoutMs: ctx.timeoutMs,
      policy: ctx.policy,
      maxBytes: MAX_RESPONSE_BYTES,
    });
    return readGetRecordsResponse(res.text, start);
  };
  for (;;) {
    let page: CswPage;
    try {
      page = await fetchPage();
    } catch (e) {
      // Some servers refuse sorting (or sorting on the identifier): ask the first page again without it.
      if (!(e instanceof HarvestError && start === 1 && sort && /answered an exception/.test(e.message))) throw e;
      ctx.log(`csw ${source.url}: ${e.message}; retrying without SortBy`);
      sort = false;
      page = await fetchPage();
    }
    ctx.log(`csw ${source.url}: startPosition ${start}, ${page.returned} record(s) of ${page.matched ?? '?'}`);
    if (page.returned === 0) return;
    const first = page.items[0]!.remoteId;
    if (start > 1 && previousFirst !== undefined && first === previousFirst) {
      throw new HarvestError(`the remote CSW answered the same page for startPosition ${start} as before: it ignores startPosition`);
    }
    previousFirst = first;
    seen += page.returned;
    if (seen > limit) throw new HarvestError(`the source holds more than ${limit} records (options.maxRecords)`);
    yield page.items;
    const next = start + page.returned;
    if (page.matched !== undefined) {
      if (next > page.matched) return;
    } else if (page.nextRecord === 0 || page.nextRecord === undefined) return;
    start = next;
  }
};
