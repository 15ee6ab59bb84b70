/**
 * The WMS 1.3.0 and 1.1.1 endpoint (GET KVP: GetCapabilities, GetMap, GetFeatureInfo, GetLegendGraphic), mounted at /wms: reads the request, runs the operation, and answers
 * errors as a ServiceExceptionReport 1.3.0 (text/xml) or, to a 1.1.1 request, 1.1.1 (application/vnd.ogc.se_xml), with their status, or, for GetMap with
 * EXCEPTIONS=INIMAGE / BLANK and a usable image size and format, as an image.
 */
import type { FastifyInstance } from 'fastify';
import type { Platform } from '../../../src/platform.js';
import { Kvp } from '../../../src/ogc/kvp.js';
import { publicBaseUrl } from '../../../src/ogc/public-url.js';
import { callerOf } from '../../../src/server/principal.js';
import { withCrsFacts } from '../../../src/crs/facts.js';
import { listRasterLayers } from '../../../src/catalog/rasters.js';
import { serviceExceptionReport111, serviceExceptionReport130, toWmsError, XML_EXCEPTION_TYPE, XML_EXCEPTION_TYPE_111 } from './errors.js';
import { imageRequestOf, readWmsKvp, requestVersion } from './kvp-reader.js';
import { capabilities } from './capabilities.js';
import { capabilities111, CAPABILITIES_111_TYPE } from './capabilities-111.js';
import { exceptionImage, getMap, legendGraphic, rasterLegendGraphic } from './get-map.js';
import { getFeatureInfo } from './get-feature-info.js';
import { wmsSettings } from './settings.js';
import type { WmsContext } from './context.js';

/** A Warning header value (code 299) naming the SLD parts not applied; header-safe (ASCII, quotes escaped), bounded. */
export function sldWarning(unsupported: readonly string[]): string {
  let list = unsupported.slice(0, 20).join(', ');
  if (unsupported.length > 20) list += `, and ${unsupported.length - 20} more`;
  const text = `SLD parts not supported, not applied: ${list}`.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, "'").slice(0, 2000);
  return `299 - "${text}"`;
}

export async function wmsRoutes(app: FastifyInstance, opts: { platform: Platform; mountPath: string }): Promise<void> {
  const { platform } = opts;
  const settings = wmsSettings(platform.config);

  app.get('/', async (req, reply) => {
    const kvp = Kvp.fromUrl(req.url);
    try {
      const caller = callerOf(req);
      const baseUrl = publicBaseUrl(req, platform.config);
      const layers = (await platform.layers.list()).filter((l) => l.geometry && platform.policy.canList(caller, l) && platform.policy.decide(caller, l, 'view').allowed);
      const rasters = (await listRasterLayers(platform.pool)).filter((r) => platform.policy.decideRaster(caller, r, 'view').allowed);
      const ctx: WmsContext = { platform, principal: caller, settings, baseUrl, serviceUrl: `${baseUrl}${opts.mountPath}`, layers, rasters, urlToken: req.urlAccessToken };
      const request = await withCrsFacts(() => readWmsKvp(kvp, layers, settings, platform.config.namespace.prefix, rasters));
      req.log.info({ wms: request.op }, 'wms request');
      switch (request.op) {
        case 'GetCapabilities':
          if (request.version === '1.1.1') return reply.type(CAPABILITIES_111_TYPE).send(await capabilities111(ctx));
          return reply.type('text/xml; charset=utf-8').send(await capabilities(ctx, request.language));
        case 'GetMap': {
          const image = await getMap(ctx, request);
          // SLD parts the renderer does not read are named to the client (RFC 7234 Warning 299), never dropped silently.
          const unsupported = request.sld?.unsupported ?? [];
          if (unsupported.length) reply.header('warning', sldWarning(unsupported));
          return reply.type(request.mime).send(image);
        }
        case 'GetLegendGraphic': {
          if (request.raster) return reply.type('image/png').send(await rasterLegendGraphic(ctx, request));
          const image = await legendGraphic(ctx, request);
          if (request.sld?.unsupported.length) reply.header('warning', sldWarning(request.sld.unsupported));
          return reply.type('image/png').send(image);
        }
        case 'GetFeatureInfo': {
          const r = await getFeatureInfo(ctx, request);
          return reply.type(r.contentType).send(r.body);
        }
      }
    } catch (e) {
      const err = toWmsError(e);
      if (err.status >= 500) req.log.error({ err: e }, 'wms request failed');
      if (/^(get)?map$/i.test(kvp.value('REQUEST') ?? '')) {
        const img = imageRequestOf(kvp, settings);
        if (img && img.exceptions !== 'xml') {
          const body = await exceptionImage(img, img.exceptions === 'inimage' ? `${err.code}: ${err.message}` : undefined);
          return reply.status(err.status >= 500 ? err.status : 200).type(img.mime).send(body);
        }
      }
      if (requestVersion(kvp) === '1.1.1') return reply.status(err.status).type(XML_EXCEPTION_TYPE_111).send(serviceExceptionReport111(err));
      return reply.status(err.status).type(XML_EXCEPTION_TYPE).send(serviceExceptionReport130(err));
    }
  });
}

