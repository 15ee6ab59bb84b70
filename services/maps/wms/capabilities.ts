/**
 * WMS 1.3.0 GetCapabilities (OGC 06-042 §7.2.4), valid against capabilities_1_3_0.xsd: the platform's
 * service description, GetMap and GetFeatureInfo with operation URLs ending in `?` (CITE checks the URL
 * prefix), the exception formats, and a root Layer titled with the platform's title holding one named
 * Layer per published vector layer the caller may view, its style's LegendURL a GetLegendGraphic request.
 *
 * CRS inheritance: the root lists the CRSs every layer offers (and CRS:84); a layer adds those only it
 * offers. BoundingBox per CRS in that CRS's axis order (EPSG:4326 is lat/lon in 1.3.0, CRS:84 lon/lat),
 * written only where the CRS's area of use covers the layer. Elements are unprefixed in the WMS default
 * namespace: QGIS parses capabilities without namespace processing. The INSPIRE view service extended
 * capabilities (inspire.ts) follow the Exception element.
 */
import { xmlEscape as x, XML_DECLARATION } from '../../../src/xml/escape.js';
import { layerExtent, layerExtentWgs84 } from '../../../src/catalog/extent.js';
import { areaOfUse, axisIsNorthingFirst, isGeographic } from '../../../src/crs/facts.js';
import type { Layer } from '../../../src/catalog/layers.js';
import type { RasterLayer } from '../../../src/catalog/rasters.js';
import type { Bbox } from '../../../src/crs/registry.js';
import { StyleStore } from '../../../src/styles/store.js';
import { colorMapLegendSize, legendSize, rampLegendSize } from '../../../src/render/legend.js';
import type { RasterStyle } from '../../../src/render/raster-style.js';
import { RasterStyleStore } from '../../../src/styles/raster-store.js';
import { bandRange, isImagery } from '../../../src/render/raster.js';
import type { WmsContext } from './context.js';
import { LEGEND_SIZE, MAP_FORMAT_LIST } from './kvp-reader.js';
import { FEATURE_INFO_FORMATS } from './feature-info-formats.js';
import { INSPIRE_COMMON_NS, INSPIRE_VS_NS, INSPIRE_VS_XSD, inspireViewExtendedCapabilities, WMS_DEFAULT_LANGUAGE } from './inspire.js';

export interface LayerFacts {
  layer: Layer;
  crs: number[];
  wgs84: Bbox | null;
  native: Bbox | null;
}

const href = (url: string) => `<OnlineResource xlink:type="simple" xlink:href="${x(url)}"/>`;

function operation(name: string, formats: string[], url: string): string {
  return `<${name}>${formats.map((f) => `<Format>${x(f)}</Format>`).join('')}<DCPType><HTTP><Get>${href(url)}</Get></HTTP></DCPType></${name}>`;
}

/** A KeywordList, the same in WMS 1.1.1 and 1.3.0. */
export function keywords(list: string[]): string {
  return list.length ? `<KeywordList>${list.map((k) => `<Keyword>${x(k)}</Keyword>`).join('')}</KeywordList>` : '';
}

function exGeographic(b: Bbox): string {
  const c = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  return (
    `<EX_GeographicBoundingBox><westBoundLongitude>${c(b.minx, -180, 180)}</westBoundLongitude><eastBoundLongitude>${c(b.maxx, -180, 180)}</eastBoundLongitude>` +
    `<southBoundLatitude>${c(b.miny, -90, 90)}</southBoundLatitude><northBoundLatitude>${c(b.maxy, -90, 90)}</northBoundLatitude></EX_GeographicBoundingBox>`
  );
}

export function round(v: number, geographic: boolean): number {
  const f = geographic ? 1e6 : 1e2;
  return Math.round(v * f) / f;
}

/** A raster layer as the capabilities list it: its CRSs (the offered ones; GDAL warps to each) and boxes. */
export interface RasterFacts {
  raster: RasterLayer;
  crs: number[];
  wgs84: Bbox;
  native: Bbox;
  /** Its styles (src/styles/raster-store.ts), its default first, each with the size of its legend (undefined: none). */
  styles: Array<{ style: RasterStyle; legend: { width: number; height: number } | undefined }>;
}

