/**
 * A catalogue record as an OGC API – Records GeoJSON record (OGC 20-004 §8.2 record core, recordGeoJSON), written
 * from the stored queryables (no document is parsed per request), as the CSW Dublin Core and Atom writers are:
 *
 * - id: the record identifier; geometry: the footprint's envelope (WGS 84, CRS84 order) or null; time: the
 *   resource's temporal extent or null;
 * - properties: type, title, description, keywords, themes (ISO topic categories), language and
 *   resourceLanguages ({code}, ISO 639-2), externalIds (resource identifiers), formats ({name}), contacts
 *   (responsible parties with their role), rights (use limitations, other and access constraints), license
 *   (a single licence short enough to be a code; "various" for several), created (resource creation date) and
 *   updated (the metadata date stamp);
 * - links: self, alternates (HTML, ISO 19139 and Dublin Core through CSW GetRecordById, DCAT), the collection,
 *   and the record's own online resources (download links as `enclosure`, OGC services as `service`, licences
 *   given as URLs as `license`, others `related`).
 */
import { storedRecordColumns, type StoredRecord } from '../../../src/metadata/writers.js';
import { NS } from '../../../src/xml/namespaces.js';

/** What a record row holds: the writers' columns and the few more a Records record shows. */
export type RecordRow = StoredRecord & {
  modified: Date | null;
  temp_extent_begin: Date | null;
  temp_extent_end: Date | null;
  resource_languages: string[];
  access_constraints: string[];
  topic_categories: string[];
  /** The harvest source the record came from (sdi.harvest_sources), or null. */
  source_id: string | null;
};

/** Select list over alias `r` of sdi.metadata_records (src/records) for RecordRow. */
export const RECORD_COLUMNS = `${storedRecordColumns(null)}, r.modified, r.temp_extent_begin, r.temp_extent_end, r.resource_languages, r.access_constraints, r.source_id::text AS source_id`;

export const RECORD_CONFORMANCE = 'http://www.opengis.net/spec/ogcapi-records-1/1.0/req/record-core';
const TOPIC_SCHEME = 'https://standards.iso.org/iso/19139/resources/gmxCodelists.xml#MD_TopicCategoryCode';
export const GEOJSON = 'application/geo+json';

export interface Link {
  href: string;
  rel: string;
  type?: string;
  title?: string;
  hreflang?: string;
}

export interface RecordUrls {
  /** /records/collections/{id} */
  collection: string;
  /** The CSW endpoint. */
  csw: string;
  /** The DCAT endpoint. */
  dcat: string;
}

/** RFC 3339 UTC date-time without fractions of a second (the record schema's timestamp pattern accepts it). */
const utc = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function time(r: RecordRow): Record<string, unknown> | null {
  const b = r.temp_extent_begin;
  const e = r.temp_extent_end;
  if (!b && !e) return null;
  if (b && e && b.getTime() === e.getTime()) return { timestamp: utc(b) };
  return { interval: [b ? utc(b) : '..', e ? utc(e) : '..'] };
}

