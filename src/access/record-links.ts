/**
 * Records shown without their data links (issue 11, SDI_CATALOGUE_RESTRICTED=describe): the record of a restricted
 * layer stays in the catalogue for everyone — a partner can find that the data exists and whom to ask — but the
 * links that reach the data are taken out of what is sent to a caller who may not view the layer.
 *
 * The removal is a filter on the output, after the writers: whatever links a record carries and however they are
 * written (ISO 19139 gmd:onLine in distributionInfo, Dublin Core dct:references / dc:URI, Atom atom:link, and DCAT
 * distributions, which are made from the ISO onLine elements and so are filtered by stripping the document first),
 * a link goes when its protocol or its URL says it is a data link. Kept: the links of the catalogue itself (/csw,
 * /dcat), documentation and web pages (WWW:LINK), anything not recognised as a way to the data.
 */
import { parseXml, serializeXml, type XmlElement } from '../xml/tree.js';

/** Protocols (ISO gmd:protocol, DC scheme) of data access: OGC services, OGC APIs, downloads, Atom feeds. */
const DATA_PROTOCOL = /^(OGC:(WMS|WFS|WCS|WMTS|WPS|SOS|SensorThings|API|OGC-API)|OGC[ _-]?API|OGC:WFS-G|ESRI:(REST|ArcGIS)|WWW:DOWNLOAD|FILE:|ATOM|INSPIRE[ _:-]?Atom|application\/(atom\+xml|geo\+json|geopackage|zip|x-shapefile))/i;
/** Paths of the platform's data services, under any host and base path (the records' links carry the public base URL). */
const DATA_PATH = /(^|\/)(wfs|wms|wmts|wcs|ogcapi|download|tiles)(\/|$)/i;
/** A KVP request to an OGC service, wherever it is. */
const OGC_QUERY = /[?&]service=(WFS|WMS|WCS|WMTS)(&|$)/i;

/** Is this link (URL, and protocol or scheme when known) a way to the data? */
export function isDataLink(url: string | undefined, protocol: string | undefined): boolean {
  if (protocol && DATA_PROTOCOL.test(protocol.trim())) return true;
  if (!url) return false;
  try {
    const u = new URL(url.trim());
    return DATA_PATH.test(u.pathname) || OGC_QUERY.test(u.search);
  } catch {
    return false;
  }
}

const GMD = 'http://www.isotc211.org/2005/gmd';
const DC = 'http://purl.org/dc/elements/1.1/';
const DCT = 'http://purl.org/dc/terms/';
const ATOM = 'http://www.w3.org/2005/Atom';

/** Is `el` this element? By namespace, or by the usual prefix in a fragment written without declarations (the CSW response root declares them). */
const is = (el: XmlElement, ns: string, prefix: string, name: string) => el.name === name && (el.ns === ns || (el.ns === '' && el.prefix === prefix));

function descendantText(el: XmlElement, name: string): string | undefined {
  const stack = [el];
  while (stack.length) {
    const e = stack.pop()!;
    if (e.name === name) return textOf(e);
    stack.push(...e.children);
  }
  return undefined;
}
const textOf = (e: XmlElement): string => (e.text + e.children.map(textOf).join('')).trim();

/** Is this element a data link of one of the kinds records carry? */
function isDataLinkElement(el: XmlElement): boolean {
  if (is(el, GMD, 'gmd', 'onLine')) return isDataLink(descendantText(el, 'URL') ?? el.attrs.href, descendantText(el, 'protocol'));
  if (is(el, DCT, 'dct', 'references') || is(el, DC, 'dc', 'URI')) return isDataLink(textOf(el), el.attrs.scheme ?? el.attrs.protocol);
  if (is(el, ATOM, 'atom', 'link')) return el.attrs.rel !== 'alternate' && el.attrs.rel !== 'self' && isDataLink(el.attrs.href, el.attrs.type);
  return false;
}

function prune(el: XmlElement): number {
  const before = el.children.length;
  el.children = el.children.filter((c) => !isDataLinkElement(c));
  let removed = before - el.children.length;
  for (const c of el.children) removed += prune(c);
  return removed;
}

/**
 * The record (an ISO document, a csw:Record / Brief / Summary, an Atom entry, an rdf:RDF) without its data links.
 * The text is returned as it was when it has none (stored documents stay byte for byte); else it is re-serialised
 * (src/xml/tree.ts: namespace declarations kept where they were needed).
 */
export function withoutDataLinks(record: string | Buffer): string | Buffer {
  const text = typeof record === 'string' ? record : record.toString('utf8');
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch {
    // Not a document this filter can read: nothing of it is sent rather than its links.
    return '';
  }
  return prune(root) === 0 ? record : serializeXml(root);
}

/** The identifier of an ISO or Dublin Core record document (gmd:fileIdentifier, dc:identifier), read from its tree. */
function identifierOf(root: XmlElement): string | undefined {
  const iso = root.children.find((c) => c.name === 'fileIdentifier');
  if (iso) return textOf(iso);
  const dc = root.children.find((c) => c.name === 'identifier' && (c.ns === DC || c.prefix === 'dc'));
  return dc ? textOf(dc) : undefined;
}

/**
 * A stored document of the catalogue (DCAT pages read documents without their identifiers): without its data links
 * when it is the record of one of `identifiers`. Only documents that mention one of them are parsed.
 */
export function documentWithoutDataLinksIf(document: string, identifiers: ReadonlySet<string>): string {
  if (identifiers.size === 0) return document;
  let mentioned = false;
  for (const id of identifiers) if (document.includes(id)) mentioned = true;
  if (!mentioned) return document;
  // Service records name the datasets they operate on: their own fileIdentifier, read without parsing, clears them.
  const own = /<(?:[\w.-]+:)?fileIdentifier>\s*<(?:[\w.-]+:)?CharacterString>([^<]*)</.exec(document)?.[1]?.trim();
  if (own !== undefined && !identifiers.has(own)) return document;
  let root: XmlElement;
  try {
    root = parseXml(document);
  } catch {
    return document;
  }
  const id = identifierOf(root);
  if (id === undefined || !identifiers.has(id)) return document;
  return prune(root) === 0 ? document : serializeXml(root);
}

/**
 * A JSON record (OGC API – Records, a GeoJSON feature with `links`) without its data links: the links to itself,
 * its alternates, its collection and its licence stay; the others go when they are data links (by `ogc:protocol`
 * or URL).
 */
export function jsonRecordWithoutDataLinks<T extends { links?: unknown }>(record: T): T {
  if (!Array.isArray(record.links)) return record;
  const kept = record.links.filter((l: { href?: string; rel?: string; 'ogc:protocol'?: string; type?: string }) => {
    if (['self', 'alternate', 'collection', 'license'].includes(l.rel ?? '')) return true;
    return !isDataLink(l.href, l['ogc:protocol'] ?? l.type);
  });
  return { ...record, links: kept };
}
