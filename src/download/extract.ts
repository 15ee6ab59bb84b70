/**
 * Build an extract file for a download request: one file per layer, zipped with each layer's ISO 19139
 * record and a README (licence, request) when the request is a basket, when the format has several files
 * (Shapefile, MapInfo TAB) or when asked (zip=true). Used by the direct route (small extracts) and by the
 * job worker (big ones), so both deliver the same bytes.
 *
 * How a layer file is written:
 *  - GeoJSON and CSV: the feature encoders of the WFS (one text value per feature, built by PostGIS),
 *    streamed from a server-side cursor into the file;
 *  - every other format: GDAL's PostgreSQL driver runs the extraction statement (area, clip, filter,
 *    reprojection: all in SQL) and translates its rows, as ogr2ogr would; the statement's bound values sit in
 *    a download_work.params row that the SQL reads by typed scalar sub-selects (ParamsRowBinder), so no text
 *    from the request ever reaches GDAL's SQL.
 */
import { WORK_OWNER } from './work-owner.js';
import { createWriteStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type gdalTypes from 'gdal-async';
import type { Platform } from '../platform.js';
import type { ExtractRequest } from './request.js';
import type { PreparedExtract } from './estimate.js';
import type { OutputFormat } from './formats.js';
import { compileExtract, type LayerExtractPlan } from './sql.js';
import { encodeTarget, geometryExpression, type EncodeTarget } from '../formats/target.js';
import { columnRef, quoteIdent } from '../db/identifiers.js';
import type { CompiledSql } from '../db/sql.js';
import { ParamsRowBinder, type SqlBinder } from '../db/binder.js';
import { gdalPgConnection } from '../import/gdal-import.js';
import { FeatureSession } from '../query/cursor.js';
import { geojsonCollection, geojsonFeatureSql } from '../formats/geojson.js';
import { csvHeader, csvRowSql } from '../formats/csv.js';
import { rowsToBuffer } from '../formats/chunk.js';
import { DownloadError } from './errors.js';
import { LICENCE } from '../metadata/layer-records.js';
import { recordDocument } from '../records/repository.js';

export interface ExtractOptions {
  /** A directory of its own for this extract; the result is written in it. Removed by the caller. */
  workDir: string;
  /** Cancellation (job cancelled, client gone). Checked between layers and between batches. */
  signal?: AbortSignal;
  /** Called with a fraction in [0,1] as the work advances. */
  onProgress?: (fraction: number, message?: string) => void;
  /** Public URL of the request that produced the extract, written in the README. */
  requestUrl?: string;
}

export interface ExtractResult {
  /** Absolute path of the deliverable (the zip, or the single file). */
  path: string;
  /** File name offered to the client (Content-Disposition). */
  filename: string;
  mediaType: string;
  bytes: number;
  /** Features written per layer. */
  features: Record<string, number>;
}

/** Is the deliverable a zip (basket, multi-file format, or asked)? */
export function isZipped(p: PreparedExtract): boolean {
  return p.req.zip || p.format.multiFile || p.vectors.length + p.rasters.length > 1;
}

/** The pure streamed case: one layer, GeoJSON or CSV, no zip — the direct route streams it to the client. */
export function isStreamable(p: PreparedExtract): boolean {
  return !isZipped(p) && p.vectors.length === 1 && (p.format.id === 'geojson' || p.format.id === 'csv');
}

export async function buildPreparedExtract(platform: Platform, p: PreparedExtract, opts: ExtractOptions): Promise<ExtractResult> {
  const { format } = p;
  const layersDir = join(opts.workDir, 'layers');
  await mkdir(layersDir, { recursive: true });
  const features: Record<string, number> = {};
  const total = p.vectors.length + p.rasters.length;
  const files: Array<{ path: string; name: string }> = [];
  let done = 0;
  const progress = (fraction: number) => opts.onProgress?.(Math.min(0.99, (done + fraction) / total));
  // A GeoPackage basket is one GeoPackage with a table per layer (what GIS users expect of the format), unless
  // the request asks for one file per layer (split=true).
  const shared = format.id === 'gpkg' && p.vectors.length > 1 && !p.req.split ? `extraction.${format.extension}` : undefined;
  for (const plan of p.vectors) {
    checkAborted(opts.signal);
    const w = await writeVectorLayer(platform, plan, format, p.req, layersDir, opts.signal, progress, shared);
    features[plan.layer.name] = w.features;
    for (const f of w.files) if (!files.some((x) => x.path === f.path)) files.push(f);
    done++;
  }
  for (const name of p.rasters) {
    checkAborted(opts.signal);
    const out = join(layersDir, `${name}.${format.extension}`);
    const { buildRasterLayer } = await import('./raster-hook.js');
    await buildRasterLayer(platform, name, p.req, p.area, out, { signal: opts.signal, onProgress: progress, territory: p.rasterTerritories?.get(name) });
    features[name] = 0;
    files.push({ path: out, name: `${name}.${format.extension}` });
    done++;
  }
  checkAborted(opts.signal);
  if (!isZipped(p)) {
    const f = files[0]!;
    opts.onProgress?.(1);
    return { path: f.path, filename: f.name, mediaType: format.mediaType, bytes: (await stat(f.path)).size, features };
  }
  const extras = await metadataAndReadme(platform, p, features, opts.requestUrl, opts.workDir);
  const zipName = `${p.req.layers.length === 1 ? p.req.layers[0] : 'extraction'}-${format.id}-epsg${p.req.crs}.zip`;
  const zipPath = join(opts.workDir, zipName);
  await zipFiles(zipPath, [...files, ...extras]);
  opts.onProgress?.(1);
  return { path: zipPath, filename: zipName, mediaType: 'application/zip', bytes: (await stat(zipPath)).size, features };
}

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new DownloadError(499, 'cancelled', 'The extract was cancelled');
}

