import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isPlainObject } from '@x/errors';
import type { RaidaClient, RaidaCoin, RaidaHealer } from '@x/raida-client';
import { defaultRandom, fixedAn, maxHealingCoinsPerRequest } from '@x/raida-protocol';
import type { CoinId, RandomSource } from '@x/raida-protocol';
import { COIN_FILE_RAIDA_COUNT } from './coin-file.js';
import type { WalletCoin } from './coin-file.js';
import { invalidOptions, ioError, walletError } from './errors.js';
import { readCoinFile, writeCoinFile, writeFileAtomic } from './files.js';
import { COIN_FOLDERS, assertWallet, coinKey, ensureWalletLayout, logTransaction, readWallet, removeFile, storeCoin } from './folders.js';
import type { StoredCoin, WalletFolder, WalletProblem } from './folders.js';
import { withWalletLock } from './lock.js';
import { coinFileName, denominationUnits } from './names.js';
import { PASSES_NEEDED, gradePown } from './pown.js';
import type { CoinGrade, PownLetter } from './pown.js';

/** The RAIDA a wallet talks to: a client (detect, pown) and a healer (get_ticket, find, fix) on the same servers. */
export interface WalletNetwork {
  readonly client: Pick<RaidaClient, 'servers' | 'detect' | 'pown'>;
  readonly healer: Pick<RaidaHealer, 'getTickets' | 'find' | 'fix'>;
}

export interface WalletOptions {
  /** The wallet folder. Created (with its subfolders) when missing, unless `create` is false. */
  readonly dir: string;
  /** Default true. When false, a folder that is not a wallet gets `WALLET_NOT_A_WALLET`. */
  readonly create?: boolean;
  /** Randomness for new ANs and PAN generators. Default: Web Crypto. */
  readonly random?: RandomSource;
  /** Clock for the transaction log. Default `() => new Date()`. */
  readonly now?: () => Date;
}

/** Progress of a long operation, for a status line. */
export type WalletProgress =
  | { readonly kind: 'detect' | 'pown' | 'tickets' | 'find' | 'confirm'; readonly coins: number }
  | {
      readonly kind: 'fix-sent';
      readonly coins: readonly CoinId[];
      readonly targets: readonly number[];
      readonly round: number;
      readonly attemptTimeoutMs: number | undefined;
    }
  | { readonly kind: 'fix-reply'; readonly raidaId: number; readonly answered: number; readonly total: number }
  | { readonly kind: 'fix-done' };

export interface WalletCallOptions {
  readonly onProgress?: (event: WalletProgress) => void;
  readonly signal?: AbortSignal;
  /** Timeout of each fix. Default: the healer's (65 s). */
  readonly fixTimeoutMs?: number;
}

/** What happened to one coin. */
export interface CoinOutcome {
  readonly denomination: number;
  readonly serialNumber: number;
  readonly folder: WalletFolder;
  readonly pown: string;
  readonly detail: string;
}

export interface ImportReport {
  readonly coins: CoinOutcome[];
  /** Files or coins that were not imported, and why. */
  readonly problems: WalletProblem[];
}

export interface HealReport {
  readonly coins: CoinOutcome[];
  readonly problems: WalletProblem[];
}

export interface FolderBalance {
  readonly folder: WalletFolder;
  readonly coins: number;
  /** In units of 10^−8. */
  readonly units: bigint;
  /** Coins per denomination. */
  readonly byDenomination: Readonly<Record<number, number>>;
}

export interface ExportOptions {
  /** Serial numbers of the Bank coins to export. */
  readonly serialNumbers: readonly number[];
  /** Where to write the file. Default: the wallet's Export folder, named by the convention. Never overwritten. */
  readonly out?: string;
  /** The tag in the file name. Default ''. */
  readonly tag?: string;
}

