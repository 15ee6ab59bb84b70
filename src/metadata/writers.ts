/**
 * Record writers: Dublin Core (csw:BriefRecord / SummaryRecord / Record) from the stored queryables, and
 * ISO 19139 (the stored document or its precomputed element sets; a generated gmd:MD_Metadata for records
 * stored as Dublin Core).
 *
 * Links are written as `dct:references scheme="OGC:WMS|OGC:WFS|…"`: that is what QGIS MetaSearch reads to offer
 * "Add WMS/WFS". The bounding box is `ows:BoundingBox crs="urn:ogc:def:crs:EPSG::4326"` in lat/lon order.
 */
import { xmlEscape as x } from '../xml/escape.js';
import { parseXml, serializeXml, type XmlElement } from '../xml/tree.js';
import { isoElements, isoElementSet } from './iso19139.js';
import type { OnlineResource, Party } from '../records/record.js';

/** The columns the writers read (see STORED_RECORD_COLUMNS). */
export interface StoredRecord {
  identifier: string;
  schema: 'iso19139' | 'dublincore';
  title: string;
  alternate_titles: string[];
  abstract: string;
  type: string;
  keywords: string[];
  topic_categories: string[];
  formats: string[];
  language: string | null;
  parent_identifier: string | null;
  date_stamp: string | null;
  creation_date: string | null;
  publication_date: string | null;
  revision_date: string | null;
  creators: string[];
  publishers: string[];
  contributors: string[];
  use_limitations: string[];
  other_constraints: string[];
  licences: string[];
  lineage: string | null;
  crs: string[];
  links: OnlineResource[];
  parties: Party[];
  resource_identifiers: Array<{ code: string; codeSpace?: string }>;
  resource_languages?: string[];
  access_constraints?: string[];
  classification?: string[];
  operates_on?: string[];
  temp_extent_begin?: string | null;
  temp_extent_end?: string | null;
  minx: number | null;
  miny: number | null;
  maxx: number | null;
  maxy: number | null;
  /** The ISO text asked for (document, iso_brief or iso_summary), when the output is ISO. */
  iso: string | null;
  /** The stored document of a record stored as Dublin Core (null for ISO records): served as it is. */
  dc_document?: string | null;
}

/** SQL select list over alias `r` for StoredRecord; `isoColumn` is document, iso_brief, iso_summary or NULL. */
export function storedRecordColumns(isoColumn: 'document' | 'iso_brief' | 'iso_summary' | null): string {
  return `r.identifier, r.schema, r.title, r.alternate_titles, r.abstract, r.type, r.keywords, r.topic_categories, r.formats,
    r.language, r.parent_identifier, r.date_stamp, r.creation_date::text AS creation_date, r.publication_date::text AS publication_date,
    r.revision_date::text AS revision_date, r.creators, r.publishers, r.contributors, r.use_limitations, r.other_constraints, r.licences,
    r.lineage, r.crs, r.links, r.parties, r.resource_identifiers, r.resource_languages, r.access_constraints, r.classification, r.operates_on,
    to_char(r.temp_extent_begin AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS temp_extent_begin,
    to_char(r.temp_extent_end AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS temp_extent_end,
    ST_XMin(r.bbox) AS minx, ST_YMin(r.bbox) AS miny, ST_XMax(r.bbox) AS maxx, ST_YMax(r.bbox) AS maxy,
    ${isoColumn ? `CASE WHEN r.schema = 'iso19139' THEN r.${isoColumn} END` : 'NULL::text'} AS iso,
    CASE WHEN r.schema = 'dublincore' THEN r.document END AS dc_document`;
}

export type ElementSetName = 'brief' | 'summary' | 'full';

export const DC_NAMESPACES =
  'xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dct="http://purl.org/dc/terms/" xmlns:ows="http://www.opengis.net/ows"';

const TOPIC_SCHEME = 'http://www.isotc211.org/2005/resources/Codelist/gmxCodelists.xml#MD_TopicCategoryCode';

const dcEl = (name: string, v: string | null | undefined, attrs = '') => (v === null || v === undefined || v === '' ? '' : `<${name}${attrs}>${x(v)}</${name}>`);
const dcAll = (name: string, vs: string[]) => vs.map((v) => dcEl(name, v)).join('');

