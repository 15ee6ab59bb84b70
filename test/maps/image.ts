/** Helpers of the map tests: fetch a /wms URL, decode a PNG/JPEG into RGBA pixels, read a pixel, place a world point. */
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { baseUrl } from '../helpers.js';

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
