/**
 * The JSON documents of the vector tiles: OGC API – Tiles 1.0 (OGC 20-057) tileset lists and tileset
 * metadata (§7.4, §7.5, the TileSetMetadata model of OGC 17-083r4 2D-TMS 2.0 §8), the tile matrix set
 * definitions (2D-TMS 2.0 JSON encoding), and TileJSON 3.0.0 (github.com/mapbox/tilejson-spec) for the plain
 * {z}/{x}/{y}.pbf URL, and the colours of a layer's default style for browsers. Documents only: no data access
 * beyond the layer's extent.
 */
import type { Layer, LayerColumn } from '../../../src/catalog/layers.js';
import type { Bbox } from '../../../src/crs/registry.js';
import { matrixSetBbox, TILE_SIZE, type TileMatrixSet } from '../../../src/tiles/matrix-sets.js';
import type { MapStyle, Symbolizer } from '../../../src/render/style.js';
import { MVT_TYPE, WEB_MERCATOR_QUAD } from './mvt.js';

export const REL_TILING_SCHEME = 'http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme';
const MAX_ZOOM = WEB_MERCATOR_QUAD.matrices.length - 1;

/**
 * A tile matrix set in the 2D-TMS 2.0 JSON encoding, with the 1.0 (OGC 17-083r2) members beside it
 * (type, identifier, supportedCRS, boundingBox; per matrix identifier, topLeftCorner): GDAL 3.6's OGCAPI driver
 * reads only those (gcore/tilematrixset.cpp), and 2.0 readers ignore members they do not know.
 */
export function tileMatrixSetDocument(set: TileMatrixSet, base: string): Record<string, unknown> {
  const b = matrixSetBbox(set);
  return {
    type: 'TileMatrixSetType',
    identifier: set.id,
    supportedCRS: set.crsUri,
    boundingBox: { type: 'BoundingBoxType', crs: set.crsUri, lowerCorner: [b.minx, b.miny], upperCorner: [b.maxx, b.maxy] },
    id: set.id,
    title: set.title,
    ...(set.uri ? { uri: set.uri } : {}),
    crs: set.crsUri,
    orderedAxes: ['E', 'N'],
    ...(set.wellKnownScaleSet ? { wellKnownScaleSet: 'http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible' } : {}),
    links: [{ rel: 'self', type: 'application/json', href: `${base}/tileMatrixSets/${set.id}` }],
    tileMatrices: set.matrices.map((m) => ({
      type: 'TileMatrixType',
      identifier: m.id,
      topLeftCorner: set.origin,
      id: m.id,
      scaleDenominator: m.scaleDenominator,
      cellSize: m.cellSize,
      cornerOfOrigin: 'topLeft',
      pointOfOrigin: set.origin,
      tileWidth: TILE_SIZE,
      tileHeight: TILE_SIZE,
      matrixWidth: m.matrixWidth,
      matrixHeight: m.matrixHeight,
    })),
  };
}

