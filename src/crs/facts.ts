/**
 * What the EPSG database says of a CRS (axis order, geographic or not, area of use), asked of PROJ through
 * GDAL in a child process (src/crs/facts-probe.mjs) and cached: the serving process never loads GDAL for
 * this. The platform's offered CRSs are loaded once at start; any other code is asked for on first use
 * (a blocking child call of ~0.2 s, once per code per process).
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { projectPath } from '../paths.js';

export interface CrsFacts {
  known: boolean;
  northingFirst: boolean;
  geographic: boolean;
  /** Area of use as a lon/lat box (x/y order); null when unknown or crossing the antimeridian. */
  area: { minx: number; miny: number; maxx: number; maxy: number } | null;
}

const cache = new Map<number, CrsFacts>();
const PROBE = projectPath('src', 'crs', 'facts-probe.mjs');
const UNKNOWN: CrsFacts = { known: false, northingFirst: false, geographic: false, area: null };

function store(json: string): void {
  for (const [code, f] of Object.entries(JSON.parse(json) as Record<string, CrsFacts>)) cache.set(Number(code), f);
}

export async function preloadCrsFacts(codes: number[]): Promise<void> {
  const missing = codes.filter((c) => !cache.has(c));
  if (missing.length === 0) return;
  const { stdout } = await promisify(execFile)(process.execPath, [PROBE, ...missing.map(String)], { maxBuffer: 16 * 1024 * 1024 });
  store(stdout);
}

export function crsFacts(srid: number): CrsFacts {
  let f = cache.get(srid);
  if (!f) {
    try {
      store(execFileSync(process.execPath, [PROBE, String(srid)], { encoding: 'utf8', timeout: 30_000 }));
    } catch {
      cache.set(srid, UNKNOWN);
    }
    f = cache.get(srid) ?? UNKNOWN;
  }
  return f;
}

export const axisIsNorthingFirst = (srid: number) => crsFacts(srid).northingFirst;
export const isGeographic = (srid: number) => crsFacts(srid).geographic;
export const areaOfUse = (srid: number) => crsFacts(srid).area;
