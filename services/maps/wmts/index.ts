/**
 * The WMTS 1.0.0 endpoint, mounted at /wmts: KVP (GET /wmts?SERVICE=WMTS&REQUEST=…) and RESTful (GET
 * /wmts/1.0.0/WMTSCapabilities.xml, GET /wmts/1.0.0/{layer}/{style}/{set}/{matrix}/{row}/{col}.{png|jpeg}, and
 * GetFeatureInfo at GET /wmts/1.0.0/{layer}/{style}/{set}/{matrix}/{row}/{col}/{j}/{i}.{json|geojson|xml|gml|html|txt},
 * OGC 07-057r7 §10). Errors are OWS 1.1 ExceptionReports (errors.ts). Tiles come from the WMS renderer
 * (get-tile.ts), with the layer list, styles and the caller of a WMS request, through the disk cache
 * (cached-tile.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../../../src/platform.js';
import { Kvp } from '../../../src/ogc/kvp.js';
import { publicBaseUrl } from '../../../src/ogc/public-url.js';
import { callerOf } from '../../../src/server/principal.js';
import { withCrsFacts } from '../../../src/crs/facts.js';
import { listRasterLayers } from '../../../src/catalog/rasters.js';
import { PlanError } from '../../../src/query/planner.js';
import { wmsSettings } from '../wms/settings.js';
import { WmsError } from '../wms/errors.js';
import type { WmsContext } from '../wms/context.js';
import { layerByName } from '../wms/kvp-reader.js';
import { toWmtsError, WmtsError, wmtsExceptionReport, WMTS_EXCEPTION_TYPE } from './errors.js';
import { featureInfoOf, INFO_EXTENSIONS, readTile, readWmtsKvp, WMTS_VERSION, type GetTileRequest } from './request.js';
import { wmtsCapabilities } from './capabilities.js';
import { cachedTile, tileCacheOf } from './cached-tile.js';
import { tileCacheControl } from '../../../src/tiles/cache-control.js';
import { tileFeatureInfo } from './get-tile.js';

/** The WMS renderer's errors in WMTS terms: an unknown style is InvalidParameterValue on STYLE (Table 28). */
function fromWms(e: unknown): unknown {
  if (!(e instanceof WmsError)) return e;
  if (e.code === 'StyleNotDefined') return new WmtsError('InvalidParameterValue', e.message, 'STYLE');
  if (e.status === 403) return new WmtsError('NoApplicableCode', e.message, 'LAYER', 403);
  if (e.code === 'InvalidCRS') return new WmtsError('InvalidParameterValue', e.message, 'TILEMATRIXSET');
  if (e.code === 'InvalidPoint') return new WmtsError('PointIJOutOfRange', e.message, e.locator);
  if (e.code === 'LayerNotQueryable') return new WmtsError('InvalidParameterValue', e.message, 'LAYER');
  if (e.code === 'MissingParameterValue' || e.code === 'InvalidParameterValue' || e.code === 'OperationNotSupported') return new WmtsError(e.code, e.message, e.locator, e.status);
  return new WmtsError('NoApplicableCode', e.message, undefined, e.status);
}