/** The encoder target of a layer plan: all attributes, the (clipped) geometry in the output CRS, x/y order. */
function extractTarget(platform: Platform, plan: LayerExtractPlan): EncodeTarget {
  return encodeTarget(plan.query, { prefix: platform.config.namespace.prefix, idPrefix: '', axisOrder: 'xy' });
}

/**
 * Open a cursor over the layer's features encoded as GeoJSON Features or CSV lines, and return the pieces
 * of the file in order (head, features, tail). The caller must close the session.
 */
export async function openEncodedLayer(platform: Platform, plan: LayerExtractPlan, req: ExtractRequest, format: 'geojson' | 'csv', statementTimeoutMs: number) {
  const t = extractTarget(platform, plan);
  const stmt = compileExtract(plan, { crs: platform.crs, locator: 'filter' }, (params) => (format === 'geojson' ? geojsonFeatureSql(t, params, plan.layer.idKind === 'integer' || plan.layer.idKind === 'bigint') : csvRowSql(t, params, req.csvGeometry)));
  const session = await FeatureSession.open(platform.pool, statementTimeoutMs);
  try {
    const { first, rest } = await session.rows(stmt);
    let count = 0;
    async function* pieces(): AsyncGenerator<Buffer | string> {
      if (format === 'geojson') {
        // The layer name and (GDAL's way, outside WGS 84) the CRS as the legacy crs member.
        const head: Record<string, unknown> = { name: plan.layer.name };
        if (req.crs !== 4326) head.crs = { type: 'name', properties: { name: `urn:ogc:def:crs:EPSG::${req.crs}` } };
        yield* geojsonCollection({ head, layout: 'lines', tail: (n) => ((count = n), {}) }, first, rest);
      } else {
        yield '\ufeff' + csvHeader(t, req.csvGeometry);
        if (first.length) yield rowsToBuffer(first, '');
        count = first.length;
        for await (const batch of rest) {
          if (batch.length) yield rowsToBuffer(batch, '');
          count += batch.length;
        }
      }
    }
    return { session, pieces: pieces(), count: () => count };
  } catch (e) {
    await session.close(false);
    throw e;
  }
}

