/**
 * The demo raster layer: the population density of the Centre-Val de Loire communes (inhabitants per km²,
 * 2023 legal population / commune area) rasterised at 25 m in Lambert-93 by GDAL from the demo tables,
 * into a tiled, DEFLATE-compressed Int16 GeoTIFF (nodata -1 outside the region), registered as raster layer
 * `communes_densite`. About 9,300 × 11,500 pixels, 2 MB, a few seconds.
 *
 * The file is generated, never committed: under .sdi/rasters/ (git-ignored), shared by every database of
 * the checkout (written under a temporary name and renamed, so concurrent loaders never see half a file).
 * Idempotent: an existing file is registered as it is; an existing file and row are left alone.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type gdalTypes from 'gdal-async';
import type { Pool } from '../db/pool.js';
import { projectPath } from '../paths.js';
import { gdalPgConnection } from '../import/gdal-import.js';
import { getRasterLayer, registerRasterLayer } from '../catalog/rasters.js';
import { rasterStyleToJson, type RasterStyle } from '../render/raster-style.js';

export const DEMO_RASTER = {
  name: 'communes_densite',
  title: 'Densité de population des communes (raster 25 m)',
  abstract:
    "Densité de population des communes de la région Centre-Val de Loire (habitants par km², population municipale 2023 de l'INSEE " +
    'rapportée à la surface de la commune), rastérisée à 25 m en Lambert-93 (Int16, -1 hors région). ' +
    'Licence Ouverte / Etalab. Source : IGN Admin Express COG 2018 (simplifié), INSEE.',
  keywords: ['population', 'densité', 'commune', 'raster'],
  resolution: 25,
  file: projectPath('.sdi', 'rasters', 'communes-densite-25m.tif'),
};

/** The rasterised attribute: commune density, one value per commune polygon (no user input in this SQL). */
const DENSITY_SQL = `SELECT c.geom, round(p.pmun_2023 / (ST_Area(c.geom) / 1e6))::int AS densite
  FROM data.communes c JOIN data.communes_points p ON p.code = c.code`;

/**
 * A named style of the demo raster (issue 9): the density in five classes (SLD ColorMap type="intervals", as
 * QGIS's discrete pseudocolour exports it, the last class open: `inf`), greens from light to dark. Not the
 * layer's default (the log ramp stays it).
 */
export const DEMO_RASTER_STYLE: RasterStyle = {
  name: 'densite_classes',
  title: 'Densité par classes (hab./km²)',
  opacity: 0.9,
  colorMap: {
    type: 'intervals',
    entries: [
      { quantity: 20, color: '#ffffcc', opacity: 1, label: '≤ 20' },
      { quantity: 50, color: '#c2e699', opacity: 1, label: '20 – 50' },
      { quantity: 100, color: '#78c679', opacity: 1, label: '50 – 100' },
      { quantity: 500, color: '#31a354', opacity: 1, label: '100 – 500' },
      { quantity: Infinity, color: '#006837', opacity: 1, label: '> 500' },
    ],
  },
};

async function seedDemoRasterStyle(pool: Pool): Promise<void> {
  const s = DEMO_RASTER_STYLE;
  await pool.query(
    `INSERT INTO sdi.raster_styles (raster_name, name, title, document) SELECT $1, $2, $3, $4::jsonb
      WHERE EXISTS (SELECT 1 FROM sdi.raster_layers WHERE name = $1) ON CONFLICT (raster_name, name) DO NOTHING`,
    [DEMO_RASTER.name, s.name, s.title, JSON.stringify(rasterStyleToJson(s))],
  );
}

export async function loadDemoRaster(pool: Pool, databaseUrl: string, log: (msg: string) => void = () => undefined): Promise<void> {
  const d = DEMO_RASTER;
  const row = await getRasterLayer(pool, d.name);
  if (row && existsSync(d.file) && row.filePath === d.file) return seedDemoRasterStyle(pool);
  const ready = await pool.query(`SELECT to_regclass('data.communes') IS NOT NULL AND to_regclass('data.communes_points') IS NOT NULL AS ok`);
  if (!ready.rows[0].ok) return;
  if (!existsSync(d.file)) {
    const t0 = Date.now();
    await rasterise(pool, databaseUrl, d.file, d.resolution);
    log(`demo raster ${d.name}: ${d.file} written in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  await registerRasterLayer(pool, { name: d.name, title: d.title, abstract: d.abstract, keywords: d.keywords, file: d.file, srid: 2154 });
  log(`demo raster layer ${d.name} registered`);
  await seedDemoRasterStyle(pool);
}

async function rasterise(pool: Pool, databaseUrl: string, file: string, res: number): Promise<void> {
  const { rows } = await pool.query<{ minx: number; miny: number; maxx: number; maxy: number }>(
    `SELECT floor(ST_XMin(e) / $1) * $1 AS minx, floor(ST_YMin(e) / $1) * $1 AS miny, ceil(ST_XMax(e) / $1) * $1 AS maxx, ceil(ST_YMax(e) / $1) * $1 AS maxy
       FROM (SELECT ST_Extent(geom) AS e FROM data.communes) s`,
    [res],
  );
  const b = rows[0]!;
  const gdal = (await import('gdal-async')).default as typeof gdalTypes;
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp.tif`;
  const src = await gdal.openAsync(gdalPgConnection(databaseUrl), 'r', ['PostgreSQL']);
  try {
    const out = await gdal.rasterizeAsync(tmp, src, [
      '-of', 'GTiff',
      '-sql', DENSITY_SQL,
      '-a', 'densite',
      '-a_srs', 'EPSG:2154',
      '-ot', 'Int16',
      '-a_nodata', '-1',
      '-init', '-1',
      '-tr', String(res), String(res),
      '-te', String(b.minx), String(b.miny), String(b.maxx), String(b.maxy),
      '-co', 'TILED=YES',
      '-co', 'COMPRESS=DEFLATE',
      '-co', 'PREDICTOR=2',
    ]);
    out.close();
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  } finally {
    src.close();
  }
}
