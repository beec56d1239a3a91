#!/usr/bin/env node
// The `rpc-proxy` command from a checkout: runs src/main.ts through tsx, with workspace packages read
// from their sources (the `@x/source` export condition), as `pnpm rpc-proxy` does from the repo root.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');
const child = spawn(process.execPath, ['--conditions=@x/source', '--import', tsx, main, ...process.argv.slice(2)], { stdio: 'inherit' });
// Ctrl-C reaches the child from the terminal by itself; a SIGTERM sent to this process is passed on
// so that the proxy shuts down gracefully (it closes its server, its connections and the cluster).
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('error', (error) => {
  console.error(`rpc-proxy: cannot start: ${error.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  process.exitCode = code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0));
});
