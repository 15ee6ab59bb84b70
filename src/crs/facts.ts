/**
 * What the EPSG database says of a CRS (axis order, geographic or not, area of use), asked of PROJ through
 * GDAL in a child process (src/crs/facts-probe.mjs) and cached: the serving process never loads GDAL for
 * this, and never waits for the child synchronously.
 *
 *  - The platform's offered CRSs (and every layer's own and listed CRSs, see LayerCatalog) are probed once,
 *    at start or when the catalogue loads, and kept for the life of the process.
 *  - Any other code is probed on demand, asynchronously (`ensureCrsFacts`), and only when PostGIS knows it
 *    (spatial_ref_sys, the check the registry installs with `useCrsCodeCheck`): an unknown code is refused
 *    by the protocol's usual error path and never reaches a child process. Concurrent demands for one code
 *    share one probe; on-demand answers are kept in a bounded cache (oldest dropped first).
 *  - The synchronous accessors (`axisIsNorthingFirst`, `isGeographic`, `areaOfUse`) only read the cache.
 *    For a code PostGIS does not know they answer the neutral UNKNOWN facts (the request is refused later
 *    anyway). For a known code not yet probed they throw `CrsFactsNotLoaded` — an internal error, never a
 *    guess: a wrong axis-order guess would silently swap coordinates. Request readers run under
 *    `withCrsFacts`, which catches it, awaits the probe and reads the request again (readers are pure), so a
 *    client never sees it; anywhere else it is a 500 that tests catch, and a probe is started in the
 *    background so that the next request finds the answer.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { projectPath } from '../paths.js';

export interface CrsFacts {
  known: boolean;
  northingFirst: boolean;
  geographic: boolean;
  /** Area of use as a lon/lat box (x/y order); null when unknown or crossing the antimeridian. */
  area: { minx: number; miny: number; maxx: number; maxy: number } | null;
}

/** A known code's facts were read before anything awaited them (see the module comment). */
export class CrsFactsNotLoaded extends Error {
  constructor(readonly srid: number) {
    super(`CRS facts for EPSG:${srid} were read before being loaded (await ensureCrsFacts first)`);
    this.name = 'CrsFactsNotLoaded';
  }
}

const PROBE = projectPath('src', 'crs', 'facts-probe.mjs');
const PROBE_TIMEOUT_MS = 30_000;
/** On-demand codes kept; the preloaded ones are not counted and never dropped. */
export const ON_DEMAND_CACHE_SIZE = 256;
const UNKNOWN: CrsFacts = Object.freeze({ known: false, northingFirst: false, geographic: false, area: null }) as CrsFacts;

const pinned = new Map<number, CrsFacts>();
const onDemand = new Map<number, CrsFacts>();
const inflight = new Map<number, Promise<CrsFacts>>();
let probes = 0;
/** Whether PostGIS knows a code; installed by the CRS registry. Until then every code is probed. */
let codeIsKnown: (srid: number) => boolean = () => true;

export function useCrsCodeCheck(check: (srid: number) => boolean): void {
  codeIsKnown = check;
}

/** Child processes started so far (for tests: an unknown code must not start one). */
export const crsProbeCount = (): number => probes;

/** Forget the on-demand cache (tests). The preloaded facts stay. */
export function clearOnDemandCrsFacts(): void {
  onDemand.clear();
}

async function probe(codes: number[]): Promise<Record<number, CrsFacts>> {
  probes++;
  const { stdout } = await promisify(execFile)(process.execPath, [PROBE, ...codes.map(String)], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: PROBE_TIMEOUT_MS,
    encoding: 'utf8',
  });
  const out: Record<number, CrsFacts> = {};
  for (const [code, f] of Object.entries(JSON.parse(stdout) as Record<string, CrsFacts>)) out[Number(code)] = f;
  return out;
}

function cached(srid: number): CrsFacts | undefined {
  return pinned.get(srid) ?? onDemand.get(srid);
}

/** Probe the codes not yet known, in one child, and keep their facts for the life of the process. */
export async function preloadCrsFacts(codes: number[]): Promise<void> {
  for (const c of codes) {
    const f = onDemand.get(c);
    if (f) {
      onDemand.delete(c);
      pinned.set(c, f);
    }
  }
  const missing = [...new Set(codes)].filter((c) => Number.isInteger(c) && c > 0 && !pinned.has(c) && codeIsKnown(c));
  if (missing.length === 0) return;
  const found = await probe(missing);
  for (const c of missing) pinned.set(c, found[c] ?? UNKNOWN);
}

/**
 * The facts of one code, probing it (asynchronously, once however many ask at the same time) when it is
 * known to PostGIS and not cached. A code PostGIS does not know answers UNKNOWN without any probe. A probe
 * that fails (timeout, crash) rejects and is not cached, so a later request tries again.
 */
export function ensureCrsFacts(srid: number): Promise<CrsFacts> {
  const hit = cached(srid);
  if (hit) return Promise.resolve(hit);
  if (!Number.isInteger(srid) || srid <= 0 || !codeIsKnown(srid)) return Promise.resolve(UNKNOWN);
  let p = inflight.get(srid);
  if (!p) {
    p = probe([srid])
      .then((found) => {
        const f = found[srid] ?? UNKNOWN;
        if (!pinned.has(srid)) {
          onDemand.set(srid, f);
          while (onDemand.size > ON_DEMAND_CACHE_SIZE) onDemand.delete(onDemand.keys().next().value!);
        }
        return f;
      })
      .finally(() => inflight.delete(srid));
    inflight.set(srid, p);
  }
  return p;
}

/** Ensure several codes at once (duplicates and cached codes cost nothing). */
export async function ensureAllCrsFacts(srids: Iterable<number | undefined>): Promise<void> {
  const todo = [...new Set(srids)].filter((s): s is number => s !== undefined && !cached(s));
  if (todo.length) await Promise.all(todo.map(ensureCrsFacts));
}

/** Synchronous read of the cache; see the module comment for what a miss does. */
export function crsFacts(srid: number): CrsFacts {
  const f = cached(srid);
  if (f) return f;
  if (!Number.isInteger(srid) || srid <= 0 || !codeIsKnown(srid)) return UNKNOWN;
  // Warm the cache for the next request; this one fails rather than guess.
  void ensureCrsFacts(srid).catch(() => undefined);
  throw new CrsFactsNotLoaded(srid);
}

/**
 * Run a (pure, re-runnable) request reader; when it reads the facts of a code not loaded yet, load them and
 * read again. Each round loads one more code, so the number of rounds is bounded by the distinct codes in
 * the request; the limit is a guard against a reader that would keep asking.
 */
export async function withCrsFacts<T>(read: () => T | Promise<T>): Promise<T> {
  for (let round = 0; ; round++) {
    try {
      return await read();
    } catch (e) {
      if (!(e instanceof CrsFactsNotLoaded) || round >= 16) throw e;
      await ensureCrsFacts(e.srid);
    }
  }
}

export const axisIsNorthingFirst = (srid: number) => crsFacts(srid).northingFirst;
export const isGeographic = (srid: number) => crsFacts(srid).geographic;
export const areaOfUse = (srid: number) => crsFacts(srid).area;
