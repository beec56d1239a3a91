import { describe, expect, it } from 'vitest';
import { cell, headingAnchor, parseSettingsTables, renderMarkdown, settingsTable } from '../src/report.js';
import type { BenchFile } from '../src/report.js';
import { REPETITIONS, figuresOf, isTimeoutError, roundsFor } from '../src/rpc/runner.js';
import type { ContenderRun } from '../src/rpc/runner.js';
import { lamportsOfWei, rotate } from '../src/rpc/contender.js';
import type { Scenario } from '../src/types.js';

describe('markdown report', () => {
  it('makes GitHub heading anchors', () => {
    expect(headingAnchor('Tail latency on JSON-RPC: ours vs @solana/kit, viem fallback')).toBe(
      'tail-latency-on-json-rpc-ours-vs-solanakit-viem-fallback',
    );
  });

  it('keeps table cells on one line and pipes escaped', () => {
    expect(cell('a | b\nc')).toBe('a \\| b c');
  });

  it('lists every goal up front, states unmet ones and links the charts', () => {
    const scenario: Scenario = { id: 's', title: 'A scenario', description: 'd', run: () => Promise.reject(new Error('not run')) };
    const file: BenchFile = {
      lastRun: { command: 'pnpm bench', date: '2026-01-01', machine: 'm', seed: 1, full: false, wallTimeS: 118.4, scenarios: ['s'] },
      scenarios: {
        s: {
          id: 's',
          title: 'A scenario',
          description: 'd',
          command: 'pnpm bench',
          date: '2026-01-01',
          machine: 'm',
          result: {
            tables: [],
            goals: [
              { goal: 'fast', met: true, measured: '1 ms' },
              { goal: 'faster | still', met: false, measured: '2 ms' },
            ],
            charts: [{ file: 'bench-s-cdf.svg', title: 'CDF' }],
            data: {},
          },
        },
      },
    };
    const markdown = renderMarkdown(file, [scenario]);
    expect(markdown).toContain('## Goals');
    expect(markdown).toContain('| fast | yes | 1 ms | [s](#a-scenario) |');
    expect(markdown).toContain('| faster \\| still | **no** | 2 ms | [s](#a-scenario) |');
    expect(markdown).toContain('![CDF](./bench-s-cdf.svg)');
    expect(markdown).toContain('wall time 118 s');
  });
});

describe('contender figures', () => {
  it('turns a run into rates, requests per call and load shares', () => {
    const run: ContenderRun = {
      contender: { name: 'x', kind: 'ours', settings: 's', getBalance: () => Promise.resolve(0n), close: () => Promise.resolve() },
      latencies: [10, 20, 30, 40],
      ok: 3,
      stale: 1,
      wrong: 1,
      timeouts: 1,
      repetitions: [
        { latencies: [10, 20], ok: 2 },
        { latencies: [30], ok: 1 },
        { latencies: [40], ok: 0 },
      ],
      errors: new Map(),
      requests: new Map([
        ['a', 6],
        ['b', 2],
      ]),
      loopDelayMaxMs: { bench: 1, cluster: 2 },
    };
    const figures = figuresOf(run, true);
    expect(figures).toMatchObject({
      calls: 4,
      successRate: 0.75,
      staleRate: 0.25,
      wrongRate: 0.25,
      requestsPerCall: 2,
      utilisation: { a: 0.75, b: 0.25 },
    });
    expect(figures.latencyMs.p50).toBe(20);
    expect(figures.timeoutRate).toBe(0.25);
    // Each figure's range over the repetitions: medians 10, 30, 40; successes 100 %, 100 %, 0 %.
    expect(figures.spread).toMatchObject({ repetitions: 3, p50: [10, 40], successRate: [0, 1] });
    expect(figuresOf(run, false)).toMatchObject({ staleRate: null, wrongRate: null });
  });

  it('reads EVM balances in lamports and rotates endpoint orders', () => {
    expect(lamportsOfWei(5_000_000_000n)).toBe(5n);
    expect(lamportsOfWei(5_000_000_001n)).toBe(-1n);
    expect(rotate(['a', 'b', 'c'], 1)).toEqual(['b', 'c', 'a']);
    expect(rotate(['a', 'b', 'c'], 4)).toEqual(['b', 'c', 'a']);
    expect(rotate([], 2)).toEqual([]);
  });
});

describe('settings tables', () => {
  it('reads back what settingsTable wrote, pipes included, section by section', () => {
    const markdown = [
      '# Benchmarks',
      '## First',
      'text',
      settingsTable([
        { name: 'a', settings: 'x | y' },
        { name: 'b', settings: 'plain' },
      ]),
      '- a note',
      '## Second',
      settingsTable([{ name: 'c', settings: 'z' }]),
    ].join('\n');
    const tables = parseSettingsTables(markdown);
    expect([...tables.keys()]).toEqual(['First', 'Second']);
    expect(Object.fromEntries(tables.get('First')!)).toEqual({ a: 'x | y', b: 'plain' });
    expect(Object.fromEntries(tables.get('Second')!)).toEqual({ c: 'z' });
  });

  it('finds no settings where a section has none', () => {
    expect(parseSettingsTables('## Only\n\n| contender | settings |\n| --- | --- |\n| a | b |\n').size).toBe(0);
  });
});

describe('run plan', () => {
  it('rounds up to whole repetitions with at least the calls asked for', () => {
    expect(roundsFor(2000, 16, 2)).toBe(63);
    expect(63 * 16 * 2).toBeGreaterThanOrEqual(2000);
    expect(roundsFor(2000, 16, 3) % REPETITIONS).toBe(0);
    expect(roundsFor(2000, 16, 3) * 48).toBeGreaterThanOrEqual(2000);
  });

  it('counts a failure as a timeout by category, viem name or ethers code, along the cause chain', () => {
    expect(isTimeoutError(Object.assign(new Error('deadline'), { category: 'timeout' }))).toBe(true);
    expect(isTimeoutError(Object.assign(new Error('viem'), { name: 'TimeoutError' }))).toBe(true);
    expect(isTimeoutError(Object.assign(new Error('ethers'), { code: 'TIMEOUT' }))).toBe(true);
    expect(isTimeoutError(new Error('outer', { cause: Object.assign(new Error('inner'), { category: 'timeout' }) }))).toBe(true);
    expect(isTimeoutError(Object.assign(new Error('5xx'), { category: 'server' }))).toBe(false);
    expect(isTimeoutError('text')).toBe(false);
  });
});
