/**
 * The tile matrix sets of the tile services (WMTS 1.0.0 OGC 07-057r7 §6.1; OGC 17-083r2 Two-Dimensional Tile
 * Matrix Set):
 *
 * - WebMercatorQuad (EPSG:3857), OGC 17-083r2 annex D.1: one 256-pixel tile at level 0 covering
 *   ±20037508.3427892 m, each level halving the cell size; well-known scale set GoogleMapsCompatible.
 * - LAMB93_10cm (EPSG:2154), laid out as the French Géoplateforme (IGN's ROK4 tile server, data.geopf.fr/wmts)
 *   publishes Lambert-93 tiles: origin (0, 12 000 000), 256-pixel tiles, 22 levels from a cell of 209 715.2 m
 *   (level 0) halving down to 0.1 m (level 21), matrix widths and heights as published. Source: the ROK4
 *   tile matrix set definitions, github.com/rok4/tilematrixsets, files LAMB93_10cm.json (crs IGNF:LAMB93) and
 *   2154_10cm.json (crs EPSG:2154, the same grid).
 *
 * Scale denominators follow WMTS §6.1.1: cell size / 0.28 mm (the standardized rendering pixel).
 * Coordinates here are x/y (easting, northing); both CRSs are easting-first, so TopLeftCorner is x y too.
 */
import type { Bbox } from '../crs/registry.js';

/** WMTS §6.1.1 "standardized rendering pixel size": 0.28 mm. */
export const STANDARD_PIXEL_M = 0.00028;
export const TILE_SIZE = 256;

export interface TileMatrix {
  id: string;
  /** Ground size of one pixel, in CRS units (metres). */
  cellSize: number;
  scaleDenominator: number;
  matrixWidth: number;
  matrixHeight: number;
}

export interface TileMatrixSet {
  id: string;
  title: string;
  srid: number;
  /** ows:SupportedCRS. */
  crsUrn: string;
  /** OGC API / TMS 2.0 `crs`. */
  crsUri: string;
  wellKnownScaleSet?: string;
  /** OGC 17-083r2 registered definition (for OGC API – Tiles tileMatrixSetURI). */
  uri?: string;
  /** Top-left corner, x/y. */
  origin: [number, number];
  matrices: TileMatrix[];
}

const WEB_MERCATOR_HALF = 20037508.3427892;

function matrix(z: number, cellSize: number, width: number, height: number): TileMatrix {
  return { id: String(z), cellSize, scaleDenominator: cellSize / STANDARD_PIXEL_M, matrixWidth: width, matrixHeight: height };
}

/** Levels 0–20 (a 15 cm cell at level 20, the finest a regional data set needs). */
const webMercatorQuad: TileMatrixSet = {
  id: 'WebMercatorQuad',
  title: 'Google Maps Compatible for the World (OGC 17-083r2 WebMercatorQuad)',
  srid: 3857,
  crsUrn: 'urn:ogc:def:crs:EPSG::3857',
  crsUri: 'http://www.opengis.net/def/crs/EPSG/0/3857',
  wellKnownScaleSet: 'urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible',
  uri: 'http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad',
  origin: [-WEB_MERCATOR_HALF, WEB_MERCATOR_HALF],
  matrices: Array.from({ length: 21 }, (_, z) => matrix(z, (2 * WEB_MERCATOR_HALF) / TILE_SIZE / 2 ** z, 2 ** z, 2 ** z)),
};

// ROK4 LAMB93_10cm / 2154_10cm: matrix widths and heights of levels 0–21 as published.
const LAMB93_WIDTHS = [1, 1, 1, 1, 1, 1, 2, 4, 7, 13, 25, 50, 99, 197, 394, 788, 1575, 3150, 6300, 12600, 25200, 50400];
const LAMB93_HEIGHTS = [1, 1, 1, 2, 4, 7, 13, 26, 52, 103, 206, 411, 822, 1643, 3285, 6569, 13138, 26276, 52552, 105102, 210205, 420409];

const lamb93: TileMatrixSet = {
  id: 'LAMB93_10cm',
  title: 'Lambert-93 (RGF93 v1), grid of the Géoplateforme (IGN ROK4 LAMB93_10cm)',
  srid: 2154,
  crsUrn: 'urn:ogc:def:crs:EPSG::2154',
  crsUri: 'http://www.opengis.net/def/crs/EPSG/0/2154',
  origin: [0, 12_000_000],
  // 209715.2 / 2^z exactly (0.1 × 2^21): written as a product so that level 21 is exactly 0.1 m.
  matrices: LAMB93_WIDTHS.map((w, z) => matrix(z, Math.round(0.1 * 2 ** (21 - z) * 1e6) / 1e6, w, LAMB93_HEIGHTS[z]!)),
};

export const TILE_MATRIX_SETS: readonly TileMatrixSet[] = [webMercatorQuad, lamb93];

export function matrixSetById(id: string): TileMatrixSet | undefined {
  return TILE_MATRIX_SETS.find((s) => s.id === id);
}

/** The tile's box in the set's CRS (x/y). */
export function tileBbox(set: TileMatrixSet, m: TileMatrix, row: number, col: number): Bbox {
  const span = m.cellSize * TILE_SIZE;
  const minx = set.origin[0] + col * span;
  const maxy = set.origin[1] - row * span;
  return { minx, miny: maxy - span, maxx: minx + span, maxy };
}

/** The set's whole extent (level 0's matrix), x/y. */
export function matrixSetBbox(set: TileMatrixSet): Bbox {
  const m = set.matrices[0]!;
  const [x0, y0] = set.origin;
  return { minx: x0, miny: y0 - m.matrixHeight * m.cellSize * TILE_SIZE, maxx: x0 + m.matrixWidth * m.cellSize * TILE_SIZE, maxy: y0 };
}

/** Rows and columns of the tiles of `m` that a box (set CRS, x/y) touches, clamped to the matrix. */
export function tileRange(set: TileMatrixSet, m: TileMatrix, b: Bbox): { minCol: number; maxCol: number; minRow: number; maxRow: number } | undefined {
  const span = m.cellSize * TILE_SIZE;
  // A box edge on a tile edge does not reach into the next tile (ratios, so a unitless tolerance).
  const eps = 1e-9;
  const minCol = Math.max(0, Math.floor((b.minx - set.origin[0]) / span + eps));
  const maxCol = Math.min(m.matrixWidth - 1, Math.ceil((b.maxx - set.origin[0]) / span - eps) - 1);
  const minRow = Math.max(0, Math.floor((set.origin[1] - b.maxy) / span + eps));
  const maxRow = Math.min(m.matrixHeight - 1, Math.ceil((set.origin[1] - b.miny) / span - eps) - 1);
  if (minCol > maxCol || minRow > maxRow) return undefined;
  return { minCol, maxCol, minRow, maxRow };
}
