/**
 * WMTS 1.0.0 GetCapabilities (OGC 07-057r7 §7.1.1.2), valid against wmtsGetCapabilities_response.xsd:
 * ServiceIdentification and ServiceProvider from the platform's description; OperationsMetadata with the KVP
 * endpoint (ending in `?`, GetEncoding KVP: GetCapabilities, GetTile, GetFeatureInfo); one Layer per published vector layer, then per raster layer, the caller may view, with
 * its WGS84BoundingBox (GDAL and QGIS take the layer's extent from it), its stored styles (the default first,
 * isDefault), PNG and JPEG, the GetFeatureInfo formats (InfoFormat), a link to each tile matrix set, and the RESTful ResourceURL template of each format
 * (§10.2), tiles and FeatureInfo (resourceType="FeatureInfo", one per InfoFormat, …/{TileCol}/{J}/{I}.{ext}); then the tile matrix sets (src/tiles/matrix-sets.ts).
 *
 * TileMatrixSetLimits per layer and set (§7.1.1.2.2, Table 10): the rows and columns of the tiles the layer's extent
 * touches at each level, so that clients ask only for tiles holding data. The official XSD types
 * MaxTileRow/MaxTileCol as xs:positiveInteger, so a level where the extent lies in row 0 or column 0 only (the
 * first levels, one or two tiles) cannot be written validly: those levels are left out of the limits, and
 * clients (GDAL, QGIS) read a level without limits as unlimited; a tile outside the data there is simply empty.
 */
import { xmlEscape as x, XML_DECLARATION } from '../../../src/xml/escape.js';
import { layerExtentWgs84 } from '../../../src/catalog/extent.js';
import type { Layer } from '../../../src/catalog/layers.js';
import type { Platform } from '../../../src/platform.js';
import { StyleStore } from '../../../src/styles/store.js';
import { RasterStyleStore } from '../../../src/styles/raster-store.js';
import type { RasterLayer } from '../../../src/catalog/rasters.js';
import { TILE_MATRIX_SETS, TILE_SIZE, matrixSetBbox, tileRange, type TileMatrixSet } from '../../../src/tiles/matrix-sets.js';
import type { Bbox } from '../../../src/crs/registry.js';
import { INFO_EXTENSIONS, TILE_FORMATS, WMTS_VERSION } from './request.js';
import { FEATURE_INFO_FORMATS } from '../wms/feature-info-formats.js';

export interface WmtsCapabilitiesContext {
  platform: Platform;
  /** Public URL of the WMTS KVP endpoint, without query string. */
  serviceUrl: string;
  layers: Layer[];
  /** Raster layers the caller may view (listed after the vector layers). */
  rasters?: RasterLayer[];
}

const num = (v: number) => String(Math.round(v * 1e8) / 1e8);

function operation(name: string, url: string): string {
  return (
    `<ows:Operation name="${name}"><ows:DCP><ows:HTTP><ows:Get xlink:href="${x(url)}">` +
    `<ows:Constraint name="GetEncoding"><ows:AllowedValues><ows:Value>KVP</ows:Value></ows:AllowedValues></ows:Constraint>` +
    `</ows:Get></ows:HTTP></ows:DCP></ows:Operation>`
  );
}

