/**
 * A csw:Constraint filter must be written in the Filter Encoding (ogc, fes 2.0) and GML namespaces. An element
 * of any other namespace is something the catalogue cannot evaluate: NoApplicableCode (as pycsw answers),
 * HTTP 400, locator Constraint, rather than the InvalidParameterValue of a malformed filter (issue 12).
 */
import type { XmlElement } from '../../../src/xml/tree.js';
import { NS } from '../../../src/xml/namespaces.js';
import { OgcError } from '../../../src/ogc/errors.js';

// Namespace-less filters (undeclared default namespace, as some KVP clients send them) stay accepted.
const FILTER_NAMESPACES = new Set<string>([NS.ogc, NS.fes20, NS.gml, NS.gml32, '']);

export function checkFilterNamespaces(root: XmlElement, locator: string): void {
  const stack = [root];
  while (stack.length > 0) {
    const el = stack.pop()!;
    if (!FILTER_NAMESPACES.has(el.ns)) {
      const name = el.prefix ? `${el.prefix}:${el.name}` : el.name;
      throw new OgcError('NoApplicableCode', `Filter element ${name.slice(0, 80)} is in the namespace '${el.ns.slice(0, 120)}', which is not Filter Encoding or GML`, locator, 400);
    }
    stack.push(...el.children);
  }
}

/**
 * The property names of a filter as written (ogc:PropertyName, fes:ValueReference texts): the FES reader drops
 * their prefixes, and a Dublin Core catalogue refuses an `apiso:` name (csw/profile.ts).
 */
export function filterPropertyNames(root: XmlElement): string[] {
  const out: string[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const el = stack.pop()!;
    if (el.name === 'PropertyName' || el.name === 'ValueReference') out.push(el.text.trim());
    stack.push(...el.children);
  }
  return out;
}
