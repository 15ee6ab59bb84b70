/**
 * GML geometry literals (as found in FES / Filter 1.x spatial operators) → GeoJSON-shaped geometry in x/y order.
 *
 * Reads GML 3.2 (`http://www.opengis.net/gml/3.2`), GML 3.1.1 and GML 2 (`http://www.opengis.net/gml`):
 * Point, LineString, LinearRing, Polygon (exterior/interior, outerBoundaryIs/innerBoundaryIs), Curve
 * (LineStringSegment), Surface/Polygon patches, MultiPoint, MultiCurve/MultiLineString,
 * MultiSurface/MultiPolygon, MultiGeometry, Envelope/Box; coordinates from pos, posList (srsDimension 2/3,
 * Z dropped), coordinates (cs/ts/decimal) and coord (X/Y/Z).
 *
 * Axis order: the effective srsName (the element's own, else the nearest ancestor's, else the one inherited
 * from the caller) goes through parseCrs; when isYX() says the form implies northing/latitude first, each
 * position is swapped to x/y. No other place decides axis order.
 */
import type { Envelope, GeometryLiteral } from './ast.js';
import type { XmlElement } from '../xml/tree.js';
import { NS } from '../xml/namespaces.js';
import { isYX, parseCrs, type CrsRef } from '../crs/identifiers.js';
import { OgcError } from '../ogc/errors.js';

type Position = [number, number];
type GeoJson = GeometryLiteral['geojson'];

/** '' admits namespace-less filters (WFS 1.0 KVP FILTER values often declare no namespace at all). */
const GML_NAMESPACES = new Set<string>([NS.gml32, NS.gml, '']);

/** Is this element a GML element (3.2 or 3.1.1/2, or undeclared)? */
export function isGmlElement(el: XmlElement): boolean {
  return GML_NAMESPACES.has(el.ns);
}

/** Local names of the GML geometry elements this reader understands (Envelope/Box excluded). */
export const GML_GEOMETRY_NAMES: ReadonlySet<string> = new Set([
  'Point',
  'LineString',
  'LinearRing',
  'Polygon',
  'Curve',
  'Surface',
  'MultiPoint',
  'MultiCurve',
  'MultiLineString',
  'MultiSurface',
  'MultiPolygon',
  'MultiGeometry',
]);

export const GML_ENVELOPE_NAMES: ReadonlySet<string> = new Set(['Envelope', 'Box']);

/** Per-read state: the CRS the literal is expressed in (all parts must agree) and where to report errors. */
class Ctx {
  crs: CrsRef | undefined;
  constructor(readonly locator: string) {}

  fail(message: string): never {
    throw new OgcError('InvalidParameterValue', message, this.locator);
  }

  /** Resolve the effective srsName at an element; records the SRID of the literal. */
  resolve(el: XmlElement, inherited: CrsRef | undefined): CrsRef | undefined {
    const srsName = el.attrs['srsName'];
    if (srsName === undefined || srsName.trim() === '') return inherited;
    const ref = parseCrs(srsName);
    if (!ref) this.fail(`Unknown or unsupported srsName "${srsName}" on gml:${el.name}`);
    return ref;
  }

  /** Put one position in x/y order and record the CRS it is expressed in (all positions must agree). */
  orient(p: Position, crs: CrsRef | undefined): Position {
    if (!crs) return p;
    if (this.crs && this.crs.srid !== crs.srid) {
      this.fail(`The geometry mixes coordinate reference systems (${this.crs.text} and ${crs.text})`);
    }
    if (!this.crs) this.crs = crs;
    return isYX(crs) ? [p[1], p[0]] : p;
  }
}

function parseInherited(ctx: Ctx, inheritedSrs: string | undefined): CrsRef | undefined {
  if (inheritedSrs === undefined || inheritedSrs.trim() === '') return undefined;
  const ref = parseCrs(inheritedSrs);
  if (!ref) ctx.fail(`Unknown or unsupported srsName "${inheritedSrs}"`);
  return ref;
}

/**
 * Read a GML geometry element. `inheritedSrs` is the srsName of an enclosing element (used when the
 * geometry carries none). Unknown srsName → OgcError InvalidParameterValue (locator `FILTER` by default).
 */
export function readGmlGeometry(el: XmlElement, inheritedSrs?: string, locator = 'FILTER'): GeometryLiteral {
  const ctx = new Ctx(locator);
  const inherited = parseInherited(ctx, inheritedSrs);
  let geojson: GeoJson;
  if (isGmlElement(el) && GML_ENVELOPE_NAMES.has(el.name)) {
    const env = readEnvelopeInner(ctx, el, inherited);
    geojson = envelopeToPolygon(env);
  } else {
    geojson = readGeometry(ctx, el, inherited);
  }
  const crs = ctx.crs ?? ctx.resolve(el, inherited);
  return crs ? { geojson, srid: crs.srid } : { geojson };
}

