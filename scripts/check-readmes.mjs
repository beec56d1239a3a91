// Type-checks every ```ts / ```typescript block of every README (root, packages/*, apps/*) against the
// workspace, as a user would compile it: each block is a module of its own, written next to its README
// (so that it resolves the packages its package can, and its relative imports), compiled with the workspace's tsconfig.base.json
// and its `@x/source` condition. A block preceded by the line `<!-- readme-check: skip -->` is left out:
// keep that for fragments that cannot stand alone, and use it sparingly.
// Usage: node scripts/check-readmes.mjs  (exit 1 and `README.md:line` errors when a block does not compile)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const SKIP = '<!-- readme-check: skip -->';
const DIR = '.readme-check';
const PREFIX = '.readme-check-block-';

function readmes() {
  const found = [join(root, 'README.md')];
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, group)).sort()) found.push(join(root, group, name, 'README.md'));
  }
  return found.filter((file) => existsSync(file));
}

/** The TypeScript blocks of one README: their text and the README line of their first code line. */
function blocksOf(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks = [];
  let skipped = 0;
  for (let index = 0; index < lines.length; index++) {
    const fence = /^(\s*)```(ts|typescript)\s*$/.exec(lines[index]);
    if (fence === null) continue;
    const start = index + 1;
    let end = start;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++;
    if (lines[index - 1]?.trim() === SKIP) skipped++;
    else
      blocks.push({
        text: lines
          .slice(start, end)
          .map((line) => line.slice(fence[1].length))
          .join('\n'),
        line: start + 1,
      });
    index = end;
  }
  return { blocks, skipped };
}

const written = [];
const origin = new Map();
let skippedTotal = 0;
for (const readme of readmes()) {
  const { blocks, skipped } = blocksOf(readme);
  skippedTotal += skipped;
  if (blocks.length === 0) continue;
  const dir = join(readme, '..');
  blocks.forEach((block, index) => {
    const file = join(dir, `${PREFIX}${String(index + 1).padStart(2, '0')}.ts`);
    // `export {}` makes every block a module of its own, so that blocks never see each other's names.
    writeFileSync(file, `${block.text}\nexport {};\n`);
    written.push(file);
    origin.set(file, { readme: relative(root, readme), line: block.line });
  });
}

const tsconfig = join(root, DIR, 'tsconfig.json');
mkdirSync(join(root, DIR), { recursive: true });
writeFileSync(
  tsconfig,
  JSON.stringify(
    { extends: '../tsconfig.base.json', compilerOptions: { noEmit: true, declaration: false, sourceMap: false }, files: written },
    null,
    2,
  ),
);

let status = 0;
try {
  const tsc = join(root, 'node_modules', '.bin', 'tsc');
  const result = spawnSync(tsc, ['-p', tsconfig, '--pretty', 'false'], { cwd: root, encoding: 'utf8' });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  // Errors point at the block files; report them at their README lines.
  const mapped = output.replace(/^(.*?\.readme-check-block-\d+\.ts)\((\d+),(\d+)\)/gm, (whole, path, line, column) => {
    const source = origin.get(join(root, path)) ?? origin.get(path);
    return source === undefined ? whole : `${source.readme}:${source.line + Number(line) - 1}:${column}`;
  });
  if (result.status !== 0) {
    process.stdout.write(mapped);
    status = 1;
  }
  const readmeCount = new Set([...origin.values()].map((source) => source.readme)).size;
  console.log(
    `readmes: ${written.length} TypeScript blocks in ${readmeCount} READMEs ${status === 0 ? 'compile' : 'do NOT all compile'}${skippedTotal > 0 ? ` (${skippedTotal} marked readme-check: skip)` : ''}`,
  );
} finally {
  for (const file of written) rmSync(file, { force: true });
  rmSync(join(root, DIR), { recursive: true, force: true });
}
process.exit(status);
