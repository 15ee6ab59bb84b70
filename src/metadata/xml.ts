/**
 * Small helpers over the shared XML tree (src/xml/tree.ts) for metadata documents: namespace-aware paths,
 * ISO 19139 value reading (gco:CharacterString, gmx:Anchor, code lists) and decoding of documents in their
 * declared encoding (the serialiser is the shared one, serializeXml in src/xml/tree.ts).
 */
import type { XmlElement } from '../xml/tree.js';

export const MD_NS = {
  gmd: 'http://www.isotc211.org/2005/gmd',
  gco: 'http://www.isotc211.org/2005/gco',
  gmx: 'http://www.isotc211.org/2005/gmx',
  srv: 'http://www.isotc211.org/2005/srv',
  gmi: 'http://www.isotc211.org/2005/gmi',
  gml: 'http://www.opengis.net/gml',
  gml32: 'http://www.opengis.net/gml/3.2',
  xlink: 'http://www.w3.org/1999/xlink',
  csw: 'http://www.opengis.net/cat/csw/2.0.2',
  dc: 'http://purl.org/dc/elements/1.1/',
  dct: 'http://purl.org/dc/terms/',
  ows: 'http://www.opengis.net/ows',
  oai_dc: 'http://www.openarchives.org/OAI/2.0/oai_dc/',
} as const;

type Step = { ns: string | null; name: string | null };
const pathCache = new Map<string, Step[]>();

/** `gmd:citation/*\/gmd:title` → steps; `*` matches any element; `gml:` matches GML 3.1 and 3.2. */
function compile(path: string): Step[] {
  let steps = pathCache.get(path);
  if (!steps) {
    steps = path.split('/').map((s) => {
      if (s === '*') return { ns: null, name: null };
      const [p, n] = s.split(':') as [string, string];
      const ns = (MD_NS as Record<string, string>)[p];
      if (ns === undefined) throw new Error(`unknown prefix in path ${path}`);
      return { ns, name: n };
    });
    pathCache.set(path, steps);
  }
  return steps;
}

function matches(el: XmlElement, s: Step): boolean {
  if (s.name !== null && el.name !== s.name) return false;
  if (s.ns === null) return true;
  if (s.ns === MD_NS.gml) return el.ns === MD_NS.gml || el.ns === MD_NS.gml32;
  return el.ns === s.ns;
}

/** Every element reached by the path from `el` (document order). */
export function all(el: XmlElement | undefined, path: string): XmlElement[] {
  if (!el) return [];
  let cur: XmlElement[] = [el];
  for (const s of compile(path)) {
    const next: XmlElement[] = [];
    for (const c of cur) for (const k of c.children) if (matches(k, s)) next.push(k);
    cur = next;
    if (cur.length === 0) break;
  }
  return cur;
}

export function first(el: XmlElement | undefined, path: string): XmlElement | undefined {
  return all(el, path)[0];
}

const VALUE_ELEMENTS = new Set([
  'CharacterString',
  'Anchor',
  'FileName',
  'MimeFileType',
  'Decimal',
  'Integer',
  'Real',
  'Boolean',
  'Date',
  'DateTime',
  'LocalName',
  'ScopedName',
  'Distance',
  'Measure',
  'Scale',
  'Length',
  'Angle',
  'URL',
]);

const clean = (s: string) => s.replace(/\s+/g, ' ').trim();

/**
 * The value of an ISO property element: its gco:CharacterString / gmx:Anchor / gco:Decimal … child, or the
 * first PT_FreeText localisation when there is no plain value, or its own text. Whitespace collapsed; '' if none.
 */
export function value(el: XmlElement | undefined): string {
  if (!el) return '';
  for (const c of el.children) {
    if (VALUE_ELEMENTS.has(c.name)) {
      const v = clean(c.text);
      if (v) return v;
    }
  }
  const loc = all(el, 'gmd:PT_FreeText/gmd:textGroup/gmd:LocalisedCharacterString')[0];
  if (loc) return clean(loc.text);
  return el.children.length === 0 ? clean(el.text) : '';
}

export function values(el: XmlElement | undefined, path: string): string[] {
  return all(el, path).map(value).filter(Boolean);
}

/** Value of the property at `path` ('' if absent). */
export function valueAt(el: XmlElement | undefined, path: string): string {
  for (const e of all(el, path)) {
    const v = value(e);
    if (v) return v;
  }
  return '';
}

/** gmx:Anchor xlink:href of a property, if it is written as an anchor. */
export function anchorHref(el: XmlElement | undefined): string | undefined {
  const a = el?.children.find((c) => c.name === 'Anchor' && c.ns === MD_NS.gmx);
  return a?.rawAttrs['xlink:href'] ?? a?.attrs['href'];
}

/** A code list property (`<gmd:hierarchyLevel><gmd:MD_ScopeCode codeListValue="dataset"/>`) → 'dataset'. */
export function code(el: XmlElement | undefined): string {
  if (!el) return '';
  const c = el.children[0];
  if (!c) return clean(el.text);
  return clean(c.attrs['codeListValue'] ?? '') || clean(c.text) || value(el);
}

export function codes(el: XmlElement | undefined, path: string): string[] {
  return all(el, path).map(code).filter(Boolean);
}

/** All text nodes of the subtree, whitespace collapsed: the AnyText of a record. */
export function allText(el: XmlElement): string {
  const parts: string[] = [];
  const walk = (e: XmlElement) => {
    const t = e.text.trim();
    if (t) parts.push(t);
    for (const c of e.children) walk(c);
  };
  walk(el);
  return clean(parts.join(' '));
}


/**
 * Decode an XML document's bytes: a BOM wins, then the encoding of the XML declaration, then the charset of
 * the Content-Type, then UTF-8. ISO-8859-1 documents (CITE tests, old catalogues) are common.
 */
export function decodeXml(bytes: Buffer | Uint8Array, contentTypeCharset?: string): string {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return b.subarray(3).toString('utf8');
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return new TextDecoder('utf-16le').decode(b.subarray(2));
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return new TextDecoder('utf-16be').decode(b.subarray(2));
  const head = b.subarray(0, 200).toString('latin1');
  const m = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head);
  const label = (m?.[1] ?? contentTypeCharset ?? 'utf-8').toLowerCase();
  try {
    return new TextDecoder(label).decode(b);
  } catch {
    return b.toString('utf8');
  }
}

/** Remove a leading BOM, XML declaration and whitespace (records are embedded in responses). */
export function stripXmlDeclaration(xml: string): string {
  return xml.replace(/^\uFEFF?\s*<\?xml[^>]*\?>\s*/, '').replace(/^\s+/, '');
}
