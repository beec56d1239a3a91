// Keeps the layer picture of docs/architecture.md true: each package may depend only on the
// packages listed for it here, and a few imports are confined to the packages that own them.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

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
  '@x/raida-client': ['@x/errors', '@x/raida-protocol', '@x/udp-transport', '@x/rpc-strategies'],
  '@x/solana-rpc': ['@x/errors', '@x/json-rpc', '@x/http-transport', '@x/ws-transport', '@x/rpc-strategies', '@x/pool'],
  '@x/testkit': ['@x/errors', '@x/json-rpc', '@x/raida-protocol'],
  '@x/raida-wallet': ['@x/errors', '@x/raida-protocol', '@x/raida-client'],
};

/** Node modules only these packages may import from src/. */
const confined = [
  { pattern: /from ['"]node:dgram['"]/, owners: ['@x/udp-transport', '@x/testkit'], what: 'node:dgram' },
  { pattern: /from ['"]undici['"]/, owners: ['@x/http-transport'], what: 'undici' },
  { pattern: /from ['"]ws['"]/, owners: ['@x/ws-transport', '@x/testkit'], what: 'ws' },
  { pattern: /from ['"]node:/, owners: Object.keys(allowed).filter((p) => p !== '@x/raida-protocol' && p !== '@x/rpc-strategies' && p !== '@x/errors' && p !== '@x/json-rpc'), what: 'node: built-ins' },
];

const problems = [];
const files = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });

for (const dir of readdirSync(join(root, 'packages'))) {
  const pkgPath = join(root, 'packages', dir, 'package.json');
  let pkg;
  try {
    pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
  } catch {
    continue;
  }
  const rules = allowed[pkg.name];
  if (!rules) {
    problems.push(`${pkg.name}: not in the layer map of scripts/check-layers.mjs (add it, and to docs/architecture.md)`);
    continue;
  }
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })) {
    if (dep.startsWith('@x/') && !rules.includes(dep)) problems.push(`${pkg.name} must not depend on ${dep}`);
  }
  for (const file of files(join(root, 'packages', dir, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const rule of confined) {
      if (rule.pattern.test(text) && !rule.owners.includes(pkg.name)) problems.push(`${file.slice(root.length)} imports ${rule.what}`);
    }
  }
}

if (problems.length > 0) {
  console.error(`Layer violations:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('layers: every package depends only on the layers below it');