function boundingBox(r: StoredRecord): string {
  if (r.minx === null || r.miny === null || r.maxx === null || r.maxy === null) return '';
  return `<ows:BoundingBox crs="urn:ogc:def:crs:EPSG::4326" dimensions="2"><ows:LowerCorner>${r.miny} ${r.minx}</ows:LowerCorner><ows:UpperCorner>${r.maxy} ${r.maxx}</ows:UpperCorner></ows:BoundingBox>`;
}

function references(r: StoredRecord): string {
  return r.links.map((l) => dcEl('dct:references', l.url, l.scheme ? ` scheme="${x(l.scheme)}"` : '')).join('');
}

function subjects(r: StoredRecord): string {
  return dcAll('dc:subject', r.keywords) + r.topic_categories.map((t) => dcEl('dc:subject', t, ` scheme="${TOPIC_SCHEME}"`)).join('');
}

/** A temporal extent as an ISO 8601 interval (an open end is `..`, ISO 8601-2), dates alone when at midnight. */
function temporal(r: StoredRecord): string | undefined {
  if (!r.temp_extent_begin && !r.temp_extent_end) return undefined;
  const d = (v: string | null | undefined) => (v ? v.replace(/T00:00:00Z$/, '') : '..');
  return `${d(r.temp_extent_begin)}/${d(r.temp_extent_end)}`;
}

const uniqOf = (vs: Array<string | undefined | null>) => [...new Set(vs.filter((v): v is string => !!v))];

/**
 * Every Dublin Core element of a record, in csw:Record order, keyed by qualified name (for ElementName). The
 * ISO → Dublin Core mapping of CSW ISO AP 1.0 (the core queryables and returnables: title, alternative, type,
 * subject = keywords and topic categories, format, relation, modified = dateStamp, abstract, creator,
 * publisher, contributor, language, source, rights, spatial, BoundingBox) completed as pycsw does it and with the
 * DCMI terms the record schema allows (rec-dcterms.xsd): dc:format also gives the media types of the linked
 * files, dc:relation the parent and, for a service, the datasets it operates on, dct:created / dct:issued /
 * dc:date the citation's creation, publication and revision dates, dct:temporal the temporal extent,
 * dc:language the resource's languages (the metadata's when none), dc:rights the use limitations and other
 * constraints, dct:accessRights the access constraint codes and security classification, dct:license the licences.
 */
function dcElements(r: StoredRecord): Array<[string, string]> {
  const mediaTypes = r.links.map((l) => l.mediaType);
  const languages = r.resource_languages?.length ? r.resource_languages : [r.language];
  const accessRights = [...(r.access_constraints ?? []).filter((c) => c !== 'otherRestrictions'), ...(r.classification ?? [])];
  return [
    ['dc:identifier', dcEl('dc:identifier', r.identifier)],
    ['dc:title', dcEl('dc:title', r.title)],
    ['dct:alternative', dcAll('dct:alternative', r.alternate_titles)],
    ['dc:type', dcEl('dc:type', r.type)],
    ['dc:subject', subjects(r)],
    ['dc:format', dcAll('dc:format', uniqOf([...r.formats, ...mediaTypes]))],
    ['dc:relation', dcAll('dc:relation', uniqOf([r.parent_identifier, ...(r.operates_on ?? [])]))],
    ['dct:modified', dcEl('dct:modified', r.date_stamp)],
    ['dct:created', dcEl('dct:created', r.creation_date)],
    ['dct:issued', dcEl('dct:issued', r.publication_date)],
    ['dc:date', dcEl('dc:date', r.revision_date)],
    ['dct:temporal', dcEl('dct:temporal', temporal(r))],
    ['dct:abstract', dcEl('dct:abstract', r.abstract)],
    ['dc:creator', dcAll('dc:creator', r.creators)],
    ['dc:publisher', dcAll('dc:publisher', r.publishers)],
    ['dc:contributor', dcAll('dc:contributor', r.contributors)],
    ['dc:language', dcAll('dc:language', uniqOf(languages))],
    ['dc:source', dcEl('dc:source', r.lineage)],
    ['dc:rights', dcAll('dc:rights', uniqOf([...r.use_limitations, ...r.other_constraints]))],
    ['dct:accessRights', dcAll('dct:accessRights', uniqOf(accessRights))],
    ['dct:license', dcAll('dct:license', r.licences)],
    ['dct:references', references(r)],
    ['dct:spatial', dcAll('dct:spatial', r.crs)],
  ];
}

