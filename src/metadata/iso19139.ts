/**
 * ISO 19139 (gmd:MD_Metadata, also gmi:MI_Metadata) → the catalogue's queryables, following the ISO
 * Application Profile 1.0 mapping (OGC 07-045) and the CNIG/INSPIRE encodings of French records
 * (see shared/research/csw.md §c): gmx:Anchor values, RS_Identifier/MD_Identifier resource identifiers,
 * INSPIRE restriction texts in otherConstraints, conformity reports, services' operatesOn.
 *
 * Also cuts the ISO "brief" and "summary" element sets out of the document. Only optional elements are
 * removed (in document order), so a record that is schema-valid stays schema-valid.
 */
import { serializeXml, type XmlElement } from '../xml/tree.js';
import { all, allText, anchorHref, code, codes, first, MD_NS, value, valueAt, values } from './xml.js';
import {
  emptyRecord,
  linkScheme,
  MetadataError,
  normaliseLanguage,
  toDate,
  toTimestamp,
  uniq,
  type Box,
  type MetadataRecord,
  type OnlineResource,
  type Party,
  type Specification,
} from '../records/record.js';

export function isIsoRoot(root: XmlElement): boolean {
  return (root.name === 'MD_Metadata' && root.ns === MD_NS.gmd) || (root.name === 'MI_Metadata' && root.ns === MD_NS.gmi);
}

/** The identification section (MD_DataIdentification, SV_ServiceIdentification, …): the first one. */
function identification(root: XmlElement): XmlElement | undefined {
  return first(root, 'gmd:identificationInfo/*');
}

function readParty(el: XmlElement, scope: Party['scope']): Party {
  const p: Party = { scope };
  const org = valueAt(el, 'gmd:organisationName');
  const ind = valueAt(el, 'gmd:individualName');
  const email = valueAt(el, 'gmd:contactInfo/gmd:CI_Contact/gmd:address/gmd:CI_Address/gmd:electronicMailAddress');
  const role = codes(el, 'gmd:role')[0];
  if (org) p.organisation = org;
  if (ind) p.individual = ind;
  if (email) p.email = email;
  if (role) p.role = role;
  return p;
}

function num(s: string): number | undefined {
  const n = Number(s.replace(',', '.'));
  return s.trim() !== '' && Number.isFinite(n) ? n : undefined;
}

/** West/east/south/north → a valid box; swapped bounds are put back in order (a common data error). */
export function readBox(el: XmlElement): Box | undefined {
  const w = num(valueAt(el, 'gmd:westBoundLongitude'));
  const e = num(valueAt(el, 'gmd:eastBoundLongitude'));
  const s = num(valueAt(el, 'gmd:southBoundLatitude'));
  const n = num(valueAt(el, 'gmd:northBoundLatitude'));
  if (w === undefined || e === undefined || s === undefined || n === undefined) return undefined;
  return makeBox(w, e, s, n);
}

export function makeBox(w: number, e: number, s: number, n: number): Box | undefined {
  if ([w, e].some((x) => x < -180 || x > 180) || [s, n].some((y) => y < -90 || y > 90)) return undefined;
  // A west bound east of the east bound would cross the antimeridian; when it spans less than half the
  // globe that way round it is far more likely two swapped values.
  let west = w;
  let east = e;
  if (west > east && west - east < 180) [west, east] = [east, west];
  return { west, east, south: Math.min(s, n), north: Math.max(s, n) };
}

function looksLikeLicence(text: string, href?: string): boolean {
  return /licen[cs]e|\bodbl\b|creative ?commons|\bcc[- ]by\b|etalab|open ?licen/i.test(`${text} ${href ?? ''}`);
}

