/**
 * WMS GetMap: each layer's style comes from SLD_BODY or the database (STYLES names, '' = the layer's default);
 * its rules in scale at the map's scale denominator decide what the layer's query brings. Each layer is then
 * planned by the one planner (action 'view', the map box grown by the symbols' reach as a BBOX filter node —
 * ANDed with "some rule draws it" when every rule is filtered —, the map CRS as output CRS, the geometry and
 * the attributes the rules' filters and labels read as properties, unordered), compiled with the pixel-grid
 * select list (src/render/sql.ts: simplified, clipped, reprojected, in pixels, TWKB, plus the rule matches
 * evaluated by the one filter compiler in PostGIS, label texts and points) and read through one FeatureSession
 * (one snapshot for all layers); batches are drawn as they arrive, the first layer at the bottom, labels last.
 * A layer with no rule in scale is not queried. A box outside the data reads no rows: an empty image.
 */
import { planFeatureQuery, PlanError } from '../../../src/query/planner.js';
import { getMapPlanError } from './plan-error.js';
import { compileSelect } from '../../../src/query/compile.js';
import { FeatureSession } from '../../../src/query/cursor.js';
import { fromDatabaseError } from '../../../src/ogc/errors.js';
import { resolveProperty } from '../../../src/db/identifiers.js';
import { isGeographic } from '../../../src/crs/facts.js';
import type { CompiledSql } from '../../../src/db/sql.js';
import type { Layer } from '../../../src/catalog/layers.js';
import type { Filter } from '../../../src/filter/ast.js';
import { MapCanvas, type MapRow } from '../../../src/render/canvas.js';
import { featureCounter } from '../../../src/usage/context.js';
import { grownBbox, type MapGrid } from '../../../src/render/grid.js';
import { overviewSelectList, pixelSelectList } from '../../../src/render/sql.js';
import { overviewLevels, type OverviewLevel } from '../../../src/catalog/overviews.js';
import { queueOverviews } from '../../../src/publishing/overview-job.js';
import type { OverviewFrames } from '../../../src/render/canvas.js';
import { geometryKindOf, ruleInScale, scaleDenominator, styleProperties, symbolReach, type MapStyle } from '../../../src/render/style.js';
import { anyRuleFilter, layerRules, type LayerRules } from '../../../src/render/layer-rules.js';
import { renderColorMapLegend, renderLegend, renderRampLegend } from '../../../src/render/legend.js';
import { bandRange, colourise, isImagery, warpImagery, warpToGrid, type WarpedBand } from '../../../src/render/raster.js';
import { colouriseWithMap, type RasterStyle } from '../../../src/render/raster-style.js';
import { pickRasterStyle, RasterStyleStore } from '../../../src/styles/raster-store.js';
import type { RasterLayer } from '../../../src/catalog/rasters.js';
import { mapCut, type RasterCut } from '../../../src/render/raster-cut.js';
import { pickStyle, StyleStore } from '../../../src/styles/store.js';
import { WmsError } from './errors.js';
import type { WmsContext } from './context.js';
import { layerByName, type GetLegendGraphicRequest, type GetMapRequest, type GetRasterLegendRequest, type ImageRequest } from './kvp-reader.js';

export interface LayerStatement {
  /** Index of the layer in the request's (vector) layers. */
  index: number;
  layer: Layer;
  sql: CompiledSql;
  rules: LayerRules;
  /** The overview level the planner chose (while it is fresh its rows' last column is not NULL). */
  overview?: { cell: number };
}

/** The style of each layer of a GetMap: SLD_BODY's for the layers it names, else the stored style STYLES names. */
export async function mapStyles(ctx: WmsContext, req: Pick<GetMapRequest, 'layers' | 'styles' | 'sld'>, stylesParam = 'STYLES'): Promise<MapStyle[]> {
  const stored = await new StyleStore(ctx.platform.pool).forLayers(req.layers);
  const prefix = ctx.platform.config.namespace.prefix;
  return req.layers.map((layer, i) => {
    const offered = stored.get(layer.name) ?? [];
    const fromSld = req.sld?.layers.find((n) => layerByName([layer], n.layer, prefix));
    if (fromSld) {
      if (fromSld.styles[0]) return fromSld.styles[0];
      const named = pickStyle(offered, fromSld.namedStyles[0]);
      if (!named) throw new WmsError('StyleNotDefined', `Style ${fromSld.namedStyles[0]!.slice(0, 80)} of SLD_BODY is not defined for layer ${layer.name}`, 'SLD_BODY');
      return named;
    }
    const style = pickStyle(offered, req.styles[i]);
    if (!style) throw new WmsError('StyleNotDefined', `Style ${req.styles[i]!.slice(0, 80)} is not defined for layer ${layer.name}`, stylesParam);
    return style;
  });
}

