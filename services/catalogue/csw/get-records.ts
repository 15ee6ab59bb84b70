/**
 * GetRecords and GetRecordById.
 *
 * The search itself, its count and its paging caches are the catalogue repository's (src/records/repository.ts).
 * Paging is exact and stable: numberOfRecordsMatched comes from a count on the same snapshot as the page,
 * the order always ends with the unique identifier (so parallel pagers such as geo.data.gouv.fr's and
 * sequential ones such as udata's neither miss nor repeat a record), and nextRecord is 0 on the last page.
 * Records are written from stored columns (Dublin Core) or stored ISO text (full document, or the brief and
 * summary element sets cut when the record was stored): no document is parsed per request.
 */
import { recordsByIdentifiers, searchRecords, type Db, type RecordQuery } from '../../../src/records/repository.js';
import { withoutDataLinks } from '../../../src/access/record-links.js';
import { OgcError, fromDatabaseError } from '../../../src/ogc/errors.js';
import { xmlEscape as x, XML_DECLARATION } from '../../../src/xml/escape.js';
import { writeAtomEntry } from '../../../src/metadata/atom.js';
import { DC_NAMESPACES, dcElementName, ISO_TOP_ELEMENTS, isoTopElementName, storedRecordColumns, writeDublinCore, writeIso, type StoredRecord } from '../../../src/metadata/writers.js';
import { planSearch } from '../../../src/record-search/plan.js';
import { withCatalogueRead, type CswContext } from './context.js';
import { documentGraph, toRdfXml } from '../../../src/metadata/dcat.js';
import { CSW_NS, GMD_NS, isRdfSchema, OUTPUT_SCHEMA_URI, type ElementSet, type GetRecordByIdRequest, type GetRecordsRequest, type OutputSchema } from './request.js';

const SCHEMA_LOCATION = `${CSW_NS} http://schemas.opengis.net/csw/2.0.2/CSW-discovery.xsd`;
const ROOT_NS = `${DC_NAMESPACES} xmlns:gmd="${GMD_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`;

function isoColumn(schema: OutputSchema, set: ElementSet, elementNames?: string[]): 'document' | 'iso_brief' | 'iso_summary' | null {
  if (schema !== 'gmd') return null;
  if (elementNames || set === 'full') return 'document';
  return set === 'brief' ? 'iso_brief' : 'iso_summary';
}

function checkElementNames(schema: OutputSchema, names: string[] | undefined): void {
  // DCAT output is always the whole graph of the record, Atom always the whole entry: ElementName does not apply.
  if (isRdfSchema(schema) || schema === 'atom') return;
  for (const n of names ?? []) {
    const ok = schema === 'csw' ? dcElementName(n) !== undefined : ISO_TOP_ELEMENTS.has(isoTopElementName(n));
    if (!ok) throw new OgcError('InvalidParameterValue', `Unknown ElementName '${n.slice(0, 100)}' for ${OUTPUT_SCHEMA_URI[schema]}`, 'ElementName');
  }
}

/** Rows read for an output schema: the stored record columns, plus the whole document for DCAT. */
type Row = StoredRecord & { doc?: string };

function selectColumns(schema: OutputSchema, set: ElementSet, elementNames?: string[]): string {
  return isRdfSchema(schema) ? `${storedRecordColumns(null)}, r.document AS doc` : storedRecordColumns(isoColumn(schema, set, elementNames));
}

/** The platform's public base URL, from the CSW endpoint's (mounted at /csw): DCAT record URIs hang from it. */
const platformBase = (ctx: CswContext) => ctx.serviceUrl.replace(/\/csw\/?$/, '');

/** Is this record sent without its data links to this caller (issue 11, describe mode)? */
const linkless = (ctx: CswContext, identifier: string) => ctx.linklessRecords?.has(identifier) === true;

function writeRecord(ctx: CswContext, row: Row, schema: OutputSchema, set: ElementSet, elementNames?: string[]): string {
  // udata's csw-dcat harvester parses each child of csw:SearchResults alone: a whole rdf:RDF per record.
  // DCAT distributions are made from the document's links: a linkless record's document loses them first.
  if (isRdfSchema(schema)) {
    const doc = linkless(ctx, row.identifier) ? String(withoutDataLinks(row.doc ?? '')) : (row.doc ?? '');
    return toRdfXml(documentGraph(doc, { baseUrl: platformBase(ctx) }).graph);
  }
  const written =
    schema === 'atom'
      ? writeAtomEntry(row, (id) => `${ctx.serviceUrl}?service=CSW&version=2.0.2&request=GetRecordById&outputSchema=${encodeURIComponent(GMD_NS)}&elementSetName=full&id=${encodeURIComponent(id)}`)
      : schema === 'csw'
        ? writeDublinCore(row, set, elementNames)
        : writeIso(row, set, elementNames);
  // Filtered after the writers, whatever links they wrote.
  return linkless(ctx, row.identifier) ? String(withoutDataLinks(written)) : written;
}

export interface SearchPage {
  matched: number;
  returned: number;
  nextRecord: number;
  records: Array<string | Buffer>;
}

/** ISO full without ElementName: each record is its stored document, sent as stored (see storedDocuments). */
const storedIsoFull = (req: GetRecordsRequest) => req.outputSchema === 'gmd' && req.elementSet === 'full' && !req.elementNames;
const RAW_COLUMNS = `r.identifier, CASE WHEN r.schema = 'iso19139' THEN r.document END AS document`;

/** Build the SQL of a GetRecords request (exported for tests and the harvest-side paging logic). */
export function planGetRecords(ctx: CswContext, req: GetRecordsRequest): RecordQuery {
  return planSearch({ ...(req.constraint ? { constraint: req.constraint } : {}), sortBy: req.sortBy ?? [], hiddenRecords: ctx.hiddenRecords ?? [], crs: ctx.platform.crs });
}

