// `pnpm check`: every check of the workspace in one command, ending with one line
// `N passed, N failed` (tests, plus one failure per failed non-test stage) and a non-zero exit on
// any failure. `.ci/run` runs exactly this after `pnpm install`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const reportDir = join(root, '.ci', 'out');
const reportFile = join(reportDir, 'vitest.json');
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', FORCE_COLOR: process.env.FORCE_COLOR ?? '0' };
const bin = (name) => join(root, 'node_modules', '.bin', name);

const stages = [
  { name: 'layers', cmd: process.execPath, args: [join(root, 'scripts', 'check-layers.mjs')] },
  {
    name: 'build, typecheck, package checks (publint, attw, import+require)',
    cmd: bin('turbo'),
    args: ['run', 'build', 'typecheck', 'check:package', '--output-logs=errors-only'],
  },
  { name: 'lint', cmd: bin('eslint'), args: ['.', '--max-warnings=0'] },
  // Fails on any file Prettier would change (.prettierrc.json, .prettierignore); `pnpm format` fixes them.
  { name: 'format (prettier --check)', cmd: bin('prettier'), args: ['--check', '.', '--log-level=warn'] },
  // Fails on unused files, dependencies and exports anywhere in the workspace (knip.json).
  { name: 'dead code (knip)', cmd: bin('knip'), args: ['--no-progress'] },
  { name: 'README examples type-check', cmd: process.execPath, args: [join(root, 'scripts', 'check-readmes.mjs')] },
  { name: 'tests', cmd: bin('vitest'), args: ['run', '--reporter=default', '--reporter=json', `--outputFile=${reportFile}`], tests: true },
];

mkdirSync(reportDir, { recursive: true });
rmSync(reportFile, { force: true });

const failedStages = [];
let passed = 0;
let failed = 0;
for (const stage of stages) {
  console.log(`\n=== ${stage.name} ===`);
  const started = performance.now();
  const result = spawnSync(stage.cmd, stage.args, { cwd: root, env, stdio: 'inherit' });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const ok = result.status === 0;
  console.log(`=== ${stage.name}: ${ok ? 'ok' : 'FAILED'} (${seconds} s) ===`);
  if (stage.tests) {
    if (existsSync(reportFile)) {
      const report = JSON.parse(readFileSync(reportFile, 'utf8'));
      // A test file that fails before any of its tests run (a syntax or import error) counts as one failure.
      const brokenFiles = (report.testResults ?? []).filter(
        (file) => file.status === 'failed' && !(file.assertionResults ?? []).some((test) => test.status === 'failed'),
      ).length;
      passed += report.numPassedTests ?? 0;
      failed += (report.numFailedTests ?? 0) + brokenFiles;
      if (!ok && (report.numFailedTests ?? 0) === 0 && brokenFiles === 0) failedStages.push(stage.name);
    } else {
      failedStages.push(`${stage.name} (no report written)`);
    }
  } else if (!ok) {
    failedStages.push(stage.name);
  }
}

if (failedStages.length > 0) console.log(`\nFailed stages (each counted as one failure): ${failedStages.join('; ')}`);
failed += failedStages.length;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
