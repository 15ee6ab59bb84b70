/**
 * A small RDF/XML reader on top of the shared XML tree (src/xml/tree.ts): node elements (typed or
 * rdf:Description), property elements holding a literal, an rdf:resource / rdf:nodeID reference, a nested
 * node, or rdf:parseType="Resource". Enough for DCAT catalogues as data.gouv.fr, GeoNetwork and CKAN write
 * them; not a full RDF/XML implementation (no rdf:li containers, no reification, no parseType="Literal"
 * beyond its text, no property attributes other than the usual ones).
 */
import type { XmlElement } from '../xml/tree.js';

export const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

export type RdfValue = { literal: string; lang?: string } | { ref: string };

export interface RdfNode {
  /** The subject: an IRI, or '_:…' for a blank node. */
  id: string;
  types: Set<string>;
  /** predicate IRI → values, in document order. */
  props: Map<string, RdfValue[]>;
}

export class RdfGraph {
  readonly nodes = new Map<string, RdfNode>();
  private blank = 0;

  node(id: string): RdfNode {
    let n = this.nodes.get(id);
    if (!n) {
      n = { id, types: new Set(), props: new Map() };
      this.nodes.set(id, n);
    }
    return n;
  }

  newBlank(): string {
    return `_:b${++this.blank}`;
  }

  add(subject: RdfNode, predicate: string, value: RdfValue): void {
    if (predicate === `${RDF}type` && 'ref' in value) subject.types.add(value.ref);
    const list = subject.props.get(predicate);
    if (list) list.push(value);
    else subject.props.set(predicate, [value]);
  }

  ofType(type: string): RdfNode[] {
    return [...this.nodes.values()].filter((n) => n.types.has(type));
  }

  values(n: RdfNode | undefined, predicate: string): RdfValue[] {
    return n?.props.get(predicate) ?? [];
  }

  /** Literals of a property, or the IRIs it refers to when `refs` is set. Trimmed, non-empty. */
  literals(n: RdfNode | undefined, predicate: string): string[] {
    return this.values(n, predicate)
      .map((v) => ('literal' in v ? v.literal : ''))
      .map((s) => s.replace(/\s+/g, ' ').trim())
      .filter(Boolean);
  }

  /** A literal preferring the language given (then no language, then any). */
  literal(n: RdfNode | undefined, predicate: string, lang = 'fr'): string | undefined {
    const vals = this.values(n, predicate).filter((v): v is { literal: string; lang?: string } => 'literal' in v && v.literal.trim() !== '');
    const pick = vals.find((v) => v.lang?.toLowerCase().startsWith(lang)) ?? vals.find((v) => !v.lang) ?? vals[0];
    return pick?.literal.replace(/\s+/g, ' ').trim();
  }

  refs(n: RdfNode | undefined, predicate: string): string[] {
    return this.values(n, predicate).flatMap((v) => ('ref' in v ? [v.ref] : []));
  }

  /** Referenced nodes (a reference to an IRI with no description gives an empty node). */
  objects(n: RdfNode | undefined, predicate: string): RdfNode[] {
    return this.refs(n, predicate).map((r) => this.node(r));
  }
}

const iri = (el: XmlElement) => el.ns + el.name;
const rdfAttr = (el: XmlElement, name: string): string | undefined => {
  // Attributes are kept by local name and as written; the rdf: prefix may be any prefix bound to RDF.
  for (const [k, v] of Object.entries(el.rawAttrs)) {
    const colon = k.indexOf(':');
    if (colon < 0) continue;
    if (k.slice(colon + 1) === name && el.scope[k.slice(0, colon)] === RDF) return v;
  }
  return undefined;
};
const langOf = (el: XmlElement, inherited?: string): string | undefined => {
  for (const [k, v] of Object.entries(el.rawAttrs)) if (k === 'xml:lang' || (k.endsWith(':lang') && el.scope[k.split(':')[0]!] === XML_NS)) return v;
  return inherited;
};

function resolve(ref: string, base: string | undefined): string {
  if (!base) return ref;
  try {
    return new URL(ref, base).href;
  } catch {
    return ref;
  }
}

/** Read an rdf:RDF element (or a single node element) into a graph. */
export function readRdfXml(root: XmlElement, base?: string, graph = new RdfGraph()): RdfGraph {
  const nodes = root.ns === RDF && root.name === 'RDF' ? root.children : [root];
  for (const el of nodes) readNode(el, graph, base, undefined);
  return graph;
}

function readNode(el: XmlElement, g: RdfGraph, base: string | undefined, lang: string | undefined): RdfNode {
  const about = rdfAttr(el, 'about');
  const nodeId = rdfAttr(el, 'nodeID');
  const id = about !== undefined ? resolve(about, base) : nodeId !== undefined ? `_:${nodeId}` : g.newBlank();
  const n = g.node(id);
  if (!(el.ns === RDF && el.name === 'Description')) g.add(n, `${RDF}type`, { ref: iri(el) });
  readProperties(el, n, g, base, langOf(el, lang));
  return n;
}

function readProperties(el: XmlElement, n: RdfNode, g: RdfGraph, base: string | undefined, lang: string | undefined): void {
  for (const p of el.children) {
    const pred = iri(p);
    const plang = langOf(p, lang);
    const resource = rdfAttr(p, 'resource');
    const nodeId = rdfAttr(p, 'nodeID');
    if (resource !== undefined) g.add(n, pred, { ref: resolve(resource, base) });
    else if (nodeId !== undefined) g.add(n, pred, { ref: `_:${nodeId}` });
    else if (rdfAttr(p, 'parseType') === 'Resource') {
      const b = g.node(g.newBlank());
      readProperties(p, b, g, base, plang);
      g.add(n, pred, { ref: b.id });
    } else if (p.children.length > 0 && rdfAttr(p, 'parseType') !== 'Literal') {
      for (const c of p.children) g.add(n, pred, { ref: readNode(c, g, base, plang).id });
    } else {
      g.add(n, pred, plang ? { literal: p.text, lang: plang } : { literal: p.text });
    }
  }
}