function matrixSet(set: TileMatrixSet): string {
  const b = matrixSetBbox(set);
  let s = `<TileMatrixSet><ows:Title>${x(set.title)}</ows:Title><ows:Identifier>${x(set.id)}</ows:Identifier>`;
  s += `<ows:BoundingBox crs="${set.crsUrn}"><ows:LowerCorner>${num(b.minx)} ${num(b.miny)}</ows:LowerCorner><ows:UpperCorner>${num(b.maxx)} ${num(b.maxy)}</ows:UpperCorner></ows:BoundingBox>`;
  s += `<ows:SupportedCRS>${set.crsUrn}</ows:SupportedCRS>`;
  if (set.wellKnownScaleSet) s += `<WellKnownScaleSet>${set.wellKnownScaleSet}</WellKnownScaleSet>`;
  for (const m of set.matrices) {
    s +=
      `<TileMatrix><ows:Identifier>${m.id}</ows:Identifier><ScaleDenominator>${num(m.scaleDenominator)}</ScaleDenominator>` +
      `<TopLeftCorner>${num(set.origin[0])} ${num(set.origin[1])}</TopLeftCorner><TileWidth>${TILE_SIZE}</TileWidth><TileHeight>${TILE_SIZE}</TileHeight>` +
      `<MatrixWidth>${m.matrixWidth}</MatrixWidth><MatrixHeight>${m.matrixHeight}</MatrixHeight></TileMatrix>`;
  }
  return s + '</TileMatrixSet>';
}

/**
 * A layer's TileMatrixSetLimits in a set, from its WGS 84 extent (lon/lat): '' when the extent cannot be
 * expressed in the set's CRS or touches no level validly writable (see the header).
 */
export function matrixSetLimits(platform: Platform, set: TileMatrixSet, wgs84: Bbox): string {
  let box: Bbox;
  try {
    box = platform.crs.transformBbox(wgs84, 4326, set.srid);
  } catch {
    return '';
  }
  if (![box.minx, box.miny, box.maxx, box.maxy].every(Number.isFinite)) return '';
  let s = '';
  for (const m of set.matrices) {
    const r = tileRange(set, m, box);
    if (!r || r.maxRow < 1 || r.maxCol < 1) continue;
    s += `<TileMatrixLimits><TileMatrix>${m.id}</TileMatrix><MinTileRow>${r.minRow}</MinTileRow><MaxTileRow>${r.maxRow}</MaxTileRow><MinTileCol>${r.minCol}</MinTileCol><MaxTileCol>${r.maxCol}</MaxTileCol></TileMatrixLimits>`;
  }
  return s ? `<TileMatrixSetLimits>${s}</TileMatrixSetLimits>` : '';
}

/** The RESTful tile URL template of a layer and format (§10.2.1), under the KVP endpoint's path. */
export function restTemplate(serviceUrl: string, layer: string, ext: string): string {
  return `${serviceUrl}/${WMTS_VERSION}/${encodeURIComponent(layer)}/{Style}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}.${ext}`;
}

/** The RESTful FeatureInfo URL template of a layer and info format (§10.2.1: the tile's path, then {J}/{I}). */
export function restInfoTemplate(serviceUrl: string, layer: string, ext: string): string {
  return `${serviceUrl}/${WMTS_VERSION}/${encodeURIComponent(layer)}/{Style}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}/{J}/{I}.${ext}`;
}

