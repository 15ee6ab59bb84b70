/**
 * The WFS endpoint (GET KVP and POST XML on one URL): reads the request, runs the operation, renders
 * errors as OWS exception reports with their HTTP status. Mounted at /wfs.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../../../src/platform.js';
import { Kvp } from '../../../src/ogc/kvp.js';
import { OgcError, toOgcError } from '../../../src/ogc/errors.js';
import { owsExceptionReport, serviceExceptionReport } from '../../../src/ogc/exception-report.js';
import { publicBaseUrl } from '../../../src/ogc/public-url.js';
import { callerOf } from '../../../src/server/principal.js';
import { releaseWhenResponseCloses } from '../../../src/server/release.js';
import { readWfsKvp } from './kvp-reader.js';
import { readWfsXml, wfsXmlError } from './xml-reader.js';
import { parseXmlOffThread } from '../../../src/xml/parse-pool.js';
import { withCrsFacts } from '../../../src/crs/facts.js';
import { typeNameResolver, type WfsContext } from './context.js';
import { capabilities } from './capabilities.js';
import { describeFeatureType } from './describe-feature-type.js';
import { getFeature } from './get-feature.js';
import { getPropertyValue } from './get-property-value.js';
import { listStoredQueries, describeStoredQueries } from './stored-queries.js';
import type { WfsRequest } from './request.js';
import { readTransaction, transactionResponse } from './transaction.js';
import { applyEdits, editAudit, editedLayers } from '../../../src/edit/apply.js';
import { refreshRecordsAfterEdit } from '../../../src/publishing/after-edit.js';
import { requestPart } from '../../../src/audit/hook.js';

const XML = 'text/xml; charset=utf-8';

export async function wfsRoutes(app: FastifyInstance, opts: { platform: Platform; mountPath: string }): Promise<void> {
  const { platform } = opts;

  app.addContentTypeParser(['text/xml', 'application/xml'], { parseAs: 'string', bodyLimit: 10 * 1024 * 1024 }, (_req, body, done) => done(null, body));

  const handle = async (req: FastifyRequest, reply: FastifyReply, read: (ctx: WfsContext) => WfsRequest | Promise<WfsRequest>) => {
    // Known before parsing succeeds, so that a 1.0.0 client gets its own exception format.
    let version = Kvp.fromUrl(req.url).value('VERSION') === '1.0.0' ? '1.0.0' : '2.0.0';
    try {
      const all = await platform.layers.list();
      const ctx: WfsContext = {
        platform,
        principal: callerOf(req),
        serviceUrl: `${publicBaseUrl(req, platform.config)}${opts.mountPath}`,
        urlToken: req.urlAccessToken,
        layers: all.filter((l) => platform.policy.canList(callerOf(req), l)),
      };
      const request = await read(ctx);
      version = request.version;
      req.log.info({ wfs: request.op, version }, 'wfs request');
      switch (request.op) {
        case 'GetCapabilities':
          return reply.type(XML).send(await capabilities(ctx, request.version));
        case 'DescribeFeatureType': {
          const r = describeFeatureType(ctx, request);
          return reply.type(r.contentType).send(r.body);
        }
        case 'ListStoredQueries':
          return reply.type(XML).send(listStoredQueries(ctx));
        case 'DescribeStoredQueries':
          return reply.type(XML).send(describeStoredQueries(ctx, request.ids));
        case 'GetFeature':
        case 'GetPropertyValue': {
          const r = request.op === 'GetFeature' ? await getFeature(ctx, request) : await getPropertyValue(ctx, request);
          if (r.release) releaseWhenResponseCloses(reply, r.release);
          return reply.status(r.status).type(r.contentType).send(r.body);
        }
        case 'Transaction': {
          const env = { pool: platform.pool, policy: platform.policy, crs: platform.crs, statementTimeoutMs: platform.config.features.statementTimeoutMs };
          const outcome = await applyEdits(env, ctx.principal, request.operations, { layer: 'typeName', property: 'Property', geometry: 'Geometry', filter: 'Filter' });
          const edited = editAudit(ctx.principal, 'wfs', outcome);
          req.log.info(edited, 'features edited');
          platform.audit?.record({ event: 'edit', principal: ctx.principal.login ?? null, ...requestPart(req, platform), status: 200, detail: edited });
          void refreshRecordsAfterEdit(platform.pool, platform.config, editedLayers(request.operations, outcome), (err) => req.log.warn({ err }, 'records not refreshed after an edit'));
          return reply.type(XML).send(transactionResponse(request.version, outcome));
        }
      }
    } catch (e) {
      const err = toOgcError(e);
      if (!(e instanceof OgcError) || err.status >= 500) req.log.error({ err: e }, 'wfs request failed');
      return reply
        .status(err.status)
        .type(XML)
        .send(version === '1.0.0' ? serviceExceptionReport(err) : owsExceptionReport(err, version));
    }
  };

  // A restricted layer named by a caller who may not see it is an unknown type name, as one that does not exist
  // (no enumeration of restricted names, issue 11; README "Rights"): only the layers it may list resolve.
  const resolver = (ctx: WfsContext) => typeNameResolver(ctx.layers, platform.config.namespace.uri, platform.config.namespace.prefix);

  // Readers run under withCrsFacts: a CRS first seen in this request (srsName, BBOX, a filter's geometry) is
  // probed without blocking, then the request is read again (src/crs/facts.ts).
  app.get('/', (req, reply) => handle(req, reply, (ctx) => withCrsFacts(() => readWfsKvp(Kvp.fromUrl(req.url), resolver(ctx)))));
  app.post('/', (req, reply) =>
    handle(req, reply, async (ctx) => {
      const body = typeof req.body === 'string' ? req.body : '';
      const ct = String(req.headers['content-type'] ?? '');
      if (ct.startsWith('application/x-www-form-urlencoded')) return withCrsFacts(() => readWfsKvp(new Kvp(body), resolver(ctx)));
      if (!body.trim()) {
        // POST without a body: parameters may be in the query string (QGIS adds SERVICE=WFS there).
        return withCrsFacts(() => readWfsKvp(Kvp.fromUrl(req.url), resolver(ctx)));
      }
      // Large bodies are parsed on a worker thread (issue 13 §4), small ones inline.
      const root = await parseXmlOffThread(body).catch((e: unknown) => {
        throw wfsXmlError(e);
      });
      if (root.name === 'Transaction') return withCrsFacts(() => readTransaction(root, resolver(ctx), ctx.layers));
      return withCrsFacts(() => readWfsXml(root, resolver(ctx)));
    }),
  );
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
}
