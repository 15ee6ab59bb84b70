/**
 * Importing files as published layers: the one function behind `cli.js import` and POST /admin/imports.
 * Every layer of every dataset in the files is opened with what was detected or given (encoding, source CRS,
 * CSV geometry columns), loaded into a staging table, checked (geometry present, type normalised, extent
 * against the territory); only when all of them pass are they swapped into place, in one transaction
 * (src/import/versions.ts), and their catalogue records written. On any failure the staging tables are
 * dropped and the published layers, their tables and records are as they were.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type gdalTypes from 'gdal-async';
import type { Pool } from '../db/pool.js';
import type { Config, ImportSettings } from '../config/index.js';
import { safeName, NameError } from '../import/names.js';
import { EncodingError, encodingFromParameter, type DetectedEncoding } from '../import/encoding.js';
import { crsFromParameter, identifyEpsg, CrsError, type SourceCrs } from '../import/crs.js';
import { findDatasets, openSource, SourceError, type OpenedSource } from '../import/source.js';
import { quoteIdent } from '../db/identifiers.js';
import { STAGING_SCHEMA, checkStaging, checkTerritory, countInvalid, dropStaging, dropStaleStaging, finishStaging, loadIntoStaging, repairInvalid, sampledMultiType, stagingColumnIsFinal, stagingName, territoryBox, CheckError, type TerritoryCheck } from '../import/staging.js';
import { swapIntoPlace, rollbackLayer, ConflictError, NotFoundError } from '../import/versions.js';
import { syncLayerRecords } from './index.js';
import { queueAreaIndex } from './area-index-job.js';
import { LayerAdminError } from '../catalog/layer-checks.js';

export class ImportError extends Error {
  constructor(
    message: string,
    readonly kind: 'invalid' | 'conflict' | 'not-found',
    /** The parameter at fault, when one is. */
    readonly parameter?: string,
  ) {
    super(message);
  }
}

export interface ImportRequest {
  /** Files on disk: datasets, their sidecar files (.dbf, .prj, .cpg…), zips. */
  files: string[];
  /** Layer name as the user wrote it (made safe; kept as the title). Default: each source layer's name. */
  name?: string;
  title?: string;
  mode?: 'replace' | 'append';
  encoding?: string;
  sourceCrs?: string;
  /** Target CRS (EPSG code) of the published table; default 2154. */
  srid?: number;
  xColumn?: string;
  yColumn?: string;
  wktColumn?: string;
  /** Source layers to import (default: all). */
  layers?: string[];
  /** Temporal property (a date or timestamp column) and its interval end, for OGC API Features `datetime`. */
  temporalProperty?: string;
  temporalEndProperty?: string;
  /** The territory check: a warning (default), an error, or none. */
  extentCheck?: 'warn' | 'error' | 'off';
  onProgress?: (message: string) => void;
  /** Cancels the import between steps (a job's cancel): nothing is published then. */
  signal?: AbortSignal;
}

export interface ImportedLayer {
  layer: string;
  title: string;
  table: string;
  file: string;
  sourceLayer: string;
  format: string;
  count: number;
  geometryType: string;
  sourceCrs: SourceCrs;
  srid: number;
  encoding?: DetectedEncoding;
  extent: [number, number, number, number] | null;
  created: boolean;
  /** The version the superseded table was kept as (rollback). */
  keptVersion?: number;
  /**
   * A polygon layer's job building its GiST (geom, ST_Area(geom)) index for the vector tiles, after the
   * publication (src/publishing/area-index-job.ts); absent when none is needed.
   */
  areaIndexJob?: string;
  warnings: string[];
}

export interface ImportReport {
  mode: 'replace' | 'append';
  layers: ImportedLayer[];
}

interface Planned {
  opened: OpenedSource;
  file: string;
  layer: gdalTypes.Layer;
  target: string;
  title: string;
}

/** OGR geometry types (wkbPoint … wkbMultiPolygon) a format may be trusted to hold to. */
const TRUSTED_TYPES = new Set([1, 2, 3, 4, 5, 6]);

/** Coordinates that can only be longitude/latitude. */
const inLonLat = (e: gdalTypes.Envelope) => e.minX >= -180 && e.maxX <= 180 && e.minY >= -90 && e.maxY <= 90;

