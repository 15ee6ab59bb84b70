/**
 * The CSW 2.0.2 endpoint (GET KVP, POST XML in its declared encoding, POST form-encoded KVP, on one URL):
 * reads the request, runs the operation, renders errors as OWS 1.0.0 exception reports with their HTTP
 * status. The catalogue service (catalogueService below: /csw, /dcat and /records, and the scheduled harvests of other
 * catalogues) is mounted by the composition root (app/build-app.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../../src/platform.js';
import { Kvp, refuseRepeatedKeys, refuseUnknownKeys } from '../../src/ogc/kvp.js';
import { OgcError, toOgcError } from '../../src/ogc/errors.js';
import { owsExceptionReport10 } from '../../src/ogc/exception-report.js';
import { publicBaseUrl } from '../../src/ogc/public-url.js';
import { decodeXml } from '../../src/metadata/xml.js';
import { readCswKvp } from './csw/kvp-reader.js';
import { withCrsFacts } from '../../src/crs/facts.js';
import { readCswXml, cswXmlError } from './csw/xml-reader.js';
import { readCswBody } from './csw/body.js';
import { parseXmlOffThread } from '../../src/xml/parse-pool.js';
import { capabilities } from './csw/capabilities.js';
import { getRecordById, getRecords } from './csw/get-records.js';
import { describeRecord, getDomain } from './csw/describe-domain.js';
import { applyProfile, profileOffer } from './csw/profile.js';
import { catalogueLimits, XML_TYPE, type CswContext } from './csw/context.js';
import type { CswRequest } from './csw/request.js';
import { harvest, readHarvestKvp, readHarvestXml, type HarvestRequest } from './csw/harvest.js';
import { requireAdmin, WWW_AUTHENTICATE } from './csw/auth.js';
import { mayReadRecords, type Principal } from '../../src/access/policy.js';
import { recordVisibility } from '../../src/access/records.js';
import { callerOf } from '../../src/server/principal.js';
import { transaction } from './csw/transaction.js';
import { ATOM_TYPE, OPENSEARCH_DESCRIPTION_TYPE, openSearchDescription, openSearchFeed, readOpenSearch } from './csw/opensearch.js';
import type { Service } from '../../src/server/service.js';
import { startHarvestScheduler } from '../../src/harvest/scheduler.js';
import { OutboundPolicy } from '../../src/net/outbound.js';
import { dcatRoutes } from './dcat/index.js';
import { recordsRoutes } from './ogcapi-records/index.js';

/** The DCAT catalogue (Hydra-paged dcat:Catalog), the catalogue service's second endpoint: mounted at /dcat. */
export { dcatRoutes };

export const catalogueService: Service = {
  name: 'catalogue',
  async routes(app, platform) {
    await app.register(cswRoutes, { prefix: '/csw', platform, mountPath: '/csw' });
    await app.register(dcatRoutes, { prefix: '/dcat', platform, mountPath: '/dcat' });
    // OGC API – Records over the same records (issue 12).
    await app.register(recordsRoutes, { prefix: '/records', platform, mountPath: '/records' });
  },
  // Scheduled harvests of other catalogues (safe in every process: one advisory lock per source); SDI_HARVEST=0: none.
  start(platform, log) {
    if (!platform.config.catalogue.harvest) return { stop: async () => undefined };
    return startHarvestScheduler(platform.pool, { log: (m) => log.info(m), policy: new OutboundPolicy(platform.config.outboundAllow), tickMs: platform.config.catalogue.harvestTickMs });
  },
};

const BODY_LIMIT = 10 * 1024 * 1024;

/** The records this caller may not see (hidden), or see without their data links (issue 11). */
async function visibilityOf(platform: Platform, caller: Principal): Promise<Pick<CswContext, 'hiddenRecords' | 'linklessRecords'>> {
  const v = await recordVisibility(platform, caller);
  return { hiddenRecords: v.hidden, linklessRecords: v.withoutLinks };
}

/**
 * The KVP parameters of CSW 2.0.2 (OGC 07-006r1 Tables 47, 50, 52, 57, 59, 63, 66, 79 and §10.12) and of the
 * Harvest operation; anything else is refused (issue 13). LANGUAGE is the INSPIRE discovery service's.
 */
