/**
 * Label placement with collision avoidance: labels are offered in drawing order (layers bottom to top, rules in
 * order, features as PostGIS sends them); each is placed at its anchor if its box (grown by its halo and a
 * pixel) overlaps no label placed before and lies inside the image, else dropped — the greedy first-come rule
 * of MapServer and GeoServer. Placed boxes are kept in an R-tree (rbush), so a map of thousands of
 * candidates costs a few lookups each. Labels are drawn after every layer, on top of the map.
 */
import RBush from 'rbush';
import type { SKRSContext2D } from '@napi-rs/canvas';
import { cssColor, type TextSymbolizer } from './style.js';
import { cssFont } from './fonts.js';

interface Placed {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
  text: string;
  /** Centre of the text, pixels. */
  x: number;
  y: number;
  sym: TextSymbolizer;
}

export class Labeler {
  private readonly tree = new RBush<Placed>();
  private readonly placed: Placed[] = [];

  constructor(
    private readonly ctx: SKRSContext2D,
    private readonly width: number,
    private readonly height: number,
    /** Symbol size factor (DPI / 96). */
    private readonly scale: number,
  ) {}

  /** Offer a label at a point (pixels); true when it was placed. */
  offer(text: string, x: number, y: number, sym: TextSymbolizer): boolean {
    if (!text.trim() || !Number.isFinite(x) || !Number.isFinite(y)) return false;
    const s = this.scale;
    this.ctx.font = cssFont(sym.font, s);
    const w = this.ctx.measureText(text).width;
    const h = sym.font.size * s * 1.2;
    // Anchor [ax, ay]: the point of the box on the anchor, from the bottom left; displacement y points up.
    const left = x + sym.displacement[0] * s - sym.anchor[0] * w;
    const bottom = y - sym.displacement[1] * s + sym.anchor[1] * h;
    const pad = (sym.halo?.radius ?? 0) * s + 1;
    const box = { minX: left - pad, minY: bottom - h - pad, maxX: left + w + pad, maxY: bottom + pad };
    if (box.minX < 0 || box.minY < 0 || box.maxX > this.width || box.maxY > this.height) return false;
    if (this.tree.collides(box)) return false;
    const p: Placed = { ...box, text, x: left + w / 2, y: bottom - h / 2, sym };
    this.tree.insert(p);
    this.placed.push(p);
    return true;
  }

  /** Draw the placed labels: halo (a stroke around the glyphs) first, then the text. */
  draw(): number {
    const ctx = this.ctx;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    for (const p of this.placed) {
      ctx.font = cssFont(p.sym.font, this.scale);
      if (p.sym.halo && p.sym.halo.radius > 0) {
        ctx.lineJoin = 'round';
        ctx.lineWidth = p.sym.halo.radius * 2 * this.scale;
        ctx.strokeStyle = cssColor(p.sym.halo.fill.color, p.sym.halo.fill.opacity);
        ctx.strokeText(p.text, p.x, p.y);
      }
      ctx.fillStyle = cssColor(p.sym.fill.color, p.sym.fill.opacity);
      ctx.fillText(p.text, p.x, p.y);
    }
    return this.placed.length;
  }
}
