/**
 * WFS GetFeature (and the GetFeatureById stored query): typed request → FeatureQuery plans → one SQL
 * statement per query on one snapshot → GML 3.2 / 3.1.1 / 2, GeoJSON or CSV, streamed as rows arrive.
 */
import { Readable } from 'node:stream';
import { OgcError, invalid, fromDatabaseError } from '../../../src/ogc/errors.js';
import { parseCrs, crsRef, type CrsRef } from '../../../src/crs/identifiers.js';
import type { FeatureQuery } from '../../../src/query/plan.js';
import { planFeatureQuery, PlanError, type PlanParam } from '../../../src/query/planner.js';
import { compileCount, compileSelect } from '../../../src/query/compile.js';
import { FeatureSession } from '../../../src/query/cursor.js';
import { gmlFeatureSql, gmlBareFeatureSql, GML_NS, needsGeometryIdNumbering, numberGeometryIds } from '../../../src/formats/gml/feature.js';
import { geojsonFeatureSql, geojsonCollection } from '../../../src/formats/geojson.js';
import { csvHeader, csvRowSql } from '../../../src/formats/csv.js';
import { encodeTarget } from '../../../src/formats/target.js';
import { rowsToBuffer } from '../../../src/formats/chunk.js';
import type { Filter } from '../../../src/filter/ast.js';
import type { Layer } from '../../../src/catalog/layers.js';
import { xmlEscape as x, XML_DECLARATION } from '../../../src/xml/escape.js';
import { localId } from '../../../src/filter/compile-sql.js';
import { outputFormat, type OutputFormat } from './output-formats.js';
import type { WfsContext } from './context.js';
import type { GetFeatureRequest, WfsQuery, WfsVersion } from './request.js';

/** Largest GML page read whole before answering (see gmlBuffered); larger ones are counted first and streamed. */
const BUFFERED_GML_PAGE = 10_000;

export interface StreamedResponse {
  status: number;
  contentType: string;
  body: Readable | string;
  headers?: Record<string, string>;
  /**
   * Release what the body holds (the database session) when the response ends for any reason. The body's
   * own finally blocks do not run if the client goes away before the stream is first read.
   */
  release?: () => Promise<void>;
}

/** The CRS a query's output is in: SRSNAME if given (must be offered), else the layer's own. */
export function outputCrsFor(ctx: WfsContext, layer: Layer, srsName: string | undefined, version: WfsVersion): CrsRef {
  const native = layer.geometry?.srid ?? layer.defaultCrs;
  if (!srsName) return crsRef(native, version === '1.0.0' ? 'epsg' : 'urn');
  const ref = parseCrs(srsName);
  if (!ref) throw invalid('srsName', `Unknown CRS '${srsName.slice(0, 80)}'`);
  const offered = ctx.platform.crs.layerCrs(native, layer.otherCrs);
  if (!offered.includes(ref.srid)) throw invalid('srsName', `CRS ${srsName.slice(0, 80)} is not offered for ${layer.name}`);
  return ref;
}

/** Planner errors with WFS's parameter names as locators (a refusal is a 403 NoApplicableCode). */
const WFS_LOCATORS: Record<PlanParam, string> = { layer: 'typeNames', properties: 'PROPERTYNAME', sortBy: 'SORTBY', crs: 'srsName' };

export function wfsPlanError(e: PlanError): OgcError {
  if (e.kind === 'forbidden') return new OgcError('NoApplicableCode', e.message, WFS_LOCATORS.layer, e.status);
  return invalid(WFS_LOCATORS[e.param], e.message);
}

export function planQuery(ctx: WfsContext, layer: Layer, q: WfsQuery, version: WfsVersion): FeatureQuery {
  if (q.filter) refuseForeignResourceIds(ctx, layer, q.filter);
  const outputCrs = outputCrsFor(ctx, layer, q.srsName, version);
  const filters: Filter[] = [];
  if (q.filter) filters.push(q.filter);
  if (q.bbox) {
    if (q.bbox.srid !== undefined && !ctx.platform.crs.isKnown(q.bbox.srid)) throw invalid('BBOX', `Unknown CRS EPSG:${q.bbox.srid} in BBOX`);
    filters.push({ kind: 'bbox', envelope: q.bbox });
  }
  try {
    return planFeatureQuery(ctx.platform, ctx.principal, layer, {
      action: 'read',
      filter: filters.length === 0 ? undefined : filters.length === 1 ? filters[0] : { kind: 'and', operands: filters },
      outputCrs,
      properties: q.propertyNames,
      sortBy: q.sortBy,
    });
  } catch (e) {
    throw e instanceof PlanError ? wfsPlanError(e) : e;
  }
}

