/**
 * The download request: a basket of layers, an output format and CRS, an extraction area and an optional
 * CQL2 attribute filter. Read from a JSON body (POST, schemas/download-request.schema.json) or from a query
 * string (GET, for curl one-liners), normalised to one shape, stored as-is in a deferred job and read back
 * by the worker through the same function.
 */
import { countPositions, countWktPositions, MAX_GEOMETRY_VERTICES } from '../ogc/limits.js';
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
  /** GeoPackage baskets: one file per layer instead of one GeoPackage holding a table per layer. */
  split?: boolean;
  /** CSV only: geometry as WKT (default) or as x/y columns. */
  csvGeometry?: 'wkt' | 'xy';
  notify?: Notification;
}

const BAD = (locator: string, detail: string) => new DownloadError(400, 'invalid-parameter', detail, locator);

/** Query parameters of GET /download/extract and /download/estimate; any other is refused (issue 13). */
export const QUERY_PARAMETERS = ['layer', 'layers', 'format', 'f', 'crs', 'bbox', 'bbox-crs', 'polygon', 'polygon-crs', ...ADMIN_UNIT_KINDS, 'clip', 'mode', 'filter', 'filter-lang', 'zip', 'csv-geometry', 'split'] as const;
/** Properties of the JSON body (schemas/download-request.schema.json, additionalProperties: false). */
export const BODY_PROPERTIES = ['layers', 'layer', 'format', 'crs', 'area', 'clip', 'filter', 'filter-lang', 'csv-geometry', 'csvGeometry', 'zip', 'split', 'notify'] as const;
export const AREA_PROPERTIES = ['bbox', 'polygon', 'crs', ...ADMIN_UNIT_KINDS] as const;

function refuseUnknown(keys: Iterable<string>, known: readonly string[], where: string, prefix = ''): void {
  for (const k of keys) {
    if (!known.includes(k)) throw BAD(prefix + k, `Unknown ${where} '${k.slice(0, 40)}' (known: ${known.join(', ')})`);
  }
}

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

/**
 * Check a GeoJSON Polygon/MultiPolygon (or a Feature holding one) by its fixed shape, without recursion:
 * deep nesting, non-numeric, null or non-finite coordinates are refused here, before JSON.stringify or
 * PostGIS see them (issue 13: a 5,000-level nested area overflowed the stack; ["a",47] was accepted).
 */
function checkGeoJsonPolygon(v: unknown): { type: string; coordinates: unknown } {
  let g = v as Record<string, unknown>;
  if (g.type === 'Feature') {
    if (!g.geometry || typeof g.geometry !== 'object' || Array.isArray(g.geometry)) throw BAD('polygon', 'polygon: the Feature has no geometry object');
    g = g.geometry as Record<string, unknown>;
  }
  if (g.type !== 'Polygon' && g.type !== 'MultiPolygon') throw BAD('polygon', `polygon must be a GeoJSON Polygon or MultiPolygon (or a Feature holding one), not ${JSON.stringify(String(g.type)).slice(0, 40)}`);
  const polygons = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  if (!Array.isArray(polygons)) throw BAD('polygon', 'polygon.coordinates must be an array');
  for (const rings of polygons as unknown[]) {
    if (!Array.isArray(rings) || rings.length === 0) throw BAD('polygon', 'polygon.coordinates: each polygon is a non-empty array of rings');
    for (const ring of rings) {
      if (!Array.isArray(ring)) throw BAD('polygon', 'polygon.coordinates: each ring is an array of positions');
      for (const pos of ring) {
        if (!Array.isArray(pos) || pos.length < 2 || pos.length > 3 || !pos.every((n) => typeof n === 'number' && Number.isFinite(n))) {
          throw BAD('polygon', `polygon.coordinates: a position must be 2 or 3 finite numbers, got ${String(JSON.stringify(Array.isArray(pos) ? pos.map((x) => (Array.isArray(x) ? '[…]' : x)) : typeof pos)).slice(0, 60)}`);
        }
      }
    }
  }
  const vertices = countPositions(g as { coordinates?: unknown });
  if (vertices > MAX_GEOMETRY_VERTICES) throw tooManyVertices(vertices);
  return { type: g.type, coordinates: g.coordinates };
}

/** Counted here, before PostGIS builds and validates the polygon (16.8 s for 200,002 vertices, issue 13 §5). */
function tooManyVertices(n: number): DownloadError {
  return new DownloadError(400, 'invalid-area', `The polygon has ${n} vertices; the limit is ${MAX_GEOMETRY_VERTICES}`, 'polygon', { count: n, limit: MAX_GEOMETRY_VERTICES });
}