export async function wmtsCapabilities(ctx: WmtsCapabilitiesContext): Promise<string> {
  const { platform } = ctx;
  const service = platform.config.service;
  const styles = await new StyleStore(platform.pool).forLayers(ctx.layers);
  const url = `${ctx.serviceUrl}?`;
  let s = XML_DECLARATION;
  s += `<Capabilities version="${WMTS_VERSION}" xmlns="http://www.opengis.net/wmts/1.0" xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:gml="http://www.opengis.net/gml" xsi:schemaLocation="http://www.opengis.net/wmts/1.0 http://schemas.opengis.net/wmts/1.0/wmtsGetCapabilities_response.xsd">`;
  s += `<ows:ServiceIdentification><ows:Title>${x(service.title)}</ows:Title><ows:Abstract>${x(service.abstract)}</ows:Abstract>`;
  if (service.keywords.length) s += `<ows:Keywords>${service.keywords.map((k) => `<ows:Keyword>${x(k)}</ows:Keyword>`).join('')}</ows:Keywords>`;
  s += `<ows:ServiceType>OGC WMTS</ows:ServiceType><ows:ServiceTypeVersion>${WMTS_VERSION}</ows:ServiceTypeVersion><ows:Fees>${x(service.fees)}</ows:Fees><ows:AccessConstraints>${x(service.accessConstraints)}</ows:AccessConstraints></ows:ServiceIdentification>`;
  s += `<ows:ServiceProvider><ows:ProviderName>${x(service.providerName)}</ows:ProviderName><ows:ProviderSite xlink:href="${x(service.providerSite)}"/><ows:ServiceContact><ows:ContactInfo><ows:Address><ows:ElectronicMailAddress>${x(service.contactEmail)}</ows:ElectronicMailAddress></ows:Address></ows:ContactInfo></ows:ServiceContact></ows:ServiceProvider>`;
  s += `<ows:OperationsMetadata>${operation('GetCapabilities', url)}${operation('GetTile', url)}${operation('GetFeatureInfo', url)}</ows:OperationsMetadata>`;
  s += '<Contents>';
  const rasters = ctx.rasters ?? [];
  const rasterStyles = await new RasterStyleStore(platform.pool).forRasters(rasters.map((r) => r.name));
  const entries: Array<{ l: Pick<Layer, 'name' | 'title' | 'abstract' | 'keywords'>; wgs84: Bbox | null; styles: Array<{ name: string; title: string }> }> = [];
  for (const l of ctx.layers) entries.push({ l, wgs84: await layerExtentWgs84(platform.pool, l), styles: styles.get(l.name) ?? [] });
  for (const r of rasters) {
    const [w, so, e, n] = r.extent4326;
    entries.push({ l: r, wgs84: { minx: w, miny: so, maxx: e, maxy: n }, styles: rasterStyles.get(r.name) ?? [] });
  }
  for (const { l, wgs84, styles: offered } of entries) {
    s += `<Layer><ows:Title>${x(l.title)}</ows:Title>`;
    if (l.abstract) s += `<ows:Abstract>${x(l.abstract)}</ows:Abstract>`;
    if (l.keywords.length) s += `<ows:Keywords>${l.keywords.map((k) => `<ows:Keyword>${x(k)}</ows:Keyword>`).join('')}</ows:Keywords>`;
    if (wgs84) s += `<ows:WGS84BoundingBox crs="urn:ogc:def:crs:OGC:2:84"><ows:LowerCorner>${num(wgs84.minx)} ${num(wgs84.miny)}</ows:LowerCorner><ows:UpperCorner>${num(wgs84.maxx)} ${num(wgs84.maxy)}</ows:UpperCorner></ows:WGS84BoundingBox>`;
    s += `<ows:Identifier>${x(l.name)}</ows:Identifier>`;
    offered.forEach((st, i) => {
      s += `<Style isDefault="${i === 0}"><ows:Title>${x(st.title)}</ows:Title><ows:Identifier>${x(st.name)}</ows:Identifier></Style>`;
    });
    s += Object.keys(TILE_FORMATS).map((f) => `<Format>${f}</Format>`).join('');
    s += FEATURE_INFO_FORMATS.map((f) => `<InfoFormat>${f}</InfoFormat>`).join('');
    for (const set of TILE_MATRIX_SETS) s += `<TileMatrixSetLink><TileMatrixSet>${set.id}</TileMatrixSet>${wgs84 ? matrixSetLimits(platform, set, wgs84) : ''}</TileMatrixSetLink>`;
    for (const [mime, f] of Object.entries(TILE_FORMATS)) s += `<ResourceURL format="${mime}" resourceType="tile" template="${x(restTemplate(ctx.serviceUrl, l.name, f.ext))}"/>`;
    for (const [mime, ext] of Object.entries(INFO_EXTENSIONS)) s += `<ResourceURL format="${mime}" resourceType="FeatureInfo" template="${x(restInfoTemplate(ctx.serviceUrl, l.name, ext))}"/>`;
    s += '</Layer>';
  }
  s += TILE_MATRIX_SETS.map(matrixSet).join('');
  s += '</Contents></Capabilities>\n';
  return s;
}
