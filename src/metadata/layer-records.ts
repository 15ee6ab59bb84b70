/**
 * Coupling the catalogue with the services: one ISO 19139 dataset record per published layer and one service
 * record for the WFS (srv:SV_ServiceIdentification, operatesOn every dataset), written in the CNIG / INSPIRE
 * TG 2.0 encodings (shared/research/csw.md §c): resource identifier, reference system, licence and access
 * limitations as gmx:Anchor, WFS link ending in request=GetCapabilities, a download link (function download).
 *
 * `syncLayerRecords` is idempotent: an unchanged layer leaves its record untouched. A record's dateStamp is the
 * layer's updated_at (editing a layer moves it); when the content changes for another reason (extent,
 * configuration) the dateStamp moves to now, so harvesters comparing dates see every change.
 *
 * Records the platform writes are marked `managed_by` (migration 0003). A layer linked to a record written by
 * a person (managed_by NULL, e.g. replaced through CSW Transaction) keeps it: it is never overwritten.
 *
 * The layers come from the caller (src/publishing/, which publishes a layer and syncs the records, reads them in
 * the sync's transaction): this module reads no layer itself.
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from '../db/pool.js';
import type { Config } from '../config/index.js';
import type { PublishedLayer } from '../catalog/published.js';
import type { RasterLayer } from '../catalog/rasters.js';
import { layerExtentWgs84 } from '../catalog/extent.js';
import { xmlEscape as x } from '../xml/escape.js';
import { quoteIdent } from '../db/identifiers.js';
import { parseRecord } from './store.js';
import { deleteLayerRecordsExcept, managedRecord, managedRecordFacts, recordUpdatedAt, setManagedBy, upsertRecord, type ManagedRecord } from '../records/repository.js';

/** A stored record as the sync reads it. */
type StoredRow = ManagedRecord;
import { INSPIRE_THEMES, inspireThemeUri, type Party } from './layer-metadata.js';
import { followFacts, recordTitleAbstract } from './record-follow.js';
import { wholeLayerFiles, wholeRasterFiles } from './distribution.js';

const GMX = 'http://standards.iso.org/iso/19139/resources/gmxCodelists.xml';
const NS_DECL =
  'xmlns:gmd="http://www.isotc211.org/2005/gmd" xmlns:gco="http://www.isotc211.org/2005/gco" xmlns:gmx="http://www.isotc211.org/2005/gmx" ' +
  'xmlns:srv="http://www.isotc211.org/2005/srv" xmlns:xlink="http://www.w3.org/1999/xlink"';

/** Licence of the platform's data (Licence Ouverte / Etalab 2.0, the licence of the demo data). */
export const LICENCE = { href: 'https://www.etalab.gouv.fr/licence-ouverte-open-licence', text: 'Licence Ouverte 2.0 (Etalab)' };
const NO_LIMITATIONS = { href: 'http://inspire.ec.europa.eu/metadata-codelist/LimitationsOnPublicAccess/noLimitations', text: "Pas de restriction d'accès public" };
const WFS_PROTOCOL = { href: 'http://www.opengis.net/def/serviceType/ogc/wfs', text: 'OGC:WFS' };
const DOWNLOAD_PROFILE = { href: 'http://inspire.ec.europa.eu/metadata-codelist/SpatialDataServiceType/download', text: 'download' };
const ACCESS_POINT = { href: 'http://inspire.ec.europa.eu/metadata-codelist/OnLineDescriptionCode/accessPoint', text: 'accessPoint' };
/** INSPIRE pre-defined download service (Atom feeds of the download service, services/download/atom.ts). */
const ATOM_PROTOCOL = { href: 'https://tools.ietf.org/html/rfc4287', text: 'INSPIRE Atom' };
/** WMS, the view service of the platform (services/maps/wms), and the INSPIRE view service type. */
const WMS_PROTOCOL = { href: 'http://www.opengis.net/def/serviceType/ogc/wms', text: 'OGC:WMS' };
const VIEW_PROFILE = { href: 'http://inspire.ec.europa.eu/metadata-codelist/SpatialDataServiceType/view', text: 'view' };
/** OGC API – Features (Part 1), by the protocol code GeoNetwork 4 and the national catalogues use. */
const OAPIF_PROTOCOL = { href: 'http://www.opengis.net/spec/ogcapi-features-1/1.0', text: 'OGC:API-Features' };

/** managed_by of a layer's record kept marked as withdrawn after the layer was deleted or unpublished (not removed by the sync). */
export const withdrawnManagedBy = (layerName: string) => `withdrawn:${layerName}`;

/** URLs of the Atom feeds: the top (service) feed and a layer's dataset feed. */
export const atomServiceFeedUrl = (base: string) => `${base}/download/atom/service.xml`;
export const atomDatasetFeedUrl = (base: string, layerName: string) => `${base}/download/atom/${encodeURIComponent(layerName)}.xml`;

// ---------------------------------------------------------------------------------------------- identifiers

