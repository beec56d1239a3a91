import { runRaidaCli } from './cli.js';

// Ctrl-C stops waiting, closes every socket and exits 130, instead of dying mid-output.
const interrupt = new AbortController();
const onSigint = (): void => interrupt.abort();
process.once('SIGINT', onSigint);

const code = await runRaidaCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  isTTY: process.stdout.isTTY === true && process.stderr.isTTY === true,
  signal: interrupt.signal,
});
process.removeListener('SIGINT', onSigint);
// exitCode rather than exit(): piped output is flushed, and nothing left open can hide.
process.exitCode = code;
