/**
 * The queryables of the catalogue: Dublin Core (CSW 2.0.2 core), ISO AP 1.0 (SupportedISOQueryables and
 * AdditionalQueryables) and the aliases real clients send, each bound to a column of the stored records (src/records/sql.ts).
 *
 * Names are matched case-insensitively and without their prefix (udata sends `apiso:type`, the INSPIRE
 * validator an undeclared `apiso:Language`, GeoNetwork's CQL `the_geom`); an XPath keeps its last step.
 */
import { normaliseType } from '../metadata/dublin-core.js';

export type QueryableKind = 'text' | 'texts' | 'date' | 'dates' | 'timestamp' | 'integers' | 'numbers' | 'boolean' | 'geometry' | 'anytext';

export interface Queryable {
  /** Canonical name (as advertised, without prefix). */
  name: string;
  kind: QueryableKind;
  /** SQL expression over the row alias `r`. Trusted text: never built from a request. */
  sql: string;
  /**
   * More values of a single-valued (`text`) queryable, a text[] expression: the elements of a Dublin Core record
   * as written (`dc:type` http://purl.org/dc/dcmitype/Image beside the stored `image`). Any of them may match.
   */
  extra?: string;
  /**
   * How the stored column derives from a record's own value (`extra`): a record whose value is v holds
   * normalise(v) in `sql`. Lets an equality use the column's index and read the documents only of candidates.
   */
  normalise?: (value: string) => string;
}

const Q = (name: string, kind: QueryableKind, sql: string, extra?: string): Queryable => (extra ? { name, kind, sql, extra } : { name, kind, sql });

/**
 * Every value of a Dublin Core element of a stored csw:Record, whitespace-normalised (CSW 2.0.2 §10.8.4.11: a
 * predicate on a repeated element is true when one of its values makes it true). Read from the document, so
 * that only the rare queries on these elements pay for it; other schemas give `otherwise`.
 */
const dcValues = (element: 'dc:relation' | 'dc:type' | 'dct:spatial', otherwise: string) =>
  `(CASE WHEN r.schema = 'dublincore' THEN ARRAY(SELECT x.v FROM XMLTABLE(XMLNAMESPACES('http://purl.org/dc/elements/1.1/' AS dc, 'http://purl.org/dc/terms/' AS dct), '/*/${element}' PASSING XMLPARSE(DOCUMENT r.document) COLUMNS v text PATH 'normalize-space(.)') x WHERE x.v <> '') ELSE ${otherwise} END)`;

const LINK_SCHEMES = `ARRAY(SELECT coalesce(l->>'scheme', l->>'protocol') FROM jsonb_array_elements(r.links) l WHERE coalesce(l->>'scheme', l->>'protocol') IS NOT NULL)`;
const LINK_URLS = `ARRAY(SELECT l->>'url' FROM jsonb_array_elements(r.links) l)`;