async function writeVectorLayer(
  platform: Platform,
  plan: LayerExtractPlan,
  format: OutputFormat,
  req: ExtractRequest,
  dir: string,
  signal: AbortSignal | undefined,
  progress: (f: number) => void,
  sharedFile?: string,
): Promise<{ features: number; files: Array<{ path: string; name: string }> }> {
  const base = plan.layer.name;
  if (format.id === 'geojson' || format.id === 'csv') {
    const path = join(dir, `${base}.${format.extension}`);
    const { session, pieces, count } = await openEncodedLayer(platform, plan, req, format.id, 0);
    const out = createWriteStream(path);
    try {
      for await (const piece of pieces) {
        checkAborted(signal);
        if (!out.write(piece)) await once(out, 'drain');
      }
      out.end();
      await once(out, 'finish');
      await session.close(true);
    } catch (e) {
      out.destroy();
      await session.close(false);
      throw e;
    }
    progress(1);
    return { features: count(), files: [{ path, name: `${base}.${format.extension}` }] };
  }
  const id = randomUUID();
  // The statement's values go to a row of download_work.params (inserted with bound parameters); the SQL
  // GDAL runs reads each one by a typed scalar sub-select of that row (ParamsRowBinder), so no value from the
  // request is ever part of its text.
  const binder = new ParamsRowBinder(id);
  const sql = extractionStatement(platform, plan, req, binder).text;
  await platform.pool.query('INSERT INTO download_work.params (id, v, owner) VALUES ($1, $2::jsonb, $3)', [id, binder.json(), WORK_OWNER]);
  try {
    // A cancel must also stop a statement GDAL is waiting on: its session is found by application_name.
    const appName = `${platform.config.databaseApplicationName}-extract-${id}`;
    const onAbort = () => void platform.pool.query('SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [appName]).catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await gdalTranslate(platform, plan, format, req, sql, appName, dir, signal, progress, sharedFile);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  } finally {
    await dropParamsRow(platform, id);
  }
}

/**
 * The parameters row is deleted when its extract ends; when the database is what ended the extract (a
 * restart, a terminated session) the delete fails too, and is retried a few times in the background, so that
 * the row does not wait a day for the janitor (the next process's start removes it if this one dies first).
 */
async function dropParamsRow(platform: Platform, id: string, retriesMs: readonly number[] = [1_000, 5_000, 30_000]): Promise<void> {
  try {
    await platform.pool.query('DELETE FROM download_work.params WHERE id = $1', [id]);
  } catch {
    const [next, ...rest] = retriesMs;
    if (next !== undefined) setTimeout(() => void dropParamsRow(platform, id, rest), next).unref();
  }
}

/** The layer's extraction: id, attributes and the (clipped) geometry in the output CRS. */
function extractionStatement(platform: Platform, plan: LayerExtractPlan, req: ExtractRequest, binder: SqlBinder): CompiledSql {
  const t = extractTarget(platform, plan);
  const geomName = plan.layer.geometry?.column ?? 'geom';
  return compileExtract(plan, { crs: platform.crs, locator: 'filter' }, (params) => {
    const cols = [plan.layer.idColumn, ...plan.layer.columns.map((c) => c.name)].map((c) => `${columnRef(c)} AS ${quoteIdent(c)}`);
    if (plan.layer.geometry) cols.push(`${geometryExpression(t, params)} AS ${quoteIdent(geomName)}`);
    return cols.join(', ');
  }, binder);
}

const GDAL_GEOMETRY_TYPE: Record<string, string> = {
  POINT: 'POINT', MULTIPOINT: 'MULTIPOINT', LINESTRING: 'LINESTRING', MULTILINESTRING: 'MULTILINESTRING', POLYGON: 'POLYGON', MULTIPOLYGON: 'MULTIPOLYGON',
};

async function gdalTranslate(
  platform: Platform,
  plan: LayerExtractPlan,
  format: OutputFormat,
  req: ExtractRequest,
  sql: string,
  appName: string,
  dir: string,
  signal: AbortSignal | undefined,
  progress: (f: number) => void,
  sharedFile?: string,
): Promise<{ features: number; files: Array<{ path: string; name: string }> }> {
  const gdal = (await import('gdal-async')).default as typeof gdalTypes;
  const base = plan.layer.name;
  // Vector driver only: the PostGISRaster driver would claim the PG: name first. No table listing needed.
  // The one dataset GDAL opens here is our own database: failing to open it is an outage (503).
  const src = await gdal.openAsync(`${gdalPgConnection(platform.config.databaseUrl)} application_name='${appName}' tables='sdi.settings'`, 'r', ['PostgreSQL']).catch((e: unknown) => {
    throw new Error('Connection terminated: the extraction could not open its database session', { cause: e });
  });
  const out = join(dir, sharedFile ?? `${base}.${format.extension}`);
  const { existsSync } = await import('node:fs');
  const appending = sharedFile !== undefined && existsSync(out);
  let features = 0;
  try {
    // Appending a table to the basket's GeoPackage: -update opens it; the dataset options were given at creation.
    const args = [...(appending ? ['-update'] : ['-f', format.driver]), '-nln', base, '-sql', sql];
    if (plan.layer.geometry) {
      args.push('-a_srs', `EPSG:${req.crs}`);
      const gt = GDAL_GEOMETRY_TYPE[plan.layer.geometry.type.toUpperCase()];
      if (gt) args.push('-nlt', gt);
    }
    if (!appending) for (const o of format.datasetOptions) args.push('-dsco', o);
    for (const o of format.layerOptions) args.push('-lco', o);
    if (format.id === 'gpkg') args.push('-gt', '65536');
    // No progress callback: to report progress GDAL first counts the rows of the statement, i.e. runs the whole
    // extraction twice (measured: 13 s instead of 6 s for a département of parcels). Progress moves per layer; a
    // cancel reaches GDAL's session through pg_cancel_backend (see the caller).
    void progress;
    const ds = await gdal.vectorTranslateAsync(out, src, args);
    try {
      features = ds.layers.count() ? ds.layers.get(sharedFile ? base : 0).features.count() : 0;
    } finally {
      ds.close();
    }
  } catch (e) {
    if (signal?.aborted) throw new DownloadError(499, 'cancelled', 'The extract was cancelled');
    // A source that failed (its session terminated, the database restarted) shows in GDAL's last message
    // only by chance: "Terminating translation prematurely…", or an error of the output driver that came
    // after (GPKG: "no such table" when the layer was never created). So ask the session itself: if it no
    // longer answers, the failure is an outage (503, a job put back in the queue), not a bad request.
    if (await sessionLost(src)) throw new Error('Connection terminated: the extraction lost its database session', { cause: e });
    throw e;
  } finally {
    src.close();
  }
  checkAborted(signal);
  if (sharedFile) return { features, files: [{ path: out, name: sharedFile }] };
  const { readdir } = await import('node:fs/promises');
  const names = (await readdir(dir)).filter((f) => f === `${base}.${format.extension}` || f.startsWith(`${base}.`));
  return { features, files: names.map((name) => ({ path: join(dir, name), name })) };
}

/** Does GDAL's PostgreSQL session still answer? (libpq never reconnects on its own: a lost one stays lost.) */
async function sessionLost(src: gdalTypes.Dataset): Promise<boolean> {
  try {
    const r = await src.executeSQLAsync('SELECT 1 AS ok');
    return !r || r.features.count() !== 1;
  } catch {
    return true;
  }
}

/** Each layer's ISO 19139 record and a README with the licence, the request and what the files hold. */
async function metadataAndReadme(platform: Platform, p: PreparedExtract, features: Record<string, number>, requestUrl: string | undefined, workDir: string): Promise<Array<{ path: string; name: string }>> {
  const out: Array<{ path: string; name: string }> = [];
  const lines: string[] = [];
  for (const plan of p.vectors) {
    const l = plan.layer;
    if (l.metadataRecordId !== null) {
      const document = await recordDocument(platform.pool, { id: l.metadataRecordId });
      if (document !== undefined) {
        const path = join(workDir, `${l.name}.metadata.xml`);
        await writeFile(path, document);
        out.push({ path, name: `metadata/${l.name}.xml` });
      }
    }
    lines.push(`- ${l.name} : ${l.title} — ${features[l.name] ?? 0} objet(s)`);
  }
  for (const r of p.rasters) lines.push(`- ${r} : raster`);
  const readme = [
    `${platform.config.service.title}`,
    '',
    `Extraction produite le ${new Date().toISOString()}`,
    '',
    'Couches :',
    ...lines,
    '',
    `Format : ${p.format.title}`,
    `Système de coordonnées : EPSG:${p.req.crs} (${platform.crs.name(p.req.crs)})`,
    `Zone d'extraction : ${p.area ? p.area.label : 'couche entière'}${p.area ? (p.req.clip ? ' — géométries découpées à la zone' : ' — objets entiers intersectant la zone') : ''}`,
    ...(p.req.filter ? [`Filtre attributaire (CQL2) : ${p.req.filter}`] : []),
    '',
    `Licence : ${LICENCE.text} — ${LICENCE.href}`,
    `Producteur : ${platform.config.service.providerName}${platform.config.service.contactEmail ? ` (${platform.config.service.contactEmail})` : ''}`,
    '',
    'Requête :',
    requestUrl ?? '(non connue)',
    JSON.stringify(p.req, null, 2),
    '',
    'Les fiches de métadonnées ISO 19139 des couches sont dans le dossier metadata/.',
    '',
  ].join('\n');
  const path = join(workDir, 'README.txt');
  await writeFile(path, readme);
  out.push({ path, name: 'README.txt' });
  return out;
}

async function zipFiles(zipPath: string, files: Array<{ path: string; name: string }>): Promise<void> {
  const archiver = (await import('archiver')).default;
  const zip = archiver('zip', { zlib: { level: 6 } });
  const out = createWriteStream(zipPath);
  const done = once(out, 'close');
  zip.on('warning', (e) => {
    throw e;
  });
  zip.pipe(out);
  for (const f of files) zip.file(f.path, { name: f.name });
  await zip.finalize();
  await done;
}
