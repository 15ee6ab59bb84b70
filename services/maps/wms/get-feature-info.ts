/**
 * WMS GetFeatureInfo: the features of each query layer under the pixel (I, J) of the map described by
 * the request, planned by the one planner (action 'read': attributes are data, not a picture) with a
 * small BBOX filter around the pixel: the pixel itself for polygons, a few pixels for lines and points
 * (3 by default, plus the point symbol's radius; vendor BUFFER overrides), FEATURE_COUNT per layer, the
 * nearest to the pixel's centre first.
 * Answers GeoJSON (geometry in the map CRS, x/y), GML 3.1.1 in a WFS 1.1 FeatureCollection (what QGIS
 * reads for text/xml and application/vnd.ogc.gml; EPSG:4326 lat/lon, URN srsName; in 1.1.1 `EPSG:n`, x/y),
 * HTML or plain text. Raster layers in QUERY_LAYERS answer their value at the pixel (rasterResult), after
 * the vector layers, if the access policy lets the caller read them.
 */
import { planFeatureQuery, PlanError } from '../../../src/query/planner.js';
import { featureInfoPlanError } from './plan-error.js';
import { compileSelect } from '../../../src/query/compile.js';
import { FeatureSession } from '../../../src/query/cursor.js';
import { fromDatabaseError } from '../../../src/ogc/errors.js';
import { crsRef, type CrsRef } from '../../../src/crs/identifiers.js';
import { geojsonFeatureSql } from '../../../src/formats/geojson.js';
import { gmlFeatureSql } from '../../../src/formats/gml/feature.js';
import { encodeTarget } from '../../../src/formats/target.js';
import type { Layer } from '../../../src/catalog/layers.js';
import { xmlEscape as x, XML_DECLARATION } from '../../../src/xml/escape.js';
import { DEFAULT_POINT_RADIUS } from '../../../src/render/style.js';
import { WmsError } from './errors.js';
import type { WmsContext } from './context.js';
import type { GetFeatureInfoRequest } from './kvp-reader.js';
import { INFO_CONTENT_TYPE } from './feature-info-formats.js';
import { mapPixelIn, rasterCutFor } from './get-map.js';
import { warpToGrid } from '../../../src/render/raster.js';
import type { MapGrid } from '../../../src/render/grid.js';
import type { RasterLayer } from '../../../src/catalog/rasters.js';

/** Default search radius around the pixel, for lines and points (QGIS's identify uses a few pixels too). */
export const DEFAULT_TOLERANCE_PIXELS = 3;

function tolerancePixels(layer: Layer, buffer: number | undefined): number {
  if (buffer !== undefined) return Math.max(0.5, buffer);
  const type = layer.geometry!.type.toUpperCase();
  if (type.endsWith('POLYGON')) return 0.5;
  if (type.endsWith('POINT')) return DEFAULT_TOLERANCE_PIXELS + DEFAULT_POINT_RADIUS;
  return DEFAULT_TOLERANCE_PIXELS;
}

interface LayerResult {
  layer: Pick<Layer, 'name' | 'title'> & { columns: ReadonlyArray<{ name: string; alias?: string }> };
  rows: string[];
}

/**
 * A raster layer's answer: its value at the pixel as the map shows it (GDAL warps the clicked pixel alone,
 * with the map's resampling), as one feature with a `value` property (and, in GeoJSON, the pixel's centre as
 * its point); no feature where the raster has no data.
 */
async function rasterResult(ctx: WmsContext, req: GetFeatureInfoRequest, r: RasterLayer, cx: number, cy: number, gml: boolean): Promise<LayerResult> {
  const b = req.bbox;
  const resx = (b.maxx - b.minx) / req.width;
  const resy = (b.maxy - b.miny) / req.height;
  const pixelGrid: MapGrid = { srid: req.crs.srid, bbox: { minx: cx - resx / 2, miny: cy - resy / 2, maxx: cx + resx / 2, maxy: cy + resy / 2 }, width: 1, height: 1 };
  const mapPixel = mapPixelIn(ctx, pixelGrid, r.srid);
  // The policy's refusal (403) or territory: a pixel outside a territorial grant's territory has no value.
  const cut = await rasterCutFor(ctx, r, pixelGrid, mapPixel, 'read');
  let value: number;
  try {
    value = (await warpToGrid(r, pixelGrid, mapPixel, cut)).values[0]!;
  } catch (e) {
    throw Object.assign(new WmsError('NoApplicableCode', `Raster layer ${r.name} could not be read`, 'QUERY_LAYERS', 500), { cause: e });
  }
  const layer = { name: r.name, title: r.title, columns: [{ name: 'value' }] };
  if (Number.isNaN(value)) return { layer, rows: [] };
  const id = `${r.name}.pixel`;
  if (gml) {
    const p = ctx.platform.config.namespace.prefix;
    return { layer, rows: [`<gml:featureMember><${p}:${r.name} gml:id="${x(id)}"><${p}:value>${value}</${p}:value></${p}:${r.name}></gml:featureMember>`] };
  }
  return { layer, rows: [JSON.stringify({ type: 'Feature', id, geometry: { type: 'Point', coordinates: [cx, cy] }, properties: { value } })] };
}

