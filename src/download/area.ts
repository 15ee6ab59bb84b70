/**
 * Extraction areas → one validated geometry. A bbox in any supported CRS, a polygon (GeoJSON or WKT) with
 * its CRS, or an administrative unit by code read from the reference tables (config download.adminUnits).
 * The geometry is built and checked by PostGIS from bound parameters and handed on as EWKB (hex), so the
 * extraction statements bind it again and never contain it as text.
 */
import type { Platform } from '../platform.js';
import type { AreaSpec } from './request.js';
import { DownloadError } from './errors.js';
import { quoteIdent } from '../db/identifiers.js';
import { MAX_GEOMETRY_VERTICES as MAX_VERTICES } from '../ogc/limits.js';
import { areaOfUse } from '../crs/facts.js';

export interface ResolvedArea {
  spec: AreaSpec;
  /** EWKB (hex) of the area, with its SRID. Always a (Multi)Polygon. */
  ewkbHex: string;
  srid: number;
  /** Human description for READMEs, logs and job listings ("commune 45234 Orléans"). */
  label: string;
  /** Bounding box in WGS 84 lon/lat. */
  bbox4326: [number, number, number, number];
  /** Area in square metres (geography), for estimates. */
  areaM2: number;
}


function checkCrs(platform: Platform, srid: number, locator: string): void {
  if (!platform.crs.isKnown(srid)) throw new DownloadError(400, 'unknown-crs', `EPSG:${srid} is not a CRS this platform knows`, locator);
}

/** Split "schema.table" of the configuration into quoted identifiers (validated by the config schema). */
function tableRef(qualified: string): string {
  const [s, t] = qualified.split('.');
  return `${quoteIdent(s!)}.${quoteIdent(t!)}`;
}

interface GeometryRow {
  hex: string;
  srid: number;
  valid: boolean;
  reason: string | null;
  gtype: string;
  npoints: number;
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
  area_m2: number;
}

/** Common tail: validity, type, bbox in 4326 and area of a geometry expression `g`. */
const DESCRIBE = (g: string) => `
  SELECT encode(ST_AsEWKB(g), 'hex') AS hex, ST_SRID(g) AS srid, ST_IsValid(g) AS valid,
         CASE WHEN ST_IsValid(g) THEN NULL ELSE ST_IsValidReason(g) END AS reason,
         GeometryType(g) AS gtype, ST_NPoints(g) AS npoints,
         ST_XMin(b) AS xmin, ST_YMin(b) AS ymin, ST_XMax(b) AS xmax, ST_YMax(b) AS ymax,
         CASE WHEN ST_IsValid(g) THEN ST_Area(ST_Transform(g, 4326)::geography) ELSE 0 END AS area_m2
    FROM (SELECT ${g} AS g) s,
         LATERAL (SELECT ST_Transform(ST_Envelope(ST_Segmentize(g, GREATEST(ST_XMax(g) - ST_XMin(g), ST_YMax(g) - ST_YMin(g)) / 32 + 1e-9)), 4326) AS b) e`;

/**
 * Coordinates that do not fit their CRS are the commonest mistake with areas (Lambert-93 metres sent without
 * `polygon-crs`, read as degrees; degrees sent with `bbox-crs=EPSG:2154`): they are refused with the figures,
 * not transformed into nonsense or into PostGIS's "latitude or longitude exceeded limits". The test is the CRS's
 * EPSG area of use, widened by half its size on every side (an area may reach beyond a projection's
 * official extent, offshore or over a border, and still be meaningful).
 */
async function checkFitsCrs(platform: Platform, box: { xmin: number; ymin: number; xmax: number; ymax: number }, srid: number, locator: string): Promise<void> {
  await platform.crs.prepare([srid]);
  const area = areaOfUse(srid);
  if (!area) return;
  let a;
  try {
    a = srid === 4326 ? area : platform.crs.transformBbox(area, 4326, srid);
  } catch {
    return;
  }
  const w = srid === 4326 ? 0 : (a.maxx - a.minx) / 2;
  const h = srid === 4326 ? 0 : (a.maxy - a.miny) / 2;
  const fits = box.xmin >= a.minx - w && box.xmax <= a.maxx + w && box.ymin >= a.miny - h && box.ymax <= a.maxy + h;
  if (!fits) {
    const r = (n: number) => (Math.abs(n) >= 1000 ? Math.round(n) : Math.round(n * 1e4) / 1e4);
    const crsName = locator.endsWith('-crs') ? locator : `${locator}-crs`;
    throw new DownloadError(
      400,
      'invalid-area',
      `The ${locator} coordinates (x ${r(box.xmin)} to ${r(box.xmax)}, y ${r(box.ymin)} to ${r(box.ymax)}) do not fit EPSG:${srid} (${platform.crs.name(srid)}: x ${r(a.minx)} to ${r(a.maxx)}, y ${r(a.miny)} to ${r(a.maxy)}). Are they in another CRS? Say which with ${crsName} (e.g. EPSG:2154 for Lambert-93 metres, EPSG:4326 for longitude/latitude).`,
      locator,
    );
  }
}

