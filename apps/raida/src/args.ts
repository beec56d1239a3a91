import { parseArgs } from 'node:util';
import { usageError } from './usage-error.js';

const COMMAND_NAMES = ['echo', 'version', 'detect', 'pown'] as const;
type CliCommand = (typeof COMMAND_NAMES)[number];
/** The wallet's commands (see `wallet-cli.ts`), listed here so that an unknown command's message names every command. */
export const WALLET_COMMANDS = ['import', 'heal', 'list', 'balance', 'export', 'demo-coins'] as const;

export const USAGE = `Usage: raida <echo|version|detect|pown> [options]

Sends one request to every RAIDA server at once and prints a status and a latency per server.

Commands
  echo                       is each server up? (consensus: 13 of 25 ready)
  version                    each server's software version
  detect --coins <file>      are these coins authentic? a verdict per coin from 13-of-25 votes
  pown --coins <file> (--new-ans <file> | --generate-new-ans <file>)
                             take ownership: each server that passes a coin sets its new AN

Options
  --servers <file|list>      a server list file (host:port per line, or JSON), or a comma list of
                             host:port in RAIDA id order. Default: the public RAIDA list
  --local                    boot a simulated 25-server RAIDA on 127.0.0.1 in this process and use it
                             (detect/pown without --coins then use its demo coins)
  --timeout <ms>             one attempt per server (attemptTimeoutMs, default 3000)
  --retries <n>              echo/version/detect: retry servers that timed out or had network errors,
                             each retry's timeout ×1.5, capped at 10 s (default 0). Never for pown
  --early-finish             detect/pown: stop waiting once every coin's verdict is settled
  --coin-id <n>              network coin id (default 6)
  --coins <file>             coin file: { "coins": [ { "denomination": 1, "serialNumber": 123,
                             "ans": ["<32 hex digits>", … one per RAIDA id] } ] }, or a format 9
                             CloudCoin file (.bin, as the wallet keeps them)
  --new-ans <file>           pown: a coin file with the new ANs (same coins, same order)
  --generate-new-ans <file>  pown: generate random new ANs and write them to <file> (which must not
                             exist) before sending; where a server passes the coin, they are its ANs
  --json                     print one JSON object (statuses, latencies, per-server detail, totals)
  -h, --help                 this help

Exit codes: 0 consensus reached, 1 no consensus, 2 bad usage or input, 3 internal error, 130 interrupted.`;

export interface CliArgs {
  readonly command: CliCommand;
  readonly servers: string | undefined;
  readonly local: boolean;
  readonly attemptTimeoutMs: number | undefined;
  readonly retries: number | undefined;
  readonly coinId: number | undefined;
  readonly json: boolean;
  readonly coins: string | undefined;
  readonly newAns: string | undefined;
  readonly generateNewAns: string | undefined;
  readonly earlyFinish: boolean;
}

function integerFlag(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text.trim())) throw usageError(`--${name} must be an integer from ${min} to ${max}, got "${text}"`);
  const value = Number(text);
  if (value < min || value > max) throw usageError(`--${name} must be an integer from ${min} to ${max}, got ${text}`);
  return value;
}

/** Options whose value is a number: a negative one (`--timeout -5`) is that option's value, not another option. */
const NUMBER_OPTIONS: ReadonlySet<string> = new Set(['--timeout', '--retries', '--coin-id']);

/** `--timeout -5` as `--timeout=-5`, so that a negative number gets the option's own message, like any bad value. */
function joinNegativeNumbers(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (NUMBER_OPTIONS.has(arg) && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** `help` when asked for help, else the validated arguments. Throws a one-line `RAIDA_CLI_USAGE` error. */
export function parseCliArgs(argv: readonly string[]): 'help' | CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeNumbers(argv),
      allowPositionals: true,
      strict: true,
      options: {
        servers: { type: 'string' },
        local: { type: 'boolean', default: false },
        timeout: { type: 'string' },
        retries: { type: 'string' },
        'coin-id': { type: 'string' },
        json: { type: 'boolean', default: false },
        coins: { type: 'string' },
        'new-ans': { type: 'string' },
        'generate-new-ans': { type: 'string' },
        'early-finish': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    // parseArgs messages can span lines; the first says what is wrong.
    throw usageError((error instanceof Error ? error.message : String(error)).split('\n')[0]!);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [name, ...extra] = positionals;
  const commands = `${COMMAND_NAMES.join(', ')}, or a wallet command: ${WALLET_COMMANDS.join(', ')}`;
  if (name === undefined) throw usageError(`missing command: ${commands}`);
  if (!(COMMAND_NAMES as readonly string[]).includes(name)) {
    throw usageError(`unknown command "${name}": use ${commands}`);
  }
  if (extra.length > 0) throw usageError(`unexpected argument "${extra[0]}"`);
  const command = name as CliCommand;

  if (values.servers !== undefined && values.local) throw usageError('use either --servers or --local, not both');
  const coinCommand = command === 'detect' || command === 'pown';
  if (!coinCommand) {
    for (const flag of ['coins', 'new-ans', 'generate-new-ans', 'early-finish'] as const) {
      if (values[flag] !== undefined && values[flag] !== false) throw usageError(`--${flag} applies to detect and pown, not ${command}`);
    }
  }
  if (coinCommand && values.coins === undefined && !values.local)
    throw usageError(`${command} needs --coins <file> (or --local for the simulated RAIDA's demo coins)`);
  if (command === 'detect') {
    for (const flag of ['new-ans', 'generate-new-ans'] as const) {
      if (values[flag] !== undefined) throw usageError(`--${flag} applies to pown, not detect`);
    }
  }
  if (command === 'pown') {
    if (values.retries !== undefined) throw usageError('pown is never retried (it is not idempotent): remove --retries');
    if ((values['new-ans'] === undefined) === (values['generate-new-ans'] === undefined)) {
      throw usageError('pown needs exactly one of --new-ans <file> or --generate-new-ans <file>');
    }
  }
  return {
    command,
    servers: values.servers,
    local: values.local,
    attemptTimeoutMs: integerFlag('timeout', values.timeout, 1, 600_000),
    retries: integerFlag('retries', values.retries, 0, 10),
    coinId: integerFlag('coin-id', values['coin-id'], 0, 65_535),
    json: values.json,
    coins: values.coins,
    newAns: values['new-ans'],
    generateNewAns: values['generate-new-ans'],
    earlyFinish: values['early-finish'],
  };
}
