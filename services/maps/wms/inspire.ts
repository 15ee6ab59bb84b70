/**
 * INSPIRE view service extended capabilities (Technical Guidance for INSPIRE View Services 3.11, §4.2.3.2,
 * "scenario 2": the service metadata given inline), in the WMS 1.3.0 capabilities as
 * `inspire_vs:ExtendedCapabilities` (a member of `wms:_ExtendedCapabilities`): the resource locator (this
 * GetCapabilities), resource type `service`, the date of last revision, conformity to Regulation 1089/2010
 * (not evaluated), the metadata point of contact, the metadata date, the service type `view`, the mandatory
 * keyword `infoMapAccessService`, the supported languages and the response language.
 *
 * Languages (TG View §4.2.3.4): GetCapabilities takes `LANGUAGE` (fre, eng); another or none answers in the
 * default language, fre. Only the INSPIRE block says which language answered: titles are the platform's.
 */
import { xmlEscape as x } from '../../../src/xml/escape.js';
import type { WmsContext } from './context.js';

export const INSPIRE_VS_NS = 'http://inspire.ec.europa.eu/schemas/inspire_vs/1.0';
export const INSPIRE_COMMON_NS = 'http://inspire.ec.europa.eu/schemas/common/1.0';
export const INSPIRE_VS_XSD = 'http://inspire.ec.europa.eu/schemas/inspire_vs/1.0/inspire_vs.xsd';

export const WMS_LANGUAGES = ['fre', 'eng'];
export const WMS_DEFAULT_LANGUAGE = 'fre';

/** The response language of a LANGUAGE parameter (case-insensitive; unknown or none: the default). */
export function wmsResponseLanguage(requested: string | undefined): string {
  const r = requested?.trim().toLowerCase();
  return r && WMS_LANGUAGES.includes(r) ? r : WMS_DEFAULT_LANGUAGE;
}

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

/** The last change of what the capabilities describe: the latest update of a listed layer (vector or raster). */
export function lastRevision(ctx: WmsContext): string {
  const times = [...ctx.layers.map((l) => l.updatedAt.getTime()), ...ctx.rasters.map((r) => r.updatedAt.getTime())].filter(Number.isFinite);
  const t = times.length ? Math.max(...times) : Date.now();
  return new Date(t).toISOString().slice(0, 10);
}

export function inspireViewExtendedCapabilities(ctx: WmsContext, lang: string): string {
  const c = (name: string, body: string) => `<inspire_common:${name}>${body}</inspire_common:${name}>`;
  const svc = ctx.platform.config.service;
  const regulation = REGULATION[lang] ?? REGULATION[WMS_DEFAULT_LANGUAGE]!;
  const date = lastRevision(ctx);
  return (
    '<inspire_vs:ExtendedCapabilities>' +
    c('ResourceLocator', c('URL', x(`${ctx.serviceUrl}?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities`)) + c('MediaType', 'application/xml')) +
    c('ResourceType', 'service') +
    c('TemporalReference', c('DateOfLastRevision', date)) +
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
    c('MetadataPointOfContact', c('OrganisationName', x(svc.providerName)) + c('EmailAddress', x(svc.contactEmail))) +
    c('MetadataDate', date) +
    c('SpatialDataServiceType', 'view') +
    `<inspire_common:MandatoryKeyword xsi:type="inspire_common:classificationOfSpatialDataService">${c('KeywordValue', 'infoMapAccessService')}</inspire_common:MandatoryKeyword>` +
    c(
      'SupportedLanguages',
      c('DefaultLanguage', c('Language', WMS_DEFAULT_LANGUAGE)) +
        WMS_LANGUAGES.filter((l) => l !== WMS_DEFAULT_LANGUAGE)
          .map((l) => c('SupportedLanguage', c('Language', l)))
          .join(''),
    ) +
    c('ResponseLanguage', c('Language', lang)) +
    '</inspire_vs:ExtendedCapabilities>'
  );
}
