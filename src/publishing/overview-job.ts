/**
 * Overviews: generalised copies of a layer for small scales (issue 9, W5: GetMap 1024² of the million parcels at
 * 50 km). At 48.8 m a pixel the map reads 149,000 parcels, 105,000 addresses and 23,000 roads, and every row costs
 * PostgreSQL a heap fetch and four geometry functions (simplify, clip, affine, TWKB), and Node a row to parse and
 * a Buffer: ~1.4 s of CPU a map, where 3× MapServer's throughput allows ~0.35 (services/maps/README.md).
 *
 * A level of a layer is a table sdi_overviews.<name> of rows (box, parts, twkb): the layer's features (parts of
 * multi-geometries) simplified at half a pixel of the level's finest resolution, in integer cell
 * coordinates (x / cell: Node maps cells to pixels), collected per block of BLOCK_CELLS × BLOCK_CELLS cells (the
 * block of each part's box centre), rows in block order (a map reads few pages). Lines and polygons are stored as
 * SVG path data (ST_AsSVG, relative): Skia parses it as it is, Node neither decodes nor rewrites a vertex (first
 * stored as TWKB: 148 ms of a W5 map's 290 went to decoding it and writing the path data). Points as TWKB (the dot
 * stamper needs their coordinates), deduplicated per cell (two addresses an eighth of a pixel apart make the same
 * dot). Rings are oriented clockwise (the nonzero fill of the canvas). A part collapsing on the cell grid (under an
 * eighth of a pixel) is left out.
 *
 * Levels: read from resolutions of 8, 32 and 128 layer units a pixel and coarser, with a cell of an eighth of a
 * pixel at that resolution (1, 4 and 16 m in Lambert-93; projected
 * CRSs only: in degrees a cell has no fixed size). The map planner (src/query/planner.ts) reads the coarsest level
 * the map's resolution allows, only when the style draws every row alike (no rule filter, no label) and the
 * caller may view the whole layer.
 *
 * Freshness: the build records the layer's data revision (sdi.layer_data_revision, migration 0038: table OID, geometry column and its type,
 * the data trigger's last change, the trigger present) read BEFORE the rows, in READ COMMITTED: a change
 * committed during the build moves the revision, so the level is stale at once, never fresh with missing data.
 * A map statement reads a level only when its revision is the layer's in the map's own snapshot
 * (sdi.overview_fresh, a one-time filter); otherwise the layer's table (src/query/compile.ts), and the map
 * queues a rebuild (services/maps/wms/get-map.ts). Swaps of the table cancel a running build as they cancel an
 * area-index build (the build holds the same mark on the table's OID: src/import/index-builds.ts).
 *
 * A rebuild writes new tables under new names; the replaced ones are listed in sdi.layer_overviews_retired and
 * dropped by a later build after RETIRED_DROP_AFTER_MS (a map planned with the old name meanwhile finds it
 * unregistered, not fresh, and reads the base table).
 *
 * Jobs: kind 'layer-overview' on the download queue (the area index's workers, src/publishing/job-workers.ts),
 * one queued per layer; queued by the workers' start sweep for layers of at least SDI_OVERVIEW_MIN_FEATURES
 * features (estimated) whose levels are missing or stale, and by a map that found a level stale.
 */
import type pg from 'pg';
import { randomUUID } from 'node:crypto';
import type { Pool } from '../db/pool.js';
import type { Platform } from '../platform.js';
import { withTransaction } from '../db/pool.js';
import { quoteIdent } from '../db/identifiers.js';
import { enqueue, type JobRow } from '../download/jobs/queue.js';
import { JobFailure, type JobContext, type JobHandler } from '../download/jobs/worker.js';
import { supersedeHeld, takeBuildMark } from '../import/index-builds.js';
import { installTrigger } from '../tiles/revision.js';

