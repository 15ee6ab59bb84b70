/**
 * Styles in the administration API (issue 9): list, read, create or replace (an SLD 1.0/1.1 document as QGIS
 * exports it, or the JSON form of schemas/style.schema.json), delete a layer's named styles, choose a layer's
 * default, and replace the default of a kind of geometry. Every change is written to sdi.styles, which every
 * map, legend and capabilities request reads (no cache): it shows in the next request.
 *
 * Raster layers have styles too (issue 9; src/styles/raster-store.ts), under the same routes (raster and vector layers
 * share one name space): an SLD with a RasterSymbolizer (QGIS's raster export: SLD 1.0, a UserLayer) or the JSON of
 * src/styles/raster-json.ts. Vector symbolizers in a raster layer's SLD, or a RasterSymbolizer in a vector layer's,
 * are listed as unsupported.
 *
 * An SLD's unsupported parts are listed by name in the answer (`unsupported`), never dropped silently;
 * `?strict=true` refuses such an SLD instead (422). A malformed SLD or JSON, an unknown layer or property: 400/404/422.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Platform } from '../../src/platform.js';
import type { Layer } from '../../src/catalog/layers.js';
import { resolveProperty } from '../../src/db/identifiers.js';
import { publicBaseUrl } from '../../src/ogc/public-url.js';
import { StyleStore, type StoredStyle } from '../../src/styles/store.js';
import { MAX_SLD_BYTES, readSld, SldError, type SldNamedLayer } from '../../src/styles/sld-reader.js';
import { readStyleJson, StyleInputError, styleToJson } from '../../src/styles/json-style.js';
import { DEFAULT_STYLE_NAME, GEOMETRY_KINDS, styleProperties, type GeometryKind, type MapStyle } from '../../src/render/style.js';
import { rasterStyleToJson, type RasterStyle } from '../../src/render/raster-style.js';
import { readRasterStyleJson } from '../../src/styles/raster-json.js';
import { RasterStyleStore, type StoredRasterStyle } from '../../src/styles/raster-store.js';
import { getRasterLayer, type RasterLayer } from '../../src/catalog/rasters.js';
import { AdminError } from './problem.js';
import type { AdminModule } from './module.js';

const SLD_TYPES = ['application/vnd.ogc.sld+xml', 'application/vnd.ogc.se+xml', 'application/xml', 'text/xml'];
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

interface StyleParams {
  layer: string;
  name: string;
}

const bodyType = (req: FastifyRequest) => (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();

/** The SLD of the body, read, and its NamedLayer (or UserLayer) for this layer, else its only one. */
function sldOfBody(req: FastifyRequest, layerName: string): { text: string; layer: SldNamedLayer | undefined; unsupported: string[]; rasterParts: string[] } {
  const text = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : String(req.body ?? '');
  let doc;
  try {
    doc = readSld(text);
  } catch (e) {
    if (e instanceof SldError) throw new AdminError(400, 'invalid-sld', e.message, 'body');
    throw e;
  }
  const nl = doc.layers.find((l) => l.layer.split(':').pop() === layerName) ?? (doc.layers.length === 1 ? doc.layers[0] : undefined);
  return { text, layer: nl, unsupported: doc.unsupported, rasterParts: doc.rasterParts };
}

/** A style from the request body: SLD (XML media types) or JSON; what the SLD had that is not applied. */
function styleFromBody(req: FastifyRequest, layer: Layer, name: string): { style: MapStyle; sld: string | null; unsupported: string[] } {
  const type = bodyType(req);
  if (SLD_TYPES.includes(type)) {
    const { text, layer: nl, unsupported, rasterParts } = sldOfBody(req, layer.name);
    // Its first user style (the default one first).
    const user = nl?.styles[0];
    if (!user) throw new AdminError(400, 'invalid-sld', `The SLD has no UserStyle for layer ${layer.name}`, 'body');
    // A RasterSymbolizer draws nothing on a vector layer: named, not dropped silently.
    return { style: { ...user, name }, sld: text, unsupported: [...unsupported, ...rasterParts] };
  }
  if (type === 'application/json') {
    try {
      return { style: readStyleJson(req.body, name), sld: null, unsupported: [] };
    } catch (e) {
      if (e instanceof StyleInputError) throw new AdminError(400, 'invalid-style', e.message, e.pointer || 'body');
      throw e;
    }
  }
  throw new AdminError(415, 'unsupported-media-type', `Send the style as SLD (${SLD_TYPES.join(', ')}) or JSON (application/json)`);
}