/** The scale denominator of a map grid (OGC 0.28 mm pixel at 96 DPI; see scaleDenominator). */
export function gridScale(grid: MapGrid, dpi: number): number {
  return scaleDenominator((grid.bbox.maxx - grid.bbox.minx) / grid.width, isGeographic(grid.srid), dpi);
}

const POINT_TYPES = new Set(['POINT', 'MULTIPOINT']);

/** Whether a rule in scale fills polygons (the canvas fills only a fill of some opacity). */
function fillsPolygons(lr: LayerRules): boolean {
  return lr.rules.some((r) => r.symbolizers.some((s) => s.kind === 'polygon' && !!s.fill && s.fill.opacity > 0));
}

/** The statements of a GetMap's layers that have a rule in scale (others draw nothing and are not queried). */
export async function planMapLayers(ctx: WmsContext, req: GetMapRequest, grid: MapGrid, scale: number): Promise<LayerStatement[]> {
  const { platform } = ctx;
  const styles = await mapStyles(ctx, req);
  const denominator = gridScale(grid, req.dpi);
  const locator = req.sld ? 'SLD_BODY' : 'STYLES';
  const out: LayerStatement[] = [];
  // Overview levels of the layers whose style draws every row alike (no rule filter, no label, marks only on
  // points: a mark on a polygon goes at its label point); the planner decides whether one is read.
  const alike = (lr: LayerRules, layer: Layer) => !lr.filters.length && !lr.hasLabels && !lr.rules.some((r) => r.else) && (!lr.hasMarks || POINT_TYPES.has(layer.geometry!.type.toUpperCase()));
  const candidates = req.layers.filter((layer, i) => alike(layerRules(styles[i]!, denominator), layer)).map((l) => l.name);
  const levels: Map<string, OverviewLevel[]> = candidates.length ? await overviewLevels(platform.pool, candidates) : new Map();
  const resolution = Math.min((grid.bbox.maxx - grid.bbox.minx) / grid.width, (grid.bbox.maxy - grid.bbox.miny) / grid.height);
  req.layers.forEach((layer, i) => {
    const style = styles[i]!;
    const rules = layerRules(style, denominator);
    if (!rules.rules.length) return;
    const margin = symbolReach(rules.rules, scale);
    // The box test alone: what lies outside the map is clipped by the select list (src/render/sql.ts).
    const bbox: Filter = { kind: 'bbox', envelope: { ...grownBbox(grid, margin), srid: grid.srid }, boxOnly: true };
    const some = anyRuleFilter(rules);
    let q;
    try {
      q = planFeatureQuery(platform, ctx.principal, layer, {
        action: 'view',
        filter: some ? { kind: 'and', operands: [bbox, some] } : bbox,
        outputCrs: req.crs,
        properties: [layer.geometry!.column, ...styleProperties(rules.rules)],
        ordered: false,
        ...(levels.get(layer.name)?.length ? { overview: { resolution, srid: grid.srid, levels: levels.get(layer.name)! } } : {}),
      });
    } catch (e) {
      throw e instanceof PlanError ? getMapPlanError(e, { layer: layer.name, style: style.name, crs: req.crs.text, styleLocator: locator }) : e;
    }
    const labelColumns = rules.labelProperties.map((p) => resolveProperty(layer, p)!);
    const labelPoint = (rules.hasLabels || rules.hasMarks) && !POINT_TYPES.has(layer.geometry!.type.toUpperCase());
    const sql = compileSelect(q, { crs: platform.crs, locator, overviewSelect: overviewSelectList }, (params) =>
      pixelSelectList(layer, grid, params, { crs: platform.crs, margin, fills: fillsPolygons(rules) }, { filters: rules.filters, labelColumns, labelPoint, locator }),
    );
    out.push({ index: i, layer, sql, rules, ...(q.overview ? { overview: { cell: q.overview.cell } } : {}) });
  });
  return out;
}