const DC_ELEMENT_NAMES = new Map(
  ['dc:identifier', 'dc:title', 'dct:alternative', 'dc:type', 'dc:subject', 'dc:format', 'dc:relation', 'dct:modified', 'dct:created', 'dct:issued', 'dc:date', 'dct:temporal', 'dct:abstract', 'dc:creator', 'dc:publisher', 'dc:contributor', 'dc:language', 'dc:source', 'dc:rights', 'dct:accessRights', 'dct:license', 'dct:references', 'dct:spatial', 'ows:BoundingBox'].map(
    (q) => [q.slice(q.indexOf(':') + 1).toLowerCase(), q],
  ),
);
DC_ELEMENT_NAMES.set('description', 'dct:abstract');
DC_ELEMENT_NAMES.set('boundingbox', 'ows:BoundingBox');

/** `dc:title`, `title`, `/csw:Record/dc:title` → the element's qualified name, or undefined. */
export function dcElementName(name: string): string | undefined {
  const last = name.trim().split('/').filter(Boolean).pop() ?? '';
  const local = last.slice(last.lastIndexOf(':') + 1).toLowerCase();
  return DC_ELEMENT_NAMES.get(local);
}

export function writeDublinCore(r: StoredRecord, set: ElementSetName, elementNames?: string[], declareNamespaces = false): string {
  const ns = declareNamespaces ? ` ${DC_NAMESPACES}` : '';
  const stored = r.schema === 'dublincore' && r.dc_document ? storedDublinCore(r.dc_document, set, elementNames, ns) : undefined;
  if (stored !== undefined) return stored;
  const els = new Map(dcElements(r));
  if (elementNames) {
    const wanted = new Set(elementNames.map((n) => dcElementName(n)).filter((n): n is string => !!n));
    // csw:Record requires nothing in particular, but an identifier makes the record usable: always keep it.
    wanted.add('dc:identifier');
    const body = [...els].filter(([k]) => wanted.has(k)).map(([, v]) => v).join('') + (wanted.has('ows:BoundingBox') ? boundingBox(r) : '');
    return `<csw:Record${ns}>${body}</csw:Record>`;
  }
  const title = els.get('dc:title') || '<dc:title/>';
  if (set === 'brief') {
    return `<csw:BriefRecord${ns}>${els.get('dc:identifier')}${title}${els.get('dc:type')}${boundingBox(r)}</csw:BriefRecord>`;
  }
  if (set === 'summary') {
    // Order fixed by csw:SummaryRecordType. dct:modified lets harvesters detect changes.
    const rest = ['dc:type', 'dc:subject', 'dc:format', 'dc:relation', 'dct:modified', 'dct:abstract', 'dct:spatial'].map((k) => els.get(k) ?? '').join('');
    return `<csw:SummaryRecord${ns}>${els.get('dc:identifier')}${title}${rest}${boundingBox(r)}</csw:SummaryRecord>`;
  }
  return `<csw:Record${ns}>${[...els.values()].join('')}${boundingBox(r)}</csw:Record>`;
}

/** An ISO record for output: the stored text of the element set, or cut / generated as needed. */
export function writeIso(r: StoredRecord, set: ElementSetName, elementNames?: string[], fullDocument?: string | null): string {
  if (r.schema === 'iso19139') {
    if (elementNames) {
      const root = parseXml(fullDocument ?? r.iso ?? '');
      return isoElements(root, elementNames.map(isoTopElementName));
    }
    if (r.iso) return r.iso;
    // Not precomputed (a record stored before its element sets were): cut it now.
    if (fullDocument) return set === 'full' ? fullDocument : isoElementSet(parseXml(fullDocument), set);
  }
  return isoFromDublinCore(r);
}