export async function getFeatureInfo(ctx: WmsContext, req: GetFeatureInfoRequest): Promise<{ contentType: string; body: string }> {
  const { platform } = ctx;
  const b = req.bbox;
  const resx = (b.maxx - b.minx) / req.width;
  const resy = (b.maxy - b.miny) / req.height;
  const cx = b.minx + (req.i + 0.5) * resx;
  const cy = b.maxy - (req.j + 0.5) * resy;
  const gml = req.infoFormat === 'gml';
  // GML: in 1.3.0 a URN srsName and the EPSG axis order; in 1.1.1 `EPSG:n` and x/y (EPSG:4326 lon/lat, as
  // the map's SRS); JSON, HTML, text: x/y as the map.
  const outputCrs: CrsRef = gml && req.crs.form !== 'crs84' ? crsRef(req.crs.srid, req.version === '1.1.1' ? 'epsg' : 'urn') : req.crs;
  const withGeometry = req.infoFormat === 'geojson' || gml;
  const statements = req.queryLayers.map((layer) => {
    const tol = tolerancePixels(layer, req.buffer);
    let q;
    try {
      q = planFeatureQuery(platform, ctx.principal, layer, {
        action: 'read',
        filter: { kind: 'bbox', envelope: { minx: cx - tol * resx, miny: cy - tol * resy, maxx: cx + tol * resx, maxy: cy + tol * resy, srid: req.crs.srid } },
        outputCrs,
        properties: withGeometry ? undefined : layer.columns.map((c) => c.name),
        limit: req.featureCount,
        nearest: { x: cx, y: cy, srid: req.crs.srid },
      });
    } catch (e) {
      throw e instanceof PlanError ? featureInfoPlanError(e, { layer: layer.name, crs: req.crs.text }) : e;
    }
    const t = encodeTarget(q, { prefix: platform.config.namespace.prefix, idPrefix: `${layer.name}.`, axisOrder: gml ? 'crs' : 'xy' });
    return { layer, sql: compileSelect(q, { crs: platform.crs, locator: 'BBOX' }, (params) => (gml ? gmlFeatureSql(t, params, '3.1.1') : geojsonFeatureSql(t, params, false))) };
  });
  const results: LayerResult[] = [];
  try {
    await FeatureSession.use(platform.pool, platform.config.features.statementTimeoutMs, async (session) => {
      for (const s of statements) {
        const r = await session.rows(s.sql);
        const rows = [...r.first];
        for await (const batch of r.rest) rows.push(...batch);
        results.push({ layer: s.layer, rows });
      }
    });
  } catch (e) {
    throw fromDatabaseError(e, 'BBOX');
  }
  // Raster layers after the vector ones.
  for (const r of req.queryRasters) results.push(await rasterResult(ctx, req, r, cx, cy, gml));
  const contentType = req.infoMime === 'application/vnd.ogc.gml' ? 'application/vnd.ogc.gml; charset=utf-8' : INFO_CONTENT_TYPE[req.infoFormat];
  switch (req.infoFormat) {
    case 'geojson': {
      const crs = req.crs.srid !== 4326 ? `,"crs":${JSON.stringify({ type: 'name', properties: { name: req.crs.text } })}` : '';
      return { contentType, body: `{"type":"FeatureCollection"${crs},"features":[${results.flatMap((r) => r.rows).join(',')}]}\n` };
    }
    case 'gml': {
      const ns = platform.config.namespace;
      const head = `<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs" xmlns:gml="http://www.opengis.net/gml" xmlns:${ns.prefix}="${x(ns.uri)}">`;
      return { contentType, body: `${XML_DECLARATION}${head}${results.flatMap((r) => r.rows).join('')}</wfs:FeatureCollection>\n` };
    }
    case 'html':
      return { contentType, body: html(results) };
    case 'text':
      return { contentType, body: text(results) };
  }
}

type Feature = { id: string; properties: Record<string, unknown> };
const parse = (rows: string[]) => rows.map((r) => JSON.parse(r) as Feature);
const show = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

function text(results: LayerResult[]): string {
  let s = '';
  for (const r of results) {
    s += `Layer '${r.layer.name}'\n`;
    for (const f of parse(r.rows)) {
      s += `  Feature ${f.id}:\n`;
      for (const [k, v] of Object.entries(f.properties)) s += `    ${k} = ${show(v)}\n`;
    }
  }
  return s || 'no features\n';
}

function html(results: LayerResult[]): string {
  let s = '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>GetFeatureInfo</title></head><body>';
  for (const r of results) {
    const features = parse(r.rows);
    s += `<h2>${x(r.layer.title)}</h2>`;
    if (!features.length) continue;
    const cols = r.layer.columns.map((c) => c.name);
    // The administrator's alias heads its column (the attribute's name as the cell's title).
    s += `<table><tr><th>id</th>${r.layer.columns.map((c) => (c.alias ? `<th title="${x(c.name)}">${x(c.alias)}</th>` : `<th>${x(c.name)}</th>`)).join('')}</tr>`;
    for (const f of features) s += `<tr><td>${x(f.id)}</td>${cols.map((c) => `<td>${x(show(f.properties[c]))}</td>`).join('')}</tr>`;
    s += '</table>';
  }
  return s + '</body></html>\n';
}
