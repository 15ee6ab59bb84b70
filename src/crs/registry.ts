/**
 * The CRS registry: which EPSG codes exist (PostGIS spatial_ref_sys, so every code we accept can be
 * transformed by ST_Transform), which the platform offers, and proj4 for the few transforms done in Node
 * (extents for capabilities). Feature coordinates are always transformed in PostGIS, never here.
 */
import proj4 from 'proj4';
import gdal from 'gdal-async';
import { existsSync } from 'node:fs';
import type { Pool } from '../db/pool.js';

export interface Bbox {
  minx: number;
  miny: number;
  maxx: number;
  maxy: number;
}

export class CrsRegistry {
  private constructor(
    private readonly known: Set<number>,
    private readonly defs: Map<number, { proj4: string; name: string }>,
    readonly offered: number[],
  ) {
    for (const [srid, d] of defs) if (d.proj4) proj4.defs(`EPSG:${srid}`, d.proj4);
  }

  static async load(pool: Pool, offered: number[]): Promise<CrsRegistry> {
    const { rows } = await pool.query<{ srid: number; proj4text: string | null; srtext: string | null }>(
      `SELECT srid, CASE WHEN srid = ANY($1::int[]) THEN proj4text END AS proj4text,
              CASE WHEN srid = ANY($1::int[]) THEN srtext END AS srtext
         FROM spatial_ref_sys WHERE auth_name = 'EPSG'`,
      [offered],
    );
    const known = new Set(rows.map((r) => r.srid));
    const defs = new Map<number, { proj4: string; name: string }>();
    for (const r of rows) {
      if (r.proj4text) defs.set(r.srid, { proj4: r.proj4text.trim(), name: /^[A-Z]+CS\["([^"]+)"/.exec(r.srtext ?? '')?.[1] ?? `EPSG:${r.srid}` });
    }
    return new CrsRegistry(known, defs, offered.filter((s) => known.has(s)));
  }

  isKnown(srid: number): boolean {
    return this.known.has(srid);
  }

  name(srid: number): string {
    return this.defs.get(srid)?.name ?? `EPSG:${srid}`;
  }

  /** CRS list of a layer: its own CRS first, then the offered ones. */
  layerCrs(defaultCrs: number, other: number[] | null): number[] {
    return [defaultCrs, ...(other ?? this.offered).filter((s) => s !== defaultCrs && this.known.has(s))];
  }

  /**
   * Clip a box (x/y order, in `from`) to the area where `to` is defined (EPSG area of use, from PROJ's
   * database), so that a whole-world BBOX sent to a Lambert-93 layer (QGIS does that) transforms instead
   * of failing. Returns null when they do not overlap.
   */
  clampToAreaOfUse(b: Bbox, from: number, to: number): Bbox | null {
    const area = areaOfUse(to);
    if (!area) return b;
    let a: Bbox;
    try {
      a = from === 4326 ? area : this.transformBbox(area, 4326, from);
    } catch {
      return b;
    }
    const out = { minx: Math.max(b.minx, a.minx), miny: Math.max(b.miny, a.miny), maxx: Math.min(b.maxx, a.maxx), maxy: Math.min(b.maxy, a.maxy) };
    return out.minx <= out.maxx && out.miny <= out.maxy ? out : null;
  }

  /** Transform a box in x/y order, densifying its edges so the result encloses the curved image. */
  transformBbox(b: Bbox, from: number, to: number): Bbox {
    if (from === to) return b;
    const fwd = proj4(`EPSG:${from}`, `EPSG:${to}`);
    const xs: number[] = [];
    const ys: number[] = [];
    const steps = 16;
    for (let i = 0; i <= steps; i++) {
      const fx = b.minx + ((b.maxx - b.minx) * i) / steps;
      const fy = b.miny + ((b.maxy - b.miny) * i) / steps;
      for (const [x, y] of [[fx, b.miny], [fx, b.maxy], [b.minx, fy], [b.maxx, fy]] as const) {
        const [tx, ty] = fwd.forward([x, y]);
        if (Number.isFinite(tx) && Number.isFinite(ty)) {
          xs.push(tx!);
          ys.push(ty!);
        }
      }
    }
    return { minx: Math.min(...xs), miny: Math.min(...ys), maxx: Math.max(...xs), maxy: Math.max(...ys) };
  }
}

const areas = new Map<number, Bbox | null>();

/** EPSG area of use of a CRS as a lon/lat box, read from PROJ's own database through GDAL's SQLite driver. */
export function areaOfUse(srid: number): Bbox | null {
  if (areas.has(srid)) return areas.get(srid)!;
  let box: Bbox | null = null;
  try {
    const dbPath = ['/usr/share/proj/proj.db', ...(process.env.PROJ_DATA ? [`${process.env.PROJ_DATA}/proj.db`] : [])].find((p) => existsSync(p));
    const ds = gdal.open(dbPath!);
    const code = String(Math.trunc(srid));
    const r = ds.executeSQL(
      `SELECT e.south_lat, e.north_lat, e.west_lon, e.east_lon FROM usage u JOIN extent e ON e.auth_name = u.extent_auth_name AND e.code = u.extent_code
        WHERE u.object_auth_name = 'EPSG' AND u.object_code = '${code}' AND u.object_table_name IN ('projected_crs', 'geodetic_crs') LIMIT 1`,
    );
    const f = r.features.first();
    if (f) {
      const v = f.fields.toObject() as { south_lat: number; north_lat: number; west_lon: number; east_lon: number };
      // Areas crossing the antimeridian (west > east) are not clipped.
      if (v.west_lon <= v.east_lon) box = { minx: v.west_lon, miny: v.south_lat, maxx: v.east_lon, maxy: v.north_lat };
    }
    ds.close();
  } catch {
    box = null;
  }
  areas.set(srid, box);
  return box;
}