/**
 * A raster layer of the map: its CRS check (InvalidCRS when the map CRS is not one it is offered in, as for
 * vector layers), then src/render/raster.ts warps it into the grid through GDAL and colours it.
 */
function checkRasterCrs(ctx: WmsContext, r: RasterLayer, req: GetMapRequest): void {
  if (!ctx.platform.crs.layerCrs(r.srid, null).includes(req.crs.srid)) throw new WmsError('InvalidCRS', `CRS ${req.crs.text.slice(0, 80)} is not offered for layer ${r.name}`, 'CRS');
}

/** The size of a map pixel measured in a raster's CRS (it decides the resampling; Infinity when not computable). */
export function mapPixelIn(ctx: WmsContext, grid: MapGrid, srid: number): number {
  try {
    const b = grid.srid === srid ? grid.bbox : ctx.platform.crs.transformBbox(grid.bbox, grid.srid, srid);
    const p = Math.min((b.maxx - b.minx) / grid.width, (b.maxy - b.miny) / grid.height);
    return Number.isFinite(p) ? p : Infinity;
  } catch {
    return Infinity; // outside the raster CRS's area: average
  }
}

/**
 * The access policy's cut of a raster layer for this caller and map (issue 11): undefined (the whole raster),
 * 'empty', or the territory's cutline (src/render/raster-cut.ts). A refusal is a 403, as for vector layers.
 */
export async function rasterCutFor(ctx: WmsContext, r: RasterLayer, grid: MapGrid, mapPixel: number, action: 'view' | 'read'): Promise<RasterCut> {
  const d = ctx.platform.policy.decideRaster(ctx.principal, r, action);
  if (!d.allowed) throw new WmsError(action === 'read' ? 'LayerNotQueryable' : 'NoApplicableCode', `Layer ${r.name} may not be ${action === 'read' ? 'queried' : 'viewed'}`, action === 'read' ? 'QUERY_LAYERS' : 'LAYERS', 403);
  return mapCut(ctx.platform.pool, d, r, grid, mapPixel);
}

/**
 * The style of each raster layer of the map: SLD_BODY's RasterSymbolizer when it gives one, else the one STYLES
 * names ('' or `default`: its default) from its stored
 * styles (src/styles/raster-store.ts); StyleNotDefined for a name it does not have.
 */
export async function rasterStyles(ctx: WmsContext, items: ReadonlyArray<{ raster: RasterLayer; style: string; sldStyle?: RasterStyle }>, locator = 'STYLES'): Promise<RasterStyle[]> {
  if (!items.length) return [];
  const stored = items.filter((i) => !i.sldStyle);
  const offered = stored.length ? await new RasterStyleStore(ctx.platform.pool).forRasters([...new Set(stored.map((i) => i.raster.name))]) : new Map();
  return items.map((i) => {
    if (i.sldStyle) return i.sldStyle;
    const style = pickRasterStyle(offered.get(i.raster.name) ?? [], i.style);
    if (!style) throw new WmsError('StyleNotDefined', `Style ${i.style.slice(0, 80)} is not defined for layer ${i.raster.name}`, locator);
    return style;
  });
}

/** RGBA pixels of a warped band in a raster style: its colour map, or the log ramp over the band's range. */
async function styledPixels(r: RasterLayer, band: WarpedBand, style: RasterStyle): Promise<Uint8ClampedArray> {
  return style.colorMap ? colouriseWithMap(band, style.colorMap, style.opacity) : colourise(band, await bandRange(r), style.opacity);
}