/**
 * ISO 19142 §7.9.2.4.1 / FES 2.0 §7.11: a resource id that names a feature of another feature type than the
 * query's is InvalidParameterValue (locator resourceId); an id of the query's type that does not exist stays
 * an empty result. Ids are `<type>.<local id>` (the gml:id this server writes); a bare id names no type.
 */
function refuseForeignResourceIds(ctx: WfsContext, layer: Layer, f: Filter): void {
  const walk = (n: Filter): void => {
    if (n.kind === 'resourceId') {
      for (const id of n.ids) {
        const dot = id.lastIndexOf('.');
        if (dot <= 0) continue;
        const prefix = id.slice(0, dot);
        const type = prefix.includes(':') ? prefix.slice(prefix.indexOf(':') + 1) : prefix;
        if (type !== layer.name && ctx.layers.some((l) => l.name === type)) {
          throw invalid('resourceId', `Resource id ${id.slice(0, 80)} names a feature of type ${type}, not of the query's type ${layer.name}`);
        }
      }
    } else if (n.kind === 'and' || n.kind === 'or') n.operands.forEach(walk);
    else if (n.kind === 'not') walk(n.operand);
  };
  walk(f);
}

function layerOf(ctx: WfsContext, name: string): Layer {
  const l = ctx.layers.find((x) => x.name === name);
  if (!l) throw invalid('typeNames', `Unknown feature type ${name}`);
  return l;
}

/** URL of the same request with another STARTINDEX (next / previous links). */
function pageUrl(ctx: WfsContext, req: GetFeatureRequest, startIndex: number, count: number, resultType: 'results' | 'hits' = 'results'): string {
  const p = new URLSearchParams();
  const ns = ctx.platform.config.namespace;
  p.set('SERVICE', 'WFS');
  p.set('VERSION', req.version);
  p.set('REQUEST', 'GetFeature');
  const q0 = req.queries[0]!;
  p.set('TYPENAMES', req.queries.map((q) => q.typeNames.map((t) => `${ns.prefix}:${t}`).join(',')).join(','));
  p.set('NAMESPACES', `xmlns(${ns.prefix},${ns.uri})`);
  if (q0.srsName) p.set('SRSNAME', q0.srsName);
  if (q0.filterText) p.set('FILTER', q0.filterText);
  else if (q0.filter?.kind === 'resourceId') p.set('RESOURCEID', q0.filter.ids.join(','));
  if (q0.bboxText) p.set('BBOX', q0.bboxText);
  if (q0.propertyNames) p.set('PROPERTYNAME', q0.propertyNames.join(','));
  if (q0.sortBy?.length) p.set('SORTBY', q0.sortBy.map((s) => `${s.name} ${s.descending ? 'DESC' : 'ASC'}`).join(','));
  if (req.outputFormat) p.set('OUTPUTFORMAT', req.outputFormat);
  if (resultType === 'hits') p.set('RESULTTYPE', 'hits');
  p.set('STARTINDEX', String(startIndex));
  p.set('COUNT', String(count));
  if (ctx.urlToken) p.set('access_token', ctx.urlToken);
  return `${ctx.serviceUrl}?${p.toString()}`;
}