/** Read gml:Envelope (lowerCorner/upperCorner, pos×2, coordinates, coord×2) or GML 2 gml:Box. */
export function readGmlEnvelope(el: XmlElement, inheritedSrs?: string, locator = 'FILTER'): Envelope {
  const ctx = new Ctx(locator);
  const inherited = parseInherited(ctx, inheritedSrs);
  if (!isGmlElement(el) || !GML_ENVELOPE_NAMES.has(el.name)) {
    ctx.fail(`Expected gml:Envelope or gml:Box, found ${qname(el)}`);
  }
  const [lo, hi] = readEnvelopeInner(ctx, el, inherited);
  const env: Envelope = { minx: lo[0], miny: lo[1], maxx: hi[0], maxy: hi[1] };
  const crs = ctx.crs ?? ctx.resolve(el, inherited);
  if (crs) env.srid = crs.srid;
  return env;
}

/** Polygon ring of an envelope (x/y corners), counter-clockwise. */
export function envelopeToPolygon(corners: [Position, Position] | Envelope): GeoJson {
  const [minx, miny, maxx, maxy] = Array.isArray(corners)
    ? [corners[0][0], corners[0][1], corners[1][0], corners[1][1]]
    : [corners.minx, corners.miny, corners.maxx, corners.maxy];
  return {
    type: 'Polygon',
    coordinates: [
      [
        [minx, miny],
        [maxx, miny],
        [maxx, maxy],
        [minx, maxy],
        [minx, miny],
      ],
    ],
  };
}

function qname(el: XmlElement): string {
  return el.prefix ? `${el.prefix}:${el.name}` : el.name;
}

function gmlChildren(el: XmlElement, name?: string): XmlElement[] {
  return el.children.filter((c) => isGmlElement(c) && (name === undefined || c.name === name));
}

function gmlChild(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => isGmlElement(c) && c.name === name);
}

function readEnvelopeInner(ctx: Ctx, el: XmlElement, inherited: CrsRef | undefined): [Position, Position] {
  const crs = ctx.resolve(el, inherited);
  const dim = srsDimension(ctx, el, undefined);
  let pts: Position[];
  const lower = gmlChild(el, 'lowerCorner');
  const upper = gmlChild(el, 'upperCorner');
  if (lower || upper) {
    if (!lower || !upper) ctx.fail(`gml:${el.name} needs both lowerCorner and upperCorner`);
    pts = [readPos(ctx, lower, crs, dim), readPos(ctx, upper, crs, dim)];
  } else {
    pts = readPositions(ctx, el, crs, dim);
  }
  if (pts.length !== 2) ctx.fail(`gml:${el.name} must have exactly two corners`);
  return [pts[0]!, pts[1]!];
}

/** srsDimension (or GML 3.0 `dimension`) on this element, else the inherited value, else 2. */
function srsDimension(ctx: Ctx, el: XmlElement, inherited: number | undefined): number | undefined {
  const raw = el.attrs['srsDimension'] ?? el.attrs['dimension'];
  if (raw === undefined) return inherited;
  const n = Number(raw.trim());
  if (n !== 2 && n !== 3) ctx.fail(`Unsupported srsDimension "${raw}" on gml:${el.name} (2 or 3 expected)`);
  return n;
}

function parseNumber(ctx: Ctx, s: string, where: string): number {
  const n = Number(s);
  if (s === '' || !Number.isFinite(n)) ctx.fail(`Invalid coordinate "${s}" in gml:${where}`);
  return n;
}

function numbersOf(text: string): string[] {
  const t = text.trim();
  return t === '' ? [] : t.split(/\s+/);
}

/** gml:pos / lowerCorner / upperCorner: 2 or 3 numbers (or srsDimension of them). */
function readPos(ctx: Ctx, el: XmlElement, crs: CrsRef | undefined, dimIn: number | undefined): Position {
  const own = ctx.resolve(el, crs);
  const nums = numbersOf(el.text).map((s) => parseNumber(ctx, s, el.name));
  const dim = srsDimension(ctx, el, dimIn) ?? (nums.length === 3 ? 3 : 2);
  if (nums.length !== dim) ctx.fail(`gml:${el.name} must hold ${dim} numbers, found ${nums.length}`);
  return ctx.orient([nums[0]!, nums[1]!], own);
}