export async function rasterFacts(ctx: WmsContext): Promise<RasterFacts[]> {
  const offered = await new RasterStyleStore(ctx.platform.pool).forRasters(ctx.rasters.map((r) => r.name));
  return Promise.all(
    ctx.rasters.map(async (r) => {
      const [minx, miny, maxx, maxy] = r.extent;
      const [w, s, e, n] = r.extent4326;
      const styles = await Promise.all(
        (offered.get(r.name) ?? []).map(async (style) => {
          // Imagery is drawn in its own colours: no legend. A colour map's legend lists its entries; the ramp's
          // size depends on the band's range (its values are written beside it).
          if (isImagery(r)) return { style, legend: undefined };
          if (style.colorMap) return { style, legend: colorMapLegendSize(style.colorMap, LEGEND_SIZE, LEGEND_SIZE) };
          try {
            return { style, legend: rampLegendSize(await bandRange(r), LEGEND_SIZE, LEGEND_SIZE) };
          } catch {
            return { style, legend: undefined }; // an unreadable file: listed without a legend; its maps answer the error
          }
        }),
      );
      return { raster: r, crs: ctx.platform.crs.layerCrs(r.srid, null), wgs84: { minx: w, miny: s, maxx: e, maxy: n }, native: { minx, miny, maxx, maxy }, styles };
    }),
  );
}


/** The Style elements of a raster layer (WMS 1.3.0 §7.2.4.6.5, 1.1.1 the same), each with its LegendURL when it has a legend. */
export function rasterStylesXml(operationUrl: string, version: string, f: RasterFacts, href: (url: string) => string): string {
  return f.styles
    .map(({ style, legend }) => {
      const url = legend ? `<LegendURL width="${legend.width}" height="${legend.height}"><Format>image/png</Format>${href(legendHref(operationUrl, version, f.raster.name, style.name))}</LegendURL>` : '';
      return `<Style><Name>${x(style.name)}</Name><Title>${x(style.title)}</Title>${style.abstract ? `<Abstract>${x(style.abstract)}</Abstract>` : ''}${url}</Style>`;
    })
    .join('');
}

/** The layer's box in a CRS (x/y), or undefined when the CRS's area of use does not cover the layer. */
export function layerBoxIn(ctx: WmsContext, f: LayerFacts, srid: number): Bbox | undefined {
  if (!f.layer.geometry) return undefined;
  return boxIn(ctx, f.native, f.layer.geometry.srid, f.wgs84, srid);
}

/** A box (native CRS, and WGS 84) in another CRS, or undefined when that CRS's area of use does not cover it. */
export function boxIn(ctx: WmsContext, native: Bbox | null, nativeSrid: number, wgs84: Bbox | null, srid: number): Bbox | undefined {
  if (!native || !wgs84) return undefined;
  const area = areaOfUse(srid);
  const w = wgs84;
  if (area && (w.minx < area.minx - 1e-6 || w.maxx > area.maxx + 1e-6 || w.miny < area.miny - 1e-6 || w.maxy > area.maxy + 1e-6)) return undefined;
  let b: Bbox;
  try {
    b = srid === 4326 ? w : srid === nativeSrid ? native : ctx.platform.crs.transformBbox(native, nativeSrid, srid);
  } catch {
    return undefined;
  }
  return [b.minx, b.miny, b.maxx, b.maxy].every(Number.isFinite) ? b : undefined;
}

/** `<BoundingBox>` in the CRS's own axis order, or '' when the CRS's area of use does not cover the layer. */
function boundingBox(ctx: WmsContext, f: LayerFacts | RasterFacts, srid: number): string {
  const b = 'layer' in f ? layerBoxIn(ctx, f, srid) : boxIn(ctx, f.native, f.raster.srid, f.wgs84, srid);
  if (!b) return '';
  const g = isGeographic(srid);
  const [minx, miny, maxx, maxy] = axisIsNorthingFirst(srid) ? [b.miny, b.minx, b.maxy, b.maxx] : [b.minx, b.miny, b.maxx, b.maxy];
  return `<BoundingBox CRS="EPSG:${srid}" minx="${round(minx, g)}" miny="${round(miny, g)}" maxx="${round(maxx, g)}" maxy="${round(maxy, g)}"/>`;
}

