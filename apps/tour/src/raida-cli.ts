import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { say } from './tour.js';
import type { TourOutput } from './tour.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const main = fileURLToPath(new URL('../../raida/src/main.ts', import.meta.url));

/**
 * Runs the `raida` command (apps/raida) as its own process, exactly as a user would, and writes what it prints to
 * the tour's output after a `$ raida …` line. The tour shows the command; it does not import the app.
 */
export async function raida(out: TourOutput, args: readonly string[], shown = args.join(' ')): Promise<void> {
  if (shown !== '') say(out, `\n$ raida ${shown}`);
  const child = spawn(process.execPath, ['--conditions=@x/source', '--import', 'tsx', main, ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  // Exit 1 (no consensus) is an answer the tour shows; 2 and up mean the tour itself is wrong.
  if (code === null || code > 1) throw new Error(`raida ${args.join(' ')} exited with ${String(code)}: ${stderr.trim()}`);
  if (shown !== '') out.write(stdout + stderr);
}