/** RFC 4122 version 5 (SHA-1, URL namespace) UUID of a name: stable across runs and installations. */
export function uuidV5(name: string): string {
  const ns = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex'); // the URL namespace
  const h = createHash('sha1').update(Buffer.concat([ns, Buffer.from(name, 'utf8')])).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const s = h.subarray(0, 16).toString('hex');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

/** fileIdentifier of a layer's dataset record: derived from the platform namespace and the layer name. */
export const layerRecordIdentifier = (config: Config, layerName: string) => uuidV5(`${config.namespace.uri.replace(/\/+$/, '')}/layers/${layerName}`);
/** fileIdentifier of a service's record ('wfs'). */
export const serviceRecordIdentifier = (config: Config, service = 'wfs') => uuidV5(`${config.namespace.uri.replace(/\/+$/, '')}/services/${service}`);

/** Public base URL of this process: BASE_URL, else http://HOST:PORT (set BASE_URL in production). See recordsBase for what records get. */
export function recordBaseUrl(config: Config): string {
  if (config.baseUrl) return config.baseUrl.replace(/\/+$/, '');
  const host = !config.host || config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${config.port}`;
}

/** The CSW GetRecordById URL of a record (what WFS MetadataURL and the service's operatesOn point to). */
export function getRecordByIdUrl(cswUrl: string, identifier: string): string {
  return `${cswUrl}?service=CSW&version=2.0.2&request=GetRecordById&outputSchema=http://www.isotc211.org/2005/gmd&elementSetName=full&id=${encodeURIComponent(identifier)}`;
}

// ---------------------------------------------------------------------------------------------- XML pieces

const cs = (v: string) => `<gco:CharacterString>${x(v)}</gco:CharacterString>`;
const anchor = (a: { href: string; text: string }) => `<gmx:Anchor xlink:href="${x(a.href)}">${x(a.text)}</gmx:Anchor>`;
const codeEl = (el: string, list: string, value: string) => `<gmd:${el} codeList="${GMX}#${list}" codeListValue="${value}">${value}</gmd:${el}>`;
const dateEl = (date: string, type: string) =>
  `<gmd:date><gmd:CI_Date><gmd:date><gco:Date>${date}</gco:Date></gmd:date><gmd:dateType>${codeEl('CI_DateTypeCode', 'CI_DateTypeCode', type)}</gmd:dateType></gmd:CI_Date></gmd:date>`;
const language = '<gmd:LanguageCode codeList="http://www.loc.gov/standards/iso639-2/" codeListValue="fre">fre</gmd:LanguageCode>';
const utf8 = `<gmd:characterSet>${codeEl('MD_CharacterSetCode', 'MD_CharacterSetCode', 'utf8')}</gmd:characterSet>`;

function party(config: Config, role: string): string {
  const s = config.service;
  return (
    `<gmd:CI_ResponsibleParty><gmd:organisationName>${cs(s.providerName)}</gmd:organisationName>` +
    `<gmd:contactInfo><gmd:CI_Contact>` +
    (s.contactEmail ? `<gmd:address><gmd:CI_Address><gmd:electronicMailAddress>${cs(s.contactEmail)}</gmd:electronicMailAddress></gmd:CI_Address></gmd:address>` : '') +
    (s.providerSite ? `<gmd:onlineResource><gmd:CI_OnlineResource><gmd:linkage><gmd:URL>${x(s.providerSite)}</gmd:URL></gmd:linkage></gmd:CI_OnlineResource></gmd:onlineResource>` : '') +
    `</gmd:CI_Contact></gmd:contactInfo><gmd:role>${codeEl('CI_RoleCode', 'CI_RoleCode', role)}</gmd:role></gmd:CI_ResponsibleParty>`
  );
}

/** A party an administrator set on a layer (producer: originator; contact: pointOfContact). */
function layerParty(p: Party, role: string): string {
  return (
    `<gmd:CI_ResponsibleParty>${p.individual ? `<gmd:individualName>${cs(p.individual)}</gmd:individualName>` : ''}<gmd:organisationName>${cs(p.organisation)}</gmd:organisationName>` +
    (p.email || p.url
      ? `<gmd:contactInfo><gmd:CI_Contact>` +
        (p.email ? `<gmd:address><gmd:CI_Address><gmd:electronicMailAddress>${cs(p.email)}</gmd:electronicMailAddress></gmd:CI_Address></gmd:address>` : '') +
        (p.url ? `<gmd:onlineResource><gmd:CI_OnlineResource><gmd:linkage><gmd:URL>${x(p.url)}</gmd:URL></gmd:linkage></gmd:CI_OnlineResource></gmd:onlineResource>` : '') +
        `</gmd:CI_Contact></gmd:contactInfo>`
      : '') +
    `<gmd:role>${codeEl('CI_RoleCode', 'CI_RoleCode', role)}</gmd:role></gmd:CI_ResponsibleParty>`
  );
}

function bboxEl(b: WgsBox): string {
  const d = (tag: string, v: number) => `<gmd:${tag}><gco:Decimal>${v.toFixed(2)}</gco:Decimal></gmd:${tag}>`;
  return (
    `<gmd:EX_Extent><gmd:geographicElement><gmd:EX_GeographicBoundingBox>` +
    d('westBoundLongitude', b.west) + d('eastBoundLongitude', b.east) + d('southBoundLatitude', b.south) + d('northBoundLatitude', b.north) +
    `</gmd:EX_GeographicBoundingBox></gmd:geographicElement></gmd:EX_Extent>`
  );
}

/** A licence given as a URL is written as an anchor to it; a name as text; none: the platform's (Etalab 2.0). */
function licenceEl(licence?: string | null): string {
  if (!licence) return anchor(LICENCE);
  return /^https?:\/\//.test(licence) ? anchor({ href: licence, text: licence }) : cs(licence);
}

function constraints(licence?: string | null): string {
  return (
    `<gmd:resourceConstraints><gmd:MD_LegalConstraints><gmd:accessConstraints>${codeEl('MD_RestrictionCode', 'MD_RestrictionCode', 'otherRestrictions')}</gmd:accessConstraints>` +
    `<gmd:otherConstraints>${anchor(NO_LIMITATIONS)}</gmd:otherConstraints></gmd:MD_LegalConstraints></gmd:resourceConstraints>` +
    `<gmd:resourceConstraints><gmd:MD_LegalConstraints><gmd:useConstraints>${codeEl('MD_RestrictionCode', 'MD_RestrictionCode', 'otherRestrictions')}</gmd:useConstraints>` +
    `<gmd:otherConstraints>${licenceEl(licence)}</gmd:otherConstraints></gmd:MD_LegalConstraints></gmd:resourceConstraints>`
  );
}

export interface Link {
  url: string;
  protocol: { href?: string; text: string };
  profile?: { href: string; text: string };
  name?: string;
  /** Media type the URL answers with: the name is then written as gmx:MimeFileType (ISO 19139 gmx.xsd). */
  mediaType?: string;
  description?: { href?: string; text: string };
  fn?: 'download' | 'information';
}

function onLine(l: Link): string {
  const val = (v: { href?: string; text: string }) => (v.href ? anchor(v as { href: string; text: string }) : cs(v.text));
  return (
    `<gmd:onLine><gmd:CI_OnlineResource><gmd:linkage><gmd:URL>${x(l.url)}</gmd:URL></gmd:linkage>` +
    `<gmd:protocol>${val(l.protocol)}</gmd:protocol>` +
    (l.profile ? `<gmd:applicationProfile>${anchor(l.profile)}</gmd:applicationProfile>` : '') +
    (l.name ? `<gmd:name>${l.mediaType ? `<gmx:MimeFileType type="${x(l.mediaType)}">${x(l.name)}</gmx:MimeFileType>` : cs(l.name)}</gmd:name>` : '') +
    (l.description ? `<gmd:description>${val(l.description)}</gmd:description>` : '') +
    (l.fn ? `<gmd:function>${codeEl('CI_OnLineFunctionCode', 'CI_OnLineFunctionCode', l.fn)}</gmd:function>` : '') +
    `</gmd:CI_OnlineResource></gmd:onLine>`
  );
}

const INSPIRE_1089 =
  "Règlement (UE) n° 1089/2010 de la Commission du 23 novembre 2010 portant modalités d'application de la directive 2007/2/CE du Parlement européen et du Conseil en ce qui concerne l'interopérabilité des séries et des services de données géographiques";

function dataQuality(level: 'dataset' | 'service', lineage?: string): string {
  return (
    `<gmd:dataQualityInfo><gmd:DQ_DataQuality><gmd:scope><gmd:DQ_Scope><gmd:level>${codeEl('MD_ScopeCode', 'MD_ScopeCode', level)}</gmd:level>` +
    (level === 'service' ? `<gmd:levelDescription><gmd:MD_ScopeDescription><gmd:other>${cs('service')}</gmd:other></gmd:MD_ScopeDescription></gmd:levelDescription>` : '') +
    `</gmd:DQ_Scope></gmd:scope>` +
    `<gmd:report><gmd:DQ_DomainConsistency><gmd:result><gmd:DQ_ConformanceResult><gmd:specification><gmd:CI_Citation>` +
    `<gmd:title>${anchor({ href: 'http://data.europa.eu/eli/reg/2010/1089', text: INSPIRE_1089 })}</gmd:title>${dateEl('2010-12-08', 'publication')}` +
    `</gmd:CI_Citation></gmd:specification><gmd:explanation>${cs("Données non harmonisées selon les spécifications INSPIRE")}</gmd:explanation>` +
    `<gmd:pass><gco:Boolean>false</gco:Boolean></gmd:pass></gmd:DQ_ConformanceResult></gmd:result></gmd:DQ_DomainConsistency></gmd:report>` +
    (lineage ? `<gmd:lineage><gmd:LI_Lineage><gmd:statement>${cs(lineage)}</gmd:statement></gmd:LI_Lineage></gmd:lineage>` : '') +
    `</gmd:DQ_DataQuality></gmd:dataQualityInfo>`
  );
}

/** ISO topic category and INSPIRE theme guessed from a layer's keywords/title (administrative units only, for now). */
function classify(l: { title: string; keywords: string[] }): { topic?: string; theme?: { href: string; text: string } } {
  const text = `${l.title} ${l.keywords.join(' ')}`.toLowerCase();
  if (/limites? administrative|commune|départ|depart|région|region|canton|arrondissement|epci|intercommunal/.test(text)) {
    return { topic: 'boundaries', theme: { href: 'http://inspire.ec.europa.eu/theme/au', text: 'Unités administratives' } };
  }
  return {};
}

// ---------------------------------------------------------------------------------------------- records

export interface WgsBox {
  west: number;
  east: number;
  south: number;
  north: number;
}

export interface DatasetRecordInput {
  identifier: string;
  layerName: string;
  title: string;
  abstract: string;
  keywords: string[];
  srid: number;
  /** dateStamp (ISO date-time, UTC). */
  dateStamp: string;
  /** Layer creation date (citation date, YYYY-MM-DD). */
  created: string;
  bbox: WgsBox | null;
  /** What the administrator set (migration 0017); absent: guessed from the keywords (topic, theme), the platform's (licence, contact). */
  topicCategories?: string[];
  inspireThemes?: string[];
  licence?: string | null;
  producer?: Party | null;
  contact?: Party | null;
  /** Facts of the data: last change of the layer (citation revision date, YYYY-MM-DD), feature count, attributes. */
  revised?: string;
  count?: number | null;
  countApproximate?: boolean;
  attributes?: Array<{ name: string; type: string; alias?: string }>;
  /** Lineage statement instead of the vector layers' one. */
  lineage?: string;
  /** A sentence of facts of its own (raster size and bands). */
  extraFacts?: string;
  /** 'vector' (default) or 'grid' (raster layers). */
  representation?: 'vector' | 'grid';
  /** Links of the distribution instead of the vector services' (raster layers). */
  links?: Link[];
  /** Distribution formats instead of GML and GeoJSON. */
  formats?: Array<{ name: string; version: string }>;
}

/** The facts of a layer's data, as a sentence of the record's supplementalInformation. */
function factsText(d: DatasetRecordInput): string {
  const parts: string[] = [];
  if (typeof d.count === 'number') parts.push(`Nombre d’objets : ${d.countApproximate ? 'environ ' : ''}${d.count}.`);
  if (d.extraFacts) parts.push(d.extraFacts);
  if (d.attributes?.length) parts.push(`Attributs : ${d.attributes.map((a) => `${a.name} (${a.type}${a.alias ? `, « ${a.alias} »` : ''})`).join(', ')}.`);
  return parts.join(' ');
}

/**
 * The links of a raster layer's record (issue 12): the view service that draws it (WMS GetCapabilities, the layer
 * named apart in gmd:name, as for the OGC API link of a feature layer; the WMTS serves the feature layers' tiles
 * only), the whole raster as files of the download service (GeoTIFF, COG, in its own CRS: the pre-defined files of
 * its Atom feed) when the platform builds them — a whole raster over the hard limit of an extract
 * (download.rasterMaxPixels, SDI_DOWNLOAD_RASTER_MAX_PIXELS) is refused (413), and a record links no file that is
 * refused —, and the Atom feed. test/catalogue/csw-links.test.ts fetches each.
 */
export function rasterLinks(base: string, r: Pick<RasterLayer, 'name' | 'title' | 'srid' | 'width' | 'height' | 'bands'>, maxPixels: number): Link[] {
  const { name, title, srid } = r;
  const whole = r.width * r.height * r.bands <= maxPixels;
  return [
    {
      url: `${base}/wms?service=WMS&version=1.3.0&request=GetCapabilities`,
      protocol: WMS_PROTOCOL,
      profile: VIEW_PROFILE,
      name,
      description: { text: `Service de visualisation WMS ; couche ${name} : ${title}` },
    },
    ...(whole ? wholeRasterFiles(base, name, srid) : []).map((f): Link => ({
      url: f.url,
      protocol: { text: 'WWW:DOWNLOAD-1.0-http--download' },
      name: f.fileName,
      mediaType: f.mediaType,
      description: { text: `Raster entier, ${f.title}, EPSG:${f.srid} (fichier du service de téléchargement)` },
      fn: 'download',
    })),
    {
      url: atomDatasetFeedUrl(base, name), protocol: ATOM_PROTOCOL, profile: DOWNLOAD_PROFILE, name, mediaType: 'application/atom+xml',
      description: { text: `Flux Atom du jeu de données ${title} (GeoTIFF, COG ; service de téléchargement simple INSPIRE)` }, fn: 'download',
    },
  ];
}

/** The CNIG-conformant ISO 19139 dataset record of a layer. */
export function datasetRecordXml(config: Config, d: DatasetRecordInput): string {
  const base = recordBaseUrl(config);
  const typeName = `${config.namespace.prefix}:${d.layerName}`;
  const guessed = classify(d);
  const topics = d.topicCategories?.length ? d.topicCategories : guessed.topic ? [guessed.topic] : [];
  const themes = d.inspireThemes?.length ? d.inspireThemes.map((c) => ({ href: inspireThemeUri(c), text: INSPIRE_THEMES[c] ?? c })) : guessed.theme ? [guessed.theme] : [];
  const facts = factsText(d);
  const nsUri = config.namespace.uri.replace(/\/+$/, '');
  const crs = d.srid > 0 ? d.srid : 2154;
  const links: Link[] = d.links ?? [
    {
      url: `${base}/wfs?service=WFS&version=2.0.0&request=GetCapabilities`,
      protocol: WFS_PROTOCOL,
      profile: DOWNLOAD_PROFILE,
      name: typeName,
      description: ACCESS_POINT,
    },
    // As QGIS's OAPIF provider takes it: the API's landing page, the collection named apart (gmd:name, as a
    // gco:CharacterString: OWSLib, hence MetaSearch, reads no other name encoding).
    {
      url: `${base}/ogcapi`,
      protocol: OAPIF_PROTOCOL,
      profile: DOWNLOAD_PROFILE,
      name: d.layerName,
      description: { text: `API OGC – Features (page d'accueil) ; collection ${d.layerName} : ${d.title}` },
      fn: 'download',
    },
    // The whole layer as files of the download service (not a page of an API: every feature, whatever the count).
    ...wholeLayerFiles(base, d.layerName, crs).map((f): Link => ({
      url: f.url,
      protocol: { text: 'WWW:DOWNLOAD-1.0-http--download' },
      name: f.fileName,
      mediaType: f.mediaType,
      description: { text: `Couche entière, ${f.title}, EPSG:${f.srid} (fichier du service de téléchargement)` },
      fn: 'download',
    })),
    {
      url: atomDatasetFeedUrl(base, d.layerName),
      protocol: ATOM_PROTOCOL,
      profile: DOWNLOAD_PROFILE,
      name: d.layerName,
      mediaType: 'application/atom+xml',
      description: { text: `Flux Atom du jeu de données ${d.title} (service de téléchargement simple INSPIRE : fichiers par format et système de coordonnées)` },
      fn: 'download',
    },
  ];
  return (
    `<gmd:MD_Metadata ${NS_DECL}>` +
    `<gmd:fileIdentifier>${cs(d.identifier)}</gmd:fileIdentifier>` +
    `<gmd:language>${language}</gmd:language>${utf8}` +
    `<gmd:hierarchyLevel>${codeEl('MD_ScopeCode', 'MD_ScopeCode', 'dataset')}</gmd:hierarchyLevel>` +
    `<gmd:contact>${party(config, 'pointOfContact')}</gmd:contact>` +
    `<gmd:dateStamp><gco:DateTime>${d.dateStamp}</gco:DateTime></gmd:dateStamp>` +
    `<gmd:metadataStandardName>${cs('ISO 19115')}</gmd:metadataStandardName><gmd:metadataStandardVersion>${cs('2003/Cor 1:2006')}</gmd:metadataStandardVersion>` +
    `<gmd:referenceSystemInfo><gmd:MD_ReferenceSystem><gmd:referenceSystemIdentifier><gmd:RS_Identifier><gmd:code>` +
    anchor({ href: `http://www.opengis.net/def/crs/EPSG/0/${crs}`, text: `EPSG:${crs}` }) +
    `</gmd:code></gmd:RS_Identifier></gmd:referenceSystemIdentifier></gmd:MD_ReferenceSystem></gmd:referenceSystemInfo>` +
    `<gmd:identificationInfo><gmd:MD_DataIdentification>` +
    `<gmd:citation><gmd:CI_Citation><gmd:title>${cs(d.title)}</gmd:title>${dateEl(d.created, 'creation')}${d.revised && d.revised !== d.created ? dateEl(d.revised, 'revision') : ''}` +
    `<gmd:identifier><gmd:RS_Identifier><gmd:code>${cs(d.layerName)}</gmd:code><gmd:codeSpace>${cs(nsUri)}</gmd:codeSpace></gmd:RS_Identifier></gmd:identifier>` +
    `</gmd:CI_Citation></gmd:citation>` +
    `<gmd:abstract>${cs(d.abstract || d.title)}</gmd:abstract>` +
    `<gmd:pointOfContact>${party(config, 'custodian')}</gmd:pointOfContact>` +
    (d.producer ? `<gmd:pointOfContact>${layerParty(d.producer, 'originator')}</gmd:pointOfContact>` : '') +
    (d.contact ? `<gmd:pointOfContact>${layerParty(d.contact, 'pointOfContact')}</gmd:pointOfContact>` : '') +
    (themes.length
      ? `<gmd:descriptiveKeywords><gmd:MD_Keywords>${themes.map((t) => `<gmd:keyword>${anchor(t)}</gmd:keyword>`).join('')}<gmd:thesaurusName><gmd:CI_Citation>` +
        `<gmd:title>${anchor({ href: 'http://www.eionet.europa.eu/gemet/inspire_themes', text: 'GEMET - INSPIRE themes, version 1.0' })}</gmd:title>${dateEl('2008-06-01', 'publication')}` +
        `</gmd:CI_Citation></gmd:thesaurusName></gmd:MD_Keywords></gmd:descriptiveKeywords>`
      : '') +
    (d.keywords.length ? `<gmd:descriptiveKeywords><gmd:MD_Keywords>${d.keywords.map((k) => `<gmd:keyword>${cs(k)}</gmd:keyword>`).join('')}</gmd:MD_Keywords></gmd:descriptiveKeywords>` : '') +
    constraints(d.licence) +
    `<gmd:spatialRepresentationType>${codeEl('MD_SpatialRepresentationTypeCode', 'MD_SpatialRepresentationTypeCode', d.representation ?? 'vector')}</gmd:spatialRepresentationType>` +
    `<gmd:language>${language}</gmd:language>${utf8}` +
    topics.map((t) => `<gmd:topicCategory><gmd:MD_TopicCategoryCode>${x(t)}</gmd:MD_TopicCategoryCode></gmd:topicCategory>`).join('') +
    (d.bbox ? `<gmd:extent>${bboxEl(d.bbox)}</gmd:extent>` : '') +
    (facts ? `<gmd:supplementalInformation>${cs(facts)}</gmd:supplementalInformation>` : '') +
    `</gmd:MD_DataIdentification></gmd:identificationInfo>` +
    `<gmd:distributionInfo><gmd:MD_Distribution>` +
    (d.formats ?? [{ name: 'GeoPackage', version: '1.3' }, { name: 'ESRI Shapefile', version: '1.0' }, { name: 'GeoJSON', version: 'RFC 7946' }, { name: 'GML', version: '3.2' }])
      .map((f) => `<gmd:distributionFormat><gmd:MD_Format><gmd:name>${cs(f.name)}</gmd:name><gmd:version>${cs(f.version)}</gmd:version></gmd:MD_Format></gmd:distributionFormat>`)
      .join('') +
    `<gmd:transferOptions><gmd:MD_DigitalTransferOptions>${links.map(onLine).join('')}</gmd:MD_DigitalTransferOptions></gmd:transferOptions>` +
    `</gmd:MD_Distribution></gmd:distributionInfo>` +
    dataQuality('dataset', d.lineage ?? `Couche ${typeName} publiée par ${config.service.providerName} depuis la table PostGIS de la plateforme.`) +
    `</gmd:MD_Metadata>`
  );
}

export interface CoupledDataset {
  /** fileIdentifier of the dataset record. */
  identifier: string;
  /** Resource identifier code and code space of the dataset. */
  code: string;
  codeSpace?: string;
  layerName: string;
  title: string;
}

export interface ServiceRecordInput {
  identifier: string;
  dateStamp: string;
  created: string;
  datasets: CoupledDataset[];
  bbox: WgsBox | null;
}

/** The WFS service record: INSPIRE download service, operatesOn every dataset record. */
export function wfsServiceRecordXml(config: Config, s: ServiceRecordInput): string {
  const base = recordBaseUrl(config);
  const wfs = `${base}/wfs`;
  const csw = `${base}/csw`;
  const svc = config.service;
  const op = (name: string, url: string) =>
    `<srv:containsOperations><srv:SV_OperationMetadata><srv:operationName>${cs(name)}</srv:operationName>` +
    `<srv:DCP><srv:DCPList codeList="${GMX}#DCPList" codeListValue="WebServices">WebServices</srv:DCPList></srv:DCP>` +
    `<srv:connectPoint><gmd:CI_OnlineResource><gmd:linkage><gmd:URL>${x(url)}</gmd:URL></gmd:linkage><gmd:protocol>${anchor(WFS_PROTOCOL)}</gmd:protocol></gmd:CI_OnlineResource></srv:connectPoint>` +
    `</srv:SV_OperationMetadata></srv:containsOperations>`;
  return (
    serviceRecordHead(config, s) +
    `<gmd:citation><gmd:CI_Citation><gmd:title>${cs(`${svc.title} — service de téléchargement WFS`)}</gmd:title>${dateEl(s.created, 'creation')}</gmd:CI_Citation></gmd:citation>` +
    `<gmd:abstract>${cs(svc.abstract)}</gmd:abstract>` +
    `<gmd:pointOfContact>${party(config, 'custodian')}</gmd:pointOfContact>` +
    `<gmd:descriptiveKeywords><gmd:MD_Keywords><gmd:keyword>${anchor({ href: 'http://inspire.ec.europa.eu/metadata-codelist/SpatialDataServiceCategory/infoFeatureAccessService', text: 'infoFeatureAccessService' })}</gmd:keyword>` +
    `<gmd:thesaurusName><gmd:CI_Citation><gmd:title>${cs('Classification of spatial data services')}</gmd:title>${dateEl('2008-12-03', 'publication')}</gmd:CI_Citation></gmd:thesaurusName></gmd:MD_Keywords></gmd:descriptiveKeywords>` +
    (svc.keywords.length ? `<gmd:descriptiveKeywords><gmd:MD_Keywords>${svc.keywords.map((k) => `<gmd:keyword>${cs(k)}</gmd:keyword>`).join('')}</gmd:MD_Keywords></gmd:descriptiveKeywords>` : '') +
    constraints() +
    `<srv:serviceType><gco:LocalName>download</gco:LocalName></srv:serviceType>` +
    `<srv:serviceTypeVersion>${cs('2.0.0')}</srv:serviceTypeVersion><srv:serviceTypeVersion>${cs('1.1.0')}</srv:serviceTypeVersion><srv:serviceTypeVersion>${cs('1.0.0')}</srv:serviceTypeVersion>` +
    (s.bbox ? `<srv:extent>${bboxEl(s.bbox)}</srv:extent>` : '') +
    s.datasets
      .map(
        (d) =>
          `<srv:coupledResource><srv:SV_CoupledResource><srv:operationName>${cs('GetFeature')}</srv:operationName>` +
          `<srv:identifier>${cs(d.codeSpace ? `${d.codeSpace.replace(/\/+$/, '')}/${d.code}` : d.code)}</srv:identifier>` +
          `<gco:ScopedName>${x(`${config.namespace.prefix}:${d.layerName}`)}</gco:ScopedName></srv:SV_CoupledResource></srv:coupledResource>`,
      )
      .join('') +
    `<srv:couplingType><srv:SV_CouplingType codeList="${GMX}#SV_CouplingType" codeListValue="tight">tight</srv:SV_CouplingType></srv:couplingType>` +
    // Connect points a client (or a link checker) can open: each answers 200, the bare /wfs would answer 400.
    // GetFeature needs a type name: its entry point is the capabilities that list them.
    op('GetCapabilities', `${wfs}?service=WFS&version=2.0.0&request=GetCapabilities`) +
    op('DescribeFeatureType', `${wfs}?service=WFS&version=2.0.0&request=DescribeFeatureType`) +
    op('GetFeature', `${wfs}?service=WFS&version=2.0.0&request=GetCapabilities`) +
    s.datasets.map((d) => `<srv:operatesOn uuidref="${x(d.identifier)}" xlink:href="${x(getRecordByIdUrl(csw, d.identifier))}" xlink:title="${x(d.title)}"/>`).join('') +
    `</srv:SV_ServiceIdentification></gmd:identificationInfo>` +
    `<gmd:distributionInfo><gmd:MD_Distribution><gmd:transferOptions><gmd:MD_DigitalTransferOptions>` +
    onLine({ url: `${wfs}?service=WFS&version=2.0.0&request=GetCapabilities`, protocol: WFS_PROTOCOL, profile: DOWNLOAD_PROFILE, name: svc.title, description: ACCESS_POINT }) +
    `</gmd:MD_DigitalTransferOptions></gmd:transferOptions></gmd:MD_Distribution></gmd:distributionInfo>` +
    dataQuality('service') +
    `</gmd:MD_Metadata>`
  );
}

/** Opening of a service record, up to SV_ServiceIdentification: the same for every service of the platform. */
function serviceRecordHead(config: Config, s: ServiceRecordInput): string {
  return (
    `<gmd:MD_Metadata ${NS_DECL}>` +
    `<gmd:fileIdentifier>${cs(s.identifier)}</gmd:fileIdentifier>` +
    `<gmd:language>${language}</gmd:language>${utf8}` +
    `<gmd:hierarchyLevel>${codeEl('MD_ScopeCode', 'MD_ScopeCode', 'service')}</gmd:hierarchyLevel>` +
    `<gmd:hierarchyLevelName>${cs('service')}</gmd:hierarchyLevelName>` +
    `<gmd:contact>${party(config, 'pointOfContact')}</gmd:contact>` +
    `<gmd:dateStamp><gco:DateTime>${s.dateStamp}</gco:DateTime></gmd:dateStamp>` +
    `<gmd:metadataStandardName>${cs('ISO 19119')}</gmd:metadataStandardName><gmd:metadataStandardVersion>${cs('2005/PDAM 1')}</gmd:metadataStandardVersion>` +
    `<gmd:identificationInfo><srv:SV_ServiceIdentification>`
  );
}

/** The INSPIRE pre-defined (Atom) download service record: operatesOn every dataset, resource locator = the top feed. */
export function atomServiceRecordXml(config: Config, s: ServiceRecordInput): string {
  const base = recordBaseUrl(config);
  const feed = atomServiceFeedUrl(base);
  const csw = `${base}/csw`;
  const svc = config.service;
  return (
    serviceRecordHead(config, s) +
    `<gmd:citation><gmd:CI_Citation><gmd:title>${cs(`${svc.title} — service de téléchargement simple (Atom)`)}</gmd:title>${dateEl(s.created, 'creation')}</gmd:CI_Citation></gmd:citation>` +
    `<gmd:abstract>${cs(`Service de téléchargement simple INSPIRE (flux Atom) : un flux par jeu de données, un fichier par format et système de coordonnées. ${svc.abstract}`)}</gmd:abstract>` +
    `<gmd:pointOfContact>${party(config, 'custodian')}</gmd:pointOfContact>` +
    `<gmd:descriptiveKeywords><gmd:MD_Keywords><gmd:keyword>${anchor({ href: 'http://inspire.ec.europa.eu/metadata-codelist/SpatialDataServiceCategory/infoProductAccessService', text: 'infoProductAccessService' })}</gmd:keyword>` +
    `<gmd:thesaurusName><gmd:CI_Citation><gmd:title>${cs('Classification of spatial data services')}</gmd:title>${dateEl('2008-12-03', 'publication')}</gmd:CI_Citation></gmd:thesaurusName></gmd:MD_Keywords></gmd:descriptiveKeywords>` +
    constraints() +
    `<srv:serviceType><gco:LocalName>download</gco:LocalName></srv:serviceType>` +
    (s.bbox ? `<srv:extent>${bboxEl(s.bbox)}</srv:extent>` : '') +
    `<srv:couplingType><srv:SV_CouplingType codeList="${GMX}#SV_CouplingType" codeListValue="tight">tight</srv:SV_CouplingType></srv:couplingType>` +
    `<srv:containsOperations><srv:SV_OperationMetadata><srv:operationName>${cs('Get Download Service Metadata')}</srv:operationName>` +
    `<srv:DCP><srv:DCPList codeList="${GMX}#DCPList" codeListValue="WebServices">WebServices</srv:DCPList></srv:DCP>` +
    `<srv:connectPoint><gmd:CI_OnlineResource><gmd:linkage><gmd:URL>${x(feed)}</gmd:URL></gmd:linkage><gmd:protocol>${anchor(ATOM_PROTOCOL)}</gmd:protocol></gmd:CI_OnlineResource></srv:connectPoint>` +
    `</srv:SV_OperationMetadata></srv:containsOperations>` +
    s.datasets.map((d) => `<srv:operatesOn uuidref="${x(d.identifier)}" xlink:href="${x(getRecordByIdUrl(csw, d.identifier))}" xlink:title="${x(d.title)}"/>`).join('') +
    `</srv:SV_ServiceIdentification></gmd:identificationInfo>` +
    `<gmd:distributionInfo><gmd:MD_Distribution><gmd:transferOptions><gmd:MD_DigitalTransferOptions>` +
    onLine({ url: feed, protocol: ATOM_PROTOCOL, profile: DOWNLOAD_PROFILE, name: `${svc.title} — flux Atom`, description: ACCESS_POINT }) +
    `</gmd:MD_DigitalTransferOptions></gmd:transferOptions></gmd:MD_Distribution></gmd:distributionInfo>` +
    dataQuality('service') +
    `</gmd:MD_Metadata>`
  );
}

// ---------------------------------------------------------------------------------------------- sync

export interface SyncReport {
  created: string[];
  updated: string[];
  unchanged: string[];
  /** Generated records removed because their layer is no longer published. */
  deleted: string[];
  /** Layers whose linked record was written by a person and is frozen, or is not ISO (left as it is). */
  kept: string[];
  /** Layers whose person-written record was brought up to the layer's facts (extent, links, title, abstract). */
  followed: string[];
  serviceIdentifier: string;
}

/** UTC date-time without fraction: 2026-11-23T19:18:37Z. */
export const stampOf = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

/** The advisory lock that serialises syncs between processes (taken by the caller, in the sync's transaction). */
export const LAYER_RECORDS_LOCK = 727_154_0003;

async function wgsExtent(db: Pool, layer: PublishedLayer, srid: number): Promise<WgsBox | null> {
  try {
    // The one WGS 84 extent (src/catalog/extent.ts, as WFS, OGC API and Atom give it), rounded outwards to 2
    // decimals (CNIG).
    const r = layer.geometry ? await layerExtentWgs84(db, { ...layer, geometry: { column: layer.geometry.column, srid } }) : null;
    if (!r) return null;
    const down = (v: number) => Math.floor(v * 100) / 100;
    const up = (v: number) => Math.ceil(v * 100) / 100;
    return { west: Math.max(-180, down(r.minx)), south: Math.max(-90, down(r.miny)), east: Math.min(180, up(r.maxx)), north: Math.min(90, up(r.maxy)) };
  } catch {
    return null; // table gone or unreadable: the record goes without extent
  }
}

/**
 * Write (or refresh) the dataset record of every published feature layer given (all of them, by name) and the
 * WFS and Atom service records, link each layer to its record (sdi.layers.metadata_record_id), and remove the
 * generated records of layers not given. Idempotent. Runs in the caller's transaction on `client`, which holds
 * LAYER_RECORDS_LOCK; extents are read through `pool` (a failing statement must not abort the transaction).
 */
export async function writeLayerRecords(client: PoolClient, pool: Pool, configIn: Config, layers: readonly PublishedLayer[], rasters: readonly RasterLayer[] = []): Promise<SyncReport> {
  const report: SyncReport = { created: [], updated: [], unchanged: [], deleted: [], kept: [], followed: [], serviceIdentifier: '' };
  // The links are written with the configured public URL; a process without one (a CLI command, a second
  // server) keeps the base the records already have instead of writing its own address into every record.
  const config = await recordsConfig(client, configIn);
  const stored = (key: Parameters<typeof managedRecord>[1]): Promise<StoredRow | undefined> => managedRecord(client, key);

  /** Upsert a generated document; the dateStamp rule keeps it idempotent and always moving on change. */
  const write = async (identifier: string, managedBy: string, stamp: Date, build: (dateStamp: string) => string): Promise<number> => {
    const old = await stored({ identifier });
    if (old && old.managed_by === managedBy && old.date_stamp && build(old.date_stamp) === old.document) {
      report.unchanged.push(identifier);
      return old.id;
    }
    // Stamps are written to the second: compare at that precision.
    const wanted = Math.floor(stamp.getTime() / 1000) * 1000;
    const useStamp = old?.modified && old.modified.getTime() >= wanted ? new Date(Math.max(Date.now(), old.modified.getTime() + 1000)) : new Date(wanted);
    const { id, outcome } = await upsertRecord(client, parseRecord(build(stampOf(useStamp))));
    await setManagedBy(client, { id }, managedBy);
    report[outcome === 'created' ? 'created' : outcome === 'updated' ? 'updated' : 'unchanged'].push(identifier);
    return id;
  };

  const nsUri = config.namespace.uri.replace(/\/+$/, '');
  const datasets: CoupledDataset[] = [];
  const boxes: WgsBox[] = [];
  for (const l of layers) {
    // Its record kept marked as withdrawn while it was not published (src/metadata/withdrawn-record.ts): the
    // layer's own again, rewritten below with its links.
    const withdrawn = await stored({ managedBy: withdrawnManagedBy(l.name) });
    if (withdrawn) await setManagedBy(client, { id: withdrawn.id }, `layer:${l.name}`);
    // A record written by a person and linked to the layer stays as it is.
    const linked = l.metadataRecordId === null ? undefined : await stored({ id: l.metadataRecordId });
    if (linked && linked.managed_by !== `layer:${l.name}`) {
      const bbox = l.geometry ? await wgsExtent(pool, l, l.geometry.srid) : null;
      if (bbox) boxes.push(bbox);
      const title = await followPersonRecord(client, config, l, linked, bbox, report);
      datasets.push({ identifier: linked.identifier, code: l.name, codeSpace: nsUri, layerName: l.name, title });
      continue;
    }
    const mine = await stored({ managedBy: `layer:${l.name}` });
    const identifier = mine?.identifier ?? layerRecordIdentifier(config, l.name);
    const clash = mine ? undefined : await stored({ identifier });
    if (clash && clash.managed_by !== `layer:${l.name}`) {
      // A person stored a record under this layer's identifier: it is the layer's record.
      await client.query('UPDATE sdi.layers SET metadata_record_id = $2 WHERE id = $1 AND metadata_record_id IS DISTINCT FROM $2', [l.id, clash.id]);
      report.kept.push(l.name);
      datasets.push({ identifier, code: l.name, codeSpace: nsUri, layerName: l.name, title: l.title });
      continue;
    }
    const srid = l.geometry?.srid ?? l.defaultCrs;
    // Extents are read on another connection: a failing statement must not abort the sync transaction.
    const bbox = l.geometry ? await wgsExtent(pool, l, srid) : null;
    if (bbox) boxes.push(bbox);
    const facts = await layerFacts(pool, l);
    if (!facts && mine) {
      // The table cannot be read now (locked while replaced, or gone): its record stays as it is.
      report.unchanged.push(identifier);
      await client.query('UPDATE sdi.layers SET metadata_record_id = $2 WHERE id = $1 AND metadata_record_id IS DISTINCT FROM $2', [l.id, mine.id]);
      datasets.push({ identifier, code: l.name, codeSpace: nsUri, layerName: l.name, title: l.title });
      continue;
    }
    const input: Omit<DatasetRecordInput, 'dateStamp'> = {
      identifier, layerName: l.name, title: l.title, abstract: l.abstract, keywords: l.keywords, srid, created: stampOf(l.createdAt).slice(0, 10), bbox,
      topicCategories: l.topicCategories, inspireThemes: l.inspireThemes, licence: l.licence, producer: l.producer, contact: l.contact,
      revised: stampOf(l.updatedAt).slice(0, 10), ...(facts ?? { count: null, attributes: [] }),
    };
    const id = await write(identifier, `layer:${l.name}`, l.updatedAt, (dateStamp) => datasetRecordXml(config, { ...input, dateStamp }));
    await client.query('UPDATE sdi.layers SET metadata_record_id = $2 WHERE id = $1 AND metadata_record_id IS DISTINCT FROM $2', [l.id, id]);
    datasets.push({ identifier, code: l.name, codeSpace: nsUri, layerName: l.name, title: l.title });
  }

  // Raster layers: a dataset record each (grid representation, GeoTIFF / COG through the Atom feeds), coupled
  // with the Atom download service only (the WFS does not serve them).
  const atomDatasets = [...datasets];
  const vectorBoxes = [...boxes];
  for (const r of rasters) {
    const linked = r.metadataRecordId === null ? undefined : await stored({ id: r.metadataRecordId });
    const title = r.title;
    if (linked && linked.managed_by !== `layer:${r.name}`) {
      report.kept.push(r.name);
      atomDatasets.push({ identifier: linked.identifier, code: r.name, codeSpace: nsUri, layerName: r.name, title });
      continue;
    }
    const identifier = (await stored({ managedBy: `layer:${r.name}` }))?.identifier ?? layerRecordIdentifier(config, r.name);
    const clash = await stored({ identifier });
    if (clash && clash.managed_by !== `layer:${r.name}`) {
      await client.query('UPDATE sdi.raster_layers SET metadata_record_id = $2 WHERE id = $1 AND metadata_record_id IS DISTINCT FROM $2', [r.id, clash.id]);
      report.kept.push(r.name);
      atomDatasets.push({ identifier, code: r.name, codeSpace: nsUri, layerName: r.name, title });
      continue;
    }
    const [w, s, e, n] = r.extent4326;
    const bbox = { west: Math.max(-180, Math.floor(w * 100) / 100), south: Math.max(-90, Math.floor(s * 100) / 100), east: Math.min(180, Math.ceil(e * 100) / 100), north: Math.min(90, Math.ceil(n * 100) / 100) };
    boxes.push(bbox);
    const base = config.baseUrl!;
    const input: Omit<DatasetRecordInput, 'dateStamp'> = {
      identifier, layerName: r.name, title, abstract: r.abstract, keywords: r.keywords, srid: r.srid, created: stampOf(r.createdAt).slice(0, 10), bbox,
      topicCategories: r.topicCategories, inspireThemes: r.inspireThemes, licence: r.licence, producer: r.producer, contact: r.contact,
      revised: stampOf(r.updatedAt).slice(0, 10), representation: 'grid',
      lineage: `Raster ${r.name} publié par ${config.service.providerName} depuis un fichier GeoTIFF de la plateforme.`,
      formats: [{ name: 'GeoTIFF', version: '1.1' }, { name: 'COG', version: '1.0' }],
      links: rasterLinks(base, r, config.download.rasterMaxPixels),
      extraFacts: `Raster de ${r.width} × ${r.height} pixels, ${r.bands} bande${r.bands > 1 ? 's' : ''} ${r.dataType}, pixel de ${r.pixelSizeX} × ${r.pixelSizeY} (unités de EPSG:${r.srid})${r.nodata === null ? '' : `, valeur nulle ${r.nodata}`}.`,
    };
    const id = await write(identifier, `layer:${r.name}`, r.updatedAt, (dateStamp) => datasetRecordXml(config, { ...input, dateStamp }));
    await client.query('UPDATE sdi.raster_layers SET metadata_record_id = $2 WHERE id = $1 AND metadata_record_id IS DISTINCT FROM $2', [r.id, id]);
    atomDatasets.push({ identifier, code: r.name, codeSpace: nsUri, layerName: r.name, title });
  }

  // Generated records of layers that are gone or unpublished.
  const names = [...layers, ...rasters].map((l) => `layer:${l.name}`);
  report.deleted = await deleteLayerRecordsExcept(client, names);

  // The WFS service record.
  const serviceId = (await stored({ managedBy: 'service:wfs' }))?.identifier ?? serviceRecordIdentifier(config, 'wfs');
  const clash = await stored({ identifier: serviceId });
  if (!clash || clash.managed_by === 'service:wfs') {
    const latest = layers.reduce((m, l) => (l.updatedAt > m ? l.updatedAt : m), new Date(0));
    const earliest = layers.reduce((m, l) => (l.createdAt < m ? l.createdAt : m), latest.getTime() ? latest : new Date());
    const bbox = vectorBoxes.length
      ? { west: Math.min(...vectorBoxes.map((b) => b.west)), east: Math.max(...vectorBoxes.map((b) => b.east)), south: Math.min(...vectorBoxes.map((b) => b.south)), north: Math.max(...vectorBoxes.map((b) => b.north)) }
      : null;
    const input = { identifier: serviceId, created: stampOf(earliest).slice(0, 10), datasets, bbox };
    await write(serviceId, 'service:wfs', latest.getTime() ? latest : new Date(), (dateStamp) => wfsServiceRecordXml(config, { ...input, dateStamp }));
  }
  report.serviceIdentifier = serviceId;

  // The INSPIRE pre-defined (Atom) download service record, coupled to the same datasets.
  const atomId = (await stored({ managedBy: 'service:atom' }))?.identifier ?? serviceRecordIdentifier(config, 'atom');
  const atomClash = await stored({ identifier: atomId });
  if (!atomClash || atomClash.managed_by === 'service:atom') {
    const latest = layers.reduce((m, l) => (l.updatedAt > m ? l.updatedAt : m), new Date(0));
    const earliest = layers.reduce((m, l) => (l.createdAt < m ? l.createdAt : m), latest.getTime() ? latest : new Date());
    const bbox = boxes.length
      ? { west: Math.min(...boxes.map((b) => b.west)), east: Math.max(...boxes.map((b) => b.east)), south: Math.min(...boxes.map((b) => b.south)), north: Math.max(...boxes.map((b) => b.north)) }
      : null;
    const input = { identifier: atomId, created: stampOf(earliest).slice(0, 10), datasets: atomDatasets, bbox };
    await write(atomId, 'service:atom', latest.getTime() ? latest : new Date(), (dateStamp) => atomServiceRecordXml(config, { ...input, dateStamp }));
  }
  return report;
}

/**
 * The public base URL records are written with: the configured one (BASE_URL), else the base the WFS service
 * record already has (what a configured server wrote), else this process's own address (a first start).
 */
async function recordsBase(config: Config, stored: { links: Array<{ url?: string }> } | undefined): Promise<string> {
  if (config.baseUrl) return config.baseUrl.replace(/\/+$/, '');
  for (const l of stored?.links ?? []) {
    const m = /^(https?:\/\/[^?#]+?)\/wfs\?/.exec(l.url ?? '');
    if (m) return m[1]!;
  }
  return recordBaseUrl(config);
}

/**
 * The configuration records are written with. What this process does not configure (public URL, contact e-mail,
 * provider site) is taken from the WFS service record the platform wrote before, so that a CLI command or a
 * second server started without them changes no record; a first start without them writes its own address and
 * no e-mail.
 */
async function recordsConfig(client: PoolClient, config: Config): Promise<Config> {
  const stored = await managedRecordFacts(client, 'service:wfs');
  const base = await recordsBase(config, stored);
  const contact = stored ? /<gmd:contact>([\s\S]*?)<\/gmd:contact>/.exec(stored.document)?.[1] ?? '' : '';
  const storedEmail = /<gmd:electronicMailAddress><gco:CharacterString>([^<]+)</.exec(contact)?.[1];
  const storedSite = /<gmd:onlineResource><gmd:CI_OnlineResource><gmd:linkage><gmd:URL>([^<]+)</.exec(contact)?.[1];
  const unescape = (v: string) => v.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
  return {
    ...config,
    baseUrl: base,
    service: {
      ...config.service,
      contactEmail: config.service.contactEmail || (storedEmail ? unescape(storedEmail) : ''),
      providerSite: config.service.providerSite || (storedSite ? unescape(storedSite) : `${base}/`),
    },
  };
}

/** Tables estimated above this many rows are counted from the statistics (no scan at every sync). */
const EXACT_COUNT_MAX = 200_000;

/**
 * Count and attributes of a layer's table, read without waiting: under a lock (a table being replaced or
 * altered) or an error, undefined (the layer's record is then left as it is, not rewritten without facts).
 * Large tables give their count from the statistics, rounded to three figures.
 */
async function layerFacts(pool: Pool, l: PublishedLayer): Promise<{ count: number | null; countApproximate: boolean; attributes: Array<{ name: string; type: string; alias?: string }> } | undefined> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query("SET LOCAL lock_timeout = '500ms'; SET LOCAL statement_timeout = '20s'");
    const { rows: cols } = await c.query<{ name: string; type: string }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [l.schema, l.table],
    );
    const attributes = cols
      .filter((x) => x.name !== l.idColumn && x.name !== l.geometry?.column && !/^(geometry|geography)/.test(x.type))
      .map((x) => ({ name: x.name, type: x.type, ...(l.attributeAliases[x.name] ? { alias: l.attributeAliases[x.name] } : {}) }));
    const { rows: est } = await c.query<{ n: number | null }>(
      `SELECT c.reltuples::float8 AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'm')`,
      [l.schema, l.table],
    );
    const estimate = est[0]?.n ?? -1;
    let count: number;
    let countApproximate = false;
    if (estimate >= EXACT_COUNT_MAX) {
      const digits = Math.floor(Math.log10(estimate)) - 2;
      count = Math.round(estimate / 10 ** digits) * 10 ** digits;
      countApproximate = true;
    } else {
      count = Number((await c.query<{ n: string }>(`SELECT count(*)::bigint AS n FROM ${quoteIdent(l.schema)}.${quoteIdent(l.table)}`)).rows[0]!.n);
    }
    await c.query('COMMIT');
    return { count, countApproximate, attributes };
  } catch {
    await c.query('ROLLBACK').catch(() => undefined);
    return undefined;
  } finally {
    c.release();
  }
}

