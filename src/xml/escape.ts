/** XML text/attribute escaping for the writers. */
const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Is there anything for xmlEscape to do (most values have nothing: one scan instead of two replacements)? */
const NEEDS_ESCAPE = /[&<>"'\u0000-\u0008\u000B\u000C\u000E-\u001F]/;
const NEEDS_TEXT_ESCAPE = /[&<>\u0000-\u0008\u000B\u000C\u000E-\u001F]/;

export function xmlEscape(value: unknown): string {
  // Characters not allowed in XML 1.0 are dropped rather than producing an unparseable document.
  const s = String(value);
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '')
    .replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

/** Text content: & < > escaped (quotes need none there), characters not allowed in XML 1.0 dropped. */
export function xmlEscapeText(value: unknown): string {
  const s = String(value);
  if (!NEEDS_TEXT_ESCAPE.test(s)) return s;
  return s
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '')
    .replace(/[&<>]/g, (c) => XML_ESCAPES[c]!);
}

/** Build an element with escaped text: el('ows:Title', 'Communes & co'). */
export function el(name: string, text: unknown, attrs?: Record<string, unknown>): string {
  return `<${name}${attrString(attrs)}>${xmlEscape(text)}</${name}>`;
}

export function attrString(attrs?: Record<string, unknown>): string {
  if (!attrs) return '';
  let s = '';
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    s += ` ${k}="${xmlEscape(v)}"`;
  }
  return s;
}

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