export const OVERVIEW_JOB_KIND = 'layer-overview';
/** First key of the advisory lock serialising the queueing of one layer's job (727156–727160 are taken). */
export const OVERVIEW_LOCK_CLASS = 727_161;
/** Resolutions (layer units a pixel) from which each level is read. */
export const OVERVIEW_RESOLUTIONS = [8, 32, 128] as const;
/**
 * Cells a pixel at the level's finest resolution: an eighth of a pixel, finer than the table's pipeline (TWKB at a
 * tenth of a pixel, but at the map's own resolution, coarser). W5's parcels alone, against the map from the table,
 * pixels differing by more than 16/255: a quarter-pixel cell (8 m) 0.57 %, an eighth (4 m) 0.26 %.
 */
export const CELLS_PER_PIXEL = 8;
/** Simplification tolerance, in pixels at the level's finest resolution (the table's pipeline: half a pixel). */
export const SIMPLIFY_PIXELS = 0.5;
/** Side of a row's block, in cells: 64 pixels at the level's finest resolution (W5, 48.8 m/px, reads ~26 × 26 blocks of level 1). */
export const BLOCK_CELLS = 512;
/** Tables of replaced levels are dropped this long after (far above a map statement's timeout). */
export const RETIRED_DROP_AFTER_MS = 10 * 60_000;
type Kind = 'points' | 'lines' | 'polygons';

interface LayerSource {
  schema: string;
  table: string;
  column: string;
  srid: number;
  type: string;
  geographic: boolean;
  oid: number;
  relkind: string;
}

async function layerSource(q: Pick<pg.ClientBase, 'query'>, layer: string): Promise<LayerSource | undefined> {
  const { rows } = await q.query<LayerSource>(
    `SELECT l.table_schema AS schema, l.table_name AS table, l.geometry_column AS column, g.srid, upper(g.type) AS type,
            coalesce(s.proj4text LIKE '%+proj=longlat%', true) AS geographic, c.oid::int8 AS oid, c.relkind::text AS relkind
       FROM sdi.layers l
       JOIN pg_namespace n ON n.nspname = l.table_schema
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = l.table_name
       JOIN geometry_columns g ON g.f_table_schema = l.table_schema AND g.f_table_name = l.table_name AND g.f_geometry_column = l.geometry_column
       LEFT JOIN spatial_ref_sys s ON s.srid = g.srid
      WHERE l.name = $1 AND l.kind = 'feature'`,
    [layer],
  );
  const r = rows[0];
  return r ? { ...r, oid: Number(r.oid) } : undefined;
}

function kindOf(type: string): Kind | undefined {
  if (type === 'POINT' || type === 'MULTIPOINT') return 'points';
  if (type === 'LINESTRING' || type === 'MULTILINESTRING') return 'lines';
  if (type === 'POLYGON' || type === 'MULTIPOLYGON') return 'polygons';
  return undefined; // GEOMETRY and collections: not generalised (read from the table)
}