export async function getRecords(ctx: CswContext, req: GetRecordsRequest): Promise<string | Buffer> {
  checkElementNames(req.outputSchema, req.elementNames);
  if (req.resultType === 'validate') {
    planGetRecords(ctx, req);
    return acknowledgement(req);
  }
  return searchResponse(req, await recordsPage(ctx, req));
}

/** The page a GetRecords request selects, each record written in its output schema (also the OpenSearch feed's). */
export async function recordsPage(ctx: CswContext, req: GetRecordsRequest): Promise<SearchPage> {
  checkElementNames(req.outputSchema, req.elementNames);
  const query = planGetRecords(ctx, req);
  return withCatalogueRead(ctx, async (c) => {
    try {
      const raw = storedIsoFull(req);
      const wanted =
        req.resultType === 'results'
          ? { startPosition: req.startPosition, maxRecords: req.maxRecords, columns: raw ? RAW_COLUMNS : selectColumns(req.outputSchema, req.elementSet, req.elementNames), raw }
          : undefined;
      const found = await searchRecords<Row | RawRow>(c, query, wanted, { cache: ctx.platform.config.catalogue.pageCache });
      const records = raw ? await storedDocuments(ctx, c, found.rows as RawRow[]) : (found.rows as Row[]).map((r) => writeRecord(ctx, r, req.outputSchema, req.elementSet, req.elementNames));
      const matched = found.matched;
      const returned = records.length;
      const last = req.startPosition + returned - 1;
      // CSW: nextRecord is the position of the next record, 0 when none is left.
      const nextRecord = returned > 0 ? (last < matched ? last + 1 : 0) : req.startPosition <= matched ? req.startPosition : 0;
      return { matched, returned, nextRecord, records };
    } catch (e) {
      throw fromDatabaseError(e, 'Constraint');
    }
  });
}

/** A row of an ISO full page read as bytes: the identifier, and the stored ISO document (null for Dublin Core). */
type RawRow = { identifier: Buffer; document: Buffer | null };

/** ISO full pages: the stored documents as the bytes PostgreSQL sends, never decoded nor re-encoded. */
async function storedDocuments(ctx: CswContext, c: Db, rows: RawRow[]): Promise<Array<string | Buffer>> {
  const ids = rows.map((r) => r.identifier.toString('utf8'));
  const missing = ids.filter((_, i) => rows[i]!.document === null);
  // Records stored as Dublin Core have no ISO document: their generated one, as on the other paths.
  const generated = new Map<string, string>();
  if (missing.length > 0) {
    for (const r of await recordsByIdentifiers<Row>(c, selectColumns('gmd', 'full'), missing)) generated.set(r.identifier, writeRecord(ctx, r, 'gmd', 'full'));
  }
  return rows.map((r, i) => {
    if (r.document === null) return generated.get(ids[i]!)!;
    return linkless(ctx, ids[i]!) ? withoutDataLinks(r.document) : r.document;
  });
}

function searchResponse(req: GetRecordsRequest, page: SearchPage): string | Buffer {
  const elementSet = req.elementNames ? '' : ` elementSet="${req.elementSet}"`;
  const head =
    XML_DECLARATION +
    `<csw:GetRecordsResponse ${ROOT_NS} version="2.0.2" xsi:schemaLocation="${SCHEMA_LOCATION}">` +
    (req.requestId ? `<csw:RequestId>${x(req.requestId)}</csw:RequestId>` : '') +
    `<csw:SearchStatus timestamp="${new Date().toISOString()}"/>` +
    `<csw:SearchResults numberOfRecordsMatched="${page.matched}" numberOfRecordsReturned="${page.returned}" nextRecord="${page.nextRecord}" recordSchema="${OUTPUT_SCHEMA_URI[req.outputSchema]}"${elementSet}>`;
  const tail = '</csw:SearchResults></csw:GetRecordsResponse>\n';
  if (page.records.every((r) => typeof r === 'string')) return head + page.records.join('') + tail;
  return Buffer.concat([Buffer.from(head), ...page.records.map((r) => (typeof r === 'string' ? Buffer.from(r) : r)), Buffer.from(tail)]);
}

function acknowledgement(req: GetRecordsRequest): string {
  return (
    XML_DECLARATION +
    `<csw:Acknowledgement xmlns:csw="${CSW_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" timeStamp="${new Date().toISOString()}" xsi:schemaLocation="${SCHEMA_LOCATION}">` +
    `<csw:EchoedRequest>${req.echo}</csw:EchoedRequest>` +
    (req.requestId ? `<csw:RequestId>${x(req.requestId)}</csw:RequestId>` : '') +
    '</csw:Acknowledgement>\n'
  );
}

/** GetRecordById: records in the order of the ids asked; unknown ids are simply absent (empty response). */
export async function getRecordById(ctx: CswContext, req: GetRecordByIdRequest): Promise<string> {
  checkElementNames(req.outputSchema, req.elementNames);
  const cols = selectColumns(req.outputSchema, req.elementSet, req.elementNames);
  const rows = await withCatalogueRead(ctx, (c) => recordsByIdentifiers<Row>(c, cols, req.ids, [...(ctx.hiddenRecords ?? [])]));
  return (
    XML_DECLARATION +
    `<csw:GetRecordByIdResponse ${ROOT_NS} xsi:schemaLocation="${SCHEMA_LOCATION}">` +
    rows.map((r) => writeRecord(ctx, r, req.outputSchema, req.elementSet, req.elementNames)).join('') +
    '</csw:GetRecordByIdResponse>\n'
  );
}
