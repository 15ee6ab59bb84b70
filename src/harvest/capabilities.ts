/**
 * WMS (1.1.1, 1.3.0) and WFS (1.0.0, 1.1.0, 2.0.0) capabilities → one ISO 19139 service record
 * (srv:SV_ServiceIdentification: title, abstract, keywords, provider, service type view/download and
 * version, the union of the layers' WGS 84 boxes, the GetCapabilities operation and link). Its identifier is
 * derived from the capabilities URL, so a later harvest of the same URL updates the same record.
 */
import { createHash } from 'node:crypto';
import { parseXml, XmlInputError, type XmlElement } from '../xml/tree.js';
import { xmlEscape as x } from '../xml/escape.js';
import { fetchDocument, HarvestError } from './http.js';
import { exceptionReportText } from './csw.js';
import type { Harvester, HarvestItem } from './types.js';

type Kind = 'wms' | 'wfs';

const descendants = (el: XmlElement, name: string, out: XmlElement[] = []): XmlElement[] => {
  for (const c of el.children) {
    if (c.name === name) out.push(c);
    descendants(c, name, out);
  }
  return out;
};
const kid = (el: XmlElement | undefined, name: string) => el?.children.find((c) => c.name === name);
const txt = (el: XmlElement | undefined) => (el ? el.text.replace(/\s+/g, ' ').trim() : '');

export function capabilitiesUrl(url: string, kind: Kind): string {
  const u = new URL(url);
  const has = (k: string) => [...u.searchParams.keys()].some((p) => p.toLowerCase() === k);
  if (!has('service')) u.searchParams.set('SERVICE', kind.toUpperCase());
  if (!has('request')) u.searchParams.set('REQUEST', 'GetCapabilities');
  return u.href;
}

