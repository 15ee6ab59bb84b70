/** Helpers of the map tests: fetch a /wms URL, decode a PNG/JPEG into RGBA pixels, read a pixel, place a world point, validate capabilities. */
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseUrl, SCHEMAS, xmllint } from '../helpers.js';

export interface Image {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export interface Box {
  minx: number;
  miny: number;
  maxx: number;
  maxy: number;
}

export async function fetchMap(query: string, base = baseUrl()): Promise<{ status: number; type: string; bytes: Buffer; text: string; headers: Headers }> {
  const r = await fetch(`${base}/wms?${query}`);
  const bytes = Buffer.from(await r.arrayBuffer());
  return { status: r.status, type: r.headers.get('content-type') ?? '', bytes, text: bytes.toString('utf8'), headers: r.headers };
}

export async function decode(bytes: Buffer): Promise<Image> {
  const img = await loadImage(bytes);
  const c = createCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  return { width: img.width, height: img.height, data: ctx.getImageData(0, 0, img.width, img.height).data };
}

export function pixel(img: Image, i: number, j: number): [number, number, number, number] {
  const o = (j * img.width + i) * 4;
  return [img.data[o]!, img.data[o + 1]!, img.data[o + 2]!, img.data[o + 3]!];
}

/** Pixel (column, row) of a world point (x/y) in a map of `box` and size w×h. */
export function toPixel(box: Box, w: number, h: number, x: number, y: number): [number, number] {
  return [Math.floor(((x - box.minx) / (box.maxx - box.minx)) * w), Math.floor(((box.maxy - y) / (box.maxy - box.miny)) * h)];
}

/**
 * The INSPIRE schemas (inspire_vs 1.0, inspire_common 1.0) are not in shared/schemas-ogc-local. As the
 * catalogue tests do for inspire_ds, inspire_vs:ExtendedCapabilities is declared as what it is (a member of
 * the wms:_ExtendedCapabilities substitution group) with open content, and the xsi:type targets as open
 * types; everything outside that element is validated by the official WMS 1.3.0 schema.
 */
function inspireStubs(): Array<{ ns: string; xsd: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sdi-inspire-vs-'));
  writeFileSync(
    join(dir, 'inspire_vs.xsd'),
    `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:wms="http://www.opengis.net/wms" targetNamespace="http://inspire.ec.europa.eu/schemas/inspire_vs/1.0" elementFormDefault="qualified">` +
      `<xs:import namespace="http://www.opengis.net/wms" schemaLocation="${join(SCHEMAS, 'wms/1.3.0/capabilities_1_3_0.xsd')}"/>` +
      `<xs:element name="ExtendedCapabilities" substitutionGroup="wms:_ExtendedCapabilities" type="xs:anyType"/></xs:schema>`,
  );
  const open = (n: string) => `<xs:complexType name="${n}" mixed="true"><xs:sequence><xs:any processContents="lax" minOccurs="0" maxOccurs="unbounded"/></xs:sequence></xs:complexType>`;
  writeFileSync(
    join(dir, 'inspire_common.xsd'),
    `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="http://inspire.ec.europa.eu/schemas/common/1.0" elementFormDefault="qualified">` +
      ['classificationOfSpatialDataService', 'citationInspireInteroperabilityRegulation_fre', 'citationInspireInteroperabilityRegulation_eng'].map(open).join('') +
      '</xs:schema>',
  );
  return [
    { ns: 'http://inspire.ec.europa.eu/schemas/inspire_vs/1.0', xsd: join(dir, 'inspire_vs.xsd') },
    { ns: 'http://inspire.ec.europa.eu/schemas/common/1.0', xsd: join(dir, 'inspire_common.xsd') },
  ];
}

/** A WMS 1.3.0 capabilities document against the official schema (and the INSPIRE stand-ins above). */
export const validateWmsCapabilities = (xml: string) => xmllint(xml, 'wms/1.3.0/capabilities_1_3_0.xsd', inspireStubs());
