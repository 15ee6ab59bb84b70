/**
 * Dublin Core records (csw:Record / csw:SummaryRecord / csw:BriefRecord, or oai_dc:dc) → the catalogue's
 * queryables. Links come from dct:references (scheme) and dc:URI (protocol, name, description); the
 * footprint from ows:BoundingBox (axis order of its crs) or ows:WGS84BoundingBox.
 */
import type { XmlElement } from '../xml/tree.js';
import { isYX, parseCrs } from '../crs/identifiers.js';
import { allText, MD_NS } from './xml.js';
import { emptyRecord, linkScheme, MetadataError, normaliseLanguage, toDate, toTimestamp, uniq, type MetadataRecord, type OnlineResource } from '../records/record.js';
import { makeBox } from './iso19139.js';

const DC_ROOTS = new Set(['Record', 'SummaryRecord', 'BriefRecord']);

export function isDublinCoreRoot(root: XmlElement): boolean {
  return (root.ns === MD_NS.csw && DC_ROOTS.has(root.name)) || (root.ns === MD_NS.oai_dc && root.name === 'dc');
}

const text = (e: XmlElement) => e.text.replace(/\s+/g, ' ').trim();

/** DCMI type vocabulary URIs and capitalised names → the ISO-like lower-case values used for dc:type. */
export function normaliseType(t: string): string {
  const last = t.split(/[/#]/).pop() ?? t;
  const map: Record<string, string> = { dataset: 'dataset', service: 'service', series: 'series', collection: 'series', software: 'software', text: 'document', image: 'image' };
  return map[last.toLowerCase()] ?? t;
}

export function extractDublinCore(root: XmlElement, document: string): MetadataRecord {
  if (!isDublinCoreRoot(root)) throw new MetadataError(`Not a Dublin Core record: root element is ${root.prefix ? root.prefix + ':' : ''}${root.name}`);
  const dc = (name: string) => root.children.filter((c) => c.ns === MD_NS.dc && c.name === name).map(text).filter(Boolean);
  const dct = (name: string) => root.children.filter((c) => c.ns === MD_NS.dct && c.name === name).map(text).filter(Boolean);
  const identifier = dc('identifier')[0];
  if (!identifier) throw new MetadataError('The record has no dc:identifier');
  const r = emptyRecord(identifier, 'dublincore', document);
  r.title = dc('title')[0] ?? '';
  r.alternateTitles = uniq(dct('alternative'));
  r.type = normaliseType(dc('type')[0] ?? 'dataset');
  const subjects = root.children.filter((c) => c.ns === MD_NS.dc && c.name === 'subject');
  r.topicCategories = uniq(subjects.filter((s) => /TopicCategory/i.test(s.attrs['scheme'] ?? '')).map(text));
  r.keywords = uniq(subjects.filter((s) => !/TopicCategory/i.test(s.attrs['scheme'] ?? '')).map(text));
  r.abstract = dct('abstract')[0] ?? dc('description')[0] ?? '';
  r.dateStamp = dct('modified')[0] ?? dc('date')[0];
  r.modified = toTimestamp(r.dateStamp);
  r.creationDate = toDate(dct('created')[0]);
  r.publicationDate = toDate(dct('issued')[0]);
  r.creators = uniq(dc('creator'));
  r.publishers = uniq(dc('publisher'));
  r.contributors = uniq(dc('contributor'));
  r.organisations = uniq([...r.creators, ...r.publishers, ...r.contributors]);
  r.language = normaliseLanguage(dc('language')[0]);
  r.formats = uniq(dc('format'));
  r.useLimitations = uniq(dc('rights'));
  r.otherConstraints = uniq(dct('accessRights'));
  r.licences = uniq(dct('license'));
  r.lineage = dc('source')[0];
  r.crs = uniq(dct('spatial').filter((s) => /EPSG|CRS/i.test(s)));
  const links: OnlineResource[] = [];
  for (const c of root.children) {
    if (c.ns === MD_NS.dct && c.name === 'references') {
      const url = text(c);
      if (!url) continue;
      const l: OnlineResource = { url };
      const scheme = linkScheme(c.attrs['scheme'], undefined, url);
      if (c.attrs['scheme']) l.protocol = c.attrs['scheme'];
      if (scheme) l.scheme = scheme;
      links.push(l);
    } else if (c.ns === MD_NS.dc && c.name === 'URI') {
      const url = text(c);
      if (!url) continue;
      const l: OnlineResource = { url };
      const scheme = linkScheme(c.attrs['protocol'], undefined, url);
      if (c.attrs['protocol']) l.protocol = c.attrs['protocol'];
      if (scheme) l.scheme = scheme;
      if (c.attrs['name']) l.name = c.attrs['name'];
      if (c.attrs['description']) l.description = c.attrs['description'];
      links.push(l);
    } else if (c.ns === MD_NS.ows && (c.name === 'BoundingBox' || c.name === 'WGS84BoundingBox')) {
      const lo = (c.children.find((k) => k.name === 'LowerCorner')?.text ?? '').trim().split(/\s+/).map(Number);
      const hi = (c.children.find((k) => k.name === 'UpperCorner')?.text ?? '').trim().split(/\s+/).map(Number);
      if (lo.length < 2 || hi.length < 2 || [...lo, ...hi].some((n) => !Number.isFinite(n))) continue;
      const crs = c.name === 'BoundingBox' && c.attrs['crs'] ? parseCrs(c.attrs['crs']) : undefined;
      if (c.attrs['crs'] && c.name === 'BoundingBox' && (!crs || crs.srid !== 4326)) continue;
      const yx = crs ? isYX(crs) : false;
      const [w, s] = yx ? [lo[1]!, lo[0]!] : [lo[0]!, lo[1]!];
      const [e, n] = yx ? [hi[1]!, hi[0]!] : [hi[0]!, hi[1]!];
      const b = makeBox(w, e, s, n);
      if (b) r.boxes.push(b);
    }
  }
  r.links = links;
  r.anytext = allText(root);
  return r;
}
