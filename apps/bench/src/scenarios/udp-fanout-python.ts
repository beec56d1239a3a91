/**
 * The reference client users would otherwise run: the RAIDA guide's Python asyncio pattern (one task and
 * socket per server, `asyncio.gather`, a per-request timeout), as a contender of the UDP fan-out scenario.
 * It runs as a child process against the same simulated servers; each round is timed inside Python
 * (`time.perf_counter`, first send to last settled task), so the pipe to the bench is not part of it.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { Interface } from 'node:readline';

export const PYTHON_CONTENDER_NAME = 'Python asyncio reference (RAIDA guide pattern)';

/** Why the Python contender cannot run here, or undefined when it can. */
export function pythonUnavailable(): string | undefined {
  const probe = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) return 'no python3 on this machine';
  return undefined;
}

export function pythonVersion(): string {
  const probe = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  return (probe.stdout || probe.stderr).trim();
}

/** One echo round through the Python client: its own round time and how many of the 25 answered correctly. */
export interface PythonRound {
  readonly elapsedMs: number;
  readonly ready: number;
}

export interface PythonEchoClient {
  round(): Promise<PythonRound>;
  close(): Promise<void>;
}

export async function startPythonEchoClient(options: {
  host: string;
  ports: readonly number[];
  timeoutMs: number;
}): Promise<PythonEchoClient> {
  const script = fileURLToPath(new URL('../../python/raida_asyncio_echo.py', import.meta.url));
  const child: ChildProcess = spawn('python3', [script, options.host, String(options.timeoutMs), options.ports.join(',')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const lines: Interface = createInterface({ input: child.stdout! });
  const iterator = lines[Symbol.asyncIterator]();
  const round = async (): Promise<PythonRound> => {
    child.stdin!.write('round\n');
    const next = await iterator.next();
    if (next.done === true) throw new Error('the Python client exited');
    const [elapsed, ready] = next.value.split(' ');
    return { elapsedMs: Number(elapsed), ready: Number(ready) };
  };
  // One round proves the interpreter started and the script runs before anything is measured.
  await round();
  return {
    round,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end();
      await exited;
      lines.close();
    },
  };
}
