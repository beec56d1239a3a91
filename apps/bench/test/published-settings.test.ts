import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseSettingsTables } from '../src/report.js';
import { scenarios } from '../src/scenarios/index.js';

// docs/benchmarks.md publishes each contender's settings; they must be what the code's defaults produce
// today, or the figures beside them describe another configuration than the one a reader would get.
const published = readFileSync(fileURLToPath(new URL('../../../docs/benchmarks.md', import.meta.url)), 'utf8');
const tables = parseSettingsTables(published);
const withSettings = scenarios.filter((s) => s.settings !== undefined);

describe('docs/benchmarks.md settings', () => {
  it('has scenarios whose settings are checked', () => {
    expect(withSettings.map((s) => s.id)).toEqual(expect.arrayContaining(['rpc-tail', 'rpc-correctness', 'evm-normal', 'evm-faults']));
  });

  for (const scenario of withSettings) {
    it(`the "${scenario.id}" section shows the settings the code produces today`, () => {
      const table = tables.get(scenario.title);
      expect(table, `docs/benchmarks.md has no settings table under "## ${scenario.title}": run pnpm bench`).toBeDefined();
      const expected = Object.fromEntries(scenario.settings!().map((s) => [s.name, s.settings]));
      expect(Object.fromEntries(table!)).toEqual(expected);
    });
  }
});