export const QUERYABLES: Queryable[] = [
  Q('AnyText', 'anytext', 'r.anytext_tsv'),
  Q('Title', 'text', 'r.title'),
  Q('AlternateTitle', 'texts', 'r.alternate_titles'),
  Q('Abstract', 'text', 'r.abstract'),
  Q('Subject', 'texts', '(r.keywords || r.topic_categories)'),
  Q('Identifier', 'text', 'r.identifier'),
  Q('Modified', 'timestamp', 'r.modified'),
  { ...Q('Type', 'text', 'r.type', dcValues('dc:type', `'{}'::text[]`)), normalise: normaliseType },
  Q('Format', 'texts', 'r.formats'),
  Q('BoundingBox', 'geometry', 'r.bbox'),
  Q('CRS', 'texts', 'r.crs'),
  Q('Creator', 'texts', 'r.creators'),
  Q('Publisher', 'texts', 'r.publishers'),
  Q('Contributor', 'texts', 'r.contributors'),
  // dc:relation of a Dublin Core record (repeatable), the parent identifier of an ISO one (ISO AP 1.0 Table 10).
  Q('Relation', 'texts', dcValues('dc:relation', 'array_remove(ARRAY[r.parent_identifier], NULL)')),
  // dct:spatial of a Dublin Core record as written (place names, a box as text); for ISO, its CRS and geographic
  // description codes. A text queryable: the footprint is ows:BoundingBox (BBOX on dct:spatial is refused).
  Q('Spatial', 'texts', dcValues('dct:spatial', '(r.crs || r.geographic_description_codes)')),
  Q('Rights', 'texts', '(r.use_limitations || r.other_constraints)'),
  Q('Source', 'text', 'r.lineage'),
  Q('RevisionDate', 'date', 'r.revision_date'),
  Q('CreationDate', 'date', 'r.creation_date'),
  Q('PublicationDate', 'date', 'r.publication_date'),
  Q('OrganisationName', 'texts', 'r.organisations'),
  Q('HasSecurityConstraints', 'boolean', 'r.has_security_constraints'),
  Q('Language', 'text', 'r.language'),
  Q('ResourceIdentifier', 'texts', 'r.resource_identifier_codes'),
  Q('ParentIdentifier', 'text', 'r.parent_identifier'),
  Q('KeywordType', 'texts', 'r.keyword_types'),
  Q('TopicCategory', 'texts', 'r.topic_categories'),
  Q('ResourceLanguage', 'texts', 'r.resource_languages'),
  Q('GeographicDescriptionCode', 'texts', 'r.geographic_description_codes'),
  Q('Denominator', 'integers', 'r.denominators'),
  Q('DistanceValue', 'numbers', 'r.distance_values'),
  Q('DistanceUOM', 'texts', 'r.distance_uoms'),
  Q('TempExtent_begin', 'timestamp', 'r.temp_extent_begin'),
  Q('TempExtent_end', 'timestamp', 'r.temp_extent_end'),
  Q('ServiceType', 'text', 'r.service_type'),
  Q('ServiceTypeVersion', 'texts', 'r.service_type_versions'),
  Q('Operation', 'texts', 'r.operations'),
  Q('OperatesOn', 'texts', 'r.operates_on'),
  Q('OperatesOnIdentifier', 'texts', 'r.operates_on'),
  Q('OperatesOnName', 'texts', 'r.operates_on_names'),
  Q('CouplingType', 'text', 'r.coupling_type'),
  // INSPIRE additional queryables
  Q('Degree', 'texts', 'r.degrees'),
  Q('AccessConstraints', 'texts', 'r.access_constraints'),
  Q('OtherConstraints', 'texts', 'r.other_constraints'),
  Q('Classification', 'texts', 'r.classification'),
  Q('ConditionApplyingToAccessAndUse', 'texts', 'r.use_limitations'),
  Q('Lineage', 'text', 'r.lineage'),
  Q('ResponsiblePartyRole', 'texts', 'r.responsible_party_roles'),
  Q('SpecificationTitle', 'texts', 'r.specification_titles'),
  Q('SpecificationDate', 'dates', 'r.specification_dates'),
  Q('SpecificationDateType', 'texts', 'r.specification_date_types'),
  // Extras (GeoNetwork index names and the like)
  Q('Keyword', 'texts', 'r.keywords'),
  Q('Licence', 'texts', 'r.licences'),
  Q('OnlineResourceType', 'texts', LINK_SCHEMES),
  Q('OnlineResourceUrl', 'texts', LINK_URLS),
];

const ALIASES: Record<string, string> = {
  description: 'abstract',
  date: 'modified',
  datestamp: 'modified',
  fileidentifier: 'identifier',
  uuid: 'identifier',
  bbox: 'boundingbox',
  envelope: 'boundingbox',
  the_geom: 'boundingbox',
  geom: 'boundingbox',
  geometry: 'boundingbox',
  alternative: 'alternatetitle',
  wgs84boundingbox: 'boundingbox',
  organizationname: 'organisationname',
  organisation: 'organisationname',
  organization: 'organisationname',
  keywords: 'keyword',
  license: 'licence',
  hierarchylevel: 'type',
  protocol: 'onlineresourcetype',
  linkprotocol: 'onlineresourcetype',
  tempextentbegin: 'tempextent_begin',
  tempextentend: 'tempextent_end',
  csw_anytext: 'anytext',
  any: 'anytext',
};

