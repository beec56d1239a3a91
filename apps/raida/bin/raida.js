#!/usr/bin/env node
// The `raida` command from a checkout: runs src/main.ts through tsx, with workspace packages read
// from their sources (the `@x/source` export condition), as `pnpm raida` does from the repo root.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');
// The child handles Ctrl-C itself (it closes its sockets and exits 130); this process only waits.
process.on('SIGINT', () => undefined);
const child = spawnSync(process.execPath, ['--conditions=@x/source', '--import', tsx, main, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
if (child.error) {
  console.error(`raida: cannot start: ${child.error.message}`);
  process.exitCode = 3;
} else {
  process.exitCode = child.status ?? (child.signal === 'SIGINT' ? 130 : 3);
}
