/** A layer, a CRS registry and callers for the planner's unit tests (no database, no server). */
import { PublicPolicy, type AccessPolicy, type Principal } from '../../src/access/policy.js';
import { CrsRegistry } from '../../src/crs/registry.js';
import { crsRef } from '../../src/crs/identifiers.js';
import { expect } from 'vitest';
import { PlanError, type FeatureQuerySpec } from '../../src/query/planner.js';
import type { Layer } from '../../src/catalog/layers.js';

export const communes: Layer = {
  id: 1,
  name: 'communes',
  title: 'Communes',
  abstract: '',
  keywords: [],
  schema: 'data',
  table: 'communes',
  idColumn: 'gid',
  idKind: 'integer',
  geometry: { column: 'geom', type: 'MULTIPOLYGON', srid: 2154 },
  columns: [
    { name: 'code', kind: 'string', pgType: 'text', nullable: false },
    { name: 'nom', kind: 'string', pgType: 'text', nullable: false },
  ],
  defaultCrs: 2154,
  otherCrs: null,
  metadataRecordId: null,
  metadataIdentifier: null,
  updatedAt: new Date(0),
} as unknown as Layer;

export const crs = CrsRegistry.fromCodes([2154, 4326, 3857, 3035], [2154, 4326, 3857]);
export const env = (policy: AccessPolicy = new PublicPolicy()) => ({ policy, crs });
export const someone: Principal = { login: 'agent45' };
export const anonymous: Principal = {};
export const read = (extra: Partial<FeatureQuerySpec> = {}): FeatureQuerySpec => ({ action: 'read', outputCrs: crsRef(2154, 'urn'), ...extra });

/** The PlanError `fn` throws (fails the test when it throws nothing or something else). */
export function planError(fn: () => unknown): PlanError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PlanError);
    return e as PlanError;
  }
  throw new Error('expected a PlanError');
}
