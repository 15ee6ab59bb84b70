/**
 * INSPIRE pre-defined download service (Technical Guidance for Download Services 3.1, Atom implementation),
 * as French platforms publish it next to their catalogue:
 *
 *  - GET /download/atom, /download/atom/service.xml — the top (download service) feed: one entry per published
 *    layer (vector and raster) with its INSPIRE identifier (code + namespace, the same as the resource
 *    identifier of its ISO record), a georss:polygon footprint, one category per CRS, a link to its dataset
 *    feed and one to its ISO record (CSW GetRecordById); feed links to the service record (describedby), the
 *    OpenSearch description (search) and the WFS (related, hybrid implementation);
 *  - GET /download/atom/<layer>.xml — the dataset feed: one entry per (format, CRS) pre-defined file, each
 *    linking the direct extract URL of the whole layer (/download/extract?layer=…&format=…&crs=EPSG:…);
 *  - GET /download/atom/opensearch.xml — the OpenSearch description with the INSPIRE templates (Describe
 *    Spatial Dataset, Get Spatial Dataset per media type, generic search in Atom and HTML) and one example
 *    query per dataset;
 *  - GET /download/atom/search — the OpenSearch operations: spatial_dataset_identifier_code (+ namespace) →
 *    the dataset feed; + crs → a redirect to the file; q → the matching entries of the service feed.
 *
 *  - GET /download/atom/files/<layer>/<format>/<crs> — a pre-defined file: the whole layer, built once per
 *    version of the layer (src/download/predefined.ts) and then served from disk with its length, whatever its
 *    size (the direct-download limits do not apply, the hard ones do).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../../src/platform.js';
import type { Layer } from '../../src/catalog/layers.js';
import { listRasterLayers, getRasterLayer, type RasterLayer } from '../../src/catalog/rasters.js';
import { layerExtentWgs84 } from '../../src/catalog/extent.js';
import type { Principal } from '../../src/access/policy.js';
import { refusalStatus } from '../../src/query/planner.js';
import { callerOf } from '../../src/server/principal.js';
import { publicBaseUrl } from '../../src/ogc/public-url.js';
import { xmlEscape as x, XML_DECLARATION } from '../../src/xml/escape.js';
import { parseCrs, crsUri } from '../../src/crs/identifiers.js';
import { FORMATS, type FormatId, type OutputFormat } from '../../src/download/formats.js';
import { DownloadError, problemDocument } from '../../src/download/errors.js';
import { createReadStream } from 'node:fs';
import { currentPredefined, predefinedFile } from '../../src/download/predefined.js';
import { contentDisposition, sendProblem } from './http.js';
import { getRecordByIdUrl, serviceRecordIdentifier, LICENCE } from '../../src/metadata/layer-records.js';

const NS_ATOM = 'http://www.w3.org/2005/Atom';
const NS_GEORSS = 'http://www.georss.org/georss';
const NS_DLS = 'http://inspire.ec.europa.eu/schemas/inspire_dls/1.0';
const NS_OS = 'http://a9.com/-/spec/opensearch/1.1/';
const ATOM_TYPE = 'application/atom+xml';
const LANG = 'fr';

/** Pre-defined files offered per layer kind (the download service can make more on demand). */
const ATOM_FORMATS: Record<'vector' | 'raster', FormatId[]> = { vector: ['gpkg', 'shp', 'geojson', 'gml'], raster: ['gtiff', 'cog'] };

/** One dataset of the service: a vector or raster layer, with what the feeds need. */
interface AtomDataset {
  kind: 'vector' | 'raster';
  name: string;
  title: string;
  abstract: string;
  updated: Date;
  /** WGS 84 [west, south, east, north], if known. */
  bbox: [number, number, number, number] | null;
  crs: number[];
  metadataIdentifier: string | null;
}

/** Media type of the file the extract route delivers for a format (multi-file formats come zipped). */
export const deliveredType = (f: OutputFormat) => (f.multiFile ? 'application/zip' : f.mediaType);

const stamp = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

