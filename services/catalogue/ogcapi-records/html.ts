/**
 * The HTML encoding of the Records API (OGC 20-004 /conf/html): plain server-written pages, no script, no style
 * sheet or font from elsewhere (no CDN), every value escaped. Each page is the JSON document it stands for, made
 * readable: its title, its text, its links, and for records their properties.
 */
import { xmlEscape as x } from '../../../src/xml/escape.js';
import type { Link } from './record.js';

type Doc = Record<string, unknown>;

const page = (title: string, body: string) =>
  `<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${x(title)}</title></head>` +
  `<body><main><h1>${x(title)}</h1>${body}</main></body></html>\n`;

const text = (v: unknown) => (typeof v === 'string' && v ? `<p>${x(v)}</p>` : '');

/** Links of a document, JSON ones marked, those to other pages of the API followed as HTML. */
function links(list: unknown): string {
  if (!Array.isArray(list) || list.length === 0) return '';
  const items = (list as Link[]).map((l) => `<li><a href="${x(l.href)}" rel="${x(l.rel)}"${l.type ? ` type="${x(l.type)}"` : ''}>${x(l.title ?? l.href)}</a> <small>(${x(l.rel)}${l.type ? `, ${x(l.type)}` : ''})</small></li>`);
  return `<h2>Liens</h2><ul>${items.join('')}</ul>`;
}

/** A value of a record property as text: lists joined, objects by their telling members. */
function value(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map(value).filter(Boolean).join(' ; ');
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.concepts)) return value(o.concepts);
    const parts = [o.name, o.organization, o.code, o.id, o.value, o.title].filter((p) => typeof p === 'string') as string[];
    const emails = Array.isArray(o.emails) ? (o.emails as Array<{ value: string }>).map((e) => e.value) : [];
    const roles = Array.isArray(o.roles) ? ` (${(o.roles as string[]).join(', ')})` : '';
    return [...parts, ...emails].join(', ') + roles;
  }
  return String(v);
}

function properties(p: Doc): string {
  const rows = Object.entries(p)
    .filter(([k]) => k !== 'title' && k !== 'description')
    .map(([k, v]) => `<tr><th scope="row">${x(k)}</th><td>${x(value(v))}</td></tr>`);
  return rows.length ? `<table>${rows.join('')}</table>` : '';
}

function extentOf(f: Doc): string {
  const b = f.bbox as number[] | undefined;
  const t = f.time as { interval?: string[]; timestamp?: string } | null | undefined;
  const parts: string[] = [];
  if (b) parts.push(`Emprise (CRS84) : ${b.map((n) => Number(n.toFixed(6))).join(', ')}`);
  if (t?.interval) parts.push(`Période : ${t.interval.join(' / ')}`);
  if (t?.timestamp) parts.push(`Date : ${t.timestamp}`);
  return parts.map((s) => `<p>${x(s)}</p>`).join('');
}

/** A record page. */
export function recordHtml(f: Doc): string {
  const p = (f.properties ?? {}) as Doc;
  return page(String(p.title ?? f.id), `<p><code>${x(String(f.id))}</code></p>${text(p.description)}${extentOf(f)}${properties(p)}${links(f.links)}`);
}

/** A page of search results, with the paging links. */
export function itemsHtml(title: string, fc: Doc): string {
  const features = (fc.features ?? []) as Doc[];
  const rows = features.map((f) => {
    const p = (f.properties ?? {}) as Doc;
    const self = ((f.links ?? []) as Link[]).find((l) => l.rel === 'alternate' && l.type === 'text/html');
    return `<li><a href="${x(self?.href ?? '#')}">${x(String(p.title ?? f.id))}</a> <small>(${x(String(p.type ?? ''))}${p.updated ? `, ${x(String(p.updated))}` : ''})</small></li>`;
  });
  return page(title, `<p>${x(String(fc.numberMatched))} fiches, ${x(String(fc.numberReturned))} sur cette page.</p><ol>${rows.join('')}</ol>${links(fc.links)}`);
}

/** Any other document of the API (landing page, conformance, collections, a collection, queryables). */
export function documentHtml(title: string, doc: Doc): string {
  let body = text(doc.description);
  if (Array.isArray(doc.conformsTo)) body += `<ul>${(doc.conformsTo as string[]).map((c) => `<li>${x(c)}</li>`).join('')}</ul>`;
  if (Array.isArray(doc.collections)) body += `<ul>${(doc.collections as Doc[]).map((c) => `<li><a href="${x(String(((c.links as Link[]) ?? []).find((l) => l.rel === 'self')?.href ?? '#'))}?f=html">${x(String(c.title ?? c.id))}</a> ${text(c.description)}</li>`).join('')}</ul>`;
  if (doc.properties && typeof doc.properties === 'object') {
    const rows = Object.entries(doc.properties as Record<string, Doc>).map(([k, v]) => `<tr><th scope="row">${x(k)}</th><td>${x(String(v.title ?? ''))}</td><td>${x(String(v.type ?? v.format ?? ''))}</td></tr>`);
    body += `<table>${rows.join('')}</table>`;
  }
  return page(title, body + links(doc.links));
}