export interface Wallet {
  readonly dir: string;
  /** Every coin in the coin folders, and the files that could not be read. */
  list(): Promise<{ coins: StoredCoin[]; problems: WalletProblem[] }>;
  /** Coins and value per folder (coin folders only). */
  balance(): Promise<FolderBalance[]>;
  /**
   * Takes coins into the wallet: each file's coins are copied into Import, detected, powned to fresh random ANs that
   * only this wallet knows (saved in Limbo with the PANs before the pown is sent), graded and filed in Bank, Fracked,
   * Counterfeit or Limbo. With no files, it continues with what is still in Import.
   */
  importFiles(paths: readonly string[], network: WalletNetwork, options?: WalletCallOptions): Promise<ImportReport>;
  /** Resolves fixes whose replies were lost, resolves Limbo coins with find, then heals Fracked coins. */
  heal(network: WalletNetwork, options?: WalletCallOptions): Promise<HealReport>;
  /** Writes the chosen Bank coins to one format 9 file, and removes them from the wallet once it is on disk. */
  exportCoins(options: ExportOptions): Promise<{ path: string; coins: number }>;
}

/** What a fix journal keeps: enough to tell with find, after a crash or a lost reply, what each target did. */
interface FixJournal {
  readonly version: 1;
  readonly denomination: number;
  readonly serialNumber: number;
  readonly pg: string;
  readonly tickets: readonly number[];
  /** Targets not resolved yet, with the AN the wallet had for each before the fix. */
  readonly pending: Readonly<Record<string, string>>;
}

const HEX = /^[0-9a-f]{32}$/;
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));
const MAX_FIX_ROUNDS = 3;
/** Coins healed together: what one get_ticket or detect request holds at 1024 bytes. */
const HEAL_BATCH = maxHealingCoinsPerRequest('get_ticket');

function toRaidaCoin(coin: WalletCoin): RaidaCoin {
  return { denomination: coin.denomination, serialNumber: coin.serialNumber, ans: coin.ans };
}

function withLetters(pown: string, changes: ReadonlyMap<number, PownLetter>): string {
  return Array.from(pown, (letter, id) => changes.get(id) ?? letter).join('');
}

function gradeFolder(grade: CoinGrade): WalletFolder {
  return grade === 'bank' ? 'Bank' : grade === 'fracked' ? 'Fracked' : grade === 'counterfeit' ? 'Counterfeit' : 'Limbo';
}

function outcome(coin: WalletCoin, folder: WalletFolder, detail: string): CoinOutcome {
  return { denomination: coin.denomination, serialNumber: coin.serialNumber, folder, pown: coin.pown, detail };
}

function journalPath(dir: string, coin: CoinId): string {
  return join(dir, 'Pending', `${coin.denomination}.${coin.serialNumber}.fix.json`);
}

function parseJournal(text: string, path: string): FixJournal {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw walletError('WALLET_BAD_COIN_FILE', 'config', `${path}: not a fix journal (invalid JSON)`, { path });
  }
  const journal = value as Partial<FixJournal>;
  const ok =
    journal.version === 1 &&
    Number.isInteger(journal.denomination) &&
    Number.isInteger(journal.serialNumber) &&
    typeof journal.pg === 'string' &&
    HEX.test(journal.pg) &&
    Array.isArray(journal.tickets) &&
    isPlainObject(journal.pending) &&
    Object.entries(journal.pending).every(
      ([id, an]) => /^\d+$/.test(id) && Number(id) < COIN_FILE_RAIDA_COUNT && typeof an === 'string' && HEX.test(an),
    );
  if (!ok) throw walletError('WALLET_BAD_COIN_FILE', 'config', `${path}: not a fix journal`, { path });
  return journal as FixJournal;
}

