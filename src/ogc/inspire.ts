/**
 * INSPIRE extended capabilities, "scenario 2" (service metadata given inline), shared by the view service (WMS,
 * `inspire_vs`, TG View Services 3.11 §4.2.3.2) and the discovery service (CSW, `inspire_ds`, TG Discovery 3.1): the
 * resource locator (the service's GetCapabilities), resource type `service`, the date of last revision, conformity to
 * Regulation 1089/2010 (not evaluated), the metadata point of contact, the metadata date, the spatial data service
 * type and its mandatory keyword, the supported languages and the response language. The two services differ only
 * by the element's prefix, their type, keyword and languages.
 */
import { xmlEscape as x } from '../xml/escape.js';

/** Regulation 1089/2010 as INSPIRE's common schema cites it, per response language (eng for any other). */
const REGULATION: Record<string, { type: string; title: string; uri: string }> = {
  fre: {
    type: 'citationInspireInteroperabilityRegulation_fre',
    title:
      "Règlement (UE) n o 1089/2010 de la Commission du 23 novembre 2010 portant modalités d'application de la directive 2007/2/CE du Parlement européen et du Conseil en ce qui concerne l'interopérabilité des séries et des services de données géographiques",
    uri: 'OJ:L:2010:323:0011:0102:FR:PDF',
  },
  eng: {
    type: 'citationInspireInteroperabilityRegulation_eng',
    title:
      'COMMISSION REGULATION (EU) No 1089/2010 of 23 November 2010 implementing Directive 2007/2/EC of the European Parliament and of the Council as regards interoperability of spatial data sets and services',
    uri: 'OJ:L:2010:323:0011:0102:EN:PDF',
  },
};

export interface InspireServiceFacts {
  /** `inspire_vs` (view) or `inspire_ds` (discovery). */
  prefix: 'inspire_vs' | 'inspire_ds';
  capabilitiesUrl: string;
  /** YYYY-MM-DD of the last revision (also the metadata date). */
  date: string;
  serviceType: 'view' | 'discovery';
  keyword: 'infoMapAccessService' | 'infoCatalogueService';
  providerName: string;
  contactEmail: string;
  defaultLanguage: string;
  languages: readonly string[];
  responseLanguage: string;
}

export function inspireExtendedCapabilitiesXml(f: InspireServiceFacts): string {
  const c = (name: string, body: string) => `<inspire_common:${name}>${body}</inspire_common:${name}>`;
  const regulation = REGULATION[f.responseLanguage] ?? REGULATION.eng!;
  return (
    `<${f.prefix}:ExtendedCapabilities>` +
    c('ResourceLocator', c('URL', x(f.capabilitiesUrl)) + c('MediaType', 'application/xml')) +
    c('ResourceType', 'service') +
    c('TemporalReference', c('DateOfLastRevision', f.date)) +
    c(
      'Conformity',
      `<inspire_common:Specification xsi:type="inspire_common:${regulation.type}">` +
        c('Title', x(regulation.title)) +
        c('DateOfPublication', '2010-12-08') +
        c('URI', regulation.uri) +
        c('ResourceLocator', c('URL', x(`http://eur-lex.europa.eu/LexUriServ/LexUriServ.do?uri=${regulation.uri}`)) + c('MediaType', 'application/pdf')) +
        '</inspire_common:Specification>' +
        c('Degree', 'notEvaluated'),
    ) +
    c('MetadataPointOfContact', c('OrganisationName', x(f.providerName)) + c('EmailAddress', x(f.contactEmail))) +
    c('MetadataDate', f.date) +
    c('SpatialDataServiceType', f.serviceType) +
    `<inspire_common:MandatoryKeyword xsi:type="inspire_common:classificationOfSpatialDataService">${c('KeywordValue', f.keyword)}</inspire_common:MandatoryKeyword>` +
    c(
      'SupportedLanguages',
      c('DefaultLanguage', c('Language', f.defaultLanguage)) +
        f.languages
          .filter((l) => l !== f.defaultLanguage)
          .map((l) => c('SupportedLanguage', c('Language', l)))
          .join(''),
    ) +
    c('ResponseLanguage', c('Language', f.responseLanguage)) +
    `</${f.prefix}:ExtendedCapabilities>`
  );
}
