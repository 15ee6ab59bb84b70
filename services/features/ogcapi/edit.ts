/**
 * OGC API – Features – Part 4 (Create, Replace, Update and Delete, OGC 20-002): POST items, PUT / PATCH /
 * DELETE items/{featureId}, applied by src/edit/apply.ts under the same rules as WFS-T (the edit right, the
 * territory, the layer's columns and geometry type, one transaction, the layer revision moved).
 *
 * - POST: a GeoJSON Feature; 201 with Location (§7.2.2); the id the database makes wins over one in the body,
 *   unless the id column has no default.
 * - PUT: the whole feature replaced (properties not given become NULL); 204, 404 when the feature is unknown.
 * - PATCH: JSON Merge Patch (RFC 7396) of the feature: the members given are set, null sets NULL; 204.
 * - DELETE: 204, 404 when unknown.
 * Coordinates are CRS84 (lon/lat) unless a Content-Crs header names another CRS of the collection (Part 2 §6.5;
 * its axis order is the CRS's own, e.g. lat/lon for EPSG:4326). Errors are problem+json (RFC 7807).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../../../src/platform.js';
import type { Layer } from '../../../src/catalog/layers.js';
import type { GeometryLiteral } from '../../../src/filter/ast.js';
import { refreshRecordsAfterEdit } from '../../../src/publishing/after-edit.js';
import { applyEdits, editAudit, editedLayers, type EditLocators, type EditOperation, type EditValue, type FeatureValues } from '../../../src/edit/apply.js';
import { OgcError, invalid } from '../../../src/ogc/errors.js';
import { Kvp } from '../../../src/ogc/kvp.js';
import { callerOf } from '../../../src/server/principal.js';
import { requestPart } from '../../../src/audit/hook.js';
import { parseCrs, isYX, crsUri, CRS84_URI } from '../../../src/crs/identifiers.js';

export interface EditRoutesEnv {
  platform: Platform;
  base: (req: FastifyRequest) => string;
  layerOr404: (req: FastifyRequest, id: string) => Promise<Layer>;
  crsListOf: (l: Layer) => string[];
  fail: (req: FastifyRequest, reply: FastifyReply, e: unknown) => unknown;
}

/** Part 4 conformance classes, declared to callers who may edit a collection. */
export const EDIT_CONFORMANCE = ['http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete', 'http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update', 'http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features'];

const LOCATORS: EditLocators = { layer: 'collectionId', property: 'properties', geometry: 'geometry', filter: 'featureId' };
const GEOMETRY_TYPES = new Set(['Point', 'LineString', 'Polygon', 'MultiPoint', 'MultiLineString', 'MultiPolygon', 'GeometryCollection']);

export function registerEditRoutes(app: FastifyInstance, env: EditRoutesEnv): void {
  const { platform } = env;
  // Part 4 bodies: GeoJSON and JSON Merge Patch, read as text and parsed here so that bad JSON is a problem+json 400.
  app.addContentTypeParser(['application/geo+json', 'application/merge-patch+json'], { parseAs: 'string', bodyLimit: 10 * 1024 * 1024 }, (_req, body, done) => done(null, body));

  const run = async (req: FastifyRequest, ops: EditOperation[]) => {
    const env = { pool: platform.pool, policy: platform.policy, crs: platform.crs, statementTimeoutMs: platform.config.features.statementTimeoutMs };
    const outcome = await applyEdits(env, callerOf(req), ops, LOCATORS);
    const edited = editAudit(callerOf(req), 'ogcapi', outcome);
    req.log.info(edited, 'features edited');
    platform.audit?.record({ event: 'edit', principal: callerOf(req).login ?? null, ...requestPart(req, platform), status: 200, detail: edited });
    void refreshRecordsAfterEdit(platform.pool, platform.config, editedLayers(ops, outcome), (err) => req.log.warn({ err }, 'records not refreshed after an edit'));
    return outcome;
  };
  const noParams = (req: FastifyRequest) => {
    for (const k of Kvp.fromUrl(req.url).keys()) throw invalid(k.toLowerCase(), `Unknown query parameter '${k.slice(0, 40)}'`);
  };

  app.post<{ Params: { collectionId: string } }>('/collections/:collectionId/items', async (req, reply) => {
    try {
      noParams(req);
      const layer = await env.layerOr404(req, req.params.collectionId);
      const f = readFeature(req, layer, env, false);
      const out = await run(req, [{ op: 'insert', layer, values: f.values, id: f.id }]);
      const id = out.inserted[0]!.id;
      return reply.status(201).header('Location', `${env.base(req)}/collections/${layer.name}/items/${encodeURIComponent(id)}`).send();
    } catch (e) {
      return env.fail(req, reply, e);
    }
  });

  const byId = (layer: Layer, featureId: string) => ({ kind: 'resourceId' as const, ids: [featureId] });
  const notFound = (layer: Layer, id: string) => new OgcError('NotFound', `Feature ${id.slice(0, 80)} does not exist in ${layer.name}`, 'featureId');

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route<{ Params: { collectionId: string; featureId: string } }>({
      method,
      url: '/collections/:collectionId/items/:featureId',
      handler: async (req, reply) => {
        try {
          noParams(req);
          const layer = await env.layerOr404(req, req.params.collectionId);
          const f = readFeature(req, layer, env, method === 'PATCH');
          const out = await run(req, [{ op: 'update', layer, filter: byId(layer, req.params.featureId), values: f.values, replace: method === 'PUT' }]);
          if (out.updated.length === 0) throw notFound(layer, req.params.featureId);
          return reply.status(204).send();
        } catch (e) {
          return env.fail(req, reply, e);
        }
      },
    });
  }

  app.delete<{ Params: { collectionId: string; featureId: string } }>('/collections/:collectionId/items/:featureId', async (req, reply) => {
    try {
      noParams(req);
      const layer = await env.layerOr404(req, req.params.collectionId);
      const out = await run(req, [{ op: 'delete', layer, filter: byId(layer, req.params.featureId) }]);
      if (out.deleted.length === 0) throw notFound(layer, req.params.featureId);
      return reply.status(204).send();
    } catch (e) {
      return env.fail(req, reply, e);
    }
  });
}

