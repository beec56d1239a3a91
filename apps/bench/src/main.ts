import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { machineDescription, markdownTable, readBenchFile, renderMarkdown, writeText } from './report.js';
import type { ScenarioRecord } from './report.js';
import { scenarios } from './scenarios/index.js';

const usage = `Usage: pnpm bench [--full] [--only id,id] [--seed N] [--no-write]

Scenarios: ${scenarios.map((s) => s.id).join(', ') || '(none registered)'}
Writes docs/benchmarks.md and docs/benchmarks.json unless --no-write.`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        full: { type: 'boolean', default: false },
        only: { type: 'string' },
        seed: { type: 'string', default: '1' },
        'no-write': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\n${usage}`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) {
    console.error(`bench: --seed must be an integer, got ${values.seed}`);
    return 2;
  }
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = only?.filter((id) => !scenarios.some((s) => s.id === id)) ?? [];
  if (unknown.length > 0) {
    console.error(`bench: unknown scenario(s) ${unknown.join(', ')}\n${usage}`);
    return 2;
  }
  const selected = scenarios.filter((s) => !only || only.includes(s.id));
  const docs = fileURLToPath(new URL('../../../docs/', import.meta.url));
  const jsonPath = `${docs}benchmarks.json`;
  const file = readBenchFile(jsonPath);
  const command = ['pnpm bench', ...process.argv.slice(2)].join(' ');
  const machine = machineDescription();

  for (const scenario of selected) {
    console.error(`\n▶ ${scenario.title}`);
    const result = await scenario.run({ full: values.full, seed, log: (line) => console.error(`  ${line}`) });
    for (const table of result.tables) console.log(`\n${markdownTable(table)}`);
    for (const goal of result.goals) console.log(`${goal.met ? '✔' : '✘'} ${goal.goal} — ${goal.measured}`);
    const record: ScenarioRecord = {
      id: scenario.id,
      title: scenario.title,
      description: scenario.description,
      command,
      date: new Date().toISOString().slice(0, 10),
      machine,
      result,
    };
    file.scenarios[scenario.id] = record;
  }
  if (!values['no-write']) {
    writeText(jsonPath, `${JSON.stringify(file, null, 2)}\n`);
    writeText(`${docs}benchmarks.md`, renderMarkdown(file, scenarios));
    console.error(`\nwrote ${docs}benchmarks.md and benchmarks.json`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('bench failed:', error);
    process.exit(1);
  },
);