/** The children of gmd:MD_Metadata, for ElementName on ISO output. */
export const ISO_TOP_ELEMENTS = new Set([
  'fileIdentifier', 'language', 'characterSet', 'parentIdentifier', 'hierarchyLevel', 'hierarchyLevelName', 'contact', 'dateStamp',
  'metadataStandardName', 'metadataStandardVersion', 'dataSetURI', 'locale', 'spatialRepresentationInfo', 'referenceSystemInfo',
  'metadataExtensionInfo', 'identificationInfo', 'contentInfo', 'distributionInfo', 'dataQualityInfo', 'portrayalCatalogueInfo',
  'metadataConstraints', 'applicationSchemaInfo', 'metadataMaintenance', 'series', 'describes', 'propertyType', 'featureType', 'featureAttribute',
]);

/** `gmd:dateStamp`, `/gmd:MD_Metadata/gmd:dateStamp` → `dateStamp` (a child of MD_Metadata). */
export function isoTopElementName(name: string): string {
  const steps = name.trim().split('/').filter(Boolean).map((s) => s.slice(s.lastIndexOf(':') + 1));
  return (steps[0] === 'MD_Metadata' ? steps[1] : steps[0]) ?? '';
}

const gco = (v: string) => `<gco:CharacterString>${x(v)}</gco:CharacterString>`;

/** A minimal, schema-valid gmd:MD_Metadata built from the queryables of a Dublin Core record. */
export function isoFromDublinCore(r: StoredRecord): string {
  const org = r.publishers[0] ?? r.creators[0] ?? r.contributors[0] ?? 'Unknown';
  const date = r.date_stamp ?? r.publication_date ?? r.creation_date;
  const dateStamp = date && /T/.test(date) ? `<gco:DateTime>${x(date.replace(/(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/, ''))}</gco:DateTime>` : `<gco:Date>${x((date ?? '1970-01-01').slice(0, 10))}</gco:Date>`;
  const citationDate = r.publication_date ?? r.creation_date ?? date?.slice(0, 10);
  const bbox =
    r.minx !== null
      ? `<gmd:extent><gmd:EX_Extent><gmd:geographicElement><gmd:EX_GeographicBoundingBox><gmd:westBoundLongitude><gco:Decimal>${r.minx}</gco:Decimal></gmd:westBoundLongitude><gmd:eastBoundLongitude><gco:Decimal>${r.maxx}</gco:Decimal></gmd:eastBoundLongitude><gmd:southBoundLatitude><gco:Decimal>${r.miny}</gco:Decimal></gmd:southBoundLatitude><gmd:northBoundLatitude><gco:Decimal>${r.maxy}</gco:Decimal></gmd:northBoundLatitude></gmd:EX_GeographicBoundingBox></gmd:geographicElement></gmd:EX_Extent></gmd:extent>`
      : '';
  const lang = r.language ?? 'fre';
  const langEl = `<gmd:LanguageCode codeList="http://www.loc.gov/standards/iso639-2/" codeListValue="${x(lang)}">${x(lang)}</gmd:LanguageCode>`;
  const scope = ['dataset', 'series', 'service', 'nonGeographicDataset', 'collectionSession', 'software', 'model', 'tile', 'dimensionGroup', 'feature', 'attribute'].includes(r.type) ? r.type : 'dataset';
  const links = r.links
    .map(
      (l) =>
        `<gmd:onLine><gmd:CI_OnlineResource><gmd:linkage><gmd:URL>${x(l.url)}</gmd:URL></gmd:linkage>${l.scheme ? `<gmd:protocol>${gco(l.scheme)}</gmd:protocol>` : ''}${l.name ? `<gmd:name>${gco(l.name)}</gmd:name>` : ''}${l.description ? `<gmd:description>${gco(l.description)}</gmd:description>` : ''}</gmd:CI_OnlineResource></gmd:onLine>`,
    )
    .join('');
  return (
    `<gmd:MD_Metadata xmlns:gmd="http://www.isotc211.org/2005/gmd" xmlns:gco="http://www.isotc211.org/2005/gco">` +
    `<gmd:fileIdentifier>${gco(r.identifier)}</gmd:fileIdentifier>` +
    `<gmd:language>${langEl}</gmd:language>` +
    `<gmd:hierarchyLevel><gmd:MD_ScopeCode codeList="http://standards.iso.org/iso/19139/resources/gmxCodelists.xml#MD_ScopeCode" codeListValue="${scope}">${scope}</gmd:MD_ScopeCode></gmd:hierarchyLevel>` +
    `<gmd:contact><gmd:CI_ResponsibleParty><gmd:organisationName>${gco(org)}</gmd:organisationName><gmd:role><gmd:CI_RoleCode codeList="http://standards.iso.org/iso/19139/resources/gmxCodelists.xml#CI_RoleCode" codeListValue="pointOfContact">pointOfContact</gmd:CI_RoleCode></gmd:role></gmd:CI_ResponsibleParty></gmd:contact>` +
    `<gmd:dateStamp>${dateStamp}</gmd:dateStamp>` +
    `<gmd:identificationInfo><gmd:MD_DataIdentification>` +
    `<gmd:citation><gmd:CI_Citation><gmd:title>${gco(r.title)}</gmd:title>` +
    (citationDate
      ? `<gmd:date><gmd:CI_Date><gmd:date><gco:Date>${x(citationDate)}</gco:Date></gmd:date><gmd:dateType><gmd:CI_DateTypeCode codeList="http://standards.iso.org/iso/19139/resources/gmxCodelists.xml#CI_DateTypeCode" codeListValue="publication">publication</gmd:CI_DateTypeCode></gmd:dateType></gmd:CI_Date></gmd:date>`
      : `<gmd:date gco:nilReason="unknown"/>`) +
    `</gmd:CI_Citation></gmd:citation>` +
    `<gmd:abstract>${gco(r.abstract)}</gmd:abstract>` +
    (r.keywords.length ? `<gmd:descriptiveKeywords><gmd:MD_Keywords>${r.keywords.map((k) => `<gmd:keyword>${gco(k)}</gmd:keyword>`).join('')}</gmd:MD_Keywords></gmd:descriptiveKeywords>` : '') +
    `<gmd:language>${langEl}</gmd:language>` +
    r.topic_categories.map((t) => `<gmd:topicCategory><gmd:MD_TopicCategoryCode>${x(t)}</gmd:MD_TopicCategoryCode></gmd:topicCategory>`).join('') +
    bbox +
    `</gmd:MD_DataIdentification></gmd:identificationInfo>` +
    (links ? `<gmd:distributionInfo><gmd:MD_Distribution><gmd:transferOptions><gmd:MD_DigitalTransferOptions>${links}</gmd:MD_DigitalTransferOptions></gmd:transferOptions></gmd:MD_Distribution></gmd:distributionInfo>` : '') +
    `</gmd:MD_Metadata>`
  );
}

