/**
 * ISO 19139 (or Dublin Core) metadata record → DCAT / GeoDCAT-AP RDF, serialised as RDF/XML, Turtle or JSON-LD.
 *
 * One small triple model (Graph) is built per record, then written by three serialisers over the same
 * triples, so the three forms always carry the same graph. Literals are cleaned once when they enter the
 * model (characters XML 1.0 cannot carry are dropped) and IRIs are normalised once (characters an IRI cannot
 * hold are percent-encoded), so that every serialisation parses back to exactly the same triples.
 *
 * Mapping (GeoDCAT-AP 2 / DCAT-AP 2, what data.gouv.fr's udata reads, see shared/research/csw.md §b.ii):
 * - the resource is a dcat:Dataset (dcat:DatasetSeries as well for series), or a dcat:DataService for services;
 *   its URI is minted from the metadata identifier: `{base}/dcat/records/{fileIdentifier}#resource`, and the
 *   metadata record itself is a dcat:CatalogRecord at `{base}/dcat/records/{fileIdentifier}` (foaf:primaryTopic,
 *   and foaf:isPrimaryTopicOf back, as GeoNetwork's GeoDCAT-AP output does; udata issue #3571).
 * - dct:identifier = the metadata identifier (unique in the catalogue, so harvesters' remote ids never collide);
 *   the resource identifiers (gmd:citation/gmd:identifier, codeSpace/code) are adms:identifier.
 * - dct:title, dct:description, dcat:keyword, dcat:theme (ISO topic categories, INSPIRE code list URIs),
 *   dct:spatial / dct:Location with locn:geometry as WKT (gsp:wktLiteral) and GeoJSON (the IANA media type
 *   datatype udata reads) plus dcat:bbox, dct:temporal / dct:PeriodOfTime, dct:issued / dct:created /
 *   dct:modified, dct:publisher (foaf:Organization), dcat:contactPoint (vcard:Organization with vcard:hasEmail),
 *   dct:license and dct:accessRights (gmx:Anchor URIs when present), dct:rights for the other texts,
 *   dcat:distribution for each online resource (dcat:accessURL, dcat:downloadURL for downloads, dct:title,
 *   dct:format, dcat:mediaType when the file type is plain, dct:conformsTo the OGC service type for
 *   WMS/WFS/…), foaf:page / dcat:landingPage for information links, dct:language (EU authority table),
 *   dct:provenance (lineage), dct:conformsTo (reference systems given as URIs).
 */
import { DataFactory, Writer } from 'n3';
import { parseXml, type XmlElement } from '../xml/tree.js';
import { xmlEscape, xmlEscapeText } from '../xml/escape.js';
import { all, anchorHref, codes, value } from './xml.js';
import { extractIso, isIsoRoot } from './iso19139.js';
import { extractDublinCore } from './dublin-core.js';
import { stripXmlDeclaration } from './xml.js';
import type { Box, MetadataRecord, OnlineResource, Party } from '../records/record.js';
import { euFileType } from './distribution.js';

// ---------------------------------------------------------------------------------------------------------
// Namespaces

export const RDF_NS = {
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  rdfs: 'http://www.w3.org/2000/01/rdf-schema#',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
  dcat: 'http://www.w3.org/ns/dcat#',
  dct: 'http://purl.org/dc/terms/',
  foaf: 'http://xmlns.com/foaf/0.1/',
  vcard: 'http://www.w3.org/2006/vcard/ns#',
  locn: 'http://www.w3.org/ns/locn#',
  gsp: 'http://www.opengis.net/ont/geosparql#',
  adms: 'http://www.w3.org/ns/adms#',
  skos: 'http://www.w3.org/2004/02/skos/core#',
  hydra: 'http://www.w3.org/ns/hydra/core#',
  geodcat: 'http://data.europa.eu/930/',
} as const;

const { rdf, rdfs, xsd, dcat, dct, foaf, vcard, locn, gsp, adms, skos, hydra } = RDF_NS;

export const DCAT_SCHEMA_URI = 'http://www.w3.org/ns/dcat#';
export const GEODCAT_SCHEMA_URI = 'http://data.europa.eu/930/';

const GEOJSON_DATATYPE = 'https://www.iana.org/assignments/media-types/application/vnd.geo+json';
const WKT_DATATYPE = `${gsp}wktLiteral`;
const IANA = 'http://www.iana.org/assignments/media-types/';

// ---------------------------------------------------------------------------------------------------------
// Triple model

export type Term = { kind: 'iri'; value: string } | { kind: 'bnode'; value: string } | { kind: 'literal'; value: string; lang?: string; datatype?: string };
export type Subject = Extract<Term, { kind: 'iri' | 'bnode' }>;

export interface Triple {
  s: Subject;
  p: string;
  o: Term;
}

