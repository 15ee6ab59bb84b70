/**
 * Drawing on a Skia canvas (@napi-rs/canvas): the map image, its background, the geometries of a layer
 * batch by batch, and the encoding to PNG or JPEG (done off the main thread by the library).
 *
 * A batch of rows of one layer is drawn as three paths (polygons, lines, points), each filled and stroked
 * once: far fewer calls than one path per feature, no double-darkened seams where translucent neighbours
 * share an edge, and, rings being oriented one way by PostGIS, the nonzero rule fills holes right.
 */
import { createCanvas, Path2D, type Canvas, type SKRSContext2D } from '@napi-rs/canvas';
import { decodeTwkb, type DrawKind, type PathSink } from './twkb.js';
import type { MapStyle } from './style.js';

export type ImageFormat = 'png' | 'jpeg';

export interface Background {
  /** `#rrggbb`. */
  color: string;
  transparent: boolean;
}

export class MapCanvas {
  readonly canvas: Canvas;
  readonly ctx: SKRSContext2D;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Background,
    /** Symbol size factor (DPI / 96). */
    readonly scale = 1,
  ) {
    this.canvas = createCanvas(width, height);
    this.ctx = this.canvas.getContext('2d');
    if (!background.transparent) {
      this.ctx.fillStyle = background.color;
      this.ctx.fillRect(0, 0, width, height);
    }
    this.ctx.lineJoin = 'round';
    this.ctx.lineCap = 'round';
  }

  /** Draw a batch of TWKB geometries (pixel coordinates) of one layer with its style. */
  drawTwkb(rows: ReadonlyArray<Uint8Array | null>, style: MapStyle): void {
    const polygons = new Path2D();
    const lines = new Path2D();
    const points = new Path2D();
    let nPolygons = 0;
    let nLines = 0;
    let nPoints = 0;
    const r = style.point.radius * this.scale;
    const sink: PathSink = {
      point(x, y) {
        points.moveTo(x + r, y);
        points.arc(x, y, r, 0, Math.PI * 2);
        nPoints++;
      },
      moveTo(kind, x, y) {
        if (kind === 'polygon') {
          polygons.moveTo(x, y);
          nPolygons++;
        } else {
          lines.moveTo(x, y);
          nLines++;
        }
      },
      lineTo(kind, x, y) {
        (kind === 'polygon' ? polygons : lines).lineTo(x, y);
      },
      closeRing() {
        polygons.closePath();
      },
    };
    for (const row of rows) if (row) decodeTwkb(row, sink);
    this.paint(style, nPolygons ? polygons : null, nLines ? lines : null, nPoints ? points : null);
  }

  /** Rings or lines of one kind and points, in pixels, drawn with the style (legends). */
  private drawPaths(style: MapStyle, kind: DrawKind, parts: Array<Array<[number, number]>>, pts: Array<[number, number]>): void {
    const path = new Path2D();
    for (const part of parts) {
      part.forEach(([x, y], k) => (k === 0 ? path.moveTo(x, y) : path.lineTo(x, y)));
      if (kind === 'polygon') path.closePath();
    }
    const points = new Path2D();
    const r = style.point.radius * this.scale;
    for (const [x, y] of pts) {
      points.moveTo(x + r, y);
      points.arc(x, y, r, 0, Math.PI * 2);
    }
    this.paint(style, kind === 'polygon' ? path : null, kind === 'line' ? path : null, pts.length ? points : null);
  }

  private paint(style: MapStyle, polygons: Path2D | null, lines: Path2D | null, points: Path2D | null): void {
    if (polygons) this.fillAndStroke(polygons, style.polygon);
    if (lines) this.fillAndStroke(lines, style.line);
    if (points) this.fillAndStroke(points, style.point);
  }

  /** Fill (when the symbol has a fill) then outline (when it has a stroke of some width) one path. */
  private fillAndStroke(path: Path2D, s: { fill?: string | null; stroke?: string | null; strokeWidth: number }): void {
    const ctx = this.ctx;
    if (s.fill) {
      ctx.fillStyle = s.fill;
      ctx.fill(path, 'nonzero');
    }
    if (s.stroke && s.strokeWidth > 0) {
      ctx.strokeStyle = s.stroke;
      ctx.lineWidth = s.strokeWidth * this.scale;
      ctx.stroke(path);
    }
  }

  /** The legend symbol of a style for one kind of geometry, filling the image with a small inset. */
  drawLegendSymbol(kind: DrawKind, style: MapStyle): void {
    const w = this.width;
    const h = this.height;
    const m = Math.max(1, Math.round(Math.min(w, h) * 0.1));
    const rows: Array<Array<[number, number]>> =
      kind === 'polygon'
        ? [[[m, m], [w - m, m], [w - m, h - m], [m, h - m]]]
        : kind === 'line'
          ? [[[m, h - m], [w / 3, m + (h - 2 * m) / 3], [(2 * w) / 3, h - m - (h - 2 * m) / 3], [w - m, m]]]
          : [];
    const scale = this.scale;
    const drawn: MapStyle = kind === 'point' ? { ...style, point: { ...style.point, radius: Math.min(style.point.radius * scale, Math.min(w, h) / 2 - m) / scale } } : style;
    this.drawPaths(drawn, kind, rows, kind === 'point' ? [[w / 2, h / 2]] : []);
  }

  /** A message written on the image (WMS EXCEPTIONS=INIMAGE). */
  drawMessage(text: string): void {
    const ctx = this.ctx;
    const size = Math.max(9, Math.min(14, Math.floor(this.width / 40)));
    ctx.font = `${size}px "DejaVu Sans", sans-serif`;
    ctx.fillStyle = '#b00020';
    ctx.textBaseline = 'top';
    const words = text.split(/\s+/);
    let line = '';
    let y = 4;
    for (const w of words) {
      const next = line ? `${line} ${w}` : w;
      if (ctx.measureText(next).width > this.width - 8 && line) {
        ctx.fillText(line, 4, y);
        y += size + 3;
        line = w;
      } else line = next;
      if (y > this.height - size) return;
    }
    if (line) ctx.fillText(line, 4, y);
  }

  encode(format: ImageFormat): Promise<Buffer> {
    return format === 'jpeg' ? this.canvas.encode('jpeg', 85) : this.canvas.encode('png');
  }
}