function readPosList(ctx: Ctx, el: XmlElement, crs: CrsRef | undefined, dimIn: number | undefined): Position[] {
  const own = ctx.resolve(el, crs);
  const dim = srsDimension(ctx, el, dimIn) ?? 2;
  const nums = numbersOf(el.text).map((s) => parseNumber(ctx, s, el.name));
  const count = el.attrs['count'] !== undefined ? Number(el.attrs['count']) : undefined;
  if (nums.length % dim !== 0) ctx.fail(`gml:posList length ${nums.length} is not a multiple of srsDimension ${dim}`);
  if (count !== undefined && Number.isFinite(count) && count * dim !== nums.length) {
    ctx.fail(`gml:posList count="${count}" does not match its ${nums.length / dim} positions`);
  }
  const out: Position[] = [];
  for (let i = 0; i < nums.length; i += dim) out.push(ctx.orient([nums[i]!, nums[i + 1]!], own));
  return out;
}

/** GML 2 / 3.1 gml:coordinates with cs (default ','), ts (default whitespace), decimal (default '.'). */
function readCoordinates(ctx: Ctx, el: XmlElement, crs: CrsRef | undefined): Position[] {
  const own = ctx.resolve(el, crs);
  const cs = el.attrs['cs'] ?? ',';
  const ts = el.attrs['ts'] ?? ' ';
  const decimal = el.attrs['decimal'] ?? '.';
  if (cs === '' || ts === '' || decimal === '' || cs === ts || cs === decimal || ts === decimal) {
    ctx.fail('gml:coordinates has invalid cs/ts/decimal attributes');
  }
  const isWs = (s: string) => /^\s+$/.test(s);
  let text = el.text.trim();
  if (!isWs(cs)) text = text.split(cs).map((p) => p.trim()).join(cs); // tolerate "10, 20"
  if (!isWs(ts)) text = text.split(ts).map((p) => p.trim()).join(ts);
  if (text === '') return [];
  const tuples = isWs(ts) ? text.split(/\s+/) : text.split(ts);
  return tuples.map((tuple) => {
    const parts = (isWs(cs) ? tuple.trim().split(/\s+/) : tuple.split(cs)).map((p) =>
      parseNumber(ctx, decimal === '.' ? p.trim() : p.trim().split(decimal).join('.'), 'coordinates'),
    );
    if (parts.length !== 2 && parts.length !== 3) {
      ctx.fail(`gml:coordinates tuple "${tuple}" must have 2 or 3 values`);
    }
    return ctx.orient([parts[0]!, parts[1]!], own);
  });
}

/** GML 2 gml:coord with X, Y[, Z]. */
function readCoord(ctx: Ctx, el: XmlElement, crs: CrsRef | undefined): Position {
  const x = gmlChild(el, 'X');
  const y = gmlChild(el, 'Y');
  if (!x || !y) ctx.fail('gml:coord needs gml:X and gml:Y');
  return ctx.orient([parseNumber(ctx, x.text.trim(), 'X'), parseNumber(ctx, y.text.trim(), 'Y')], crs);
}

/**
 * The positions directly under a Point/LineString/LinearRing/Envelope/LineStringSegment: posList, a sequence
 * of pos / pointProperty / pointRep / Point, coordinates, or coord elements.
 */
function readPositions(ctx: Ctx, el: XmlElement, crs: CrsRef | undefined, dim: number | undefined): Position[] {
  const posList = gmlChild(el, 'posList');
  if (posList) return readPosList(ctx, posList, crs, dim);
  const coordinates = gmlChild(el, 'coordinates');
  if (coordinates) return readCoordinates(ctx, coordinates, crs);
  const out: Position[] = [];
  for (const c of gmlChildren(el)) {
    if (c.name === 'pos') out.push(readPos(ctx, c, crs, dim));
    else if (c.name === 'coord') out.push(readCoord(ctx, c, crs));
    else if (c.name === 'pointProperty' || c.name === 'pointRep') {
      const p = gmlChild(c, 'Point');
      if (!p) ctx.fail(`gml:${c.name} must contain a gml:Point (xlink references are not supported)`);
      out.push(readPointPosition(ctx, p, crs, dim));
    } else if (c.name === 'Point') out.push(readPointPosition(ctx, c, crs, dim));
  }
  return out;
}

function readPointPosition(ctx: Ctx, el: XmlElement, inherited: CrsRef | undefined, dimIn: number | undefined): Position {
  const crs = ctx.resolve(el, inherited);
  const dim = srsDimension(ctx, el, dimIn);
  const pts = readPositions(ctx, el, crs, dim);
  if (pts.length !== 1) ctx.fail(`gml:Point must have exactly one position, found ${pts.length}`);
  return pts[0]!;
}

