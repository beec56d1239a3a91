// Loads the built package the way a user would, by its own name through its `exports` map, once with
// `import` and once with `require`, and checks that both expose the same non-empty set of exports.
// Run from a package folder after `build` (it is part of each package's `check:package`).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const { name } = JSON.parse(readFileSync('package.json', 'utf8'));
const run = (args) => execFileSync(process.execPath, args, { encoding: 'utf8' }).trim();
const esm = run(['--input-type=module', '-e', `import * as m from ${JSON.stringify(name)}; console.log(Object.keys(m).sort().join(','))`]);
const cjs = run(['-e', `console.log(Object.keys(require(${JSON.stringify(name)})).sort().join(','))`]);

if (esm === '' || esm !== cjs) {
  console.error(`${name}: import and require disagree\n  import:  ${esm}\n  require: ${cjs}`);
  process.exit(1);
}
console.log(`${name}: import and require both load ${esm.split(',').length} exports`);