export function extractIso(root: XmlElement, document: string): MetadataRecord {
  if (!isIsoRoot(root)) throw new MetadataError(`Not an ISO 19139 record: root element is ${root.prefix ? root.prefix + ':' : ''}${root.name}`);
  const identifier = valueAt(root, 'gmd:fileIdentifier');
  if (!identifier) throw new MetadataError('The record has no gmd:fileIdentifier');
  const r = emptyRecord(identifier, 'iso19139', document);
  const id = identification(root);

  // Header
  r.language = normaliseLanguage(code(first(root, 'gmd:language')));
  r.type = codes(root, 'gmd:hierarchyLevel')[0] ?? (id?.name === 'SV_ServiceIdentification' ? 'service' : 'dataset');
  r.parentIdentifier = valueAt(root, 'gmd:parentIdentifier') || undefined;
  r.dateStamp = valueAt(root, 'gmd:dateStamp') || undefined;
  r.modified = toTimestamp(r.dateStamp);

  // Citation
  const citation = first(id, 'gmd:citation/gmd:CI_Citation');
  r.title = valueAt(citation, 'gmd:title');
  r.alternateTitles = uniq(values(citation, 'gmd:alternateTitle'));
  for (const d of all(citation, 'gmd:date/gmd:CI_Date')) {
    const date = toDate(valueAt(d, 'gmd:date'));
    const type = codes(d, 'gmd:dateType')[0];
    if (!date) continue;
    // creation: the earliest; publication and revision: the latest.
    if (type === 'creation' && (!r.creationDate || date < r.creationDate)) r.creationDate = date;
    if (type === 'publication' && (!r.publicationDate || date > r.publicationDate)) r.publicationDate = date;
    if (type === 'revision' && (!r.revisionDate || date > r.revisionDate)) r.revisionDate = date;
  }
  for (const ident of all(citation, 'gmd:identifier/*')) {
    const c = valueAt(ident, 'gmd:code');
    if (!c) continue;
    const cs = valueAt(ident, 'gmd:codeSpace');
    r.resourceIdentifiers.push(cs ? { code: c, codeSpace: cs } : { code: c });
  }
  r.resourceIdentifierCodes = uniq(r.resourceIdentifiers.flatMap((i) => (i.codeSpace ? [i.code, `${i.codeSpace.replace(/\/+$/, '')}/${i.code}`] : [i.code])));
  r.abstract = valueAt(id, 'gmd:abstract');

  // Parties: resource contacts (pointOfContact, citedResponsibleParty) and metadata contacts.
  const resourceParties = [...all(id, 'gmd:pointOfContact/gmd:CI_ResponsibleParty'), ...all(citation, 'gmd:citedResponsibleParty/gmd:CI_ResponsibleParty')].map((p) => readParty(p, 'resource'));
  const metadataParties = all(root, 'gmd:contact/gmd:CI_ResponsibleParty').map((p) => readParty(p, 'metadata'));
  r.parties = [...resourceParties, ...metadataParties].filter((p) => p.organisation || p.individual || p.email);
  r.organisations = uniq(resourceParties.map((p) => p.organisation));
  r.responsiblePartyRoles = uniq(resourceParties.map((p) => p.role));
  const byRole = (roles: string[]) => uniq(resourceParties.filter((p) => p.role && roles.includes(p.role)).map((p) => p.organisation ?? p.individual));
  r.creators = byRole(['originator', 'author', 'owner', 'principalInvestigator']);
  r.publishers = byRole(['publisher', 'distributor', 'resourceProvider']);
  r.contributors = byRole(['custodian', 'processor', 'pointOfContact', 'user']);
  if (r.publishers.length === 0 && metadataParties[0]?.organisation) r.publishers = [metadataParties[0].organisation];

  // Keywords (gmd:descriptiveKeywords; srv:keywords on services) and topic categories
  const keywordBlocks = [...all(id, 'gmd:descriptiveKeywords/gmd:MD_Keywords'), ...all(id, 'srv:keywords/gmd:MD_Keywords')];
  r.keywords = uniq(keywordBlocks.flatMap((k) => values(k, 'gmd:keyword')));
  r.keywordTypes = uniq(keywordBlocks.flatMap((k) => codes(k, 'gmd:type')));
  r.thesauri = uniq(keywordBlocks.map((k) => valueAt(k, 'gmd:thesaurusName/gmd:CI_Citation/gmd:title')));
  r.topicCategories = uniq(codes(id, 'gmd:topicCategory'));
  r.resourceLanguages = uniq(all(id, 'gmd:language').map((l) => normaliseLanguage(code(l))));

  // Constraints
  for (const c of all(id, 'gmd:resourceConstraints/*')) {
    r.useLimitations.push(...values(c, 'gmd:useLimitation'));
    if (c.name === 'MD_LegalConstraints') {
      r.accessConstraints.push(...codes(c, 'gmd:accessConstraints'));
      r.useConstraints.push(...codes(c, 'gmd:useConstraints'));
      for (const o of all(c, 'gmd:otherConstraints')) {
        const text = value(o);
        const href = anchorHref(o);
        if (text) r.otherConstraints.push(text);
        if ((text || href) && looksLikeLicence(text, href)) r.licences.push(href ?? text);
      }
    } else if (c.name === 'MD_SecurityConstraints') {
      r.hasSecurityConstraints = true;
      r.classification.push(...codes(c, 'gmd:classification'));
    }
  }
  for (const u of r.useLimitations) if (looksLikeLicence(u)) r.licences.push(u);
  r.useLimitations = uniq(r.useLimitations);
  r.accessConstraints = uniq(r.accessConstraints);
  r.useConstraints = uniq(r.useConstraints);
  r.otherConstraints = uniq(r.otherConstraints);
  r.classification = uniq(r.classification);
  r.licences = uniq(r.licences);

  // Resolution
  for (const res of all(id, 'gmd:spatialResolution/gmd:MD_Resolution')) {
    const den = num(valueAt(res, 'gmd:equivalentScale/gmd:MD_RepresentativeFraction/gmd:denominator'));
    if (den !== undefined && Number.isInteger(den) && Math.abs(den) < 2 ** 31) r.denominators.push(den);
    for (const d of all(res, 'gmd:distance/*')) {
      const v = num(d.text);
      if (v !== undefined) {
        r.distanceValues.push(v);
        if (d.attrs['uom']) r.distanceUoms.push(d.attrs['uom']);
      }
    }
  }
  r.distanceUoms = uniq(r.distanceUoms);

  // Extents: geographic boxes, geographic identifiers, temporal extent (gmd:extent, or srv:extent on services)
  const extents = [...all(id, 'gmd:extent/gmd:EX_Extent'), ...all(id, 'srv:extent/gmd:EX_Extent')];
  for (const ext of extents) {
    for (const g of all(ext, 'gmd:geographicElement/*')) {
      if (g.name === 'EX_GeographicBoundingBox') {
        const b = readBox(g);
        if (b) r.boxes.push(b);
      } else if (g.name === 'EX_GeographicDescription') {
        r.geographicDescriptionCodes.push(...values(g, 'gmd:geographicIdentifier/*/gmd:code'));
      }
    }
    for (const t of all(ext, 'gmd:temporalElement/*/gmd:extent/*')) {
      const begin = valueAt(t, 'gml:beginPosition') || valueAt(t, 'gml:begin/gml:TimeInstant/gml:timePosition') || valueAt(t, 'gml:timePosition');
      const end = valueAt(t, 'gml:endPosition') || valueAt(t, 'gml:end/gml:TimeInstant/gml:timePosition') || valueAt(t, 'gml:timePosition');
      const b = toTimestamp(begin);
      const e = toTimestamp(end);
      if (b && (!r.tempExtentBegin || b < r.tempExtentBegin)) r.tempExtentBegin = b;
      if (e && (!r.tempExtentEnd || e > r.tempExtentEnd)) r.tempExtentEnd = e;
    }
  }
  r.geographicDescriptionCodes = uniq(r.geographicDescriptionCodes);

  // Reference systems
  r.crs = uniq(
    all(root, 'gmd:referenceSystemInfo/gmd:MD_ReferenceSystem/gmd:referenceSystemIdentifier/gmd:RS_Identifier').map((i) => {
      const c = valueAt(i, 'gmd:code');
      const href = anchorHref(first(i, 'gmd:code'));
      return href ?? c;
    }),
  );

  // Services
  if (id?.ns === MD_NS.srv || id?.name === 'SV_ServiceIdentification') {
    r.serviceType = valueAt(id, 'srv:serviceType') || undefined;
    r.serviceTypeVersions = uniq(values(id, 'srv:serviceTypeVersion'));
    r.couplingType = codes(id, 'srv:couplingType')[0];
    r.operations = uniq(all(id, 'srv:containsOperations/srv:SV_OperationMetadata').map((o) => valueAt(o, 'srv:operationName')));
    const on = all(id, 'srv:operatesOn');
    r.operatesOn = uniq(on.map((o) => o.attrs['uuidref'] ?? o.rawAttrs['xlink:href'] ?? valueAt(o, 'gmd:MD_DataIdentification/gmd:citation/gmd:CI_Citation/gmd:identifier/*/gmd:code')));
    r.operatesOnNames = uniq([...on.map((o) => o.rawAttrs['xlink:title']), ...all(id, 'srv:coupledResource/srv:SV_CoupledResource').map((c) => valueAt(c, 'srv:identifier'))]);
  }

  // Distribution: formats and online resources
  const dist = first(root, 'gmd:distributionInfo/gmd:MD_Distribution');
  r.formats = uniq([
    ...all(dist, 'gmd:distributionFormat/gmd:MD_Format').map((f) => valueAt(f, 'gmd:name')),
    ...all(dist, 'gmd:distributor/gmd:MD_Distributor/gmd:distributorFormat/gmd:MD_Format').map((f) => valueAt(f, 'gmd:name')),
  ]);
  const onlines = [
    ...all(dist, 'gmd:transferOptions/gmd:MD_DigitalTransferOptions/gmd:onLine/gmd:CI_OnlineResource'),
    ...all(dist, 'gmd:distributor/gmd:MD_Distributor/gmd:distributorTransferOptions/gmd:MD_DigitalTransferOptions/gmd:onLine/gmd:CI_OnlineResource'),
  ];
  const seenLinks = new Set<string>();
  for (const o of onlines) {
    const url = valueAt(o, 'gmd:linkage');
    if (!url) continue;
    const link: OnlineResource = { url };
    const protoEl = first(o, 'gmd:protocol');
    const protocol = value(protoEl);
    const href = anchorHref(protoEl);
    if (protocol) link.protocol = protocol;
    if (href) link.protocolHref = href;
    const scheme = linkScheme(protocol, href, url);
    if (scheme) link.scheme = scheme;
    const name = valueAt(o, 'gmd:name');
    const description = valueAt(o, 'gmd:description');
    const fn = codes(o, 'gmd:function')[0];
    const profile = valueAt(o, 'gmd:applicationProfile');
    if (name) link.name = name;
    if (description) link.description = description;
    if (fn) link.function = fn;
    if (profile) link.applicationProfile = profile;
    const mime = first(o, 'gmd:name')?.children.find((c) => c.name === 'MimeFileType' && c.ns === MD_NS.gmx)?.attrs['type']?.trim();
    if (mime) link.mediaType = mime;
    const key = `${url}\u0000${link.scheme ?? ''}\u0000${name}`;
    if (seenLinks.has(key)) continue;
    seenLinks.add(key);
    r.links.push(link);
  }

  // Data quality: lineage and conformity
  const dq = all(root, 'gmd:dataQualityInfo/gmd:DQ_DataQuality');
  r.lineage = dq.map((d) => valueAt(d, 'gmd:lineage/gmd:LI_Lineage/gmd:statement')).find(Boolean);
  for (const res of dq.flatMap((d) => all(d, 'gmd:report/*/gmd:result/gmd:DQ_ConformanceResult'))) {
    const spec = first(res, 'gmd:specification/gmd:CI_Citation');
    const title = valueAt(spec, 'gmd:title');
    if (!title) continue;
    const passEl = first(res, 'gmd:pass');
    const pass = value(passEl).toLowerCase();
    const s: Specification = { title, degree: pass === 'true' || pass === '1' ? 'true' : pass === 'false' || pass === '0' ? 'false' : 'notEvaluated' };
    const d = first(spec, 'gmd:date/gmd:CI_Date');
    const date = toDate(valueAt(d, 'gmd:date'));
    const dateType = codes(d, 'gmd:dateType')[0];
    if (date) s.date = date;
    if (dateType) s.dateType = dateType;
    r.specifications.push(s);
  }

  r.isoBrief = cut(root, BRIEF);
  r.isoSummary = cut(root, SUMMARY);
  r.anytext = allText(root);
  return r;
}

