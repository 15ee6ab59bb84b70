/**
 * TWKB (Tiny Well-Known Binary, https://github.com/TWKB/Specification) decoder, straight into drawing
 * commands. PostGIS prepares map geometries already in pixel coordinates (src/render/sql.ts) and encodes
 * them with ST_AsTWKB: varint deltas, a few bytes a vertex, vertices that round to the same position
 * dropped by PostGIS. Node reads the bytes and calls the sink; no geometry is ever parsed as text.
 *
 * Deltas carry over from one part or ring to the next inside one geometry (as PostGIS writes them);
 * each member of a GeometryCollection is a whole TWKB geometry of its own, with its own header.
 * Z and M, when present, are read and ignored.
 */

/** What a decoded geometry is drawn as. */
export type DrawKind = 'point' | 'line' | 'polygon';

/** Receives the geometry; one call of `begin` per simple part's kind (a collection may mix kinds). */
export interface PathSink {
  /** A point (of a Point or MultiPoint). */
  point(x: number, y: number): void;
  /** Start a line or ring of `kind` at (x, y). */
  moveTo(kind: 'line' | 'polygon', x: number, y: number): void;
  lineTo(kind: 'line' | 'polygon', x: number, y: number): void;
  /** End of a polygon ring. */
  closeRing(): void;
  /**
   * With `units` (DecodeOptions): called at each geometry's header with its TWKB precision, before its
   * coordinates, which then come as integers in units of 10^-precision.
   */
  precision?(precision: number): void;
}

export class TwkbError extends Error {}

const TYPES: Record<number, string> = { 1: 'Point', 2: 'LineString', 3: 'Polygon', 4: 'MultiPoint', 5: 'MultiLineString', 6: 'MultiPolygon', 7: 'GeometryCollection' };

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.buf.length) throw new TwkbError('TWKB truncated');
    return this.buf[this.pos++]!;
  }

  /** Unsigned LEB128 varint (up to 2^53). */
  uvarint(): number {
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * shift;
      if ((b & 0x80) === 0) return result;
      shift *= 128;
    }
    throw new TwkbError('TWKB varint too long');
  }

  /** Zigzag-encoded signed varint. */
  svarint(): number {
    const u = this.uvarint();
    // (u >>> 1) ^ -(u & 1), without 32-bit overflow.
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
}

/**
 * Decode one TWKB geometry (as one row of ST_AsTWKB) into the sink. Returns the number of bytes read
 * (a buffer holds exactly one geometry; the count lets tests check it).
 */
export function decodeTwkb(buf: Uint8Array, sink: PathSink, opts: DecodeOptions = {}): number {
  const r = new Reader(buf);
  readGeometry(r, sink, opts.openRings === true, opts.units === true);
  return r.pos;
}

export interface DecodeOptions {
  /**
   * Leave out a ring's closing vertex (the repeat of its first): the sink closes rings in closeRing. A canvas
   * path then takes one call less a ring (at 50 km, simplified parcels are 4.3 vertices, closing one included).
   */
  openRings?: boolean;
  /**
   * Coordinates as TWKB stores them, integers in units of 10^-precision (the sink's `precision` says which),
   * unscaled: the canvas writes them as SVG path data, whose integers are shorter and cheaper to format.
   */
  units?: boolean;
}

function readGeometry(r: Reader, sink: PathSink, openRings: boolean, units: boolean): void {
  const head = r.byte();
  const type = head & 0x0f;
  const zz = (head & 0xf0) >> 4;
  const precision = zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2;
  const meta = r.byte();
  const hasBbox = (meta & 0x01) !== 0;
  const hasSize = (meta & 0x02) !== 0;
  const hasIds = (meta & 0x04) !== 0;
  const hasExt = (meta & 0x08) !== 0;
  const empty = (meta & 0x10) !== 0;
  let dims = 2;
  if (hasExt) {
    const ext = r.byte();
    dims += (ext & 0x01 ? 1 : 0) + (ext & 0x02 ? 1 : 0);
  }
  if (hasSize) r.uvarint();
  if (hasBbox) for (let i = 0; i < dims * 2; i++) r.svarint();
  if (!TYPES[type]) throw new TwkbError(`Unknown TWKB geometry type ${type}`);
  if (empty) return;
  const scale = units ? 1 : Math.pow(10, -precision);
  if (units) sink.precision?.(precision);
  // The running position (deltas are relative to the previous vertex of the same geometry).
  const at = new Array<number>(dims).fill(0);
  const vertex = (): void => {
    for (let d = 0; d < dims; d++) at[d] = at[d]! + r.svarint();
  };
  const ids = (n: number) => {
    if (hasIds) for (let i = 0; i < n; i++) r.svarint();
  };
  const points = (n: number, kind: 'line' | 'polygon') => {
    let x0 = 0;
    let y0 = 0;
    for (let i = 0; i < n; i++) {
      vertex();
      const x = at[0]! * scale;
      const y = at[1]! * scale;
      if (i === 0) {
        sink.moveTo(kind, x, y);
        x0 = x;
        y0 = y;
      } else if (!(openRings && i === n - 1 && kind === 'polygon' && x === x0 && y === y0)) sink.lineTo(kind, x, y);
    }
  };
  const polygon = () => {
    const rings = r.uvarint();
    for (let k = 0; k < rings; k++) {
      points(r.uvarint(), 'polygon');
      sink.closeRing();
    }
  };
  switch (type) {
    case 1:
      vertex();
      sink.point(at[0]! * scale, at[1]! * scale);
      return;
    case 2:
      points(r.uvarint(), 'line');
      return;
    case 3:
      polygon();
      return;
    case 4: {
      const n = r.uvarint();
      ids(n);
      for (let i = 0; i < n; i++) {
        vertex();
        sink.point(at[0]! * scale, at[1]! * scale);
      }
      return;
    }
    case 5: {
      const n = r.uvarint();
      ids(n);
      for (let i = 0; i < n; i++) points(r.uvarint(), 'line');
      return;
    }
    case 6: {
      const n = r.uvarint();
      ids(n);
      for (let i = 0; i < n; i++) polygon();
      return;
    }
    case 7: {
      const n = r.uvarint();
      ids(n);
      for (let i = 0; i < n; i++) readGeometry(r, sink, openRings, units);
      return;
    }
  }
}

/** A decoded geometry as plain arrays (tests, GetFeatureInfo): points, lines and rings in order. */
export interface DecodedGeometry {
  points: Array<[number, number]>;
  lines: Array<Array<[number, number]>>;
  rings: Array<Array<[number, number]>>;
}

export function decodeTwkbToArrays(buf: Uint8Array): DecodedGeometry {
  const out: DecodedGeometry = { points: [], lines: [], rings: [] };
  let current: Array<[number, number]> = [];
  decodeTwkb(buf, {
    point: (x, y) => out.points.push([x, y]),
    moveTo: (kind, x, y) => {
      current = [[x, y]];
      (kind === 'line' ? out.lines : out.rings).push(current);
    },
    lineTo: (_kind, x, y) => current.push([x, y]),
    closeRing: () => undefined,
  });
  return out;
}
