import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createRaidaClient, createRaidaHealer } from '@x/raida-client';
import { PUBLIC_RAIDA_SERVERS } from '@x/raida-protocol';
import type { RaidaServer } from '@x/raida-protocol';
import { coinFileName, formatUnits, openWallet, writeCoinFile } from '@x/raida-wallet';
import type { CoinOutcome, Wallet, WalletNetwork, WalletProblem, WalletProgress } from '@x/raida-wallet';
import type { CliIo } from './cli.js';
import { demoWalletCoins, startLocalWalletRaida } from './local-wallet.js';
import type { LocalWalletRaida } from './local-wallet.js';
import { resolveServers } from './servers.js';
import { usageError } from './usage-error.js';

import { WALLET_COMMANDS } from './args.js';
type WalletCommand = (typeof WALLET_COMMANDS)[number];

export const WALLET_USAGE = `Wallet commands (format 9 coin files; see the README's "Wallet" page)
  import <file…>             detect the coins, pown them to fresh ANs only this wallet knows, and file them
                             in Bank, Fracked, Counterfeit or Limbo (no files: continue with Import/)
  heal                       fix Fracked coins (tickets + fix, up to 3 rounds) and resolve Limbo coins and
                             lost fix replies with find
  list                       every coin: folder, value, serial number, pown string
  balance                    coins and value per folder and denomination
  export --sn <n>… [--out <file>] [--tag <text>]
                             chosen Bank coins to one format 9 file, removed once the file is written
  demo-coins <file> --local  write the simulated RAIDA's three demo coins (authentic, fracked on RAIDA 5
                             and 20, counterfeit) as one format 9 file, to import with --local

Wallet options
  --wallet <dir>             the wallet folder (default $RAIDA_WALLET, else the per-user CloudCoin folder:
                             ${defaultWalletDir()})
  --local                    a simulated 25-server RAIDA on 127.0.0.1 whose coin tables are kept in the
                             wallet's .local-raida.json, so successive commands see the same network
  --servers <file|list>      as above (default: the public RAIDA list)
  --timeout <ms>             one attempt per server (attemptTimeoutMs) of detect, pown, get_ticket and find (default 3000)
  --fix-timeout <ms>         per-server timeout of a fix (default 65000: a fix waits for its peers)
  --json                     list/balance: one JSON object`;

export interface WalletArgs {
  readonly command: WalletCommand;
  readonly files: readonly string[];
  readonly wallet: string;
  readonly local: boolean;
  readonly servers: string | undefined;
  readonly attemptTimeoutMs: number | undefined;
  readonly fixTimeoutMs: number | undefined;
  readonly json: boolean;
  readonly serialNumbers: readonly number[];
  readonly out: string | undefined;
  readonly tag: string;
}

/** The per-user wallet folder: `$RAIDA_WALLET`, else the platform's data folder + `CloudCoin/Wallets/Default`. */
export function defaultWalletDir(
  env: Readonly<Record<string, string | undefined>> = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (env.RAIDA_WALLET) return env.RAIDA_WALLET;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'CloudCoin', 'Wallets', 'Default');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'CloudCoin', 'Wallets', 'Default');
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'cloudcoin', 'Wallets', 'Default');
}

function integer(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim())) throw usageError(`--${name} must be an integer from ${min} to ${max}, got "${text}"`);
  const value = Number(text);
  if (value < min || value > max) throw usageError(`--${name} must be an integer from ${min} to ${max}, got ${text}`);
  return value;
}

