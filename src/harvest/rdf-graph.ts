/**
 * The graph a harvest reads a DCAT catalogue page into, whatever its syntax (RDF/XML: rdf-xml.ts, JSON-LD:
 * json-ld.ts): nodes by subject (IRI, or '_:…' for a blank node), their types, and their property values in
 * document order, with the look-ups the DCAT mapping (dcat.ts) needs.
 */
export const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';

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

/** The RDF/JS terms and quads the parsers (rdfxml-streaming-parser, jsonld) emit, as far as they are read here. */
export interface RdfTerm {
  termType: string;
  value: string;
  language?: string;
}
export interface RdfQuad {
  subject: RdfTerm;
  predicate: RdfTerm;
  object: RdfTerm;
}

/**
 * IRIs in the WHATWG URL form (`new URL(iri).href`: host lower-cased, a root path's '/', non-ASCII
 * percent-encoded): the same feed read in RDF/XML or JSON-LD, or again after an upgrade, gives the same documents
 * (no record seen as updated).
 */
function urlForm(iri: string): string {
  try {
    return new URL(iri).href;
  } catch {
    return iri;
  }
}

/** A blank node as '_:…' (jsonld already writes the prefix, the RDF/XML parser does not), an IRI in URL form. */
const termId = (t: RdfTerm) => (t.termType === 'BlankNode' ? (t.value.startsWith('_:') ? t.value : `_:${t.value}`) : urlForm(t.value));

/** Add a parser's quad to the graph (named graphs read as one: a DCAT page says nothing that depends on them). */
export function addQuad(graph: RdfGraph, q: RdfQuad): void {
  const o = q.object;
  const value: RdfValue = o.termType === 'Literal' ? (o.language ? { literal: o.value, lang: o.language } : { literal: o.value }) : { ref: termId(o) };
  graph.add(graph.node(termId(q.subject)), q.predicate.value, value);
}