function geometry(r: RecordRow): Record<string, unknown> | null {
  if (r.minx === null || r.miny === null || r.maxx === null || r.maxy === null) return null;
  const { minx, miny, maxx, maxy } = r;
  return { type: 'Polygon', coordinates: [[[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]] };
}


function contacts(r: RecordRow): Array<Record<string, unknown>> {
  return r.parties
    .filter((p) => p.organisation || p.individual)
    .map((p) => ({
      ...(p.individual ? { name: p.individual } : {}),
      ...(p.organisation ? { organization: p.organisation } : {}),
      ...(p.email ? { emails: [{ value: p.email }] } : {}),
      // The role as ISO 19115 names it (CI_RoleCode); the record's own contact (gmd:contact) is also a metadataContact.
      roles: [p.role ?? 'pointOfContact', ...(p.scope === 'metadata' ? ['metadataContact'] : [])],
    }));
}

function license(r: RecordRow): string | undefined {
  if (r.licences.length > 1) return 'various';
  const l = r.licences[0]?.trim();
  return l && l.length <= 64 ? l : undefined;
}

const isUrl = (s: string) => /^https?:\/\/\S+$/i.test(s);

function dataLinks(r: RecordRow): Link[] {
  const out: Link[] = [];
  for (const l of r.links) {
    if (!isUrl(l.url)) continue;
    const rel = l.function === 'download' ? 'enclosure' : l.scheme && /^OGC:/.test(l.scheme) ? 'service' : 'related';
    const title = [l.name, l.description].filter(Boolean).join(' – ') || l.scheme || l.protocol;
    out.push({ href: l.url, rel, ...(title ? { title } : {}), ...(l.scheme || l.protocol ? { 'ogc:protocol': l.scheme ?? l.protocol } : {}) } as Link);
  }
  for (const l of r.licences) if (isUrl(l.trim())) out.push({ href: l.trim(), rel: 'license', title: 'Licence' });
  return out;
}

/** The record's links to itself in other encodings (the CSW GetRecordById of its ISO 19139 and Dublin Core forms). */
function alternates(r: RecordRow, urls: RecordUrls, self: string): Link[] {
  const byId = (schema: string) => `${urls.csw}?service=CSW&version=2.0.2&request=GetRecordById&outputSchema=${encodeURIComponent(schema)}&elementSetName=full&id=${encodeURIComponent(r.identifier)}`;
  return [
    { href: `${self}?f=json`, rel: 'self', type: GEOJSON, title: 'This record (GeoJSON)' },
    { href: `${self}?f=html`, rel: 'alternate', type: 'text/html', title: 'This record (HTML)' },
    // The CSW response wraps the record in csw:GetRecordByIdResponse: its media type is the CSW's, application/xml.
    { href: byId(NS.gmd), rel: 'alternate', type: 'application/xml', title: 'ISO 19139 (CSW GetRecordById)' },
    { href: byId(NS.csw202), rel: 'alternate', type: 'application/xml', title: 'Dublin Core (CSW GetRecordById)' },
    { href: `${urls.dcat}/records/${encodeURIComponent(r.identifier)}`, rel: 'alternate', type: 'application/rdf+xml', title: 'DCAT' },
    { href: urls.collection, rel: 'collection', type: 'application/json', title: 'The catalogue' },
  ];
}

export function recordUrl(urls: RecordUrls, identifier: string): string {
  return `${urls.collection}/items/${encodeURIComponent(identifier)}`;
}

/** The GeoJSON record (OGC 20-004 recordGeoJSON). */
export function writeRecord(r: RecordRow, urls: RecordUrls): Record<string, unknown> {
  const self = recordUrl(urls, r.identifier);
  const g = geometry(r);
  const rights = [...r.use_limitations, ...r.other_constraints, ...r.access_constraints.filter((c) => c !== 'otherRestrictions')];
  const lic = license(r);
  const properties: Record<string, unknown> = {
    type: r.type,
    title: r.title,
    ...(r.abstract ? { description: r.abstract } : {}),
    ...(r.keywords.length ? { keywords: r.keywords } : {}),
    ...(r.topic_categories.length ? { themes: [{ concepts: r.topic_categories.map((id) => ({ id })), scheme: TOPIC_SCHEME }] } : {}),
    ...(r.language ? { language: { code: r.language } } : {}),
    ...(r.resource_languages.length ? { resourceLanguages: r.resource_languages.map((code) => ({ code })) } : {}),
    ...(r.resource_identifiers.length ? { externalIds: r.resource_identifiers.map((i) => ({ ...(i.codeSpace ? { scheme: i.codeSpace } : {}), value: i.code })) } : {}),
    ...(r.formats.length ? { formats: r.formats.map((name) => ({ name })) } : {}),
    ...(r.parties.length ? { contacts: contacts(r) } : {}),
    ...(rights.length ? { rights: rights.join('\n') } : {}),
    ...(lic ? { license: lic } : {}),
    ...(r.creation_date ? { created: `${r.creation_date}T00:00:00Z` } : {}),
    ...(r.modified ? { updated: utc(r.modified) } : {}),
  };
  return {
    id: r.identifier,
    type: 'Feature',
    conformsTo: [RECORD_CONFORMANCE],
    time: time(r),
    geometry: g,
    ...(g ? { bbox: [r.minx, r.miny, r.maxx, r.maxy] } : {}),
    properties,
    links: [...alternates(r, urls, self), ...dataLinks(r)],
  };
}
