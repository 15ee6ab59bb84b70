/**
 * Vector tiles (Mapbox Vector Tiles from ST_AsMVT, mvt.ts) at two addresses:
 *
 * - OGC API – Tiles 1.0 (OGC 20-057), under /ogcapi: /tileMatrixSets, /tileMatrixSets/{id},
 *   /collections/{collectionId}/tiles (tileset list), …/tiles/WebMercatorQuad (tileset metadata) and
 *   …/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol} (the tile);
 * - a plain /tiles/{layer}/{z}/{x}/{y}.pbf URL, described by /tiles/{layer}/tilejson.json (TileJSON 3.0.0), with
 *   the colours of the layer's default style at /tiles/{layer}/style.json (what the viewer draws them with).
 *
 * Collections are the layers the caller may list and view (the same as WMS and WMTS); every tile is planned
 * with the caller (the policy's restriction in its SQL). Tiles the same for everyone go through the disk tile
 * cache (cached-tile.ts over src/tiles/through-cache.ts: keyed by the layer's revision, ETag, 304), as
 * `<layer>/<revision>/default/mvt/…`, the key `cli.js seed-tiles --format mvt` fills. A tile
 * no feature reaches is 204 No Content (OGC 20-057 §7.1, Permission 3). Errors are problem+json; unknown query
 * parameters are refused.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../../../src/platform.js';
import type { Layer } from '../../../src/catalog/layers.js';
import { OgcError, toOgcError } from '../../../src/ogc/errors.js';
import { problemJson } from '../../../src/ogc/exception-report.js';
import { publicBaseUrl } from '../../../src/ogc/public-url.js';
import { callerOf } from '../../../src/server/principal.js';
import { layerExtentWgs84 } from '../../../src/catalog/extent.js';
import { TILE_MATRIX_SETS, matrixSetById } from '../../../src/tiles/matrix-sets.js';
import { MVT_TYPE } from './mvt.js';
import { cachedVectorTile } from './cached-tile.js';
import { TileCache } from '../../../src/tiles/cache.js';
import { tileCacheControl, visibleToEveryone } from '../../../src/tiles/cache-control.js';
import { simpleStyle, tileJson, tileMatrixSetDocument, tilesetList, tilesetMetadata } from './documents.js';
import { StyleStore } from '../../../src/styles/store.js';

function fail(req: FastifyRequest, reply: FastifyReply, e: unknown) {
  const err = toOgcError(e);
  if (err.status >= 500) req.log.error({ err: e }, 'vector tile request failed');
  return reply.status(err.status).type('application/problem+json').send(problemJson(err, req.url));
}

/** Query parameters a route accepts (f on documents only); anything else is refused. */
function refuseUnknown(req: FastifyRequest, known: readonly string[]): void {
  for (const k of Object.keys(req.query as object)) {
    if (!known.includes(k)) throw new OgcError('InvalidParameterValue', `Unknown parameter ${k.slice(0, 60)}${known.length ? ` (known: ${known.join(', ')})` : ''}`, k);
  }
  const f = (req.query as Record<string, unknown>).f;
  if (f !== undefined && f !== 'json') throw new OgcError('InvalidParameterValue', 'f must be json', 'f');
}

function index(v: string, name: string): number {
  if (!/^\d{1,9}$/.test(v)) throw new OgcError('InvalidParameterValue', `${name} must be a non-negative integer`, name);
  return Number(v);
}

async function visibleLayer(platform: Platform, req: FastifyRequest, name: string): Promise<Layer> {
  const caller = callerOf(req);
  // The change feed vouches for the catalogue (no query on a cached tile, src/catalog/layers.ts).
  const layer = (await platform.layers.list({ notified: true })).find((l) => l.name === name && l.geometry);
  // A layer the caller may not view does not exist for it (no enumeration of restricted names, issue 11).
  if (!layer || !platform.policy.canList(caller, layer) || !platform.policy.decide(caller, layer, 'view').allowed) throw new OgcError('NotFound', `No collection ${name.slice(0, 80)}`, 'collectionId');
  return layer;
}

async function sendTile(platform: Platform, cache: TileCache | undefined, req: FastifyRequest, reply: FastifyReply, layer: Layer, z: number, x: number, y: number) {
  const t = await cachedVectorTile(platform, cache, callerOf(req), layer, z, x, y, req.headers['if-none-match']);
  reply.header('x-tile-cache', t.cache);
  reply.header('cache-control', tileCacheControl(t.cache, visibleToEveryone(platform.policy, { layer })));
  if (t.etag) reply.header('etag', t.etag);
  if (t.notModified) return reply.status(304).send();
  if (!t.bytes.length) return reply.status(204).send();
  return reply.type(MVT_TYPE).send(t.bytes);
}

/** The disk cache of the WMTS tiles: vector tiles go beside them, in a `mvt` "matrix set" of each layer revision. */
function mvtCache(platform: Platform): TileCache | undefined {
  const dir = platform.config.maps.tileCacheDir;
  return dir ? new TileCache(dir) : undefined;
}