/** The x/y extent of a polygon as written (GeoJSON or WKT), without any transformation. */
async function rawExtent(platform: Platform, spec: Extract<AreaSpec, { kind: 'polygon' }>): Promise<{ xmin: number; ymin: number; xmax: number; ymax: number } | undefined> {
  const expr = spec.geojson !== undefined ? 'ST_GeomFromGeoJSON($1::text)' : 'ST_GeomFromText($1::text)';
  const value = spec.geojson !== undefined ? JSON.stringify(spec.geojson) : spec.wkt;
  const { rows } = await platform.pool.query(`SELECT ST_XMin(g) AS xmin, ST_YMin(g) AS ymin, ST_XMax(g) AS xmax, ST_YMax(g) AS ymax FROM (SELECT ${expr} AS g) s`, [value]);
  return rows[0] && rows[0].xmin !== null ? rows[0] : undefined;
}

export async function resolveArea(platform: Platform, spec: AreaSpec): Promise<ResolvedArea> {
  let row: GeometryRow | undefined;
  let label: string;
  try {
    if (spec.kind === 'bbox') {
      checkCrs(platform, spec.crs, 'bbox-crs');
      const [x0, y0, x1, y1] = spec.bbox;
      await checkFitsCrs(platform, { xmin: x0, ymin: y0, xmax: x1, ymax: y1 }, spec.crs, 'bbox');
      const [a, b, c, d] = spec.bbox;
      row = (await platform.pool.query<GeometryRow>(DESCRIBE('ST_MakeEnvelope($1::float8, $2::float8, $3::float8, $4::float8, $5::int)'), [a, b, c, d, spec.crs])).rows[0];
      label = `bbox ${spec.bbox.join(',')} (EPSG:${spec.crs})`;
    } else if (spec.kind === 'polygon') {
      checkCrs(platform, spec.crs, 'polygon-crs');
      const extent = await rawExtent(platform, spec);
      if (extent) await checkFitsCrs(platform, extent, spec.crs, 'polygon');
      if (spec.geojson !== undefined) {
        const g = spec.geojson as { type?: unknown; geometry?: unknown };
        // A GeoJSON Feature is accepted for its geometry.
        const geom = g && g.type === 'Feature' ? g.geometry : g;
        row = (await platform.pool.query<GeometryRow>(DESCRIBE('ST_SetSRID(ST_GeomFromGeoJSON($1::text), $2::int)'), [JSON.stringify(geom), spec.crs])).rows[0];
      } else {
        row = (await platform.pool.query<GeometryRow>(DESCRIBE('ST_GeomFromText($1::text, $2::int)'), [spec.wkt, spec.crs])).rows[0];
      }
      label = `polygon (EPSG:${spec.crs})`;
    } else {
      const t = platform.config.download.adminUnits[spec.unit];
      const sql = `SELECT d.*, n.name FROM (${DESCRIBE(`(SELECT ST_Union(${quoteIdent(t.geometryColumn)}) FROM ${tableRef(t.table)} WHERE ${quoteIdent(t.codeColumn)}::text = $1::text)`)}) d,
                          LATERAL (SELECT string_agg(DISTINCT ${quoteIdent(t.nameColumn)}::text, ', ') AS name FROM ${tableRef(t.table)} WHERE ${quoteIdent(t.codeColumn)}::text = $1::text) n
                    WHERE d.hex IS NOT NULL`;
      const r = (await platform.pool.query<GeometryRow & { name: string }>(sql, [spec.code])).rows[0];
      if (!r) throw new DownloadError(400, 'unknown-area', `No ${spec.unit} with code '${spec.code}' in the reference table`, spec.unit);
      row = r;
      label = `${spec.unit} ${spec.code} ${r.name}`;
    }
  } catch (e) {
    if (e instanceof DownloadError) throw e;
    const code = (e as { code?: string }).code ?? '';
    const locator = spec.kind === 'admin' ? spec.unit : spec.kind;
    // XX000 / 22xxx: PostGIS could not parse the geometry (bad GeoJSON/WKT, wrong coordinates).
    if (code === 'XX000' || code.startsWith('22')) throw new DownloadError(400, 'invalid-area', `The ${spec.kind} could not be read as a geometry (GeoJSON geometry or WKT expected)`, locator);
    throw e;
  }
  if (!row) throw new DownloadError(400, 'invalid-area', 'The area is empty', spec.kind);
  const locator = spec.kind === 'admin' ? spec.unit : spec.kind;
  if (!/POLYGON$/.test(row.gtype)) throw new DownloadError(400, 'invalid-area', `The area must be a Polygon or MultiPolygon, not a ${row.gtype}`, locator);
  if (row.npoints > MAX_VERTICES) throw new DownloadError(400, 'invalid-area', `The polygon has ${row.npoints} vertices; the limit is ${MAX_VERTICES}`, locator, { count: row.npoints, limit: MAX_VERTICES });
  if (!row.valid) throw new DownloadError(400, 'invalid-area', `The polygon is not valid: ${row.reason ?? 'invalid geometry'}`, locator);
  return { spec, ewkbHex: row.hex, srid: row.srid, label, bbox4326: [row.xmin, row.ymin, row.xmax, row.ymax], areaM2: Number(row.area_m2) };
}
