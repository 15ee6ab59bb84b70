/**
 * OGC API – Features Part 1 (core, GeoJSON, OpenAPI 3.0) and Part 2 (crs, bbox-crs, Content-Crs), mounted
 * at /ogcapi. Shares the feature query path with WFS: plans, SQL compiler, cursor and GeoJSON encoder.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../../../src/platform.js';
import type { Layer } from '../../../src/catalog/layers.js';
import { OgcError, invalid, fromDatabaseError } from '../../../src/ogc/errors.js';
import { problemJson } from '../../../src/ogc/exception-report.js';
import { publicBaseUrl } from '../../../src/ogc/public-url.js';
import { Kvp } from '../../../src/ogc/kvp.js';
import { callerOf } from '../../../src/server/principal.js';
import { releaseWhenResponseCloses } from '../../../src/server/release.js';
import { parseCrs, isYX, crsUri, CRS84_URI, crsRef, type CrsRef } from '../../../src/crs/identifiers.js';
import { layerExtentWgs84, layerTemporalExtent, GREGORIAN_TRS } from '../../../src/catalog/extent.js';
import { parseDatetime, DatetimeError } from '../../../src/filter/temporal.js';
import { compileCount, compileSelect } from '../../../src/query/compile.js';
import { featureCounter } from '../../../src/usage/context.js';
import { FeatureSession } from '../../../src/query/cursor.js';
import { geojsonFeatureSql, geojsonCollection } from '../../../src/formats/geojson.js';
import type { FeatureQuery } from '../../../src/query/plan.js';
import { planFeatureQuery, PlanError, type FeatureQuerySpec } from '../../../src/query/planner.js';
import { ogcapiPlanError } from './plan-error.js';
import type { Filter } from '../../../src/filter/ast.js';
import { encodeTarget } from '../../../src/formats/target.js';
import { openApiDocument } from './openapi.js';
import { registerEditRoutes, EDIT_CONFORMANCE } from './edit.js';
import { registerOptionsRoutes } from './options.js';
import { collectionSchema, REL_QUERYABLES, REL_SCHEMA, SCHEMA_MEDIA_TYPE } from './schema.js';

const CONFORMANCE = [
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson',
  'http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs',
];

/**
 * OGC API – Tiles 1.0 (OGC 20-057) conformance classes, declared when the maps service (services/maps/vector-tiles)
 * serves the collections' vector tilesets under this same /ogcapi: core, tileset (§7.4), tilesets-list (§7.5),
 * geodata-tilesets (§7.6: /collections/{id}/tiles) and the Mapbox Vector Tiles encoding (§7.11).
 */
const TILES_CONFORMANCE = [
  'http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core',
  'http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset',
  'http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list',
  'http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets',
  'http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt',
];
/** Link relations of OGC 20-057 §6.2 (the ones GDAL's OGCAPI driver looks for). */
const REL_TILESETS_VECTOR = 'http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector';
const REL_TILING_SCHEMES = 'http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes';

const ITEMS_PARAMS = new Set(['limit', 'offset', 'bbox', 'bbox-crs', 'crs', 'datetime', 'f']);
const FEATURE_PARAMS = new Set(['crs', 'f']);
const DOCUMENT_PARAMS = new Set(['f']);
const GEOJSON = 'application/geo+json';