function checkWktSize(wkt: string): string {
  const vertices = countWktPositions(wkt);
  if (vertices > MAX_GEOMETRY_VERTICES) throw tooManyVertices(vertices);
  return wkt;
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
    if (v === null) throw BAD('polygon', 'polygon must be a GeoJSON geometry or WKT text, not null');
    if (typeof v === 'object') {
      if (Array.isArray(v)) throw BAD('polygon', 'polygon must be a GeoJSON geometry object or WKT text, not an array');
      return { kind: 'polygon', geojson: checkGeoJsonPolygon(v), crs };
    }
    if (typeof v !== 'string') throw BAD('polygon', 'polygon must be a GeoJSON geometry object or WKT text');
    const s = String(v).trim();
    if (s.startsWith('{')) {
      let g: unknown;
      try {
        g = JSON.parse(s);
      } catch {
        throw BAD('polygon', 'polygon is neither valid GeoJSON nor WKT');
      }
      if (!g || typeof g !== 'object' || Array.isArray(g)) throw BAD('polygon', 'polygon must be a GeoJSON geometry object');
      return { kind: 'polygon', geojson: checkGeoJsonPolygon(g), crs };
    }
    // EWKT: "SRID=2154;POLYGON(…)" states its own CRS; honour it unless it contradicts the one given.
    const ewkt = /^SRID=(\d{1,6});\s*(.*)$/is.exec(s);
    if (ewkt) {
      const srid = Number(ewkt[1]);
      const explicit = src['polygon-crs'] ?? src.areaCrs;
      if (explicit !== undefined && explicit !== '' && srid !== crs) throw BAD('polygon', `polygon says SRID=${srid} but polygon-crs is EPSG:${crs}`);
      return { kind: 'polygon', wkt: checkWktSize(ewkt[2]!), crs: srid };
    }
    return { kind: 'polygon', wkt: checkWktSize(s), crs };
  }
  const code = String(src[k]).trim();
  if (!/^[0-9A-Za-z]{1,12}$/.test(code)) throw BAD(k, `${k} must be a code (INSEE code, SIREN…), got '${code.slice(0, 40)}'`);
  return { kind: 'admin', unit: k, code };
}

/** From a GET query string (already decoded): layer(s), format, crs, bbox/polygon/commune/epci/departement/region, clip, filter. */
export function requestFromQuery(q: Record<string, string | undefined>): ExtractRequest {
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) if (v !== undefined) lower[k.toLowerCase()] = v;
  refuseUnknown(Object.keys(lower), QUERY_PARAMETERS, 'parameter');
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
    split: lower.split,
  });
}

/** From the JSON body (POST /download/estimate, /download/extract, /download/jobs) or a stored job. */
export function requestFromJson(body: unknown): ExtractRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw BAD('body', 'The request body must be a JSON object');
  const b = body as Record<string, unknown>;
  refuseUnknown(Object.keys(b), BODY_PROPERTIES, 'property');
  const area = (b.area ?? {}) as Record<string, unknown>;
  if (typeof area !== 'object' || area === null || Array.isArray(area)) throw BAD('area', 'area must be an object');
  refuseUnknown(Object.keys(area), AREA_PROPERTIES, 'area property', 'area.');
  // JSON has types: the schema's strings and booleans are not guessed from numbers or words.
  if (b.crs !== undefined && typeof b.crs !== 'string') throw BAD('crs', 'crs must be a string such as "EPSG:2154"');
  if (area.crs !== undefined && typeof area.crs !== 'string') throw BAD('area.crs', 'area.crs must be a string such as "EPSG:4326"');
  if (b.clip !== undefined && typeof b.clip !== 'boolean') throw BAD('clip', 'clip must be true or false (a JSON boolean)');
  if (b.zip !== undefined && typeof b.zip !== 'boolean') throw BAD('zip', 'zip must be true or false (a JSON boolean)');
  if (b.split !== undefined && typeof b.split !== 'boolean') throw BAD('split', 'split must be true or false (a JSON boolean)');
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
    split: b.split,
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
  if (parseBoolean(src.split, 'split', false)) {
    if (format.id !== 'gpkg') throw BAD('split', 'split applies to format=gpkg only (the other formats hold one layer per file)');
    req.split = true;
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
