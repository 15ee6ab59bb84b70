/**
 * Stamped circles (src/render/dots.ts) against the same circles drawn by Skia as a path (one arc a point, filled
 * then stroked, as src/render/canvas.ts draws marks it does not stamp): the fill colour in the centre, the stroke
 * colour on the ring, nothing outside, and every pixel the same as the path's within anti-aliasing tolerance.
 * Both are also held against the exact picture: each pixel's covered area, sampled 16×16 within it. The stamps
 * are within 0.1 of a pixel's coverage of it; Skia's outlines cover their outer edge pixels up to ~0.2 less than
 * their area (pixel (21,16) of the first case: area 0.63, stamp 0.64, Skia 0.42), hence the path tolerance of
 * 64/255 on edge pixels, where the plain dots stamped before were within 48.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createCanvas, Path2D } from '@napi-rs/canvas';
import { ROOT } from '../helpers.js';

const { DotMask, rgbOf } = (await import(join(ROOT, 'dist/src/render/dots.js'))) as typeof import('../../src/render/dots.js');
type DotSymbol = import('../../src/render/dots.js').DotSymbol;

const SIZE = 64;

interface Circle {
  radius: number;
  fill?: { color: string; opacity: number };
  stroke?: { color: string; opacity: number; width: number };
}

function rgba(hex: string, opacity: number): string {
  const [r, g, b] = rgbOf(hex);
  return `rgba(${r}, ${g}, ${b}, ${opacity})`;
}

/** The circles at `xy` on a white canvas, drawn by Skia as one path, filled then stroked. */
function pathDrawn(c: Circle, xy: number[]): Uint8ClampedArray {
  const canvas = createCanvas(SIZE, SIZE);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, SIZE, SIZE);
  const path = new Path2D();
  for (let k = 0; k < xy.length; k += 2) {
    path.moveTo(xy[k]! + c.radius, xy[k + 1]!);
    path.arc(xy[k]!, xy[k + 1]!, c.radius, 0, Math.PI * 2);
    path.closePath();
  }
  if (c.fill) {
    ctx.fillStyle = rgba(c.fill.color, c.fill.opacity);
    ctx.fill(path, 'nonzero');
  }
  if (c.stroke) {
    ctx.strokeStyle = rgba(c.stroke.color, c.stroke.opacity);
    ctx.lineWidth = c.stroke.width;
    ctx.stroke(path);
  }
  return ctx.getImageData(0, 0, SIZE, SIZE).data;
}

/** The same circles stamped by a DotMask and painted on a white canvas. */
function stamped(c: Circle, xy: number[]): Uint8ClampedArray {
  const canvas = createCanvas(SIZE, SIZE);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, SIZE, SIZE);
  const symbol: DotSymbol = {
    radius: c.radius,
    fill: c.fill ? { rgb: rgbOf(c.fill.color), opacity: c.fill.opacity } : null,
    ring: c.stroke ? { rgb: rgbOf(c.stroke.color), opacity: c.stroke.opacity, width: c.stroke.width } : null,
  };
  const mask = new DotMask(SIZE, SIZE, symbol);
  mask.stamp(xy);
  mask.paint(ctx);
  return ctx.getImageData(0, 0, SIZE, SIZE).data;
}

const px = (d: Uint8ClampedArray, i: number, j: number) => Array.from(d.subarray((j * SIZE + i) * 4, (j * SIZE + i) * 4 + 3));