function crs84Box(b: Bbox): string {
  return `<BoundingBox CRS="CRS:84" minx="${b.minx}" miny="${b.miny}" maxx="${b.maxx}" maxy="${b.maxy}"/>`;
}

export function union(boxes: Array<Bbox | null>): Bbox | null {
  const bs = boxes.filter((b): b is Bbox => !!b);
  if (!bs.length) return null;
  return { minx: Math.min(...bs.map((b) => b.minx)), miny: Math.min(...bs.map((b) => b.miny)), maxx: Math.max(...bs.map((b) => b.maxx)), maxy: Math.max(...bs.map((b) => b.maxy)) };
}

/** The catalogue record of a layer (CSW GetRecordById, ISO 19139), or undefined when it has none. */
export function metadataRecordUrl(ctx: WmsContext, l: Pick<Layer, 'metadataIdentifier'>): string | undefined {
  if (!l.metadataIdentifier) return undefined;
  return `${ctx.baseUrl}/csw?service=CSW&version=2.0.2&request=GetRecordById&outputSchema=http://www.isotc211.org/2005/gmd&elementSetName=full&id=${encodeURIComponent(l.metadataIdentifier)}`;
}

function metadataUrl(ctx: WmsContext, l: Pick<Layer, 'metadataIdentifier'>): string {
  const url = metadataRecordUrl(ctx, l);
  return url ? `<MetadataURL type="ISO19115:2003"><Format>application/xml</Format>${href(url)}</MetadataURL>` : '';
}

/** The GetLegendGraphic request a style's LegendURL names. */
export function legendHref(operationUrl: string, version: string, layer: string, style: string): string {
  return `${operationUrl}SERVICE=WMS&VERSION=${version}&REQUEST=GetLegendGraphic&SLD_VERSION=1.1.0&LAYER=${encodeURIComponent(layer)}&STYLE=${encodeURIComponent(style)}&FORMAT=image/png`;
}

/** What both capabilities versions list: each layer's CRSs and boxes, the styles, the CRSs common to all layers. */
export async function capabilitiesFacts(ctx: WmsContext): Promise<{ facts: LayerFacts[]; styles: Awaited<ReturnType<StyleStore['forLayers']>>; common: number[] }> {
  const { platform } = ctx;
  const facts: LayerFacts[] = await Promise.all(
    ctx.layers.map(async (l) => ({
      layer: l,
      crs: platform.crs.layerCrs(l.geometry!.srid, l.otherCrs),
      wgs84: await layerExtentWgs84(platform.pool, l),
      native: await layerExtent(platform.pool, l),
    })),
  );
  const styles = await new StyleStore(platform.pool).forLayers(ctx.layers);
  const common = facts.length ? facts[0]!.crs.filter((c) => facts.every((f) => f.crs.includes(c))) : platform.crs.offered;
  return { facts, styles, common };
}

