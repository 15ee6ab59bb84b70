/**
 * WMS 1.1.1 GetCapabilities (OGC 01-068r3 §7.1 and annex A.1), valid against WMS_MS_Capabilities.dtd:
 * `WMT_MS_Capabilities`, served as application/vnd.ogc.wms_xml, for the clients that speak 1.1.1 (older
 * GIS, QGIS connections set to 1.1.1, OWSLib's default). The same service, layers, styles and legends as
 * the 1.3.0 document (capabilities.ts), with the 1.1.1 forms:
 * - `SRS` instead of `CRS`, inherited from the root layer the same way (§7.1.4.5.5);
 * - `LatLonBoundingBox` (lon/lat) instead of EX_GeographicBoundingBox, and `BoundingBox SRS=` always in
 *   x/y order: EPSG:4326 is lon/lat in 1.1.1 (§6.5.6), unlike 1.3.0;
 * - MetadataURL of type TC211 (the DTD knows only TC211 and FGDC);
 * - exception formats application/vnd.ogc.se_xml, se_inimage, se_blank;
 * - every OnlineResource declares the xlink namespace itself: the DTD defaults it, but parsers that do not
 *   read the DTD (OWSLib's ElementTree, QGIS) need it written.
 */
import { xmlEscape as x, XML_DECLARATION } from '../../../src/xml/escape.js';
import { isGeographic } from '../../../src/crs/facts.js';
import type { Bbox } from '../../../src/crs/registry.js';
import { legendSize } from '../../../src/render/legend.js';
import type { WmsContext } from './context.js';
import { LEGEND_SIZE, MAP_FORMAT_LIST } from './kvp-reader.js';
import { FEATURE_INFO_FORMATS } from './feature-info-formats.js';
import { boxIn, capabilitiesFacts, keywords, layerBoxIn, legendHref, metadataRecordUrl, rasterFacts, rasterStylesXml, round, union } from './capabilities.js';

export const CAPABILITIES_111_TYPE = 'application/vnd.ogc.wms_xml; charset=utf-8';

const href = (url: string) => `<OnlineResource xmlns:xlink="http://www.w3.org/1999/xlink" xlink:type="simple" xlink:href="${x(url)}"/>`;

function operation(name: string, formats: string[], url: string): string {
  return `<${name}>${formats.map((f) => `<Format>${x(f)}</Format>`).join('')}<DCPType><HTTP><Get>${href(url)}</Get></HTTP></DCPType></${name}>`;
}

function latLonBox(b: Bbox): string {
  const c = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  return `<LatLonBoundingBox minx="${c(b.minx, -180, 180)}" miny="${c(b.miny, -90, 90)}" maxx="${c(b.maxx, -180, 180)}" maxy="${c(b.maxy, -90, 90)}"/>`;
}

