/**
 * DCAT feed source (data.gouv.fr style): RDF/XML (or JSON-LD) pages of a dcat:Catalog, linked by Hydra
 * (`hydra:next` of a hydra:PartialCollectionView / PagedCollection). Each dcat:Dataset, DatasetSeries or
 * DataService (a service record with its endpoint URLs; not the access services of distributions) becomes a
 * Dublin Core csw:Record that src/metadata stores like any other: identifier (dct:identifier,
 * else the dataset IRI), title, description, keywords and theme labels, dates, publisher and contact,
 * language, licence and access rights, distributions as links (accessURL / downloadURL with their format and
 * title), landing page, and the footprint of dct:spatial (WKT, GeoJSON or a GML envelope) as a WGS 84 box.
 */
import { xmlEscape as x } from '../xml/escape.js';
import { fetchDocument, HarvestError } from './http.js';
import { RdfGraph, type RdfNode } from './rdf-graph.js';
import { readRdfXml, rootLocalName } from './rdf-xml.js';
import { readJsonLd, type JsonLdOptions } from './json-ld.js';
import type { Harvester, HarvestItem } from './types.js';

const DCAT = 'http://www.w3.org/ns/dcat#';
const DCT = 'http://purl.org/dc/terms/';
const FOAF = 'http://xmlns.com/foaf/0.1/';
const VCARD = 'http://www.w3.org/2006/vcard/ns#';
const HYDRA = 'http://www.w3.org/ns/hydra/core#';
const LOCN = 'http://www.w3.org/ns/locn#';
const SKOS = 'http://www.w3.org/2004/02/skos/core#';
const RDFS = 'http://www.w3.org/2000/01/rdf-schema#';
const MAX_PAGES = 100_000;

/** A name for a node: its label, name or title, else its IRI (blank nodes have none). */
function label(g: RdfGraph, n: RdfNode): string | undefined {
  for (const p of [`${SKOS}prefLabel`, `${RDFS}label`, `${FOAF}name`, `${VCARD}fn`, `${VCARD}organization-name`, `${DCT}title`, `${DCT}identifier`]) {
    const v = g.literal(n, p);
    if (v) return v;
  }
  return n.id.startsWith('_:') ? undefined : n.id;
}

/** Literal values, or the labels of the nodes referred to. */
function texts(g: RdfGraph, n: RdfNode, predicate: string): string[] {
  return g.values(n, predicate).flatMap((v) => {
    if ('literal' in v) return v.literal.trim() ? [v.literal.replace(/\s+/g, ' ').trim()] : [];
    const l = label(g, g.node(v.ref));
    return l ? [l] : [];
  });
}