export async function wmtsRoutes(app: FastifyInstance, opts: { platform: Platform; mountPath: string }): Promise<void> {
  const { platform } = opts;
  const settings = wmsSettings(platform.config);

  async function context(req: FastifyRequest, layerName?: string): Promise<WmsContext & { serviceUrl: string }> {
    const caller = callerOf(req);
    const baseUrl = publicBaseUrl(req, platform.config);
    // The change feed vouches for the catalogue (no query on a cached tile, src/catalog/layers.ts).
    const layers = (await platform.layers.list({ notified: true })).filter((l) => l.geometry && platform.policy.canList(caller, l) && platform.policy.decide(caller, l, 'view').allowed);
    // Raster layers the caller may view (drawn by the same GetMap; a territorial grant's tiles are cut). A request
    // naming a feature layer needs none: that keeps the cached-tile path free of queries.
    const needRasters = layerName === undefined || !layerByName(layers, layerName, platform.config.namespace.prefix);
    const rasters = needRasters ? (await listRasterLayers(platform.pool)).filter((r) => platform.policy.decideRaster(caller, r, 'view').allowed) : [];
    return { platform, principal: caller, settings, baseUrl, serviceUrl: `${baseUrl}${opts.mountPath}`, layers, rasters };
  }


  function fail(req: FastifyRequest, reply: FastifyReply, e: unknown) {
    const err = toWmtsError(fromWms(e));
    if (err.status >= 500) req.log.error({ err: e }, 'wmts request failed');
    return reply.status(err.status).type(WMTS_EXCEPTION_TYPE).send(wmtsExceptionReport(err));
  }

  const cache = tileCacheOf({ platform });

  async function tile(ctx: WmsContext, req: FastifyRequest, reply: FastifyReply, request: GetTileRequest) {
    try {
      const t = await cachedTile(ctx, cache, request, req.headers['if-none-match']);
      // Which way the tile came (tests and operators read it); a tile drawn for a restricted caller stays private.
      reply.header('x-tile-cache', t.cache);
      reply.header('cache-control', tileCacheControl(t.cache, t.everyone));
      if (t.etag) reply.header('etag', t.etag);
      if (t.notModified) return reply.status(304).send();
      return reply.type(request.mime).send(t.bytes);
    } catch (e) {
      if (e instanceof PlanError && e.kind === 'forbidden') throw new WmtsError('NoApplicableCode', e.message, 'LAYER', 403);
      throw e;
    }
  }

  app.get('/', async (req, reply) => {
    try {
      const kvp = Kvp.fromUrl(req.url);
      const ctx = await context(req, kvp.get('LAYER'));
      const request = await withCrsFacts(() => readWmtsKvp(kvp, ctx.layers, platform.config.namespace.prefix, ctx.rasters));
      if (request.op === 'GetCapabilities') return reply.type('application/xml; charset=utf-8').send(await wmtsCapabilities(ctx));
      if (request.op === 'GetFeatureInfo') {
        const r = await tileFeatureInfo(ctx, request);
        return reply.type(r.contentType).send(r.body);
      }
      return await tile(ctx, req, reply, request);
    } catch (e) {
      return fail(req, reply, e);
    }
  });

  app.get(`/${WMTS_VERSION}/WMTSCapabilities.xml`, async (req, reply) => {
    try {
      return reply.type('application/xml; charset=utf-8').send(await wmtsCapabilities(await context(req)));
    } catch (e) {
      return fail(req, reply, e);
    }
  });

  // GetFeatureInfo, RESTful (§10.2.1, the ResourceURL resourceType="FeatureInfo" of the capabilities): the KVP
  // operation's answer, read from the path; the info format from the extension.
  app.get<{ Params: { layer: string; style: string; set: string; matrix: string; row: string; col: string; j: string; file: string } }>(
    `/${WMTS_VERSION}/:layer/:style/:set/:matrix/:row/:col/:j/:file`,
    async (req, reply) => {
      try {
        if (Object.keys(req.query as object).length) throw new WmtsError('InvalidParameterValue', 'A RESTful FeatureInfo URL takes no query parameters', Object.keys(req.query as object)[0]);
        const m = /^(\d+)\.([a-z]+)$/.exec(req.params.file);
        if (!m) throw new WmtsError('InvalidParameterValue', `${req.params.file.slice(0, 40)} is not {I}.{${Object.values(INFO_EXTENSIONS).join('|')}}`, 'I');
        const infoMime = Object.keys(INFO_EXTENSIONS).find((k) => INFO_EXTENSIONS[k] === m[2]);
        if (!infoMime) throw new WmtsError('InvalidParameterValue', `FeatureInfo extension ${m[2]!.slice(0, 20)} is not offered (${Object.values(INFO_EXTENSIONS).join(', ')})`, 'INFOFORMAT');
        const ctx = await context(req, req.params.layer);
        const p = req.params;
        // The tile's format does not matter to feature info: the tile is read as PNG.
        const tile = readTile(ctx.layers, platform.config.namespace.prefix, { layer: p.layer, style: p.style, ext: 'png', set: p.set, matrix: p.matrix, row: p.row, col: p.col }, ctx.rasters);
        const r = await tileFeatureInfo(ctx, featureInfoOf(tile, infoMime, m[1]!, p.j));
        return reply.type(r.contentType).send(r.body);
      } catch (e) {
        return fail(req, reply, e);
      }
    },
  );

  app.get<{ Params: { layer: string; style: string; set: string; matrix: string; row: string; file: string } }>(
    `/${WMTS_VERSION}/:layer/:style/:set/:matrix/:row/:file`,
    async (req, reply) => {
      try {
        if (Object.keys(req.query as object).length) throw new WmtsError('InvalidParameterValue', 'A RESTful tile URL takes no query parameters', Object.keys(req.query as object)[0]);
        const m = /^(\d+)\.([a-z]+)$/.exec(req.params.file);
        if (!m) throw new WmtsError('InvalidParameterValue', `Tile ${req.params.file.slice(0, 40)} is not {TileCol}.{png|jpeg}`, 'TILECOL');
        const ctx = await context(req, req.params.layer);
        const p = req.params;
        const request = readTile(ctx.layers, platform.config.namespace.prefix, { layer: p.layer, style: p.style, ext: m[2], set: p.set, matrix: p.matrix, row: p.row, col: m[1]! }, ctx.rasters);
        return await tile(ctx, req, reply, request);
      } catch (e) {
        return fail(req, reply, e);
      }
    },
  );
}
