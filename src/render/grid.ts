/**
 * The pixel grid of a map: a box in the map CRS (x/y order, whatever the protocol's axis order) and an
 * image size. World → pixel is x' = (x − minx)·sx, y' = (maxy − y)·sy: column 0 at the west edge, row 0
 * at the north edge, as WMS and tiles lay images out.
 */
import type { Bbox, CrsRegistry } from '../crs/registry.js';

export interface MapGrid {
  srid: number;
  bbox: Bbox;
  width: number;
  height: number;
}

/** The affine transform world → pixel, in ST_Affine's parameter order (a, b, d, e, xoff, yoff). */
export function pixelAffine(g: MapGrid): { a: number; b: number; d: number; e: number; xoff: number; yoff: number } {
  const sx = g.width / (g.bbox.maxx - g.bbox.minx);
  const sy = g.height / (g.bbox.maxy - g.bbox.miny);
  return { a: sx, b: 0, d: 0, e: -sy, xoff: -g.bbox.minx * sx, yoff: g.bbox.maxy * sy };
}

/** World coordinates (map CRS, x/y) → pixel (fractional; the pixel (i, j) covers [i, i+1) × [j, j+1)). */
export function toPixel(g: MapGrid, x: number, y: number): [number, number] {
  const t = pixelAffine(g);
  return [t.a * x + t.xoff, t.e * y + t.yoff];
}

/** The grid's box grown by `pixels` on each side (symbols of features just outside reach into the image). */
export function grownBbox(g: MapGrid, pixels: number): Bbox {
  const dx = ((g.bbox.maxx - g.bbox.minx) / g.width) * pixels;
  const dy = ((g.bbox.maxy - g.bbox.miny) / g.height) * pixels;
  return { minx: g.bbox.minx - dx, miny: g.bbox.miny - dy, maxx: g.bbox.maxx + dx, maxy: g.bbox.maxy + dy };
}

/**
 * The map's box in a layer's CRS, when the map lies inside the area where that CRS is defined (else
 * undefined: the caller works in pixel space after reprojection). Used to simplify and clip in the layer's
 * CRS before reprojecting, so that PostGIS transforms only what shows.
 */
export function bboxInLayerCrs(crs: CrsRegistry, box: Bbox, mapSrid: number, layerSrid: number): Bbox | undefined {
  if (mapSrid === layerSrid) return box;
  try {
    const clamped = crs.clampToAreaOfUse(box, mapSrid, layerSrid);
    if (!clamped || clamped.minx !== box.minx || clamped.miny !== box.miny || clamped.maxx !== box.maxx || clamped.maxy !== box.maxy) return undefined;
    const b = crs.transformBbox(box, mapSrid, layerSrid);
    return [b.minx, b.miny, b.maxx, b.maxy].every(Number.isFinite) && b.minx < b.maxx && b.miny < b.maxy ? b : undefined;
  } catch {
    return undefined;
  }
}
