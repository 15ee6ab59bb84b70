/**
 * EPSG axis order, asked of GDAL/PROJ (the authority data), cached per code.
 * Used only through `isYX()` in identifiers.ts.
 */
import gdal from 'gdal-async';

const cache = new Map<number, boolean>();

export function axisIsNorthingFirst(srid: number): boolean {
  let v = cache.get(srid);
  if (v === undefined) {
    try {
      const srs = gdal.SpatialReference.fromEPSG(srid);
      v = srs.EPSGTreatsAsLatLong() || srs.EPSGTreatsAsNorthingEasting();
    } catch {
      v = false;
    }
    cache.set(srid, v);
  }
  return v;
}

/** True for geographic (degree-based) CRSs: decides coordinate precision and distance handling. */
export function isGeographic(srid: number): boolean {
  try {
    return gdal.SpatialReference.fromEPSG(srid).isGeographic();
  } catch {
    return false;
  }
}
