/**
 * The estimate asked before any extract: per layer, how many features (exact count under the same
 * predicate as the extract) and roughly how many bytes, whether the extract will be served directly or as a
 * deferred job, and which limit decides it with its value. Over the hard limits the caller gets an error
 * that states the count and the limit (users' main complaint about download modules is opaque limits).
 */
import { refusalStatus } from '../query/planner.js';
import type { Platform } from '../platform.js';
import type { Layer } from '../catalog/layers.js';
import type { Principal, TerritorySql as RasterTerritory } from '../access/policy.js';
import { withReadTransaction } from '../db/pool.js';
import { fromDatabaseError, OgcError } from '../ogc/errors.js';
import { FORMATS, type OutputFormat } from './formats.js';
import { DownloadError } from './errors.js';
import { getRasterLayer } from '../catalog/rasters.js';
import type { ExtractRequest } from './request.js';
import { resolveArea, type ResolvedArea } from './area.js';
import { compileExtractCount, planLayer, type LayerExtractPlan } from './sql.js';

export interface LayerEstimate {
  layer: string;
  kind: 'vector' | 'raster';
  features: number;
  bytes: number;
  /** Rasters: output size in pixels, and width × height × bands (what the raster limits count). */
  width?: number;
  height?: number;
  pixels?: number;
}

export interface Limit {
  name: string;
  value: number;
}

export interface Estimate {
  layers: LayerEstimate[];
  /** Raster baskets: total pixels (width × height × bands). */
  pixels?: number;
  features: number;
  bytes: number;
  mode: 'direct' | 'deferred';
  /** The limit that made the decision (direct limit when deferred, else the nearest one). */
  limit: Limit;
  limits: { directMaxFeatures: number; directMaxBytes: number; maxFeatures: number; maxBytes: number };
  format: string;
  crs: string;
  area?: string;
}

/** Everything an extract needs, resolved once: the layers' plans, the area, the format. */
export interface PreparedExtract {
  req: ExtractRequest;
  format: OutputFormat;
  area?: ResolvedArea;
  vectors: LayerExtractPlan[];
  /** Raster layers of the basket (names), handled by raster.ts. */
  rasters: string[];
  /** The caller's territory (the access policy's, issue 11) per raster layer cut to one; absent: the whole layer. */
  rasterTerritories?: ReadonlyMap<string, RasterTerritory>;
  estimate: Estimate;
}

async function avgRowBytes(platform: Platform, layer: Layer): Promise<number> {
  const { rows } = await platform.pool.query<{ w: number | null }>(
    'SELECT sum(avg_width)::float8 AS w FROM pg_stats WHERE schemaname = $1 AND tablename = $2',
    [layer.schema, layer.table],
  );
  return rows[0]?.w ?? 200;
}

