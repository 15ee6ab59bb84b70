/**
 * Demo data: the Centre-Val de Loire reference layers (fixtures/data, WGS 84 GeoJSON) imported into PostGIS
 * in Lambert-93 through the GDAL import path, and published as layers. Idempotent: a layer whose table
 * is already populated is left alone, so a second start is quick and loses nothing.
 */
import { projectPath } from '../paths.js';
import type { Pool } from '../db/pool.js';
import { quoteIdent } from '../db/identifiers.js';
import { importVectorFile } from '../import/gdal-import.js';
import { publishLayer } from '../publishing/index.js';
import { setLayerTemporal } from '../catalog/layers.js';
import { loadDemoRaster } from './raster-demo.js';

interface DemoLayer {
  name: string;
  file: string;
  title: string;
  abstract: string;
  keywords: string[];
  multi?: boolean;
  /** A date column added after the import (see addDemoDates) and declared as the layer's temporal property. */
  temporal?: string;
}

const LICENCE = 'Licence Ouverte / Etalab. Source : IGN Admin Express COG 2018 (simplifié), INSEE, DGCL.';

export const DEMO_LAYERS: DemoLayer[] = [
  { name: 'region', file: 'cvl-region.geojson', title: 'Région Centre-Val de Loire', abstract: `Limite de la région (code INSEE 24). ${LICENCE}`, keywords: ['région', 'limites administratives'] },
  { name: 'departements', file: 'cvl-departements.geojson', title: 'Départements de la région Centre-Val de Loire', abstract: `Les six départements (18, 28, 36, 37, 41, 45). ${LICENCE}`, keywords: ['département', 'limites administratives'] },
  { name: 'arrondissements', file: 'cvl-arrondissements.geojson', title: 'Arrondissements', abstract: `Arrondissements départementaux. ${LICENCE}`, keywords: ['arrondissement', 'limites administratives'] },
  { name: 'cantons', file: 'cvl-cantons.geojson', title: 'Cantons', abstract: `Cantons (géométries grossières). ${LICENCE}`, keywords: ['canton', 'limites administratives'] },
  { name: 'epci', file: 'cvl-epci.geojson', title: 'EPCI à fiscalité propre', abstract: `Établissements publics de coopération intercommunale au 1er janvier 2025, limités à la région. ${LICENCE}`, keywords: ['EPCI', 'intercommunalité'] },
  { name: 'communes', file: 'cvl-communes.geojson', title: 'Communes', abstract: `Communes (COG 2018) avec leur code INSEE. ${LICENCE}`, keywords: ['commune', 'limites administratives'], multi: true },
  { name: 'communes_points', file: 'cvl-communes-points.geojson', title: 'Communes (points)', abstract: `Un point par commune, avec EPCI, département et populations légales 2023, et date_maj, date de dernière mise à jour de la fiche (valeurs de démonstration). ${LICENCE}`, keywords: ['commune', 'population'], temporal: 'date_maj' },
];

export async function loadDemo(pool: Pool, databaseUrl: string, log: (msg: string) => void = () => undefined): Promise<void> {
  for (const d of DEMO_LAYERS) {
    const exists = await pool.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM sdi.layers WHERE name = $1)::int
            + (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'data' AND c.relname = $1)::int AS n`,
      [d.name],
    );
    if (exists.rows[0]!.n === 2) {
      // A store loaded before the layer had its date column gets it now, once.
      if (d.temporal && (await addDemoDates(pool, d.name, d.temporal))) {
        await setLayerTemporal(pool, d.name, d.temporal);
        log(`demo layer ${d.name}: ${d.temporal} added`);
      }
      continue;
    }
    const n = await importVectorFile(pool, databaseUrl, projectPath('fixtures', 'data', d.file), { schema: 'data', table: d.name, srid: 2154, overwrite: true, promoteToMulti: d.multi });
    if (d.temporal) await addDemoDates(pool, d.name, d.temporal);
    await publishLayer(pool, { name: d.name, schema: 'data', table: d.name, idColumn: 'fid', geometryColumn: 'geom', title: d.title, abstract: d.abstract, keywords: d.keywords, defaultCrs: 2154, temporalProperty: d.temporal });
    log(`demo layer ${d.name}: ${n} features`);
  }
  // Commune → EPCI reference table (not a layer): used by territorial extracts and rights.
  const ref = await pool.query(`SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'data' AND c.relname = 'communes_epci'`);
  if (ref.rowCount === 0) {
    await importVectorFile(pool, databaseUrl, projectPath('fixtures', 'data', 'cvl-communes-epci.csv'), { schema: 'data', table: 'communes_epci', srid: 2154, overwrite: true });
    log('reference table communes_epci loaded');
  }
  // The raster layer of the download service: commune population density rasterised at 25 m (GDAL).
  await loadDemoRaster(pool, databaseUrl, log);
}

/**
 * The demo's dated layer: a `date` column of last update, 2019-01-01 … 2024-12-31, a pure function of the
 * commune code (md5, so every load gives the same values), about 2 % left NULL (never updated), with an index.
 * Demonstration values, not an official date. Returns false if the column was already there (nothing done).
 */
async function addDemoDates(pool: Pool, table: string, column: string): Promise<boolean> {
  const has = await pool.query(`SELECT 1 FROM information_schema.columns WHERE table_schema = 'data' AND table_name = $1 AND column_name = $2`, [table, column]);
  if (has.rowCount) return false;
  const t = `data.${quoteIdent(table)}`;
  const c = quoteIdent(column);
  await pool.query(`ALTER TABLE ${t} ADD COLUMN ${c} date`);
  await pool.query(
    `UPDATE ${t} SET ${c} = CASE WHEN ('x' || substr(md5(code), 9, 2))::bit(8)::int < 5 THEN NULL
                                 ELSE date '2019-01-01' + (('x' || substr(md5(code), 1, 7))::bit(28)::int % 2192) END`,
  );
  await pool.query(`CREATE INDEX ON ${t} (${c})`);
  await pool.query(`ANALYZE ${t}`);
  return true;
}
