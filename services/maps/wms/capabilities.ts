/**
 * WMS 1.3.0 GetCapabilities (OGC 06-042 §7.2.4), valid against capabilities_1_3_0.xsd: the platform's
 * service description, GetMap and GetFeatureInfo with operation URLs ending in `?` (CITE checks the URL
 * prefix), the exception formats, and a root Layer titled with the platform's title holding one named
 * Layer per published vector layer the caller may view, its style's LegendURL a GetLegendGraphic request.
 *
 * CRS inheritance: the root lists the CRSs every layer offers (and CRS:84); a layer adds those only it
 * offers. BoundingBox per CRS in that CRS's axis order (EPSG:4326 is lat/lon in 1.3.0, CRS:84 lon/lat),
 * written only where the CRS's area of use covers the layer. Elements are unprefixed in the WMS default
 * namespace: QGIS parses capabilities without namespace processing.
 */
import { xmlEscape as x, XML_DECLARATION } from '../../../src/xml/escape.js';
import { layerExtent, layerExtentWgs84 } from '../../../src/catalog/extent.js';
import { areaOfUse, axisIsNorthingFirst, isGeographic } from '../../../src/crs/facts.js';
import type { Layer } from '../../../src/catalog/layers.js';
import type { Bbox } from '../../../src/crs/registry.js';
import { StyleStore } from '../../../src/styles/store.js';
import { legendSize } from '../../../src/render/legend.js';
import type { WmsContext } from './context.js';
import { LEGEND_SIZE, MAP_FORMATS } from './kvp-reader.js';
import { FEATURE_INFO_FORMATS } from './feature-info-formats.js';

interface LayerFacts {
  layer: Layer;
  crs: number[];
  wgs84: Bbox | null;
  native: Bbox | null;
}

const href = (url: string) => `<OnlineResource xlink:type="simple" xlink:href="${x(url)}"/>`;

function operation(name: string, formats: string[], url: string): string {
  return `<${name}>${formats.map((f) => `<Format>${x(f)}</Format>`).join('')}<DCPType><HTTP><Get>${href(url)}</Get></HTTP></DCPType></${name}>`;
}

function keywords(list: string[]): string {
  return list.length ? `<KeywordList>${list.map((k) => `<Keyword>${x(k)}</Keyword>`).join('')}</KeywordList>` : '';
}

function exGeographic(b: Bbox): string {
  const c = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  return (
    `<EX_GeographicBoundingBox><westBoundLongitude>${c(b.minx, -180, 180)}</westBoundLongitude><eastBoundLongitude>${c(b.maxx, -180, 180)}</eastBoundLongitude>` +
    `<southBoundLatitude>${c(b.miny, -90, 90)}</southBoundLatitude><northBoundLatitude>${c(b.maxy, -90, 90)}</northBoundLatitude></EX_GeographicBoundingBox>`
  );
}

function round(v: number, geographic: boolean): number {
  const f = geographic ? 1e6 : 1e2;
  return Math.round(v * f) / f;
}

/** `<BoundingBox>` in the CRS's own axis order, or '' when the CRS's area of use does not cover the layer. */
function boundingBox(ctx: WmsContext, f: LayerFacts, srid: number): string {
  if (!f.native || !f.wgs84 || !f.layer.geometry) return '';
  const area = areaOfUse(srid);
  const w = f.wgs84;
  if (area && (w.minx < area.minx - 1e-6 || w.maxx > area.maxx + 1e-6 || w.miny < area.miny - 1e-6 || w.maxy > area.maxy + 1e-6)) return '';
  let b: Bbox;
  try {
    b = srid === 4326 ? w : ctx.platform.crs.transformBbox(f.native, f.layer.geometry.srid, srid);
  } catch {
    return '';
  }
  if (![b.minx, b.miny, b.maxx, b.maxy].every(Number.isFinite)) return '';
  const g = isGeographic(srid);
  const [minx, miny, maxx, maxy] = axisIsNorthingFirst(srid) ? [b.miny, b.minx, b.maxy, b.maxx] : [b.minx, b.miny, b.maxx, b.maxy];
  return `<BoundingBox CRS="EPSG:${srid}" minx="${round(minx, g)}" miny="${round(miny, g)}" maxx="${round(maxx, g)}" maxy="${round(maxy, g)}"/>`;
}