/** The request body as a GeoJSON Feature (or, for PATCH, a merge patch of one). */
function readFeature(req: FastifyRequest, layer: Layer, env: EditRoutesEnv, patch: boolean): { values: FeatureValues; id?: string } {
  let body: unknown = req.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      throw invalid('body', 'The request body is not valid JSON');
    }
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('body', 'The request body must be a GeoJSON Feature (a JSON object)');
  const f = body as Record<string, unknown>;
  if (!patch && f.type !== 'Feature') throw invalid('body', 'The request body must be a GeoJSON Feature ("type": "Feature")');
  const props = f.properties;
  if (props !== undefined && props !== null && (typeof props !== 'object' || Array.isArray(props))) throw invalid('properties', '"properties" must be an object');
  const values: FeatureValues = { properties: { ...((props as Record<string, EditValue> | undefined) ?? {}) } };
  if ('geometry' in f) values.geometry = f.geometry === null ? null : readGeometry(req, layer, env, f.geometry);
  else if (!patch) values.geometry = null;
  const id = typeof f.id === 'string' || typeof f.id === 'number' ? String(f.id) : undefined;
  return { values, id };
}

function readGeometry(req: FastifyRequest, layer: Layer, env: EditRoutesEnv, g: unknown): GeometryLiteral {
  const geom = g as { type?: unknown; coordinates?: unknown; geometries?: unknown };
  if (!geom || typeof geom !== 'object' || typeof geom.type !== 'string' || !GEOMETRY_TYPES.has(geom.type)) throw invalid('geometry', '"geometry" must be a GeoJSON geometry object');
  if (geom.type === 'GeometryCollection' ? !Array.isArray(geom.geometries) : !Array.isArray(geom.coordinates)) throw invalid('geometry', 'The geometry has no coordinates');
  const header = req.headers['content-crs'];
  const text = typeof header === 'string' ? header.trim().replace(/^<(.*)>$/, '$1') : undefined;
  if (!text) return { geojson: geom as GeometryLiteral['geojson'], srid: 4326 };
  const ref = parseCrs(text);
  if (!ref || !env.crsListOf(layer).includes(ref.form === 'crs84' ? CRS84_URI : crsUri(ref.srid))) throw invalid('Content-Crs', `Content-Crs ${text.slice(0, 80)} is not a CRS of collection ${layer.name}`);
  const geojson = isYX(ref) ? swapAxes(geom) : geom;
  return { geojson: geojson as GeometryLiteral['geojson'], srid: ref.srid };
}

/** A geometry written northing/latitude first, put in x/y order. */
function swapAxes(g: unknown): unknown {
  const swap = (c: unknown): unknown => (Array.isArray(c) && typeof c[0] === 'number' ? [c[1], c[0], ...c.slice(2)] : Array.isArray(c) ? c.map(swap) : c);
  const o = g as { type: string; coordinates?: unknown; geometries?: unknown[] };
  return o.type === 'GeometryCollection' ? { type: o.type, geometries: (o.geometries ?? []).map(swapAxes) } : { type: o.type, coordinates: swap(o.coordinates) };
}
