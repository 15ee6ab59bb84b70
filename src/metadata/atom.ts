/**
 * A catalogue record as an Atom entry (RFC 4287 §4.1.2), for CSW outputSchema=http://www.w3.org/2005/Atom (as
 * pycsw offers it): atom:id, atom:title and atom:updated (required), the abstract as atom:summary, the
 * responsible parties as atom:author, keywords as atom:category, the record's links as atom:link, and the
 * footprint as a GeoRSS Simple box (`south west north east`, WGS 84 lat/lon). Written from the stored queryables.
 */
import { xmlEscape as x } from '../xml/escape.js';
import type { StoredRecord } from './writers.js';

export const ATOM_NS = 'http://www.w3.org/2005/Atom';
const GEORSS_NS = 'http://www.georss.org/georss';
const DC_NS = 'http://purl.org/dc/elements/1.1/';

/** RFC 3339 date-time for atom:updated: a date alone is that day at 00:00 UTC. */
function rfc3339(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return `${v}T00:00:00Z`;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/**
 * `recordUrl(identifier)`: the GetRecordById URL of the record, its atom:link rel="alternate" and, when the
 * identifier is not itself an IRI (a bare UUID, a code), its atom:id (RFC 4287 §4.2.6 wants an IRI).
 */
export function writeAtomEntry(r: StoredRecord, recordUrl: (identifier: string) => string): string {
  const url = recordUrl(r.identifier);
  const id = /^[a-z][a-z0-9+.-]*:\S+$/i.test(r.identifier) ? r.identifier : url;
  const updated = rfc3339(r.date_stamp) ?? rfc3339(r.revision_date) ?? rfc3339(r.publication_date) ?? rfc3339(r.creation_date) ?? '1970-01-01T00:00:00Z';
  const authors = [...new Set([...r.creators, ...r.publishers])];
  let s = `<atom:entry xmlns:atom="${ATOM_NS}" xmlns:georss="${GEORSS_NS}" xmlns:dc="${DC_NS}">`;
  s += `<atom:id>${x(id)}</atom:id><dc:identifier>${x(r.identifier)}</dc:identifier>`;
  s += `<atom:title>${x(r.title)}</atom:title><atom:updated>${updated}</atom:updated>`;
  for (const a of authors) s += `<atom:author><atom:name>${x(a)}</atom:name></atom:author>`;
  if (r.abstract) s += `<atom:summary>${x(r.abstract)}</atom:summary>`;
  for (const k of [...r.keywords, ...r.topic_categories]) s += `<atom:category term="${x(k)}"/>`;
  s += `<atom:link rel="alternate" type="application/xml" href="${x(url)}"/>`;
  for (const l of r.links) {
    if (!/^https?:\/\//i.test(l.url)) continue;
    const title = l.name ?? l.scheme ?? l.protocol;
    // An enclosure is a file to download (RFC 4287 §4.2.7.2); a service endpoint or a feed is related.
    const file = l.function === 'download' && !l.scheme?.startsWith('OGC:') && l.scheme !== 'ATOM' && !/atom\+xml/.test(l.mediaType ?? '');
    s += `<atom:link rel="${file ? 'enclosure' : 'related'}" href="${x(l.url)}"${l.mediaType ? ` type="${x(l.mediaType)}"` : ''}${title ? ` title="${x(title)}"` : ''}/>`;
  }
  if (r.minx !== null && r.miny !== null && r.maxx !== null && r.maxy !== null) s += `<georss:box>${r.miny} ${r.minx} ${r.maxy} ${r.maxx}</georss:box>`;
  return s + '</atom:entry>';
}
