/**
 * Labels (issue 9), drawn without a server: the DejaVu fonts of Debian's fonts-dejavu-core are registered with
 * Skia, French accented letters are real glyphs (not the missing-glyph box, not the bare letter), and the
 * Labeler drops a label whose box meets one placed before or leaves the image (collision avoidance).
 */
import { describe, expect, it } from 'vitest';
import { createCanvas } from '@napi-rs/canvas';
import { registerFonts } from '../../src/render/fonts.js';
import { Labeler } from '../../src/render/labels.js';
import type { TextSymbolizer } from '../../src/render/style.js';

const sym: TextSymbolizer = { kind: 'text', label: [{ property: 'nom' }], font: { family: 'Sans Serif', size: 14, weight: 'normal', style: 'normal' }, fill: { color: '#000000', opacity: 1 }, halo: { radius: 1, fill: { color: '#ffffff', opacity: 1 } }, anchor: [0.5, 0.5], displacement: [0, 0] };

/** The alpha mask of one glyph drawn alone. */
function glyph(ch: string): string {
  const c = createCanvas(40, 40);
  const ctx = c.getContext('2d');
  ctx.font = '28px "DejaVu Sans"';
  ctx.textBaseline = 'middle';
  ctx.fillText(ch, 8, 20);
  const d = ctx.getImageData(0, 0, 40, 40).data;
  let s = '';
  for (let k = 3; k < d.length; k += 4) s += d[k]! > 127 ? '1' : '0';
  return s;
}

describe('label fonts', () => {
  it('registers DejaVu (fonts-dejavu-core, installed by scripts/setup.sh)', () => {
    expect(registerFonts()).toBe(true);
  });

  it('draws é, è, ç, ô, œ, É as glyphs of their own (not the missing-glyph box, not the bare letter)', () => {
    registerFonts();
    const tofu = glyph('\u{10FFFD}');
    for (const [accented, bare] of [['é', 'e'], ['è', 'e'], ['ç', 'c'], ['ô', 'o'], ['œ', 'o'], ['É', 'E']] as const) {
      const g = glyph(accented);
      expect(g).not.toBe(tofu);
      expect(g).not.toBe(glyph(bare));
      expect(g.includes('1')).toBe(true);
    }
  });
});

describe('collision avoidance', () => {
  it('places a label, drops one whose box meets it, keeps one far enough, drops one leaving the image', () => {
    const c = createCanvas(300, 100);
    const l = new Labeler(c.getContext('2d'), 300, 100, 1);
    expect(l.offer('Orléans', 80, 50, sym)).toBe(true);
    expect(l.offer('Saint-Jean-de-Braye', 100, 55, sym)).toBe(false);
    expect(l.offer('Olivet', 80, 80, sym)).toBe(true);
    expect(l.offer('Châteauneuf-sur-Loire', 290, 20, sym)).toBe(false);
    expect(l.draw()).toBe(2);
  });

  it('draws the placed labels: text pixels at the anchor, the halo around them', () => {
    const c = createCanvas(200, 60);
    const ctx = c.getContext('2d');
    const l = new Labeler(ctx, 200, 60, 1);
    expect(l.offer('Orléans', 100, 30, sym)).toBe(true);
    l.draw();
    const d = ctx.getImageData(60, 15, 80, 30).data;
    let black = 0;
    let white = 0;
    for (let k = 0; k < d.length; k += 4) {
      if (d[k + 3]! < 200) continue;
      if (d[k]! < 50) black++;
      else if (d[k]! > 230) white++;
    }
    expect(black).toBeGreaterThan(40);
    expect(white).toBeGreaterThan(40);
  });
});
