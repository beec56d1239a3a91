// What the tests reach; the app is the `raida` command (src/main.ts), not a library: no other package imports it.
export { EXIT, runRaidaCli } from './cli.js';
export { USAGE } from './args.js';
export { bytesToHex, formatCoinFile, parseCoinFile } from './coin-file.js';