export function parseWalletArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): WalletArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        wallet: { type: 'string' },
        local: { type: 'boolean', default: false },
        servers: { type: 'string' },
        timeout: { type: 'string' },
        'fix-timeout': { type: 'string' },
        json: { type: 'boolean', default: false },
        sn: { type: 'string', multiple: true },
        out: { type: 'string' },
        tag: { type: 'string' },
      },
    });
  } catch (error) {
    throw usageError((error instanceof Error ? error.message : String(error)).split('\n')[0]!);
  }
  const { values, positionals } = parsed;
  const [name, ...files] = positionals;
  const command = name as WalletCommand;
  if (values.servers !== undefined && values.local) throw usageError('use either --servers or --local, not both');
  if (command === 'import' || command === 'demo-coins') {
    if (command === 'demo-coins' && (files.length !== 1 || !values.local))
      throw usageError('demo-coins needs one file name and --local: raida demo-coins <file> --local');
  } else if (files.length > 0) throw usageError(`unexpected argument "${files[0]}"`);
  if (command !== 'export' && (values.sn !== undefined || values.out !== undefined || values.tag !== undefined)) {
    throw usageError(`--sn, --out and --tag apply to export, not ${command}`);
  }
  const serialNumbers = (values.sn ?? []).map((text) => integer('sn', text, 0, 0xffffffff)!);
  if (command === 'export' && serialNumbers.length === 0)
    throw usageError('export needs --sn <serial number> (repeat it for several coins); see raida list');
  return {
    command,
    files,
    wallet: values.wallet ?? defaultWalletDir(env),
    local: values.local,
    servers: values.servers,
    attemptTimeoutMs: integer('timeout', values.timeout, 1, 600_000),
    fixTimeoutMs: integer('fix-timeout', values['fix-timeout'], 1, 600_000),
    json: values.json,
    serialNumbers,
    out: values.out,
    tag: values.tag ?? '',
  };
}

function valueOf(denomination: number): string {
  return coinFileName([{ denomination, serialNumber: 0 }]).split(' CloudCoin')[0]!;
}

function describeCoin(coin: CoinOutcome): string {
  return `#${coin.serialNumber}  ${valueOf(coin.denomination).padStart(9)}  → ${coin.folder.padEnd(11)} ${coin.pown}  ${coin.detail}`;
}

function printProblems(io: CliIo, problems: readonly WalletProblem[]): void {
  for (const problem of problems)
    io.stderr.write(`raida: ${problem.message.startsWith(problem.path) ? problem.message : `${problem.path}: ${problem.message}`}\n`);
}

/** A status line on a terminal while a fix waits for its servers (each of which waits for its peers). */
function fixProgress(io: CliIo): { onProgress: (event: WalletProgress) => void; stop: () => void } {
  if (!io.isTTY) return { onProgress: () => undefined, stop: () => undefined };
  let timer: NodeJS.Timeout | undefined;
  let line = '';
  let startedAt = 0;
  const draw = (): void => {
    io.stderr.write(`\r\x1b[2K${line} (${Math.floor((performance.now() - startedAt) / 1000)} s)`);
  };
  const stop = (): void => {
    if (timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
      io.stderr.write('\r\x1b[2K');
    }
  };
  return {
    onProgress(event) {
      if (event.kind === 'fix-sent') {
        startedAt = performance.now();
        const what = event.coins.length === 1 ? `coin #${event.coins[0]!.serialNumber}` : `${event.coins.length} coins`;
        line = `heal: fixing ${what} on RAIDA ${event.targets.join(', ')}: waiting for ${event.targets.length} server${event.targets.length === 1 ? '' : 's'}`;
        draw();
        timer = setInterval(draw, 1000);
      } else if (event.kind === 'fix-reply' && timer !== undefined) {
        line = line.replace(/waiting for .*$/, `waiting for ${event.total - event.answered} of ${event.total} servers`);
        draw();
      } else if (event.kind === 'fix-done') stop();
    },
    stop,
  };
}

function network(args: WalletArgs, local: LocalWalletRaida | undefined): { network: WalletNetwork; close: () => Promise<void> } {
  const servers: readonly RaidaServer[] =
    local?.servers ?? (args.servers === undefined ? PUBLIC_RAIDA_SERVERS : resolveServers(args.servers));
  const timeout = args.attemptTimeoutMs === undefined ? {} : { attemptTimeoutMs: args.attemptTimeoutMs };
  const client = createRaidaClient({ servers, ...timeout });
  const healer = createRaidaHealer({
    servers,
    ...timeout,
    ...(args.fixTimeoutMs === undefined ? {} : { fixTimeoutMs: args.fixTimeoutMs }),
  });
  return {
    network: { client, healer },
    close: async () => {
      await client.close();
      await healer.close();
    },
  };
}

