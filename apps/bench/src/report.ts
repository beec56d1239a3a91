import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import type { Scenario, ScenarioResult, Table } from './types.js';

/** A chart as the JSON file keeps it: the SVG itself lives in docs/<file>. */
interface ChartLink {
  readonly file: string;
  readonly title: string;
}

export interface ScenarioRecord {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly command: string;
  readonly date: string;
  readonly machine: string;
  /** The commit the scenario ran from (see `RunRecord.commit`). */
  readonly commit?: string;
  /** Wall time of this scenario, in seconds. */
  readonly wallTimeS?: number;
  readonly result: Omit<ScenarioResult, 'charts'> & { readonly charts?: readonly ChartLink[] };
}

/** The last `pnpm bench` invocation that wrote the files. */
interface RunRecord {
  readonly command: string;
  readonly date: string;
  readonly machine: string;
  readonly seed: number;
  readonly full: boolean;
  readonly wallTimeS: number;
  readonly scenarios: readonly string[];
  /** `git rev-parse HEAD` of the tree that ran, with ` (dirty)` when it had uncommitted changes. */
  readonly commit?: string;
}

/** The commit of the working tree: its hash, and whether tracked or untracked files differ from it. */
export function commitDescription(root: string): string {
  const git = (args: string[]): string | undefined => {
    const result = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
    return result.status === 0 ? result.stdout.trim() : undefined;
  };
  const head = git(['rev-parse', 'HEAD']);
  if (head === undefined) return 'unknown (not a git checkout)';
  const status = git(['status', '--porcelain']);
  return status === undefined || status.length > 0 ? `${head} (dirty)` : head;
}

/** The settings table of a section, with the caption the settings check looks for. */
const SETTINGS_CAPTION = '**Settings**';

export function settingsTable(settings: ReadonlyArray<{ name: string; settings: string }>): string {
  return [
    `${SETTINGS_CAPTION} (each contender's, as the code's defaults produce them; \`pnpm check\` fails when the code no longer produces these)`,
    '',
    '| contender | settings |',
    '| --- | --- |',
    ...settings.map((s) => `| ${cell(s.name)} | ${cell(s.settings)} |`),
    '',
  ].join('\n');
}

/** The settings tables of docs/benchmarks.md, by section title: contender name → settings text. */
export function parseSettingsTables(markdown: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let title: string | undefined;
  let inTable = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('## ')) {
      title = line.slice(3).trim();
      inTable = false;
      continue;
    }
    if (title === undefined) continue;
    if (line.startsWith(SETTINGS_CAPTION)) {
      inTable = true;
      sections.set(title, new Map());
      continue;
    }
    if (!inTable || !line.startsWith('| ')) {
      if (inTable && line.trim() !== '' && !line.startsWith('|')) inTable = false;
      continue;
    }
    const cells = line
      .slice(2, -2)
      .split(/(?<!\\)\| /)
      .map((c) => c.trim().replace(/\\\|/g, '|'));
    if (cells.length !== 2 || cells[0] === 'contender' || cells[0] === '---') continue;
    sections.get(title)!.set(cells[0]!, cells[1]!);
  }
  return sections;
}

export interface BenchFile {
  lastRun?: RunRecord;
  readonly scenarios: Record<string, ScenarioRecord>;
}

export function machineDescription(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

/** A table cell: pipes escaped, line breaks flattened. */
export function cell(value: string | number): string {
  return String(value).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function markdownTable(table: Table): string {
  const escape = cell;
  const lines = [
    `| ${table.columns.map(escape).join(' | ')} |`,
    `| ${table.columns.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...table.rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ];
  return `**${table.title}**\n\n${lines.join('\n')}\n`;
}

export function readBenchFile(path: string): BenchFile {
  if (!existsSync(path)) return { scenarios: {} };
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as BenchFile;
  } catch {
    return { scenarios: {} };
  }
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Renders docs/benchmarks.md from the records, in the order of `order`. */
export function renderMarkdown(file: BenchFile, order: readonly Scenario[]): string {
  const parts = [
    '# Benchmarks',
    '',
    'Generated by `pnpm bench` (apps/bench); `pnpm bench --full` publishes: at least 2,000 calls per contender in every RPC',
    'scenario, split into 3 repetitions whose range is shown in brackets beside each figure. Every scenario compares its',
    'contenders side by side in one run against the same endpoints — simulated ones (@x/testkit) or a real node (anvil)',
    'behind seeded fault-injecting relays; read the ratios, not the absolute times, which depend on the machine and its load.',
    'viem and ethers appear at their defaults and tuned for latency as their documentation allows; every section lists each',
    "contender's settings, and `pnpm check` fails when they no longer match the code. Unmet goals are stated as such.",
    'Machine-readable figures: [benchmarks.json](./benchmarks.json).',
    '',
  ];
  const records = order.map((s) => file.scenarios[s.id]).filter((r): r is ScenarioRecord => r !== undefined);
  if (file.lastRun) {
    const run = file.lastRun;
    parts.push(
      `Last run: \`${run.command}\` (seed ${run.seed}${run.full ? ', full size' : ', default size'}) — commit ${run.commit ?? 'unknown'} — ${run.date} — ${run.machine} — ` +
        `wall time ${run.wallTimeS.toFixed(0)} s for ${run.scenarios.join(', ')}.`,
      '',
    );
    const older = records.filter((r) => !run.scenarios.includes(r.id));
    parts.push(
      older.length === 0
        ? 'Every section below comes from this one run.'
        : `**Not from this run**: ${older.map((r) => `${r.id} (${r.date}, commit ${r.commit ?? 'unknown'})`).join(', ')} — run \`pnpm bench --full\` to publish one run.`,
      '',
    );
  }
  const goals = records.flatMap((r) => r.result.goals.map((goal) => ({ goal, record: r })));
  if (goals.length > 0) {
    parts.push('## Goals', '', '| goal | met | measured | scenario |', '| --- | --- | --- | --- |');
    for (const { goal, record } of goals) {
      parts.push(
        `| ${cell(goal.goal)} | ${goal.met ? 'yes' : '**no**'} | ${cell(goal.measured)} | [${record.id}](#${headingAnchor(record.title)}) |`,
      );
    }
    parts.push('');
  }
  for (const record of records) {
    parts.push(`## ${record.title}`, '', record.description, '');
    const wall = record.wallTimeS === undefined ? '' : ` — ${record.wallTimeS.toFixed(1)} s`;
    parts.push(`Command: \`${record.command}\` — commit ${record.commit ?? 'unknown'} — ${record.date} — ${record.machine}${wall}`, '');
    for (const table of record.result.tables) parts.push(markdownTable(table));
    if (record.result.settings !== undefined && record.result.settings.length > 0) parts.push(settingsTable(record.result.settings));
    for (const chart of record.result.charts ?? []) parts.push(`![${chart.title}](./${chart.file})`, '');
    if (record.result.goals.length > 0) {
      parts.push('| goal | met | measured |', '| --- | --- | --- |');
      for (const goal of record.result.goals)
        parts.push(`| ${cell(goal.goal)} | ${goal.met ? 'yes' : '**no**'} | ${cell(goal.measured)} |`);
      parts.push('');
    }
    for (const note of record.result.notes ?? []) parts.push(`- ${note}`);
    if ((record.result.notes ?? []).length > 0) parts.push('');
  }
  return parts.join('\n');
}

export function writeText(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