/** JSON Schema of a column as a vector tile carries it (mvt-sql.ts: unsupported types as text). */
function propertySchema(c: Pick<LayerColumn, 'kind'>): Record<string, unknown> {
  switch (c.kind) {
    case 'integer':
    case 'bigint':
      return { type: 'integer' };
    case 'number':
      return { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    default:
      return { type: 'string' };
  }
}

function geometryDimension(type: string): number | undefined {
  const t = type.toUpperCase();
  if (t.includes('POINT')) return 0;
  if (t.includes('LINE')) return 1;
  if (t.includes('POLYGON')) return 2;
  return undefined;
}

/** The tileset list of a collection (§7.4): one vector tileset, in WebMercatorQuad. */
export function tilesetList(layer: Layer, collectionUrl: string, base: string): Record<string, unknown> {
  return {
    links: [{ rel: 'self', type: 'application/json', href: `${collectionUrl}/tiles` }],
    tilesets: [
      {
        title: `${layer.title} (WebMercatorQuad)`,
        dataType: 'vector',
        crs: WEB_MERCATOR_QUAD.crsUri,
        tileMatrixSetURI: WEB_MERCATOR_QUAD.uri,
        links: [
          { rel: 'self', type: 'application/json', href: `${collectionUrl}/tiles/WebMercatorQuad` },
          { rel: REL_TILING_SCHEME, type: 'application/json', href: `${base}/tileMatrixSets/WebMercatorQuad` },
        ],
      },
    ],
  };
}

/** The tileset metadata (§7.5): the tile URL template, the layer and its properties, the bounding box. */
export function tilesetMetadata(layer: Layer, collectionUrl: string, base: string, wgs84: Bbox | null): Record<string, unknown> {
  const dim = geometryDimension(layer.geometry!.type);
  const properties: Record<string, unknown> = { [layer.idColumn]: propertySchema({ kind: layer.idKind }) };
  for (const c of layer.columns) properties[c.name] = propertySchema(c);
  return {
    title: layer.title,
    ...(layer.abstract ? { description: layer.abstract } : {}),
    dataType: 'vector',
    crs: WEB_MERCATOR_QUAD.crsUri,
    tileMatrixSetURI: WEB_MERCATOR_QUAD.uri,
    links: [
      { rel: 'self', type: 'application/json', href: `${collectionUrl}/tiles/WebMercatorQuad` },
      { rel: REL_TILING_SCHEME, type: 'application/json', href: `${base}/tileMatrixSets/WebMercatorQuad` },
      { rel: 'item', type: MVT_TYPE, templated: true, href: `${collectionUrl}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}` },
    ],
    ...(wgs84 ? { boundingBox: { lowerLeft: [wgs84.minx, wgs84.miny], upperRight: [wgs84.maxx, wgs84.maxy], crs: 'http://www.opengis.net/def/crs/OGC/1.3/CRS84' } } : {}),
    layers: [
      {
        id: layer.name,
        title: layer.title,
        dataType: 'vector',
        ...(dim !== undefined ? { geometryDimension: dim } : {}),
        minTileMatrix: '0',
        maxTileMatrix: String(MAX_ZOOM),
        propertiesSchema: { type: 'object', properties },
      },
    ],
  };
}

/** TileJSON 3.0.0 of a layer's plain tile URL. */
export function tileJson(layer: Layer, tilesUrl: string, wgs84: Bbox | null): Record<string, unknown> {
  const fields: Record<string, string> = { [layer.idColumn]: 'Number' };
  if (propertySchema({ kind: layer.idKind }).type === 'string') fields[layer.idColumn] = 'String';
  for (const c of layer.columns) {
    const t = propertySchema(c).type;
    fields[c.name] = t === 'integer' || t === 'number' ? 'Number' : t === 'boolean' ? 'Boolean' : 'String';
  }
  const doc: Record<string, unknown> = {
    tilejson: '3.0.0',
    name: layer.title,
    ...(layer.abstract ? { description: layer.abstract } : {}),
    scheme: 'xyz',
    tiles: [`${tilesUrl}/{z}/{x}/{y}.pbf`],
    minzoom: 0,
    maxzoom: MAX_ZOOM,
    vector_layers: [{ id: layer.name, description: layer.title, minzoom: 0, maxzoom: MAX_ZOOM, fields }],
  };
  if (wgs84) {
    doc.bounds = [wgs84.minx, wgs84.miny, wgs84.maxx, wgs84.maxy];
    doc.center = [(wgs84.minx + wgs84.maxx) / 2, (wgs84.miny + wgs84.maxy) / 2, 8];
  }
  return doc;
}

/**
 * The colours of a layer's default style for a browser drawing its vector tiles (the viewer, issue 9): for each
 * kind of geometry, the first symbolizer of that kind in the style, preferring a rule for every feature at every
 * scale (no filter, no scale range) — a rule-based style is more than a client without the filter compiler can
 * draw, and its unfiltered or first class is the layer's look. Colours `#rrggbb` with their opacity, widths and
 * sizes in pixels, as stored (src/render/style.ts). A kind the style does not draw is left out.
 */
export function simpleStyle(layer: Layer, style: MapStyle): Record<string, unknown> {
  const rules = [...style.rules.filter((r) => !r.filter && !r.else && r.minScale === undefined && r.maxScale === undefined), ...style.rules];
  const first = <K extends Symbolizer['kind']>(kind: K) => rules.flatMap((r) => r.symbolizers).find((s): s is Extract<Symbolizer, { kind: K }> => s.kind === kind);
  const polygon = first('polygon');
  const line = first('line');
  const point = first('point');
  return {
    id: layer.name,
    style: style.name,
    title: style.title,
    ...(polygon ? { polygon: { ...(polygon.fill ? { fill: polygon.fill } : {}), ...(polygon.stroke ? { stroke: polygon.stroke } : {}) } } : {}),
    ...(line ? { line: { stroke: line.stroke } } : {}),
    ...(point ? { point: { size: point.size, ...(point.fill ? { fill: point.fill } : {}), ...(point.stroke ? { stroke: point.stroke } : {}) } } : {}),
  };
}
