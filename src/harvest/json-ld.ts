/**
 * A small JSON-LD reader into the same graph as the RDF/XML reader: compacted documents with an inline
 * @context (prefixes, term definitions with @id and `"@type": "@id"`, @vocab), @graph, @id, @type, value
 * objects (@value, @language), nested nodes, arrays, @list / @set. Remote contexts are not fetched: terms
 * they would define are read as `prefix:local` with the usual DCAT prefixes (dcat, dct, foaf, vcard, hydra,
 * locn, skos, rdfs, schema) — enough for data.gouv.fr and CKAN DCAT feeds, not a full JSON-LD processor.
 */
import { RdfGraph, RDF, type RdfNode } from './rdf-graph.js';

const DEFAULT_PREFIXES: Record<string, string> = {
  rdf: RDF,
  rdfs: 'http://www.w3.org/2000/01/rdf-schema#',
  dcat: 'http://www.w3.org/ns/dcat#',
  dct: 'http://purl.org/dc/terms/',
  dcterms: 'http://purl.org/dc/terms/',
  dc: 'http://purl.org/dc/elements/1.1/',
  foaf: 'http://xmlns.com/foaf/0.1/',
  vcard: 'http://www.w3.org/2006/vcard/ns#',
  hydra: 'http://www.w3.org/ns/hydra/core#',
  locn: 'http://www.w3.org/ns/locn#',
  skos: 'http://www.w3.org/2004/02/skos/core#',
  schema: 'http://schema.org/',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
};

interface TermDef {
  iri: string;
  isRef: boolean;
}

interface Context {
  prefixes: Record<string, string>;
  terms: Map<string, TermDef>;
  vocab?: string;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function expandIri(value: string, ctx: Context, vocab: boolean): string | undefined {
  if (/^(https?|urn|mailto|file):/i.test(value) || value.startsWith('_:')) return value;
  const t = ctx.terms.get(value);
  if (vocab && t) return t.iri;
  const colon = value.indexOf(':');
  if (colon > 0) {
    const p = value.slice(0, colon);
    const ns = ctx.prefixes[p] ?? DEFAULT_PREFIXES[p];
    if (ns) return ns + value.slice(colon + 1);
  }
  if (vocab && ctx.vocab) return ctx.vocab + value;
  return undefined;
}

function withContext(parent: Context, local: Json | undefined): Context {
  if (local === undefined || local === null) return parent;
  const list = Array.isArray(local) ? local : [local];
  const ctx: Context = { prefixes: { ...parent.prefixes }, terms: new Map(parent.terms), vocab: parent.vocab };
  for (const c of list) {
    if (!c || typeof c !== 'object' || Array.isArray(c)) continue; // remote contexts are not fetched
    if (typeof c['@vocab'] === 'string') ctx.vocab = c['@vocab'];
    // Prefixes first (plain IRIs ending in / or #), then the terms that use them.
    for (const [k, v] of Object.entries(c)) if (!k.startsWith('@') && typeof v === 'string' && /[/#:]$/.test(v)) ctx.prefixes[k] = v;
    for (const [k, v] of Object.entries(c)) {
      if (k.startsWith('@')) continue;
      const id = typeof v === 'string' ? v : v && typeof v === 'object' && !Array.isArray(v) && typeof v['@id'] === 'string' ? v['@id'] : undefined;
      const isRef = !!(v && typeof v === 'object' && !Array.isArray(v) && (v['@type'] === '@id' || v['@type'] === '@vocab'));
      const iri = id ? expandIri(id, ctx, false) ?? id : undefined;
      if (iri) ctx.terms.set(k, { iri, isRef });
    }
  }
  return ctx;
}

function resolve(ref: string, base: string | undefined): string {
  if (!base || ref.startsWith('_:')) return ref;
  try {
    return new URL(ref, base).href;
  } catch {
    return ref;
  }
}

/** Read a JSON-LD document (object or array) into a graph. */
export function readJsonLd(doc: Json, base?: string, graph = new RdfGraph()): RdfGraph {
  const root: Context = withContext({ prefixes: {}, terms: new Map() }, doc && typeof doc === 'object' && !Array.isArray(doc) ? doc['@context'] : undefined);
  const tops = Array.isArray(doc) ? doc : doc && typeof doc === 'object' && Array.isArray(doc['@graph']) ? [doc, ...doc['@graph']] : [doc];
  for (const t of tops) {
    if (t && typeof t === 'object' && !Array.isArray(t)) {
      // The top object holding @graph is itself a node only when it says something beyond @context/@graph.
      const keys = Object.keys(t).filter((k) => k !== '@context' && k !== '@graph');
      if (keys.length) readNode(t, root, graph, base);
    }
  }
  return graph;
}

function readNode(obj: { [k: string]: Json }, parent: Context, g: RdfGraph, base: string | undefined): RdfNode {
  const ctx = withContext(parent, obj['@context']);
  const rawId = typeof obj['@id'] === 'string' ? obj['@id'] : undefined;
  const id = rawId ? resolve(expandIri(rawId, ctx, false) ?? rawId, base) : g.newBlank();
  const n = g.node(id);
  const types = obj['@type'] === undefined ? [] : Array.isArray(obj['@type']) ? obj['@type'] : [obj['@type']];
  for (const t of types) if (typeof t === 'string') g.add(n, `${RDF}type`, { ref: expandIri(t, ctx, true) ?? t });
  for (const [k, v] of Object.entries(obj)) {
    if (k.startsWith('@')) continue;
    const term = ctx.terms.get(k);
    const pred = term?.iri ?? expandIri(k, ctx, true);
    if (!pred) continue;
    for (const value of flatten(v)) {
      if (value === null) continue;
      if (typeof value === 'string') g.add(n, pred, term?.isRef ? { ref: resolve(expandIri(value, ctx, false) ?? value, base) } : { literal: value });
      else if (typeof value === 'number' || typeof value === 'boolean') g.add(n, pred, { literal: String(value) });
      else if (!Array.isArray(value)) {
        if ('@value' in value) {
          const lit = value['@value'];
          const lang = typeof value['@language'] === 'string' ? value['@language'] : undefined;
          if (lit !== null && typeof lit !== 'object') g.add(n, pred, lang ? { literal: String(lit), lang } : { literal: String(lit) });
        } else {
          const child = readNode(value, ctx, g, base);
          g.add(n, pred, { ref: child.id });
        }
      }
    }
  }
  return n;
}

function flatten(v: Json): Json[] {
  if (Array.isArray(v)) return v.flatMap(flatten);
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    if (Array.isArray(v['@list'])) return v['@list'].flatMap(flatten);
    if (Array.isArray(v['@set'])) return v['@set'].flatMap(flatten);
  }
  return [v];
}