function crs84Box(b: Bbox): string {
  return `<BoundingBox CRS="CRS:84" minx="${b.minx}" miny="${b.miny}" maxx="${b.maxx}" maxy="${b.maxy}"/>`;
}

function union(boxes: Array<Bbox | null>): Bbox | null {
  const bs = boxes.filter((b): b is Bbox => !!b);
  if (!bs.length) return null;
  return { minx: Math.min(...bs.map((b) => b.minx)), miny: Math.min(...bs.map((b) => b.miny)), maxx: Math.max(...bs.map((b) => b.maxx)), maxy: Math.max(...bs.map((b) => b.maxy)) };
}

function metadataUrl(ctx: WmsContext, l: Layer): string {
  if (!l.metadataIdentifier) return '';
  const url = `${ctx.baseUrl}/csw?service=CSW&version=2.0.2&request=GetRecordById&outputSchema=http://www.isotc211.org/2005/gmd&elementSetName=full&id=${encodeURIComponent(l.metadataIdentifier)}`;
  return `<MetadataURL type="ISO19115:2003"><Format>application/xml</Format>${href(url)}</MetadataURL>`;
}

export async function capabilities(ctx: WmsContext): Promise<string> {
  const { platform } = ctx;
  const service = platform.config.service;
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
  // A caller authenticated by an access_token in the URL gets it in the URLs it will follow (GetMap, GetFeatureInfo,
  // legends): QGIS takes them from here and cannot add a header (issue 11). The answer is private, never cached.
  const url = `${ctx.serviceUrl}?${ctx.urlToken ? `access_token=${encodeURIComponent(ctx.urlToken)}&` : ''}`;

  let s = XML_DECLARATION;
  s += `<WMS_Capabilities version="1.3.0" xmlns="http://www.opengis.net/wms" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/wms http://schemas.opengis.net/wms/1.3.0/capabilities_1_3_0.xsd">`;
  s += `<Service><Name>WMS</Name><Title>${x(service.title)}</Title><Abstract>${x(service.abstract)}</Abstract>${keywords(service.keywords)}${href(ctx.serviceUrl)}`;
  s += `<ContactInformation><ContactElectronicMailAddress>${x(service.contactEmail)}</ContactElectronicMailAddress></ContactInformation>`;
  s += `<Fees>${x(service.fees)}</Fees><AccessConstraints>${x(service.accessConstraints)}</AccessConstraints>`;
  s += `<LayerLimit>${ctx.settings.layerLimit}</LayerLimit><MaxWidth>${ctx.settings.maxWidth}</MaxWidth><MaxHeight>${ctx.settings.maxHeight}</MaxHeight></Service>`;
  s += '<Capability><Request>';
  s += operation('GetCapabilities', ['text/xml'], url);
  s += operation('GetMap', Object.keys(MAP_FORMATS), url);
  if (FEATURE_INFO_FORMATS.length) s += operation('GetFeatureInfo', FEATURE_INFO_FORMATS, url);
  s += '</Request><Exception><Format>XML</Format><Format>INIMAGE</Format><Format>BLANK</Format></Exception>';

  const rootWgs84 = union(facts.map((f) => f.wgs84));
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
      const legend = `${url}SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&SLD_VERSION=1.1.0&LAYER=${encodeURIComponent(l.name)}&STYLE=${encodeURIComponent(st.name)}&FORMAT=image/png`;
      const size = legendSize(st.rules, LEGEND_SIZE, LEGEND_SIZE);
      s += `<Style><Name>${x(st.name)}</Name><Title>${x(st.title)}</Title>${st.abstract ? `<Abstract>${x(st.abstract)}</Abstract>` : ''}<LegendURL width="${size.width}" height="${size.height}"><Format>image/png</Format>${href(legend)}</LegendURL></Style>`;
    }
    s += '</Layer>';
  }
  s += '</Layer></Capability></WMS_Capabilities>\n';
  return s;
}
