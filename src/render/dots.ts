/**
 * Small filled circles (the usual point symbol: a 3 to 16 pixel dot, no outline) stamped into a coverage
 * mask in JavaScript instead of one arc per point on the Skia path. A path costs three native calls a point
 * plus the arc's conics, copied again by the fill: 105,000 addresses of a 50 km map took most of the
 * layer's time there; stamping them is a few array writes a pixel. The mask is painted onto the map as one
 * image (drawImage, source-over) when the next thing is drawn, so the layers' order is kept.
 *
 * Coverage of a pixel by a disc of radius r centred at (x, y): r + 0.5 − (distance from the pixel's centre),
 * clamped to [0, 1] (the usual one-pixel anti-aliasing ramp on the edge). Overlapping dots of one mask
 * combine as a union (a + c − a·c), as the points of one path filled at once do.
 */
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';

/** Radii (pixels) stamped; smaller and larger marks go through the path (a larger disc is cheap as a path). */
export const MIN_DOT_RADIUS = 0.5;
export const MAX_DOT_RADIUS = 8;

export class DotMask {
  private readonly alpha: Float32Array;
  private minX = Infinity;
  private minY = Infinity;
  private maxX = -Infinity;
  private maxY = -Infinity;

  constructor(
    readonly width: number,
    readonly height: number,
    /** `rgb(…)` components and opacity of the dots' fill. */
    readonly rgb: [number, number, number],
    readonly opacity: number,
    readonly radius: number,
  ) {
    this.alpha = new Float32Array(width * height);
  }

  /** Stamp a dot at each (x, y) of the flat list (pixel coordinates). */
  stamp(xy: readonly number[]): void {
    const { width, height, alpha } = this;
    const r = this.radius;
    const reach = r + 0.5;
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
          let c = reach - Math.sqrt(dx * dx + dy * dy);
          if (c <= 0) continue;
          if (c > 1) c = 1;
          const a = alpha[row + px]!;
          alpha[row + px] = a + c - a * c;
        }
      }
    }
  }

  /** Paint the stamped dots onto the map (only the box they cover). */
  paint(ctx: SKRSContext2D): void {
    if (this.minX > this.maxX) return;
    const w = this.maxX - this.minX + 1;
    const h = this.maxY - this.minY + 1;
    const layer = createCanvas(w, h);
    const lctx = layer.getContext('2d');
    const img = lctx.createImageData(w, h);
    const data = img.data;
    const [r, g, b] = this.rgb;
    const scale = 255 * this.opacity;
    for (let j = 0; j < h; j++) {
      const src = (this.minY + j) * this.width + this.minX;
      let o = j * w * 4;
      for (let i = 0; i < w; i++, o += 4) {
        const a = this.alpha[src + i]!;
        if (a === 0) continue;
        data[o] = r;
        data[o + 1] = g;
        data[o + 2] = b;
        data[o + 3] = Math.round(a * scale);
      }
    }
    lctx.putImageData(img, 0, 0);
    ctx.drawImage(layer, this.minX, this.minY);
  }
}

/** `#rrggbb` → [r, g, b]. */
export function rgbOf(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.slice(1, 7), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}