function asImportError(e: unknown): unknown {
  if (e instanceof ImportError) return e;
  if (e instanceof CrsError) return new ImportError(e.message, 'invalid', 'source_crs');
  if (e instanceof EncodingError) return new ImportError(e.message, 'invalid', 'encoding');
  if (e instanceof NameError) return new ImportError(e.message, 'invalid', 'name');
  if (e instanceof SourceError || e instanceof CheckError) return new ImportError(e.message, 'invalid');
  if (e instanceof ConflictError) return new ImportError(e.message, 'conflict');
  if (e instanceof NotFoundError) return new ImportError(e.message, 'not-found');
  if (e instanceof LayerAdminError) return new ImportError(e.message, e.status === 409 ? 'conflict' : e.status === 404 ? 'not-found' : 'invalid', e.field);
  return e;
}

/** The source CRS of a layer: the parameter, the file's, or WGS 84 for coordinates that can only be degrees. */
async function sourceCrsOf(layer: gdalTypes.Layer, file: string, given: string | undefined, warnings: string[], platformSrid?: number): Promise<SourceCrs> {
  if (given) return { epsg: crsFromParameter(given), source: 'parameter' };
  if (layer.srs) {
    const id = await identifyEpsg(layer.srs);
    if (!id.epsg) warnings.push(`The source CRS (${id.declared ?? 'unnamed'}) has no EPSG equivalent GDAL finds; it was used as the file describes it`);
    return { ...id, source: 'file' };
  }
  let extent: gdalTypes.Envelope | undefined;
  try {
    extent = layer.getExtent();
  } catch {
    /* no extent (no features): refused by the checks */
  }
  if (extent && inLonLat(extent)) {
    warnings.push('The file declares no CRS; its coordinates are longitudes and latitudes, read as WGS 84 (EPSG:4326)');
    return { epsg: 4326, source: 'assumed' };
  }
  if (/\.csv$/i.test(file) && platformSrid !== undefined) {
    // A CSV of projected x/y: the platform's own CRS is the usual one; the territory check tells when it is not.
    warnings.push(`The file declares no CRS; its coordinates were read in the platform's CRS (EPSG:${platformSrid}); give source_crs= if they are not`);
    return { epsg: platformSrid, source: 'assumed' };
  }
  const what = /\.shp$/i.test(file) ? 'no .prj file' : 'no declared CRS';
  throw new CrsError(`${basename(file)} (layer ${layer.name}) has ${what} and its coordinates are not longitudes/latitudes: give the source CRS (source_crs=EPSG:2154, IGNF:LAMB93…)`);
}