export async function getFeature(ctx: WfsContext, req: GetFeatureRequest): Promise<StreamedResponse> {
  const cfg = ctx.platform.config.features;
  const format = outputFormat(req.outputFormat, req.version);
  if (req.startIndex > cfg.maxStartIndex) throw invalid('STARTINDEX', `STARTINDEX ${req.startIndex} exceeds the maximum of ${cfg.maxStartIndex}`);
  const pageSize = Math.min(req.count ?? cfg.maxFeatures, cfg.maxFeatures);

  if (req.byId !== undefined) return getFeatureById(ctx, req, format);

  // GML of WFS 1.1/2.0 follows the axis order of the CRS as named; WFS 1.0.0, GeoJSON and CSV are x/y.
  const axisOrder = format.kind === 'gml' && req.version !== '1.0.0' ? 'crs' : 'xy';
  const prefix = ctx.platform.config.namespace.prefix;
  const plans = req.queries.map((q) => planQuery(ctx, layerOf(ctx, q.typeNames[0]!), q, req.version));
  const session = await FeatureSession.open(ctx.platform.pool, cfg.statementTimeoutMs);
  try {
    const opts = { crs: ctx.platform.crs };
    // A GML page of bounded size is read whole before the header is written: when it is not full, its
    // length gives numberMatched and the COUNT query is not needed (most bbox requests of a client's view).
    const gmlBuffered = format.kind === 'gml' && plans.length === 1 && req.resultType === 'results' && pageSize <= BUFFERED_GML_PAGE;
    const needCounts = (format.kind === 'gml' && !gmlBuffered) || plans.length > 1 || req.resultType === 'hits';
    const counts = needCounts ? await Promise.all(plans.map((p) => session.count(compileCount(p, opts)))) : [];
    const matched = needCounts ? counts.reduce((a, b) => a + b, 0) : undefined;

    // Distribute the global STARTINDEX/COUNT window over the queries, in order.
    let skip = req.startIndex;
    let left = pageSize;
    for (let i = 0; i < plans.length; i++) {
      const p = plans[i]!;
      const n = needCounts ? counts[i]! : Infinity;
      p.offset = Math.min(skip, n === Infinity ? skip : n);
      skip -= p.offset;
      p.limit = Math.max(0, Math.min(left, n - p.offset));
      left -= n === Infinity ? left : p.limit;
    }
    const returned = needCounts ? plans.reduce((a, p) => a + (p.limit ?? 0), 0) : undefined;

    if (req.resultType === 'hits') {
      await session.close();
      return { status: 200, contentType: hitsContentType(format), body: hitsDocument(ctx, req, matched!, format) };
    }

    const idPrefixFor = (p: FeatureQuery) => `${p.layer.name}.`;
    const statements = plans.map((p) => {
      const t = encodeTarget(p, { prefix, idPrefix: idPrefixFor(p), axisOrder });
      return compileSelect(p, opts, (params) =>
        format.kind === 'gml' ? gmlFeatureSql(t, params, format.gml, true) : format.kind === 'geojson' ? geojsonFeatureSql(t, params, false) : csvRowSql(t, params),
      );
    });
    // Read the first batch before answering: a bad filter value becomes a 400, not a broken stream.
    const first = await session.rows(statements[0]!);
    const rest = async function* (): AsyncGenerator<string[]> {
      yield* first.rest;
      for (const s of statements.slice(1)) {
        const r = await session.rows(s);
        if (r.first.length) yield r.first;
        yield* r.rest;
      }
    };
    let body: AsyncGenerator<string | Buffer>;
    if (format.kind === 'gml' && gmlBuffered) {
      const page: string[][] = [first.first];
      for await (const b of rest()) page.push(b);
      const n = page.reduce((a, b) => a + b.length, 0);
      const m = n < pageSize && (n > 0 || req.startIndex === 0) ? req.startIndex + n : await session.count(compileCount(plans[0]!, opts));
      body = gmlCollection(ctx, req, format.gml, plans, m, n, pageSize, page.flat(), (async function* () {})());
    } else if (format.kind === 'gml') {
      body = gmlCollection(ctx, req, format.gml, plans, matched!, returned!, pageSize, first.first, rest());
    } else if (format.kind === 'geojson') {
      const p0 = plans[0]!;
      const crsMember = p0.outputCrs.srid !== 4326 || p0.outputCrs.form === 'urn' ? { crs: { type: 'name', properties: { name: p0.outputCrs.text } } } : undefined;
      body = geojsonCollection(
        {
          head: crsMember,
          tail: async (n) => {
            let m = matched;
            if (m === undefined) m = n < pageSize && (n > 0 || req.startIndex === 0) ? req.startIndex + n : await session.count(compileCount(plans[0]!, opts));
            return { numberMatched: m, numberReturned: n, timeStamp: new Date().toISOString() };
          },
        },
        first.first,
        rest(),
      );
    } else {
      body = (async function* () {
        yield '\uFEFF' + csvHeader(encodeTarget(plans[0]!, { prefix, idPrefix: idPrefixFor(plans[0]!), axisOrder: 'xy' }));
        if (first.first.length) yield rowsToBuffer(first.first);
        for await (const b of rest()) yield rowsToBuffer(b);
      })();
    }
    return { status: 200, contentType: format.contentType, body: Readable.from(session.closeAfter(body)), release: () => session.close(false) };
  } catch (e) {
    await session.close(false);
    throw fromDatabaseError(e);
  }
}

