/**
 * OGC KVP parsing: parameter names are case-insensitive, values are `%xx`/`+` decoded.
 * We parse the raw query string ourselves (not the framework's) so that `+` decoding and repeated keys follow
 * the OGC rules and so that nothing is lost to a framework's own interpretation.
 */
import { invalid } from './errors.js';

export class Kvp {
  private readonly map = new Map<string, string>();
  /** Keys sent more than once (upper case); APIs that must refuse repetitions read this. */
  readonly repeated = new Set<string>();
  /** Keys sent more than once with different values (upper case): which one is meant cannot be known. */
  readonly conflicting = new Set<string>();

  constructor(rawQuery: string) {
    for (const part of rawQuery.split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      const rawKey = eq < 0 ? part : part.slice(0, eq);
      const rawValue = eq < 0 ? '' : part.slice(eq + 1);
      const key = decode(rawKey).toUpperCase();
      // The first occurrence wins; a repeated key is a client bug we do not try to merge.
      const value = decode(rawValue);
      if (!this.map.has(key)) this.map.set(key, value);
      else {
        this.repeated.add(key);
        if (this.map.get(key) !== value) this.conflicting.add(key);
      }
    }
  }

  static fromUrl(url: string): Kvp {
    const q = url.indexOf('?');
    return new Kvp(q < 0 ? '' : url.slice(q + 1));
  }

  get(name: string): string | undefined {
    return this.map.get(name.toUpperCase());
  }

  /** Non-empty value or undefined. */
  value(name: string): string | undefined {
    const v = this.get(name);
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  has(name: string): boolean {
    return this.map.has(name.toUpperCase());
  }

  keys(): string[] {
    return [...this.map.keys()];
  }
}

/**
 * OGC KVP services (WFS, CSW): a parameter given twice with different values (`TYPENAMES=a&TYPENAMES=b`,
 * `REQUEST=GetFeature&request=GetCapabilities`: names are case-insensitive, OGC 06-121r3 §11.5) or under two
 * of its aliases with different values (`TYPENAMES=a&TYPENAME=b`) is refused with InvalidParameterValue,
 * locator the parameter (issue 13). The same value twice is accepted: clients that append their parameters to
 * a URL already holding some send such repeats, and nothing is ambiguous.
 */
export function refuseRepeatedKeys(kvp: Kvp, aliases: readonly (readonly string[])[] = []): void {
  for (const k of kvp.conflicting) throw invalid(k, `Parameter ${k} is given more than once with different values; give it once`);
  for (const group of aliases) {
    const given = group.filter((k) => kvp.has(k));
    if (given.length > 1 && new Set(given.map((k) => kvp.get(k))).size > 1) throw invalid(given[1]!, `Parameters ${given.join(' and ')} name the same thing with different values; give one`);
  }
}

/**
 * Unknown parameters are refused, not ignored (a misspelt FILTER or COUNT silently ignored returns the whole
 * layer): InvalidParameterValue with the parameter as locator and the list of known ones (issue 13).
 */
export function refuseUnknownKeys(kvp: Kvp, known: ReadonlySet<string>, service: string): void {
  for (const k of kvp.keys()) {
    if (k !== '' && !known.has(k)) throw invalid(k, `Unknown ${service} parameter ${k.slice(0, 60)} (known: ${[...known].sort().join(', ')})`);
  }
}

function decode(s: string): string {
  const plusDecoded = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plusDecoded);
  } catch {
    // Malformed %-escapes: keep the text as sent rather than failing the whole request.
    return plusDecoded;
  }
}

/**
 * NAMESPACES=xmlns(p,uri),xmlns(q,uri2) (WFS 2.0, OGC 09-025r2 §7.6.6.2) or NAMESPACE=xmlns(p=uri) (WFS 1.x,
 * CSW 2.0.2 §10.8.4.3): prefix → URI ('' for the default namespace). Shared by the WFS and CSW readers.
 */
export function parseNamespaces(value: string | undefined): Map<string, string> {
  const m = new Map<string, string>();
  if (!value) return m;
  for (const match of value.matchAll(/xmlns\(\s*([^,=)\s]*)\s*[,=]\s*([^)]*)\)/g)) m.set(match[1] ?? '', (match[2] ?? '').trim());
  return m;
}

/** Split a comma list, trimming and dropping empties. */
export function list(value: string | undefined): string[] {
  if (!value) return [];
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}
