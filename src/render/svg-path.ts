/**
 * SVG path data written as ASCII bytes into one growing buffer, then read as one string: the map canvas's
 * paths (src/render/canvas.ts RulePaths) handed to Skia in one Path2D(string). Appending template strings
 * instead left a rope of ~100,000 pieces a batch that V8 flattened at the native call, and their garbage:
 * W5 (149,000 parcels), server CPU profile, GC and the flush were then ~40 % of node's time.
 */
const M = 77; // 'M'
const L = 108; // 'l'
const Z = 122; // 'z'
const SPACE = 32;
const MINUS = 45;

export class SvgPathWriter {
  private buf = Buffer.allocUnsafe(64 * 1024);
  private len = 0;
  /** Whether the current subpath has had its 'l' (an 'l' with no pair before a 'z' would be a parse error). */
  private open = false;

  get empty(): boolean {
    return this.len === 0;
  }

  /** Absolute move-to (integers). */
  move(x: number, y: number): void {
    this.room(48);
    this.buf[this.len++] = M;
    this.int(x);
    this.buf[this.len++] = SPACE;
    this.int(y);
    this.open = false;
  }

  /** Relative line-to (integer deltas). */
  line(dx: number, dy: number): void {
    this.room(48);
    this.buf[this.len++] = this.open ? SPACE : L;
    this.open = true;
    this.int(dx);
    this.buf[this.len++] = SPACE;
    this.int(dy);
  }

  close(): void {
    this.room(1);
    this.buf[this.len++] = Z;
  }

  /** The path data so far; the writer is emptied. */
  take(): string {
    const s = this.buf.toString('latin1', 0, this.len);
    this.len = 0;
    return s;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** A safe integer in decimal (TWKB coordinates are integers in units of 10^-precision). */
  private int(v: number): void {
    if (v < 0) {
      this.buf[this.len++] = MINUS;
      v = -v;
    }
    if (v < 10) {
      this.buf[this.len++] = 48 + v;
      return;
    }
    // Digits from the right, then reversed in place.
    const start = this.len;
    while (v > 0) {
      const q = Math.floor(v / 10);
      this.buf[this.len++] = 48 + (v - q * 10);
      v = q;
    }
    for (let i = start, j = this.len - 1; i < j; i++, j--) {
      const t = this.buf[i]!;
      this.buf[i] = this.buf[j]!;
      this.buf[j] = t;
    }
  }
}
