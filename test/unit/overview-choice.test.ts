/**
 * Issue 9 (W5), overviews: which level the one planner reads for a map (src/query/planner.ts chooseOverview), and
 * the one statement compile.ts makes of it (the overview while fresh, else the table, decided by one-time filters).
 * The database side (freshness, pictures, grants) is test/maps/overviews.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { planFeatureQuery, type FeatureQuerySpec } from '../../src/query/planner.js';
import { compileSelect } from '../../src/query/compile.js';
import { PublicPolicy, type AccessDecision, type Principal } from '../../src/access/policy.js';
import type { Layer } from '../../src/catalog/layers.js';
import type { OverviewLevel } from '../../src/catalog/overviews.js';
import { crsRef } from '../../src/crs/identifiers.js';
import { communes, crs, env, anonymous } from './planner-fixtures.js';

const levels: OverviewLevel[] = [8, 32, 128].map((r, level) => ({ layer: 'communes', level, cell: r / 8, minResolution: r, srid: 2154, table: `ov_communes_${level}_x` }));
const box = { kind: 'bbox' as const, envelope: { minx: 593_500, miny: 6_731_400, maxx: 643_500, maxy: 6_781_400, srid: 2154 }, boxOnly: true };
const view = (resolution: number, extra: Partial<FeatureQuerySpec> = {}): FeatureQuerySpec => ({
  action: 'view',
  outputCrs: crsRef(2154, 'epsg'),
  filter: box,
  properties: ['geom'],
  ordered: false,
  overview: { resolution, srid: 2154, levels },
  ...extra,
});
const plan = (spec: FeatureQuerySpec, policy = new PublicPolicy()) => planFeatureQuery(env(policy), anonymous, communes, spec);

class Territorial extends PublicPolicy {
  decide(p: Principal, layer: Layer, action: 'read' | 'view' | 'download'): AccessDecision {
    const d = super.decide(p, layer, action);
    return { ...d, restriction: (params, alias) => `${alias}.code LIKE ${params.add('45%', 'text')}` };
  }
}

describe('the planner chooses an overview level for a map', () => {
  it('the coarsest level made for the map resolution or a finer one', () => {
    expect(plan(view(48.8)).overview?.level).toBe(1); // W5: 50 km on 1,024 px
    expect(plan(view(32)).overview?.level).toBe(1);
    expect(plan(view(31.9)).overview?.level).toBe(0);
    expect(plan(view(500)).overview?.level).toBe(2);
    expect(plan(view(7.9)).overview).toBeUndefined(); // finer than every level: the table
    expect(plan(view(48.8)).overview).toMatchObject({ table: 'ov_communes_1_x', cell: 4, srid: 2154, box: { minx: 593_500, maxy: 6_781_400 } });
  });

  it('never for a restricted caller, another filter than the box, another CRS, or a request that is not a whole map', () => {
    expect(plan(view(48.8), new Territorial()).overview).toBeUndefined();
    const cql = { kind: 'comparison', op: '=', property: 'code', value: '45234' } as unknown as FeatureQuerySpec['filter'];
    expect(plan(view(48.8, { filter: { kind: 'and', operands: [box, cql!] } })).overview).toBeUndefined();
    expect(plan(view(48.8, { filter: { ...box, envelope: { ...box.envelope, srid: 3857 } }, overview: { resolution: 48.8, srid: 3857, levels } })).overview).toBeUndefined();
    expect(plan(view(48.8, { action: 'read' })).overview).toBeUndefined();
    expect(plan(view(48.8, { ordered: true })).overview).toBeUndefined();
    expect(plan(view(48.8, { limit: 10 })).overview).toBeUndefined();
    expect(plan(view(48.8, { overview: { resolution: 48.8, srid: 2154, levels: levels.map((l) => ({ ...l, layer: 'other' })) } })).overview).toBeUndefined();
    expect(plan(view(48.8, { overview: undefined })).overview).toBeUndefined();
  });

  it('compiles one statement: the overview while sdi.overview_fresh says so, else the table with the same predicates', () => {
    const q = plan(view(48.8));
    // The overview's list: the table's columns, then a marker and a count (NULL, NULL in the table's rows).
    const sql = compileSelect(q, { crs, overviewSelect: () => `o.twkb, '', o.svg, o.parts` }, () => `ST_AsTWKB(t."geom"), ''`);
    expect(sql.text).toMatch(/^SELECT o\.twkb, '', o\.svg, o\.parts FROM sdi_overviews\."ov_communes_1_x" AS o WHERE o\.box && ST_MakeEnvelope\(.*\) AND sdi\.overview_fresh\(\$1::text\) UNION ALL SELECT ST_AsTWKB\(t\."geom"\), '', NULL, NULL FROM "data"\."communes" AS t WHERE .* AND NOT sdi\.overview_fresh\(\$1::text\)$/);
    expect(sql.values[0]).toBe('ov_communes_1_x');
    // Without an overview select list (another reader than the map), the table as always.
    expect(compileSelect(q, { crs }, () => 't.gid').text).not.toMatch(/overview/);
  });
});
