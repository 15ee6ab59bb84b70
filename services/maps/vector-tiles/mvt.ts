/**
 * A vector tile of a layer: planned by the one planner (action 'view', the caller's policy and restriction,
 * the tile's box grown by the MVT buffer as a BBOX filter in EPSG:3857), compiled with the MVT select list
 * (src/render/mvt-sql.ts) and aggregated by ST_AsMVT in PostGIS, read in one read-only snapshot.
 */
import { planFeatureQuery, PlanError } from '../../../src/query/planner.js';
import { compileSelect } from '../../../src/query/compile.js';
import { FeatureSession } from '../../../src/query/cursor.js';
import { PositionalBinder } from '../../../src/db/sql.js';
import { OgcError, fromDatabaseError } from '../../../src/ogc/errors.js';
import { parseCrs } from '../../../src/crs/identifiers.js';
import type { Layer } from '../../../src/catalog/layers.js';
import type { Platform } from '../../../src/platform.js';
import type { Principal } from '../../../src/access/policy.js';
import { matrixSetById, tileBbox } from '../../../src/tiles/matrix-sets.js';
import { MVT_BUFFER, MVT_EXTENT, mvtSelectList, mvtStatement, mvtWherePredicate } from '../../../src/render/mvt-sql.js';

export const MVT_TYPE = 'application/vnd.mapbox-vector-tile';
export const WEB_MERCATOR_QUAD = matrixSetById('WebMercatorQuad')!;

/** The tile (level z, column x, row y of WebMercatorQuad), or 404 when it is outside the matrix set. */
export function checkTile(z: number, x: number, y: number): void {
  const m = WEB_MERCATOR_QUAD.matrices[z];
  if (!m || x >= m.matrixWidth || y >= m.matrixHeight) throw new OgcError('NotFound', `Tile ${z}/${x}/${y} is outside WebMercatorQuad (levels 0 to ${WEB_MERCATOR_QUAD.matrices.length - 1}, 2^z tiles a side)`, 'tileMatrix');
}

export async function vectorTile(platform: Platform, caller: Principal, layer: Layer, z: number, x: number, y: number): Promise<Buffer> {
  checkTile(z, x, y);
  const m = WEB_MERCATOR_QUAD.matrices[z]!;
  const b = tileBbox(WEB_MERCATOR_QUAD, m, y, x);
  // The buffer's share of the tile, as ST_AsMVTGeom keeps it.
  const grow = ((b.maxx - b.minx) * MVT_BUFFER) / MVT_EXTENT;
  let q;
  try {
    q = planFeatureQuery(platform, caller, layer, {
      action: 'view',
      // The box test alone: ST_AsMVTGeom clips to the tile and its buffer, and drops what is left empty.
      filter: { kind: 'bbox', envelope: { minx: b.minx - grow, miny: b.miny - grow, maxx: b.maxx + grow, maxy: b.maxy + grow, srid: 3857 }, boxOnly: true },
      outputCrs: parseCrs('EPSG:3857')!,
      ordered: false,
    });
  } catch (e) {
    if (e instanceof PlanError) throw new OgcError(e.kind === 'forbidden' ? 'Forbidden' : 'InvalidParameterValue', e.message, 'collectionId');
    throw e;
  }
  const params = new PositionalBinder();
  // Polygons under one pixel: left out in the WHERE clause, where the (geom, area) index reads only the rest.
  const polygons = /POLYGON/i.test(layer.geometry?.type ?? '');
  const rows = compileSelect(q, { crs: platform.crs, locator: 'tile', ...(polygons ? { extraPredicate: (p) => mvtWherePredicate(layer, z, x, y, p)! } : {}) }, (p) => mvtSelectList(layer, z, x, y, p), 0, params);
  const sql = mvtStatement(layer, rows, params);
  const session = await FeatureSession.open(platform.pool, platform.config.features.statementTimeoutMs);
  let ok = false;
  try {
    // No JIT for the tile (this transaction only): the time is spent in PostGIS functions, which JIT cannot
    // compile, and ST_AsMVTGeom's cost estimate sets off a compilation that is the most of a low-zoom tile's
    // time. Measured (EXPLAIN ANALYZE, tile 9/258/178 of a million parcels, shared noisy machine): JIT 270 ms
    // (inlining 118, optimisation 96, emission 56) of an execution of 368 ms, where the rows and their
    // geometries take ~55 ms.
    // No parallel workers either: a worker is a new backend that loads PostGIS and sets up PROJ for its
    // ST_Transform on every tile, for the ~1,300 rows the area index leaves. Measured (the same tile, the
    // helper's own database at PostgreSQL's default max_parallel_workers_per_gather = 2, one psql session,
    // 5 runs each, load average ~11 on 2 shared cores): execution 294–359 ms with 2 workers, 72–85 ms without;
    // through the server, 20 tiles one at a time: see the commit message. The bench's anchor cluster runs with 0
    // (bench-results pg-settings.txt), which is why its T2 never showed this.
    await session.scalarRows({ text: "SELECT set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true)", values: [] });
    const [row] = await session.scalarRows<{ mvt: Buffer | null }>(sql);
    ok = true;
    return row?.mvt ?? Buffer.alloc(0);
  } catch (e) {
    throw fromDatabaseError(e, 'tile');
  } finally {
    await session.close(ok);
  }
}

