/**
 * Unit tests read requests without a platform: load the facts of the codes they use first, since the
 * synchronous accessors of src/crs/facts.ts never probe (they throw CrsFactsNotLoaded for a code not loaded).
 */
import { beforeAll } from 'vitest';
import { preloadCrsFacts } from '../../src/crs/facts.js';

export const preloadTestCrs = () => beforeAll(() => preloadCrsFacts([2154, 3035, 3857, 4258, 4326, 4979]), 60_000);
