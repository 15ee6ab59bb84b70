/**
 * The download request: a basket of layers, an output format and CRS, an extraction area and an optional
 * CQL2 attribute filter. Read from a JSON body (POST, schemas/download-request.schema.json) or from a query
 * string (GET, for curl one-liners), normalised to one shape, stored as-is in a deferred job and read back
 * by the worker through the same function.
 */
import { findFormat, type FormatId } from './formats.js';
import { parseCrs } from '../crs/identifiers.js';
import { DownloadError } from './errors.js';

/** Administrative units the reference tables know (configurable, see config download.adminUnits). */
export type AdminUnitKind = 'commune' | 'epci' | 'departement' | 'region';
export const ADMIN_UNIT_KINDS: readonly AdminUnitKind[] = ['commune', 'epci', 'departement', 'region'];

export type AreaSpec =
  /** Corners in x/y order (easting/northing, or lon/lat) of `crs`, whatever the CRS's official axis order. */
  | { kind: 'bbox'; bbox: [number, number, number, number]; crs: number }
  /** A polygon or multipolygon: GeoJSON geometry object or WKT, coordinates x/y in `crs`. */
  | { kind: 'polygon'; geojson?: { type: string; coordinates: unknown }; wkt?: string; crs: number }
  | { kind: 'admin'; unit: AdminUnitKind; code: string };

export interface Notification {
  email?: string;
  webhook?: string;
}

export interface ExtractRequest {
  /** Layer names, in basket order, without duplicates. */
  layers: string[];
  format: FormatId;
  /** Output CRS (EPSG code). */
  crs: number;
  /** undefined = the whole layer. */
  area?: AreaSpec;
  /** true = cut geometries at the area's boundary (ST_Intersection); false = keep whole intersecting features. */
  clip: boolean;
  /** CQL2 text attribute filter, applied to every layer of the basket. */
  filter?: string;
  /** Always deliver one zip (layer files + metadata + README), even for one single-file layer. */
  zip: boolean;
  /** CSV only: geometry as WKT (default) or as x/y columns. */
  csvGeometry?: 'wkt' | 'xy';
  notify?: Notification;
}

const BAD = (locator: string, detail: string) => new DownloadError(400, 'invalid-parameter', detail, locator);

function parseSrid(text: unknown, locator: string): number {
  if (typeof text === 'number' && Number.isInteger(text)) return text;
  if (typeof text !== 'string' || !text.trim()) throw BAD(locator, `${locator} must be a CRS identifier such as EPSG:2154`);
  const t = text.trim();
  const ref = /^\d+$/.test(t) ? { srid: Number(t) } : parseCrs(t);
  if (!ref) throw BAD(locator, `${locator} '${t}' is not a CRS identifier (use EPSG:<code>, e.g. EPSG:2154)`);
  return ref.srid;
}

function parseBoolean(v: unknown, locator: string, dflt: boolean): boolean {
  if (v === undefined || v === null || v === '') return dflt;
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  if (['true', '1', 'yes'].includes(s)) return true;
  if (['false', '0', 'no'].includes(s)) return false;
  throw BAD(locator, `${locator} must be true or false`);
}

function parseBboxText(v: unknown, locator: string): [number, number, number, number] {
  const parts = Array.isArray(v) ? v : String(v).split(',');
  const nums = parts.map((x) => (typeof x === 'number' ? x : Number(String(x).trim())));
  if (nums.length !== 4 || nums.some((n) => !Number.isFinite(n))) throw BAD(locator, `${locator} must be four numbers: minx,miny,maxx,maxy`);
  const [a, b, c, d] = nums as [number, number, number, number];
  if (a >= c || b >= d) throw BAD(locator, `${locator}: the first corner must be below and left of the second (minx,miny,maxx,maxy)`);
  return [a, b, c, d];
}

function parseArea(src: Record<string, unknown>): AreaSpec | undefined {
  const given = (['bbox', 'polygon', ...ADMIN_UNIT_KINDS] as const).filter((k) => src[k] !== undefined && src[k] !== '');
  if (given.length > 1) throw BAD(given[1]!, `Give one extraction area only (got ${given.join(', ')})`);
  const k = given[0];
  if (!k) return undefined;
  if (k === 'bbox') return { kind: 'bbox', bbox: parseBboxText(src.bbox, 'bbox'), crs: parseSrid(src['bbox-crs'] ?? src.areaCrs ?? 'EPSG:4326', 'bbox-crs') };
  if (k === 'polygon') {
    const crs = parseSrid(src['polygon-crs'] ?? src.areaCrs ?? 'EPSG:4326', 'polygon-crs');
    const v = src.polygon;
    if (typeof v === 'object' && v !== null) return { kind: 'polygon', geojson: v as { type: string; coordinates: unknown }, crs };
    const s = String(v).trim();
    if (s.startsWith('{')) {
      let g: unknown;
      try {
        g = JSON.parse(s);
      } catch {
        throw BAD('polygon', 'polygon is neither valid GeoJSON nor WKT');
      }
      return { kind: 'polygon', geojson: g as { type: string; coordinates: unknown }, crs };
    }
    return { kind: 'polygon', wkt: s, crs };
  }
  const code = String(src[k]).trim();
  if (!/^[0-9A-Za-z]{1,12}$/.test(code)) throw BAD(k, `${k} must be a code (INSEE code, SIREN…), got '${code.slice(0, 40)}'`);
  return { kind: 'admin', unit: k, code };
}