/** Identifier of the service record of a capabilities URL (stable, UUID-shaped). */
export function serviceRecordId(url: string): string {
  const h = createHash('sha1').update(url).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const DATE_STAMP_RE = /<gmd:dateStamp>[\s\S]*?<\/gmd:dateStamp>/;
/** Generated documents differ only by their dateStamp when nothing changed at the source. */
export const withoutDateStamp = (doc: string) => doc.replace(DATE_STAMP_RE, '');

export function serviceRecord(text: string, url: string, kind: Kind, now = new Date()): HarvestItem {
  let root: XmlElement;
  try {
    root = parseXml(text, 64 * 1024 * 1024);
  } catch (e) {
    if (e instanceof XmlInputError) throw new HarvestError(`${url}: not readable XML (${e.message})`);
    throw e;
  }
  const exc = exceptionReportText(root);
  if (exc) throw new HarvestError(`${url}: exception report: ${exc}`);
  const expected = kind === 'wms' ? /^(WMS_Capabilities|WMT_MS_Capabilities)$/ : /^WFS_Capabilities$/;
  if (!expected.test(root.name)) throw new HarvestError(`${url}: not ${kind.toUpperCase()} capabilities (root ${root.name})`);
  const version = root.attrs['version'] ?? '';
  // OWS-style (WFS 1.1/2.0) or the older Service section (WMS, WFS 1.0).
  const sid = kid(root, 'ServiceIdentification');
  const service = kid(root, 'Service');
  const title = txt(kid(sid, 'Title')) || txt(kid(service, 'Title')) || url;
  const abstract = txt(kid(sid, 'Abstract')) || txt(kid(service, 'Abstract'));
  const keywords = new Set<string>();
  for (const k of [...descendants(kid(sid, 'Keywords') ?? { children: [] } as unknown as XmlElement, 'Keyword'), ...descendants(kid(service, 'KeywordList') ?? ({ children: [] } as unknown as XmlElement), 'Keyword')]) {
    if (txt(k)) keywords.add(txt(k));
  }
  const oldKeywords = kid(service, 'Keywords');
  if (oldKeywords && !oldKeywords.children.length) for (const k of txt(oldKeywords).split(/[,;]/)) if (k.trim()) keywords.add(k.trim());
  const provider = txt(kid(kid(root, 'ServiceProvider'), 'ProviderName')) || txt(descendants(root, 'ContactOrganization')[0]);
  // Union of the WGS 84 boxes of the layers / feature types.
  const boxes: number[][] = [];
  for (const b of descendants(root, 'EX_GeographicBoundingBox')) {
    const v = ['westBoundLongitude', 'southBoundLatitude', 'eastBoundLongitude', 'northBoundLatitude'].map((n) => Number(txt(kid(b, n))));
    boxes.push(v);
  }
  for (const b of [...descendants(root, 'LatLonBoundingBox'), ...descendants(root, 'LatLongBoundingBox')]) {
    boxes.push(['minx', 'miny', 'maxx', 'maxy'].map((n) => Number(b.attrs[n])));
  }
  for (const b of descendants(root, 'WGS84BoundingBox')) {
    const lo = txt(kid(b, 'LowerCorner')).split(/\s+/).map(Number);
    const hi = txt(kid(b, 'UpperCorner')).split(/\s+/).map(Number);
    boxes.push([lo[0]!, lo[1]!, hi[0]!, hi[1]!]);
  }
  const ok = boxes.filter((b) => b.length === 4 && b.every(Number.isFinite) && b[0]! <= b[2]! && b[1]! <= b[3]! && Math.abs(b[0]!) <= 180 && Math.abs(b[2]!) <= 180 && Math.abs(b[1]!) <= 90 && Math.abs(b[3]!) <= 90);
  const box = ok.length ? [Math.min(...ok.map((b) => b[0]!)), Math.min(...ok.map((b) => b[1]!)), Math.max(...ok.map((b) => b[2]!)), Math.max(...ok.map((b) => b[3]!))] : undefined;

  const id = serviceRecordId(url);
  const cs = (v: string) => `<gco:CharacterString>${x(v)}</gco:CharacterString>`;
  const code = (list: string, value: string, ns = 'gmd') =>
    `<${ns}:${list} codeList="http://standards.iso.org/iso/19139/resources/gmxCodelists.xml#${list}" codeListValue="${value}">${value}</${ns}:${list}>`;
  const protocol = kind === 'wms' ? 'OGC:WMS' : 'OGC:WFS';
  const doc =
    `<gmd:MD_Metadata xmlns:gmd="http://www.isotc211.org/2005/gmd" xmlns:gco="http://www.isotc211.org/2005/gco" xmlns:srv="http://www.isotc211.org/2005/srv" xmlns:xlink="http://www.w3.org/1999/xlink">` +
    `<gmd:fileIdentifier>${cs(id)}</gmd:fileIdentifier>` +
    `<gmd:hierarchyLevel>${code('MD_ScopeCode', 'service')}</gmd:hierarchyLevel>` +
    `<gmd:contact><gmd:CI_ResponsibleParty>${provider ? `<gmd:organisationName>${cs(provider)}</gmd:organisationName>` : ''}<gmd:role>${code('CI_RoleCode', 'pointOfContact')}</gmd:role></gmd:CI_ResponsibleParty></gmd:contact>` +
    `<gmd:dateStamp><gco:DateTime>${now.toISOString().slice(0, 19)}</gco:DateTime></gmd:dateStamp>` +
    `<gmd:identificationInfo><srv:SV_ServiceIdentification>` +
    `<gmd:citation><gmd:CI_Citation><gmd:title>${cs(title)}</gmd:title><gmd:date gco:nilReason="unknown"/></gmd:CI_Citation></gmd:citation>` +
    `<gmd:abstract>${cs(abstract || title)}</gmd:abstract>` +
    (provider ? `<gmd:pointOfContact><gmd:CI_ResponsibleParty><gmd:organisationName>${cs(provider)}</gmd:organisationName><gmd:role>${code('CI_RoleCode', 'pointOfContact')}</gmd:role></gmd:CI_ResponsibleParty></gmd:pointOfContact>` : '') +
    (keywords.size ? `<gmd:descriptiveKeywords><gmd:MD_Keywords>${[...keywords].map((k) => `<gmd:keyword>${cs(k)}</gmd:keyword>`).join('')}</gmd:MD_Keywords></gmd:descriptiveKeywords>` : '') +
    `<srv:serviceType><gco:LocalName>${kind === 'wms' ? 'view' : 'download'}</gco:LocalName></srv:serviceType>` +
    (version ? `<srv:serviceTypeVersion>${cs(version)}</srv:serviceTypeVersion>` : '') +
    (box
      ? `<srv:extent><gmd:EX_Extent><gmd:geographicElement><gmd:EX_GeographicBoundingBox>` +
        `<gmd:westBoundLongitude><gco:Decimal>${box[0]}</gco:Decimal></gmd:westBoundLongitude><gmd:eastBoundLongitude><gco:Decimal>${box[2]}</gco:Decimal></gmd:eastBoundLongitude>` +
        `<gmd:southBoundLatitude><gco:Decimal>${box[1]}</gco:Decimal></gmd:southBoundLatitude><gmd:northBoundLatitude><gco:Decimal>${box[3]}</gco:Decimal></gmd:northBoundLatitude>` +
        `</gmd:EX_GeographicBoundingBox></gmd:geographicElement></gmd:EX_Extent></srv:extent>`
      : '') +
    `<srv:couplingType>${code('SV_CouplingType', 'tight', 'srv')}</srv:couplingType>` +
    `<srv:containsOperations><srv:SV_OperationMetadata><srv:operationName>${cs('GetCapabilities')}</srv:operationName>` +
    `<srv:DCP>${code('DCPList', 'WebServices', 'srv')}</srv:DCP>` +
    `<srv:connectPoint><gmd:CI_OnlineResource><gmd:linkage><gmd:URL>${x(url)}</gmd:URL></gmd:linkage></gmd:CI_OnlineResource></srv:connectPoint>` +
    `</srv:SV_OperationMetadata></srv:containsOperations>` +
    `</srv:SV_ServiceIdentification></gmd:identificationInfo>` +
    `<gmd:distributionInfo><gmd:MD_Distribution><gmd:transferOptions><gmd:MD_DigitalTransferOptions><gmd:onLine><gmd:CI_OnlineResource>` +
    `<gmd:linkage><gmd:URL>${x(url)}</gmd:URL></gmd:linkage><gmd:protocol>${cs(protocol)}</gmd:protocol><gmd:name>${cs(title)}</gmd:name>` +
    `</gmd:CI_OnlineResource></gmd:onLine></gmd:MD_DigitalTransferOptions></gmd:transferOptions></gmd:MD_Distribution></gmd:distributionInfo>` +
    `</gmd:MD_Metadata>`;
  return { remoteId: url, document: doc };
}

export function capabilitiesHarvester(kind: Kind): Harvester {
  return async function* (source, ctx) {
    const url = capabilitiesUrl(source.url, kind);
    const res = await fetchDocument(url, { timeoutMs: ctx.timeoutMs, policy: ctx.policy });
    yield [serviceRecord(res.text, url, kind)];
  };
}