async function balance(io: CliIo, wallet: Wallet, json: boolean): Promise<void> {
  const folders = await wallet.balance();
  if (json) {
    io.stdout.write(
      `${JSON.stringify({ wallet: wallet.dir, folders: folders.map((f) => ({ ...f, units: f.units.toString(), value: formatUnits(f.units) })) })}\n`,
    );
    return;
  }
  io.stdout.write(`Wallet ${wallet.dir}\n`);
  for (const folder of folders) {
    const denominations = Object.entries(folder.byDenomination)
      .sort(([a], [b]) => Number(b) - Number(a))
      .map(([den, count]) => `${count} × ${valueOf(Number(den))}`)
      .join(', ');
    io.stdout.write(
      `  ${folder.folder.padEnd(12)} ${String(folder.coins).padStart(4)} coin${folder.coins === 1 ? ' ' : 's'}  ${formatUnits(folder.units).padStart(14)}${denominations ? `  (${denominations})` : ''}\n`,
    );
  }
  const spendable = folders.filter((f) => f.folder === 'Bank' || f.folder === 'Fracked').reduce((sum, f) => sum + f.units, 0n);
  io.stdout.write(`  ${'Total'.padEnd(12)} ${formatUnits(spendable)} CloudCoin in Bank and Fracked\n`);
}

/** The wallet commands of `raida`. Resolves with the exit code: 0 done, 1 some coin or file needs attention. */
export async function runWalletCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseWalletArgs(argv, io.env ?? process.env);
  if (args.command === 'demo-coins') {
    await writeCoinFile(args.files[0]!, demoWalletCoins(), { exclusive: true });
    io.stdout.write(`${args.files[0]!}: 3 coins (authentic, fracked on RAIDA 5 and 20, counterfeit) for raida import --local\n`);
    return 0;
  }
  const wallet = await openWallet({ dir: args.wallet });
  if (args.command === 'balance' || args.command === 'list') {
    if (args.command === 'balance') await balance(io, wallet, args.json);
    else {
      const { coins, problems } = await wallet.list();
      if (args.json) {
        io.stdout.write(
          `${JSON.stringify({ wallet: wallet.dir, coins: coins.map((e) => ({ folder: e.folder, denomination: e.coin.denomination, serialNumber: e.coin.serialNumber, value: valueOf(e.coin.denomination), pown: e.coin.pown, file: e.path })) })}\n`,
        );
      } else {
        if (coins.length === 0) io.stdout.write(`No coins in ${wallet.dir}\n`);
        for (const entry of coins)
          io.stdout.write(
            `${entry.folder.padEnd(12)} ${valueOf(entry.coin.denomination).padStart(9)}  #${String(entry.coin.serialNumber).padEnd(8)} ${entry.coin.pown}\n`,
          );
      }
      printProblems(io, problems);
      return problems.length === 0 ? 0 : 1;
    }
    return 0;
  }
  if (args.command === 'export') {
    const result = await wallet.exportCoins({
      serialNumbers: args.serialNumbers,
      ...(args.out === undefined ? {} : { out: args.out }),
      tag: args.tag,
    });
    io.stdout.write(`${result.path}: ${result.coins} coin${result.coins === 1 ? '' : 's'} exported and removed from the wallet\n`);
    return 0;
  }
  const local = args.local ? await startLocalWalletRaida(wallet.dir) : undefined;
  const progress = fixProgress(io);
  let net: ReturnType<typeof network> | undefined;
  try {
    net = network(args, local);
    const call = {
      onProgress: progress.onProgress,
      ...(io.signal === undefined ? {} : { signal: io.signal }),
      ...(args.fixTimeoutMs === undefined ? {} : { fixTimeoutMs: args.fixTimeoutMs }),
    };
    const report =
      args.command === 'import' ? await wallet.importFiles(args.files, net.network, call) : await wallet.heal(net.network, call);
    progress.stop();
    if (report.coins.length === 0 && report.problems.length === 0)
      io.stdout.write(args.command === 'import' ? 'Nothing to import\n' : 'Nothing to heal: no coin in Fracked or Limbo\n');
    for (const coin of report.coins) io.stdout.write(`${describeCoin(coin)}\n`);
    printProblems(io, report.problems);
    // A coin can appear twice (a lost fix reply resolved, then healed): its last line is where it ended up.
    const final = new Map(report.coins.map((coin) => [`${coin.denomination}:${coin.serialNumber}`, coin.folder]));
    const unsettled = [...final.values()].some(
      (folder) => folder === 'Limbo' || folder === 'Import' || (args.command === 'heal' && folder === 'Fracked'),
    );
    return report.problems.length === 0 && !unsettled ? 0 : 1;
  } finally {
    progress.stop();
    await net?.close();
    await local?.close();
  }
}

export function isWalletCommand(name: string | undefined): boolean {
  return name !== undefined && (WALLET_COMMANDS as readonly string[]).includes(name);
}
