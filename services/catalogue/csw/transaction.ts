/**
 * CSW 2.0.2 Transaction (CSW-T, OGC 07-006r1 §10.11), XML POST only, for the administrator:
 * - Insert: one or more ISO 19139 (gmd:MD_Metadata, gmi:MI_Metadata) or Dublin Core (csw:Record, oai_dc:dc)
 *   records; an identifier already in the catalogue is refused (use Update).
 * - Update: a whole record replacing the stored record with the same identifier (which must exist). Updates of
 *   single properties (csw:RecordProperty) are refused with OptionNotSupported.
 * - Delete: the records matched by a csw:Constraint (OGC Filter 1.1 or CQL, the same queryables as GetRecords).
 *
 * All actions run in one database transaction: any failure leaves the catalogue as it was. The response is a
 * csw:TransactionResponse with the totals and, for inserts, a csw:BriefRecord per inserted record.
 *
 * Authentication (services/catalogue/csw/auth.ts, checked by the dispatcher before this runs): the admin token
 * (SDI_ADMIN_TOKEN / config adminToken) as `Authorization: Bearer <token>` or HTTP Basic password. No or wrong
 * credentials: 401 with a WWW-Authenticate challenge; no token configured: 403; nothing is changed.
 *
 * A platform-generated record (layer or service record, managed_by set) replaced through Update becomes a
 * hand-maintained record: the layer sync (src/metadata/layer-records.ts) no longer overwrites it.
 */
import { serializeXml, type XmlElement } from '../../../src/xml/tree.js';
import { OgcError, fromDatabaseError, invalid, missing } from '../../../src/ogc/errors.js';
import { xmlEscape as x, XML_DECLARATION } from '../../../src/xml/escape.js';
import { readFesFilter } from '../../../src/filter/fes-reader.js';
import type { Filter } from '../../../src/filter/ast.js';
import { PositionalBinder } from '../../../src/db/sql.js';
import { parseRecord } from '../../../src/metadata/store.js';
import { deleteMatching, recordExists, recordsByIdentifiers, setManagedBy, upsertRecord } from '../../../src/records/repository.js';
import { MetadataError, type MetadataRecord } from '../../../src/records/record.js';
import { syncLayerRecords } from '../../../src/publishing/index.js';
import { storedRecordColumns, writeDublinCore, type StoredRecord } from '../../../src/metadata/writers.js';
import { compileFilter } from '../../../src/record-search/compile.js';
import { CSW_FILTER_OPTIONS, asConstraintError, readCql } from './kvp-reader.js';
import type { CswContext } from './context.js';
import { CSW_NS, type TransactionAction, type TransactionRequest } from './request.js';

const isCsw = (el: XmlElement) => el.ns === CSW_NS || el.ns === '';

function readRecord(el: XmlElement, locator: string): MetadataRecord {
  try {
    // serializeXml() declares on the root every namespace in scope: the record stands alone.
    return parseRecord(serializeXml(el));
  } catch (e) {
    if (e instanceof MetadataError) throw invalid(locator, `Invalid record: ${e.message}`);
    throw e;
  }
}

function readDeleteConstraint(c: XmlElement | undefined, locator: string): Filter {
  if (!c) throw new OgcError('MissingParameterValue', `csw:${locator} needs a csw:Constraint`, 'Constraint');
  const filterEl = c.children.find((k) => k.name === 'Filter');
  const cql = c.children.find((k) => k.name === 'CqlText' && isCsw(k));
  if (filterEl) {
    try {
      return readFesFilter(filterEl, CSW_FILTER_OPTIONS);
    } catch (e) {
      return asConstraintError(e);
    }
  }
  if (cql && cql.text.trim()) return readCql(cql.text);
  throw new OgcError('MissingParameterValue', 'csw:Constraint needs an ogc:Filter or a csw:CqlText', 'Constraint');
}

