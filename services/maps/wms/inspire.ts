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
import { inspireExtendedCapabilitiesXml } from '../../../src/ogc/inspire.js';
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


/** The last change of what the capabilities describe: the latest update of a listed layer (vector or raster). */
export function lastRevision(ctx: WmsContext): string {
  const times = [...ctx.layers.map((l) => l.updatedAt.getTime()), ...ctx.rasters.map((r) => r.updatedAt.getTime())].filter(Number.isFinite);
  const t = times.length ? Math.max(...times) : Date.now();
  return new Date(t).toISOString().slice(0, 10);
}

export function inspireViewExtendedCapabilities(ctx: WmsContext, lang: string): string {
  const svc = ctx.platform.config.service;
  return inspireExtendedCapabilitiesXml({
    prefix: 'inspire_vs',
    capabilitiesUrl: `${ctx.serviceUrl}?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities`,
    date: lastRevision(ctx),
    serviceType: 'view',
    keyword: 'infoMapAccessService',
    providerName: svc.providerName,
    contactEmail: svc.contactEmail,
    defaultLanguage: WMS_DEFAULT_LANGUAGE,
    languages: WMS_LANGUAGES,
    responseLanguage: lang,
  });
}
