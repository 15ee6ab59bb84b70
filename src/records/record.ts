/**
 * A metadata record as the catalogue stores it: the document, its schema, and the queryables extracted
 * from it (one column each in sdi.metadata_records, see migrations/0002_catalogue.sql).
 */

export type MetadataSchema = 'iso19139' | 'dublincore';

export interface Party {
  organisation?: string;
  individual?: string;
  email?: string;
  role?: string;
  /** 'resource' (identificationInfo) or 'metadata' (gmd:contact). */
  scope: 'resource' | 'metadata';
}

export interface OnlineResource {
  url: string;
  /** Protocol as written (gco:CharacterString or the text of a gmx:Anchor). */
  protocol?: string;
  /** xlink:href of a gmx:Anchor protocol (INSPIRE TG 2.0 / CNIG encoding). */
  protocolHref?: string;
  /** Normalised scheme for Dublin Core `dct:references@scheme` (OGC:WMS, OGC:WFS, … or the protocol). */
  scheme?: string;
  name?: string;
  description?: string;
  /** CI_OnLineFunctionCode (download, information, …). */
  function?: string;
  /** Media type declared by a gmx:MimeFileType name (what the URL answers with). */
  mediaType?: string;
  applicationProfile?: string;
}

export interface Specification {
  title: string;
  date?: string;
  dateType?: string;
  /** 'true', 'false' or 'notEvaluated'. */
  degree: string;
}

export interface Box {
  west: number;
  east: number;
  south: number;
  north: number;
}

export interface MetadataRecord {
  identifier: string;
  schema: MetadataSchema;
  /** The document as received, without its XML declaration. */
  document: string;
  title: string;
  alternateTitles: string[];
  abstract: string;
  type: string;
  keywords: string[];
  keywordTypes: string[];
  thesauri: string[];
  topicCategories: string[];
  formats: string[];
  language?: string;
  resourceLanguages: string[];
  parentIdentifier?: string;
  dateStamp?: string;
  /** ISO 8601 with offset, or undefined when the date stamp cannot be read. */
  modified?: string;
  creationDate?: string;
  publicationDate?: string;
  revisionDate?: string;
  tempExtentBegin?: string;
  tempExtentEnd?: string;
  organisations: string[];
  creators: string[];
  publishers: string[];
  contributors: string[];
  responsiblePartyRoles: string[];
  parties: Party[];
  resourceIdentifiers: Array<{ code: string; codeSpace?: string }>;
  resourceIdentifierCodes: string[];
  /** Geographic bounding boxes in WGS 84 degrees, already validated and ordered. */
  boxes: Box[];
  crs: string[];
  geographicDescriptionCodes: string[];
  denominators: number[];
  distanceValues: number[];
  distanceUoms: string[];
  serviceType?: string;
  serviceTypeVersions: string[];
  couplingType?: string;
  operations: string[];
  operatesOn: string[];
  operatesOnNames: string[];
  accessConstraints: string[];
  useConstraints: string[];
  otherConstraints: string[];
  useLimitations: string[];
  classification: string[];
  hasSecurityConstraints: boolean;
  licences: string[];
  lineage?: string;
  specifications: Specification[];
  links: OnlineResource[];
  /** ISO element sets cut from the document (iso19139 records only). */
  isoBrief?: string;
  isoSummary?: string;
  anytext: string;
}

export class MetadataError extends Error {}

export function emptyRecord(identifier: string, schema: MetadataSchema, document: string): MetadataRecord {
  return {
    identifier,
    schema,
    document,
    title: '',
    alternateTitles: [],
    abstract: '',
    type: 'dataset',
    keywords: [],
    keywordTypes: [],
    thesauri: [],
    topicCategories: [],
    formats: [],
    resourceLanguages: [],
    organisations: [],
    creators: [],
    publishers: [],
    contributors: [],
    responsiblePartyRoles: [],
    parties: [],
    resourceIdentifiers: [],
    resourceIdentifierCodes: [],
    boxes: [],
    crs: [],
    geographicDescriptionCodes: [],
    denominators: [],
    distanceValues: [],
    distanceUoms: [],
    serviceTypeVersions: [],
    operations: [],
    operatesOn: [],
    operatesOnNames: [],
    accessConstraints: [],
    useConstraints: [],
    otherConstraints: [],
    useLimitations: [],
    classification: [],
    hasSecurityConstraints: false,
    licences: [],
    specifications: [],
    links: [],
    anytext: '',
  };
}

/** Distinct non-empty values, first occurrence order. */
export function uniq(values: Iterable<string | undefined>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const v of values) {
    if (v === undefined) continue;
    const t = v.trim();
    if (t && !seen.has(t)) {
      seen.add(t);
      out.push(t);
    }
  }
  return out;
}