/** OGC API – Tiles, registered with the /ogcapi prefix. */
export async function ogcApiTilesRoutes(app: FastifyInstance, opts: { platform: Platform; mountPath: string }): Promise<void> {
  const { platform } = opts;
  const cache = mvtCache(platform);
  const base = (req: FastifyRequest) => `${publicBaseUrl(req, platform.config)}${opts.mountPath}`;

  app.get('/tileMatrixSets', async (req, reply) => {
    try {
      refuseUnknown(req, ['f']);
      const b = base(req);
      return reply.type('application/json').send({
        links: [{ rel: 'self', type: 'application/json', href: `${b}/tileMatrixSets` }],
        tileMatrixSets: TILE_MATRIX_SETS.map((s) => ({ id: s.id, title: s.title, ...(s.uri ? { uri: s.uri } : {}), links: [{ rel: 'self', type: 'application/json', href: `${b}/tileMatrixSets/${s.id}` }] })),
      });
    } catch (e) {
      return fail(req, reply, e);
    }
  });

  app.get<{ Params: { tileMatrixSetId: string } }>('/tileMatrixSets/:tileMatrixSetId', async (req, reply) => {
    try {
      refuseUnknown(req, ['f']);
      const set = matrixSetById(req.params.tileMatrixSetId);
      if (!set) throw new OgcError('NotFound', `No tile matrix set ${req.params.tileMatrixSetId.slice(0, 60)}`, 'tileMatrixSetId');
      return reply.type('application/json').send(tileMatrixSetDocument(set, base(req)));
    } catch (e) {
      return fail(req, reply, e);
    }
  });

  app.get<{ Params: { collectionId: string } }>('/collections/:collectionId/tiles', async (req, reply) => {
    try {
      refuseUnknown(req, ['f']);
      const layer = await visibleLayer(platform, req, req.params.collectionId);
      const b = base(req);
      return reply.type('application/json').send(tilesetList(layer, `${b}/collections/${encodeURIComponent(layer.name)}`, b));
    } catch (e) {
      return fail(req, reply, e);
    }
  });

  const onlyWebMercatorQuad = (id: string) => {
    if (id !== 'WebMercatorQuad') throw new OgcError('NotFound', `Vector tiles are offered in WebMercatorQuad only, not ${id.slice(0, 60)}`, 'tileMatrixSetId');
  };

  app.get<{ Params: { collectionId: string; tileMatrixSetId: string } }>('/collections/:collectionId/tiles/:tileMatrixSetId', async (req, reply) => {
    try {
      refuseUnknown(req, ['f']);
      const layer = await visibleLayer(platform, req, req.params.collectionId);
      onlyWebMercatorQuad(req.params.tileMatrixSetId);
      const b = base(req);
      return reply.type('application/json').send(tilesetMetadata(layer, `${b}/collections/${encodeURIComponent(layer.name)}`, b, await layerExtentWgs84(platform.pool, layer)));
    } catch (e) {
      return fail(req, reply, e);
    }
  });

  app.get<{ Params: { collectionId: string; tileMatrixSetId: string; tileMatrix: string; tileRow: string; tileCol: string } }>(
    '/collections/:collectionId/tiles/:tileMatrixSetId/:tileMatrix/:tileRow/:tileCol',
    async (req, reply) => {
      try {
        refuseUnknown(req, []);
        const p = req.params;
        const layer = await visibleLayer(platform, req, p.collectionId);
        onlyWebMercatorQuad(p.tileMatrixSetId);
        return await sendTile(platform, cache, req, reply, layer, index(p.tileMatrix, 'tileMatrix'), index(p.tileCol, 'tileCol'), index(p.tileRow, 'tileRow'));
      } catch (e) {
        return fail(req, reply, e);
      }
    },
  );
}

/** The plain tile URL and its TileJSON, registered with the /tiles prefix. */
export async function plainTilesRoutes(app: FastifyInstance, opts: { platform: Platform; mountPath: string }): Promise<void> {
  const { platform } = opts;
  const cache = mvtCache(platform);

  app.get<{ Params: { layer: string } }>('/:layer/tilejson.json', async (req, reply) => {
    try {
      refuseUnknown(req, []);
      const layer = await visibleLayer(platform, req, req.params.layer);
      const url = `${publicBaseUrl(req, platform.config)}${opts.mountPath}/${encodeURIComponent(layer.name)}`;
      return reply.type('application/json').send(tileJson(layer, url, await layerExtentWgs84(platform.pool, layer)));
    } catch (e) {
      return fail(req, reply, e);
    }
  });

  // The colours of the layer's default style (documents.ts), for the viewer's vector tiles: read at each request
  // like every map (an administrator's change shows at the next one), revalidated by browsers.
  app.get<{ Params: { layer: string } }>('/:layer/style.json', async (req, reply) => {
    try {
      refuseUnknown(req, []);
      const layer = await visibleLayer(platform, req, req.params.layer);
      const style = (await new StyleStore(platform.pool).forLayers([layer])).get(layer.name)?.[0];
      if (!style) throw new OgcError('NotFound', `No style for ${layer.name.slice(0, 80)}`, 'layer');
      return reply.type('application/json').send(simpleStyle(layer, style));
    } catch (e) {
      return fail(req, reply, e);
    }
  });

  app.get<{ Params: { layer: string; z: string; x: string; file: string } }>('/:layer/:z/:x/:file', async (req, reply) => {
    try {
      refuseUnknown(req, []);
      const m = /^(\d{1,9})\.(pbf|mvt)$/.exec(req.params.file);
      if (!m) throw new OgcError('NotFound', 'A tile is {z}/{x}/{y}.pbf', 'y');
      const layer = await visibleLayer(platform, req, req.params.layer);
      return await sendTile(platform, cache, req, reply, layer, index(req.params.z, 'z'), index(req.params.x, 'x'), Number(m[1]));
    } catch (e) {
      return fail(req, reply, e);
    }
  });
}