export async function prepareExtract(platform: Platform, req: ExtractRequest, principal: Principal): Promise<PreparedExtract> {
  const format = FORMATS.find((f) => f.id === req.format)!;
  if (!platform.crs.offered.includes(req.crs)) throw new DownloadError(400, 'unknown-crs', `EPSG:${req.crs} is not offered (offered: ${platform.crs.offered.map((s) => `EPSG:${s}`).join(', ')})`, 'crs');
  if (format.fixedSrid && req.crs !== format.fixedSrid) throw new DownloadError(400, 'invalid-parameter', `${format.title} is always in EPSG:${format.fixedSrid}`, 'crs');
  const layers: Layer[] = [];
  const rasters: string[] = [];
  const rasterTerritories = new Map<string, RasterTerritory>();
  // A layer the caller may see (view) but not download: 401 (anonymous) or 403 (issue 11). One it may not even
  // see answers as one that does not exist, 404 (no enumeration of restricted names).
  const refused = (name: string) => {
    const status = refusalStatus(principal);
    return new DownloadError(status, status === 401 ? 'unauthorized' : 'forbidden', `You may not download layer ${name.slice(0, 80)}`, 'layer');
  };
  const unknown = (name: string) => new DownloadError(404, 'unknown-layer', `Layer '${name.slice(0, 80)}' does not exist`, 'layer');
  for (const name of req.layers) {
    const l = await platform.layers.get(name);
    if (l) {
      if (!platform.policy.canList(principal, l)) throw unknown(name);
      if (!platform.policy.decide(principal, l, 'download').allowed) throw refused(name);
      layers.push(l);
      continue;
    }
    const r = await getRasterLayer(platform.pool, name);
    if (!r || !platform.policy.decideRaster(principal, r, 'view').allowed) throw unknown(name);
    const d = platform.policy.decideRaster(principal, r, 'download');
    if (!d.allowed) throw refused(name);
    rasters.push(name);
    if (d.territory) rasterTerritories.set(name, d.territory);
  }
  if (layers.length && format.kind !== 'vector') throw new DownloadError(400, 'format-not-applicable', `${format.title} is a raster format; layer ${layers[0]!.name} is a vector layer`, 'format');
  if (rasters.length && format.kind !== 'raster') throw new DownloadError(400, 'format-not-applicable', `${format.title} is a vector format; layer ${rasters[0]} is a raster layer (use gtiff or cog)`, 'format');
  const area = req.area ? await resolveArea(platform, req.area) : undefined;
  const vectors = layers.map((l) => planLayer(platform, l, req, area, principal));

  const estimates: LayerEstimate[] = [];
  try {
    const counts = await withReadTransaction(platform.pool, platform.config.features.statementTimeoutMs, async (c) => {
      const out: number[] = [];
      for (const p of vectors) {
        const q = compileExtractCount(p, { crs: platform.crs, locator: 'filter' });
        out.push(Number((await c.query<{ n: string }>(q.text, q.values)).rows[0]!.n));
      }
      return out;
    });
    for (let i = 0; i < vectors.length; i++) {
      const l = vectors[i]!.layer;
      const features = counts[i]!;
      estimates.push({ layer: l.name, kind: 'vector', features, bytes: Math.round(features * (await avgRowBytes(platform, l)) * format.sizeFactor) });
    }
  } catch (e) {
    if (e instanceof DownloadError) throw e;
    const err = fromDatabaseError(e, 'filter');
    if (err instanceof OgcError && err.status < 500) throw new DownloadError(400, 'invalid-filter', err.message, 'filter');
    throw e;
  }
  for (const name of rasters) {
    const { estimateRasterLayer } = await import('./raster-hook.js');
    estimates.push(await estimateRasterLayer(platform, name, req, area, rasterTerritories.get(name)));
  }

  if (area && !req.filter && vectors.length && estimates.every((e) => e.kind !== 'vector' || e.features === 0) && !rasters.length) {
    throw new DownloadError(422, 'area-outside-data', `The area (${area.label}) holds no feature of ${vectors.map((v) => v.layer.name).join(', ')}`, area.spec.kind === 'admin' ? area.spec.unit : area.spec.kind);
  }

  const estimate = summarise(platform, estimates, format, req, area);
  return { req, format, area, vectors, rasters, ...(rasterTerritories.size ? { rasterTerritories } : {}), estimate };
}

/** Totals, hard limits (an error over them) and the direct/deferred decision with the limit that made it. */
export function summarise(platform: Platform, estimates: LayerEstimate[], format: OutputFormat, req: ExtractRequest, area: ResolvedArea | undefined): Estimate {
  const dl = platform.config.download;
  const features = estimates.reduce((s, e) => s + e.features, 0);
  const bytes = estimates.reduce((s, e) => s + e.bytes, 0);
  const limits = { directMaxFeatures: dl.directMaxFeatures, directMaxBytes: dl.directMaxBytes, maxFeatures: dl.maxFeatures, maxBytes: dl.maxBytes };
  if (features > dl.maxFeatures) throw new DownloadError(413, 'over-limit', `The extract holds ${features} features; the limit is ${dl.maxFeatures}. Narrow the area or add a filter.`, 'layer', { count: features, limit: dl.maxFeatures, limitName: 'maxFeatures' });
  if (bytes > dl.maxBytes) throw new DownloadError(413, 'over-limit', `The extract would be about ${bytes} bytes; the limit is ${dl.maxBytes}. Narrow the area or add a filter.`, 'layer', { count: bytes, limit: dl.maxBytes, limitName: 'maxBytes' });
  let mode: 'direct' | 'deferred' = 'direct';
  let limit: Limit = { name: 'directMaxFeatures', value: dl.directMaxFeatures };
  if (features > dl.directMaxFeatures) mode = 'deferred';
  else if (bytes > dl.directMaxBytes) {
    mode = 'deferred';
    limit = { name: 'directMaxBytes', value: dl.directMaxBytes };
  }
  const rasterPixels = estimates.filter((e) => e.kind === 'raster').reduce((s, e) => s + (e.pixels ?? (e.width ?? 0) * (e.height ?? 0)), 0);
  if (rasterPixels > dl.rasterDirectMaxPixels) {
    mode = 'deferred';
    limit = { name: 'rasterDirectMaxPixels', value: dl.rasterDirectMaxPixels };
  }
  return {
    layers: estimates,
    ...(rasterPixels ? { pixels: rasterPixels } : {}),
    features,
    bytes,
    mode,
    limit,
    limits,
    format: format.id,
    crs: `EPSG:${req.crs}`,
    ...(area ? { area: area.label } : {}),
  };
}


