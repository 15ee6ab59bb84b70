/**
 * WMS GetMap: each layer is planned by the one planner (action 'view', the map box grown by the symbols'
 * reach as a BBOX filter node, the map CRS as output CRS, geometry only, unordered), compiled with the
 * pixel-grid select list (src/render/sql.ts: simplified, clipped, reprojected, in pixels, TWKB) and read
 * through one FeatureSession (one snapshot for all layers); batches are drawn as they arrive, the first
 * layer at the bottom. A box outside the data reads no rows: an empty (transparent or BGCOLOR) image.
 */
import { planFeatureQuery, PlanError } from '../../../src/query/planner.js';
import { compileSelect } from '../../../src/query/compile.js';
import { FeatureSession } from '../../../src/query/cursor.js';
import { fromDatabaseError } from '../../../src/ogc/errors.js';
import type { CompiledSql } from '../../../src/db/sql.js';
import { MapCanvas } from '../../../src/render/canvas.js';
import { grownBbox, type MapGrid } from '../../../src/render/grid.js';
import { pixelGeometrySql } from '../../../src/render/sql.js';
import { styleOf, symbolReach, type MapStyle } from '../../../src/render/style.js';
import { WmsError } from './errors.js';
import type { WmsContext } from './context.js';
import type { GetLegendGraphicRequest, GetMapRequest, ImageRequest } from './kvp-reader.js';
import type { DrawKind } from '../../../src/render/twkb.js';

interface LayerStatement {
  sql: CompiledSql;
  style: MapStyle;
}

export function planMapLayers(ctx: WmsContext, req: GetMapRequest, grid: MapGrid, scale: number): LayerStatement[] {
  const { platform } = ctx;
  return req.layers.map((layer, i) => {
    const style = styleOf(layer.name, req.styles[i]);
    if (!style) throw new WmsError('StyleNotDefined', `Style ${req.styles[i]!.slice(0, 80)} is not defined for layer ${layer.name}`, 'STYLES');
    const margin = symbolReach(style, scale);
    let q;
    try {
      q = planFeatureQuery(platform, ctx.principal, layer, {
        action: 'view',
        filter: { kind: 'bbox', envelope: { ...grownBbox(grid, margin), srid: grid.srid } },
        outputCrs: req.crs,
        properties: [layer.geometry!.column],
        ordered: false,
      });
    } catch (e) {
      if (!(e instanceof PlanError)) throw e;
      if (e.kind === 'forbidden') throw new WmsError('NoApplicableCode', e.message, 'LAYERS', 403);
      if (e.param === 'crs') throw new WmsError('InvalidCRS', `CRS ${req.crs.text.slice(0, 80)} is not offered for layer ${layer.name}`, 'CRS');
      throw new WmsError('InvalidParameterValue', e.message, 'LAYERS');
    }
    const sql = compileSelect(q, { crs: platform.crs, locator: 'BBOX' }, (params) => pixelGeometrySql(layer, grid, params, { crs: platform.crs, margin }));
    return { sql, style };
  });
}

export async function getMap(ctx: WmsContext, req: GetMapRequest): Promise<Buffer> {
  const { platform } = ctx;
  const scale = req.dpi / 96;
  const grid: MapGrid = { srid: req.crs.srid, bbox: req.bbox, width: req.width, height: req.height };
  const statements = planMapLayers(ctx, req, grid, scale);
  const canvas = new MapCanvas(req.width, req.height, { color: req.bgcolor, transparent: req.transparent }, scale);
  const session = await FeatureSession.open(platform.pool, platform.config.features.statementTimeoutMs);
  let ok = false;
  try {
    for (const s of statements) {
      const rows = await session.rows<Buffer>(s.sql);
      canvas.drawTwkb(rows.first, s.style);
      for await (const batch of rows.rest) canvas.drawTwkb(batch, s.style);
    }
    ok = true;
  } catch (e) {
    throw fromDatabaseError(e, 'BBOX');
  } finally {
    await session.close(ok);
  }
  return canvas.encode(req.format);
}

/** The image of an EXCEPTIONS=BLANK or INIMAGE answer: the background, and for INIMAGE the message. */
export function exceptionImage(img: ImageRequest, message: string | undefined): Promise<Buffer> {
  const canvas = new MapCanvas(img.width, img.height, { color: img.bgcolor, transparent: img.transparent });
  if (message !== undefined) canvas.drawMessage(message);
  return canvas.encode(img.format);
}

/** GetLegendGraphic: the style's symbol for the layer's kind of geometry (all three for a mixed layer). */
export function legendGraphic(req: GetLegendGraphicRequest): Promise<Buffer> {
  const style = styleOf(req.layer.name, req.style);
  if (!style) throw new WmsError('StyleNotDefined', `Style ${req.style.slice(0, 80)} is not defined for layer ${req.layer.name}`, 'STYLE');
  const canvas = new MapCanvas(req.width, req.height, { color: '#ffffff', transparent: true });
  const type = req.layer.geometry!.type.toUpperCase();
  const kinds: DrawKind[] = type.endsWith('POLYGON') ? ['polygon'] : type.endsWith('LINESTRING') ? ['line'] : type.endsWith('POINT') ? ['point'] : ['polygon', 'line', 'point'];
  for (const k of kinds) canvas.drawLegendSymbol(k, style);
  return canvas.encode('png');
}