/**
 * A layer's record written by a person (CSW-T Update, an ISO file) follows the layer's facts unless frozen
 * (src/metadata/record-follow.ts). Title and abstract go the way of the last change: a record edited after the
 * layer gives them to the layer (WFS, OGC API show them), a layer edited after its record gives them to it.
 * Returns the title the services record of the coupling should name.
 */
async function followPersonRecord(client: PoolClient, config: Config, l: PublishedLayer, linked: StoredRow, bbox: WgsBox | null, report: SyncReport): Promise<string> {
  if (l.recordFrozen || !/MD_Metadata|MI_Metadata/.test(linked.document.slice(0, 400))) {
    report.kept.push(l.name);
    return l.title;
  }
  const recordNewer = ((await recordUpdatedAt(client, linked.id)) ?? new Date(0)) > l.updatedAt;
  let title = l.title;
  if (recordNewer) {
    const r = recordTitleAbstract(linked.document);
    if (r.title) {
      title = r.title;
      await client.query(
        `UPDATE sdi.layers SET title = $2, abstract = $3, updated_at = now() WHERE id = $1 AND (title IS DISTINCT FROM $2 OR abstract IS DISTINCT FROM $3)`,
        [l.id, r.title, r.abstract || l.abstract],
      );
    }
  }
  const next = followFacts(linked.document, { bbox, base: config.baseUrl!, ...(recordNewer ? {} : { title: l.title, abstract: l.abstract }) }, stampOf(new Date()));
  if (next !== linked.document) {
    await upsertRecord(client, parseRecord(next));
    report.followed.push(l.name);
  } else report.kept.push(l.name);
  return title;
}
