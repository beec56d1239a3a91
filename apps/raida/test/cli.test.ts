import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT, USAGE, bytesToHex, formatCoinFile, parseCoinFile, runRaidaCli } from '../src/index.js';
import { writeCoinFile } from '@x/raida-wallet';
import { DEMO_FRACKED_ON, createTestCoins, startDemoRaida, startRaidaCluster } from '@x/testkit';
import type { RaidaCluster } from '@x/testkit';
import { WALLET_USAGE } from '../src/wallet-cli.js';

interface Captured {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function cli(argv: readonly string[], isTTY = false, env: Record<string, string | undefined> = {}): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const code = await runRaidaCli(argv, {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    isTTY,
    env,
  });
  return { code, stdout, stderr };
}

let dir: string;
const clusters: RaidaCluster[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'raida-cli-'));
});

afterEach(async () => {
  for (const cluster of clusters.splice(0)) await cluster.close();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('usage', () => {
  it('--help prints the usage on stdout and exits 0', async () => {
    const run = await cli(['--help']);
    expect(run).toEqual({ code: 0, stdout: `${USAGE}\n\n${WALLET_USAGE}\n`, stderr: '' });
    expect(USAGE).toMatch(/Exit codes: 0 consensus reached, 1 no consensus, 2 bad usage or input, 3 internal error/);
  });

  it.each([
    [[], 'raida: missing command: echo, version, detect, pown, or a wallet command: import, heal, list, balance, export, demo-coins'],
    [
      ['hello'],
      'raida: unknown command "hello": use echo, version, detect, pown, or a wallet command: import, heal, list, balance, export, demo-coins',
    ],
    [['echo', 'extra'], 'raida: unexpected argument "extra"'],
    [['echo', '--timeout', 'soon'], 'raida: --timeout must be an integer from 1 to 600000, got "soon"'],
    [['echo', '--timeout', '0'], 'raida: --timeout must be an integer from 1 to 600000, got 0'],
    [['echo', '--timeout', '-5'], 'raida: --timeout must be an integer from 1 to 600000, got -5'],
    [['echo', '--timeout=-5'], 'raida: --timeout must be an integer from 1 to 600000, got -5'],
    [['echo', '--retries', '-1'], 'raida: --retries must be an integer from 0 to 10, got -1'],
    [['echo', '--coin-id', '-0.5'], 'raida: --coin-id must be an integer from 0 to 65535, got "-0.5"'],
    [['echo', '--coin-id', '70000'], 'raida: --coin-id must be an integer from 0 to 65535, got 70000'],
    [['echo', '--local', '--servers', 'a:1'], 'raida: use either --servers or --local, not both'],
    [['echo', '--coins', 'c.json'], 'raida: --coins applies to detect and pown, not echo'],
    [['detect'], "raida: detect needs --coins <file> (or --local for the simulated RAIDA's demo coins)"],
    [['detect', '--local', '--new-ans', 'n.json'], 'raida: --new-ans applies to pown, not detect'],
    [['pown', '--local'], 'raida: pown needs exactly one of --new-ans <file> or --generate-new-ans <file>'],
    [['pown', '--local', '--retries', '1', '--new-ans', 'n.json'], 'raida: pown is never retried (it is not idempotent): remove --retries'],
    [['echo', '--servers', 'no-such-file'], 'raida: --servers "no-such-file": no such file, and not a comma list of host:port'],
    [['echo', '--servers', '127.0.0.1:1,127.0.0.1:99999'], 'raida: --servers: entry 2: "99999" is not a port from 1 to 65535'],
    [['echo', '--servers', '127.0.0.1:1,127.0.0.1:1'], 'raida: --servers: Server list names address 127.0.0.1:1 twice'],
  ])('%j → exit 2 and one line', async (argv, message) => {
    const run = await cli(argv);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`${message}\n`);
  });

  it('an unknown option → exit 2 and the first line of node:util’s message', async () => {
    const run = await cli(['echo', '--bogus']);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(/^raida: Unknown option '--bogus'\. [^\n]*\n$/);
  });
});

describe('coin files', () => {
  const ids = Array.from({ length: 25 }, (_, id) => id);

  it('round-trips through formatCoinFile and parseCoinFile', () => {
    const coins = createTestCoins(2, 3);
    const parsed = parseCoinFile(formatCoinFile(coins), 'coins.json', ids);
    expect(parsed.map((coin) => coin.serialNumber)).toEqual(coins.map((coin) => coin.serialNumber));
    expect(parsed[1]!.ans[24]).toEqual(coins[1]!.ans[24]);
  });

  it.each([
    ['{', /^raida: c\.json: not valid JSON( \(line 1, column 2\))?; expected \{ "coins": \[ … \] \}$/],
    ['[]', /^raida: c\.json: expected an object with a "coins" array/],
    ['{"coins":[]}', /^raida: c\.json: the "coins" array is empty$/],
    [
      '{"coins":[{"denomination":7,"serialNumber":1,"ans":[]}]}',
      /^raida: c\.json: coin 0: "denomination" must be an integer from -8 to 6$/,
    ],
    [
      '{"coins":[{"denomination":1,"serialNumber":-1,"ans":[]}]}',
      /^raida: c\.json: coin 0: "serialNumber" must be an integer from 0 to 4294967295$/,
    ],
    [
      '{"coins":[{"denomination":1,"serialNumber":1,"ans":"x"}]}',
      /^raida: c\.json: coin 0: "ans" must be an array of 32-hex-digit ANs, one per RAIDA id$/,
    ],
    [
      '{"coins":[{"denomination":1,"serialNumber":1,"ans":["00"]}]}',
      /^raida: c\.json: coin 0: "ans"\[0\] must be 32 hex digits \(16 bytes\)$/,
    ],
  ])('rejects %s with a one-line error naming the fix', async (text, message) => {
    const path = file('c.json', text);
    const run = await cli(['detect', '--coins', path, '--servers', '127.0.0.1:1']);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr.replace(`${dir}/`, '').trimEnd()).toMatch(message);
    expect(run.stderr.split('\n')).toHaveLength(2);
  });

  it('never quotes the file: a broken file full of AN digits gives only where it broke', async () => {
    const an = '00112233445566778899aabbccddeeff';
    for (const text of [
      `{"coins":[{"denomination":1,"serialNumber":1,"ans":["${an}" "${an}"]}]}`,
      `{"coins":[{"ans":[${an}]}]}`,
      `{"coins":["${an}`,
      `{"coins":[{"ans":[ff${an}]}]}`,
    ]) {
      const path = file('broken.json', text);
      const run = await cli(['detect', '--coins', path, '--servers', '127.0.0.1:1']);
      expect(run.code).toBe(EXIT.usage);
      expect(run.stderr).toMatch(/^raida: .*broken\.json: not valid JSON( \(line \d+, column \d+\))?; expected \{ "coins": \[ … \] \}\n$/);
      // Not a single run of 4 hex digits from the file's content.
      expect(run.stderr.replace(path, '')).not.toMatch(/[0-9a-f]{4}/i);
    }
  });

  it('says which RAIDA id has no AN, without quoting any AN', async () => {
    const [coin] = createTestCoins(1, 4);
    const short = { coins: [{ denomination: 1, serialNumber: coin!.serialNumber, ans: coin!.ans.slice(0, 24).map(bytesToHex) }] };
    const path = file('short.json', JSON.stringify(short));
    const run = await cli(['detect', '--coins', path]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toBe(`raida: ${path}: coin 0: "ans" has no entry for RAIDA 24 (it has 24; one per RAIDA id is needed)\n`);
  });

  it('reports a missing file in one line', async () => {
    const run = await cli(['detect', '--coins', join(dir, 'missing.json'), '--local']);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toBe(`raida: --coins ${join(dir, 'missing.json')}: cannot read the file (ENOENT)\n`);
  });
});

describe('runs against a RAIDA', () => {
  it('prints the 25-row table and the summary, without colour when not a TTY', async () => {
    const run = await cli(['echo', '--local', '--timeout', '2000']);
    expect(run.code).toBe(EXIT.consensus);
    expect(run.stderr).toBe('');
    const rows = run.stdout.split('\n').filter((line) => /^│\s+\d+ │ 127\.0\.0\.1:\d+ +│ ready/.test(line));
    expect(rows).toHaveLength(25);
    expect(rows[0]).toMatch(/ms [█·]{12} │/);
    expect(run.stdout).toMatch(/^ready +25 of 25$/m);
    expect(run.stdout).toMatch(/^consensus yes \(13 of 25 ready needed\)$/m);
    expect(run.stdout).toMatch(/^fastest +RAIDA \d+ \(127\.0\.0\.1:\d+\) [\d.]+ ms$/m);
    expect(run.stdout).toMatch(/^slowest +RAIDA \d+ /m);
    // eslint-disable-next-line no-control-regex
    expect(run.stdout).not.toMatch(/\x1b\[/);
  });

  it('on a TTY: colours, and a live count of replies on stderr that is cleared at the end', async () => {
    const run = await cli(['echo', '--local', '--timeout', '2000'], true);
    expect(run.stdout).toContain('\x1b[32mready\x1b[39m');
    expect(run.stderr).toContain('echo: 1/25 servers answered or gave up');
    expect(run.stderr).toContain('echo: 25/25 servers answered or gave up');
    expect(run.stderr.endsWith('\r\x1b[2K')).toBe(true);
  });

  it('NO_COLOR turns colours off even on a TTY', async () => {
    const run = await cli(['version', '--local', '--timeout', '2000'], true, { NO_COLOR: '1' });
    // eslint-disable-next-line no-control-regex
    expect(run.stdout).not.toMatch(/\x1b\[/);
    expect(run.stdout).toContain('20250323');
  });

  it('detect --local: verdicts for the demo coins, with the servers to heal', async () => {
    const run = await cli(['detect', '--local', '--timeout', '2000']);
    expect(run.code).toBe(EXIT.consensus);
    expect(run.stdout).toMatch(/│ +0 │ +\d+ │ +1 │ authentic +│ +25 │ +0 │ +0 │ +│/);
    expect(run.stdout).toMatch(new RegExp(`│ +1 │ +\\d+ │ +1 │ fracked +│ +23 │ +2 │ +0 │ ${DEMO_FRACKED_ON.join(', ')} +│`));
    expect(run.stdout).toMatch(/│ +2 │ +\d+ │ +1 │ counterfeit +│ +0 │ +25 │/);
    expect(run.stdout).toMatch(/^coins +1 authentic, 1 fracked, 1 counterfeit$/m);
  });

  it('detect --coins reads a format 9 CloudCoin file too (what the wallet keeps)', async () => {
    const demo = await startDemoRaida();
    clusters.push(demo.cluster);
    const path = join(dir, 'three.bin');
    await writeCoinFile(
      path,
      demo.demoCoins.map(({ coin }) => ({ ...coin, pown: 'u'.repeat(25) })),
    );
    const run = await cli(['detect', '--coins', path, '--servers', demo.cluster.serverList.split('\n').join(','), '--timeout', '2000']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/│ +0 │ +\d+ │ +1 │ authentic +│ +25 │ +0 │ +0 │ +│/);
    expect(run.stdout).toMatch(new RegExp(`│ +1 │ +\\d+ │ +1 │ fracked +│ +23 │ +2 │ +0 │ ${DEMO_FRACKED_ON.join(', ')} +│`));
    const broken = file('broken.bin', '\u0009 too short');
    const bad = await cli(['detect', '--coins', broken, '--servers', '127.0.0.1:1']);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toMatch(/^raida: .*broken\.bin.*\n$/);
  });

  it('--servers <file> with silent servers: timeouts in the table, exit 1 without consensus', async () => {
    const behaviors = Object.fromEntries(Array.from({ length: 13 }, (_, i) => [i, { down: true }]));
    const cluster = await startRaidaCluster({ behaviors });
    clusters.push(cluster);
    const list = file('servers.txt', `# the local cluster\n${cluster.serverList}\n`);
    const run = await cli(['echo', '--servers', list, '--timeout', '200', '--json']);
    expect(run.code).toBe(EXIT.noConsensus);
    const report = JSON.parse(run.stdout) as { statuses: string[]; latencies: number[]; totals: { consensus: boolean; timeout: number } };
    expect(report.statuses.slice(0, 13)).toEqual(Array.from({ length: 13 }, () => 'timeout'));
    expect(report.latencies.slice(0, 13)).toEqual(Array.from({ length: 13 }, () => 200));
    expect(report.totals).toMatchObject({ consensus: false, timeout: 13 });
  });

  it('a subset of the servers never lowers the 13 of 25 needed, and the summary says so', async () => {
    const cluster = await startRaidaCluster({ count: 3 });
    clusters.push(cluster);
    const run = await cli(['echo', '--servers', file('three.txt', cluster.serverList), '--timeout', '2000']);
    expect(run.code).toBe(EXIT.noConsensus);
    expect(run.stdout).toMatch(/consensus +no \(13 of 25 ready needed; only 3 of the 25 servers configured, too few ever to reach it\)/);
  });

  it('a list of 26 servers is an error, not a 26th RAIDA; so are duplicates', async () => {
    const list = Array.from({ length: 26 }, (_, i) => `127.0.0.1:${50000 + i}`).join('\n');
    const run = await cli(['echo', '--servers', file('26.txt', list)]);
    expect(run).toMatchObject({ code: EXIT.usage, stdout: '' });
    expect(run.stderr).toMatch(/Server list has 26 servers; a RAIDA has 25 \(ids 0 to 24\)\n$/);
    const twice = await cli(['echo', '--servers', '127.0.0.1:50000,127.0.0.1:50000']);
    expect(twice).toMatchObject({ code: EXIT.usage, stderr: 'raida: --servers: Server list names address 127.0.0.1:50000 twice\n' });
  });

  it('detect --coins against servers that do not know them: counterfeit', async () => {
    const cluster = await startRaidaCluster();
    clusters.push(cluster);
    const coins = file('coins.json', formatCoinFile(createTestCoins(2, 5)));
    const run = await cli(['detect', '--coins', coins, '--servers', cluster.servers.map((s) => `${s.host}:${s.port}`).join(','), '--json']);
    expect(run.code).toBe(EXIT.consensus);
    const report = JSON.parse(run.stdout) as { statuses: string[]; coins: Array<{ verdict: string; fail: number }> };
    expect(report.statuses.every((status) => status === 'fail')).toBe(true);
    expect(report.coins.map((coin) => [coin.verdict, coin.fail])).toEqual([
      ['counterfeit', 25],
      ['counterfeit', 25],
    ]);
  });

  it('pown --generate-new-ans writes the new ANs first, then detect with them passes', async () => {
    const coins = createTestCoins(2, 6);
    const cluster = await startRaidaCluster({ coins });
    clusters.push(cluster);
    const servers = file('servers.json', JSON.stringify(cluster.servers.map((s) => `${s.host}:${s.port}`)));
    const oldFile = file('coins.json', formatCoinFile(coins));
    const newFile = join(dir, 'new.json');

    const pown = await cli(['pown', '--coins', oldFile, '--generate-new-ans', newFile, '--servers', servers, '--json']);
    expect(pown.stderr).toBe('');
    expect(pown.code).toBe(EXIT.consensus);
    const newCoins = parseCoinFile(
      readFileSync(newFile, 'utf8'),
      newFile,
      cluster.servers.map((s) => s.id),
    );
    expect(cluster.getAn(3, coins[0]!)).toEqual(newCoins[0]!.ans[3]);

    const withNew = await cli(['detect', '--coins', newFile, '--servers', servers, '--json']);
    expect((JSON.parse(withNew.stdout) as { coins: Array<{ verdict: string }> }).coins.map((c) => c.verdict)).toEqual([
      'authentic',
      'authentic',
    ]);

    // Never overwrites: the file may be the only copy of the coins.
    const again = await cli(['pown', '--coins', newFile, '--generate-new-ans', newFile, '--servers', servers]);
    expect(again.code).toBe(EXIT.usage);
    expect(again.stderr).toBe(`raida: --generate-new-ans ${newFile}: the file exists; choose a new file name (it is never overwritten)\n`);
    expect(cluster.stats(0).received).toBe(2);
  });

  it('pown --new-ans must name the same coins in the same order', async () => {
    const coins = createTestCoins(2, 7);
    const oldFile = file('coins.json', formatCoinFile(coins));
    const swapped = file('new.json', formatCoinFile([coins[1]!, coins[0]!]));
    const run = await cli(['pown', '--coins', oldFile, '--new-ans', swapped, '--servers', '127.0.0.1:1']);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(/new\.json: coin 0 is 1\/\d+, expected 1\/\d+ \(same coins, same order\)\n$/);
  });
});