/** Keep-specification of an element set: `true` keeps the whole subtree; an object keeps listed children. */
type Keep = true | { [localName: string]: Keep };

const CITATION_BRIEF: Keep = { '*': { title: true, date: true, identifier: true } };

/** ISO AP 1.0 brief: identification, type, title, extent, service type, plus what gmd.xsd requires. */
const BRIEF: Keep = {
  fileIdentifier: true,
  language: true,
  characterSet: true,
  hierarchyLevel: true,
  contact: true,
  dateStamp: true,
  identificationInfo: {
    '*': {
      citation: CITATION_BRIEF,
      abstract: true,
      graphicOverview: true,
      language: true,
      extent: true,
      serviceType: true,
      serviceTypeVersion: true,
      couplingType: true,
      containsOperations: true,
    },
  },
};

/** ISO AP 1.0 summary: brief + keywords, topic, constraints, resolution, reference systems, distribution, lineage. */
const SUMMARY: Keep = {
  fileIdentifier: true,
  language: true,
  characterSet: true,
  parentIdentifier: true,
  hierarchyLevel: true,
  hierarchyLevelName: true,
  contact: true,
  dateStamp: true,
  metadataStandardName: true,
  metadataStandardVersion: true,
  referenceSystemInfo: true,
  identificationInfo: {
    '*': {
      citation: true,
      abstract: true,
      pointOfContact: true,
      graphicOverview: true,
      descriptiveKeywords: true,
      resourceConstraints: true,
      spatialRepresentationType: true,
      spatialResolution: true,
      language: true,
      characterSet: true,
      topicCategory: true,
      extent: true,
      serviceType: true,
      serviceTypeVersion: true,
      keywords: true,
      couplingType: true,
      containsOperations: true,
      operatesOn: true,
      coupledResource: true,
    },
  },
  distributionInfo: true,
  dataQualityInfo: true,
};

function prune(el: XmlElement, keep: Keep): XmlElement {
  if (keep === true) return el;
  const kids: XmlElement[] = [];
  for (const c of el.children) {
    const k = keep[c.name] ?? keep['*'];
    if (k !== undefined) kids.push(prune(c, k));
  }
  return { ...el, children: kids };
}

function cut(root: XmlElement, keep: Keep): string {
  return serializeXml(prune(root, keep));
}

/** Cut an element set out of a stored ISO document (also used when only ElementName children are wanted). */
export function isoElementSet(root: XmlElement, set: 'brief' | 'summary'): string {
  return cut(root, set === 'brief' ? BRIEF : SUMMARY);
}

/** Keep only the named top-level children of MD_Metadata (ElementName on ISO output), plus fileIdentifier. */
export function isoElements(root: XmlElement, names: string[]): string {
  const keep: { [k: string]: Keep } = { fileIdentifier: true };
  for (const n of names) keep[n] = true;
  return cut(root, keep);
}
