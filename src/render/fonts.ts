/**
 * The fonts labels are drawn with: DejaVu (Debian's fonts-dejavu-core, installed by scripts/setup.sh), registered
 * once with Skia under its family names, so that labels look the same on every machine and French accents are
 * drawn (DejaVu covers Latin-1 and Latin Extended). Any family a style asks for is drawn with the DejaVu family
 * of its kind (sans, serif, mono): a style written for Arial or QGIS's "Sans Serif" renders, never as tofu.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GlobalFonts } from '@napi-rs/canvas';

/** Where Debian's fonts-dejavu-core puts the fonts (a packaged location, not a deployment setting). */
const DEJAVU_DIR = '/usr/share/fonts/truetype/dejavu';

const FILES: Record<string, string[]> = {
  'DejaVu Sans': ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf', 'DejaVuSans-BoldOblique.ttf'],
  'DejaVu Serif': ['DejaVuSerif.ttf', 'DejaVuSerif-Bold.ttf', 'DejaVuSerif-Italic.ttf', 'DejaVuSerif-BoldItalic.ttf'],
  'DejaVu Sans Mono': ['DejaVuSansMono.ttf', 'DejaVuSansMono-Bold.ttf', 'DejaVuSansMono-Oblique.ttf', 'DejaVuSansMono-BoldOblique.ttf'],
};

let registered: boolean | undefined;

/** Register the DejaVu families (once); false when the fonts are not installed (labels then use Skia's default). */
export function registerFonts(): boolean {
  if (registered !== undefined) return registered;
  registered = false;
  for (const [family, files] of Object.entries(FILES)) {
    for (const f of files) {
      const path = join(DEJAVU_DIR, f);
      if (existsSync(path) && GlobalFonts.registerFromPath(path, family)) registered = true;
    }
  }
  return registered;
}

/** The DejaVu family that stands for a style's font family. */
export function fontFamilyFor(family: string): string {
  const f = family.toLowerCase();
  if (/mono|courier|console/.test(f)) return 'DejaVu Sans Mono';
  if (/serif/.test(f) && !/sans/.test(f)) return 'DejaVu Serif';
  if (/times|georgia|garamond/.test(f)) return 'DejaVu Serif';
  return 'DejaVu Sans';
}

/** A CSS font shorthand for the canvas. */
export function cssFont(font: { family: string; size: number; weight: 'normal' | 'bold'; style: 'normal' | 'italic' }, scale: number): string {
  return `${font.style === 'italic' ? 'italic ' : ''}${font.weight === 'bold' ? 'bold ' : ''}${Math.max(1, font.size * scale)}px "${fontFamilyFor(font.family)}"`;
}