function nsDeclarations(ctx: WfsContext, gml: '3.2' | '3.1.1' | '2', version: WfsVersion): string {
  const ns = ctx.platform.config.namespace;
  const wfsNs = version === '2.0.0' ? 'http://www.opengis.net/wfs/2.0' : 'http://www.opengis.net/wfs';
  return `xmlns:wfs="${wfsNs}" xmlns:gml="${GML_NS[gml]}" xmlns:${ns.prefix}="${x(ns.uri)}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`;
}

function schemaLocation(ctx: WfsContext, req: GetFeatureRequest, gml: '3.2' | '3.1.1' | '2', typeNames: string[]): string {
  const ns = ctx.platform.config.namespace;
  const dft = `${ctx.serviceUrl}?SERVICE=WFS&VERSION=${req.version}&REQUEST=DescribeFeatureType&${req.version === '2.0.0' ? 'TYPENAMES' : 'TYPENAME'}=${typeNames.map((t) => `${ns.prefix}:${t}`).join(',')}${gml === '3.1.1' && req.version === '2.0.0' ? '&OUTPUTFORMAT=text/xml;+subtype=gml/3.1.1' : ''}`;
  const wfs =
    req.version === '2.0.0'
      ? 'http://www.opengis.net/wfs/2.0 http://schemas.opengis.net/wfs/2.0/wfs.xsd'
      : req.version === '1.1.0'
        ? 'http://www.opengis.net/wfs http://schemas.opengis.net/wfs/1.1.0/wfs.xsd'
        : 'http://www.opengis.net/wfs http://schemas.opengis.net/wfs/1.0.0/WFS-basic.xsd';
  const gmlLoc = gml === '3.2' ? ` http://www.opengis.net/gml/3.2 http://schemas.opengis.net/gml/3.2.1/gml.xsd` : '';
  return `${wfs}${gmlLoc} ${ns.uri} ${x(dft)}`;
}

async function* gmlCollection(
  ctx: WfsContext,
  req: GetFeatureRequest,
  gml: '3.2' | '3.1.1' | '2',
  plans: FeatureQuery[],
  matched: number,
  returned: number,
  pageSize: number,
  first: string[],
  rest: AsyncIterable<string[]>,
): AsyncGenerator<string | Buffer> {
  const typeNames = plans.map((p) => p.layer.name);
  const renumber = gml === '3.2' && plans.some((p) => p.includeGeometry && needsGeometryIdNumbering(p.layer.geometry?.type));
  const join = (rows: string[]) => rowsToBuffer(renumber ? rows.map(numberGeometryIds) : rows);
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  let head = XML_DECLARATION + `<wfs:FeatureCollection ${nsDeclarations(ctx, gml, req.version)} xsi:schemaLocation="${schemaLocation(ctx, req, gml, typeNames)}"`;
  if (req.version === '2.0.0') {
    head += ` timeStamp="${stamp}" numberMatched="${matched}" numberReturned="${returned}"`;
    if (req.startIndex + returned < matched) head += ` next="${x(pageUrl(ctx, req, req.startIndex + pageSize, pageSize))}"`;
    if (req.startIndex > 0) head += ` previous="${x(pageUrl(ctx, req, Math.max(0, req.startIndex - pageSize), pageSize))}"`;
    head += '>';
  } else if (req.version === '1.1.0') {
    head += ` timeStamp="${stamp}" numberOfFeatures="${returned}">`;
  } else {
    head += `><gml:boundedBy><gml:null>unknown</gml:null></gml:boundedBy>`;
  }
  yield head;
  if (first.length) yield join(first);
  for await (const batch of rest) yield join(batch);
  yield '</wfs:FeatureCollection>\n';
}

