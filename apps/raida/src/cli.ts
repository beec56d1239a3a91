import { readFileSync, writeFileSync } from 'node:fs';
import { hasCategory, isXError } from '@x/errors';
import { createRaidaClient, randomAns } from '@x/raida-client';
import type { RaidaClient, RaidaCoin, RaidaReplyEvent, RaidaResult } from '@x/raida-client';
import { PUBLIC_RAIDA_SERVERS } from '@x/raida-protocol';
import type { RaidaServer } from '@x/raida-protocol';
import { COIN_FILE_FORMAT, COIN_FILE_FORMAT_ASCII, decodeCoinFile } from '@x/raida-wallet';
import { startDemoRaida } from '@x/testkit';
import type { DemoRaida } from '@x/testkit';
import { USAGE, parseCliArgs } from './args.js';
import type { CliArgs } from './args.js';
import { formatCoinFile, parseCoinFile } from './coin-file.js';
import { renderResult, toJsonReport } from './render.js';
import { resolveServers } from './servers.js';
import { usageError } from './usage-error.js';
import { WALLET_USAGE, isWalletCommand, runWalletCommand } from './wallet-cli.js';

export interface CliIo {
  readonly stdout: { write(chunk: string): unknown };
  readonly stderr: { write(chunk: string): unknown };
  /** An interactive terminal: colours (unless `NO_COLOR`) and a live count of replies on stderr. */
  readonly isTTY: boolean;
  /** Default `process.env`; only `NO_COLOR` is read. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Aborting stops waiting at once; the run then ends with exit code 130. */
  readonly signal?: AbortSignal;
}

/** Exit codes, documented in the README. */
export const EXIT = Object.freeze({ consensus: 0, noConsensus: 1, usage: 2, internal: 3, interrupted: 130 });

function readBytes(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw usageError(`${flag} ${path}: cannot read the file (${typeof code === 'string' ? code : String(error)})`);
  }
}

function readText(path: string, flag: string): string {
  return readBytes(path, flag).toString('utf8');
}

/** `--coins`: the JSON coin file, or a format 9 CloudCoin file (what the wallet keeps, `demo-coins` writes). */
function loadCoins(path: string, ids: readonly number[]): RaidaCoin[] {
  const bytes = readBytes(path, '--coins');
  if (bytes[0] === COIN_FILE_FORMAT || bytes[0] === COIN_FILE_FORMAT_ASCII) {
    return decodeCoinFile(new Uint8Array(bytes), path).map(({ denomination, serialNumber, ans }) => ({ denomination, serialNumber, ans }));
  }
  return parseCoinFile(bytes.toString('utf8'), path, ids);
}

function loadNewAns(args: CliArgs, coins: readonly RaidaCoin[], ids: readonly number[]): Uint8Array[][] {
  if (args.newAns !== undefined) {
    const next = parseCoinFile(readText(args.newAns, '--new-ans'), args.newAns, ids);
    if (next.length !== coins.length) throw usageError(`${args.newAns}: has ${next.length} coins, the coins to pown are ${coins.length}`);
    next.forEach((coin, index) => {
      const old = coins[index]!;
      if (coin.denomination !== old.denomination || coin.serialNumber !== old.serialNumber) {
        throw usageError(
          `${args.newAns}: coin ${index} is ${coin.denomination}/${coin.serialNumber}, expected ${old.denomination}/${old.serialNumber} (same coins, same order)`,
        );
      }
    });
    return next.map((coin) => [...coin.ans]);
  }
  const out = args.generateNewAns!;
  const length = Math.max(...ids) + 1;
  const generated = coins.map((coin) => ({ denomination: coin.denomination, serialNumber: coin.serialNumber, ans: randomAns(length) }));
  try {
    // `wx`: never overwrite; the file may be the only copy of someone's coins.
    writeFileSync(out, formatCoinFile(generated), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'EEXIST') throw usageError(`--generate-new-ans ${out}: the file exists; choose a new file name (it is never overwritten)`);
    throw usageError(`--generate-new-ans ${out}: cannot write the file (${typeof code === 'string' ? code : String(error)})`);
  }
  return generated.map((coin) => coin.ans);
}

