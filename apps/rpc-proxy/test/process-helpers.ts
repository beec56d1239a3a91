import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root: the proxy process runs from there, as `pnpm rpc-proxy` does. */
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface Running {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly stdout: () => string;
  readonly stderr: () => string;
  kill(signal: NodeJS.Signals): void;
}

/** Starts `apps/rpc-proxy/src/main.ts` with `args` in a child process (from source, through tsx), collecting its output. */
export function startProxy(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Running {
  const child = spawn(process.execPath, ['--conditions=@x/source', '--import', 'tsx', 'apps/rpc-proxy/src/main.ts', ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { exited, stdout: () => out, stderr: () => err, kill: (signal) => child.kill(signal) };
}

/** Resolves with the URL the proxy prints, or rejects with its output if it exits first. */
export function printedUrl(running: Running): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = setInterval(() => {
      const match = /listening on (http:\/\/\S+)/.exec(running.stdout());
      if (match !== null) {
        clearInterval(check);
        resolve(match[1]!);
      }
    }, 20);
    void running.exited.then(({ code }) => {
      clearInterval(check);
      reject(new Error(`rpc-proxy exited (${code}) before listening:\n${running.stdout()}\n${running.stderr()}`));
    });
  });
}