export async function atomRoutes(app: FastifyInstance, opts: { platform: Platform; mountPath: string }): Promise<void> {
  const { platform } = opts;
  const config = platform.config;
  const nsUri = config.namespace.uri.replace(/\/+$/, '');
  const root = (req: FastifyRequest) => publicBaseUrl(req, config);
  const atomBase = (req: FastifyRequest) => `${root(req)}${opts.mountPath}/atom`;

  async function wgs84(l: Layer): Promise<AtomDataset['bbox']> {
    if (!l.geometry) return null;
    // The one WGS 84 extent, as WFS, OGC API and the catalogue records give it.
    const r = await layerExtentWgs84(platform.pool, l).catch(() => null);
    return r ? [r.minx, r.miny, r.maxx, r.maxy] : null;
  }

  const crsFor = (own: number) => [own, 4326, 4258].filter((s, i, a) => a.indexOf(s) === i && (s === own || platform.crs.offered.includes(s)));

  async function fromVector(l: Layer): Promise<AtomDataset> {
    const own = l.geometry?.srid || l.defaultCrs;
    return { kind: 'vector', name: l.name, title: l.title, abstract: l.abstract, updated: l.updatedAt, bbox: await wgs84(l), crs: crsFor(own), metadataIdentifier: l.metadataIdentifier };
  }

  function fromRaster(r: RasterLayer): AtomDataset {
    return { kind: 'raster', name: r.name, title: r.title, abstract: r.abstract, updated: r.updatedAt, bbox: r.extent4326, crs: crsFor(r.srid), metadataIdentifier: r.metadataIdentifier };
  }

  // Atom is a download service: a dataset is listed, described and served to callers who may download it.
  async function datasets(caller: Principal): Promise<AtomDataset[]> {
    const vectors = (await platform.layers.list()).filter((l) => platform.policy.decide(caller, l, 'download').allowed);
    const out = await Promise.all(vectors.map(fromVector));
    for (const r of await listRasterLayers(platform.pool)) if (platform.policy.decideRaster(caller, r, 'download').allowed) out.push(fromRaster(r));
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async function dataset(name: string, caller: Principal): Promise<AtomDataset | undefined> {
    const l = await platform.layers.get(name);
    if (l) return platform.policy.decide(caller, l, 'download').allowed ? fromVector(l) : undefined;
    const r = await getRasterLayer(platform.pool, name);
    return r && platform.policy.decideRaster(caller, r, 'download').allowed ? fromRaster(r) : undefined;
  }

  /**
   * A dataset the caller may see (view) but not download: 401 (anonymous) or 403 (issue 11). One it may not even
   * see is answered as one that does not exist (no enumeration of restricted names).
   */
  const exists = async (name: string, caller: Principal) => {
    const l = await platform.layers.get(name);
    if (l) return platform.policy.canList(caller, l);
    const r = await getRasterLayer(platform.pool, name);
    return !!r && platform.policy.decideRaster(caller, r, 'view').allowed;
  };
  const refused = (name: string, caller: Principal) => {
    const status = refusalStatus(caller);
    return new DownloadError(status, status === 401 ? 'unauthorized' : 'forbidden', `You may not download ${name.slice(0, 80)}`, 'layer');
  };

  /**
   * A pre-defined file is the whole layer, built once: served only to callers who may download all of it
   * (a caller whose right is restricted to a territory gets the extract service instead).
   */
  async function wholeLayerAllowed(name: string, caller: Principal): Promise<boolean> {
    const l = await platform.layers.get(name);
    if (!l) {
      // A raster layer: a territorial grant cuts its pixels (AccessDecision.territory), so not the whole file either.
      const r = await getRasterLayer(platform.pool, name);
      const d = r ? platform.policy.decideRaster(caller, r, 'download') : { allowed: true };
      return d.allowed && !('territory' in d && d.territory);
    }
    const d = platform.policy.decide(caller, l, 'download');
    return d.allowed && d.restriction === undefined;
  }

  const formatsOf = (d: AtomDataset) => ATOM_FORMATS[d.kind].map((id) => FORMATS.find((f) => f.id === id)!);
  const recordUrl = (req: FastifyRequest, id: string) => getRecordByIdUrl(`${root(req)}/csw`, id);
  // Pre-defined files: built once per layer version, then served from disk (src/download/predefined.ts); the
  // layers' records link the same URLs (src/metadata/distribution.ts).
  const extractUrl = (req: FastifyRequest, d: AtomDataset, f: OutputFormat, srid: number) =>
    `${atomBase(req)}/files/${encodeURIComponent(d.name)}/${f.id}/${srid}`;

  const link = (a: Record<string, string | number | undefined>) =>
    `<link${Object.entries(a)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => ` ${k}="${x(v)}"`)
      .join('')}/>`;
  const polygon = (b: AtomDataset['bbox']) =>
    b ? `<georss:polygon>${[[b[1], b[0]], [b[3], b[0]], [b[3], b[2]], [b[1], b[2]], [b[1], b[0]]].map(([lat, lon]) => `${lat!.toFixed(6)} ${lon!.toFixed(6)}`).join(' ')}</georss:polygon>` : '';
  const category = (srid: number) => `<category term="${x(crsUri(srid))}" label="${x(`${platform.crs.name(srid)} (EPSG:${srid})`)}"/>`;
  const feedHead = () => `${XML_DECLARATION}<feed xmlns="${NS_ATOM}" xmlns:georss="${NS_GEORSS}" xmlns:inspire_dls="${NS_DLS}" xml:lang="${LANG}">`;
  const common = () =>
    `<rights>${x(`${LICENCE.text} — ${LICENCE.href}`)}</rights>` +
    `<author><name>${x(config.service.providerName)}</name>${config.service.contactEmail ? `<email>${x(config.service.contactEmail)}</email>` : ''}</author>`;

  function serviceEntry(req: FastifyRequest, d: AtomDataset): string {
    const feed = `${atomBase(req)}/${encodeURIComponent(d.name)}.xml`;
    return (
      '<entry>' +
      `<title>${x(d.title)}</title>` +
      `<inspire_dls:spatial_dataset_identifier_code>${x(d.name)}</inspire_dls:spatial_dataset_identifier_code>` +
      `<inspire_dls:spatial_dataset_identifier_namespace>${x(nsUri)}</inspire_dls:spatial_dataset_identifier_namespace>` +
      (d.metadataIdentifier ? link({ href: recordUrl(req, d.metadataIdentifier), rel: 'describedby', type: 'application/xml', title: `Fiche de métadonnées ISO 19139 : ${d.title}` }) : '') +
      link({ href: feed, rel: 'alternate', type: ATOM_TYPE, hreflang: LANG, title: `Flux Atom du jeu de données ${d.title}` }) +
      `<id>${x(feed)}</id>` +
      `<updated>${stamp(d.updated)}</updated>` +
      (d.abstract ? `<summary>${x(d.abstract)}</summary>` : '') +
      polygon(d.bbox) +
      d.crs.map(category).join('') +
      '</entry>'
    );
  }

  /** The top feed, or (search) a feed of some of its entries under another id. */
  function serviceFeed(req: FastifyRequest, list: AtomDataset[], self?: string): string {
    const b = atomBase(req);
    const id = self ?? `${b}/service.xml`;
    const updated = list.reduce((m, d) => (d.updated > m ? d.updated : m), new Date(0));
    return (
      feedHead() +
      `<title>${x(`${config.service.title} — service de téléchargement simple (INSPIRE Atom)`)}</title>` +
      `<subtitle>${x(`Jeux de données de ${config.service.providerName} en téléchargement : un flux par jeu de données, un fichier par format et système de coordonnées.`)}</subtitle>` +
      link({ href: recordUrl(req, serviceRecordIdentifier(config, 'atom')), rel: 'describedby', type: 'application/xml', title: 'Métadonnées du service (ISO 19139)' }) +
      link({ href: id, rel: 'self', type: ATOM_TYPE, hreflang: LANG, title: 'Ce document' }) +
      link({ href: `${b}/opensearch.xml`, rel: 'search', type: 'application/opensearchdescription+xml', hreflang: LANG, title: 'Description OpenSearch du service' }) +
      link({ href: `${root(req)}/wfs?service=WFS&version=2.0.0&request=GetCapabilities`, rel: 'related', type: 'application/xml', title: 'Service WFS (accès direct)' }) +
      `<id>${x(id)}</id>` +
      common() +
      `<updated>${stamp(updated.getTime() ? updated : new Date())}</updated>` +
      list.map((d) => serviceEntry(req, d)).join('') +
      '</feed>'
    );
  }

  /** Sizes of the files already built (the `length` of their links), by format and CRS. */
  async function builtLengths(d: AtomDataset): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const f of formatsOf(d)) {
      for (const srid of d.crs) {
        const b = await currentPredefined(platform, d.name, f.id, srid).catch(() => undefined);
        if (b) out.set(`${f.id}/${srid}`, b.bytes);
      }
    }
    return out;
  }

  function datasetFeed(req: FastifyRequest, d: AtomDataset, lengths: Map<string, number> = new Map()): string {
    const b = atomBase(req);
    const id = `${b}/${encodeURIComponent(d.name)}.xml`;
    const entries: string[] = [];
    for (const f of formatsOf(d)) {
      for (const srid of d.crs) {
        if (f.fixedSrid && f.fixedSrid !== srid) continue;
        const url = extractUrl(req, d, f, srid);
        entries.push(
          '<entry>' +
            `<title>${x(`${d.title} — ${f.title} — ${platform.crs.name(srid)} (EPSG:${srid})`)}</title>` +
            link({ href: url, rel: 'alternate', type: deliveredType(f), hreflang: LANG, length: lengths.get(`${f.id}/${srid}`), title: `${d.name}.${f.multiFile ? 'zip' : f.extension} (${f.title}, EPSG:${srid})` }) +
            `<id>${x(url)}</id>` +
            `<updated>${stamp(d.updated)}</updated>` +
            `<content type="text">${x(`Jeu de données complet, ${f.title}, ${platform.crs.name(srid)} (EPSG:${srid}) : fichier pré-défini, refait quand la couche change.`)}</content>` +
            category(srid) +
            polygon(d.bbox) +
            '</entry>',
        );
      }
    }
    const typeDoc = d.kind === 'vector' ? `${root(req)}/ogcapi/collections/${encodeURIComponent(d.name)}` : undefined;
    return (
      feedHead() +
      `<title>${x(`${d.title} — téléchargement`)}</title>` +
      (d.abstract ? `<subtitle>${x(d.abstract)}</subtitle>` : '') +
      (d.metadataIdentifier ? link({ href: recordUrl(req, d.metadataIdentifier), rel: 'describedby', type: 'application/xml', title: 'Fiche de métadonnées ISO 19139' }) : '') +
      (typeDoc ? link({ href: typeDoc, rel: 'describedby', type: 'application/json', title: "Description du type d'objet (local, non harmonisé INSPIRE)" }) : '') +
      link({ href: id, rel: 'self', type: ATOM_TYPE, hreflang: LANG, title: 'Ce document' }) +
      link({ href: `${b}/service.xml`, rel: 'up', type: ATOM_TYPE, hreflang: LANG, title: 'Flux du service de téléchargement' }) +
      `<id>${x(id)}</id>` +
      common() +
      `<updated>${stamp(d.updated)}</updated>` +
      entries.join('') +
      '</feed>'
    );
  }

  function openSearch(req: FastifyRequest, list: AtomDataset[]): string {
    const b = atomBase(req);
    const dsParams = 'spatial_dataset_identifier_code={inspire_dls:spatial_dataset_identifier_code?}&spatial_dataset_identifier_namespace={inspire_dls:spatial_dataset_identifier_namespace?}';
    const url = (type: string, rel: string, template: string) => `<Url type="${x(type)}" rel="${rel}" template="${x(template)}"/>`;
    const getTypes = new Map<string, FormatId>();
    for (const k of ['vector', 'raster'] as const) for (const id of ATOM_FORMATS[k]) {
      const f = FORMATS.find((y) => y.id === id)!;
      if (!getTypes.has(deliveredType(f))) getTypes.set(deliveredType(f), id);
    }
    return (
      `${XML_DECLARATION}<OpenSearchDescription xmlns="${NS_OS}" xmlns:inspire_dls="${NS_DLS}">` +
      `<ShortName>${x('Atom SDI')}</ShortName>` +
      `<Description>${x(`Service de téléchargement simple INSPIRE de ${config.service.providerName} : recherche de jeux de données, description et téléchargement (Describe / Get Spatial Dataset).`)}</Description>` +
      url('application/opensearchdescription+xml', 'self', `${b}/opensearch.xml`) +
      url(ATOM_TYPE, 'results', `${b}/search?q={searchTerms?}&language={language?}`) +
      url('text/html', 'results', `${b}/search?q={searchTerms?}&language={language?}&f=html`) +
      url(ATOM_TYPE, 'describedby', `${b}/search?${dsParams}&language={language?}`) +
      [...getTypes].map(([type, id]) => url(type, 'results', `${b}/search?${dsParams}&crs={inspire_dls:crs?}&language={language?}&format=${id}`)).join('') +
      (config.service.contactEmail ? `<Contact>${x(config.service.contactEmail)}</Contact>` : '') +
      `<Tags>${x('INSPIRE téléchargement Atom')}</Tags>` +
      `<LongName>${x(`${config.service.title} — service de téléchargement simple (INSPIRE Atom)`)}</LongName>` +
      list
        .map(
          (d) =>
            `<Query role="example" inspire_dls:spatial_dataset_identifier_namespace="${x(nsUri)}" inspire_dls:spatial_dataset_identifier_code="${x(d.name)}" ` +
            `inspire_dls:crs="${x(crsUri(d.crs[0]!))}" language="${LANG}" title="${x(d.title)}" count="1"/>`,
        )
        .join('') +
      `<Developer>${x(config.service.providerName)}</Developer>` +
      `<Language>${LANG}</Language>` +
      `<Attribution>${x(`${LICENCE.text} — ${config.service.providerName}`)}</Attribution>` +
      '<SyndicationRight>open</SyndicationRight><AdultContent>false</AdultContent>' +
      '<OutputEncoding>UTF-8</OutputEncoding><InputEncoding>UTF-8</InputEncoding>' +
      '</OpenSearchDescription>'
    );
  }

  function html(req: FastifyRequest, list: AtomDataset[], q: string): string {
    const h = (s: string) => x(s);
    return (
      `<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>${h(`Recherche : ${q || 'tous les jeux de données'}`)}</title></head><body>` +
      `<h1>${h(config.service.title)} — téléchargement</h1><p>${list.length} jeu(x) de données${q ? ` pour « ${h(q)} »` : ''}.</p><ul>` +
      list
        .map(
          (d) =>
            `<li><a href="${h(`${atomBase(req)}/${encodeURIComponent(d.name)}.xml`)}">${h(d.title)}</a> (${h(d.name)}) : ` +
            formatsOf(d)
              .map((f) => `<a href="${h(extractUrl(req, d, f, d.crs[0]!))}">${h(f.title)}</a>`)
              .join(', ') +
            '</li>',
        )
        .join('') +
      '</ul></body></html>'
    );
  }

  const sendAtom = (reply: FastifyReply, xml: string) => reply.type(`${ATOM_TYPE}; charset=utf-8`).send(xml);
  const problem = (req: FastifyRequest, reply: FastifyReply, e: DownloadError) => reply.status(e.status).type('application/problem+json').send(problemDocument(e, req.url));

  const top = async (req: FastifyRequest, reply: FastifyReply) => sendAtom(reply, serviceFeed(req, await datasets(callerOf(req))));
  app.get('/atom', top);
  app.get('/atom/service.xml', top);

  app.get('/atom/opensearch.xml', async (req, reply) => reply.type('application/opensearchdescription+xml; charset=utf-8').send(openSearch(req, await datasets(callerOf(req)))));

  app.get('/atom/search', async (req, reply) => {
    const q: Record<string, string> = {};
    for (const [k, v] of new URL(req.url, 'http://x').searchParams) q[k.toLowerCase()] = v;
    const code = q.spatial_dataset_identifier_code?.trim();
    if (code) {
      const ns = q.spatial_dataset_identifier_namespace?.trim();
      const d = await dataset(code, callerOf(req));
      if (!d || (ns && ns.replace(/\/+$/, '') !== nsUri)) {
        return problem(req, reply, new DownloadError(404, 'unknown-dataset', `No dataset '${code.slice(0, 80)}'${ns ? ` in namespace ${ns.slice(0, 120)}` : ''}`, 'spatial_dataset_identifier_code'));
      }
      if (!q.crs) return sendAtom(reply, datasetFeed(req, d, await builtLengths(d))); // Describe Spatial Dataset
      // Get Spatial Dataset: redirect to the file.
      const ref = /^\d+$/.test(q.crs.trim()) ? { srid: Number(q.crs.trim()) } : parseCrs(q.crs.trim());
      if (!ref || !d.crs.includes(ref.srid)) {
        return problem(req, reply, new DownloadError(400, 'unknown-crs', `crs '${q.crs.slice(0, 80)}' is not one of the dataset's (${d.crs.map((s) => `EPSG:${s}`).join(', ')})`, 'crs'));
      }
      const formats = formatsOf(d);
      const f = q.format ? formats.find((y) => y.id === q.format || deliveredType(y) === q.format) : formats[0];
      if (!f) return problem(req, reply, new DownloadError(400, 'format-not-applicable', `format '${q.format!.slice(0, 40)}' is not offered for ${d.name} (${formats.map((y) => y.id).join(', ')})`, 'format'));
      return reply.redirect(extractUrl(req, d, f, ref.srid), 302);
    }
    const terms = (q.q ?? q.searchterms ?? '').trim().toLowerCase();
    const all = await datasets(callerOf(req));
    const words = terms.split(/\s+/).filter(Boolean);
    const hits = all.filter((d) => words.every((w) => `${d.name} ${d.title} ${d.abstract}`.toLowerCase().includes(w)));
    const accept = String(req.headers.accept ?? '');
    if (q.f === 'html' || (!q.f && /text\/html/.test(accept) && !/atom/.test(accept))) return reply.type('text/html; charset=utf-8').send(html(req, hits, terms));
    const self = `${atomBase(req)}/search?q=${encodeURIComponent(terms)}`;
    return sendAtom(reply, serviceFeed(req, hits, self));
  });

  app.get<{ Params: { file: string } }>('/atom/:file', async (req, reply) => {
    const m = /^(.+)\.xml$/.exec(req.params.file);
    const d = m ? await dataset(m[1]!, callerOf(req)) : undefined;
    if (!d && m && (await exists(m[1]!, callerOf(req)))) return problem(req, reply, refused(m[1]!, callerOf(req)));
    if (!d) return problem(req, reply, new DownloadError(404, 'unknown-dataset', `No dataset feed '${req.params.file.slice(0, 80)}' (feeds are /atom/<layer>.xml)`, 'layer'));
    return sendAtom(reply, datasetFeed(req, d, await builtLengths(d)));
  });

  // A pre-defined file: the whole layer in one format and CRS offered by its dataset feed.
  app.get<{ Params: { layer: string; format: string; crs: string } }>('/atom/files/:layer/:format/:crs', async (req, reply) => {
    try {
      const d = await dataset(req.params.layer, callerOf(req));
      if (!d && (await exists(req.params.layer, callerOf(req)))) throw refused(req.params.layer, callerOf(req));
      if (!d) throw new DownloadError(404, 'unknown-dataset', `No dataset '${req.params.layer.slice(0, 80)}'`, 'layer');
      if (!(await wholeLayerAllowed(d.name, callerOf(req)))) throw new DownloadError(403, 'forbidden', `You may download only part of ${d.name}: use the extract service`, 'layer');
      const f = formatsOf(d).find((y) => y.id === req.params.format);
      const srid = Number(req.params.crs);
      if (!f || !d.crs.includes(srid) || (f.fixedSrid && f.fixedSrid !== srid)) throw new DownloadError(404, 'unknown-file', `${d.name} is not offered as ${req.params.format.slice(0, 20)} in EPSG:${req.params.crs.slice(0, 10)} (see its dataset feed)`, 'format');
      const file = await predefinedFile(platform, d.name, f.id, srid, callerOf(req));
      return reply
        .type(file.mediaType)
        .header('content-length', String(file.bytes))
        .header('last-modified', new Date(file.builtAt).toUTCString())
        .header('content-disposition', contentDisposition(file.filename))
        .send(createReadStream(file.path));
    } catch (e) {
      return sendProblem(req, reply, e);
    }
  });
}
