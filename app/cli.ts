/**
 * Command line: `node dist/app/cli.js <command>`.
 *   migrate                     apply pending SQL migrations
 *   demo                        load the demo layers (idempotent)
 *   publish --table schema.table --name NAME [--id COLUMN] [--geom COLUMN] [--title T] [--temporal COLUMN [--temporal-end COLUMN]]
 *                               publish an existing PostGIS table or view as a feature layer; --temporal names
 *                               the date / timestamp column that OGC API Features `datetime` filters on
 *                               (--temporal-end: the column ending each feature's interval, NULL = still open);
 *                               checked as the admin API does: geometry present, id column unique and not NULL
 *                               (without --id: the table's single-column primary key)
 *   unpublish --name NAME [--record keep-withdrawn]   withdraw a layer from every service (its record is withdrawn,
 *                               or kept in the catalogue marked obsolete without links)
 *   delete --name NAME [--drop-table] [--record keep-withdrawn]
 *                               delete a layer (its record withdrawn), dropping its table on request
 *   import FILE… [--name NAME] [--title T] [--mode replace|append] [--srid 2154] [--source-crs EPSG:2154|IGNF:LAMB93]
 *          [--encoding latin1] [--x COL --y COL | --wkt COL] [--layer L]… [--extent-check warn|error|off]
 *          [--temporal COLUMN [--temporal-end COLUMN]]
 *                               import files GDAL reads (GeoPackage, Shapefile or its zip, GeoJSON, CSV, GML, KML,
 *                               MapInfo, FlatGeobuf, DXF…) and publish their layers: the function behind
 *                               POST /admin/imports (src/publishing/import.ts); prints the report as JSON
 *   rollback --name NAME [--version N]
 *                               put back a kept version of an imported layer (default: the latest)
 *   layers                      list published layers
 *   build-overviews --layer NAME… [--force]
 *                               build the overview levels of layers now, as the 'layer-overview' job does
 *                               (src/publishing/overview-job.ts), unless they are fresh (--force: rebuild anyway);
 *                               prints each outcome as JSON
 *   records                     write the catalogue records of the published layers and the WFS
 *   records-load PATH… [--force] [--batch N] [--workers N] [--connections N]
 *                               bulk-load ISO 19139 / Dublin Core files (directories are walked) into the catalogue:
 *                               same extraction and upsert as one by one, parsed in threads, multi-row INSERTs
 *   download-worker [--concurrency N] [--poll-ms MS] [--kinds download,import,layer-index]
 *                               run deferred download jobs and import jobs until SIGTERM/SIGINT (any number of these
 *                               processes, on any machine sharing the database and the download directory)
 *   download-janitor            expire deferred results and remove leftovers once (the server does it every 10 min)
 *   seed-tiles --layer NAME --matrix-set WebMercatorQuad|LAMB93_10cm --zoom 0-12 [--bbox minLon,minLat,maxLon,maxLat]
 *              [--style S] [--format png|jpeg|mvt] [--concurrency N]
 *                               draw a layer's tiles into the tile cache (SDI_TILE_CACHE_DIR), as anyone sees them:
 *                               WMTS images of a vector or raster layer, or (--format mvt, WebMercatorQuad, the
 *                               default then) the vector tiles of OGC API – Tiles and /tiles/{layer}/{z}/{x}/{y}.pbf
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.js';
import { createPool } from '../src/db/pool.js';
import { migrate } from '../src/db/migrate.js';
import { loadDemo } from '../src/demo/load-demo.js';
import { loadCatalogueDemo } from '../src/metadata/demo.js';
import { syncLayerRecords } from '../src/publishing/index.js';
import { deleteLayer, publishTable, setLayerPublished, RECORD_FATES, type RecordFate } from '../src/publishing/layer-admin.js';

/** --record withdraw|keep-withdrawn (unpublish, delete). */
function recordFate(v: string | undefined): RecordFate | undefined {
  if (v !== undefined && !(RECORD_FATES as readonly string[]).includes(v)) throw new Error(`--record is ${RECORD_FATES.join(' or ')}`);
  return v as RecordFate | undefined;
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { force: { type: 'boolean' }, batch: { type: 'string' }, workers: { type: 'string' }, connections: { type: 'string' }, concurrency: { type: 'string' }, 'poll-ms': { type: 'string' }, table: { type: 'string' }, name: { type: 'string' }, id: { type: 'string' }, geom: { type: 'string' }, title: { type: 'string' }, srid: { type: 'string' }, temporal: { type: 'string' }, 'temporal-end': { type: 'string' }, layer: { type: 'string', multiple: true }, 'matrix-set': { type: 'string' }, zoom: { type: 'string' }, bbox: { type: 'string' }, style: { type: 'string' }, format: { type: 'string' }, 'drop-table': { type: 'boolean' }, record: { type: 'string' }, mode: { type: 'string' }, 'source-crs': { type: 'string' }, encoding: { type: 'string' }, x: { type: 'string' }, y: { type: 'string' }, wkt: { type: 'string' }, kinds: { type: 'string' }, 'extent-check': { type: 'string' }, version: { type: 'string' } },
  });
  const config = loadConfig();
  const pool = createPool(config.databaseUrl, command === 'records-load' ? 4 : 2);
  try {
    await migrate(pool, (m) => console.log(m));
    switch (command) {
      case 'migrate':
        return 0;
      case 'demo':
        await loadDemo(pool, config.databaseUrl, (m) => console.log(m));
        await loadCatalogueDemo(pool, (m) => console.log(m));
        await syncLayerRecords(pool, config);
        return 0;
      case 'records':
        console.log(JSON.stringify(await syncLayerRecords(pool, config)));
        return 0;
      case 'records-load': {
        if (positionals.length === 0) throw new Error('records-load needs files or directories');
        const { bulkLoadRecords } = await import('../src/metadata/bulk-load.js');
        const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
        let last = 0;
        const report = await bulkLoadRecords(pool, positionals, {
          force: values.force, batchSize: num(values.batch), workers: num(values.workers), connections: num(values.connections),
          onProgress: (done, total) => {
            if (done - last >= 10_000 || done === total) {
              last = done;
              console.error(`records-load: ${done}/${total}`);
            }
          },
        });
        console.log(JSON.stringify({ ...report, failed: report.failed.length, failures: report.failed.slice(0, 20) }));
        return report.failed.length > 0 ? 1 : 0;
      }
      case 'publish': {
        if (!values.table || !values.name) throw new Error('publish needs --table schema.table and --name');
        const [schema, table] = values.table.includes('.') ? values.table.split('.', 2) : ['public', values.table];
        const l = await publishTable(pool, config, { name: values.name, schema: schema!, table: table!, idColumn: values.id, geometryColumn: values.geom, title: values.title, temporalProperty: values.temporal, temporalEndProperty: values['temporal-end'] });
        console.log(`published ${l.table} as ${l.name} (id column ${l.idColumn}, geometry ${l.geometryColumn})`);
        return 0;
      }
      case 'unpublish': {
        if (!values.name) throw new Error('unpublish needs --name');
        await setLayerPublished(pool, config, values.name, false, { record: recordFate(values.record) });
        console.log(`unpublished ${values.name}`);
        return 0;
      }
      case 'delete': {
        if (!values.name) throw new Error('delete needs --name');
        const r = await deleteLayer(pool, config, values.name, { dropTable: values['drop-table'], record: recordFate(values.record) });
        console.log(`deleted layer ${r.name}${r.tableDropped ? ` and table ${r.table}` : ` (table ${r.table} kept)`}`);
        return 0;
      }
      case 'import': {
        if (positionals.length === 0) throw new Error('import needs files');
        const { importFiles } = await import('../src/publishing/import.js');
        const started = performance.now();
        const mode = values.mode ?? 'replace';
        if (mode !== 'replace' && mode !== 'append') throw new Error('--mode is replace or append');
        const check = values['extent-check'] ?? 'warn';
        if (check !== 'warn' && check !== 'error' && check !== 'off') throw new Error('--extent-check is warn, error or off');
        const report = await importFiles(pool, config, {
          files: positionals, name: values.name, title: values.title, mode, srid: values.srid ? Number(values.srid) : undefined,
          sourceCrs: values['source-crs'], encoding: values.encoding, xColumn: values.x, yColumn: values.y, wktColumn: values.wkt,
          layers: values.layer, extentCheck: check, temporalProperty: values.temporal, temporalEndProperty: values['temporal-end'],
          onProgress: (m) => console.error(`import ${((performance.now() - started) / 1000).toFixed(1)} s: ${m}`),
        });
        console.log(JSON.stringify(report, null, 2));
        return 0;
      }
      case 'rollback': {
        if (!values.name) throw new Error('rollback needs --name');
        const { rollbackImport } = await import('../src/publishing/import.js');
        console.log(JSON.stringify(await rollbackImport(pool, config, values.name, values.version ? Number(values.version) : undefined)));
        return 0;
      }
      case 'download-worker':
        return await downloadWorker(config, Number(values.concurrency ?? 1), values['poll-ms'] ? Number(values['poll-ms']) : undefined, values.kinds?.split(',').map((k) => k.trim()).filter(Boolean));
      case 'download-janitor': {
        const { createPlatform, closePlatform } = await import('../src/platform.js');
        const { runJanitor } = await import('../src/download/jobs/janitor.js');
        const platform = await createPlatform(config);
        try {
          console.log(JSON.stringify(await runJanitor(platform, console)));
        } finally {
          await closePlatform(platform);
        }
        return 0;
      }
      case 'seed-tiles': {
        // --matrix-set may be left out for vector tiles only (WebMercatorQuad); seedTiles says so otherwise.
        if (!values.layer || !values.zoom) throw new Error('seed-tiles needs --layer, --matrix-set and --zoom');
        const { createPlatform, closePlatform } = await import('../src/platform.js');
        const { seedTiles } = await import('../services/maps/wmts/seed.js');
        const platform = await createPlatform(config);
        try {
          let last = 0;
          const report = await seedTiles(
            platform,
            { layer: values.layer?.[0], matrixSet: values['matrix-set'], zoom: values.zoom, bbox: values.bbox, style: values.style, format: values.format, concurrency: values.concurrency ? Number(values.concurrency) : undefined },
            (done, total) => {
              if (done - last >= 500 || done === total) {
                last = done;
                console.error(`seed-tiles: ${done}/${total}`);
              }
            },
          );
          console.log(JSON.stringify(report));
        } finally {
          await closePlatform(platform);
        }
        return 0;
      }
      case 'build-overviews': {
        if (!values.layer?.length) throw new Error('build-overviews needs --layer');
        const { buildOverviews, overviewsFresh } = await import('../src/publishing/overview-job.js');
        for (const layer of values.layer) {
          if (!values.force && (await overviewsFresh(pool, layer))) console.log(JSON.stringify({ layer, outcome: 'fresh' }));
          else console.log(JSON.stringify({ layer, ...(await buildOverviews(pool, layer)) }));
        }
        return 0;
      }
      case 'layers': {
        const { rows } = await pool.query('SELECT name, table_schema, table_name, title FROM sdi.layers ORDER BY name');
        for (const r of rows) console.log(`${r.name}\t${r.table_schema}.${r.table_name}\t${r.title}`);
        return 0;
      }
      default:
        console.error('usage: cli.js migrate | demo | publish --table s.t --name N [--id C] [--geom C] [--temporal C [--temporal-end C]] | unpublish --name N | delete --name N [--drop-table] | import FILE… [--name N] [--mode replace|append] [--source-crs C] [--encoding E] [--x C --y C | --wkt C] | rollback --name N [--version V] | layers | build-overviews --layer N [--force] | download-worker [--concurrency N] | download-janitor | seed-tiles --layer N --matrix-set S --zoom A-B [--bbox W,S,E,N] [--style S] [--format png|jpeg|mvt] [--concurrency N]');
        return 2;
    }
  } finally {
    await pool.end();
  }
}

/** Run job workers until a signal; running jobs are then put back in the queue for another worker. */
async function downloadWorker(config: ReturnType<typeof loadConfig>, concurrency: number, pollMs?: number, kinds?: string[]): Promise<number> {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('--concurrency must be a positive integer');
  const { default: pino } = await import('pino');
  const { createPlatform, closePlatform } = await import('../src/platform.js');
  const { startJobWorkers } = await import('../src/publishing/job-workers.js');
  const log = pino({ level: config.logLevel });
  const platform = await createPlatform(config, log);
  // With layer-index among its kinds, it also queues the polygon layers still lacking their area index.
  const workers = startJobWorkers(platform, concurrency, log, { pollMs, kinds });
  log.info({ concurrency, pid: process.pid }, 'download worker started');
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  const force = setTimeout(() => process.exit(1), 15_000);
  force.unref();
  await workers.stop();
  await closePlatform(platform);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
