/**
 * The CRS registry: which EPSG codes exist (PostGIS spatial_ref_sys, so every code we accept can be
 * transformed by ST_Transform), which the platform offers, and proj4 for the few transforms done in Node:
 * layer extents for capabilities, and clamping a BBOX to the target CRS's area of use while a filter is
 * compiled to SQL (synchronously, tolerating points PROJ cannot transform, which ST_Transform would turn
 * into a failed statement). proj4 is given the offered codes only: for a BBOX in any other CRS the clamp
 * leaves the box as it is. Feature coordinates are always transformed in PostGIS, never here.
 */
import proj4 from 'proj4';
import { areaOfUse, ensureAllCrsFacts, preloadCrsFacts, useCrsCodeCheck } from './facts.js';
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
    // Codes PostGIS does not know are never probed (src/crs/facts.ts); 4326 backs CRS84 and area clamping.
    useCrsCodeCheck((srid) => known.has(srid));
    await preloadCrsFacts([4326, ...offered].filter((s) => known.has(s)));
    const defs = new Map<number, { proj4: string; name: string }>();
    for (const r of rows) {
      if (r.proj4text) defs.set(r.srid, { proj4: r.proj4text.trim(), name: /^[A-Z]+CS\["([^"]+)"/.exec(r.srtext ?? '')?.[1] ?? `EPSG:${r.srid}` });
    }
    return new CrsRegistry(known, defs, offered.filter((s) => known.has(s)));
  }

  /** A registry of these codes without proj4 definitions: planners and compilers tested without a database. */
  static fromCodes(known: number[], offered: number[]): CrsRegistry {
    return new CrsRegistry(new Set(known), new Map(), offered.filter((s) => known.includes(s)));
  }

  isKnown(srid: number): boolean {
    return this.known.has(srid);
  }

  /**
   * Load the facts (axis order, area of use…) of the codes a request uses, before anything reads them
   * synchronously. Codes PostGIS does not know are skipped without a probe: the caller refuses them.
   */
  async prepare(srids: Iterable<number | undefined>): Promise<void> {
    await ensureAllCrsFacts([...srids].filter((s): s is number => s !== undefined && this.known.has(s)));
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

