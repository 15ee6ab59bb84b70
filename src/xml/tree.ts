/**
 * Safe, namespace-aware XML reading shared by every OGC request parser.
 *
 * fast-xml-parser does the tokenising; this module turns its ordered output into a small element tree
 * whose names are resolved to namespace URIs, because OGC clients bind prefixes freely (CITE sends random
 * `ns42:` prefixes) and only the URI is meaningful.
 *
 * Safety: DOCTYPE declarations are refused outright (no entity expansion, no external entities),
 * and the document size is capped before parsing.
 */
import { XMLParser } from 'fast-xml-parser';
import { xmlEscape, xmlEscapeText } from './escape.js';

export interface XmlElement {
  /** Local name, without prefix. */
  name: string;
  /** Namespace URI the prefix resolves to ('' when none). */
  ns: string;
  /** Prefix as written in the document (kept for error messages only). */
  prefix: string;
  /** Attributes by local name (namespace dropped, except xmlns declarations which are not kept). */
  attrs: Record<string, string>;
  /** Attributes as written (qualified names, without xmlns declarations), for re-serialisation. */
  rawAttrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated direct text content. */
  text: string;
  /** Namespace bindings in scope on this element (prefix → URI; '' is the default namespace). */
  scope: Record<string, string>;
}

export class XmlInputError extends Error {}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  // Also decodes numeric character references (&#233;), which XML requires and the XML-only mode skips.
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  commentPropName: '#comment',
  // No callback of ours reads the element path: without this, fast-xml-parser 5 builds the path string of every
  // text node and attribute for its default (identity) value processors. Measured on the bulk loader's parse
  // (1,000 generated ISO records, CPU profile): the path matcher's toString was ~6 % of the parse (issue 12).
  jPath: false,
});

export const DEFAULT_MAX_XML_BYTES = 10 * 1024 * 1024;

export function parseXml(input: string, maxBytes = DEFAULT_MAX_XML_BYTES, maxElements = Infinity): XmlElement {
  if (Buffer.byteLength(input, 'utf8') > maxBytes) {
    throw new XmlInputError(`XML document larger than ${maxBytes} bytes`);
  }
  if (Number.isFinite(maxElements)) {
    // Start tags, counted on the text before any tree is built.
    let n = 0;
    for (let i = input.indexOf('<'); i >= 0; i = input.indexOf('<', i + 1)) {
      const c = input.charCodeAt(i + 1);
      if (c !== 47 && c !== 33 && c !== 63 && ++n > maxElements) throw new XmlInputError(`XML document with more than ${maxElements} elements`);
    }
  }
  if (/<!DOCTYPE/i.test(input) || /<!ENTITY/i.test(input)) {
    throw new XmlInputError('DOCTYPE and entity declarations are not accepted');
  }
  let raw: unknown[];
  try {
    // fast-xml-parser's validator (its errors are our refusals) runs only when the quick check is not sure.
    raw = parser.parse(input, !plainlyWellFormed(input)) as unknown[];
  } catch (e) {
    throw new XmlInputError(`malformed XML: ${(e as Error).message.split('\n')[0]}`);
  }
  const roots = raw.map((n) => toElement(n as RawNode, {})).filter((e): e is XmlElement => e !== null);
  if (roots.length !== 1) throw new XmlInputError('XML document must have exactly one root element');
  return roots[0]!;
}