const CSW_PARAMETERS: ReadonlySet<string> = new Set([
  'SERVICE', 'VERSION', 'REQUEST', 'ACCEPTVERSIONS', 'ACCEPTFORMATS', 'SECTIONS', 'UPDATESEQUENCE', 'LANGUAGE',
  'NAMESPACE', 'NAMESPACES', 'TYPENAME', 'TYPENAMES', 'OUTPUTFORMAT', 'SCHEMALANGUAGE', 'OUTPUTSCHEMA', 'RESULTTYPE',
  'REQUESTID', 'STARTPOSITION', 'MAXRECORDS', 'ELEMENTSETNAME', 'ELEMENTNAME', 'CONSTRAINTLANGUAGE', 'CONSTRAINT',
  'CONSTRAINT_LANGUAGE_VERSION', 'SORTBY', 'DISTRIBUTEDSEARCH', 'HOPCOUNT', 'RESPONSEHANDLER', 'ID', 'PARAMETERNAME',
  'PROPERTYNAME', 'SOURCE', 'RESOURCETYPE', 'RESOURCEFORMAT', 'HARVESTINTERVAL',
]);

function charsetOf(contentType: string): string | undefined {
  return /charset\s*=\s*"?([A-Za-z0-9._-]+)/i.exec(contentType)?.[1];
}