async function drawRaster(ctx: WmsContext, r: RasterLayer, style: RasterStyle, grid: MapGrid, canvas: MapCanvas, denominator: number): Promise<void> {
  // A style imported from an SLD rule with a scale range draws only inside it.
  if ((style.minScale !== undefined && denominator < style.minScale) || (style.maxScale !== undefined && denominator >= style.maxScale)) return;
  const mapPixel = mapPixelIn(ctx, grid, r.srid);
  const cut = await rasterCutFor(ctx, r, grid, mapPixel, 'view');
  if (cut === 'empty') return;
  try {
    if (isImagery(r)) canvas.drawPixels(await warpImagery(r, grid, mapPixel, cut));
    else canvas.drawPixels(await styledPixels(r, await warpToGrid(r, grid, mapPixel, cut), style));
  } catch (e) {
    // The client gets no GDAL text (paths, driver messages); the log gets it as the cause.
    throw Object.assign(new WmsError('NoApplicableCode', `Raster layer ${r.name} could not be read`, 'LAYERS', 500), { cause: e });
  }
}

/**
 * Rows a map layer's cursor fetches at a time. Map rows are small (a TWKB of a few pixels, ~16 bytes for a
 * parcel at 50 km), so a large fetch costs little memory (10,000 rows ≈ 1 MB in flight) and saves round trips:
 * W5's 277,000 rows took 139 fetches at the default 2,000, now 28.
 */
const MAP_FETCH_ROWS = 10_000;
/**
 * Rows of an overview a fetch brings: a row is a block of features (W5's parcels: ~20 kB of path data a row), so
 * fewer rows keep a map's text and paths in flight small (W5, one process: VmHWM 361–374 → 310–318 MB). When the
 * first batch shows the level stale (rows of the table), the next ones are MAP_FETCH_ROWS.
 */
const OVERVIEW_FETCH_ROWS = 64;

export async function getMap(ctx: WmsContext, req: GetMapRequest): Promise<Buffer> {
  const { platform } = ctx;
  const scale = req.dpi / 96;
  const grid: MapGrid = { srid: req.crs.srid, bbox: req.bbox, width: req.width, height: req.height };
  const rasterItems = req.order.filter((item): item is Extract<typeof item, { raster: RasterLayer }> => 'raster' in item);
  for (const item of rasterItems) checkRasterCrs(ctx, item.raster, req);
  const styleOf = new Map(zip(rasterItems, await rasterStyles(ctx, rasterItems)));
  const denominator = gridScale(grid, req.dpi);
  const statements = new Map((await planMapLayers(ctx, req, grid, scale)).map((s) => [s.index, s]));
  const canvas = new MapCanvas(req.width, req.height, { color: req.bgcolor, transparent: req.transparent }, scale);
  // Layers in LAYERS order, the first at the bottom: vector layers streamed from one session, rasters warped.
  const session = statements.size ? await FeatureSession.open(platform.pool, platform.config.features.statementTimeoutMs) : undefined;
  {
    let ok = false;
    try {
      for (const item of req.order) {
        if ('raster' in item) {
          await drawRaster(ctx, item.raster, styleOf.get(item)!, grid, canvas, denominator);
          continue;
        }
        const s = statements.get(item.vector);
        if (!s || !session) continue;
        const rows = s.overview
          ? await session.tuples<MapRow>(s.sql, OVERVIEW_FETCH_ROWS, (first) => (first[0]![2] === null ? MAP_FETCH_ROWS : OVERVIEW_FETCH_ROWS))
          : await session.tuples<MapRow>(s.sql, MAP_FETCH_ROWS);
        const frame = s.overview ? overviewFrames(grid, s.overview.cell, s.layer) : undefined;
        // Usage statistics: the cursor counts a row as a feature; an overview row is a block of them.
        const countBlocks = s.overview ? blockCounter(s.layer.name) : undefined;
        // A row of the table's branch (NULL last column): the level is stale.
        if (frame && rows.first.length && rows.first[0]![2] === null) staleOverview(ctx, s.layer.name);
        canvas.drawRows(rows.first, s.rules, frame);
        countBlocks?.(rows.first);
        for await (const batch of rows.rest) {
          canvas.drawRows(batch, s.rules, frame);
          countBlocks?.(batch);
        }
      }
      ok = true;
    } catch (e) {
      if (e instanceof WmsError) throw e;
      throw fromDatabaseError(e, 'BBOX');
    } finally {
      await session?.close(ok);
    }
  }
  canvas.drawLabels();
  return canvas.encode(req.format);
}