/** Opens (and by default creates) a wallet folder. */
export async function openWallet(options: WalletOptions): Promise<Wallet> {
  const given: unknown = options;
  if (!isPlainObject(given) || typeof options.dir !== 'string' || options.dir === '') {
    throw invalidOptions('dir', 'openWallet needs { dir }: the wallet folder', isPlainObject(given) ? given.dir : given);
  }
  const dir = options.dir;
  const random = options.random ?? defaultRandom;
  const now = options.now ?? (() => new Date());
  if (options.create === false) await assertWallet(dir);
  else await ensureWalletLayout(dir);

  const log = (entry: Parameters<typeof logTransaction>[1]): Promise<void> => logTransaction(dir, entry, now);
  const freshAns = (): Uint8Array[] => Array.from({ length: COIN_FILE_RAIDA_COUNT }, () => random(16).slice());

  /** The id of the server at `index` of the client's list. */
  const idAt = (network: WalletNetwork, index: number): number => network.client.servers[index]!.id;

  async function file(
    coin: WalletCoin,
    folder: WalletFolder,
    previous: string | undefined,
    action: string,
    detail: string,
  ): Promise<CoinOutcome> {
    await storeCoin(dir, folder, coin, previous);
    const from = previous === undefined ? undefined : previous.split(/[\\/]/).slice(-2, -1)[0];
    await log({ action, coin, ...(from === undefined ? {} : { from }), to: folder, detail: `${detail} ${coin.pown}`.trim() });
    return outcome(coin, folder, detail);
  }

  /** Detect, pown to fresh ANs, grade and file every coin now in Import. */
  async function processImport(network: WalletNetwork, call: WalletCallOptions): Promise<ImportReport> {
    const report: CoinOutcome[] = [];
    const { coins: inImport, problems } = await readWalletFolder('Import');
    if (inImport.length === 0) return { coins: report, problems };
    call.onProgress?.({ kind: 'detect', coins: inImport.length });
    const detect = await network.client.detect(
      inImport.map((entry) => toRaidaCoin(entry.coin)),
      { ...(call.signal ? { signal: call.signal } : {}), retries: 1 },
    );
    const toPown: { entry: StoredCoin; coin: WalletCoin }[] = [];
    for (const [index, entry] of inImport.entries()) {
      const verdict = detect.coins[index]!;
      const letters = new Map<number, PownLetter>();
      verdict.votes.forEach((vote, serverIndex) =>
        letters.set(idAt(network, serverIndex), vote === 'pass' ? 'p' : vote === 'fail' ? 'f' : 'n'),
      );
      const coin: WalletCoin = { ...entry.coin, pown: withLetters(entry.coin.pown, letters) };
      const grade = gradePown(coin.pown);
      if (grade === 'counterfeit')
        report.push(await file(coin, 'Counterfeit', entry.path, 'import', 'counterfeit: 13 or more RAIDAs fail it'));
      else if (grade === 'limbo') {
        await storeCoin(dir, 'Import', coin, entry.path);
        report.push(outcome(coin, 'Import', 'too few RAIDAs answered the detect; run import again'));
      } else toPown.push({ entry, coin });
    }
    if (toPown.length === 0) return { coins: report, problems };

    // The PANs are on disk, with the coin in Limbo, before the pown leaves: whatever happens next, find can tell.
    const limbo: { path: string; coin: WalletCoin }[] = [];
    for (const { entry, coin } of toPown) {
      const pans = freshAns();
      const inFlight: WalletCoin = { ...coin, pans, pown: 'n'.repeat(COIN_FILE_RAIDA_COUNT) };
      limbo.push({ path: await storeCoin(dir, 'Limbo', inFlight, entry.path), coin: inFlight });
    }
    call.onProgress?.({ kind: 'pown', coins: limbo.length });
    const pown = await network.client.pown(
      limbo.map(({ coin }) => toRaidaCoin(coin)),
      limbo.map(({ coin }) => coin.pans!),
      call.signal ? { signal: call.signal } : {},
    );
    for (const [index, { path, coin }] of limbo.entries()) {
      const votes = pown.coins[index]!.votes;
      const ans = [...coin.ans];
      const letters = new Map<number, PownLetter>();
      votes.forEach((vote, serverIndex) => {
        const id = idAt(network, serverIndex);
        if (vote === 'pass') ans[id] = coin.pans![id]!;
        letters.set(id, vote === 'pass' ? 'p' : vote === 'fail' ? 'f' : 'n');
      });
      const powned: WalletCoin = { ...coin, ans, pown: withLetters(coin.pown, letters) };
      report.push(await settle(powned, path, 'import'));
    }
    return { coins: report, problems };
  }

  /** A coin whose pown or find outcome is known everywhere loses its PANs and is graded; otherwise it stays in Limbo. */
  async function settle(coin: WalletCoin, path: string, action: string): Promise<CoinOutcome> {
    if (coin.pown.includes('n') && coin.pans !== undefined) {
      return file(coin, 'Limbo', path, action, 'in limbo: some RAIDAs did not answer; heal resolves it with find');
    }
    const { pans: _dropped, ...plain } = coin;
    void _dropped;
    const grade = gradePown(plain.pown);
    const folder = gradeFolder(grade);
    const detail =
      grade === 'bank'
        ? 'authentic'
        : grade === 'fracked'
          ? 'fracked: heal fixes it'
          : grade === 'counterfeit'
            ? 'counterfeit'
            : 'too few RAIDAs answered';
    return file(plain, folder, path, action, detail);
  }

  async function readWalletFolder(folder: WalletFolder): Promise<{ coins: StoredCoin[]; problems: WalletProblem[] }> {
    const { coins, problems } = await readWallet(dir);
    return { coins: coins.filter((entry) => entry.folder === folder), problems };
  }

  /** Finds, per pending target, what a fix whose reply was lost did; updates the coin and the journal. */
  async function resolveJournals(
    network: WalletNetwork,
    call: WalletCallOptions,
    report: CoinOutcome[],
    problems: WalletProblem[],
  ): Promise<Set<string>> {
    const unresolved = new Set<string>();
    let names: string[];
    try {
      names = (await readdir(join(dir, 'Pending'))).filter((name) => name.endsWith('.fix.json'));
    } catch (error) {
      throw ioError('list', join(dir, 'Pending'), error);
    }
    for (const name of names) {
      const path = join(dir, 'Pending', name);
      let journal: FixJournal;
      try {
        journal = parseJournal(await readFile(path, 'utf8'), path);
      } catch (error) {
        problems.push({ path, message: error instanceof Error ? error.message : String(error) });
        continue;
      }
      const entry = (await readWallet(dir)).coins.find((stored) => coinKey(stored.coin) === coinKey(journal));
      if (entry === undefined) {
        problems.push({ path, message: `no coin ${journal.serialNumber} in the wallet for this fix journal; it is kept` });
        continue;
      }
      const targets = Object.keys(journal.pending).map(Number);
      const pg = fromHex(journal.pg);
      const coin = entry.coin;
      const olds = targets.map((id) => fromHex(journal.pending[String(id)]!));
      // find [old AN, new AN] on each target: 209 old, 210 new (the fix happened), 208 neither.
      const probe = {
        denomination: coin.denomination,
        serialNumber: coin.serialNumber,
        ans: coin.ans.map((an, id) => (targets.includes(id) ? olds[targets.indexOf(id)]! : an)),
        pans: coin.ans.map((an, id) => (targets.includes(id) ? fixedAn(id, coin.denomination, coin.serialNumber, pg) : an)),
      };
      call.onProgress?.({ kind: 'find', coins: 1 });
      const found = await network.healer.find([probe], { only: targets, ...(call.signal ? { signal: call.signal } : {}) });
      const ans = [...coin.ans];
      const letters = new Map<number, PownLetter>();
      const still: Record<string, string> = {};
      for (const id of targets) {
        const answer = found.servers.find((server) => server.id === id)?.found?.[0];
        if (answer === 'pan') {
          ans[id] = probe.pans[id]!;
          letters.set(id, 'p');
        } else if (answer === 'an') {
          ans[id] = probe.ans[id]!;
          letters.set(id, 'p');
        } else if (answer === 'neither') {
          ans[id] = probe.ans[id]!;
          letters.set(id, 'f');
        } else still[String(id)] = journal.pending[String(id)]!;
      }
      const updated: WalletCoin = { ...coin, ans, pown: withLetters(coin.pown, letters) };
      await storeCoin(dir, entry.folder, updated, entry.path);
      await log({
        action: 'fix-resolved',
        coin,
        to: entry.folder,
        detail: `find after a lost fix reply: ${[...letters].map(([id, l]) => `${id}=${l}`).join(' ')}`,
      });
      if (Object.keys(still).length === 0) await removeFile(path, join(dir, 'Pending'));
      else {
        await writeJournal({ ...journal, pending: still });
        unresolved.add(coinKey(coin));
      }
      report.push(
        outcome(
          updated,
          entry.folder,
          Object.keys(still).length === 0 ? 'lost fix reply resolved with find' : 'lost fix reply: some RAIDAs still silent',
        ),
      );
    }
    return unresolved;
  }

  async function writeJournal(journal: FixJournal): Promise<void> {
    await writeFileAtomic(journalPath(dir, journal), new TextEncoder().encode(`${JSON.stringify(journal)}\n`));
  }

  /** find [AN, PAN] on the RAIDAs where a pown's outcome is unknown (`n`). */
  async function resolveLimbo(network: WalletNetwork, call: WalletCallOptions, entry: StoredCoin): Promise<CoinOutcome> {
    const coin = entry.coin;
    if (coin.pans === undefined) return settle(coin, entry.path, 'limbo');
    const unknown = Array.from(coin.pown).flatMap((letter, id) => (letter === 'n' ? [id] : []));
    const ids = unknown.filter((id) => network.client.servers.some((server) => server.id === id));
    if (ids.length === 0) return settle(coin, entry.path, 'limbo');
    call.onProgress?.({ kind: 'find', coins: 1 });
    const found = await network.healer.find([{ ...toRaidaCoin(coin), pans: coin.pans }], {
      only: ids,
      ...(call.signal ? { signal: call.signal } : {}),
    });
    const ans = [...coin.ans];
    const letters = new Map<number, PownLetter>();
    for (const id of ids) {
      const answer = found.servers.find((server) => server.id === id)?.found?.[0];
      if (answer === 'pan') {
        ans[id] = coin.pans[id]!;
        letters.set(id, 'p');
      } else if (answer === 'an') letters.set(id, 'p');
      else if (answer === 'neither') letters.set(id, 'f');
    }
    return settle({ ...coin, ans, pown: withLetters(coin.pown, letters) }, entry.path, 'limbo-resolved');
  }

  /**
   * §2.6 for a batch of Fracked coins: one get_ticket per RAIDA for all of them, a fresh PG per round, each coin's PG,
   * tickets and targets saved in its journal before any fix leaves, then one fix per failing RAIDA listing the coins
   * that fail there (all RAIDAs at once, same PG and tickets). Up to three rounds with fresh tickets, then a detect.
   */
  async function healBatch(network: WalletNetwork, call: WalletCallOptions, entries: readonly StoredCoin[]): Promise<CoinOutcome[]> {
    const signal = call.signal ? { signal: call.signal } : {};
    const configured = new Set(network.client.servers.map((server) => server.id));
    const states = entries.map((entry) => ({
      coin: entry.coin,
      path: entry.path,
      note: 'fracked: not enough tickets to fix',
      done: false,
      waiting: false,
    }));
    type State = (typeof states)[number];
    for (let round = 1; round <= MAX_FIX_ROUNDS; round++) {
      const active = states.filter((state) => !state.done);
      if (active.length === 0) break;
      call.onProgress?.({ kind: 'tickets', coins: active.length });
      const tickets = await network.healer.getTickets(
        active.map((state) => toRaidaCoin(state.coin)),
        signal,
      );
      const pg = random(16).slice();
      const plans: { state: State; targets: number[]; pending: Record<string, string> }[] = [];
      active.forEach((state, index) => {
        const letters = new Map<number, PownLetter>();
        for (const server of tickets.servers) if (server.passed !== undefined) letters.set(server.id, server.passed[index] ? 'p' : 'f');
        state.coin = { ...state.coin, pown: withLetters(state.coin.pown, letters) };
        const targets = Array.from(state.coin.pown).flatMap((letter, id) => (letter !== 'p' && configured.has(id) ? [id] : []));
        if (targets.length === 0) {
          state.note = 'healed';
          state.done = true;
          return;
        }
        // A ticket vouches for this coin only if the RAIDA that issued it passed this coin.
        const voters = tickets.servers.filter(
          (server) => server.passed?.[index] === true && tickets.tickets[server.id] !== 0 && !targets.includes(server.id),
        ).length;
        if (voters < PASSES_NEEDED) {
          state.note = `fracked: only ${voters} RAIDAs gave a ticket for it, 13 are needed`;
          state.done = true;
          return;
        }
        const pending: Record<string, string> = {};
        for (const id of targets) pending[String(id)] = toHex(state.coin.ans[id]!);
        plans.push({ state, targets, pending });
      });
      if (plans.length === 0) break;
      // Saved before any fix leaves: a lost reply is resolved with find on the next run.
      for (const { state, pending } of plans) {
        await writeJournal({
          version: 1,
          denomination: state.coin.denomination,
          serialNumber: state.coin.serialNumber,
          pg: toHex(pg),
          tickets: tickets.tickets,
          pending,
        });
        state.path = await storeCoin(dir, 'Fracked', state.coin, state.path);
      }
      const targets = [...new Set(plans.flatMap((plan) => plan.targets))].sort((a, b) => a - b);
      const ids = (list: readonly { state: State }[]): CoinId[] =>
        list.map(({ state }) => ({ denomination: state.coin.denomination, serialNumber: state.coin.serialNumber }));
      call.onProgress?.({ kind: 'fix-sent', coins: ids(plans), targets, round, attemptTimeoutMs: call.fixTimeoutMs });
      let answered = 0;
      const replies = await Promise.all(
        targets.map(async (target) => {
          const listed = plans.filter((plan) => plan.targets.includes(target));
          const fix = await network.healer.fix(ids(listed), pg, tickets.tickets, {
            only: [target],
            ...signal,
            ...(call.fixTimeoutMs === undefined ? {} : { attemptTimeoutMs: call.fixTimeoutMs }),
            onReply: () => call.onProgress?.({ kind: 'fix-reply', raidaId: target, answered: ++answered, total: targets.length }),
          });
          return { target, listed, server: fix.servers.find((result) => result.id === target) };
        }),
      );
      call.onProgress?.({ kind: 'fix-done' });
      for (const plan of plans) {
        const { state } = plan;
        const coin = state.coin;
        const ans = [...coin.ans];
        const letters = new Map<number, PownLetter>();
        const still: Record<string, string> = {};
        let fixedCount = 0;
        for (const target of plan.targets) {
          const reply = replies.find((candidate) => candidate.target === target)!;
          const fixed = reply.server?.fixed?.[reply.listed.indexOf(plan)];
          if (fixed === true) {
            ans[target] = fixedAn(target, coin.denomination, coin.serialNumber, pg);
            letters.set(target, 'p');
            fixedCount++;
          } else if (fixed === false) letters.set(target, 'f');
          else still[String(target)] = plan.pending[String(target)]!;
        }
        state.coin = { ...coin, ans, pown: withLetters(coin.pown, letters) };
        state.path = await storeCoin(dir, 'Fracked', state.coin, state.path);
        await log({
          action: 'fix',
          coin,
          to: 'Fracked',
          detail: `round ${round}: fixed on ${fixedCount} of ${plan.targets.length} ${state.coin.pown}`,
        });
        if (Object.keys(still).length > 0) {
          await writeJournal({
            version: 1,
            denomination: coin.denomination,
            serialNumber: coin.serialNumber,
            pg: toHex(pg),
            tickets: tickets.tickets,
            pending: still,
          });
          state.note = `fix sent, no reply from RAIDA ${Object.keys(still).join(', ')}; the next heal resolves it with find`;
          state.done = true;
          state.waiting = true;
          continue;
        }
        await removeFile(journalPath(dir, coin), join(dir, 'Pending'));
        if (fixedCount === 0) {
          state.note = 'fracked: the RAIDAs answered "not fixed" (242); the tickets are spent, heal again later';
          state.done = true;
        } else {
          state.note = state.coin.pown.includes('f') ? 'partly healed' : 'healed';
          state.done = !state.coin.pown.includes('f');
        }
      }
    }
    const outcomes: CoinOutcome[] = [];
    const confirm = states.filter((state) => !state.waiting);
    if (confirm.length > 0) {
      // A detect confirms what the coins' letters say now.
      call.onProgress?.({ kind: 'confirm', coins: confirm.length });
      const detect = await network.client.detect(
        confirm.map((state) => toRaidaCoin(state.coin)),
        { ...signal, retries: 1 },
      );
      for (const [index, state] of confirm.entries()) {
        const letters = new Map<number, PownLetter>();
        detect.coins[index]!.votes.forEach((vote, serverIndex) => {
          if (vote !== 'unknown') letters.set(idAt(network, serverIndex), vote === 'pass' ? 'p' : 'f');
        });
        state.coin = { ...state.coin, pown: withLetters(state.coin.pown, letters) };
        const grade = gradePown(state.coin.pown);
        const folder = grade === 'limbo' ? 'Fracked' : gradeFolder(grade);
        outcomes.push(await file(state.coin, folder, state.path, 'heal', grade === 'bank' ? 'healed' : state.note));
      }
    }
    for (const state of states) if (state.waiting) outcomes.push(outcome(state.coin, 'Fracked', state.note));
    return outcomes;
  }

  return {
    dir,
    list: () => readWallet(dir),
    async balance() {
      const { coins } = await readWallet(dir);
      return COIN_FOLDERS.map((folder) => {
        const inFolder = coins.filter((entry) => entry.folder === folder);
        const byDenomination: Record<number, number> = {};
        for (const entry of inFolder) byDenomination[entry.coin.denomination] = (byDenomination[entry.coin.denomination] ?? 0) + 1;
        return {
          folder,
          coins: inFolder.length,
          units: inFolder.reduce((sum, entry) => sum + denominationUnits(entry.coin.denomination), 0n),
          byDenomination,
        };
      });
    },
    importFiles: (paths, network, call = {}) => withWalletLock(dir, () => importFiles(paths, network, call)),
    heal: (network, call = {}) => withWalletLock(dir, () => heal(network, call)),
    exportCoins: (options) => withWalletLock(dir, () => exportCoins(options)),
  };

  async function importFiles(paths: readonly string[], network: WalletNetwork, call: WalletCallOptions): Promise<ImportReport> {
    const problems: WalletProblem[] = [];
    const { coins: held } = await readWallet(dir);
    const known = new Set(held.map((entry) => coinKey(entry.coin)));
    for (const source of paths) {
      let coins: WalletCoin[];
      try {
        coins = await readCoinFile(source);
      } catch (error) {
        problems.push({ path: source, message: error instanceof Error ? error.message : String(error) });
        continue;
      }
      for (const coin of coins) {
        if (coin.denomination > 6) {
          problems.push({
            path: source,
            message: `coin ${coin.serialNumber} is a key coin (denomination ${coin.denomination}), which this wallet does not hold; skipped`,
          });
          continue;
        }
        if (known.has(coinKey(coin))) {
          problems.push({
            path: source,
            message: `coin ${coin.serialNumber} (denomination ${coin.denomination}) is already in the wallet; skipped`,
          });
          continue;
        }
        known.add(coinKey(coin));
        const received: WalletCoin = { denomination: coin.denomination, serialNumber: coin.serialNumber, ans: coin.ans, pown: coin.pown };
        await storeCoin(dir, 'Import', received);
        await log({ action: 'received', coin, to: 'Import', detail: source.split(/[\\/]/).pop() ?? source });
      }
    }
    const processed = await processImport(network, call);
    return { coins: processed.coins, problems: [...problems, ...processed.problems] };
  }

  async function heal(network: WalletNetwork, call: WalletCallOptions): Promise<HealReport> {
    const report: CoinOutcome[] = [];
    const problems: WalletProblem[] = [];
    const waiting = await resolveJournals(network, call, report, problems);
    const { coins: inLimbo } = await readWalletFolder('Limbo');
    for (const entry of inLimbo) report.push(await resolveLimbo(network, call, entry));
    const { coins: fracked, problems: unreadable } = await readWalletFolder('Fracked');
    problems.push(...unreadable);
    const ready = fracked.filter((entry) => !waiting.has(coinKey(entry.coin)));
    for (let at = 0; at < ready.length; at += HEAL_BATCH)
      report.push(...(await healBatch(network, call, ready.slice(at, at + HEAL_BATCH))));
    return { coins: report, problems };
  }

  async function exportCoins(options: ExportOptions): Promise<{ path: string; coins: number }> {
    const wanted: unknown = options?.serialNumbers;
    if (!Array.isArray(wanted) || wanted.length === 0)
      throw invalidOptions('serialNumbers', 'exportCoins needs serialNumbers: the Bank coins to export', wanted);
    const { coins } = await readWallet(dir);
    const chosen = options.serialNumbers.map((serialNumber) => {
      const entry = coins.find((stored) => stored.folder === 'Bank' && stored.coin.serialNumber === serialNumber);
      if (entry === undefined)
        throw walletError('WALLET_COIN_NOT_FOUND', 'config', `No coin with serial number ${serialNumber} in Bank`, { serialNumber });
      return entry;
    });
    const out =
      options.out ??
      join(
        dir,
        'Export',
        coinFileName(
          chosen.map((entry) => entry.coin),
          options.tag ?? '',
        ),
      );
    await writeCoinFile(
      out,
      chosen.map((entry) => entry.coin),
      { exclusive: true },
    );
    for (const entry of chosen) {
      await removeFile(entry.path, join(dir, 'Bank'));
      await log({ action: 'export', coin: entry.coin, from: 'Bank', detail: out.split(/[\\/]/).pop() ?? out });
    }
    return { path: out, coins: chosen.length };
  }
}