export async function cswRoutes(app: FastifyInstance, opts: { platform: Platform; mountPath: string }): Promise<void> {
  const { platform } = opts;
  const limits = catalogueLimits(platform);

  // Bodies are read as bytes: an XML request is decoded in the encoding it declares (ISO-8859-1 happens).
  // The administrator's credential is checked as soon as the root element names Transaction or Harvest.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (req, payload, done) => {
    readCswBody(req, payload, BODY_LIMIT, (root) => requireAdmin(req, platform, root === 'Harvest' ? 'harvest' : 'csw-transaction')).then(
      (body) => done(null, body),
      (e: Error) => done(e),
    );
  });
  // Errors raised while the body is read (a refused credential, a body over the limit) in the CSW format.
  app.setErrorHandler((e, req, reply) => {
    const err = e instanceof OgcError ? e : toOgcError(e);
    const status = e instanceof OgcError ? err.status : Number((e as { statusCode?: number }).statusCode) || err.status;
    if (status >= 500) req.log.error({ err: e }, 'csw request failed');
    if (status === 401) reply.header('www-authenticate', WWW_AUTHENTICATE);
    const shown = e instanceof OgcError || status >= 500 ? err : new OgcError('NoApplicableCode', 'The request could not be read', 'request', status);
    return reply.status(status).type(XML_TYPE).send(owsExceptionReport10(shown));
  });

  const offer = profileOffer(platform.config.catalogue.profile);
  const handle = async (req: FastifyRequest, reply: FastifyReply, read: () => CswRequest | HarvestRequest | Promise<CswRequest | HarvestRequest>) => {
    try {
      const ctx: CswContext = { platform, serviceUrl: `${publicBaseUrl(req, platform.config)}${opts.mountPath}`, limits, ...(await visibilityOf(platform, callerOf(req))) };
      // What the deployment's profile offers (SDI_CSW_PROFILE): csw/profile.ts.
      const request = applyProfile(await read(), offer);
      // Record-bearing operations ask the policy with the caller (capabilities and DescribeRecord hold no record).
      if ((request.op === 'GetRecords' || request.op === 'GetRecordById' || request.op === 'GetDomain') && !mayReadRecords(platform.policy, callerOf(req))) {
        throw new OgcError('NoApplicableCode', 'You may not read the records of this catalogue', 'request', 403);
      }
      req.log.info({ csw: request.op }, 'csw request');
      switch (request.op) {
        case 'GetCapabilities':
          return reply.type(XML_TYPE).send(await capabilities(ctx, request));
        case 'DescribeRecord':
          return reply.type(XML_TYPE).send(describeRecord(request));
        case 'GetRecords':
          return reply.type(request.outputFormat === 'text/xml' ? 'text/xml; charset=utf-8' : XML_TYPE).send(await getRecords(ctx, request));
        case 'GetRecordById':
          return reply.type(request.outputFormat === 'text/xml' ? 'text/xml; charset=utf-8' : XML_TYPE).send(await getRecordById(ctx, request));
        case 'GetDomain':
          return reply.type(XML_TYPE).send(await getDomain(ctx, request));
        case 'Transaction':
          requireAdmin(req, platform, 'csw-transaction');
          return reply.type(XML_TYPE).send(await transaction(ctx, request));
        case 'Harvest':
          requireAdmin(req, platform, 'harvest');
          return reply.type(XML_TYPE).send(await harvest(ctx, request, (m) => req.log.info(m)));
      }
    } catch (e) {
      const err = toOgcError(e);
      if (!(e instanceof OgcError) || err.status >= 500) req.log.error({ err: e }, 'csw request failed');
      if (err.status === 401) reply.header('www-authenticate', WWW_AUTHENTICATE);
      return reply.status(err.status).type(XML_TYPE).send(owsExceptionReport10(err));
    }
  };

  // Repeated keys with different values are refused before either reader takes the first (issue 13). Readers
  // run under withCrsFacts: a CRS first seen in a constraint (a BBOX srsName) is probed without blocking, then
  // the request is read again (src/crs/facts.ts).
  const readKvp = (kvp: Kvp) => {
    refuseRepeatedKeys(kvp, [['TYPENAMES', 'TYPENAME'], ['NAMESPACE', 'NAMESPACES']]);
    refuseUnknownKeys(kvp, CSW_PARAMETERS, 'CSW');
    return withCrsFacts(() => readHarvestKvp(kvp) ?? readCswKvp(kvp, limits));
  };
  app.get('/', (req, reply) => handle(req, reply, () => readKvp(Kvp.fromUrl(req.url))));
  // OpenSearch (issue 12): the description, and its search answering an Atom feed through the GetRecords code.
  const openSearch = async (req: FastifyRequest, reply: FastifyReply, search: boolean) => {
    try {
      const ctx: CswContext = { platform, serviceUrl: `${publicBaseUrl(req, platform.config)}${opts.mountPath}`, limits, ...(await visibilityOf(platform, callerOf(req))) };
      if (!search) return reply.type(`${OPENSEARCH_DESCRIPTION_TYPE}; charset=utf-8`).send(openSearchDescription(ctx));
      const request = readOpenSearch(Kvp.fromUrl(req.url), limits.maxRecords);
      if (!mayReadRecords(platform.policy, callerOf(req))) throw new OgcError('NoApplicableCode', 'You may not read the records of this catalogue', 'request', 403);
      const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
      return reply.type(`${ATOM_TYPE}; charset=utf-8`).send(await openSearchFeed(ctx, request, `${ctx.serviceUrl}/opensearch/search${query}`));
    } catch (e) {
      const err = toOgcError(e);
      if (!(e instanceof OgcError) || err.status >= 500) req.log.error({ err: e }, 'opensearch request failed');
      return reply.status(err.status).type(XML_TYPE).send(owsExceptionReport10(err));
    }
  };
  app.get('/opensearch', (req, reply) => openSearch(req, reply, false));
  app.get('/opensearch/search', (req, reply) => openSearch(req, reply, true));
  app.post('/', (req, reply) =>
    handle(req, reply, async () => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const ct = String(req.headers['content-type'] ?? '');
      if (ct.toLowerCase().startsWith('application/x-www-form-urlencoded')) return readKvp(new Kvp(body.toString('latin1')));
      // POST without a body: the parameters are in the query string.
      if (body.length === 0 || body.toString('latin1').trim() === '') return readKvp(Kvp.fromUrl(req.url));
      const text = decodeXml(body, charsetOf(ct));
      const root = await parseXmlOffThread(text).catch((e: unknown) => {
        throw cswXmlError(e);
      });
      return withCrsFacts(() => readHarvestXml(root) ?? readCswXml(root, limits));
    }),
  );
}
