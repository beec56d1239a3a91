import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { commitDescription, machineDescription, markdownTable, readBenchFile, renderMarkdown, writeText } from './report.js';
import type { ScenarioRecord } from './report.js';
import { scenarios } from './scenarios/index.js';

const usage = `Usage: pnpm bench [--full] [--only id,id] [--seed N] [--no-write]

Scenarios: ${scenarios.map((s) => s.id).join(', ') || '(none registered)'}
Writes docs/benchmarks.md, docs/benchmarks.json and the docs/bench-*.svg charts unless --no-write.
--full runs every scenario longer for tighter tails; --seed seeds every simulated latency, error and lie.`;

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
  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
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
  const commit = commitDescription(fileURLToPath(new URL('../../../', import.meta.url)));

  const runStarted = performance.now();
  const charts: Array<{ file: string; svg: string }> = [];
  for (const scenario of selected) {
    console.error(`\n▶ ${scenario.title}`);
    const started = performance.now();
    const result = await scenario.run({ full: values.full, seed, log: (line) => console.error(`  ${line}`) });
    const wallTimeS = (performance.now() - started) / 1000;
    for (const table of result.tables) console.log(`\n${markdownTable(table)}`);
    for (const goal of result.goals) console.log(`${goal.met ? '✔' : '✘'} ${goal.goal} — ${goal.measured}`);
    console.error(`  (${wallTimeS.toFixed(1)} s)`);
    const { charts: scenarioCharts = [], ...rest } = result;
    charts.push(...scenarioCharts);
    const record: ScenarioRecord = {
      id: scenario.id,
      title: scenario.title,
      description: scenario.description,
      command,
      date: new Date().toISOString().slice(0, 10),
      machine,
      commit,
      wallTimeS: Number(wallTimeS.toFixed(1)),
      result: { ...rest, charts: scenarioCharts.map(({ file: chartFile, title }) => ({ file: chartFile, title })) },
    };
    file.scenarios[scenario.id] = record;
  }
  const wallTimeS = (performance.now() - runStarted) / 1000;
  console.error(`\nall selected scenarios: ${wallTimeS.toFixed(1)} s`);
  file.lastRun = {
    command,
    date: new Date().toISOString().slice(0, 10),
    machine,
    seed,
    full: values.full,
    wallTimeS: Number(wallTimeS.toFixed(1)),
    scenarios: selected.map((s) => s.id),
    commit,
  };
  if (!values['no-write']) {
    for (const chart of charts) writeText(`${docs}${chart.file}`, chart.svg);
    writeText(jsonPath, `${JSON.stringify(file, null, 2)}\n`);
    writeText(`${docs}benchmarks.md`, renderMarkdown(file, scenarios));
    console.error(
      `\nwrote ${docs}benchmarks.md, benchmarks.json${charts.length > 0 ? ` and ${charts.map((c) => c.file).join(', ')}` : ''}`,
    );
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