/** csw:Transaction root element → typed request (records parsed and their queryables extracted). */
export function readTransactionXml(root: XmlElement): TransactionRequest {
  const actions: TransactionAction[] = [];
  for (const a of root.children) {
    if (!isCsw(a)) continue;
    const handle = a.attrs['handle'];
    if (a.name === 'Insert') {
      if (a.children.length === 0) throw new OgcError('MissingParameterValue', 'csw:Insert holds no record', 'Insert');
      actions.push({ kind: 'insert', handle, records: a.children });
    } else if (a.name === 'Update') {
      if (a.children.some((c) => c.name === 'RecordProperty' && isCsw(c))) {
        throw new OgcError('OptionNotSupported', 'Updates of single properties (csw:RecordProperty) are not supported: send the whole record', 'RecordProperty');
      }
      const recs = a.children.filter((c) => !(c.name === 'Constraint' && isCsw(c)));
      if (recs.length !== 1) throw new OgcError('MissingParameterValue', 'csw:Update must hold exactly one record', 'Update');
      actions.push({ kind: 'update', handle, record: recs[0]! });
    } else if (a.name === 'Delete') {
      actions.push({ kind: 'delete', handle, constraint: readDeleteConstraint(a.children.find((c) => c.name === 'Constraint' && isCsw(c)), 'Delete') });
    } else {
      throw invalid('Transaction', `Unknown transaction action csw:${a.name.slice(0, 50)}`);
    }
  }
  if (actions.length === 0) throw missing('Insert');
  const verbose = (root.attrs['verboseResponse'] ?? 'false').trim().toLowerCase();
  return { op: 'Transaction', requestId: root.attrs['requestId'], verboseResponse: verbose === 'true' || verbose === '1', actions };
}

// ---------------------------------------------------------------------------------------------- execution

export async function transaction(ctx: CswContext, req: TransactionRequest): Promise<string> {
  // Every record is read (and its queryables extracted) before the store is touched.
  const parsed = new Map<XmlElement, MetadataRecord>();
  for (const a of req.actions) {
    if (a.kind === 'insert') for (const el of a.records) parsed.set(el, readRecord(el, 'Insert'));
    if (a.kind === 'update') parsed.set(a.record, readRecord(a.record, 'Update'));
  }
  const client = await ctx.platform.pool.connect();
  let inserted = 0;
  let updated = 0;
  let deleted = 0;
  const insertResults: Array<{ handle?: string; rows: StoredRecord[] }> = [];
  try {
    await client.query('BEGIN');
    await client.query("SELECT set_config('statement_timeout', $1, true), set_config('TimeZone', 'UTC', true)", [String(ctx.limits.statementTimeoutMs)]);
    for (const a of req.actions) {
      if (a.kind === 'insert') {
        const ids: string[] = [];
        for (const el of a.records) {
          const r = parsed.get(el)!;
          if (await recordExists(client, r.identifier)) throw invalid('Insert', `A record with identifier '${r.identifier.slice(0, 200)}' already exists (use Update to replace it)`);
          await upsertRecord(client, r);
          ids.push(r.identifier);
          inserted++;
        }
        insertResults.push({ handle: a.handle, rows: await recordsByIdentifiers<StoredRecord>(client, storedRecordColumns(null), ids) });
      } else if (a.kind === 'update') {
        const r = parsed.get(a.record)!;
        if (!(await recordExists(client, r.identifier))) throw invalid('Update', `No record with identifier '${r.identifier.slice(0, 200)}' to update (use Insert)`);
        await upsertRecord(client, r, { force: true });
        // Hand edits win over the layer sync (see src/metadata/layer-records.ts).
        await setManagedBy(client, { identifier: r.identifier }, null);
        updated++;
      } else {
        const params = new PositionalBinder();
        const where = compileFilter(a.constraint, { params, crs: ctx.platform.crs });
        try {
          deleted += await deleteMatching(client, where, params);
        } catch (e) {
          throw fromDatabaseError(e, 'Constraint');
        }
      }
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
  // A layer's record edited here keeps following its layer, and its title and abstract reach the layer (issue
  // 10): the layer records are synced now rather than at the next start. A failure does not undo the transaction.
  if (inserted + updated + deleted > 0) await syncLayerRecords(ctx.platform.pool, ctx.platform.config).catch(() => undefined);
  return (
    XML_DECLARATION +
    `<csw:TransactionResponse xmlns:csw="${CSW_NS}" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dct="http://purl.org/dc/terms/" xmlns:ows="http://www.opengis.net/ows" ` +
    `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="2.0.2" xsi:schemaLocation="${CSW_NS} http://schemas.opengis.net/csw/2.0.2/CSW-publication.xsd">` +
    `<csw:TransactionSummary${req.requestId ? ` requestId="${x(req.requestId)}"` : ''}>` +
    `<csw:totalInserted>${inserted}</csw:totalInserted><csw:totalUpdated>${updated}</csw:totalUpdated><csw:totalDeleted>${deleted}</csw:totalDeleted>` +
    '</csw:TransactionSummary>' +
    insertResults
      .filter((r) => r.rows.length)
      .map((r) => `<csw:InsertResult${r.handle ? ` handleRef="${x(r.handle)}"` : ''}>${r.rows.map((row) => writeDublinCore(row, 'brief')).join('')}</csw:InsertResult>`)
      .join('') +
    '</csw:TransactionResponse>\n'
  );
}
