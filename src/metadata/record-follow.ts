/**
 * A layer's record edited by a person (CSW Transaction Update, or an ISO document stored for the layer) keeps
 * following the layer's facts unless the layer's record is frozen: its dateStamp, its geographic bounding box,
 * the platform links of its distribution (WFS, OGC API, Atom, CSW, re-based on the public URL), and the title
 * and abstract, whichever side changed last. Everything else the person wrote is kept as written.
 */
import { parseXml } from '../xml/tree.js';
import type { XmlElement } from '../xml/tree.js';
import { all, first, value } from './xml.js';
import { serializeXml as serialize } from '../xml/tree.js';

export interface FollowedFacts {
  bbox: { west: number; east: number; south: number; north: number } | null;
  /** Public base URL of the platform (no trailing slash). */
  base: string;
  title?: string;
  abstract?: string;
}

const setValue = (el: XmlElement | undefined, v: string): void => {
  const c = el?.children.find((k) => k.name === 'CharacterString' || k.name === 'Anchor' || k.name === 'Decimal' || k.name === 'DateTime' || k.name === 'Date');
  if (c) {
    c.text = v;
    c.children = [];
  }
};

/** Platform service links: <anything>/wfs, /ogcapi/…, /download/atom/…, /csw, with their query. */
const PLATFORM_LINK = /^https?:\/\/[^/?#]+(?:\/[^?#]*?)?(\/(?:wfs|ogcapi|download\/atom|csw|wms)(?:[/?#].*)?)$/;

/**
 * The person's document with the facts brought up to date, `dateStamp` as the stamp to write when that changed
 * anything; the document unchanged (same string) when nothing needed to change or it is not ISO 19139.
 */
export function followFacts(document: string, facts: FollowedFacts, dateStamp: string): string {
  let root: XmlElement;
  try {
    root = parseXml(document);
  } catch {
    return document;
  }
  if (root.name !== 'MD_Metadata' && root.name !== 'MI_Metadata') return document;
  const before = serialize(root);
  const ident = first(root, 'gmd:identificationInfo/*');
  if (facts.bbox) {
    const box = first(ident, 'gmd:extent/gmd:EX_Extent/gmd:geographicElement/gmd:EX_GeographicBoundingBox');
    if (box) {
      const b = facts.bbox;
      for (const [tag, v] of [['westBoundLongitude', b.west], ['eastBoundLongitude', b.east], ['southBoundLatitude', b.south], ['northBoundLatitude', b.north]] as const) {
        const el = first(box, `gmd:${tag}`);
        if (el && Number(value(el)) !== Number(v.toFixed(2))) setValue(el, v.toFixed(2));
      }
    }
  }
  if (facts.title !== undefined) {
    const t = first(ident, 'gmd:citation/gmd:CI_Citation/gmd:title');
    if (t && value(t) !== facts.title) setValue(t, facts.title);
  }
  if (facts.abstract !== undefined) {
    const a = first(ident, 'gmd:abstract');
    if (a && facts.abstract && value(a) !== facts.abstract) setValue(a, facts.abstract);
  }
  for (const url of all(root, 'gmd:distributionInfo/gmd:MD_Distribution/gmd:transferOptions/gmd:MD_DigitalTransferOptions/gmd:onLine/gmd:CI_OnlineResource/gmd:linkage/gmd:URL')) {
    const m = PLATFORM_LINK.exec(url.text.trim());
    if (m && url.text.trim() !== facts.base + m[1]) url.text = facts.base + m[1];
  }
  if (serialize(root) === before) return document;
  setValue(first(root, 'gmd:dateStamp'), first(root, 'gmd:dateStamp')?.children[0]?.name === 'Date' ? dateStamp.slice(0, 10) : dateStamp);
  return serialize(root);
}

/** Title and abstract of an ISO record ('' when absent). */
export function recordTitleAbstract(document: string): { title: string; abstract: string } {
  try {
    const ident = first(parseXml(document), 'gmd:identificationInfo/*');
    return { title: value(first(ident, 'gmd:citation/gmd:CI_Citation/gmd:title')), abstract: value(first(ident, 'gmd:abstract')) };
  } catch {
    return { title: '', abstract: '' };
  }
}