/** A raster style from the request body: an SLD with a RasterSymbolizer, or the raster JSON form. */
function rasterStyleFromBody(req: FastifyRequest, raster: RasterLayer, name: string): { style: RasterStyle; sld: string | null; unsupported: string[] } {
  const type = bodyType(req);
  if (SLD_TYPES.includes(type)) {
    const { text, layer: nl, unsupported } = sldOfBody(req, raster.name);
    const user = nl?.rasterStyles[0];
    if (!user) throw new AdminError(422, 'no-raster-symbolizer', `The SLD has no UserStyle with a RasterSymbolizer for raster layer ${raster.name}`, 'body');
    // Vector symbolizers draw nothing on a raster layer: named, not dropped silently.
    const vector = nl!.styles.filter((s) => s.name === user.name).flatMap((s) => s.rules.flatMap((r) => r.symbolizers.map((y) => `UserStyle[${s.name}]/${y.kind[0]!.toUpperCase()}${y.kind.slice(1)}Symbolizer (layer ${raster.name} is a raster layer)`)));
    return { style: { ...user, name }, sld: text, unsupported: [...unsupported, ...vector] };
  }
  if (type === 'application/json') {
    try {
      return { style: readRasterStyleJson(req.body, name), sld: null, unsupported: [] };
    } catch (e) {
      if (e instanceof StyleInputError) throw new AdminError(400, 'invalid-style', e.message, e.pointer || 'body');
      throw e;
    }
  }
  throw new AdminError(415, 'unsupported-media-type', `Send the style as SLD (${SLD_TYPES.join(', ')}) or JSON (application/json)`);
}

function rasterSummary(s: StoredRasterStyle, base: string): Record<string, unknown> {
  return { layer: s.raster, kind: 'raster', name: s.name, title: s.title, default: s.isDefault, colorMap: s.style.colorMap?.type ?? null, sld: s.sld !== null, updated: s.updatedAt.toISOString(), href: `${base}/styles/${encodeURIComponent(s.raster)}/${encodeURIComponent(s.name)}` };
}

function rasterDetail(s: StoredRasterStyle): Record<string, unknown> {
  return { layer: s.raster, kind: 'raster', default: s.isDefault, updated: s.updatedAt.toISOString(), style: rasterStyleToJson(s.style) };
}

/** Refuses a style that reads attributes the layer does not have (it would fail every map). */
function checkFits(style: MapStyle, layer: Layer): void {
  const missing = styleProperties(style.rules).filter((p) => !resolveProperty(layer, p));
  if (missing.length) throw new AdminError(422, 'unknown-property', `Layer ${layer.name} has no attribute ${missing.map((m) => m.slice(0, 60)).join(', ')}`, 'body', { properties: missing });
}

function summary(s: StoredStyle, base: string): Record<string, unknown> {
  return {
    ...(s.layer ? { layer: s.layer } : { geometryKind: s.kind }),
    name: s.name,
    title: s.title,
    default: s.isDefault,
    rules: s.style.rules.length,
    sld: s.sld !== null,
    updated: s.updatedAt.toISOString(),
    href: s.layer ? `${base}/styles/${encodeURIComponent(s.layer)}/${encodeURIComponent(s.name)}` : `${base}/default-styles/${s.kind}`,
  };
}

