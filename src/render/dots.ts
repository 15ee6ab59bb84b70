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
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';

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

export class DotMask {
  /** Fill and ring coverage, one float a map pixel (a mask the symbol lacks is not allocated). */
  private readonly fillAlpha: Float32Array | null;
  private readonly ringAlpha: Float32Array | null;
  private minX = Infinity;
  private minY = Infinity;
  private maxX = -Infinity;
  private maxY = -Infinity;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly symbol: DotSymbol,
  ) {
    this.fillAlpha = symbol.fill ? new Float32Array(width * height) : null;
    this.ringAlpha = symbol.ring ? new Float32Array(width * height) : null;
  }

  /** Whether this mask stamps `s` (same radius, colours, opacities and outline width). */
  stamps(s: DotSymbol): boolean {
    const a = this.symbol;
    return a.radius === s.radius && samePaint(a.fill, s.fill) && samePaint(a.ring, s.ring) && a.ring?.width === s.ring?.width;
  }

  /** Stamp a dot at each (x, y) of the flat list (pixel coordinates). */
  stamp(xy: readonly number[]): void {
    const { width, height, fillAlpha, ringAlpha } = this;
    const r = this.symbol.radius;
    const half = (this.symbol.ring?.width ?? 0) / 2;
    // Edges of the ramps: coverage = edge − distance, clamped.
    const fillEdge = r + 0.5;
    const outerEdge = r + half + 0.5;
    const innerEdge = r - half + 0.5;
    const reach = Math.max(fillEdge, ringAlpha ? outerEdge : 0);
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
          if (fillAlpha) {
            let c = fillEdge - d;
            if (c > 0) {
              if (c > 1) c = 1;
              const a = fillAlpha[row + px]!;
              fillAlpha[row + px] = a + c - a * c;
            }
          }
          if (ringAlpha) {
            let c = outerEdge - d;
            if (c > 0) {
              if (c > 1) c = 1;
              const inner = innerEdge - d;
              if (inner > 0) c -= inner > 1 ? 1 : inner;
              if (c > 0) {
                const a = ringAlpha[row + px]!;
                ringAlpha[row + px] = a + c - a * c;
              }
            }
          }
        }
      }
    }
  }

  /** Paint the stamped dots onto the map (only the box they cover): the ring over the fill, then onto the map. */
  paint(ctx: SKRSContext2D): void {
    if (this.minX > this.maxX) return;
    const w = this.maxX - this.minX + 1;
    const h = this.maxY - this.minY + 1;
    const layer = createCanvas(w, h);
    const lctx = layer.getContext('2d');
    const img = lctx.createImageData(w, h);
    const data = img.data;
    const { fillAlpha, ringAlpha } = this;
    const { fill, ring } = this.symbol;
    const [fr, fg, fb] = fill?.rgb ?? [0, 0, 0];
    const [rr, rg, rb] = ring?.rgb ?? [0, 0, 0];
    const fo = fill?.opacity ?? 0;
    const ro = ring?.opacity ?? 0;
    for (let j = 0; j < h; j++) {
      const src = (this.minY + j) * this.width + this.minX;
      let o = j * w * 4;
      for (let i = 0; i < w; i++, o += 4) {
        const af = fillAlpha ? fillAlpha[src + i]! * fo : 0;
        const ar = ringAlpha ? ringAlpha[src + i]! * ro : 0;
        if (af === 0 && ar === 0) continue;
        // Source-over of the ring (ar) on the fill (af), straight (not premultiplied) colours out.
        const under = af * (1 - ar);
        const a = ar + under;
        data[o] = (rr * ar + fr * under) / a;
        data[o + 1] = (rg * ar + fg * under) / a;
        data[o + 2] = (rb * ar + fb * under) / a;
        data[o + 3] = Math.round(a * 255);
      }
    }
    lctx.putImageData(img, 0, 0);
    ctx.drawImage(layer, this.minX, this.minY);
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
