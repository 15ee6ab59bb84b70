/**
 * Dependencies point one way (issue 8, project rule "No import cycles"): dependency-cruiser, with the rules of
 * .dependency-cruiser.cjs, over the core (src/), the services (services/) and the composition root (app/):
 * no cycle between modules nor between folders (type-only imports included), and nothing under src/ imports
 * services/ or app/, nothing under services/ imports app/, and OGC API – Records does not build on the CSW adapter
 * (both on src/record-search, issue 12). `npm run deps` prints the same check.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
  cycle?: Array<{ name: string } | string>;
}
interface Result {
  summary: { violations: Violation[]; totalCruised: number; ruleSetUsed: { forbidden?: Array<{ name: string }> } };
  modules: Array<{ source: string }>;
}

function cruise(): Result {
  const out = execFileSync(process.execPath, [CLI, 'src', 'services', 'app', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out) as Result;
}

describe('module dependencies', () => {
  const result = cruise();

  it('cruises the core, the services and the composition root with the project rules', () => {
    const sources = result.modules.map((m) => m.source);
    expect(sources).toContain('src/platform.ts');
    expect(sources).toContain('services/features/wfs/index.ts');
    expect(sources).toContain('app/server.ts');
    expect(result.summary.totalCruised).toBeGreaterThan(100);
    expect(result.summary.ruleSetUsed.forbidden?.map((r) => r.name).sort()).toEqual(['core-not-to-services', 'no-circular', 'no-circular-folders', 'records-api-not-to-csw', 'services-not-to-app']);
  });

  it('has no import cycle and no dependency from the core up to the services or the composition root', () => {
    const shown = result.summary.violations.map((v) => {
      const path = (v.cycle ?? []).map((c) => (typeof c === 'string' ? c : c.name));
      return `${v.rule.name}: ${v.from} → ${path.length ? path.join(' → ') : v.to}`;
    });
    expect(shown).toEqual([]);
  });
});
