import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// Runs scripts/check-layers.mjs against small fixture workspaces, to show that each rule catches its violation
// (the real repository is checked by the `layers` stage of `pnpm check`).
const script = fileURLToPath(new URL('../check-layers.mjs', import.meta.url));
const roots: string[] = [];

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

const pkg = (name: string, dependencies: Record<string, string> = {}) => JSON.stringify({ name, version: '0.0.0', dependencies });

/** A workspace with errors and udp-transport packages, and the files given (path → content). */
function workspace(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'check-layers-'));
  roots.push(root);
  const all: Record<string, string> = {
    'packages/errors/package.json': pkg('@x/errors'),
    'packages/errors/src/index.ts': 'export const x = 1;\n',
    'packages/udp-transport/package.json': pkg('@x/udp-transport', { '@x/errors': 'workspace:^' }),
    'packages/udp-transport/src/index.ts': "import { createSocket } from 'node:dgram';\nexport { createSocket };\n",
    ...files,
  };
  for (const [path, text] of Object.entries(all)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function check(root: string): { status: number | null; problems: string[] } {
  const run = spawnSync(process.execPath, [script, '--root', root], { encoding: 'utf8' });
  const problems = run.stderr
    .split('\n')
    .slice(1)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  return { status: run.status, problems };
}

describe('check-layers', () => {
  it('passes a workspace whose apps use packages only', () => {
    const root = workspace({
      'apps/cli/package.json': pkg('@x/cli', { '@x/errors': 'workspace:*', '@x/udp-transport': 'workspace:*' }),
      'apps/cli/src/main.ts':
        "import { createSocket } from '@x/udp-transport';\nimport { x } from './local.js';\nconsole.log(createSocket, x);\n",
      'apps/cli/src/local.ts': 'export const x = 1;\n',
    });
    expect(check(root)).toEqual({ status: 0, problems: [] });
  });

  it('fails an app that depends on or imports another app', () => {
    const root = workspace({
      'apps/cli/package.json': pkg('@x/cli', { '@x/errors': 'workspace:*' }),
      'apps/cli/src/index.ts': 'export const render = 1;\n',
      'apps/tour/package.json': pkg('@x/tour', { '@x/cli': 'workspace:*' }),
      'apps/tour/src/main.ts': "import { render } from '@x/cli';\nconsole.log(render);\n",
      'apps/tour/src/deep.ts': "export { render } from '../../cli/src/index.js';\n",
    });
    const { status, problems } = check(root);
    expect(status).toBe(1);
    expect(problems).toEqual([
      '@x/tour (app) must not depend on the app @x/cli: move what both need into a package',
      'apps/tour/src/deep.ts imports ../../cli/src/index.js, a file of the app @x/cli',
      'apps/tour/src/main.ts imports the app @x/cli',
    ]);
  });

  it('fails an app whose src imports node:dgram or undici in any form', () => {
    const root = workspace({
      'apps/cli/package.json': pkg('@x/cli', { '@x/errors': 'workspace:*' }),
      'apps/cli/src/a.ts': "import { createSocket } from 'node:dgram';\nconsole.log(createSocket);\n",
      'apps/cli/src/b.ts': "import type { Socket } from 'dgram';\nexport type S = Socket;\n",
      'apps/cli/src/c.ts': "const dgram = require('node:dgram');\nconsole.log(dgram);\n",
      'apps/cli/src/d.ts': "export const load = () => import('undici');\n",
      'apps/cli/src/e.ts': "import type { Dispatcher } from 'undici/types/dispatcher';\nexport type D = Dispatcher;\n",
      'apps/cli/src/f.ts': "// A comment that mentions undici and node:dgram is not an import.\nexport const undici = 'undici';\n",
    });
    const { status, problems } = check(root);
    expect(status).toBe(1);
    expect(problems).toEqual([
      'apps/cli/src/a.ts imports node:dgram (apps go through @x/udp-transport / @x/http-transport)',
      'apps/cli/src/b.ts imports node:dgram (apps go through @x/udp-transport / @x/http-transport)',
      'apps/cli/src/c.ts imports node:dgram (apps go through @x/udp-transport / @x/http-transport)',
      'apps/cli/src/d.ts imports undici (apps go through @x/udp-transport / @x/http-transport)',
      'apps/cli/src/e.ts imports undici (apps go through @x/udp-transport / @x/http-transport)',
    ]);
  });

  it("allows node:dgram only in the bench's hand-written baseline, and nothing else there", () => {
    const root = workspace({
      'apps/bench/package.json': pkg('@x/bench', { '@x/udp-transport': 'workspace:*' }),
      'apps/bench/src/scenarios/udp-fanout.ts':
        "import { createSocket } from 'node:dgram';\nimport { request } from 'undici';\nconsole.log(createSocket, request);\n",
      'apps/bench/src/scenarios/other.ts': "import { createSocket } from 'node:dgram';\nconsole.log(createSocket);\n",
    });
    const { status, problems } = check(root);
    expect(status).toBe(1);
    expect(problems).toEqual([
      'apps/bench/src/scenarios/other.ts imports node:dgram (apps go through @x/udp-transport / @x/http-transport)',
      'apps/bench/src/scenarios/udp-fanout.ts imports undici (apps go through @x/udp-transport / @x/http-transport)',
    ]);
  });

  it('still fails a package that depends on a layer above it or imports a socket module it does not own', () => {
    const root = workspace({
      'packages/errors/package.json': pkg('@x/errors', { '@x/udp-transport': 'workspace:^' }),
      'packages/errors/src/index.ts': "import { createSocket } from 'node:dgram';\nexport { createSocket };\n",
    });
    const { status, problems } = check(root);
    expect(status).toBe(1);
    expect(problems).toEqual([
      '@x/errors must not depend on @x/udp-transport',
      'packages/errors/src/index.ts imports node:dgram',
      'packages/errors/src/index.ts imports node: built-ins',
    ]);
  });

  it('keeps ioredis in @x/budget-redis: another package or an app importing it fails', () => {
    const root = workspace({
      'packages/budget-redis/package.json': pkg('@x/budget-redis', { '@x/errors': 'workspace:^' }),
      'packages/budget-redis/src/index.ts': "import { Redis } from 'ioredis';\nexport { Redis };\n",
      'packages/udp-transport/src/extra.ts': "import { Redis } from 'ioredis';\nexport { Redis };\n",
      'apps/cli/package.json': pkg('@x/cli', { '@x/errors': 'workspace:*' }),
      'apps/cli/src/main.ts': "import Redis from 'ioredis';\nconsole.log(Redis);\n",
    });
    const { status, problems } = check(root);
    expect(status).toBe(1);
    expect(problems).toEqual([
      'packages/udp-transport/src/extra.ts imports ioredis',
      'apps/cli/src/main.ts imports ioredis (apps go through @x/udp-transport / @x/http-transport)',
    ]);
  });
});