const isSpace = (c: number) => c === 32 || c === 10 || c === 9 || c === 13;
/** ASCII name characters only (the validator takes any XML name: others are left to it). */
const isNameStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const isNameChar = (c: number) => isNameStart(c) || (c >= 48 && c <= 58) || c === 45 || c === 46;
const ENTITY_REF = /&(?:[A-Za-z0-9_]{1,20}|#[0-9]{1,10}|#x[0-9A-Fa-f]{1,8});/y;

/**
 * Is this document surely one fast-xml-parser's validator accepts? One forward pass over the plain shape of
 * documents: ASCII names, `name="value"` attributes (no quote, `<` or `>` inside, none twice), balanced tags, entity
 * and character references in text, comments and CDATA inside the root, nothing but white space around it. Anything
 * else answers false (not sure): the validator then runs as before and words the refusal. So the documents refused
 * and their messages are exactly the validator's; only the validator's pass over the common well-formed document is
 * saved (issue 12: 0.3 of the ~1.5 ms a generated catalogue record's parse took, CPU profile; this pass: ~0.1 ms).
 * test/unit/xml-well-formed.test.ts checks "true ⇒ the validator accepts" on 1,500 randomly damaged documents.
 */
export function plainlyWellFormed(s: string): boolean {
  const n = s.length;
  const stack: string[] = [];
  let rootSeen = false;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c !== 60 /* < */) {
      if (stack.length === 0) {
        if (!isSpace(c)) return false;
        i++;
        continue;
      }
      // Text: jump to the next markup, its references checked on the way.
      const lt = s.indexOf('<', i);
      const end = lt < 0 ? n : lt;
      for (let a = s.indexOf('&', i); a >= 0 && a < end; a = s.indexOf('&', a + 1)) {
        ENTITY_REF.lastIndex = a;
        if (!ENTITY_REF.test(s)) return false;
      }
      i = end;
      continue;
    }
    const d = s.charCodeAt(i + 1);
    if (d === 33 /* ! */) {
      if (stack.length === 0) return false;
      if (s.startsWith('<!--', i)) {
        const e = s.indexOf('-->', i + 4);
        if (e < 0 || s.indexOf('--', i + 4) < e) return false;
        i = e + 3;
      } else if (s.startsWith('<![CDATA[', i)) {
        const e = s.indexOf(']]>', i + 9);
        if (e < 0) return false;
        i = e + 3;
      } else return false;
      continue;
    }
    if (d === 47 /* / */) {
      let j = i + 2;
      if (!isNameStart(s.charCodeAt(j))) return false;
      while (isNameChar(s.charCodeAt(++j)));
      const name = s.slice(i + 2, j);
      while (isSpace(s.charCodeAt(j))) j++;
      if (s.charCodeAt(j) !== 62 /* > */ || stack.pop() !== name) return false;
      i = j + 1;
      continue;
    }
    // A start tag (one root only).
    if (stack.length === 0 && rootSeen) return false;
    rootSeen = true;
    let j = i + 1;
    if (!isNameStart(s.charCodeAt(j))) return false;
    while (isNameChar(s.charCodeAt(++j)));
    const name = s.slice(i + 1, j);
    let seen: string[] | undefined;
    for (;;) {
      const e = s.charCodeAt(j);
      if (e === 62 /* > */) {
        stack.push(name);
        j++;
        break;
      }
      if (e === 47 /* / */) {
        if (s.charCodeAt(j + 1) !== 62) return false;
        j += 2;
        break;
      }
      if (!isSpace(e)) return false;
      while (isSpace(s.charCodeAt(++j)));
      const a = s.charCodeAt(j);
      if (a === 62 || a === 47) continue;
      if (!isNameStart(a)) return false;
      const start = j;
      while (isNameChar(s.charCodeAt(++j)));
      const attr = s.slice(start, j);
      if (s.charCodeAt(j) !== 61 /* = */) return false;
      const q = s.charCodeAt(j + 1);
      if (q !== 34 && q !== 39) return false;
      const close = s.indexOf(q === 34 ? '"' : "'", j + 2);
      if (close < 0) return false;
      for (let k = j + 2; k < close; k++) {
        const v = s.charCodeAt(k);
        if (v === 60 || v === 62 || v === 34 || v === 39) return false;
      }
      if (seen?.includes(attr)) return false;
      (seen ??= []).push(attr);
      j = close + 1;
    }
    i = j;
  }
  return rootSeen && stack.length === 0;
}

