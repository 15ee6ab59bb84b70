/**
 * CSW 2.0.2 Harvest (synchronous): Source (URL), ResourceType (what the URL is), ResourceFormat,
 * HarvestInterval (ISO 8601 duration: the source is then harvested again periodically by the scheduler).
 * The source is created (or updated, by resource type and URL) in sdi.harvest_sources and harvested at once
 * through src/harvest (all or nothing); the answer is a csw:HarvestResponse holding a TransactionResponse
 * (inserted / updated counts, brief records of the new ones). ResponseHandler (asynchronous) is refused.
 *
 * Outbound requests go through the guarded client (src/net/outbound.ts, SDI_OUTBOUND_ALLOW): internal
 * destinations are refused before anything is written. A failed harvest answers one generic text per cause
 * class ("the source could not be reached" / "the source did not answer with a … document", 502), never a
 * network error or a remote exception text (the detail goes to the log), and its answer is true (issue 13
 * point 8): a source this request created is removed again with its failed run, so nothing was changed; an
 * existing source keeps its failed run (its history, as a scheduled run would record it) and the answer
 * names that run. A new HarvestInterval of an existing source is only saved when the harvest succeeds.
 *
 * Resource types: a remote CSW (http://www.opengis.net/cat/csw/2.0.2), an ISO 19139 document
 * (http://www.isotc211.org/2005/gmd and the …/schemas/2005/gmd/ spelling GeoNetwork advertises), WMS or WFS
 * capabilities (http://www.opengis.net/wms, http://www.opengis.net/wfs, …/wfs/2.0), and a DCAT feed
 * (http://www.w3.org/ns/dcat#).
 */
import { parseXml, type XmlElement } from '../../../src/xml/tree.js';
import type { Kvp } from '../../../src/ogc/kvp.js';
import { OgcError, invalid, missing } from '../../../src/ogc/errors.js';
import { xmlEscape as x, XML_DECLARATION } from '../../../src/xml/escape.js';
import { deleteFailedNewSource, findSource, saveSource, type HarvestSource, type SourceKind } from '../../../src/harvest/sources.js';
import { checkDestination, OutboundError, OutboundPolicy } from '../../../src/net/outbound.js';
import { HarvestBusyError, runHarvest } from '../../../src/harvest/run.js';
import { checkService, checkVersion, CSW_NS } from './request.js';
import type { CswContext } from './context.js';

export interface HarvestRequest {
  op: 'Harvest';
  service?: string;
  version?: string;
  source?: string;
  resourceType?: string;
  resourceFormat?: string;
  harvestInterval?: string;
  responseHandler?: string;
}

/** The Harvest request of a KVP request, or undefined when REQUEST is something else. */
export function readHarvestKvp(kvp: Kvp): HarvestRequest | undefined {
  if ((kvp.value('REQUEST') ?? '').trim().toLowerCase() !== 'harvest') return undefined;
  return {
    op: 'Harvest',
    service: kvp.value('SERVICE'),
    version: kvp.value('VERSION'),
    source: kvp.value('SOURCE'),
    resourceType: kvp.value('RESOURCETYPE'),
    resourceFormat: kvp.value('RESOURCEFORMAT'),
    harvestInterval: kvp.value('HARVESTINTERVAL'),
    responseHandler: kvp.value('RESPONSEHANDLER'),
  };
}

/** The Harvest request of an XML body, or undefined when the root is not csw:Harvest (or the XML is bad). */
export function readHarvestXml(body: string | XmlElement): HarvestRequest | undefined {
  let root: XmlElement;
  if (typeof body === 'string') {
    const head = body.replace(/^\uFEFF?\s*(<\?[^>]*\?>\s*|<!--[\s\S]*?-->\s*)*/, '').slice(0, 300);
    if (!/^<([\w.-]+:)?Harvest[\s>/]/.test(head)) return undefined;
    try {
      root = parseXml(body);
    } catch {
      return undefined; // the CSW XML reader reports it
    }
  } else root = body;
  if (root.name !== 'Harvest' || (root.ns !== CSW_NS && root.ns !== '')) return undefined;
  const text = (name: string) => {
    const el = root.children.find((c) => c.name === name);
    return el ? el.text.trim() : undefined;
  };
  return {
    op: 'Harvest',
    service: root.attrs['service'],
    version: root.attrs['version'],
    source: text('Source'),
    resourceType: text('ResourceType'),
    resourceFormat: text('ResourceFormat'),
    harvestInterval: text('HarvestInterval'),
    responseHandler: text('ResponseHandler'),
  };
}