/** The exact picture: fill then ring composed over white with each pixel's covered area (16×16 samples). */
function ideal(c: Circle, xy: number[]): Uint8ClampedArray {
  const out = new Uint8ClampedArray(SIZE * SIZE * 4);
  const n = 16;
  const half = (c.stroke?.width ?? 0) / 2;
  const fill = c.fill ? rgbOf(c.fill.color) : [0, 0, 0];
  const ring = c.stroke ? rgbOf(c.stroke.color) : [0, 0, 0];
  for (let j = 0; j < SIZE; j++) {
    for (let i = 0; i < SIZE; i++) {
      let inFill = 0;
      let inRing = 0;
      for (let u = 0; u < n; u++) {
        for (let v = 0; v < n; v++) {
          const sx = i + (u + 0.5) / n;
          const sy = j + (v + 0.5) / n;
          let f = false;
          let r = false;
          for (let k = 0; k < xy.length; k += 2) {
            const d = Math.hypot(sx - xy[k]!, sy - xy[k + 1]!);
            if (d <= c.radius) f = true;
            if (c.stroke && d >= c.radius - half && d <= c.radius + half) r = true;
          }
          if (f && c.fill) inFill++;
          if (r) inRing++;
        }
      }
      const af = (inFill / (n * n)) * (c.fill?.opacity ?? 0);
      const ar = (inRing / (n * n)) * (c.stroke?.opacity ?? 0);
      const o = (j * SIZE + i) * 4;
      for (let q = 0; q < 3; q++) out[o + q] = ring[q]! * ar + (fill[q]! * af + 255 * (1 - af)) * (1 - ar);
      out[o + 3] = 255;
    }
  }
  return out;
}

/** Largest channel difference over the image, and the share of pixels differing by more than `tolerance`. */
function compare(a: Uint8ClampedArray, b: Uint8ClampedArray, tolerance: number): { max: number; over: number; drawn: number } {
  let max = 0;
  let over = 0;
  let drawn = 0;
  for (let o = 0; o < a.length; o += 4) {
    let m = 0;
    for (let c = 0; c < 3; c++) m = Math.max(m, Math.abs(a[o + c]! - b[o + c]!));
    if (a[o] !== 255 || a[o + 1] !== 255 || a[o + 2] !== 255) drawn++;
    max = Math.max(max, m);
    if (m > tolerance) over++;
  }
  return { max, over, drawn };
}

/** The stamps within 0.1 of the exact coverage (26/255 on these colours); the path within 64/255 of the stamps. */
function expectClose(c: Circle, xy: number[], dots: Uint8ClampedArray): ReturnType<typeof compare> {
  expect(compare(dots, ideal(c, xy), 26).over).toBe(0);
  const diff = compare(dots, pathDrawn(c, xy), 64);
  expect(diff.over).toBe(0);
  return diff;
}

const ORANGE = '#e67e22';
const BROWN = '#7a3e00';