function readLine(ctx: Ctx, el: XmlElement, crs: CrsRef | undefined, dim: number | undefined, min: number): Position[] {
  const pts = readPositions(ctx, el, crs, dim);
  if (pts.length < min) ctx.fail(`gml:${el.name} needs at least ${min} positions, found ${pts.length}`);
  return pts;
}

function readRing(ctx: Ctx, el: XmlElement, inherited: CrsRef | undefined, dimIn: number | undefined): Position[] {
  const crs = ctx.resolve(el, inherited);
  const dim = srsDimension(ctx, el, dimIn);
  let pts: Position[];
  if (el.name === 'LinearRing') pts = readLine(ctx, el, crs, dim, 4);
  else if (el.name === 'Ring') {
    // GML 3.1/3.2 gml:Ring: curveMember+ each holding a curve; concatenate.
    pts = [];
    for (const m of gmlChildren(el, 'curveMember')) {
      const curve = m.children.find((c) => isGmlElement(c));
      if (!curve) ctx.fail('gml:curveMember must contain a curve (xlink references are not supported)');
      appendPath(pts, curveCoords(ctx, curve, crs, dim));
    }
    if (pts.length < 4) ctx.fail(`gml:Ring needs at least 4 positions, found ${pts.length}`);
  } else ctx.fail(`Unsupported ring element ${qname(el)}`);
  const first = pts[0]!;
  const last = pts[pts.length - 1]!;
  if (first[0] !== last[0] || first[1] !== last[1]) ctx.fail(`gml:${el.name} is not closed`);
  return pts;
}

function appendPath(out: Position[], pts: Position[]): void {
  const last = out[out.length - 1];
  const start = last && pts[0] && last[0] === pts[0][0] && last[1] === pts[0][1] ? 1 : 0;
  for (let i = start; i < pts.length; i++) out.push(pts[i]!);
}

function ringOf(ctx: Ctx, boundary: XmlElement, crs: CrsRef | undefined, dim: number | undefined): Position[] {
  const ring = boundary.children.find((c) => isGmlElement(c));
  if (!ring) ctx.fail(`gml:${boundary.name} must contain a ring`);
  return readRing(ctx, ring, crs, dim);
}

/** Polygon or PolygonPatch → rings. */
function polygonCoords(ctx: Ctx, el: XmlElement, inherited: CrsRef | undefined, dimIn: number | undefined): Position[][] {
  const crs = ctx.resolve(el, inherited);
  const dim = srsDimension(ctx, el, dimIn);
  const exterior = gmlChildren(el).filter((c) => c.name === 'exterior' || c.name === 'outerBoundaryIs');
  if (exterior.length !== 1) ctx.fail(`gml:${el.name} must have exactly one exterior boundary`);
  const rings = [ringOf(ctx, exterior[0]!, crs, dim)];
  for (const c of gmlChildren(el)) {
    if (c.name === 'interior' || c.name === 'innerBoundaryIs') rings.push(ringOf(ctx, c, crs, dim));
  }
  return rings;
}

/** Surface (patches/PolygonPatch) → list of polygons. */
function surfacePolygons(ctx: Ctx, el: XmlElement, inherited: CrsRef | undefined, dimIn: number | undefined): Position[][][] {
  const crs = ctx.resolve(el, inherited);
  const dim = srsDimension(ctx, el, dimIn);
  if (el.name === 'Polygon') return [polygonCoords(ctx, el, crs, dim)];
  if (el.name === 'Surface') {
    const patches = gmlChild(el, 'patches') ?? gmlChild(el, 'polygonPatches');
    if (!patches) ctx.fail('gml:Surface must have gml:patches');
    const out: Position[][][] = [];
    for (const p of gmlChildren(patches)) {
      if (p.name !== 'PolygonPatch') ctx.fail(`Unsupported surface patch gml:${p.name}`);
      out.push(polygonCoords(ctx, p, crs, dim));
    }
    if (out.length === 0) ctx.fail('gml:Surface has no patches');
    return out;
  }
  if (el.name === 'MultiSurface' || el.name === 'MultiPolygon') {
    const g = readGeometry(ctx, el, crs, dim);
    return g.coordinates as Position[][][];
  }
  ctx.fail(`Expected a surface, found ${qname(el)}`);
}

