/**
 * Issue 9: INSPIRE view service extended capabilities in WMS 1.3.0 (Technical Guidance for INSPIRE View
 * Services 3.11, §4.2.3, scenario 2), and the LANGUAGE parameter of GetCapabilities (§4.2.3.4).
 *
 * The INSPIRE schemas are not in shared/schemas-ogc-local: validateWmsCapabilities (image.ts) declares the
 * INSPIRE element with open content; everything else is validated by the official WMS 1.3.0 schema, and the
 * INSPIRE block's content is checked element by element below.
 */
import { describe, expect, it } from 'vitest';
import { fetchMap, validateWmsCapabilities } from './image.js';

describe('INSPIRE view service extended capabilities (WMS 1.3.0)', () => {
  it('sit after Exception, valid with the WMS 1.3.0 schema, and hold what TG View Services 3.11 §4.2.3.2 asks (scenario 2)', async () => {
    const r = await fetchMap('SERVICE=WMS&REQUEST=GetCapabilities');
    expect(r.status).toBe(200);
    const v = validateWmsCapabilities(r.text);
    expect(v.ok, v.output).toBe(true);
    const block = /<\/Exception><inspire_vs:ExtendedCapabilities>(.*?)<\/inspire_vs:ExtendedCapabilities><Layer>/s.exec(r.text)?.[1];
    expect(block).toBeDefined();
    const c = (name: string, body: string) => `<inspire_common:${name}>${body}</inspire_common:${name}>`;
    expect(block).toMatch(/^<inspire_common:ResourceLocator><inspire_common:URL>http:\/\/127\.0\.0\.1:\d+\/wms\?SERVICE=WMS&amp;VERSION=1\.3\.0&amp;REQUEST=GetCapabilities<\/inspire_common:URL>/);
    expect(block).toContain(c('ResourceType', 'service'));
    expect(block).toMatch(/<inspire_common:TemporalReference><inspire_common:DateOfLastRevision>\d{4}-\d\d-\d\d<\/inspire_common:DateOfLastRevision>/);
    expect(block).toContain('<inspire_common:Specification xsi:type="inspire_common:citationInspireInteroperabilityRegulation_fre">');
    expect(block).toContain(c('Degree', 'notEvaluated'));
    expect(block).toContain(c('SpatialDataServiceType', 'view'));
    expect(block).toContain(`<inspire_common:MandatoryKeyword xsi:type="inspire_common:classificationOfSpatialDataService">${c('KeywordValue', 'infoMapAccessService')}</inspire_common:MandatoryKeyword>`);
    expect(block).toContain(c('SupportedLanguages', c('DefaultLanguage', c('Language', 'fre')) + c('SupportedLanguage', c('Language', 'eng'))));
    expect(block).toContain(c('ResponseLanguage', c('Language', 'fre')));
  });

  it('LANGUAGE=eng answers in English (the response language and the regulation citation); an unknown language gets the default', async () => {
    const eng = (await fetchMap('SERVICE=WMS&REQUEST=GetCapabilities&LANGUAGE=eng')).text;
    expect(eng).toContain('<inspire_common:ResponseLanguage><inspire_common:Language>eng</inspire_common:Language></inspire_common:ResponseLanguage>');
    expect(eng).toContain('citationInspireInteroperabilityRegulation_eng');
    const other = (await fetchMap('SERVICE=WMS&REQUEST=GetCapabilities&LANGUAGE=zzz')).text;
    expect(other).toContain('<inspire_common:ResponseLanguage><inspire_common:Language>fre</inspire_common:Language></inspire_common:ResponseLanguage>');
  });
});