/** The INSERT … SELECT of one level (numbers are the module's constants, not input). */
function levelSql(src: LayerSource, kind: Kind, target: string, cell: number, tolerance: number): string {
  const t = `${quoteIdent(src.schema)}.${quoteIdent(src.table)}`;
  const g = quoteIdent(src.column);
  const block = cell * BLOCK_CELLS;
  const parts = `(SELECT (ST_Dump(t.${g})).geom AS g FROM ${t} AS t WHERE t.${g} IS NOT NULL)`;
  if (kind === 'points') {
    // One point per cell: integer cell coordinates, deduplicated.
    return `INSERT INTO ${target} (box, parts, twkb)
      SELECT ST_SetSRID(ST_Extent(ST_MakePoint(x * ${cell}, y * ${cell}))::geometry, ${src.srid}), count(*), ST_AsTWKB(ST_Collect(ST_MakePoint(x, y)), 0)
        FROM (SELECT DISTINCT round(ST_X(p.g) / ${cell}) AS x, round(ST_Y(p.g) / ${cell}) AS y FROM ${parts} AS p WHERE NOT ST_IsEmpty(p.g)) AS q
       GROUP BY floor(y / ${BLOCK_CELLS}), floor(x / ${BLOCK_CELLS})
       ORDER BY floor(y / ${BLOCK_CELLS}), floor(x / ${BLOCK_CELLS})`;
  }
  let simplified = `ST_Simplify(p.g, ${tolerance}, true)`;
  if (kind === 'polygons') simplified = `ST_ForcePolygonCW(${simplified})`;
  const bx = `floor((ST_XMin(p.g) + ST_XMax(p.g)) / ${2 * block})`;
  const by = `floor((ST_YMin(p.g) + ST_YMax(p.g)) / ${2 * block})`;
  // SVG path data (PostGIS's relative form: absolute M per part, relative l, z, y negated) of integer cell
  // coordinates (snapped first, so that the relative steps carry no rounding drift): the canvas hands it to Skia
  // as it is, with no decoding in Node. A part that collapses on the cell grid (under a cell: 1/8 px) is left out.
  return `INSERT INTO ${target} (box, parts, svg)
    SELECT ST_SetSRID(ST_Extent(q.g)::geometry, ${src.srid}), count(*), ST_AsSVG(ST_Collect(q.s), 1, 0)
      FROM (SELECT p.g, ST_SnapToGrid(ST_Affine(${simplified}, ${1 / cell}, 0, 0, ${1 / cell}, 0, 0), 1) AS s, ${bx} AS bx, ${by} AS by
              FROM ${parts} AS p WHERE NOT ST_IsEmpty(p.g)) AS q
     WHERE q.s IS NOT NULL AND NOT ST_IsEmpty(q.s)
     GROUP BY q.by, q.bx
     ORDER BY q.by, q.bx`;
}

export interface OverviewOutcome {
  /** not-permitted: the platform's role may not create tables in sdi_overviews (nothing is read from a level then). */
  outcome: 'built' | 'gone' | 'not-table' | 'geographic' | 'mixed-geometry' | 'untracked' | 'superseded' | 'not-permitted';
  levels?: Array<{ level: number; table: string; rows: number; parts: number; ms: number }>;
  revision?: string;
  dropped?: string[];
}