/** Bounding box [w, s, e, n] of every coordinate pair in a WKT, GeoJSON or GML text (lon/lat assumed, except GML in EPSG:4326 URN order). */
export function footprint(text: string, datatype?: string): [number, number, number, number] | undefined {
  const t = text.trim();
  let pairs: Array<[number, number]> = [];
  if (t.startsWith('{')) {
    try {
      const coords: number[] = [];
      const walk = (c: unknown) => (Array.isArray(c) && typeof c[0] === 'number' ? coords.push(c[0], c[1] as number) : Array.isArray(c) && c.forEach(walk));
      walk((JSON.parse(t) as { coordinates?: unknown }).coordinates);
      for (let i = 0; i + 1 < coords.length; i += 2) pairs.push([coords[i]!, coords[i + 1]!]);
    } catch {
      return undefined;
    }
  } else if (t.startsWith('<')) {
    const latFirst = /EPSG::4326|EPSG\/0\/4326/.test(t);
    const nums = [...t.matchAll(/<(?:\w+:)?(?:lowerCorner|upperCorner|posList|pos|coordinates)[^>]*>([^<]*)</g)].flatMap((m) => m[1]!.trim().split(/[\s,]+/).map(Number));
    for (let i = 0; i + 1 < nums.length; i += 2) pairs.push(latFirst ? [nums[i + 1]!, nums[i]!] : [nums[i]!, nums[i + 1]!]);
  } else {
    const body = t.replace(/^<[^>]*>\s*/, '').replace(/^SRID=\d+;/i, '');
    for (const m of body.matchAll(/(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s+(-?\d+(?:\.\d+)?(?:e-?\d+)?)/gi)) pairs.push([Number(m[1]), Number(m[2])]);
    if (datatype && /gml/i.test(datatype)) pairs = [];
  }
  pairs = pairs.filter(([lon, lat]) => Number.isFinite(lon) && Number.isFinite(lat) && Math.abs(lon) <= 180 && Math.abs(lat) <= 90);
  if (!pairs.length) return undefined;
  return [Math.min(...pairs.map((p) => p[0])), Math.min(...pairs.map((p) => p[1])), Math.max(...pairs.map((p) => p[0])), Math.max(...pairs.map((p) => p[1]))];
}

const lastSegment = (iri: string) => iri.replace(/[/#]+$/, '').split(/[/#]/).pop() ?? iri;

/** One dcat:Dataset → a csw:Record document (Dublin Core). */
export function datasetRecord(g: RdfGraph, d: RdfNode): { remoteId: string; document: string } {
  const identifier = g.literal(d, `${DCT}identifier`) ?? (d.id.startsWith('_:') ? '' : d.id);
  const el = (name: string, value: string | undefined, attrs = '') => (value ? `<${name}${attrs}>${x(value)}</${name}>` : '');
  const parts: string[] = [];
  parts.push(el('dc:identifier', identifier));
  parts.push(el('dc:title', g.literal(d, `${DCT}title`)));
  const service = d.types.has(`${DCAT}DataService`) && !d.types.has(`${DCAT}Dataset`);
  parts.push(el('dc:type', service ? 'service' : d.types.has(`${DCAT}DatasetSeries`) ? 'series' : 'dataset'));
  for (const k of new Set([...g.literals(d, `${DCAT}keyword`), ...texts(g, d, `${DCAT}theme`)])) parts.push(el('dc:subject', k));
  const distributions = g.objects(d, `${DCAT}distribution`);
  const formats = new Set(distributions.flatMap((dist) => [...texts(g, dist, `${DCT}format`), ...texts(g, dist, `${DCAT}mediaType`)]).map(lastSegment));
  for (const f of formats) parts.push(el('dc:format', f));
  parts.push(el('dct:modified', g.literal(d, `${DCT}modified`) ?? g.literal(d, `${DCT}issued`)));
  parts.push(el('dct:abstract', g.literal(d, `${DCT}description`)));
  parts.push(el('dct:issued', g.literal(d, `${DCT}issued`)));
  parts.push(el('dct:created', g.literal(d, `${DCT}created`)));
  for (const p of texts(g, d, `${DCT}publisher`)) parts.push(el('dc:publisher', p));
  for (const p of texts(g, d, `${DCT}creator`)) parts.push(el('dc:creator', p));
  for (const c of g.objects(d, `${DCAT}contactPoint`)) {
    const name = g.literal(c, `${VCARD}organization-name`) ?? g.literal(c, `${VCARD}fn`);
    if (name) parts.push(el('dc:contributor', name));
  }
  const lang = g.values(d, `${DCT}language`).map((v) => ('ref' in v ? lastSegment(v.ref) : v.literal.trim()))[0];
  parts.push(el('dc:language', lang?.toLowerCase()));
  // A licence is an IRI, a literal, or a (blank) dct:LicenseDocument known by its label.
  const licences = new Set([d, ...distributions].flatMap((n) => texts(g, n, `${DCT}license`)));
  for (const l of licences) parts.push(el('dct:license', l));
  for (const r of texts(g, d, `${DCT}accessRights`)) parts.push(el('dct:accessRights', r));
  for (const r of texts(g, d, `${DCT}rights`)) parts.push(el('dc:rights', r));
  for (const dist of distributions) {
    const title = g.literal(dist, `${DCT}title`) ?? g.literal(dist, `${DCT}description`);
    const format = [...texts(g, dist, `${DCT}format`), ...texts(g, dist, `${DCAT}mediaType`)].map(lastSegment)[0];
    const urls = [...new Set([...g.refs(dist, `${DCAT}downloadURL`), ...g.refs(dist, `${DCAT}accessURL`), ...g.literals(dist, `${DCAT}downloadURL`), ...g.literals(dist, `${DCAT}accessURL`)])];
    for (const u of urls) {
      if (!/^https?:\/\//i.test(u)) continue;
      parts.push(el('dc:URI', u, `${format ? ` protocol="${x(format)}"` : ''}${title ? ` name="${x(title)}"` : ''}`));
    }
  }
  for (const l of g.refs(d, `${DCAT}landingPage`)) if (/^https?:\/\//i.test(l)) parts.push(el('dct:references', l, ' scheme="WWW:LINK"'));
  // A data service: its endpoints (the scheme, OGC:WMS / OGC:WFS…, is read from the URL by src/metadata).
  for (const l of new Set([...g.refs(d, `${DCAT}endpointURL`), ...g.refs(d, `${DCAT}endpointDescription`)])) {
    if (/^https?:\/\//i.test(l)) parts.push(el('dc:URI', l));
  }
  let box: [number, number, number, number] | undefined;
  for (const s of g.objects(d, `${DCT}spatial`)) {
    for (const p of [`${DCAT}bbox`, `${LOCN}geometry`]) {
      for (const v of g.values(s, p)) if ('literal' in v) box ??= footprint(v.literal);
    }
  }
  if (box) {
    parts.push(`<ows:WGS84BoundingBox><ows:LowerCorner>${box[0]} ${box[1]}</ows:LowerCorner><ows:UpperCorner>${box[2]} ${box[3]}</ows:UpperCorner></ows:WGS84BoundingBox>`);
  }
  const document =
    `<csw:Record xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dct="${DCT}" xmlns:ows="http://www.opengis.net/ows">` +
    parts.join('') +
    `</csw:Record>`;
  return { remoteId: identifier, document };
}

/** The datasets of one RDF/XML page and the URL of the next page (Hydra), if any. */
export async function readDcatPage(text: string, url: string): Promise<{ items: HarvestItem[]; next?: string }> {
  // No DTD (entity declarations are a way to blow a document up); an rdf:RDF root; and its end tag, as the
  // streaming parser does not report elements left open at the end of a cut-off page.
  if (/<!DOCTYPE/i.test(text.slice(0, 4096))) throw new HarvestError(`${url}: not readable RDF/XML (a DTD is not accepted)`);
  const root = rootLocalName(text);
  if (root !== 'RDF') throw new HarvestError(`${url}: not an rdf:RDF document (root ${root ?? 'none'})`);
  if (!/<\/(?:[A-Za-z_][\w.-]*:)?RDF\s*>\s*$/.test(text.slice(-256))) throw new HarvestError(`${url}: not readable RDF/XML (the document ends before </rdf:RDF>)`);
  let graph;
  try {
    graph = await readRdfXml(text, url);
  } catch (e) {
    throw new HarvestError(`${url}: not readable RDF/XML (${(e as Error).message.slice(0, 300)})`);
  }
  return pageOfGraph(graph, url);
}

/** The datasets of one JSON-LD page and the URL of the next page (Hydra), if any. */
export async function readDcatJsonLdPage(text: string, url: string, options: Omit<JsonLdOptions, 'base'> = {}): Promise<{ items: HarvestItem[]; next?: string }> {
  let graph;
  try {
    graph = await readJsonLd(JSON.parse(text), { ...options, base: url });
  } catch (e) {
    throw new HarvestError(`${url}: not readable JSON-LD (${(e as Error).message.slice(0, 300)})`);
  }
  return pageOfGraph(graph, url);
}

function pageOfGraph(g: RdfGraph, url: string): { items: HarvestItem[]; next?: string } {
  // Data services described as the access service of a distribution belong to that dataset, not on their own.
  const accessServices = new Set([...g.nodes.values()].flatMap((n) => g.refs(n, `${DCAT}accessService`)));
  const datasets = [...g.nodes.values()].filter(
    (n) => n.types.has(`${DCAT}Dataset`) || n.types.has(`${DCAT}DatasetSeries`) || (n.types.has(`${DCAT}DataService`) && !accessServices.has(n.id)),
  );
  const items: HarvestItem[] = datasets.map((d, i) => {
    const r = datasetRecord(g, d);
    return r.remoteId ? r : { remoteId: `${url}#${i + 1}`, error: 'dcat:Dataset without dct:identifier nor IRI' };
  });
  let next: string | undefined;
  for (const n of g.nodes.values()) {
    const v = [...g.refs(n, `${HYDRA}next`), ...g.literals(n, `${HYDRA}next`), ...g.refs(n, `${HYDRA}nextPage`), ...g.literals(n, `${HYDRA}nextPage`)][0];
    if (v) next = new URL(v, url).href;
  }
  return { items, next };
}

export const harvestDcat: Harvester = async function* (source, ctx) {
  const visited = new Set<string>();
  let url: string | undefined = source.url;
  while (url) {
    if (visited.has(url)) throw new HarvestError(`${url}: hydra:next leads back to a page already read`);
    if (visited.size >= MAX_PAGES) throw new HarvestError(`more than ${MAX_PAGES} pages`);
    visited.add(url);
    const res = await fetchDocument(url, { timeoutMs: ctx.timeoutMs, policy: ctx.policy, headers: { accept: 'application/rdf+xml, application/xml;q=0.9, application/ld+json;q=0.8' } });
    const json = /json/i.test(res.contentType) || /^\s*[[{]/.test(res.text);
    const page = json ? await readDcatJsonLdPage(res.text, res.url, { policy: ctx.policy, timeoutMs: ctx.timeoutMs, warn: ctx.log }) : await readDcatPage(res.text, res.url);
    ctx.log(`dcat ${url}: ${page.items.length} dataset(s)`);
    yield page.items;
    url = page.next;
  }
};