export async function capabilities111(ctx: WmsContext): Promise<string> {
  const service = ctx.platform.config.service;
  const { facts, styles, common } = await capabilitiesFacts(ctx);
  const url = `${ctx.serviceUrl}?${ctx.urlToken ? `access_token=${encodeURIComponent(ctx.urlToken)}&` : ''}`; // issue 11: a URL token is carried on (QGIS)

  let s = XML_DECLARATION;
  s += '<!DOCTYPE WMT_MS_Capabilities SYSTEM "http://schemas.opengis.net/wms/1.1.1/WMS_MS_Capabilities.dtd">';
  s += '<WMT_MS_Capabilities version="1.1.1">';
  // §7.1.4.2: the service name is "OGC:WMS" in 1.1.1.
  s += `<Service><Name>OGC:WMS</Name><Title>${x(service.title)}</Title><Abstract>${x(service.abstract)}</Abstract>${keywords(service.keywords)}${href(ctx.serviceUrl)}`;
  s += `<ContactInformation><ContactElectronicMailAddress>${x(service.contactEmail)}</ContactElectronicMailAddress></ContactInformation>`;
  s += `<Fees>${x(service.fees)}</Fees><AccessConstraints>${x(service.accessConstraints)}</AccessConstraints></Service>`;
  s += '<Capability><Request>';
  s += operation('GetCapabilities', ['application/vnd.ogc.wms_xml'], url);
  s += operation('GetMap', MAP_FORMAT_LIST.map((f) => f[0]), url);
  if (FEATURE_INFO_FORMATS.length) s += operation('GetFeatureInfo', FEATURE_INFO_FORMATS, url);
  s += operation('GetLegendGraphic', ['image/png'], url);
  s += '</Request><Exception><Format>application/vnd.ogc.se_xml</Format><Format>application/vnd.ogc.se_inimage</Format><Format>application/vnd.ogc.se_blank</Format></Exception>';
  // SLD_BODY with user styles for named layers is read on GetMap (SLD 1.0 / SE 1.1, styles.test.ts).
  s += '<UserDefinedSymbolization SupportSLD="1" UserLayer="0" UserStyle="1" RemoteWFS="0"/>';

  const rasters = await rasterFacts(ctx);
  const rootWgs84 = union([...facts.map((f) => f.wgs84), ...rasters.map((f) => f.wgs84)]);
  s += `<Layer><Title>${x(service.title)}</Title><Abstract>${x(service.abstract)}</Abstract>${keywords(service.keywords)}`;
  s += common.map((c) => `<SRS>EPSG:${c}</SRS>`).join('');
  if (rootWgs84) s += latLonBox(rootWgs84);
  for (const f of facts) {
    const l = f.layer;
    s += `<Layer queryable="${FEATURE_INFO_FORMATS.length ? 1 : 0}" opaque="0"><Name>${x(l.name)}</Name><Title>${x(l.title)}</Title>`;
    if (l.abstract) s += `<Abstract>${x(l.abstract)}</Abstract>`;
    s += keywords(l.keywords);
    s += f.crs.filter((c) => !common.includes(c)).map((c) => `<SRS>EPSG:${c}</SRS>`).join('');
    if (f.wgs84) {
      s += latLonBox(f.wgs84);
      for (const srid of f.crs) {
        const b = layerBoxIn(ctx, f, srid);
        const g = isGeographic(srid);
        if (b) s += `<BoundingBox SRS="EPSG:${srid}" minx="${round(b.minx, g)}" miny="${round(b.miny, g)}" maxx="${round(b.maxx, g)}" maxy="${round(b.maxy, g)}"/>`;
      }
    }
    const record = metadataRecordUrl(ctx, l);
    if (record) s += `<MetadataURL type="TC211"><Format>application/xml</Format>${href(record)}</MetadataURL>`;
    for (const st of styles.get(l.name) ?? []) {
      const size = legendSize(st.rules, LEGEND_SIZE, LEGEND_SIZE);
      s += `<Style><Name>${x(st.name)}</Name><Title>${x(st.title)}</Title>${st.abstract ? `<Abstract>${x(st.abstract)}</Abstract>` : ''}`;
      s += `<LegendURL width="${size.width}" height="${size.height}"><Format>image/png</Format>${href(legendHref(url, '1.1.1', l.name, st.name))}</LegendURL></Style>`;
    }
    s += '</Layer>';
  }
  for (const f of rasters) {
    const r = f.raster;
    s += `<Layer queryable="${FEATURE_INFO_FORMATS.length ? 1 : 0}" opaque="0"><Name>${x(r.name)}</Name><Title>${x(r.title)}</Title>`;
    if (r.abstract) s += `<Abstract>${x(r.abstract)}</Abstract>`;
    s += keywords(r.keywords);
    s += f.crs.filter((c) => !common.includes(c)).map((c) => `<SRS>EPSG:${c}</SRS>`).join('');
    s += latLonBox(f.wgs84);
    for (const srid of f.crs) {
      const b = boxIn(ctx, f.native, r.srid, f.wgs84, srid);
      const g = isGeographic(srid);
      if (b) s += `<BoundingBox SRS="EPSG:${srid}" minx="${round(b.minx, g)}" miny="${round(b.miny, g)}" maxx="${round(b.maxx, g)}" maxy="${round(b.maxy, g)}"/>`;
    }
    const record = metadataRecordUrl(ctx, r);
    if (record) s += `<MetadataURL type="TC211"><Format>application/xml</Format>${href(record)}</MetadataURL>`;
    s += `${rasterStylesXml(url, '1.1.1', f, href)}</Layer>`;
  }
  s += '</Layer></Capability></WMT_MS_Capabilities>\n';
  return s;
}