function detail(s: StoredStyle): Record<string, unknown> {
  return { ...(s.layer ? { layer: s.layer } : { geometryKind: s.kind }), default: s.isDefault, updated: s.updatedAt.toISOString(), style: styleToJson(s.style) };
}

const wantsSld = (req: FastifyRequest) => /application\/vnd\.ogc\.(sld|se)\+xml/i.test(String(req.headers.accept ?? ''));
const flag = (v: unknown, name: string): boolean => {
  if (v === undefined) return false;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new AdminError(400, 'invalid-parameter', `${name} must be true or false`, name);
};

async function styleRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  const store = new StyleStore(platform.pool);
  // SLD bodies as text (a parser another module registered for the same XML types is used as it is).
  const missing = SLD_TYPES.filter((t) => !app.hasContentTypeParser(t));
  if (missing.length) app.addContentTypeParser(missing, { parseAs: 'string', bodyLimit: MAX_SLD_BYTES }, (_req, body, done) => done(null, body));
  const base = (req: FastifyRequest) => `${publicBaseUrl(req, platform.config)}/admin`;

  const rasterStore = new RasterStyleStore(platform.pool);
  const layerOf = async (name: string): Promise<Layer> => {
    const l = await platform.layers.get(name);
    if (!l || !l.geometry) throw new AdminError(404, 'not-found', `No vector layer ${name.slice(0, 80)}`, 'layer');
    return l;
  };
  /** The raster layer of this name when there is no vector layer of it (one name space for both). */
  const rasterOf = async (name: string): Promise<RasterLayer | undefined> => ((await platform.layers.get(name)) ? undefined : getRasterLayer(platform.pool, name));
  const checkName = (name: string) => {
    if (!NAME.test(name)) throw new AdminError(400, 'invalid-parameter', 'A style name is 1 to 64 of A-Z a-z 0-9 _ . - (not starting with . or -)', 'name');
    if (name.toLowerCase() === DEFAULT_STYLE_NAME) throw new AdminError(400, 'invalid-parameter', `"${DEFAULT_STYLE_NAME}" names a layer's default style in WMS; choose another name and make it the default`, 'name');
  };
  const kindOf = (k: string): GeometryKind => {
    if (!(GEOMETRY_KINDS as readonly string[]).includes(k)) throw new AdminError(404, 'not-found', `No geometry kind ${k.slice(0, 40)} (${GEOMETRY_KINDS.join(', ')})`, 'kind');
    return k as GeometryKind;
  };

  app.get('/styles', async (req) => {
    const all = await store.list();
    return { styles: all.map((s) => summary(s, base(req))) };
  });

  app.get<{ Params: { layer: string } }>('/styles/:layer', async (req) => {
    const raster = await rasterOf(req.params.layer);
    if (raster) {
      const offered = (await rasterStore.forRasters([raster.name])).get(raster.name) ?? [];
      return { layer: raster.name, kind: 'raster', offered: offered.map((s, i) => ({ name: s.name, title: s.title, default: i === 0 })), styles: (await rasterStore.list(raster.name)).map((s) => rasterSummary(s, base(req))) };
    }
    const layer = await layerOf(req.params.layer);
    const offered = (await store.forLayers([layer])).get(layer.name) ?? [];
    const own = await store.list(layer.name);
    return {
      layer: layer.name,
      // What WMS offers for the layer, its default first (the kind's default when the layer has none of its own).
      offered: offered.map((s, i) => ({ name: s.name, title: s.title, default: i === 0 })),
      styles: own.map((s) => summary(s, base(req))),
    };
  });

  app.get<{ Params: StyleParams }>('/styles/:layer/:name', async (req, reply) => {
    const raster = await rasterOf(req.params.layer);
    const s = raster ? await rasterStore.get(raster.name, req.params.name) : await store.get(req.params.layer, req.params.name);
    if (!s) throw new AdminError(404, 'not-found', `Layer ${req.params.layer.slice(0, 80)} has no style ${req.params.name.slice(0, 80)}`);
    if (wantsSld(req)) {
      if (s.sld === null) throw new AdminError(406, 'not-acceptable', 'This style was not imported from SLD: ask for application/json');
      return reply.type('application/vnd.ogc.sld+xml; charset=utf-8').send(s.sld);
    }
    return 'raster' in s ? rasterDetail(s) : detail(s);
  });

  app.put<{ Params: StyleParams; Querystring: Record<string, unknown> }>('/styles/:layer/:name', async (req, reply) => {
    const unknown = Object.keys(req.query ?? {}).filter((k) => k !== 'default' && k !== 'strict');
    if (unknown.length) throw new AdminError(400, 'invalid-parameter', `Unknown parameter ${unknown[0]!.slice(0, 40)} (known: default, strict)`, unknown[0]);
    const raster = await rasterOf(req.params.layer);
    const layer = raster ? undefined : await layerOf(req.params.layer);
    checkName(req.params.name);
    const makeDefault = flag(req.query.default, 'default');
    const strict = flag(req.query.strict, 'strict');
    if (raster) {
      const r = rasterStyleFromBody(req, raster, req.params.name);
      if (strict && r.unsupported.length) throw new AdminError(422, 'unsupported-sld', `The SLD has parts this server does not apply: ${r.unsupported.slice(0, 20).join(', ')}`, 'body', { unsupported: r.unsupported });
      const outcome = await rasterStore.put(raster.name, r.style, r.sld, makeDefault);
      const saved = (await rasterStore.get(raster.name, r.style.name))!;
      return reply.status(outcome === 'created' ? 201 : 200).header('location', `${base(req)}/styles/${encodeURIComponent(raster.name)}/${encodeURIComponent(r.style.name)}`).send({ ...rasterDetail(saved), unsupported: r.unsupported });
    }
    if (!layer) throw new AdminError(404, 'not-found', `No layer ${req.params.layer.slice(0, 80)}`, 'layer');
    const { style, sld, unsupported } = styleFromBody(req, layer, req.params.name);
    if (strict && unsupported.length) throw new AdminError(422, 'unsupported-sld', `The SLD has parts this server does not apply: ${unsupported.slice(0, 20).join(', ')}`, 'body', { unsupported });
    checkFits(style, layer);
    const outcome = await store.put(layer.name, style, sld, makeDefault);
    const saved = (await store.get(layer.name, style.name))!;
    return reply.status(outcome === 'created' ? 201 : 200).header('location', `${base(req)}/styles/${encodeURIComponent(layer.name)}/${encodeURIComponent(style.name)}`).send({ ...detail(saved), unsupported });
  });

  app.delete<{ Params: StyleParams }>('/styles/:layer/:name', async (req, reply) => {
    const raster = await rasterOf(req.params.layer);
    if (!(await (raster ? rasterStore.delete(raster.name, req.params.name) : store.delete(req.params.layer, req.params.name)))) throw new AdminError(404, 'not-found', `Layer ${req.params.layer.slice(0, 80)} has no style ${req.params.name.slice(0, 80)}`);
    return reply.status(204).send();
  });

  app.put<{ Params: StyleParams }>('/styles/:layer/:name/default', async (req, reply) => {
    const raster = await rasterOf(req.params.layer);
    if (!(await (raster ? rasterStore.setDefault(raster.name, req.params.name) : store.setDefault(req.params.layer, req.params.name)))) throw new AdminError(404, 'not-found', `Layer ${req.params.layer.slice(0, 80)} has no style ${req.params.name.slice(0, 80)}`);
    return reply.status(204).send();
  });

  app.get<{ Params: { kind: string } }>('/default-styles/:kind', async (req) => {
    const s = await store.getKindDefault(kindOf(req.params.kind));
    if (!s) throw new AdminError(404, 'not-found', `No stored default for ${req.params.kind} (the built-in one is used)`);
    return detail(s);
  });

  app.put<{ Params: { kind: string } }>('/default-styles/:kind', async (req, reply) => {
    const kind = kindOf(req.params.kind);
    // A default style reads no attribute (it must fit every layer of its kind).
    const anyLayer: Layer = { name: `(any ${kind} layer)`, columns: [], idColumn: '' } as unknown as Layer;
    const { style, sld, unsupported } = styleFromBody(req, anyLayer, DEFAULT_STYLE_NAME);
    checkFits(style, anyLayer);
    await store.putKindDefault(kind, style, sld);
    return reply.status(200).send({ ...detail((await store.getKindDefault(kind))!), unsupported });
  });
}