function hitsContentType(format: OutputFormat): string {
  return format.kind === 'geojson' ? format.contentType : format.kind === 'gml' ? format.contentType : 'application/gml+xml; version=3.2';
}

function hitsDocument(ctx: WfsContext, req: GetFeatureRequest, matched: number, format: OutputFormat): string {
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  if (format.kind === 'geojson') return JSON.stringify({ type: 'FeatureCollection', features: [], numberMatched: matched, numberReturned: 0, timeStamp: stamp }) + '\n';
  if (req.version !== '2.0.0') {
    return XML_DECLARATION + `<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs" xmlns:gml="http://www.opengis.net/gml" timeStamp="${stamp}" numberOfFeatures="${matched}"/>\n`;
  }
  const pageSize = Math.min(req.count ?? ctx.platform.config.features.maxFeatures, ctx.platform.config.features.maxFeatures);
  // CITE: a hits response with a count carries a `next` link to the first page of results.
  const next = req.count !== undefined && req.startIndex < matched ? ` next="${x(pageUrl(ctx, req, req.startIndex, pageSize))}"` : '';
  return (
    XML_DECLARATION +
    `<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ` +
    `xsi:schemaLocation="http://www.opengis.net/wfs/2.0 http://schemas.opengis.net/wfs/2.0/wfs.xsd" timeStamp="${stamp}" numberMatched="${matched}" numberReturned="0"${next}/>\n`
  );
}

/** GetFeatureById: the bare feature (root = the feature element), 404 when there is none. */
async function getFeatureById(ctx: WfsContext, req: GetFeatureRequest, format: OutputFormat): Promise<StreamedResponse> {
  const id = req.byId!;
  const dot = id.lastIndexOf('.');
  const layer = dot > 0 ? ctx.layers.find((l) => l.name === id.slice(0, dot).replace(/^.*:/, '')) : undefined;
  const notFound = () => new OgcError('NotFound', `No feature with identifier ${id}`, 'id');
  if (!layer || localId(layer, id) === undefined) throw notFound();
  const plan = planQuery(ctx, layer, { ...req.queries[0]!, typeNames: [layer.name], filter: { kind: 'resourceId', ids: [id] } }, req.version);
  plan.limit = 1;
  let first: string[];
  try {
    const t = encodeTarget(plan, { prefix: ctx.platform.config.namespace.prefix, idPrefix: `${layer.name}.`, axisOrder: format.kind === 'gml' ? 'crs' : 'xy' });
    const ns = ctx.platform.config.namespace;
    const decls = `xmlns:${ns.prefix}="${x(ns.uri)}" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="${x(ns.uri)} ${x(`${ctx.serviceUrl}?SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAMES=${ns.prefix}:${layer.name}`)} http://www.opengis.net/gml/3.2 http://schemas.opengis.net/gml/3.2.1/gml.xsd"`;
    const stmt = compileSelect(plan, { crs: ctx.platform.crs }, (params) => (format.kind === 'geojson' ? geojsonFeatureSql(t, params, false) : gmlBareFeatureSql(t, params, decls)));
    first = (await FeatureSession.use(ctx.platform.pool, ctx.platform.config.features.statementTimeoutMs, (session) => session.rows(stmt, 1))).first;
  } catch (e) {
    throw fromDatabaseError(e);
  }
  if (first.length === 0) throw notFound();
  if (format.kind === 'geojson') return { status: 200, contentType: format.contentType, body: first[0]! + '\n' };
  return { status: 200, contentType: 'application/gml+xml; version=3.2', body: XML_DECLARATION + numberGeometryIds(first[0]!) + '\n' };
}