export async function ogcApiRoutes(app: FastifyInstance, opts: { platform: Platform; mountPath: string }): Promise<void> {
  const { platform } = opts;
  const cfg = platform.config.features;
  const base = (req: FastifyRequest) => `${publicBaseUrl(req, platform.config)}${opts.mountPath}`;
  // The vector tiles are served under the same mount path by the maps service when this process runs it.
  const tiles = !platform.config.services || platform.config.services.includes('maps');
  const visible = async (req: FastifyRequest) => (await platform.layers.list()).filter((l) => platform.policy.canList(callerOf(req), l));
  const layerOr404 = async (req: FastifyRequest, id: string): Promise<Layer> => {
    const l = (await visible(req)).find((x) => x.name === id);
    // A restricted collection the caller may not see does not exist for it (no enumeration, issue 11).
    if (!l) throw new OgcError('NotFound', `Collection ${id} does not exist`, 'collectionId');
    return l;
  };
  const checkF = (kvp: Kvp) => {
    const f = kvp.value('f');
    if (f && !['json', 'geojson', 'application/json', 'application/geo+json'].includes(f.toLowerCase())) throw new OgcError('InvalidParameterValue', `Format f=${f} is not available (json only)`, 'f', 400);
  };
  const checkDocumentParams = (kvp: Kvp) => {
    checkKnownParams(kvp, DOCUMENT_PARAMS);
    checkF(kvp);
  };
  const crsListOf = (l: Layer) => {
    const native = l.geometry?.srid ?? l.defaultCrs;
    return [CRS84_URI, ...platform.crs.layerCrs(native, l.otherCrs).map(crsUri)];
  };
  /**
   * Part 1 /req/core/query-param-unknown and /req/core/query-param-invalid: a parameter the operation does not
   * define, or one given twice (which `limit` wins?), is a 400 naming the known ones (issue 13).
   */
  const checkKnownParams = (kvp: Kvp, known: Set<string>) => {
    for (const k of kvp.keys()) if (!known.has(k.toLowerCase())) throw invalid(k.toLowerCase(), `Unknown query parameter '${k.toLowerCase().slice(0, 40)}' (known: ${[...known].join(', ')})`);
    for (const k of kvp.repeated) throw invalid(k.toLowerCase(), `Parameter '${k.toLowerCase()}' is given more than once`);
  };
  /** Part 2 §6.2: crs and bbox-crs are URIs. */
  const checkCrsUris = (kvp: Kvp) => {
    for (const k of ['crs', 'bbox-crs']) {
      const v = kvp.value(k);
      if (v !== undefined && !/^https?:\/\//i.test(v)) throw invalid(k, `${k} must be a CRS URI such as http://www.opengis.net/def/crs/EPSG/0/2154, not '${v.slice(0, 80)}'`);
    }
  };
  /**
   * Parameters the items request refuses rather than ignores (issue 13): unknown or repeated ones, CRS values
   * that are not URIs (Part 2 §6.2), and `datetime` that is not an instant or interval of Part 1 §7.15.4, or on
   * a collection without a temporal property (never ignored). Returns the temporal filter of a valid datetime.
   */
  const checkStrictParams = (kvp: Kvp, l: Layer): Filter | undefined => {
    checkKnownParams(kvp, ITEMS_PARAMS);
    let temporal: Filter | undefined;
    if (kvp.has('datetime')) {
      try {
        temporal = parseDatetime(kvp.get('datetime') ?? '');
      } catch (e) {
        if (e instanceof DatetimeError) throw invalid('datetime', `datetime must be an RFC 3339 instant or interval (e.g. 2018-02-12T23:20:50Z, 2018-02-12, 2018-02-12/2018-03-18, ../2018-03-18, 2018-02-12/..): ${e.message}`);
        throw e;
      }
      if (!l.temporal) throw invalid('datetime', `Collection ${l.name} has no temporal property; datetime cannot be applied`);
    }
    checkCrsUris(kvp);
    return temporal;
  };

  const parseCrsParam = (l: Layer, value: string | undefined, locator: string): CrsRef => {
    if (!value) return crsRef(4326, 'crs84');
    const ref = parseCrs(value);
    if (!ref || !crsListOf(l).includes(ref.form === 'crs84' ? CRS84_URI : crsUri(ref.srid))) throw invalid(locator, `CRS ${value.slice(0, 80)} is not supported by collection ${l.name}`);
    return ref;
  };

  /**
   * `listed`: the entry of /collections. Only there is the vector tilesets link given: GDAL 3.6's OGCAPI driver,
   * opening /collections/{id}, prefers a tilesets link to the items, then fails to open the vector tiles (no layer
   * comes out; see README) without falling back to the items, so with the link there `ogrinfo OGCAPI:…/collections/{id}`
   * stopped working. OGC 20-057 §7.6 wants the link in both documents: put it back when GDAL reads the tiles.
   */
  const collectionDoc = async (req: FastifyRequest, l: Layer, listed = false) => {
    const b = base(req);
    const [ext, time] = await Promise.all([layerExtentWgs84(platform.pool, l), layerTemporalExtent(platform.pool, l)]);
    const extent = {
      ...(ext ? { spatial: { bbox: [[ext.minx, ext.miny, ext.maxx, ext.maxy]], crs: CRS84_URI } } : {}),
      // Part 1 §7.14.5 extent.temporal: [[first, last]] (null = open), Gregorian calendar, UTC.
      ...(time ? { temporal: { interval: [time], trs: GREGORIAN_TRS } } : {}),
    };
    return {
      id: l.name,
      title: l.title,
      description: l.abstract,
      keywords: l.keywords,
      itemType: 'feature',
      extent: ext || time ? extent : undefined,
      crs: crsListOf(l),
      storageCrs: crsUri(l.geometry?.srid ?? l.defaultCrs),
      links: [
        { href: `${b}/collections/${l.name}`, rel: 'self', type: 'application/json', title: 'This collection' },
        { href: `${b}/collections/${l.name}/items`, rel: 'items', type: GEOJSON, title: 'Features' },
        { href: `${b}/collections/${l.name}/schema`, rel: REL_SCHEMA, type: SCHEMA_MEDIA_TYPE, title: 'Schema of the features (JSON Schema; attribute aliases as titles)' },
        { href: `${b}/collections/${l.name}/queryables`, rel: REL_QUERYABLES, type: SCHEMA_MEDIA_TYPE, title: 'Queryable properties' },
        { href: `${publicBaseUrl(req, platform.config)}/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAMES=${platform.config.namespace.prefix}:${l.name}`, rel: 'describedby', type: 'application/gml+xml; version=3.2', title: 'GML application schema (WFS 2.0 DescribeFeatureType)' },
        ...(tiles && listed && l.geometry ? [{ href: `${b}/collections/${l.name}/tiles`, rel: REL_TILESETS_VECTOR, type: 'application/json', title: 'Vector tilesets (OGC API – Tiles)' }] : []),
      ],
    };
  };

  const fail = (req: FastifyRequest, reply: FastifyReply, e: unknown) => {
    const err = e instanceof OgcError ? e : fromDatabaseError(e, 'filter');
    if (err.status >= 500) req.log.error({ err: e }, 'ogcapi request failed');
    return reply.status(err.status).type('application/problem+json').send(problemJson(err, req.url));
  };

  app.get('/', async (req, reply) => {
    try {
      checkDocumentParams(Kvp.fromUrl(req.url));
      const b = base(req);
      return reply.type('application/json').send({
        title: platform.config.service.title,
        description: platform.config.service.abstract,
        links: [
          { href: `${b}/`, rel: 'self', type: 'application/json', title: 'This document' },
          { href: `${b}/api`, rel: 'service-desc', type: 'application/vnd.oai.openapi+json;version=3.0', title: 'OpenAPI definition' },
          { href: `${b}/conformance`, rel: 'conformance', type: 'application/json', title: 'Conformance classes' },
          { href: `${b}/collections`, rel: 'data', type: 'application/json', title: 'Feature collections' },
          ...(tiles ? [{ href: `${b}/tileMatrixSets`, rel: REL_TILING_SCHEMES, type: 'application/json', title: 'Tile matrix sets (OGC API – Tiles)' }] : []),
        ],
      });
    } catch (e) {
      return fail(req, reply, e);
    }
  });

  app.get('/conformance', async (req, reply) => {
    try {
      checkDocumentParams(Kvp.fromUrl(req.url));
      // Part 4 (editing) is declared to callers who may edit a collection only (issue 11).
      const editor = (await visible(req)).some((l) => platform.policy.decide(callerOf(req), l, 'edit').allowed);
      return reply.type('application/json').send({ conformsTo: [...CONFORMANCE, ...(tiles ? TILES_CONFORMANCE : []), ...(editor ? EDIT_CONFORMANCE : [])] });
    } catch (e) {
      return fail(req, reply, e);
    }
  });

  app.get('/api', async (req, reply) => reply.type('application/vnd.oai.openapi+json;version=3.0').send(openApiDocument(base(req), await visible(req), platform.config, (l) => platform.policy.decide(callerOf(req), l, 'edit').allowed)));

  app.get('/collections', async (req, reply) => {
    try {
      checkDocumentParams(Kvp.fromUrl(req.url));
      const b = base(req);
      const layers = await visible(req);
      return reply.type('application/json').send({
        links: [{ href: `${b}/collections`, rel: 'self', type: 'application/json', title: 'This document' }],
        crs: [CRS84_URI, ...platform.crs.offered.map(crsUri)],
        collections: await Promise.all(layers.map((l) => collectionDoc(req, l, true))),
      });
    } catch (e) {
      return fail(req, reply, e);
    }
  });

  app.get<{ Params: { collectionId: string } }>('/collections/:collectionId', async (req, reply) => {
    try {
      checkDocumentParams(Kvp.fromUrl(req.url));
      return reply.type('application/json').send(await collectionDoc(req, await layerOr404(req, req.params.collectionId)));
    } catch (e) {
      return fail(req, reply, e);
    }
  });

  for (const kind of ['schema', 'queryables'] as const) {
    app.get<{ Params: { collectionId: string } }>(`/collections/:collectionId/${kind}`, async (req, reply) => {
      try {
        checkKnownParams(Kvp.fromUrl(req.url), DOCUMENT_PARAMS);
        const f = Kvp.fromUrl(req.url).value('f');
        if (f && !['json', 'application/schema+json', 'application/json'].includes(f.toLowerCase())) throw new OgcError('InvalidParameterValue', `Format f=${f} is not available (json only)`, 'f', 400);
        const l = await layerOr404(req, req.params.collectionId);
        return reply.type(SCHEMA_MEDIA_TYPE).send(collectionSchema(l, `${base(req)}/collections/${l.name}`, kind));
      } catch (e) {
        return fail(req, reply, e);
      }
    });
  }

  /** The one planner, its errors as problem+json naming OGC API's parameters (a refusal is a 403). */
  const plan = (req: FastifyRequest, layer: Layer, spec: FeatureQuerySpec): FeatureQuery => {
    try {
      return planFeatureQuery(platform, callerOf(req), layer, spec);
    } catch (e) {
      throw e instanceof PlanError ? ogcapiPlanError(e) : e;
    }
  };

  // Part 2: coordinates follow the CRS's axis order (lat/lon for EPSG:4326); CRS84 is lon/lat.
  const target = (q: FeatureQuery) => encodeTarget(q, { prefix: platform.config.namespace.prefix, idPrefix: '', axisOrder: 'crs' });

  app.get<{ Params: { collectionId: string } }>('/collections/:collectionId/items', async (req, reply) => {
    let session: FeatureSession | undefined;
    try {
      const layer = await layerOr404(req, req.params.collectionId);
      const kvp = Kvp.fromUrl(req.url);
      const temporal = checkStrictParams(kvp, layer);
      checkF(kvp);
      const limitText = kvp.value('limit');
      if (limitText !== undefined && !/^\d+$/.test(limitText)) throw invalid('limit', 'limit must be a positive integer');
      // Out-of-range limits are clamped to the advertised bounds, as Part 1 allows.
      const limit = Math.max(1, Math.min(limitText ? Number(limitText) : cfg.oapiLimitDefault, cfg.oapiLimitMax));
      const offsetText = kvp.value('offset');
      if (offsetText !== undefined && !/^\d+$/.test(offsetText)) throw invalid('offset', 'offset must be a non-negative integer');
      const offset = offsetText ? Number(offsetText) : 0;
      if (offset > cfg.maxStartIndex) throw invalid('offset', `offset exceeds the maximum of ${cfg.maxStartIndex}`);
      const outputCrs = parseCrsParam(layer, kvp.value('crs'), 'crs');
      const filters: Filter[] = [];
      const bboxText = kvp.value('bbox');
      if (bboxText) filters.push(...bboxFilters(bboxText, parseCrsParam(layer, kvp.value('bbox-crs'), 'bbox-crs')));
      else if (kvp.value('bbox-crs')) parseCrsParam(layer, kvp.value('bbox-crs'), 'bbox-crs');
      const spatial: Filter | undefined = filters.length === 0 ? undefined : filters.length === 1 ? filters[0] : { kind: 'or', operands: filters };
      const q = plan(req, layer, {
        action: 'read',
        // bbox AND datetime (Part 1 §7.15.3, §7.15.4: each parameter restricts the result).
        filter: spatial && temporal ? { kind: 'and', operands: [spatial, temporal] } : (spatial ?? temporal),
        outputCrs,
        offset,
        limit,
      });
      const opts = { crs: platform.crs, locator: 'bbox' };
      session = await FeatureSession.open(platform.pool, cfg.statementTimeoutMs);
      const s = session;
      // Released when the response ends, even if the client leaves before the body is first read.
      releaseWhenResponseCloses(reply, () => s.close(false));
      // One row past the limit tells whether a next page exists without counting.
      const stmt = compileSelect(q, opts, (params) => geojsonFeatureSql(target(q), params, true), 1);
      const rows = await s.rows(stmt, Math.min(limit + 1, 2000));
      const self = `${base(req)}/collections/${layer.name}/items`;
      const keep = new URLSearchParams();
      for (const k of ['bbox', 'bbox-crs', 'crs', 'datetime']) if (kvp.value(k)) keep.set(k, kvp.value(k)!);
      // A token that came in the URL is carried on in the paging links (issue 11), for clients that follow them as given.
      if (req.urlAccessToken) keep.set('access_token', req.urlAccessToken);
      const link = (o: number) => {
        const p = new URLSearchParams(keep);
        p.set('limit', String(limit));
        if (o > 0) p.set('offset', String(o));
        return `${self}?${p.toString()}`;
      };
      let more = false;
      // Split the extra row off whichever batch carries it (read, not delivered: not a feature of the statistics).
      const countFeatures = featureCounter(layer.name);
      const all = limitRows([rows.first, rows.rest], limit, () => {
        more = true;
        countFeatures(-1);
      });
      const first = await all.next();
      const body = geojsonCollection(
        {
          tail: async (n) => {
            const matched = more ? await s.count(compileCount(q, opts)) : offset + n;
            const links = [{ href: link(offset), rel: 'self', type: GEOJSON, title: 'This page' }];
            if (more) links.push({ href: link(offset + limit), rel: 'next', type: GEOJSON, title: 'Next page' });
            if (offset > 0) links.push({ href: link(Math.max(0, offset - limit)), rel: 'prev', type: GEOJSON, title: 'Previous page' });
            links.push({ href: `${base(req)}/collections/${layer.name}`, rel: 'collection', type: 'application/json', title: layer.title });
            return { links, timeStamp: new Date().toISOString(), numberMatched: matched, numberReturned: n };
          },
        },
        first.done ? [] : first.value,
        (async function* () {
          for (;;) {
            const r = await all.next();
            if (r.done) return;
            yield r.value;
          }
        })(),
      );
      return reply
        .type(GEOJSON)
        .header('Content-Crs', `<${outputCrs.form === 'crs84' ? CRS84_URI : crsUri(outputCrs.srid)}>`)
        .send(Readable.from(s.closeAfter(body)));
    } catch (e) {
      await session?.close(false);
      return fail(req, reply, e);
    }
  });

  app.get<{ Params: { collectionId: string; featureId: string } }>('/collections/:collectionId/items/:featureId', async (req, reply) => {
    try {
      const layer = await layerOr404(req, req.params.collectionId);
      const kvp = Kvp.fromUrl(req.url);
      checkKnownParams(kvp, FEATURE_PARAMS);
      checkCrsUris(kvp);
      checkF(kvp);
      const outputCrs = parseCrsParam(layer, kvp.value('crs'), 'crs');
      const q = plan(req, layer, { action: 'read', filter: { kind: 'resourceId', ids: [req.params.featureId] }, outputCrs, limit: 1 });
      const stmt = compileSelect(q, { crs: platform.crs }, (params) => geojsonFeatureSql(target(q), params, true));
      const { first } = await FeatureSession.use(platform.pool, cfg.statementTimeoutMs, (session) => session.rows(stmt, 1));
      if (first.length === 0) throw new OgcError('NotFound', `Feature ${req.params.featureId} does not exist in ${layer.name}`, 'featureId');
      const feature = JSON.parse(first[0]!) as Record<string, unknown>;
      const b = base(req);
      feature.links = [
        { href: `${b}/collections/${layer.name}/items/${encodeURIComponent(req.params.featureId)}`, rel: 'self', type: GEOJSON },
        { href: `${b}/collections/${layer.name}`, rel: 'collection', type: 'application/json' },
      ];
      return reply
        .type(GEOJSON)
        .header('Content-Crs', `<${outputCrs.form === 'crs84' ? CRS84_URI : crsUri(outputCrs.srid)}>`)
        .send(JSON.stringify(feature));
    } catch (e) {
      return fail(req, reply, e);
    }
  });

  registerEditRoutes(app, { platform, base, layerOr404, crsListOf, fail });
  registerOptionsRoutes(app, platform);
}

/** bbox (4 or 6 numbers) in bbox-crs → BBOX filters; a box crossing the antimeridian becomes two. */
function bboxFilters(text: string, crs: CrsRef): Filter[] {
  const n = text.split(',').map((s) => Number(s.trim()));
  if ((n.length !== 4 && n.length !== 6) || n.some((v) => !Number.isFinite(v))) throw invalid('bbox', 'bbox must be 4 or 6 comma-separated numbers');
  let [minx, miny, maxx, maxy] = n.length === 4 ? n : [n[0]!, n[1]!, n[3]!, n[4]!];
  if (isYX(crs)) [minx, miny, maxx, maxy] = [miny!, minx!, maxy!, maxx!];
  if (miny! > maxy!) throw invalid('bbox', 'bbox lower corner must be below the upper corner');
  const srid = crs.srid;
  if (minx! > maxx!) {
    if (srid !== 4326) throw invalid('bbox', 'bbox lower corner must be left of the upper corner');
    return [
      { kind: 'bbox', envelope: { minx: minx!, miny: miny!, maxx: 180, maxy: maxy!, srid } },
      { kind: 'bbox', envelope: { minx: -180, miny: miny!, maxx: maxx!, maxy: maxy!, srid } },
    ];
  }
  return [{ kind: 'bbox', envelope: { minx: minx!, miny: miny!, maxx: maxx!, maxy: maxy!, srid } }];
}

/** Yield at most `limit` rows from batches; call onMore if a further row existed. */
async function* limitRows(sources: [string[], AsyncIterable<string[]>], limit: number, onMore: () => void): AsyncGenerator<string[]> {
  let left = limit;
  const take = (b: string[]): string[] => {
    if (b.length > left) onMore();
    const out = b.slice(0, left);
    left -= out.length;
    return out;
  };
  const f = take(sources[0]);
  if (f.length) yield f;
  for await (const b of sources[1]) {
    if (left <= 0) {
      if (b.length) onMore();
      continue;
    }
    const t = take(b);
    if (t.length) yield t;
  }
}