function progress(io: CliIo, command: string): { onReply: (event: RaidaReplyEvent) => void; clear: () => void } {
  if (!io.isTTY) return { onReply: () => undefined, clear: () => undefined };
  let shown = false;
  return {
    onReply(event) {
      shown = true;
      io.stderr.write(`\r\x1b[2K${command}: ${event.completed}/${event.total} servers answered or gave up`);
    },
    clear() {
      if (shown) io.stderr.write('\r\x1b[2K');
    },
  };
}

async function run(args: CliArgs, io: CliIo): Promise<number> {
  let local: DemoRaida | undefined;
  let client: RaidaClient | undefined;
  try {
    let servers: readonly RaidaServer[];
    if (args.local) {
      local = await startDemoRaida();
      servers = local.servers;
    } else {
      servers = args.servers === undefined ? PUBLIC_RAIDA_SERVERS : resolveServers(args.servers);
    }
    const ids = servers.map((server) => server.id);
    const coins = args.coins !== undefined ? loadCoins(args.coins, ids) : (local?.demoCoins.map((demo) => demo.coin) ?? []);
    const newAns = args.command === 'pown' ? loadNewAns(args, coins, ids) : undefined;

    client = createRaidaClient({
      servers,
      ...(args.coinId === undefined ? {} : { coinId: args.coinId }),
      ...(args.attemptTimeoutMs === undefined ? {} : { attemptTimeoutMs: args.attemptTimeoutMs }),
    });
    const live = progress(io, args.command);
    const common = { onReply: live.onReply, ...(io.signal === undefined ? {} : { signal: io.signal }) };
    const retries = args.retries === undefined ? {} : { retries: args.retries };
    let result: RaidaResult;
    try {
      switch (args.command) {
        case 'echo':
          result = await client.echo({ ...common, ...retries });
          break;
        case 'version':
          result = await client.version({ ...common, ...retries });
          break;
        case 'detect':
          result = await client.detect(coins, { ...common, ...retries, earlyFinish: args.earlyFinish });
          break;
        case 'pown':
          result = await client.pown(coins, newAns!, { ...common, earlyFinish: args.earlyFinish });
          break;
      }
    } finally {
      live.clear();
    }
    if (args.json) {
      io.stdout.write(`${JSON.stringify(toJsonReport(result))}\n`);
    } else {
      const color = io.isTTY && !(io.env ?? process.env).NO_COLOR;
      io.stdout.write(renderResult(result, { color }));
    }
    return result.totals.consensus ? EXIT.consensus : EXIT.noConsensus;
  } finally {
    await client?.close();
    await local?.close();
  }
}

/**
 * The `raida` command. Resolves with the exit code; never rejects. Bad usage and bad input print one
 * line on stderr (exit 2); anything unexpected prints its message (exit 3).
 */
export async function runRaidaCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    if (isWalletCommand(argv.find((arg) => !arg.startsWith('-')))) return await runWalletCommand(argv, io);
    const args = parseCliArgs(argv);
    if (args === 'help') {
      io.stdout.write(`${USAGE}\n\n${WALLET_USAGE}\n`);
      return EXIT.consensus;
    }
    return await run(args, io);
  } catch (error) {
    if (hasCategory(error, 'config')) {
      io.stderr.write(`raida: ${error.message.replace(/\s*\n\s*/g, ' ')}\n`);
      return EXIT.usage;
    }
    if (hasCategory(error, 'aborted') && io.signal?.aborted) {
      io.stderr.write('raida: interrupted\n');
      return EXIT.interrupted;
    }
    const message = isXError(error)
      ? `${error.code}: ${error.message}`
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error);
    io.stderr.write(`raida: internal error: ${message}\n`);
    return EXIT.internal;
  }
}