type RawNode = Record<string, unknown> & { ':@'?: Record<string, string> };

function toElement(node: RawNode, parentScope: Record<string, string>): XmlElement | null {
  const key = Object.keys(node).find((k) => k !== ':@');
  if (!key || key === '#text' || key === '#comment') return null;
  const rawAttrs = node[':@'] ?? {};
  // Elements without namespace declarations share their parent's scope object (never mutated once built):
  // a copy per element made large documents' trees several times bigger.
  let scope = parentScope;
  const attrs: Record<string, string> = {};
  const rawAttrsOut: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawAttrs)) {
    if (k !== 'xmlns' && !k.startsWith('xmlns:')) continue;
    if (scope === parentScope) scope = { ...parentScope };
    scope[k === 'xmlns' ? '' : k.slice(6)] = v;
  }
  for (const [k, v] of Object.entries(rawAttrs)) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
    const colon = k.indexOf(':');
    attrs[colon >= 0 ? k.slice(colon + 1) : k] = v;
    rawAttrsOut[k] = v;
  }
  const colon = key.indexOf(':');
  const prefix = colon >= 0 ? key.slice(0, colon) : '';
  const name = colon >= 0 ? key.slice(colon + 1) : key;
  const el: XmlElement = { name, prefix, ns: scope[prefix] ?? '', attrs, rawAttrs: rawAttrsOut, children: [], text: '', scope };
  const content = node[key];
  if (Array.isArray(content)) {
    for (const c of content as RawNode[]) {
      if ('#text' in c) el.text += String(c['#text']);
      else {
        const child = toElement(c, scope);
        if (child) el.children.push(child);
      }
    }
  }
  return el;
}

/** First child with this local name (any namespace unless given). */
export function child(el: XmlElement, name: string, ns?: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name && (ns === undefined || c.ns === ns));
}

export function children(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

/** Resolve a QName written in text content or an attribute (e.g. `ns1:communes`) against the element's scope. */
export function resolveQName(el: XmlElement, qname: string): { ns: string; local: string; prefix: string } {
  const q = qname.trim();
  const colon = q.indexOf(':');
  if (colon < 0) return { ns: el.scope[''] ?? '', local: q, prefix: '' };
  const prefix = q.slice(0, colon);
  return { ns: el.scope[prefix] ?? '', local: q.slice(colon + 1), prefix };
}

/**
 * The one serialiser of a parsed tree back to XML (WFS filters kept as text, CSW echoes and constraints, stored
 * and harvested metadata documents): each element declares exactly the namespace bindings it adds to or changes
 * from its parent's (the root declares everything in its scope, so the result stands alone); empty elements are
 * written self-closed. Comments and processing instructions are not kept by the parser and so are not written.
 */
export function serializeXml(el: XmlElement, parentScope: Record<string, string> = {}): string {
  let decls = '';
  // Most elements share their parent's scope object (toElement): nothing to declare, no need to compare.
  if (el.scope !== parentScope) {
    for (const [p, uri] of Object.entries(el.scope)) {
      if (parentScope[p] === uri) continue;
      decls += p ? ` xmlns:${p}="${xmlEscape(uri)}"` : ` xmlns="${xmlEscape(uri)}"`;
    }
  }
  const tag = el.prefix ? `${el.prefix}:${el.name}` : el.name;
  let attrs = '';
  for (const k in el.rawAttrs) attrs += ` ${k}="${xmlEscape(el.rawAttrs[k])}"`;
  const text = el.children.length ? el.text.trim() : el.text;
  if (!text && el.children.length === 0) return `<${tag}${decls}${attrs}/>`;
  let body = text ? xmlEscapeText(text) : '';
  for (const c of el.children) body += serializeXml(c, el.scope);
  return `<${tag}${decls}${attrs}>${body}</${tag}>`;
}
