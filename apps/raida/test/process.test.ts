import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The CLI as a real process, exactly as `pnpm raida` starts it from the repo root. */
function raida(
  args: readonly string[],
  command: readonly string[] = ['--conditions=@x/source', '--import', 'tsx', 'apps/raida/src/main.ts'],
  cwd = root,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...command, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the raida command as a process', () => {
  it('echo --local --json prints one JSON object with 25 statuses and latencies, exits 0 and ends by itself', async () => {
    const run = await raida(['echo', '--local', '--json', '--timeout', '2000']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]!) as {
      command: string;
      statuses: string[];
      latencies: number[];
      totals: { ready: number; consensus: boolean };
      servers: Array<{ id: number; address: string; status: string }>;
    };
    expect(report.command).toBe('echo');
    expect(report.statuses).toEqual(Array.from({ length: 25 }, () => 'ready'));
    expect(report.latencies).toHaveLength(25);
    expect(report.latencies.every((ms) => typeof ms === 'number' && ms >= 0)).toBe(true);
    expect(report.totals).toMatchObject({ ready: 25, consensus: true });
    expect(report.servers.map((server) => server.id)).toEqual(Array.from({ length: 25 }, (_, id) => id));
    expect(report.servers[0]!.address).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('a malformed server list exits 2 with one line that says what to fix', async () => {
    const run = await raida(['echo', '--servers', '127.0.0.1:50000,127.0.0.1:99999']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('raida: --servers: entry 2: "99999" is not a port from 1 to 65535\n');
  });

  it('bin/raida.js runs the same command from any directory', async () => {
    const run = await raida(['ping'], [join(root, 'apps/raida/bin/raida.js')], tmpdir());
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'raida: unknown command "ping": use echo, version, detect, pown, or a wallet command: import, heal, list, balance, export, demo-coins\n',
    );
  });
});