const BY_NAME = new Map(QUERYABLES.map((q) => [q.name.toLowerCase(), q]));

/** `csw:AnyText`, `apiso:type`, `/csw:Record/dc:title`, `"dc:title"` → the queryable, or undefined. */
export function findQueryable(name: string): Queryable | undefined {
  let n = name.trim().replace(/^"|"$/g, '');
  n = n.split('/').filter(Boolean).pop() ?? n;
  n = n.replace(/^@/, '').replace(/\[.*$/, '');
  const colon = n.lastIndexOf(':');
  if (colon >= 0) n = n.slice(colon + 1);
  const key = n.toLowerCase();
  return BY_NAME.get(ALIASES[key] ?? key);
}

/** The ISO AP 1.0 queryables (§7.2.4, Table 6/7), advertised with their `apiso:` prefix (see ISO_QUERYABLE_NAMES). */
export const SUPPORTED_ISO_QUERYABLES = [
  'AnyText', 'Title', 'Abstract', 'Subject', 'Identifier', 'Modified', 'Type', 'Format', 'BoundingBox', 'CRS',
  'AlternateTitle', 'RevisionDate', 'CreationDate', 'PublicationDate', 'OrganisationName', 'HasSecurityConstraints',
  'Language', 'ResourceIdentifier', 'ParentIdentifier', 'KeywordType', 'TopicCategory', 'ResourceLanguage',
  'GeographicDescriptionCode', 'Denominator', 'DistanceValue', 'DistanceUOM', 'TempExtent_begin', 'TempExtent_end',
  'ServiceType', 'ServiceTypeVersion', 'Operation', 'OperatesOn', 'OperatesOnIdentifier', 'OperatesOnName', 'CouplingType',
];

export const ADDITIONAL_QUERYABLES = [
  'Degree', 'AccessConstraints', 'OtherConstraints', 'Classification', 'ConditionApplyingToAccessAndUse', 'Lineage',
  'ResponsiblePartyRole', 'SpecificationTitle', 'SpecificationDate', 'SpecificationDateType',
  'Keyword', 'Licence', 'OnlineResourceType', 'OnlineResourceUrl',
];

/** CSW 2.0.2 Table 6 (core queryables) and the other Dublin Core elements of csw:Record (record.xsd) searched. */
export const DUBLIN_CORE_QUERYABLES = [
  'csw:AnyText', 'dc:title', 'dct:alternative', 'dct:abstract', 'dc:subject', 'dc:identifier', 'dct:modified', 'dc:type', 'dc:format',
  'dc:creator', 'dc:publisher', 'dc:contributor', 'dc:language', 'dc:relation', 'dc:rights', 'dc:source', 'dc:date',
  'dct:spatial', 'ows:BoundingBox',
];

/**
 * The ISO queryables as GetCapabilities lists them: every name with its `apiso:` prefix (ISO AP 1.0 §7.2.4, the
 * INSPIRE TG Discovery 3.1 examples, pycsw), then, once more without prefix, the names the INSPIRE validator
 * compares exactly as bare strings (`Language` among the supported ones, the ten INSPIRE additional
 * queryables): shared/research/csw.md §0.12. Requests may name them either way (findQueryable ignores prefixes).
 */
export const INSPIRE_BARE_SUPPORTED = ['Language'];
export const INSPIRE_BARE_ADDITIONAL = [
  'Degree', 'AccessConstraints', 'OtherConstraints', 'Classification', 'ConditionApplyingToAccessAndUse', 'Lineage',
  'ResponsiblePartyRole', 'SpecificationTitle', 'SpecificationDate', 'SpecificationDateType',
];
export const ISO_QUERYABLE_NAMES = {
  supported: [...SUPPORTED_ISO_QUERYABLES.map((n) => `apiso:${n}`), ...INSPIRE_BARE_SUPPORTED],
  additional: [...ADDITIONAL_QUERYABLES.map((n) => `apiso:${n}`), ...INSPIRE_BARE_ADDITIONAL],
};
