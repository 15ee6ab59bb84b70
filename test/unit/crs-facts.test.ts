/**
 * CRS facts (src/crs/facts.ts): codes not preloaded are probed asynchronously, once however many ask at
 * the same time; a code PostGIS does not know never starts a probe; a synchronous read of a code not
 * loaded throws rather than blocks or guesses; withCrsFacts reads a request again once the code is loaded.
 * Counts of probes (child processes), no timings.
 */
import { afterAll, describe, expect, test } from 'vitest';
import {
  CrsFactsNotLoaded,
  axisIsNorthingFirst,
  clearOnDemandCrsFacts,
  crsFacts,
  crsProbeCount,
  ensureCrsFacts,
  useCrsCodeCheck,
  withCrsFacts,
} from '../../src/crs/facts.js';
import { isYX, parseCrs } from '../../src/crs/identifiers.js';

// Codes this file treats as absent from spatial_ref_sys (the registry installs the real check).
const ABSENT = new Set([999999, 999998]);
useCrsCodeCheck((srid) => !ABSENT.has(srid));
afterAll(() => useCrsCodeCheck(() => true));

describe('CRS facts on demand', () => {
  test('two concurrent ensure calls for one code start one probe', async () => {
    clearOnDemandCrsFacts();
    const before = crsProbeCount();
    const [a, b] = await Promise.all([ensureCrsFacts(32631), ensureCrsFacts(32631)]);
    expect(crsProbeCount()).toBe(before + 1);
    expect(a).toBe(b);
    expect(a).toMatchObject({ known: true, northingFirst: false, geographic: false });
    expect(a.area).not.toBeNull();
    // Cached: neither a later ensure nor a synchronous read starts another.
    await ensureCrsFacts(32631);
    expect(crsFacts(32631)).toBe(a);
    expect(crsProbeCount()).toBe(before + 1);
  });

  test('a northing-first projected code loaded on demand (EPSG:3034)', async () => {
    const f = await ensureCrsFacts(3034);
    expect(f).toMatchObject({ known: true, northingFirst: true, geographic: false });
    expect(axisIsNorthingFirst(3034)).toBe(true);
  });

  test('a code PostGIS does not know starts no probe, synchronously or not', async () => {
    const before = crsProbeCount();
    expect(await ensureCrsFacts(999999)).toMatchObject({ known: false, northingFirst: false });
    expect(crsFacts(999998)).toMatchObject({ known: false });
    expect(isYX(parseCrs('urn:ogc:def:crs:EPSG::999999')!)).toBe(false);
    expect(crsProbeCount()).toBe(before);
  });

  test('a synchronous read of a known code not loaded throws, and warms the cache with one probe', async () => {
    clearOnDemandCrsFacts();
    const before = crsProbeCount();
    expect(() => crsFacts(32632)).toThrow(CrsFactsNotLoaded);
    // The warm-up started by the miss is the probe this ensure waits for.
    const f = await ensureCrsFacts(32632);
    expect(f.known).toBe(true);
    expect(crsProbeCount()).toBe(before + 1);
    expect(crsFacts(32632)).toBe(f);
  });

  test('withCrsFacts reads again once the code is loaded', async () => {
    clearOnDemandCrsFacts();
    let reads = 0;
    const yx = await withCrsFacts(() => {
      reads++;
      return isYX(parseCrs('urn:ogc:def:crs:EPSG::3034')!);
    });
    expect(yx).toBe(true);
    expect(reads).toBe(2);
    // Errors other than a missing code pass through untouched.
    await expect(withCrsFacts(() => { throw new RangeError('x'); })).rejects.toThrow(RangeError);
  });
});