const RESOURCE_TYPES: Array<[RegExp, SourceKind]> = [
  [/^http:\/\/www\.opengis\.net\/cat\/csw\/2\.0\.2\/?$/, 'csw'],
  [/^(http:\/\/www\.isotc211\.org\/2005\/gmd|http:\/\/www\.isotc211\.org\/schemas\/2005\/gmd)\/?$/, 'iso'],
  [/^http:\/\/www\.opengis\.net\/wms(\/1\.[13]\.[01])?\/?$/, 'wms'],
  [/^http:\/\/www\.opengis\.net\/wfs(\/2\.0)?\/?$/, 'wfs'],
  [/^http:\/\/www\.w3\.org\/ns\/dcat#?$/, 'dcat'],
];

export const HARVEST_RESOURCE_TYPES = [
  'http://www.opengis.net/cat/csw/2.0.2',
  'http://www.isotc211.org/2005/gmd',
  'http://www.opengis.net/wms',
  'http://www.opengis.net/wfs',
  'http://www.opengis.net/wfs/2.0',
  'http://www.w3.org/ns/dcat#',
];

const ISO_DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;

export function resourceKind(resourceType: string): SourceKind {
  const t = resourceType.trim();
  for (const [re, kind] of RESOURCE_TYPES) if (re.test(t)) return kind;
  throw invalid('ResourceType', `ResourceType '${t.slice(0, 200)}' is not supported (supported: ${HARVEST_RESOURCE_TYPES.join(', ')})`);
}

/** The interval as PostgreSQL reads it, at least one minute (the table's constraint), checked before any write. */
async function checkInterval(ctx: CswContext, interval: string): Promise<void> {
  let ok = false;
  try {
    ok = (await ctx.platform.pool.query<{ ok: boolean }>(`SELECT $1::interval >= interval '1 minute' AS ok`, [interval])).rows[0]!.ok;
  } catch (e) {
    if (!(e as { code?: string }).code?.startsWith('22')) throw e; // not representable
  }
  if (!ok) throw invalid('HarvestInterval', 'HarvestInterval must be at least one minute');
}

/** Validate, save the source, harvest it now; the csw:HarvestResponse document. */
export async function harvest(ctx: CswContext, req: HarvestRequest, log: (msg: string) => void = () => undefined): Promise<string> {
  checkService(req.service);
  checkVersion(req.version);
  if (req.responseHandler) throw new OgcError('OptionNotSupported', 'Asynchronous harvesting (ResponseHandler) is not supported: omit it to harvest synchronously', 'ResponseHandler');
  if (!req.source) throw missing('Source');
  if (!req.resourceType) throw missing('ResourceType');
  const kind = resourceKind(req.resourceType);
  let url: URL;
  try {
    url = new URL(req.source.trim());
  } catch {
    throw invalid('Source', `Source '${req.source.slice(0, 200)}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('Source', 'Source must be an http or https URL');
  if (req.resourceFormat && !/xml/i.test(req.resourceFormat)) {
    throw invalid('ResourceFormat', `ResourceFormat '${req.resourceFormat.slice(0, 100)}' is not supported (supported: application/xml)`);
  }
  let interval: string | undefined;
  if (req.harvestInterval) {
    if (!ISO_DURATION.test(req.harvestInterval.trim())) throw invalid('HarvestInterval', `HarvestInterval '${req.harvestInterval.slice(0, 50)}' is not an ISO 8601 duration (e.g. P1D, PT6H)`);
    interval = req.harvestInterval.trim();
  }
  const pool = ctx.platform.pool;
  const policy = new OutboundPolicy(ctx.platform.config.outboundAllow);
  const failed = (text: string, tail = 'nothing was changed') => new OgcError('NoApplicableCode', `Harvest failed: ${text}; ${tail}`, 'Source', 502);
  try {
    await checkDestination(url, policy);
  } catch (e) {
    if (!(e instanceof OutboundError)) throw e;
    log(`harvest of ${url.href} refused before any request: ${e.detail}`);
    throw failed('the source could not be reached');
  }
  if (interval !== undefined) await checkInterval(ctx, interval);
  const existing = await findSource(pool, kind, url.href);
  // A new source is saved with its interval; an existing one keeps its settings until the harvest succeeds.
  const source: HarvestSource = existing ?? (await saveSource(pool, { kind, url: url.href, scheduleInterval: interval }));
  let report;
  try {
    report = await runHarvest(pool, source.id, { trigger: 'csw', log, policy });
  } catch (e) {
    if (e instanceof HarvestBusyError) throw new OgcError('NoApplicableCode', `Source ${url.href} is being harvested by another request; try again later`, 'Source', 409);
    if (!existing) await deleteFailedNewSource(pool, source.id).catch(() => undefined);
    throw e;
  }
  if (report.status === 'failed') {
    const text = report.publicError ?? 'the harvest could not be completed';
    if (!existing && (await deleteFailedNewSource(pool, source.id))) throw failed(text);
    throw failed(text, `the catalogue was not changed; the failed attempt is recorded as harvest run ${report.runId} of source ${source.id}`);
  }
  if (existing && interval !== undefined) await saveSource(pool, { kind, url: url.href, scheduleInterval: interval });
  const inserted = report.items.filter((i) => i.action === 'created');
  return (
    XML_DECLARATION +
    `<csw:HarvestResponse xmlns:csw="${CSW_NS}" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ` +
    `xsi:schemaLocation="${CSW_NS} http://schemas.opengis.net/csw/2.0.2/CSW-publication.xsd">` +
    `<csw:TransactionResponse version="2.0.2">` +
    `<csw:TransactionSummary requestId="urn:sdi:harvest-run:${report.runId}">` +
    `<csw:totalInserted>${report.created}</csw:totalInserted><csw:totalUpdated>${report.updated}</csw:totalUpdated><csw:totalDeleted>0</csw:totalDeleted>` +
    `</csw:TransactionSummary>` +
    (inserted.length
      ? `<csw:InsertResult>${inserted.map((i) => `<csw:BriefRecord><dc:identifier>${x(i.identifier ?? i.remoteId)}</dc:identifier><dc:title>${x(i.title ?? '')}</dc:title></csw:BriefRecord>`).join('')}</csw:InsertResult>`
      : '') +
    `</csw:TransactionResponse></csw:HarvestResponse>`
  );
}