const styleRef = { $ref: '#/components/schemas/Style' };
const problem = { $ref: '#/components/responses/Problem' };
const layerParam = { name: 'layer', in: 'path', required: true, schema: { type: 'string' } };
const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: NAME.source } };
const body = {
  required: true,
  content: {
    'application/json': { schema: styleRef },
    'application/vnd.ogc.sld+xml': { schema: { type: 'string', description: 'SLD 1.0.0 or 1.1.0 (SE 1.1), as QGIS exports it (for a raster layer: SLD 1.0.0 with a RasterSymbolizer)' } },
  },
};

export const stylesModule: AdminModule = {
  name: 'styles',
  routes: styleRoutes,
  openapi: {
    paths: {
      '/styles': { get: { tags: ['styles'], summary: 'Every stored style (layers’ named styles and the defaults per geometry kind)', responses: { '200': { description: 'The styles' }, default: problem } } },
      '/styles/{layer}': { get: { tags: ['styles'], summary: 'The styles a layer (vector or raster) offers in WMS (its default first) and its stored styles', parameters: [layerParam], responses: { '200': { description: 'The layer’s styles' }, default: problem } } },
      '/styles/{layer}/{name}': {
        get: { tags: ['styles'], summary: 'A layer’s style: JSON, or the SLD it was imported from (Accept: application/vnd.ogc.sld+xml)', parameters: [layerParam, nameParam], responses: { '200': { description: 'The style' }, default: problem } },
        put: {
          tags: ['styles'],
          summary: 'Create or replace a layer’s style from SLD or JSON (a raster layer: an SLD with a RasterSymbolizer, as QGIS exports it, or {opacity, colorMap}); SLD parts not applied are listed in `unsupported`',
          parameters: [layerParam, nameParam, { name: 'default', in: 'query', schema: { type: 'boolean' } }, { name: 'strict', in: 'query', schema: { type: 'boolean' }, description: 'Refuse an SLD with unsupported parts (422)' }],
          requestBody: body,
          responses: { '200': { description: 'Replaced' }, '201': { description: 'Created' }, default: problem },
        },
        delete: { tags: ['styles'], summary: 'Delete a layer’s style (the layer falls back to its geometry kind’s default if it was its default)', parameters: [layerParam, nameParam], responses: { '204': { description: 'Deleted' }, default: problem } },
      },
      '/styles/{layer}/{name}/default': { put: { tags: ['styles'], summary: 'Make this style the layer’s default', parameters: [layerParam, nameParam], responses: { '204': { description: 'Done' }, default: problem } } },
      '/default-styles/{kind}': {
        get: { tags: ['styles'], summary: 'The default style of a geometry kind', parameters: [{ name: 'kind', in: 'path', required: true, schema: { enum: [...GEOMETRY_KINDS] } }], responses: { '200': { description: 'The style' }, default: problem } },
        put: { tags: ['styles'], summary: 'Replace the default style of a geometry kind (it may read no attribute)', parameters: [{ name: 'kind', in: 'path', required: true, schema: { enum: [...GEOMETRY_KINDS] } }], requestBody: body, responses: { '200': { description: 'Replaced' }, default: problem } },
      },
    },
    schemas: { Style: { type: 'object', description: 'See schemas/style.schema.json in the repository', required: ['rules'], properties: { name: { type: 'string' }, title: { type: 'string' }, rules: { type: 'array', items: { type: 'object' } } } } },
  },
};