export interface OverviewBuildOptions {
  signal?: AbortSignal;
  log?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

const codeOf = (e: unknown) => (e as { code?: string }).code;

/** Build (or rebuild) every level of a layer. */
export async function buildOverviews(pool: Pool, layer: string, opts: OverviewBuildOptions = {}): Promise<OverviewOutcome> {
  const first = await layerSource(pool, layer);
  if (!first) return { outcome: 'gone' };
  if (first.relkind !== 'r' && first.relkind !== 'p') return { outcome: 'not-table' };
  if (first.geographic) return { outcome: 'geographic' };
  const kind = kindOf(first.type);
  if (!kind) return { outcome: 'mixed-geometry' };
  // Without the trigger a change of the data would not move the revision: no overview.
  if (!(await installTrigger(pool, first))) return { outcome: 'untracked' };
  const dropped = await dropRetired(pool);
  const c = await pool.connect();
  const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const cancel = () => void pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
  opts.signal?.addEventListener('abort', cancel, { once: true });
  try {
    // READ COMMITTED: each statement its own snapshot; the revision is read before the rows (see the header).
    await c.query('BEGIN');
    await c.query(`SELECT set_config('statement_timeout', '0', true)`);
    await takeBuildMark(c, first.oid);
    const src = await layerSource(c, layer);
    if (!src || src.oid !== first.oid) return await rollback(c, { outcome: 'superseded' });
    const revision = (await c.query<{ r: string | null }>('SELECT sdi.layer_data_revision($1) AS r', [layer])).rows[0]!.r;
    if (!revision || !revision.endsWith('|true')) return await rollback(c, { outcome: 'untracked' });
    const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
    const base = layer.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 36);
    const levels: NonNullable<OverviewOutcome['levels']> = [];
    for (const [level, resolution] of OVERVIEW_RESOLUTIONS.entries()) {
      const cell = resolution / CELLS_PER_PIXEL;
      const name = `ov_${base}_${level}_${stamp}`;
      const target = `sdi_overviews.${quoteIdent(name)}`;
      const started = performance.now();
      // twkb: points (the dot stamper needs their coordinates); svg: lines and polygons (levelSql).
      await c.query(`CREATE TABLE ${target} (box geometry NOT NULL, parts integer NOT NULL, twkb bytea, svg text)`);
      // Stored uncompressed: a map would pay pglz's decompression on every row (TWKB's varints hardly compress).
      await c.query(`ALTER TABLE ${target} ALTER COLUMN twkb SET STORAGE EXTERNAL, ALTER COLUMN svg SET STORAGE EXTERNAL`);
      const ins = await c.query(levelSql(src, kind, target, cell, resolution * SIMPLIFY_PIXELS));
      await c.query(`CREATE INDEX ${quoteIdent(`${name}_box`)} ON ${target} USING gist (box)`);
      const parts = Number((await c.query<{ n: string | null }>(`SELECT sum(parts)::int8 AS n FROM ${target}`)).rows[0]!.n ?? 0);
      const ms = Math.round(performance.now() - started);
      const old = await c.query<{ overview_table: string }>('SELECT overview_table FROM sdi.layer_overviews WHERE layer_name = $1 AND level = $2', [layer, level]);
      if (old.rows[0]) await c.query('INSERT INTO sdi.layer_overviews_retired (overview_table) VALUES ($1) ON CONFLICT DO NOTHING', [old.rows[0].overview_table]);
      await c.query(
        `INSERT INTO sdi.layer_overviews (layer_name, level, cell, min_resolution, srid, overview_table, revision, features, rows, build_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (layer_name, level) DO UPDATE SET cell = EXCLUDED.cell, min_resolution = EXCLUDED.min_resolution, srid = EXCLUDED.srid,
           overview_table = EXCLUDED.overview_table, revision = EXCLUDED.revision, features = EXCLUDED.features, rows = EXCLUDED.rows,
           build_ms = EXCLUDED.build_ms, built_at = now()`,
        [layer, level, cell, resolution, src.srid, name, revision, parts, ins.rowCount ?? 0, ms],
      );
      levels.push({ level, table: name, rows: ins.rowCount ?? 0, parts, ms });
    }
    await c.query('COMMIT');
    for (const l of levels) await c.query(`ANALYZE sdi_overviews.${quoteIdent(l.table)}`).catch(() => undefined);
    opts.log?.info({ layer, levels }, 'overviews built');
    return { outcome: 'built', levels, revision, dropped };
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    // Cancelled by a swap of the table (it holds the supersede lock until its commit): the next map or sweep queues again.
    if (codeOf(e) === '57014' && !opts.signal?.aborted && (await supersedeHeld(c, first.oid).catch(() => false))) return { outcome: 'superseded' };
    if (codeOf(e) === '42P01') return { outcome: 'gone' };
    if (codeOf(e) === '42501') return { outcome: 'not-permitted' };
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', cancel);
    c.release();
  }
}

async function rollback(c: pg.PoolClient, out: OverviewOutcome): Promise<OverviewOutcome> {
  await c.query('ROLLBACK');
  return out;
}

/** Drop the tables of levels replaced long enough ago (short lock wait: a table still read is dropped next time). */
export async function dropRetired(pool: Pool, olderThanMs = RETIRED_DROP_AFTER_MS): Promise<string[]> {
  // Tables no level names (their layer deleted: its registry rows went with it) retire too. A build's tables are
  // invisible here until its commit, which registers them.
  await pool.query(
    `INSERT INTO sdi.layer_overviews_retired (overview_table)
     SELECT tablename FROM pg_tables WHERE schemaname = 'sdi_overviews' AND tablename NOT IN (SELECT overview_table FROM sdi.layer_overviews)
     ON CONFLICT DO NOTHING`,
  );
  const { rows } = await pool.query<{ overview_table: string }>(
    `SELECT overview_table FROM sdi.layer_overviews_retired WHERE retired_at < now() - make_interval(secs => $1)
        AND overview_table NOT IN (SELECT overview_table FROM sdi.layer_overviews)`,
    [olderThanMs / 1000],
  );
  const out: string[] = [];
  for (const { overview_table: name } of rows) {
    try {
      await withTransaction(pool, async (c) => {
        await c.query(`SET LOCAL lock_timeout = '1s'`);
        await c.query(`DROP TABLE IF EXISTS sdi_overviews.${quoteIdent(name)}`);
        await c.query('DELETE FROM sdi.layer_overviews_retired WHERE overview_table = $1', [name]);
      });
      out.push(name);
    } catch {
      // held by a reader: next time
    }
  }
  return out;
}