const DC_PREFIXES: Record<string, string> = {
  'http://purl.org/dc/elements/1.1/': 'dc',
  'http://purl.org/dc/terms/': 'dct',
  'http://www.opengis.net/ows': 'ows',
};
/** The bindings of DC_NAMESPACES, which every CSW response root declares: stored elements using them need none. */
const RESPONSE_SCOPE: Record<string, string> = { csw: 'http://www.opengis.net/cat/csw/2.0.2', ...Object.fromEntries(Object.entries(DC_PREFIXES).map(([uri, p]) => [p, uri])) };
const BOXES = new Set(['ows:BoundingBox', 'ows:WGS84BoundingBox']);

/**
 * A record stored as Dublin Core, served as it was written (issue 12): `dc:type` as a DCMI URI, `dc:date`,
 * every `dc:relation` and `dct:spatial`…, nothing added. Full: the stored csw:Record itself. Brief and summary:
 * the stored elements the element-set tables name (CSW 2.0.2 §10.2.4.2, record.xsd BriefRecordType and
 * SummaryRecordType, in their order). ElementName: the stored elements of those names, in document order.
 * Undefined when the document cannot be read (the caller then writes the record from its columns).
 */
function storedDublinCore(document: string, set: ElementSetName, elementNames: string[] | undefined, ns: string): string | undefined {
  // Full, stored as a csw:Record: the stored text itself (it declares its namespaces), without parsing it.
  if (set === 'full' && !elementNames) {
    const start = /^\s*<(?:([\w.-]+):)?Record[\s>][^>]*>/.exec(document);
    if (start && start[0].includes(`xmlns${start[1] ? `:${start[1]}` : ''}="${RESPONSE_SCOPE['csw']}"`)) return document.trim();
  }
  let root: XmlElement;
  try {
    root = parseXml(document);
  } catch {
    return undefined;
  }
  const qname = (c: XmlElement) => (DC_PREFIXES[c.ns] ? `${DC_PREFIXES[c.ns]}:${c.name}` : undefined);
  const kids = root.children.map((c) => [qname(c), c] as const);
  const write = (c: XmlElement) => serializeXml(c, ns ? {} : outerScope(c));
  const pick = (name: string, max = Infinity) => kids.filter(([k]) => k === name || (name === 'ows:BoundingBox' && k !== undefined && BOXES.has(k))).slice(0, max).map(([, c]) => write(c)).join('');
  if (elementNames) {
    const present = new Set(kids.map(([k]) => k));
    const wanted = new Set<string>(['dc:identifier']);
    for (const n of elementNames) {
      const last = n.trim().split('/').filter(Boolean).pop() ?? '';
      const colon = last.indexOf(':');
      const prefix = colon >= 0 ? last.slice(0, colon).toLowerCase() : '';
      const local = last.slice(colon + 1);
      // The element as named (dc:date stays dc:date), else its usual equivalent (date → dct:modified).
      const prefixes = ['dc', 'dct', 'ows'].includes(prefix) ? [prefix] : ['dc', 'dct', 'ows'];
      const exact = [...present].find((q) => q !== undefined && prefixes.some((p) => q.toLowerCase() === `${p}:${local.toLowerCase()}`));
      const alias = dcElementName(n);
      if (exact) wanted.add(exact);
      else if (alias) wanted.add(alias);
      if (wanted.has('ows:BoundingBox')) wanted.add('ows:WGS84BoundingBox');
    }
    return `<csw:Record${ns}>${kids.filter(([k]) => k !== undefined && wanted.has(k)).map(([, c]) => write(c)).join('')}</csw:Record>`;
  }
  const title = pick('dc:title') || '<dc:title/>';
  if (set === 'brief') return `<csw:BriefRecord${ns}>${pick('dc:identifier')}${title}${pick('dc:type', 1)}${pick('ows:BoundingBox')}</csw:BriefRecord>`;
  if (set === 'summary') {
    const rest = ['dc:subject', 'dc:format', 'dc:relation', 'dct:modified', 'dct:abstract', 'dct:spatial', 'ows:BoundingBox'].map((k) => pick(k)).join('');
    return `<csw:SummaryRecord${ns}>${pick('dc:identifier')}${title}${pick('dc:type', 1)}${rest}</csw:SummaryRecord>`;
  }
  // A stored csw:Record is the full record itself; an oai_dc:dc or a stored brief/summary gets the csw:Record root.
  if (root.name === 'Record' && root.ns === RESPONSE_SCOPE['csw']) return write(root);
  return `<csw:Record${ns}>${kids.filter(([k]) => k !== undefined).map(([, c]) => write(c)).join('')}</csw:Record>`;
}

/**
 * The bindings to treat as declared around a stored element put into a response: the response root's, and those
 * of the element's scope that it and its descendants do not use (inherited from the stored document, or from
 * the Transaction that carried it). The element then declares only what it uses and the response lacks.
 */
function outerScope(el: XmlElement): Record<string, string> {
  const used = new Set<string>();
  const stack = [el];
  while (stack.length > 0) {
    const e = stack.pop()!;
    used.add(e.prefix);
    for (const k of Object.keys(e.rawAttrs)) if (k.includes(':')) used.add(k.slice(0, k.indexOf(':')));
    stack.push(...e.children);
  }
  const outer: Record<string, string> = { ...RESPONSE_SCOPE };
  for (const [p, uri] of Object.entries(el.scope)) if (!used.has(p)) outer[p] = uri;
  return outer;
}
