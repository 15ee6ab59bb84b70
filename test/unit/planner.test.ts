/**
 * The one planner and the one compiler, without a server (issue 8): plans for representative WFS, OGC API and
 * download requests, the policy asked with the caller, the protocol-neutral errors, and the SQL compiled for
 * select, count and the clipped select (parameters bound, never spliced).
 */
import { describe, expect, it } from 'vitest';
import { planFeatureQuery } from '../../src/query/planner.js';
import { compileCount, compileSelect, encodedLayer, CLIPPED } from '../../src/query/compile.js';
import { DenyAllPolicy, PublicPolicy, type Principal } from '../../src/access/policy.js';
import { crsRef } from '../../src/crs/identifiers.js';
import { ParamsRowBinder } from '../../src/db/binder.js';
import type { Layer } from '../../src/catalog/layers.js';
import { communes, crs, env, planError, read, someone } from './planner-fixtures.js';

describe('planFeatureQuery', () => {
  it('asks the policy with the caller and the action', () => {
    const asked: Array<[Principal, string]> = [];
    const policy = new (class extends PublicPolicy {
      override decide(p: Principal, l: Layer, a: Parameters<PublicPolicy['decide']>[2]) {
        asked.push([p, `${l.name}:${a}`]);
        return super.decide(p, l, a);
      }
    })();
    planFeatureQuery(env(policy), someone, communes, read());
    planFeatureQuery(env(policy), someone, communes, { ...read(), action: 'download' });
    expect(asked).toEqual([
      [someone, 'communes:read'],
      [someone, 'communes:download'],
    ]);
  });

  it('a refusal is a forbidden PlanError about the layer (each adapter maps it: 403)', () => {
    expect(planError(() => planFeatureQuery(env(new DenyAllPolicy()), someone, communes, read()))).toMatchObject({ kind: 'forbidden', param: 'layer' });
  });

  it('WFS-like: properties resolved by local name and case, geometry only when named, sort keys resolved, ordered', () => {
    const q = planFeatureQuery(env(), someone, communes, read({ properties: ['sdi:NOM', 'geom'], sortBy: [{ name: 'Code', descending: true }], offset: 20, limit: 10 }));
    expect(q).toMatchObject({ properties: ['nom'], includeGeometry: true, sortBy: [{ column: 'code', descending: true }], offset: 20, limit: 10, ordered: true });
    expect(planFeatureQuery(env(), someone, communes, read({ properties: ['nom'] })).includeGeometry).toBe(false);
  });

  it('unknown property, sort on the geometry, CRS not offered: invalid PlanErrors naming the part', () => {
    expect(planError(() => planFeatureQuery(env(), someone, communes, read({ properties: ['population'] })))).toMatchObject({ kind: 'invalid', param: 'properties' });
    expect(planError(() => planFeatureQuery(env(), someone, communes, read({ sortBy: [{ name: 'geom', descending: false }] })))).toMatchObject({ kind: 'invalid', param: 'sortBy' });
    // 3035 exists but is not offered (the offered list is 2154, 4326, 3857).
    expect(planError(() => planFeatureQuery(env(), someone, communes, read({ outputCrs: crsRef(3035, 'urn') })))).toMatchObject({ kind: 'invalid', param: 'crs' });
  });

  it('OGC API-like (items?properties=nom&sortby=-code&limit=10&offset=20&crs=CRS84): a page in a stable order, no geometry unless named', () => {
    const q = planFeatureQuery(env(), someone, communes, { action: 'read', outputCrs: crsRef(4326, 'crs84'), properties: ['nom'], sortBy: [{ name: 'code', descending: true }], limit: 10, offset: 20 });
    expect(q).toMatchObject({ properties: ['nom'], includeGeometry: false, sortBy: [{ column: 'code', descending: true }], limit: 10, offset: 20, ordered: true, outputCrs: { srid: 4326 } });
    // The sort key first, then the feature id: pages never overlap (OGC API's next link is offset-based).
    expect(compileSelect(q, { crs }, () => 't.gid', 1).text).toMatch(/ORDER BY t\."code" DESC.*t\."gid"/);
  });

  it('download-like: unordered, whole layer, area with clip', () => {
    const q = planFeatureQuery(env(), someone, communes, { action: 'download', outputCrs: crsRef(4326, 'epsg'), ordered: false, area: { ewkbHex: '00', srid: 4326, clip: true } });
    expect(q).toMatchObject({ ordered: false, limit: null, offset: 0, area: { srid: 4326, clip: true } });
  });
});

describe('compile: one set of functions for select, count and clipped select', () => {
  const base = planFeatureQuery(env(), someone, communes, read({ filter: { kind: 'compare', op: '=', left: { kind: 'property', name: 'nom' }, right: { kind: 'literal', value: "Orléans'; DROP TABLE x; --" }, matchCase: true }, limit: 10, offset: 5 }));

  it('a paged select: filter bound as a parameter, total order, LIMIT/OFFSET bound', () => {
    const s = compileSelect(base, { crs }, () => 't.gid', 1);
    expect(s.text).toMatch(/FROM "data"."communes" AS t WHERE .*"nom".* ORDER BY t."gid" LIMIT \$\d+::bigint OFFSET \$\d+::bigint/);
    expect(s.text).not.toContain('DROP TABLE');
    expect(s.values).toContain("Orléans'; DROP TABLE x; --");
    expect(s.values).toContain(11); // limit + 1 extra row
  });

  it('count: same WHERE, no ORDER BY, no paging', () => {
    const c = compileCount(base, { crs });
    expect(c.text).toMatch(/^SELECT count\(\*\)::bigint AS n FROM "data"."communes" AS t WHERE /);
    expect(c.text).not.toMatch(/ORDER BY|LIMIT/);
  });

  it('an unordered plan has no ORDER BY (maps, tiles, extracts)', () => {
    const q = planFeatureQuery(env(), someone, communes, read({ ordered: false }));
    expect(compileSelect(q, { crs }, () => 't.gid').text).not.toContain('ORDER BY');
  });

  it('clipped select: area bound once as EWKB, intersection in a sub-select, empties dropped, encoders read the clipped column', () => {
    const q = planFeatureQuery(env(), someone, communes, { action: 'download', outputCrs: crsRef(2154, 'epsg'), ordered: false, area: { ewkbHex: '0103000020E6100000', srid: 4326, clip: true } });
    const s = compileSelect(q, { crs }, () => `t.${CLIPPED}`);
    expect(s.text).toMatch(/ST_Intersects\(t."geom", \(SELECT ST_Transform\(\$1::geometry, \$2::integer\)\)\)/);
    expect(s.text).toContain(`AS "${CLIPPED}"`);
    expect(s.text).toContain(`WHERE NOT ST_IsEmpty(t."${CLIPPED}")`);
    expect(s.values.filter((v) => v === '0103000020E6100000')).toHaveLength(1);
    expect(encodedLayer(q).geometry!.column).toBe(CLIPPED);
    const count = compileCount(q, { crs });
    expect(count.text).toContain('ST_Touches'); // polygons only touching the area are not counted (nothing left once clipped)
  });

  it('the same plan through the parameters-row binder (GDAL statements): no request value in the text', () => {
    const binder = new ParamsRowBinder('00000000-0000-0000-0000-000000000000');
    const s = compileSelect(base, { crs }, () => 't.gid', 0, binder);
    expect(s.text).not.toContain('Orléans');
    expect(s.text).toContain('download_work.params');
  });
});