/**
 * For usage statistics (src/usage/context.ts), the features' parts an overview's rows hold beyond the one feature
 * the cursor counts a row as: a W5 map counted ~11,000 parcels' blocks where it drew ~149,000 parcels. Rows of the
 * table's branch (a stale level: NULL marker) are features already counted.
 */
function blockCounter(layer: string): (rows: ReadonlyArray<MapRow>) => void {
  const count = featureCounter(layer);
  return (rows) => {
    let more = 0;
    for (const r of rows) if (r[2] !== null && r[3] !== null) more += Number(r[3]) - 1;
    if (more > 0) count(more);
  };
}

/** Cell coordinates of an overview (layer CRS = map CRS) → pixels of the grid; SVG rows have y negated. */
export function overviewFrames(grid: MapGrid, cell: number, layer: Layer): OverviewFrames {
  const sx = grid.width / (grid.bbox.maxx - grid.bbox.minx);
  const sy = grid.height / (grid.bbox.maxy - grid.bbox.miny);
  const e = -grid.bbox.minx * sx;
  const f = grid.bbox.maxy * sy;
  const kind = /POLYGON/i.test(layer.geometry!.type) ? 'polygon' : 'line';
  return { cells: { a: cell * sx, d: -cell * sy, e, f }, svg: { a: cell * sx, d: cell * sy, e, f }, kind };
}

/** When each layer's stale overview was last queued for a rebuild by this process (one job per layer at a time anyway). */
const requeued = new Map<string, number>();
const REQUEUE_AFTER_MS = 30_000;

/** A map read a layer's table because its overview is stale: queue the rebuild (after the answer, errors logged). */
function staleOverview(ctx: WmsContext, layer: string): void {
  const now = Date.now();
  if (now - (requeued.get(layer) ?? -Infinity) < REQUEUE_AFTER_MS) return;
  requeued.set(layer, now);
  // A failure (database busy) is not the map's: it is tried again by a later map.
  queueOverviews(ctx.platform.pool, layer).catch(() => requeued.delete(layer));
}

/** The image of an EXCEPTIONS=BLANK or INIMAGE answer: the background, and for INIMAGE the message. */
export function exceptionImage(img: ImageRequest, message: string | undefined): Promise<Buffer> {
  const canvas = new MapCanvas(img.width, img.height, { color: img.bgcolor, transparent: img.transparent });
  if (message !== undefined) canvas.drawMessage(message);
  return canvas.encode(img.format);
}

/** GetLegendGraphic of a raster layer: its style's colour map entries, or its ramp over the band's range. */
export async function rasterLegendGraphic(ctx: WmsContext, req: GetRasterLegendRequest): Promise<Buffer> {
  const [style] = await rasterStyles(ctx, [req], 'STYLE');
  if (isImagery(req.raster)) throw new WmsError('InvalidParameterValue', `Layer ${req.raster.name} is imagery, drawn in its own colours: it has no legend`, 'LAYER');
  if (style!.colorMap) return renderColorMapLegend(style!.colorMap, style!.opacity, req.width, req.height);
  return renderRampLegend(await bandRange(req.raster), req.width, req.height);
}

function zip<A, B>(a: readonly A[], b: readonly B[]): Array<[A, B]> {
  return a.map((x, i) => [x, b[i]!]);
}

/** GetLegendGraphic: a swatch and title per rule of the style (SLD_BODY's, else STYLE's; SCALE: those in scale; RULE: that one alone). */
export async function legendGraphic(ctx: WmsContext, req: GetLegendGraphicRequest): Promise<Buffer> {
  const [style] = await mapStyles(ctx, { layers: [req.layer], styles: [req.style], ...(req.sld ? { sld: req.sld } : {}) }, 'STYLE');
  let rules = style!.rules.filter((r) => ruleInScale(r, req.scale));
  if (req.rule !== undefined) {
    rules = rules.filter((r) => r.name === req.rule);
    if (!rules.length) throw new WmsError('InvalidParameterValue', `Style ${style!.name} has no rule ${req.rule.slice(0, 80)}${req.scale !== undefined ? ' in scale' : ''}`, 'RULE');
  }
  const kind = geometryKindOf(req.layer.geometry!.type);
  return renderLegend(rules, kind, req.width, req.height);
}