export async function importFiles(pool: Pool, config: Config, r: ImportRequest, settings: ImportSettings = config.import): Promise<ImportReport> {
  const gdal = (await import('gdal-async')).default;
  const mode = r.mode ?? 'replace';
  const srid = r.srid ?? 2154;
  const progress = r.onProgress ?? (() => undefined);
  const workDir = mkdtempSync(join(tmpdir(), 'sdi-import-'));
  const opened: OpenedSource[] = [];
  const staged: string[] = [];
  try {
    // Overrides checked before any work.
    if (r.encoding) encodingFromParameter(r.encoding);
    if (r.sourceCrs) crsFromParameter(r.sourceCrs);
    await dropStaleStaging(pool).catch(() => undefined);
    const datasets = await findDatasets(r.files.map((f) => resolve(f)), workDir, settings.maxBytes);
    const plans: Planned[] = [];
    for (const file of datasets) {
      const o = await openSource(file, { encoding: r.encoding, xColumn: r.xColumn, yColumn: r.yColumn, wktColumn: r.wktColumn }, workDir);
      opened.push(o);
      for (const layer of o.dataset.layers) {
        if (r.layers?.length && !r.layers.includes(layer.name)) continue;
        plans.push({ opened: o, file, layer, target: '', title: '' });
      }
    }
    if (plans.length === 0) throw new ImportError(r.layers?.length ? `None of the layers ${r.layers.join(', ')} is in the files` : 'The files hold no layer', 'invalid', r.layers?.length ? 'layers' : undefined);
    for (const p of plans) {
      const label = plans.length === 1 ? (r.name ?? p.layer.name) : r.name ? `${r.name}_${p.layer.name}` : p.layer.name;
      p.target = safeName(label);
      p.title = r.title ? (plans.length === 1 ? r.title : `${r.title} – ${p.layer.name}`) : label;
    }
    const dup = plans.find((p, i) => plans.findIndex((x) => x.target === p.target) !== i);
    if (dup) throw new ImportError(`Two layers of the files would both be named ${dup.target}`, 'invalid', 'name');

    const results: ImportedLayer[] = [];
    for (const p of plans) {
      const warnings: string[] = [];
      if (p.layer.geomType === gdal.wkbNone) {
        const columns = p.layer.fields.getNames().slice(0, 20).join(', ');
        const hint = p.opened.format === 'CSV' ? ': name its coordinate columns (x_column and y_column) or its WKT column (wkt_column)' : '';
        const others = plans.length > 1 ? `; import the other layers alone with layers=${plans.filter((x) => x !== p).map((x) => x.layer.name).join(',')}` : '';
        throw new ImportError(`The layer ${p.layer.name} of ${basename(p.file)} has no geometry (columns: ${columns || 'none'})${hint}; nothing was published${others}`, 'invalid', p.opened.format === 'CSV' ? 'x_column' : plans.length > 1 ? 'layers' : undefined);
      }
      if (r.signal?.aborted) throw new ImportError('The import was cancelled; nothing was published', 'invalid');
      const sourceCrs = await sourceCrsOf(p.layer, p.file, r.sourceCrs, warnings, srid);
      const staging = stagingName();
      staged.push(staging);
      progress(`loading ${basename(p.file)}:${p.layer.name} into ${staging}`);
      const load = (o: { declaredType?: boolean; forceType?: string }) => loadIntoStaging(config.databaseUrl, p.opened.dataset, { table: staging, layerName: p.layer.name, targetSrid: srid, sourceEpsg: sourceCrs.epsg, ...o });
      try {
        // The declared type first where formats keep to it, else the multi type the first features show (no
        // retyping rewrite afterwards); a row of another type (or a repair that made one) fails that load: then
        // again into a generic column.
        const declared = TRUSTED_TYPES.has(p.layer.geomType & ~gdal.wkb25DBit) && !['ESRI Shapefile', 'CSV'].includes(p.opened.format);
        const guessed = declared ? undefined : sampledMultiType(p.layer, gdal);
        if (declared || guessed) {
          try {
            await load(declared ? { declaredType: true } : { forceType: guessed });
          } catch {
            await dropStaging(pool, staging);
            await load({});
          }
        } else await load({});
      } catch (e) {
        const msg = (e as Error).message;
        const hint = /byte sequence|encoding|UTF-?8/i.test(msg) ? ' (the attribute encoding looks wrong: give encoding=)' : /transform|reproject|projection/i.test(msg) ? ' (check the source CRS: source_crs=)' : '';
        throw new ImportError(`GDAL could not load the layer ${p.layer.name} of ${basename(p.file)}: ${msg.split('\n')[0]!.slice(0, 300)}${hint}`, 'invalid');
      }
      // A column already as published (a typed load) is never rewritten by the check: its scan then runs beside
      // the index build and counts the invalid geometries too (one pass, where the check and the validity scan
      // were two in a row). Otherwise the check may retype the column (a rewrite) before the index is built.
      const finalColumn = await stagingColumnIsFinal(pool, staging);
      progress(finalColumn ? `checking ${staging}, indexing it and checking its geometries' validity` : `checking ${staging}`);
      let facts;
      let invalid: number | undefined;
      let terr: Awaited<ReturnType<typeof territoryBox>>;
      let territory: TerritoryCheck | undefined;
      try {
        if (finalColumn) {
          // The territory's box first, so that the one scan counts the features outside it too.
          terr = r.extentCheck !== 'off' ? await territoryBox(pool, srid, config.download.adminUnits.region.table) : undefined;
          const [checked, indexed] = await Promise.allSettled([
            checkStaging(pool, staging, srid, { countInvalid: true, outsideOf: terr?.wide, parts: 2 }),
            finishStaging(pool, staging),
          ]);
          if (checked.status === 'rejected') throw checked.reason;
          if (indexed.status === 'rejected') throw indexed.reason;
          facts = checked.value;
          invalid = checked.value.invalid ?? 0;
          if (terr) territory = { outside: checked.value.outside ?? 0, total: checked.value.count - checked.value.nullGeometries, territory: terr.territory };
        } else facts = await checkStaging(pool, staging, srid);
      } catch (e) {
        if (!(e instanceof CheckError)) throw e;
        throw new ImportError(`The layer ${p.layer.name} of ${basename(p.file)}: ${e.message} (a corrupt or truncated file?); nothing was published`, 'invalid');
      }
      warnings.push(...facts.warnings);
      progress(`territory check of ${staging}`);
      if (r.extentCheck !== 'off') {
        const t = finalColumn ? territory : await checkTerritory(pool, staging, srid, config.download.adminUnits.region.table, facts.extent);
        if (t && t.outside > 0) {
          const box = (b: number[]) => `[${b.map((x) => Math.round(x)).join(', ')}]`;
          const text = `${t.outside} of ${t.total} features lie outside the platform's territory: data extent ${box(facts.extent!)}, territory ${box(t.territory)} (EPSG:${srid}); check the source CRS (source_crs=)`;
          if (r.extentCheck === 'error') throw new ImportError(text, 'invalid', 'source_crs');
          warnings.push(text);
        }
      }
      if (invalid === undefined) {
        progress(`indexing ${staging} and checking its geometries' validity`);
        // Both only read the table: the index build and the GEOS validity scan run side by side.
        [invalid] = await Promise.all([countInvalid(pool, staging), finishStaging(pool, staging)]);
      }
      if (invalid > 0) {
        progress(`making ${invalid} geometries of ${staging} valid`);
        await repairInvalid(pool, staging, srid);
        facts = await checkStaging(pool, staging, srid);
        warnings.push(`${invalid} invalid geometries were made valid (ST_MakeValid)`, ...facts.warnings.filter((w) => !warnings.includes(w)));
        await pool.query(`ANALYZE ${quoteIdent(STAGING_SCHEMA)}.${quoteIdent(staging)}`);
      }
      results.push({
        layer: p.target, title: p.title, table: '', file: basename(p.file), sourceLayer: p.layer.name, format: p.opened.format,
        count: facts.count, geometryType: facts.geometryType, sourceCrs, srid, encoding: p.opened.encoding, extent: facts.extent,
        created: false, warnings,
      });
    }
    if (r.signal?.aborted) throw new ImportError('The import was cancelled; nothing was published', 'invalid');
    progress('swapping into place');
    const swapped = await swapIntoPlace(
      pool,
      plans.map((p, i) => ({ layerName: p.target, staging: staged[i]!, mode, title: r.title ? p.title : undefined, defaultTitle: p.title, targetSrid: srid, keepVersions: settings.keepVersions, temporalProperty: r.temporalProperty, temporalEndProperty: r.temporalEndProperty })),
      settings.lockTimeoutMs,
    );
    swapped.forEach((s, i) => {
      const res = results[i]!;
      res.table = `${s.schema}.${s.table}`;
      res.created = s.created;
      res.keptVersion = s.keptVersion;
      res.count = s.count;
    });
    progress('queueing the area indexes of polygon layers');
    for (const res of results) {
      try {
        res.areaIndexJob = await queueLayerAreaIndex(pool, res.layer);
      } catch (e) {
        // Published all the same: the tiles are right without the index, and the next start's sweep queues it.
        res.warnings.push(`The area index of the layer could not be queued (${(e as Error).message.slice(0, 200)}); job workers queue it at their next start`);
      }
    }
    progress('writing the catalogue records');
    try {
      await syncLayerRecords(pool, config);
    } catch (e) {
      // The layers are published (committed); only their records lag: said, not turned into a failed import.
      for (const res of results) res.warnings.push(`The catalogue records could not be refreshed (${(e as Error).message.slice(0, 200)}); run cli.js records`);
    }
    progress('done');
    return { mode, layers: results };
  } catch (e) {
    throw asImportError(e);
  } finally {
    for (const o of opened) o.dataset.close();
    // Staging tables swapped into place are no longer in sdi_import; the others (appended, or failed) go.
    for (const s of staged) await dropStaging(pool, s).catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** Queue the area index of a layer's table and geometry column as registered (an append keeps the layer's own column). */
async function queueLayerAreaIndex(pool: Pool, layer: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ s: string; t: string; g: string | null }>(`SELECT table_schema AS s, table_name AS t, geometry_column AS g FROM sdi.layers WHERE name = $1`, [layer]);
  const r = rows[0];
  if (!r?.g) return undefined;
  return (await queueAreaIndex(pool, r.s, r.t, r.g))?.id;
}

/** Put back a kept version of a layer (default: the latest) with its registration, and rewrite the records. */
export async function rollbackImport(pool: Pool, config: Config, layer: string, version?: number, settings: ImportSettings = config.import): Promise<{ restored: number; keptVersion: number }> {
  try {
    const r = await rollbackLayer(pool, layer, version, settings.keepVersions);
    // A version kept before its job ran has the plain index only; a failure is left to the start sweep.
    await queueLayerAreaIndex(pool, layer).catch(() => undefined);
    await syncLayerRecords(pool, config);
    return r;
  } catch (e) {
    throw asImportError(e);
  }
}

export { listVersions } from '../import/versions.js';