/** From a GET query string (already decoded): layer(s), format, crs, bbox/polygon/commune/epci/departement/region, clip, filter. */
export function requestFromQuery(q: Record<string, string | undefined>): ExtractRequest {
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) if (v !== undefined) lower[k.toLowerCase()] = v;
  const layers = (lower.layers ?? lower.layer ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return normalise({
    layers,
    format: lower.format ?? lower.f,
    crs: lower.crs,
    bbox: lower.bbox,
    'bbox-crs': lower['bbox-crs'],
    polygon: lower.polygon,
    'polygon-crs': lower['polygon-crs'],
    commune: lower.commune,
    epci: lower.epci,
    departement: lower.departement,
    region: lower.region,
    clip: lower.clip ?? (lower.mode ? String(lower.mode !== 'intersects') : undefined),
    filter: lower.filter,
    'filter-lang': lower['filter-lang'],
    zip: lower.zip,
    'csv-geometry': lower['csv-geometry'],
  });
}

/** From the JSON body (POST /download/estimate, /download/extract, /download/jobs) or a stored job. */
export function requestFromJson(body: unknown): ExtractRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw BAD('body', 'The request body must be a JSON object');
  const b = body as Record<string, unknown>;
  const area = (b.area ?? {}) as Record<string, unknown>;
  if (typeof area !== 'object' || Array.isArray(area)) throw BAD('area', 'area must be an object');
  const layers = Array.isArray(b.layers) ? b.layers : b.layer !== undefined ? [b.layer] : [];
  return normalise({
    layers: layers.map((x) => (typeof x === 'string' ? x : '')),
    format: b.format,
    crs: b.crs,
    bbox: area.bbox,
    'bbox-crs': area.crs,
    polygon: area.polygon,
    'polygon-crs': area.crs,
    commune: area.commune,
    epci: area.epci,
    departement: area.departement,
    region: area.region,
    clip: b.clip,
    filter: b.filter,
    'filter-lang': b['filter-lang'],
    zip: b.zip,
    'csv-geometry': b['csv-geometry'] ?? b.csvGeometry,
    notify: b.notify,
  });
}

function normalise(src: Record<string, unknown>): ExtractRequest {
  const layers = [...new Set(src.layers as string[])];
  if (layers.length === 0 || layers.some((l) => !l)) throw new DownloadError(400, 'missing-parameter', 'Name at least one layer (layer=communes or layers=a,b)', 'layer');
  if (layers.length > 50) throw BAD('layers', 'A basket holds at most 50 layers');
  if (src.format === undefined || src.format === '') throw new DownloadError(400, 'missing-parameter', 'format is required (gpkg, shp, geojson, csv, kml, gml, fgb, tab; gtiff or cog for rasters)', 'format');
  const format = findFormat(String(src.format));
  if (!format) throw BAD('format', `Unknown format '${String(src.format).slice(0, 40)}' (known: gpkg, shp, geojson, csv, kml, gml, fgb, tab, gtiff, cog)`);
  const crs = src.crs === undefined || src.crs === '' ? (format.fixedSrid ?? 2154) : parseSrid(src.crs, 'crs');
  const lang = src['filter-lang'];
  if (lang !== undefined && lang !== '' && String(lang).toLowerCase() !== 'cql2-text') throw BAD('filter-lang', 'Only filter-lang=cql2-text is supported');
  if (src.filter !== undefined && src.filter !== '' && typeof src.filter !== 'string') throw BAD('filter', 'filter must be CQL2 text');
  const notify = parseNotify(src.notify);
  const req: ExtractRequest = {
    layers,
    format: format.id,
    crs,
    area: parseArea(src),
    clip: parseBoolean(src.clip, 'clip', true),
    zip: parseBoolean(src.zip, 'zip', false),
  };
  if (typeof src.filter === 'string' && src.filter.trim()) req.filter = src.filter.trim();
  const cg = src['csv-geometry'];
  if (cg !== undefined && cg !== '') {
    if (cg !== 'wkt' && cg !== 'xy') throw BAD('csv-geometry', 'csv-geometry must be wkt or xy');
    if (format.id !== 'csv') throw BAD('csv-geometry', 'csv-geometry applies to format=csv only');
    req.csvGeometry = cg;
  }
  if (notify) req.notify = notify;
  return req;
}

function parseNotify(v: unknown): Notification | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw BAD('notify', 'notify must be an object with email and/or webhook');
  const n = v as Record<string, unknown>;
  const out: Notification = {};
  if (n.email !== undefined) {
    if (typeof n.email !== 'string' || !/^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/.test(n.email)) throw BAD('notify.email', 'notify.email is not an e-mail address');
    out.email = n.email;
  }
  if (n.webhook !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(String(n.webhook));
    } catch {
      u = undefined;
    }
    if (!u || !/^https?:$/.test(u.protocol)) throw BAD('notify.webhook', 'notify.webhook must be an http(s) URL');
    out.webhook = u.toString();
  }
  return out.email || out.webhook ? out : undefined;
}