describe('stamped circles (src/render/dots.ts)', () => {
  it('an outlined circle: fill in the centre, stroke on the ring, nothing outside, as the path draws it', () => {
    // The built-in point style: 8 px orange circle, 1 px brown outline.
    const c: Circle = { radius: 4, fill: { color: ORANGE, opacity: 1 }, stroke: { color: BROWN, opacity: 1, width: 1 } };
    const xy = [20.3, 20.7, 44, 40.5];
    const dots = stamped(c, xy);
    const path = pathDrawn(c, xy);
    expect(px(dots, 20, 20)).toEqual(rgbOf(ORANGE));
    expect(px(dots, 44, 40)).toEqual(rgbOf(ORANGE));
    // On the ring: pixel (47, 40), its centre 3.5 px right of (44, 40.5), the ring spanning 3.5 to 4.5: brown, half
    // covered over the orange fill's edge (the path's pixel alike, within tolerance).
    const ring = px(dots, 47, 40);
    const [br, bg, bb] = rgbOf(BROWN);
    expect(Math.max(...ring.map((v, q) => Math.abs(v - [br, bg, bb][q]!)))).toBeLessThan(64);
    expect(Math.max(...ring.map((v, q) => Math.abs(v - px(path, 47, 40)[q]!)))).toBeLessThan(64);
    // Outside the outer edge (r + w/2 + the one-pixel ramp): untouched.
    for (const [i, j] of [[44, 34], [44, 46], [38, 40], [50, 40], [26, 20], [14, 20], [0, 0], [63, 63]] as const) expect(px(dots, i, j)).toEqual([255, 255, 255]);
    const diff = expectClose(c, xy, dots);
    expect(diff.drawn).toBeGreaterThan(2 * 40);
  });

  it('overlapping outlined circles: every ring over every fill, as one path filled then stroked', () => {
    const c: Circle = { radius: 5, fill: { color: ORANGE, opacity: 1 }, stroke: { color: BROWN, opacity: 1, width: 1.5 } };
    const xy = [28, 30, 33.4, 30.2, 30.6, 34.1];
    const dots = stamped(c, xy);
    const path = pathDrawn(c, xy);
    // The second circle's ring crosses the first circle's fill (pixel (28, 30), 5.4 px left of the second centre):
    // brown there, not orange.
    expect(px(dots, 28, 30)[1]).toBeLessThan(100);
    expect(px(path, 28, 30)[1]).toBeLessThan(100);
    expectClose(c, xy, dots);
  });

  it('translucent fill and a hairline outline (the W5 address style is 3 px; bench outline 0.6 px)', () => {
    const c: Circle = { radius: 1.5, fill: { color: '#143cc8', opacity: 0.6 }, stroke: { color: '#b43c1e', opacity: 0.8, width: 0.6 } };
    const xy = [10.5, 10.5, 30.2, 12.9, 50.7, 50.1];
    const dots = stamped(c, xy);
    expectClose(c, xy, dots);
    expect(px(dots, 0, 0)).toEqual([255, 255, 255]);
    expect(px(dots, 20, 20)).toEqual([255, 255, 255]);
  });

  it("masks reuse pooled buffers (one map's dots never show on the next); a mask never painted leaves nothing behind", () => {
    const a: Circle = { radius: 4, fill: { color: ORANGE, opacity: 1 }, stroke: { color: BROWN, opacity: 1, width: 1.5 } };
    const b: Circle = { radius: 2.5, fill: { color: '#143cc8', opacity: 0.7 } };
    const xyA = [12.3, 12.8, 40.1, 20.5, 52.6, 50.2];
    const xyB = [20.5, 44.5, 30.2, 30.9];
    const fresh = stamped(b, xyB);
    // A big mask painted (its buffers go back to the pool), then one stamped and dropped unpainted (a map that failed):
    // the next masks of that size get clean buffers and draw exactly what a first mask drew.
    for (let k = 0; k < 3; k++) stamped(a, xyA);
    const dropped = new DotMask(SIZE, SIZE, { radius: 3, fill: { rgb: rgbOf(ORANGE), opacity: 1 }, ring: null });
    dropped.stamp([32, 32]);
    for (let k = 0; k < 6; k++) expect(Buffer.from(stamped(b, xyB)).equals(Buffer.from(fresh))).toBe(true);
    expectClose(b, xyB, fresh);
    // A painted mask is spent: stamping it again is a programming error, said at once.
    const spent = new DotMask(SIZE, SIZE, { radius: 2, fill: { rgb: rgbOf(ORANGE), opacity: 1 }, ring: null });
    spent.paint(createCanvas(SIZE, SIZE).getContext('2d'));
    expect(() => spent.stamp([1, 1])).toThrow(/painted/);
  });

  it('an outline alone and a fill alone', () => {
    for (const c of [
      { radius: 6, stroke: { color: BROWN, opacity: 1, width: 2 } },
      { radius: 3, fill: { color: ORANGE, opacity: 1 } },
    ] as Circle[]) {
      const xy = [32.2, 31.6];
      const dots = stamped(c, xy);
      expectClose(c, xy, dots);
      // The centre: the fill, or the white below an outline alone.
      expect(px(dots, 32, 31)).toEqual(c.fill ? rgbOf(ORANGE) : [255, 255, 255]);
    }
  });
});