/** ISO 639 codes and names as found in records → ISO 639-2/B (what INSPIRE requires): fra→fre, fr→fre, … */
const LANG: Record<string, string> = {
  fr: 'fre', fra: 'fre', fre: 'fre', french: 'fre', francais: 'fre', français: 'fre',
  en: 'eng', eng: 'eng', english: 'eng', anglais: 'eng',
  de: 'ger', deu: 'ger', ger: 'ger', german: 'ger', deutsch: 'ger', allemand: 'ger',
  es: 'spa', spa: 'spa', it: 'ita', ita: 'ita', nl: 'dut', nld: 'dut', dut: 'dut', pt: 'por', por: 'por',
  br: 'bre', bre: 'bre', oc: 'oci', oci: 'oci', eu: 'baq', eus: 'baq', baq: 'baq', ca: 'cat', cat: 'cat', co: 'cos', cos: 'cos',
  cs: 'cze', ces: 'cze', cze: 'cze', el: 'gre', ell: 'gre', gre: 'gre', zh: 'chi', zho: 'chi', chi: 'chi',
  ro: 'rum', ron: 'rum', rum: 'rum', sk: 'slo', slk: 'slo', slo: 'slo', cy: 'wel', cym: 'wel', wel: 'wel',
  ga: 'gle', gle: 'gle', pl: 'pol', pol: 'pol', sv: 'swe', swe: 'swe', da: 'dan', dan: 'dan', fi: 'fin', fin: 'fin',
  zxx: 'zxx', mul: 'mul', und: 'und',
};

/** Normalise a language value ('fre', 'fra', 'FR', 'eng; CAN', 'Deutsch') to ISO 639-2/B, or undefined. */
export function normaliseLanguage(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const t = v.trim().toLowerCase();
  if (!t) return undefined;
  if (LANG[t]) return LANG[t];
  const head = /^([a-zà-ÿ]+)/.exec(t)?.[1];
  if (head && LANG[head]) return LANG[head];
  return /^[a-z]{3}$/.test(t) ? t : undefined;
}

/** An ISO date or date-time → `YYYY-MM-DD` (for date columns), or undefined. `2018` → 2018-01-01. */
export function toDate(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const m = /^\s*(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(v);
  if (!m) return undefined;
  const d = `${m[1]}-${m[2] ?? '01'}-${m[3] ?? '01'}`;
  return Number.isNaN(Date.parse(`${d}T00:00:00Z`)) ? undefined : d;
}

/** An ISO date or date-time → a timestamp with offset (UTC assumed when the value has none), or undefined. */
export function toTimestamp(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const t = v.trim();
  let iso: string;
  if (/^\d{4}(-\d{2}(-\d{2})?)?$/.test(t)) iso = `${toDate(t)}T00:00:00Z`;
  else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t)) iso = `${t.replace(' ', 'T')}Z`;
  else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(t)) iso = t.replace(' ', 'T');
  else return undefined;
  return Number.isNaN(Date.parse(iso)) ? undefined : iso;
}

/**
 * The Dublin Core `scheme` of an online resource: MetaSearch (QGIS) offers "Add WMS/WFS/WCS" when it sees
 * OGC:WMS, OGC:WFS, … (upper-cased) in `dct:references@scheme`. INSPIRE TG 2.0 / CNIG records write the
 * protocol as a gmx:Anchor to http://www.opengis.net/def/serviceType/ogc/wms ("OGC Web Map Service"),
 * older ones as OGC:WMS-1.1.1-http-get-map; a GetCapabilities URL with SERVICE=… also says it.
 */
export function linkScheme(protocol: string | undefined, href: string | undefined, url: string): string | undefined {
  const probe = `${href ?? ''} ${protocol ?? ''}`.toLowerCase();
  const services: Array<[RegExp, string]> = [
    [/serviceType\/ogc\/wmts|\bogc:wmts|\bwmts\b|web map tile service/i, 'OGC:WMTS'],
    [/serviceType\/ogc\/wms|\bogc:wms|^\s*wms\b|web map service/i, 'OGC:WMS'],
    [/serviceType\/ogc\/wfs|\bogc:wfs|^\s*wfs\b|web feature service/i, 'OGC:WFS'],
    [/serviceType\/ogc\/wcs|\bogc:wcs|^\s*wcs\b|web coverage service/i, 'OGC:WCS'],
    [/serviceType\/ogc\/csw|\bogc:csw|catalog(ue)? service/i, 'OGC:CSW'],
    [/serviceType\/ogc\/sos|\bogc:sos|sensor observation service/i, 'OGC:SOS'],
    [/rfc5023|\batom\b/i, 'ATOM'],
  ];
  for (const [re, scheme] of services) if (re.test(probe.trim()) || re.test(href ?? '')) return scheme;
  if (protocol && protocol.trim()) return protocol.trim();
  const svc = /[?&]service=(wms|wfs|wmts|wcs|csw)\b/i.exec(url)?.[1];
  if (svc) return `OGC:${svc.toUpperCase()}`;
  return undefined;
}
