// Keeps the layer picture of docs/architecture.md true: each package may depend only on the
// packages listed for it here, a few imports are confined to the packages that own them, and an app
// depends on packages only (never on another app) and reaches sockets only through them.
// `node scripts/check-layers.mjs [--root DIR]` (DIR defaults to this repository; the tests point it at fixtures).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { root: { type: 'string' } } });
const root = resolve(values.root ?? new URL('..', import.meta.url).pathname);

/** Allowed `@x/*` runtime dependencies per package (dev dependencies for tests are not layers). */
const allowed = {
  '@x/errors': [],
  '@x/raida-protocol': ['@x/errors'],
  '@x/udp-transport': ['@x/errors'],
  '@x/json-rpc': ['@x/errors'],
  '@x/http-transport': ['@x/errors', '@x/json-rpc'],
  '@x/ws-transport': ['@x/errors', '@x/json-rpc'],
  '@x/rpc-strategies': ['@x/errors'],
  '@x/pool': ['@x/errors', '@x/rpc-strategies'],
  '@x/budget-redis': ['@x/errors', '@x/pool'],
  '@x/raida-client': ['@x/errors', '@x/raida-protocol', '@x/udp-transport', '@x/rpc-strategies'],
  '@x/solana-rpc': ['@x/errors', '@x/json-rpc', '@x/http-transport', '@x/ws-transport', '@x/rpc-strategies', '@x/pool'],
  '@x/testkit': ['@x/errors', '@x/json-rpc', '@x/raida-protocol'],
  '@x/raida-wallet': ['@x/errors', '@x/raida-protocol', '@x/raida-client'],
};

/** An import, require or dynamic import of `name` (with or without the `node:` prefix for built-ins, subpaths included). */
const importOf = (name) => {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?:\\bfrom\\s*|\\bimport\\s*\\(\\s*|\\brequire\\s*\\(\\s*|^\\s*import\\s+)['"]${escaped}(?:/[^'"]*)?['"]`, 'm');
};
const DGRAM = { pattern: /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](?:node:)?dgram['"]/m, what: 'node:dgram' };
const UNDICI = { pattern: importOf('undici'), what: 'undici' };

/** Node modules only these packages may import from src/. */
const confined = [
  { ...DGRAM, owners: ['@x/udp-transport', '@x/testkit'] },
  { ...UNDICI, owners: ['@x/http-transport'] },
  { pattern: importOf('ws'), owners: ['@x/ws-transport', '@x/testkit'], what: 'ws' },
  {
    pattern: /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]node:/m,
    owners: Object.keys(allowed).filter((p) => !['@x/raida-protocol', '@x/rpc-strategies', '@x/errors', '@x/json-rpc'].includes(p)),
    what: 'node: built-ins',
  },
];

/**
 * Apps reach UDP and HTTP only through @x/udp-transport and @x/http-transport. The exceptions are files,
 * relative to the repository, that may import a confined module, each with the reason.
 */
const appSocketRules = [DGRAM, UNDICI];
const appExceptions = {
  // The bench measures @x/raida-client and @x/udp-transport against what a careful user would write with
  // node:dgram alone (the hand-written baseline round and its echo servers): the baseline must not go
  // through the package it is compared with. (The HTTP baselines — viem, ethers, @solana/kit — bring their own HTTP
  // clients and import no undici of the bench's, so no undici exception is needed; add one here, with its reason, if
  // a hand-written undici baseline is ever measured.)
  'apps/bench/src/scenarios/udp-fanout.ts': ['node:dgram'],
};

const problems = [];
const files = (dir) =>
  existsSync(dir)
    ? readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? files(path) : /\.(?:ts|mts|cts|js|mjs|cjs)$/.test(path) ? [path] : [];
      })
    : [];
const rel = (path) => relative(root, path).split(sep).join('/');
const readPackage = (dir) => {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch {
    return undefined;
  }
};
const workspaces = (kind) =>
  existsSync(join(root, kind))
    ? readdirSync(join(root, kind))
        .map((dir) => ({ dir: join(root, kind, dir), pkg: readPackage(join(root, kind, dir)) }))
        .filter((entry) => entry.pkg !== undefined)
    : [];

// Packages: dependency arrows, and confined modules.
for (const { dir, pkg } of workspaces('packages')) {
  const rules = allowed[pkg.name];
  if (!rules) {
    problems.push(`${pkg.name}: not in the layer map of scripts/check-layers.mjs (add it, and to docs/architecture.md)`);
    continue;
  }
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })) {
    if (dep.startsWith('@x/') && !rules.includes(dep)) problems.push(`${pkg.name} must not depend on ${dep}`);
  }
  for (const file of files(join(dir, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const rule of confined) {
      if (rule.pattern.test(text) && !rule.owners.includes(pkg.name)) problems.push(`${rel(file)} imports ${rule.what}`);
    }
  }
}

// Apps: on top of the packages, never on another app, and no socket module of their own. Running another app's
// command as a child process (the tour showing the `raida` command, the bench timing the proxy) uses its command line,
// not its code, and is not an import: `new URL('../../raida/src/main.ts', import.meta.url)` passed to spawn is allowed.
const apps = workspaces('apps');
const appNames = new Set(apps.map(({ pkg }) => pkg.name));
for (const { dir, pkg } of apps) {
  const declared = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies });
  for (const dep of declared) {
    if (appNames.has(dep) && dep !== pkg.name)
      problems.push(`${pkg.name} (app) must not depend on the app ${dep}: move what both need into a package`);
  }
  for (const file of [...files(join(dir, 'src')), ...files(join(dir, 'test'))]) {
    const text = readFileSync(file, 'utf8');
    for (const other of appNames) {
      if (other !== pkg.name && importOf(other).test(text)) problems.push(`${rel(file)} imports the app ${other}`);
    }
    for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]*)['"]/gm)) {
      const target = rel(resolve(file, '..', match[1]));
      const owner = apps.find((app) => target === rel(app.dir) || target.startsWith(`${rel(app.dir)}/`));
      if (owner !== undefined && owner.dir !== dir) problems.push(`${rel(file)} imports ${match[1]}, a file of the app ${owner.pkg.name}`);
    }
  }
  for (const file of files(join(dir, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const rule of appSocketRules) {
      if (rule.pattern.test(text) && !(appExceptions[rel(file)] ?? []).includes(rule.what)) {
        problems.push(`${rel(file)} imports ${rule.what} (apps go through @x/udp-transport / @x/http-transport)`);
      }
    }
  }
}

if (problems.length > 0) {
  console.error(`Layer violations:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('layers: every package depends only on the layers below it; apps only on packages, with no socket module of their own');