export async function capabilities(ctx: WmsContext, language = WMS_DEFAULT_LANGUAGE): Promise<string> {
  const service = ctx.platform.config.service;
  const { facts, styles, common } = await capabilitiesFacts(ctx);
  // A caller authenticated by an access_token in the URL gets it in the URLs it will follow (GetMap, GetFeatureInfo,
  // legends): QGIS takes them from here and cannot add a header (issue 11). The answer is private, never cached.
  const url = `${ctx.serviceUrl}?${ctx.urlToken ? `access_token=${encodeURIComponent(ctx.urlToken)}&` : ''}`;

  let s = XML_DECLARATION;
  s += `<WMS_Capabilities version="1.3.0" xmlns="http://www.opengis.net/wms" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:inspire_vs="${INSPIRE_VS_NS}" xmlns:inspire_common="${INSPIRE_COMMON_NS}" xsi:schemaLocation="http://www.opengis.net/wms http://schemas.opengis.net/wms/1.3.0/capabilities_1_3_0.xsd ${INSPIRE_VS_NS} ${INSPIRE_VS_XSD}">`;
  s += `<Service><Name>WMS</Name><Title>${x(service.title)}</Title><Abstract>${x(service.abstract)}</Abstract>${keywords(service.keywords)}${href(ctx.serviceUrl)}`;
  s += `<ContactInformation><ContactElectronicMailAddress>${x(service.contactEmail)}</ContactElectronicMailAddress></ContactInformation>`;
  s += `<Fees>${x(service.fees)}</Fees><AccessConstraints>${x(service.accessConstraints)}</AccessConstraints>`;
  s += `<LayerLimit>${ctx.settings.layerLimit}</LayerLimit><MaxWidth>${ctx.settings.maxWidth}</MaxWidth><MaxHeight>${ctx.settings.maxHeight}</MaxHeight></Service>`;
  s += '<Capability><Request>';
  s += operation('GetCapabilities', ['text/xml'], url);
  s += operation('GetMap', MAP_FORMAT_LIST.map((f) => f[0]), url);
  if (FEATURE_INFO_FORMATS.length) s += operation('GetFeatureInfo', FEATURE_INFO_FORMATS, url);
  s += '</Request><Exception><Format>XML</Format><Format>INIMAGE</Format><Format>BLANK</Format></Exception>';
  s += inspireViewExtendedCapabilities(ctx, language);

  const rasters = await rasterFacts(ctx);
  const rootWgs84 = union([...facts.map((f) => f.wgs84), ...rasters.map((f) => f.wgs84)]);
  s += `<Layer><Title>${x(service.title)}</Title><Abstract>${x(service.abstract)}</Abstract>${keywords(service.keywords)}`;
  s += common.map((c) => `<CRS>EPSG:${c}</CRS>`).join('') + '<CRS>CRS:84</CRS>';
  if (rootWgs84) s += exGeographic(rootWgs84) + crs84Box(rootWgs84);
  for (const f of facts) {
    const l = f.layer;
    s += `<Layer queryable="${FEATURE_INFO_FORMATS.length ? 1 : 0}" opaque="0"><Name>${x(l.name)}</Name><Title>${x(l.title)}</Title>`;
    if (l.abstract) s += `<Abstract>${x(l.abstract)}</Abstract>`;
    s += keywords(l.keywords);
    s += f.crs.filter((c) => !common.includes(c)).map((c) => `<CRS>EPSG:${c}</CRS>`).join('');
    if (f.wgs84) s += exGeographic(f.wgs84) + crs84Box(f.wgs84) + f.crs.map((c) => boundingBox(ctx, f, c)).join('');
    s += metadataUrl(ctx, l);
    // Each style the layer offers (its default first), its legend's size as GetLegendGraphic draws it.
    for (const st of styles.get(l.name) ?? []) {
      const legend = legendHref(url, '1.3.0', l.name, st.name);
      const size = legendSize(st.rules, LEGEND_SIZE, LEGEND_SIZE);
      s += `<Style><Name>${x(st.name)}</Name><Title>${x(st.title)}</Title>${st.abstract ? `<Abstract>${x(st.abstract)}</Abstract>` : ''}<LegendURL width="${size.width}" height="${size.height}"><Format>image/png</Format>${href(legend)}</LegendURL></Style>`;
    }
    s += '</Layer>';
  }
  // Raster layers: their styles (the ramp, or colour maps) and legends, queryable (their value at the pixel).
  for (const f of rasters) {
    const r = f.raster;
    s += `<Layer queryable="${FEATURE_INFO_FORMATS.length ? 1 : 0}" opaque="0"><Name>${x(r.name)}</Name><Title>${x(r.title)}</Title>`;
    if (r.abstract) s += `<Abstract>${x(r.abstract)}</Abstract>`;
    s += keywords(r.keywords);
    s += f.crs.filter((c) => !common.includes(c)).map((c) => `<CRS>EPSG:${c}</CRS>`).join('');
    s += exGeographic(f.wgs84) + crs84Box(f.wgs84) + f.crs.map((c) => boundingBox(ctx, f, c)).join('');
    s += metadataUrl(ctx, r);
    s += `${rasterStylesXml(url, '1.3.0', f, href)}</Layer>`;
  }
  s += '</Layer></Capability></WMS_Capabilities>\n';
  return s;
}