/** LineString / Curve (LineStringSegment segments) → positions. */
function curveCoords(ctx: Ctx, el: XmlElement, inherited: CrsRef | undefined, dimIn: number | undefined): Position[] {
  const crs = ctx.resolve(el, inherited);
  const dim = srsDimension(ctx, el, dimIn);
  if (el.name === 'LineString' || el.name === 'LinearRing') return readLine(ctx, el, crs, dim, 2);
  if (el.name === 'Curve') {
    const segments = gmlChild(el, 'segments');
    if (!segments) ctx.fail('gml:Curve must have gml:segments');
    const out: Position[] = [];
    for (const s of gmlChildren(segments)) {
      if (s.name !== 'LineStringSegment') ctx.fail(`Unsupported curve segment gml:${s.name}`);
      const segCrs = ctx.resolve(s, crs);
      appendPath(out, readLine(ctx, s, segCrs, srsDimension(ctx, s, dim), 2));
    }
    if (out.length < 2) ctx.fail('gml:Curve has no segments');
    return out;
  }
  ctx.fail(`Expected a curve, found ${qname(el)}`);
}

/** Members of a Multi* element: `<xMember>` (one geometry each) and `<xMembers>` (several). */
function members(ctx: Ctx, el: XmlElement, single: string[], plural: string[]): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of gmlChildren(el)) {
    if (single.includes(c.name)) {
      const g = c.children.find((x) => isGmlElement(x));
      if (!g) ctx.fail(`gml:${c.name} must contain a geometry (xlink references are not supported)`);
      out.push(g);
    } else if (plural.includes(c.name)) {
      out.push(...c.children.filter((x) => isGmlElement(x)));
    }
  }
  return out;
}

function readGeometry(ctx: Ctx, el: XmlElement, inherited: CrsRef | undefined, dimIn?: number): GeoJson {
  if (!isGmlElement(el)) ctx.fail(`Expected a GML geometry, found ${qname(el)} (namespace "${el.ns}")`);
  const crs = ctx.resolve(el, inherited);
  const dim = srsDimension(ctx, el, dimIn);
  switch (el.name) {
    case 'Point':
      return { type: 'Point', coordinates: readPointPosition(ctx, el, crs, dim) };
    case 'LineString':
    case 'Curve':
      return { type: 'LineString', coordinates: curveCoords(ctx, el, crs, dim) };
    case 'LinearRing':
      // A bare ring as a filter literal: a polygon without holes.
      return { type: 'Polygon', coordinates: [readRing(ctx, el, crs, dim)] };
    case 'Polygon':
      return { type: 'Polygon', coordinates: polygonCoords(ctx, el, crs, dim) };
    case 'Surface': {
      const polys = surfacePolygons(ctx, el, crs, dim);
      return polys.length === 1 ? { type: 'Polygon', coordinates: polys[0] } : { type: 'MultiPolygon', coordinates: polys };
    }
    case 'MultiPoint': {
      const pts = members(ctx, el, ['pointMember'], ['pointMembers']).map((p) => {
        if (p.name !== 'Point') ctx.fail(`gml:MultiPoint member must be a gml:Point, found gml:${p.name}`);
        return readPointPosition(ctx, p, crs, dim);
      });
      return { type: 'MultiPoint', coordinates: pts };
    }
    case 'MultiCurve':
    case 'MultiLineString': {
      const lines: Position[][] = [];
      for (const m of members(ctx, el, ['curveMember', 'lineStringMember'], ['curveMembers'])) {
        if (m.name === 'MultiCurve' || m.name === 'MultiLineString') {
          lines.push(...((readGeometry(ctx, m, crs, dim).coordinates as Position[][]) ?? []));
        } else lines.push(curveCoords(ctx, m, crs, dim));
      }
      return { type: 'MultiLineString', coordinates: lines };
    }
    case 'MultiSurface':
    case 'MultiPolygon': {
      const polys: Position[][][] = [];
      for (const m of members(ctx, el, ['surfaceMember', 'polygonMember'], ['surfaceMembers', 'polygonMembers'])) {
        polys.push(...surfacePolygons(ctx, m, crs, dim));
      }
      return { type: 'MultiPolygon', coordinates: polys };
    }
    case 'MultiGeometry': {
      const geoms = members(ctx, el, ['geometryMember'], ['geometryMembers']).map((m) => readGeometry(ctx, m, crs, dim));
      return { type: 'GeometryCollection', geometries: geoms };
    }
    case 'Envelope':
    case 'Box':
      return envelopeToPolygon(readEnvelopeInner(ctx, el, crs));
    default:
      ctx.fail(`Unsupported GML geometry gml:${el.name}`);
  }
}