/** Whether every level of a layer is registered and fresh now (nothing to rebuild). */
export async function overviewsFresh(pool: Pool, layer: string): Promise<boolean> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM sdi.layer_overviews WHERE layer_name = $1 AND level < $2 AND sdi.overview_fresh(overview_table)`,
    [layer, OVERVIEW_RESOLUTIONS.length],
  );
  return rows[0]!.n === OVERVIEW_RESOLUTIONS.length;
}

export interface QueuedOverview {
  id: string;
  created: boolean;
}

/** Queue the build of a layer's overviews unless one is queued (or running, with `orRunning`). */
export async function queueOverviews(pool: Pool, layer: string, opts: { orRunning?: boolean } = {}): Promise<QueuedOverview> {
  return withTransaction(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [OVERVIEW_LOCK_CLASS, layer]);
    const waiting = await c.query<{ id: string }>(`SELECT id FROM sdi.jobs WHERE kind = $1 AND state = ANY($3::text[]) AND request->>'layer' = $2 LIMIT 1`, [
      OVERVIEW_JOB_KIND,
      layer,
      opts.orRunning ? ['queued', 'running'] : ['queued'],
    ]);
    if (waiting.rows[0]) return { id: waiting.rows[0].id, created: false };
    // Below downloads (priority 0), like the area index: nobody waits for it.
    const job = await enqueue(c, { id: randomUUID(), kind: OVERVIEW_JOB_KIND, request: { layer }, priority: -1 });
    return { id: job.id, created: true };
  });
}

/**
 * Queue the overviews of every large layer (at least `min` features, estimated from the statistics) of a
 * projected point, line or polygon table whose levels are missing or stale. Run where job workers start.
 */
/** Queue the overviews of the layers of at least `min` features (config.maps.overviewMinFeatures) lacking fresh ones. */
export async function sweepOverviews(pool: Pool, min: number): Promise<QueuedOverview[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT l.name
       FROM sdi.layers l
       JOIN pg_namespace n ON n.nspname = l.table_schema
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = l.table_name AND c.relkind IN ('r', 'p')
       JOIN geometry_columns g ON g.f_table_schema = l.table_schema AND g.f_table_name = l.table_name AND g.f_geometry_column = l.geometry_column
       JOIN spatial_ref_sys s ON s.srid = g.srid
      WHERE l.kind = 'feature' AND c.reltuples >= $1 AND s.proj4text NOT LIKE '%+proj=longlat%'
        AND upper(g.type) IN ('POINT', 'MULTIPOINT', 'LINESTRING', 'MULTILINESTRING', 'POLYGON', 'MULTIPOLYGON')
        AND (SELECT count(*) FROM sdi.layer_overviews o WHERE o.layer_name = l.name AND sdi.overview_fresh(o.overview_table)) < $2
      ORDER BY 1`,
    [min, OVERVIEW_RESOLUTIONS.length],
  );
  const out: QueuedOverview[] = [];
  for (const r of rows) {
    const q = await queueOverviews(pool, r.name, { orRunning: true });
    if (q.created) out.push(q);
  }
  return out;
}

/** The job's handler. */
export function overviewJobHandler(log?: OverviewBuildOptions['log']): JobHandler {
  return async (platform: Platform, job: JobRow, ctx: JobContext) => {
    const r = job.request as { layer?: unknown };
    if (typeof r?.layer !== 'string') throw new JobFailure('The job names no layer');
    ctx.setProgress(0, `overviews of ${r.layer}`);
    const out = await buildOverviews(platform.pool, r.layer, { signal: ctx.signal, log });
    return { layer: r.layer, ...out };
  };
}
