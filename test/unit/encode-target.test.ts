/**
 * encodeTarget (src/formats/target.ts), the one place a plan becomes what the encoders write, without a server:
 * selected columns, geometry or not, the clipped column of a clipped extract, and the axis order each protocol
 * asks for (WFS 2.0 §7.9.2.4.1 / OGC API Features Part 2: the CRS's own order for a URN or URI; RFC 7946
 * GeoJSON and CSV: x/y).
 */
import { describe, expect, it } from 'vitest';
import { planFeatureQuery } from '../../src/query/planner.js';
import { CLIPPED } from '../../src/query/compile.js';
import { encodeTarget } from '../../src/formats/target.js';
import { PublicPolicy } from '../../src/access/policy.js';
import { CrsRegistry } from '../../src/crs/registry.js';
import { crsRef } from '../../src/crs/identifiers.js';
import { communes } from './planner-fixtures.js';
import { preloadTestCrs } from './preload-crs.js';

preloadTestCrs();


const env = { policy: new PublicPolicy(), crs: CrsRegistry.fromCodes([2154, 4326, 3857], [2154, 4326, 3857]) };
const anyone = {};
const opts = { prefix: 'sdi', idPrefix: 'communes.' };

describe('encodeTarget', () => {
  it('all columns and the geometry by default; only the named properties, geometry only when named', () => {
    const all = encodeTarget(planFeatureQuery(env, anyone, communes, { action: 'read', outputCrs: crsRef(2154, 'urn') }), { ...opts, axisOrder: 'crs' });
    expect(all.columns.map((c) => c.name)).toEqual(['code', 'nom']);
    expect(all.includeGeometry).toBe(true);
    const some = encodeTarget(planFeatureQuery(env, anyone, communes, { action: 'read', outputCrs: crsRef(2154, 'urn'), properties: ['NOM'] }), { ...opts, axisOrder: 'crs' });
    expect(some.columns.map((c) => c.name)).toEqual(['nom']);
    expect(some.includeGeometry).toBe(false);
    expect(some.prefix).toBe('sdi');
    expect(some.idPrefix).toBe('communes.');
  });

  it("axis order: a URN of EPSG:4326 is latitude first when the protocol follows the CRS, never for 'xy'", () => {
    const urn = planFeatureQuery(env, anyone, communes, { action: 'read', outputCrs: crsRef(4326, 'urn') });
    expect(encodeTarget(urn, { ...opts, axisOrder: 'crs' }).swapXY).toBe(true);
    expect(encodeTarget(urn, { ...opts, axisOrder: 'xy' }).swapXY).toBe(false);
    // EPSG:4326 written as EPSG:4326 (WFS 1.0 style) and CRS84 are x/y whatever the protocol.
    expect(encodeTarget(planFeatureQuery(env, anyone, communes, { action: 'read', outputCrs: crsRef(4326, 'epsg') }), { ...opts, axisOrder: 'crs' }).swapXY).toBe(false);
    // Lambert 93 is easting first.
    expect(encodeTarget(planFeatureQuery(env, anyone, communes, { action: 'read', outputCrs: crsRef(2154, 'urn') }), { ...opts, axisOrder: 'crs' }).swapXY).toBe(false);
  });

  it('a clipped extract: encoders read the clipped geometry column, in the output CRS asked', () => {
    const q = planFeatureQuery(env, anyone, communes, { action: 'download', outputCrs: crsRef(3857, 'epsg'), ordered: false, area: { ewkbHex: '0103000020E6100000', srid: 4326, clip: true } });
    const t = encodeTarget(q, { prefix: 'sdi', idPrefix: '', axisOrder: 'xy' });
    expect(t.layer.geometry!.column).toBe(CLIPPED);
    expect(t.outputCrs.srid).toBe(3857);
    const unclipped = planFeatureQuery(env, anyone, communes, { action: 'download', outputCrs: crsRef(3857, 'epsg'), ordered: false, area: { ewkbHex: '0103000020E6100000', srid: 4326, clip: false } });
    expect(encodeTarget(unclipped, { prefix: 'sdi', idPrefix: '', axisOrder: 'xy' }).layer.geometry!.column).toBe('geom');
  });
});
