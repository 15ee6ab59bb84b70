/**
 * Small circles (the usual point symbol: a 3 to 16 pixel dot, filled, outlined or both) stamped into coverage
 * masks in JavaScript instead of one arc per point on the Skia path. A path costs three native calls a point
 * plus the arc's conics, copied again by the fill and again by the stroke: 105,000 addresses of a 50 km map
 * took most of the layer's time there (outlined: 666 ms a map in Skia's fill and stroke alone); stamping them
 * is a few array writes a pixel. The masks are painted onto the map as one image (drawImage, source-over)
 * when the next thing is drawn, so the layers' order is kept.
 *
 * Coverage of a pixel by a disc of radius r centred at (x, y): r + 0.5 − (distance from the pixel's centre),
 * clamped to [0, 1] (the usual one-pixel anti-aliasing ramp on the edge). The outline of width w is the ring
 * between radii r − w/2 and r + w/2 (a stroke is centred on the path): the coverage of the outer disc minus
 * that of the inner one (a hairline under a pixel wide thus covers w of a pixel, as Skia's thin strokes do).
 * Overlapping dots of one mask combine as a union (a + c − a·c), as the points of one path filled at once
 * do. Fill and ring are two masks because the path fills every point and then strokes every point: a ring
 * lies over the fill of a neighbour drawn after it. Painting composes ring over fill, pixel by pixel, then
 * that image over the map: source-over being associative, the same as fill then stroke on the map.
 */
import { createCanvas, ImageData, type Canvas, type SKRSContext2D } from '@napi-rs/canvas';

/** Radii (pixels) stamped; smaller and larger marks go through the path (a larger disc is cheap as a path). */
export const MIN_DOT_RADIUS = 0.5;
export const MAX_DOT_RADIUS = 8;

/** A colour (`[r, g, b]`, 0–255) and its opacity. */
export interface DotPaint {
  rgb: [number, number, number];
  opacity: number;
}

/** What one mask stamps: a circle of `radius` pixels, its fill and its outline (either may be absent). */
export interface DotSymbol {
  radius: number;
  fill: DotPaint | null;
  /** The outline and its width in pixels (at most the diameter: a wider one goes through the path). */
  ring: (DotPaint & { width: number }) | null;
}

/**
 * The buffers of one mask, kept between maps (per map size): allocating them for each map (two 4 MB coverage
 * arrays, a 4 MB ImageData and a canvas for a 1024² map) and scanning all their pixels to paint took 10.8 ms of
 * the 37 ms of main-thread time of a W4 map (2,900 addresses; profile of 200 maps), and fed the collector. A
 * mask now notes the pixels it touches (about one in seven there) and paints, then clears, only those: a set
 * comes back clean to the pool, so no map ever sees another's dots. Sets of a mask never painted (a map that
 * failed half-way) are not returned: the collector takes them.
 */
interface DotBuffers {
  fill: Float32Array;
  ring: Float32Array;
  /** Indices of the pixels with some coverage, in the order first touched. */
  touched: Uint32Array;
  canvas: Canvas;
  image: ImageData;
}

/** Sets kept per map size: enough for the maps drawn at once by one process; more are made and dropped. */
const POOL_PER_SIZE = 4;
/** Map sizes whose sets are kept (the ones seen last). */
const POOL_SIZES = 4;
const pool = new Map<string, DotBuffers[]>();

function acquire(width: number, height: number): DotBuffers {
  const free = pool.get(`${width}x${height}`)?.pop();
  if (free) return free;
  const n = width * height;
  const canvas = createCanvas(width, height);
  return { fill: new Float32Array(n), ring: new Float32Array(n), touched: new Uint32Array(Math.min(n, 65_536)), canvas, image: new ImageData(width, height) };
}

function release(width: number, height: number, b: DotBuffers): void {
  const key = `${width}x${height}`;
  let sets = pool.get(key);
  if (!sets) {
    if (pool.size >= POOL_SIZES) pool.delete(pool.keys().next().value!);
    sets = [];
    pool.set(key, sets);
  }
  if (sets.length < POOL_PER_SIZE) sets.push(b);
}