/** Characters XML 1.0 cannot carry (and lone surrogates) are dropped from literals, for every serialisation. */
const cleanLiteral = (s: string) => s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '');

/** Percent-encode what an IRI cannot hold (spaces, <>"{}|\^`, controls); undefined when it is not absolute. */
export function normaliseIri(raw: string): string | undefined {
  let s = raw.trim();
  if (!s) return undefined;
  if (/^www\./i.test(s)) s = `http://${s}`;
  // A scheme, and no white space unless the scheme is a usual one (so that "Conditions: …" is text, not an IRI).
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(s)?.[1];
  if (!scheme || (!/^(https?|ftp|mailto|urn|file)$/i.test(scheme) && /\s/.test(s))) return undefined;
  return s.replace(/[\u0000-\u0020<>"{}|\\^`\u007F]/g, (c) => encodeURIComponent(c));
}

export class Graph {
  readonly triples: Triple[] = [];
  private readonly keys = new Set<string>();
  private bnodes = 0;

  constructor(private readonly bnodePrefix = 'b') {}

  iri(v: string): Subject {
    return { kind: 'iri', value: v };
  }

  bnode(): Subject {
    return { kind: 'bnode', value: `${this.bnodePrefix}${++this.bnodes}` };
  }

  add(s: Subject, p: string, o: Term | undefined): void {
    if (!o) return;
    if (o.kind === 'literal') o = { ...o, value: cleanLiteral(o.value) };
    const key = `${s.kind}:${s.value}\u0000${p}\u0000${o.kind}:${o.value}\u0000${o.kind === 'literal' ? `${o.lang ?? ''}\u0000${o.datatype ?? ''}` : ''}`;
    if (this.keys.has(key)) return;
    this.keys.add(key);
    this.triples.push({ s, p, o });
  }

  /** A plain or language-tagged literal; nothing for an empty value. */
  text(s: Subject, p: string, v: string | undefined, lang?: string): void {
    if (v === undefined || v.trim() === '') return;
    this.add(s, p, lang ? { kind: 'literal', value: v, lang } : { kind: 'literal', value: v });
  }

  typed(s: Subject, p: string, v: string | undefined, datatype: string): void {
    if (v === undefined || v === '') return;
    this.add(s, p, { kind: 'literal', value: v, datatype });
  }

  /** An IRI object when `v` is an absolute IRI; returns whether it was added. */
  link(s: Subject, p: string, v: string | undefined): boolean {
    const iri = v === undefined ? undefined : normaliseIri(v);
    if (!iri) return false;
    this.add(s, p, { kind: 'iri', value: iri });
    return true;
  }

  type(s: Subject, cls: string): void {
    this.add(s, `${rdf}type`, { kind: 'iri', value: cls });
  }

  merge(other: Graph): void {
    for (const t of other.triples) this.add(t.s, t.p, t.o);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Record → graph

export interface DcatOptions {
  /** Public base URL of the platform (no trailing slash): record URIs are `{base}/dcat/records/{id}`. */
  baseUrl: string;
}

/** The record's URIs: the CatalogRecord (metadata) and the described resource. */
export function recordUris(baseUrl: string, identifier: string): { record: string; resource: string } {
  const record = `${baseUrl}/dcat/records/${encodeURIComponent(identifier)}`;
  return { record, resource: `${record}#resource` };
}

/** ISO 639-2/B → ISO 639-1 (language tags of literals). */
const LANG_TAG: Record<string, string> = {
  fre: 'fr', eng: 'en', ger: 'de', spa: 'es', ita: 'it', dut: 'nl', por: 'pt', bre: 'br', oci: 'oc', baq: 'eu', cat: 'ca', cos: 'co',
  cze: 'cs', gre: 'el', chi: 'zh', rum: 'ro', slo: 'sk', wel: 'cy', gle: 'ga', pol: 'pl', swe: 'sv', dan: 'da', fin: 'fi',
};
/** ISO 639-2/B → the EU authority table code (ISO 639-2/T, upper case). */
const EU_LANG: Record<string, string> = { fre: 'FRA', ger: 'DEU', dut: 'NLD', cze: 'CES', gre: 'ELL', chi: 'ZHO', rum: 'RON', slo: 'SLK', wel: 'CYM', baq: 'EUS' };
const euLanguage = (l: string) => (/^[a-z]{3}$/.test(l) && !['zxx', 'mul', 'und'].includes(l) ? `http://publications.europa.eu/resource/authority/language/${EU_LANG[l] ?? l.toUpperCase()}` : undefined);

/** An ISO date or timestamp → a typed literal: xsd:date for a date (or midnight UTC), else xsd:dateTime. */
function dateLiteral(v: string | undefined): Term | undefined {
  if (!v) return undefined;
  const t = v.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) return { kind: 'literal', value: t, datatype: `${xsd}date` };
  const m = /^(\d{4}-\d{2}-\d{2})T00:00:00(?:\.0+)?(?:Z|[+-]00:?00)$/.exec(t);
  if (m) return { kind: 'literal', value: m[1]!, datatype: `${xsd}date` };
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(t)) return { kind: 'literal', value: t, datatype: `${xsd}dateTime` };
  return undefined;
}

const fmt = (n: number) => String(Number(n.toFixed(8)));

export function boxWkt(b: Box): string {
  const [w, e, s, n] = [fmt(b.west), fmt(b.east), fmt(b.south), fmt(b.north)];
  return `POLYGON((${w} ${s},${e} ${s},${e} ${n},${w} ${n},${w} ${s}))`;
}

export function boxGeoJson(b: Box): string {
  const [w, e, s, n] = [b.west, b.east, b.south, b.north].map((x) => Number(x.toFixed(8)));
  return JSON.stringify({ type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] });
}

/** OGC service schemes → the OGC service type URI (dct:conformsTo of a distribution / endpoint). */
const OGC_SERVICE_TYPES: Record<string, string> = {
  'OGC:WMS': 'http://www.opengis.net/def/serviceType/ogc/wms',
  'OGC:WFS': 'http://www.opengis.net/def/serviceType/ogc/wfs',
  'OGC:WMTS': 'http://www.opengis.net/def/serviceType/ogc/wmts',
  'OGC:WCS': 'http://www.opengis.net/def/serviceType/ogc/wcs',
  'OGC:CSW': 'http://www.opengis.net/def/serviceType/ogc/csw',
  'OGC:SOS': 'http://www.opengis.net/def/serviceType/ogc/sos',
};

/** File extensions of plain downloads → IANA media type. */
const MEDIA_TYPES: Record<string, string> = {
  zip: 'application/zip', pdf: 'application/pdf', csv: 'text/csv', json: 'application/json', geojson: 'application/geo+json',
  gpkg: 'application/geopackage+sqlite3', xml: 'application/xml', kml: 'application/vnd.google-earth.kml+xml', html: 'text/html', htm: 'text/html',
};

function mediaTypeOf(url: string): string | undefined {
  const path = url.split(/[?#]/)[0] ?? '';
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase();
  return ext ? MEDIA_TYPES[ext] : undefined;
}

const isInformation = (l: OnlineResource) => l.function === 'information' || (!l.function && /^WWW:LINK/i.test(l.protocol ?? '') && !l.scheme?.startsWith('OGC:'));
const isDownload = (l: OnlineResource) => l.function === 'download' || /download/i.test(l.protocol ?? '');

/** The extra facts read from the ISO document itself (not in the record model): constraint anchors by block. */
interface ConstraintFacts {
  accessRights: Array<{ href?: string; text: string }>;
  useConditions: Array<{ href?: string; text: string }>;
}

function constraintFacts(root: XmlElement | undefined): ConstraintFacts {
  const out: ConstraintFacts = { accessRights: [], useConditions: [] };
  if (!root || !isIsoRoot(root)) return out;
  for (const c of all(root, 'gmd:identificationInfo/*/gmd:resourceConstraints/gmd:MD_LegalConstraints')) {
    const access = codes(c, 'gmd:accessConstraints').length > 0;
    for (const o of all(c, 'gmd:otherConstraints')) {
      const href = anchorHref(o);
      const text = value(o);
      if (!href && !text) continue;
      const isAccess = href ? /LimitationsOnPublicAccess/i.test(href) || (access && !/ConditionsApplyingToAccessAndUse/i.test(href)) : access && /acc[eè]s|access|L124|restriction/i.test(text);
      (isAccess ? out.accessRights : out.useConditions).push(href ? { href, text } : { text });
    }
  }
  return out;
}

/** Parse a stored document into the record model and its XML tree. */
export function readStoredDocument(document: string): { record: MetadataRecord; root: XmlElement } {
  const doc = stripXmlDeclaration(document);
  const root = parseXml(doc);
  return { record: isIsoRoot(root) ? extractIso(root, doc) : extractDublinCore(root, doc), root };
}

function agent(g: Graph, p: Party, cls: string): Subject {
  const a = g.bnode();
  g.type(a, cls);
  g.text(a, `${foaf}name`, p.organisation ?? p.individual);
  if (p.email) g.link(a, `${foaf}mbox`, `mailto:${p.email.trim()}`);
  return a;
}

function contactPoint(g: Graph, p: Party): Subject {
  const c = g.bnode();
  g.type(c, p.organisation ? `${vcard}Organization` : `${vcard}Individual`);
  g.text(c, `${vcard}fn`, p.organisation ?? p.individual);
  if (p.organisation) g.text(c, `${vcard}organization-name`, p.organisation);
  if (p.email) g.link(c, `${vcard}hasEmail`, `mailto:${p.email.trim()}`);
  return c;
}

function rightsStatement(g: Graph, cls: string, text: string, lang?: string): Subject {
  const r = g.bnode();
  g.type(r, cls);
  g.text(r, `${rdfs}label`, text, lang);
  return r;
}

/**
 * The DCAT / GeoDCAT-AP graph of one record. `root` is the parsed stored document (for what the record
 * model does not keep: constraint anchors); the same graph is written for both output schemas.
 */
export function recordGraph(rec: MetadataRecord, root: XmlElement | undefined, opts: DcatOptions, g: Graph = new Graph()): { graph: Graph; resource: Subject; record: Subject } {
  const uris = recordUris(opts.baseUrl, rec.identifier);
  const res = g.iri(uris.resource);
  const cr = g.iri(uris.record);
  const lang = rec.language ? LANG_TAG[rec.language] : undefined;
  const isService = rec.type === 'service';

  // The metadata record
  g.type(cr, `${dcat}CatalogRecord`);
  g.add(cr, `${foaf}primaryTopic`, res);
  g.text(cr, `${dct}identifier`, rec.identifier);
  g.add(cr, `${dct}modified`, dateLiteral(rec.modified));
  if (rec.language) g.link(cr, `${dct}language`, euLanguage(rec.language));
  g.link(cr, `${dct}conformsTo`, rec.schema === 'iso19139' ? 'http://www.isotc211.org/2005/gmd' : 'http://purl.org/dc/elements/1.1/');

  // The resource
  g.type(res, isService ? `${dcat}DataService` : `${dcat}Dataset`);
  if (rec.type === 'series') g.type(res, `${dcat}DatasetSeries`);
  g.add(res, `${foaf}isPrimaryTopicOf`, cr);
  g.link(res, `${dct}type`, `http://inspire.ec.europa.eu/metadata-codelist/ResourceType/${encodeURIComponent(rec.type || 'dataset')}`);
  g.text(res, `${dct}identifier`, rec.identifier);
  g.text(res, `${dct}title`, rec.title, lang);
  for (const a of rec.alternateTitles) g.text(res, `${dct}alternative`, a, lang);
  g.text(res, `${dct}description`, rec.abstract, lang);
  for (const k of rec.keywords) g.text(res, `${dcat}keyword`, k, lang);
  for (const t of rec.topicCategories) g.link(res, `${dcat}theme`, `http://inspire.ec.europa.eu/metadata-codelist/TopicCategory/${encodeURIComponent(t)}`);

  for (const id of rec.resourceIdentifiers) {
    const i = g.bnode();
    g.type(i, `${adms}Identifier`);
    g.text(i, `${skos}notation`, id.codeSpace ? `${id.codeSpace.replace(/\/+$/, '')}/${id.code}` : id.code);
    g.add(res, `${adms}identifier`, i);
  }

  for (const l of rec.resourceLanguages) g.link(res, `${dct}language`, euLanguage(l));

  // Dates: creation, publication (issued), revision or else the metadata date (modified)
  g.add(res, `${dct}created`, dateLiteral(rec.creationDate));
  g.add(res, `${dct}issued`, dateLiteral(rec.publicationDate ?? rec.creationDate));
  g.add(res, `${dct}modified`, dateLiteral(rec.revisionDate ?? rec.modified));

  // Extents
  for (const b of rec.boxes) {
    const loc = g.bnode();
    g.type(loc, `${dct}Location`);
    g.typed(loc, `${locn}geometry`, boxWkt(b), WKT_DATATYPE);
    g.typed(loc, `${locn}geometry`, boxGeoJson(b), GEOJSON_DATATYPE);
    g.typed(loc, `${dcat}bbox`, boxWkt(b), WKT_DATATYPE);
    g.add(res, `${dct}spatial`, loc);
  }
  if (rec.tempExtentBegin || rec.tempExtentEnd) {
    const t = g.bnode();
    g.type(t, `${dct}PeriodOfTime`);
    g.add(t, `${dcat}startDate`, dateLiteral(rec.tempExtentBegin));
    g.add(t, `${dcat}endDate`, dateLiteral(rec.tempExtentEnd));
    g.add(res, `${dct}temporal`, t);
  }

  // Parties: publisher (publisher / distributor role, else the first resource party), contact points
  const resourceParties = rec.parties.filter((p) => p.scope === 'resource');
  const publisher =
    resourceParties.find((p) => p.role && ['publisher', 'distributor', 'resourceProvider'].includes(p.role)) ??
    resourceParties.find((p) => p.organisation) ??
    rec.parties.find((p) => p.scope === 'metadata' && p.organisation);
  if (publisher) g.add(res, `${dct}publisher`, agent(g, publisher, `${foaf}Organization`));
  for (const p of resourceParties.filter((p) => p.role && ['originator', 'author', 'owner'].includes(p.role))) g.add(res, `${dct}creator`, agent(g, p, `${foaf}Organization`));
  const contacts = resourceParties.filter((p) => p.role === 'pointOfContact');
  const seenContacts = new Set<string>();
  for (const p of contacts.length ? contacts : resourceParties.slice(0, 1)) {
    const key = `${p.organisation ?? ''}\u0000${p.individual ?? ''}\u0000${p.email ?? ''}`;
    if (seenContacts.has(key)) continue;
    seenContacts.add(key);
    g.add(res, `${dcat}contactPoint`, contactPoint(g, p));
  }
  for (const p of rec.parties.filter((p) => p.scope === 'metadata')) g.add(cr, `${dcat}contactPoint`, contactPoint(g, p));

  // Rights: licences (anchor URIs when given), access rights, other conditions
  const facts = constraintFacts(root);
  const licenceTexts = new Set<string>();
  for (const l of rec.licences) {
    licenceTexts.add(l);
    if (!g.link(res, `${dct}license`, l)) {
      g.add(res, `${dct}license`, rightsStatement(g, `${dct}LicenseDocument`, l, lang));
      // "Licence Ouverte 1.0 http://www.data.gouv.fr/Licence-Ouverte-Open-Licence.": udata recognises a licence by its URL.
      const url = /https?:\/\/[^\s<>"]+/.exec(l)?.[0]?.replace(/[.,;:)\]]+$/, '');
      if (url) g.link(res, `${dct}license`, url);
    }
  }
  for (const a of facts.accessRights) {
    licenceTexts.add(a.text);
    if (!(a.href && g.link(res, `${dct}accessRights`, a.href))) g.add(res, `${dct}accessRights`, rightsStatement(g, `${dct}RightsStatement`, a.text, lang));
  }
  for (const u of facts.useConditions) {
    const said = licenceTexts.has(u.text);
    licenceTexts.add(u.text);
    if (u.href && rec.licences.includes(u.href)) continue;
    if (u.href && /ConditionsApplyingToAccessAndUse/i.test(u.href) && g.link(res, `${dct}rights`, u.href)) continue;
    if (said) continue;
    g.add(res, `${dct}rights`, rightsStatement(g, `${dct}RightsStatement`, u.text, lang));
  }
  for (const t of [...rec.otherConstraints, ...rec.useLimitations]) {
    if (licenceTexts.has(t)) continue;
    licenceTexts.add(t);
    g.add(res, `${dct}rights`, rightsStatement(g, `${dct}RightsStatement`, t, lang));
  }

  if (rec.lineage) g.add(res, `${dct}provenance`, rightsStatement(g, `${dct}ProvenanceStatement`, rec.lineage, lang));
  for (const c of rec.crs) if (/^https?:\/\//.test(c)) g.link(res, `${dct}conformsTo`, c);

  // Online resources: distributions (datasets) or endpoints (services); information links as pages
  let landing = false;
  for (const l of rec.links) {
    const url = normaliseIri(l.url);
    if (!url) continue;
    const conformsTo = l.scheme ? OGC_SERVICE_TYPES[l.scheme] ?? (l.protocolHref && /^https?:/.test(l.protocolHref) ? l.protocolHref : undefined) : undefined;
    if (isInformation(l)) {
      const page = g.iri(url);
      g.add(res, `${foaf}page`, page);
      g.type(page, `${foaf}Document`);
      if (!landing && !isService) {
        g.link(res, `${dcat}landingPage`, url);
        landing = true;
      }
    }
    if (isService) {
      g.link(res, `${dcat}endpointURL`, url);
      if (/request=GetCapabilities/i.test(url)) g.link(res, `${dcat}endpointDescription`, url);
      if (conformsTo) g.link(res, `${dct}conformsTo`, conformsTo);
      continue;
    }
    const d = g.bnode();
    g.type(d, `${dcat}Distribution`);
    g.link(d, `${dcat}accessURL`, url);
    // A service endpoint (OGC:*) or a feed is accessed; a file is downloaded.
    const media = l.mediaType?.split(';')[0]?.trim() || (l.scheme?.startsWith('OGC:') ? undefined : mediaTypeOf(url));
    const fileType = l.scheme?.startsWith('OGC:') ? undefined : euFileType(l.mediaType ?? media, `${l.name ?? ''} ${l.description ?? ''}`);
    if (isDownload(l) && !l.scheme?.startsWith('OGC:') && l.scheme !== 'ATOM' && media !== 'application/atom+xml') g.link(d, `${dcat}downloadURL`, url);
    g.text(d, `${dct}title`, l.name ?? l.description ?? l.scheme ?? l.protocol, lang);
    if (l.description && l.name) g.text(d, `${dct}description`, l.description, lang);
    // dct:format is the file's format (EU file-type vocabulary), never a protocol name; the protocol of a
    // service is its dct:conformsTo.
    if (fileType) g.link(d, `${dct}format`, fileType);
    if (conformsTo) g.link(d, `${dct}conformsTo`, conformsTo);
    if (media) g.link(d, `${dcat}mediaType`, `${IANA}${media}`);
    for (const lic of rec.licences) g.link(d, `${dct}license`, lic);
    g.add(res, `${dcat}distribution`, d);
  }
  return { graph: g, resource: res, record: cr };
}

/** Record graph straight from a stored document. */
export function documentGraph(document: string, opts: DcatOptions, g?: Graph): { graph: Graph; resource: Subject; record: Subject; rec: MetadataRecord } {
  const { record, root } = readStoredDocument(document);
  return { ...recordGraph(record, root, opts, g), rec: record };
}

// ---------------------------------------------------------------------------------------------------------
// Serialisers

export type RdfFormat = 'rdfxml' | 'turtle' | 'jsonld';

export const RDF_MEDIA_TYPES: Record<RdfFormat, string> = {
  rdfxml: 'application/rdf+xml',
  turtle: 'text/turtle',
  jsonld: 'application/ld+json',
};

const PREFIXES = Object.entries(RDF_NS) as Array<[string, string]>;
const NCNAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** `http://purl.org/dc/terms/title` → ['dct', 'title'], or undefined when no known prefix fits. */
function qname(iri: string): [string, string] | undefined {
  let best: [string, string] | undefined;
  for (const [p, ns] of PREFIXES) {
    if (iri.startsWith(ns) && (!best || ns.length > RDF_NS[best[0] as keyof typeof RDF_NS].length)) {
      const local = iri.slice(ns.length);
      if (NCNAME.test(local)) best = [p, local];
    }
  }
  return best;
}

function bySubject(g: Graph): Map<string, { s: Subject; triples: Triple[] }> {
  const m = new Map<string, { s: Subject; triples: Triple[] }>();
  for (const t of g.triples) {
    const k = `${t.s.kind}:${t.s.value}`;
    let e = m.get(k);
    if (!e) m.set(k, (e = { s: t.s, triples: [] }));
    e.triples.push(t);
  }
  return m;
}

/** Text content for XML: escape & < > and keep carriage returns (which a parser would otherwise normalise). */
const xmlText = (s: string) => xmlEscapeText(s).replace(/\r/g, '&#13;');
const xmlAttr = (s: string) => xmlEscape(s).replace(/\r/g, '&#13;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');

/**
 * RDF/XML: one self-contained `rdf:RDF` element declaring every prefix it uses. Typed node elements
 * (`<dcat:Dataset rdf:about=…>`); blank nodes used once are nested in their property, others use rdf:nodeID.
 */
export function toRdfXml(g: Graph, options: { declaration?: boolean } = {}): string {
  const subjects = bySubject(g);
  const refs = new Map<string, number>();
  for (const t of g.triples) if (t.o.kind === 'bnode') refs.set(t.o.value, (refs.get(t.o.value) ?? 0) + 1);
  const nestable = (b: string) => refs.get(b) === 1 && subjects.has(`bnode:${b}`);
  const used = new Set<string>(['rdf']);
  const extra = new Map<string, string>();
  const name = (iri: string): string => {
    const q = qname(iri);
    if (q) {
      used.add(q[0]);
      return `${q[0]}:${q[1]}`;
    }
    // An unknown namespace: split after the last # or / and declare a generated prefix.
    const m = /^(.*[#/])([A-Za-z_][A-Za-z0-9_.-]*)$/.exec(iri);
    if (!m) throw new Error(`Cannot write predicate ${iri} in RDF/XML`);
    let p = extra.get(m[1]!);
    if (!p) extra.set(m[1]!, (p = `ns${extra.size + 1}`));
    return `${p}:${m[2]}`;
  };
  const written = new Set<string>();

  const node = (s: Subject, triples: Triple[], depth: number): string => {
    written.add(`${s.kind}:${s.value}`);
    const typeIdx = triples.findIndex((t) => t.p === `${rdf}type` && t.o.kind === 'iri' && qname(t.o.value));
    const tag = typeIdx >= 0 ? name((triples[typeIdx]!.o as { value: string }).value) : 'rdf:Description';
    const id = s.kind === 'iri' ? ` rdf:about="${xmlAttr(s.value)}"` : depth > 0 ? '' : ` rdf:nodeID="${s.value}"`;
    const indent = 2 + 4 * depth;
    const pad = '\n' + ' '.repeat(indent + 2);
    let body = '';
    triples.forEach((t, i) => {
      if (i === typeIdx) return;
      const p = name(t.p);
      const o = t.o;
      if (o.kind === 'iri') body += `${pad}<${p} rdf:resource="${xmlAttr(o.value)}"/>`;
      else if (o.kind === 'bnode') {
        const inner = subjects.get(`bnode:${o.value}`);
        if (nestable(o.value) && inner && !written.has(`bnode:${o.value}`)) body += `${pad}<${p}>${node(inner.s, inner.triples, depth + 1)}${pad}</${p}>`;
        else body += `${pad}<${p} rdf:nodeID="${o.value}"/>`;
      } else {
        const attrs = o.lang ? ` xml:lang="${xmlAttr(o.lang)}"` : o.datatype ? ` rdf:datatype="${xmlAttr(o.datatype)}"` : '';
        body += `${pad}<${p}${attrs}>${xmlText(o.value)}</${p}>`;
      }
    });
    const open = '\n' + ' '.repeat(indent);
    return `${open}<${tag}${id}>${body}${open}</${tag}>`;
  };

  let out = '';
  for (const { s, triples } of subjects.values()) {
    if (s.kind === 'bnode' && nestable(s.value)) continue;
    out += node(s, triples, 0);
  }
  // Nestable blank nodes not reached (a cycle of blank nodes) are written at the top level.
  for (const { s, triples } of subjects.values()) if (!written.has(`${s.kind}:${s.value}`)) out += node(s, triples, 0);
  const decls = [...used].map((p) => ` xmlns:${p}="${RDF_NS[p as keyof typeof RDF_NS]}"`).join('') + [...extra].map(([ns, p]) => ` xmlns:${p}="${xmlAttr(ns)}"`).join('');
  return `${options.declaration ? '<?xml version="1.0" encoding="UTF-8"?>\n' : ''}<rdf:RDF${decls}>${out}\n</rdf:RDF>`;
}

const { namedNode, blankNode, literal, quad } = DataFactory;
const rdfjsTerm = (t: Term) => (t.kind === 'iri' ? namedNode(t.value) : t.kind === 'bnode' ? blankNode(t.value) : literal(t.value, t.lang ?? (t.datatype ? namedNode(t.datatype) : undefined)));

/**
 * Turtle, written by n3's Writer (prefixes declared, consecutive triples of a subject grouped, IRIs and strings
 * escaped by the grammar's rules). It replaced a hand-written writer: same triples (parsed back by n3's Parser,
 * test/catalogue/dcat.test.ts), 2.5× faster on a page of 100 records (10,579 triples: 64 → 25–34 ms).
 */
export function toTurtle(g: Graph): string {
  const w = new Writer({ prefixes: RDF_NS });
  for (const t of g.triples) w.addQuad(quad(rdfjsTerm(t.s) as ReturnType<typeof namedNode>, namedNode(t.p), rdfjsTerm(t.o)));
  let out = '';
  // Without an output stream the Writer builds a string and hands it to the callback synchronously.
  w.end((error, result: string) => {
    if (error) throw error;
    out = result;
  });
  return out;
}

/**
 * JSON-LD: a @context of the prefixes and a flat @graph of node objects (values always explicit).
 * Kept hand-written after measuring the jsonld library (issue 8 audit, 2026-12-06; a 100-record page of 8,530 triples
 * from the demo records, median of 40 runs, machine at load 11-13 so noisy): this writer 101-113 ms (min 15-51);
 * jsonld.fromRDF + compact with the same prefixes 571-653 ms (min 230-323), about 5x slower; jsonld.fromRDF alone
 * 76-128 ms (min 32-33) but expanded JSON-LD (no @context, every IRI in full, 838 kB vs 925 kB). All three parse
 * back to the same 8,530 triples. Compaction does not keep the figures, and the expanded form would change what
 * clients read for no gain in correctness, so this writer stays (RDF/XML's too: n3 does not write RDF/XML).
 */
export function toJsonLdObject(g: Graph): { '@context': Record<string, string>; '@graph': Array<Record<string, unknown>> } {
  const nodes: Array<Record<string, unknown>> = [];
  const key = (iri: string) => {
    const q = qname(iri);
    return q ? `${q[0]}:${q[1]}` : iri;
  };
  for (const { s, triples } of bySubject(g).values()) {
    const n: Record<string, unknown> = { '@id': s.kind === 'iri' ? s.value : `_:${s.value}` };
    const types = triples.filter((t) => t.p === `${rdf}type` && t.o.kind === 'iri').map((t) => t.o.value);
    if (types.length) n['@type'] = types;
    for (const t of triples) {
      if (t.p === `${rdf}type` && t.o.kind === 'iri') continue;
      const k = key(t.p);
      const o = t.o;
      const v =
        o.kind === 'iri' ? { '@id': o.value } : o.kind === 'bnode' ? { '@id': `_:${o.value}` } : o.lang ? { '@value': o.value, '@language': o.lang } : o.datatype ? { '@value': o.value, '@type': o.datatype } : { '@value': o.value };
      const list = (n[k] as unknown[] | undefined) ?? [];
      list.push(v);
      n[k] = list;
    }
    nodes.push(n);
  }
  return { '@context': Object.fromEntries(PREFIXES), '@graph': nodes };
}

export function toJsonLd(g: Graph): string {
  return JSON.stringify(toJsonLdObject(g), null, 1);
}

export function serialise(g: Graph, format: RdfFormat): string {
  return format === 'rdfxml' ? toRdfXml(g, { declaration: true }) : format === 'turtle' ? toTurtle(g) : toJsonLd(g);
}

// ---------------------------------------------------------------------------------------------------------
// Catalogue (dcat:Catalog with Hydra paging)

export interface CatalogDescription {
  uri: string;
  title: string;
  description: string;
  publisherName: string;
  homepage: string;
  email: string;
  keywords: string[];
  modified?: string;
}

export interface CatalogPaging {
  total: number;
  page: number;
  pageSize: number;
  /** URL of a page (1-based) with the request's other parameters. */
  pageUrl: (page: number) => string;
}

/**
 * The dcat:Catalog node (also a hydra:Collection) with its members and a hydra:PartialCollectionView
 * (first / previous / next / last: what udata's DCAT harvester follows), also typed hydra:PagedCollection
 * with the legacy firstPage / nextPage / lastPage / itemsPerPage properties for older harvesters.
 */
export function catalogGraph(g: Graph, desc: CatalogDescription, members: Array<{ resource: Subject; record: Subject; service: boolean }>, paging: CatalogPaging): void {
  const c = g.iri(desc.uri);
  g.type(c, `${dcat}Catalog`);
  g.type(c, `${hydra}Collection`);
  g.text(c, `${dct}title`, desc.title, 'fr');
  g.text(c, `${dct}description`, desc.description, 'fr');
  if (desc.homepage) g.link(c, `${foaf}homepage`, desc.homepage);
  g.link(c, `${dct}language`, euLanguage('fre'));
  for (const k of desc.keywords) g.text(c, `${dcat}keyword`, k, 'fr');
  const pub = g.bnode();
  g.type(pub, `${foaf}Organization`);
  g.text(pub, `${foaf}name`, desc.publisherName);
  if (desc.email) g.link(pub, `${foaf}mbox`, `mailto:${desc.email}`);
  g.add(c, `${dct}publisher`, pub);
  if (desc.email) {
    const cp = g.bnode();
    g.type(cp, `${vcard}Organization`);
    g.text(cp, `${vcard}fn`, desc.publisherName);
    g.link(cp, `${vcard}hasEmail`, `mailto:${desc.email}`);
    g.add(c, `${dcat}contactPoint`, cp);
  }
  g.add(c, `${dct}modified`, dateLiteral(desc.modified));
  g.typed(c, `${hydra}totalItems`, String(paging.total), `${xsd}integer`);
  for (const m of members) {
    g.add(c, m.service ? `${dcat}service` : `${dcat}dataset`, m.resource);
    g.add(c, `${dcat}record`, m.record);
    g.add(c, `${hydra}member`, m.resource);
  }
  const last = Math.max(1, Math.ceil(paging.total / paging.pageSize));
  const view = g.iri(paging.pageUrl(paging.page));
  g.add(c, `${hydra}view`, view);
  g.type(view, `${hydra}PartialCollectionView`);
  g.type(view, `${hydra}PagedCollection`);
  g.link(view, `${hydra}first`, paging.pageUrl(1));
  g.link(view, `${hydra}last`, paging.pageUrl(last));
  g.link(view, `${hydra}firstPage`, paging.pageUrl(1));
  g.link(view, `${hydra}lastPage`, paging.pageUrl(last));
  if (paging.page > 1) {
    const prev = Math.min(paging.page - 1, last);
    g.link(view, `${hydra}previous`, paging.pageUrl(prev));
    g.link(view, `${hydra}previousPage`, paging.pageUrl(prev));
  }
  if (paging.page < last) {
    g.link(view, `${hydra}next`, paging.pageUrl(paging.page + 1));
    g.link(view, `${hydra}nextPage`, paging.pageUrl(paging.page + 1));
  }
  g.typed(view, `${hydra}itemsPerPage`, String(paging.pageSize), `${xsd}integer`);
  g.typed(view, `${hydra}totalItems`, String(paging.total), `${xsd}integer`);
}