export class DotMask {
  private buffers: DotBuffers | undefined;
  private nTouched = 0;
  private minX = Infinity;
  private minY = Infinity;
  private maxX = -Infinity;
  private maxY = -Infinity;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly symbol: DotSymbol,
  ) {
    this.buffers = acquire(width, height);
  }

  /** Whether this mask stamps `s` (same radius, colours, opacities and outline width). */
  stamps(s: DotSymbol): boolean {
    const a = this.symbol;
    return a.radius === s.radius && samePaint(a.fill, s.fill) && samePaint(a.ring, s.ring) && a.ring?.width === s.ring?.width;
  }

  /** Stamp a dot at each (x, y) of the flat list (pixel coordinates). */
  stamp(xy: readonly number[]): void {
    const b = this.buffers;
    if (!b) throw new Error('DotMask stamped after it was painted');
    const { width, height } = this;
    const fillAlpha = b.fill;
    const ringAlpha = b.ring;
    const hasFill = !!this.symbol.fill;
    const hasRing = !!this.symbol.ring;
    const r = this.symbol.radius;
    const half = (this.symbol.ring?.width ?? 0) / 2;
    // Edges of the ramps: coverage = edge − distance, clamped.
    const fillEdge = r + 0.5;
    const outerEdge = r + half + 0.5;
    const innerEdge = r - half + 0.5;
    const reach = Math.max(hasFill ? fillEdge : 0, hasRing ? outerEdge : 0);
    let touched = b.touched;
    let nTouched = this.nTouched;
    for (let k = 0; k < xy.length; k += 2) {
      const x = xy[k]!;
      const y = xy[k + 1]!;
      const x0 = Math.max(0, Math.floor(x - reach));
      const x1 = Math.min(width - 1, Math.ceil(x + reach) - 1);
      const y0 = Math.max(0, Math.floor(y - reach));
      const y1 = Math.min(height - 1, Math.ceil(y + reach) - 1);
      if (x0 > x1 || y0 > y1) continue;
      if (x0 < this.minX) this.minX = x0;
      if (y0 < this.minY) this.minY = y0;
      if (x1 > this.maxX) this.maxX = x1;
      if (y1 > this.maxY) this.maxY = y1;
      for (let py = y0; py <= y1; py++) {
        const dy = py + 0.5 - y;
        const row = py * width;
        for (let px = x0; px <= x1; px++) {
          const dx = px + 0.5 - x;
          const d = Math.sqrt(dx * dx + dy * dy);
          let cf = 0;
          if (hasFill) {
            cf = fillEdge - d;
            if (cf > 1) cf = 1;
          }
          let cr = 0;
          if (hasRing) {
            cr = outerEdge - d;
            if (cr > 0) {
              if (cr > 1) cr = 1;
              const inner = innerEdge - d;
              if (inner > 0) cr -= inner > 1 ? 1 : inner;
            }
          }
          if (cf <= 0 && cr <= 0) continue;
          const i = row + px;
          const a = fillAlpha[i]!;
          const ar = ringAlpha[i]!;
          if (a === 0 && ar === 0) {
            // First coverage of this pixel (coverage only grows: a + c − a·c ≥ c > 0).
            if (nTouched === touched.length) {
              const grown = new Uint32Array(Math.min(width * height, touched.length * 2));
              grown.set(touched);
              touched = b.touched = grown;
            }
            touched[nTouched++] = i;
          }
          if (cf > 0) fillAlpha[i] = a + cf - a * cf;
          if (cr > 0) ringAlpha[i] = ar + cr - ar * cr;
        }
      }
    }
    this.nTouched = nTouched;
  }

  /**
   * Paint the stamped dots onto the map (only the box they cover): the ring over the fill, then onto the map.
   * The mask is spent: its buffers go back to the pool, cleared.
   */
  paint(ctx: SKRSContext2D): void {
    const b = this.buffers;
    if (!b) return;
    this.buffers = undefined;
    const n = this.nTouched;
    if (n > 0) {
      const { fill, ring } = this.symbol;
      const [fr, fg, fb] = fill?.rgb ?? [0, 0, 0];
      const [rr, rg, rb] = ring?.rgb ?? [0, 0, 0];
      const fo = fill?.opacity ?? 0;
      const ro = ring?.opacity ?? 0;
      const { fill: fillAlpha, ring: ringAlpha, touched } = b;
      const data = b.image.data;
      for (let k = 0; k < n; k++) {
        const i = touched[k]!;
        const af = fillAlpha[i]! * fo;
        const ar = ringAlpha[i]! * ro;
        fillAlpha[i] = 0;
        ringAlpha[i] = 0;
        if (af === 0 && ar === 0) continue;
        // Source-over of the ring (ar) on the fill (af), straight (not premultiplied) colours out.
        const under = af * (1 - ar);
        const a = ar + under;
        const o = i * 4;
        data[o] = (rr * ar + fr * under) / a;
        data[o + 1] = (rg * ar + fg * under) / a;
        data[o + 2] = (rb * ar + fb * under) / a;
        data[o + 3] = Math.round(a * 255);
      }
      // The box only: outside it the pooled canvas holds an earlier map's pixels, never drawn.
      const w = this.maxX - this.minX + 1;
      const h = this.maxY - this.minY + 1;
      const lctx = b.canvas.getContext('2d');
      lctx.putImageData(b.image, 0, 0, this.minX, this.minY, w, h);
      ctx.drawImage(b.canvas, this.minX, this.minY, w, h, this.minX, this.minY, w, h);
      for (let k = 0; k < n; k++) {
        const o = touched[k]! * 4;
        data[o] = 0;
        data[o + 1] = 0;
        data[o + 2] = 0;
        data[o + 3] = 0;
      }
    }
    release(this.width, this.height, b);
  }
}

function samePaint(a: DotPaint | null, b: DotPaint | null): boolean {
  if (!a || !b) return a === b;
  return a.opacity === b.opacity && a.rgb[0] === b.rgb[0] && a.rgb[1] === b.rgb[1] && a.rgb[2] === b.rgb[2];
}

/** `#rrggbb` → [r, g, b]. */
export function rgbOf(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.slice(1, 7), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}
