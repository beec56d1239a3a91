import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRaidaClient, createRaidaHealer } from '@x/raida-client';
import type { RaidaClient, RaidaHealer } from '@x/raida-client';
import { counterfeitCoin, createTestCoins, frackCoin, startRaidaCluster } from '@x/testkit';
import type { RaidaCluster, RaidaClusterOptions, TestCoin } from '@x/testkit';
import { encodeCoinFile, openWallet, readCoinFile, writeCoinFile } from '@x/raida-wallet';
import type { WalletCoin, WalletNetwork } from '@x/raida-wallet';

let dir: string | undefined;
let cluster: RaidaCluster | undefined;
let client: RaidaClient | undefined;
let healer: RaidaHealer | undefined;
afterEach(async () => {
  await client?.close();
  await healer?.close();
  await cluster?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = cluster = client = healer = undefined;
});

const asWallet = (coin: TestCoin): WalletCoin => ({
  denomination: coin.denomination,
  serialNumber: coin.serialNumber,
  ans: coin.ans,
  pown: 'u'.repeat(25),
});

async function setup(
  options: RaidaClusterOptions = {},
  timeoutMs = 1000,
): Promise<{ coins: TestCoin[]; network: WalletNetwork; source: string }> {
  const coins = createTestCoins(3, 'wallet');
  cluster = await startRaidaCluster({ coins, ...options });
  client = createRaidaClient({ servers: cluster.servers, attemptTimeoutMs: timeoutMs });
  healer = createRaidaHealer({ servers: cluster.servers, attemptTimeoutMs: timeoutMs });
  dir = await mkdtemp(join(tmpdir(), 'wallet-'));
  // What the user received: one authentic coin, one fracked on RAIDA 5 and 20, one counterfeit.
  const source = join(dir, 'received.bin');
  await writeCoinFile(source, [asWallet(coins[0]!), asWallet(frackCoin(coins[1]!, [5, 20])), asWallet(counterfeitCoin(coins[2]!))]);
  return { coins, network: { client, healer }, source };
}

async function passes(coin: WalletCoin): Promise<number> {
  const detect = await client!.detect([coin]);
  return detect.coins[0]!.pass;
}

describe('a wallet', () => {
  it('imports a file of three coins, heals the fracked one, and ends with two in Bank and one in Counterfeit', async () => {
    const { coins, network, source } = await setup();
    const wallet = await openWallet({ dir: join(dir!, 'w') });
    const imported = await wallet.importFiles([source], network);
    expect(imported.problems).toEqual([]);
    expect(imported.coins.map((coin) => coin.folder).sort()).toEqual(['Bank', 'Counterfeit', 'Fracked']);
    const fracked = imported.coins.find((coin) => coin.folder === 'Fracked')!;
    expect(fracked.pown[5]).toBe('f');
    expect(fracked.pown[20]).toBe('f');
    // The pown moved every passing AN to one only this wallet knows.
    const banked = (await wallet.list()).coins.find((entry) => entry.folder === 'Bank')!.coin;
    expect(banked.ans.every((an, id) => !Buffer.from(an).equals(Buffer.from(coins[0]!.ans[id]!)))).toBe(true);
    expect(await passes(banked)).toBe(25);

    const healed = await wallet.heal(network);
    expect(healed.coins).toHaveLength(1);
    expect(healed.coins[0]).toMatchObject({ folder: 'Bank', pown: 'p'.repeat(25), detail: 'healed' });
    const balance = await wallet.balance();
    expect(balance.find((folder) => folder.folder === 'Bank')!.coins).toBe(2);
    expect(balance.find((folder) => folder.folder === 'Counterfeit')!.coins).toBe(1);
    expect(balance.find((folder) => folder.folder === 'Fracked')!.coins).toBe(0);
    const healedCoin = (await wallet.list()).coins.find((entry) => entry.coin.serialNumber === coins[1]!.serialNumber)!.coin;
    expect(await passes(healedCoin)).toBe(25);
    expect(await readdir(join(dir!, 'w', 'Pending'))).toEqual([]);
    const log = await readFile(join(dir!, 'w', 'transactions.csv'), 'utf8');
    expect(log.split('\n')[0]).toBe('time,action,denomination,serial_number,from,to,detail');
    expect(log).toMatch(/,fix,/);
    expect(log).toMatch(/,heal,.*,Fracked,Bank,healed/);
  });

  it('a fix answered 242 (the published server’s bug) leaves the coin in Fracked with its old ANs, and no journal', async () => {
    const { coins, network, source } = await setup({ healing: { headerSizeBug: true } });
    const wallet = await openWallet({ dir: join(dir!, 'w') });
    await wallet.importFiles([source], network);
    const before = (await wallet.list()).coins.find((entry) => entry.folder === 'Fracked')!.coin;
    const result = await wallet.heal(network);
    expect(result.coins[0]).toMatchObject({ folder: 'Fracked' });
    expect(result.coins[0]!.detail).toMatch(/242/);
    const after = (await wallet.list()).coins.find((entry) => entry.coin.serialNumber === coins[1]!.serialNumber)!;
    expect(after.folder).toBe('Fracked');
    expect(after.coin.ans).toEqual(before.ans);
    expect(await readdir(join(dir!, 'w', 'Pending'))).toEqual([]);
  });

  it('a fix whose reply is lost is resolved with find on the next heal, with no loss', async () => {
    const { coins, network, source } = await setup({ healing: { peerTimeoutMs: 500 } }, 1000);
    const wallet = await openWallet({ dir: join(dir!, 'w') });
    await wallet.importFiles([source], network);
    // RAIDA 20 applies the fix but its reply comes too late.
    cluster!.setBehavior(20, { slowMs: 5000 });
    const first = await wallet.heal(network, { fixTimeoutMs: 1500 });
    expect(first.coins[0]!.folder).toBe('Fracked');
    expect(first.coins[0]!.detail).toMatch(/no reply from RAIDA 20/);
    expect(await readdir(join(dir!, 'w', 'Pending'))).toHaveLength(1);
    cluster!.setBehavior(20, { slowMs: 0 });
    const second = await wallet.heal(network);
    expect(second.coins.map((coin) => coin.detail)).toEqual(['lost fix reply resolved with find', 'healed']);
    const coin = (await wallet.list()).coins.find((entry) => entry.coin.serialNumber === coins[1]!.serialNumber)!;
    expect(coin.folder).toBe('Bank');
    expect(await passes(coin.coin)).toBe(25);
    expect(await readdir(join(dir!, 'w', 'Pending'))).toEqual([]);
  });

  it('a pown whose replies are lost leaves the coin in Limbo with AN and PAN (839 bytes); heal resolves it per RAIDA with find', async () => {
    const { coins, network, source } = await setup({ behaviors: { 23: { slowMs: 3000 }, 24: { slowMs: 3000 } } }, 500);
    const wallet = await openWallet({ dir: join(dir!, 'w') });
    const imported = await wallet.importFiles([source], network);
    const good = imported.coins.find((coin) => coin.serialNumber === coins[0]!.serialNumber)!;
    expect(good.folder).toBe('Limbo');
    expect(good.pown.slice(23)).toBe('nn');
    const limboFile = (await readdir(join(dir!, 'w', 'Limbo'))).find((name) => name.includes(`#${coins[0]!.serialNumber} `))!;
    const bytes = await readFile(join(dir!, 'w', 'Limbo', limboFile));
    expect(bytes.length).toBe(839);
    expect(bytes[15]).toBe(1);
    cluster!.setBehavior(23, { slowMs: 0 });
    cluster!.setBehavior(24, { slowMs: 0 });
    await wallet.heal(network);
    const settled = (await wallet.list()).coins.find((entry) => entry.coin.serialNumber === coins[0]!.serialNumber)!;
    expect(settled.folder).toBe('Bank');
    expect(settled.coin.pans).toBeUndefined();
    expect(await passes(settled.coin)).toBe(25);
  });

  it('exports Bank coins to a format 9 file and removes them only after it is written; never overwrites', async () => {
    const { coins, network, source } = await setup();
    const wallet = await openWallet({ dir: join(dir!, 'w') });
    await wallet.importFiles([source], network);
    await wallet.heal(network);
    const out = join(dir!, 'out.bin');
    const exported = await wallet.exportCoins({ serialNumbers: [coins[0]!.serialNumber, coins[1]!.serialNumber], out });
    expect(exported.coins).toBe(2);
    const written = await readCoinFile(out);
    expect(written.map((coin) => coin.serialNumber)).toEqual([coins[0]!.serialNumber, coins[1]!.serialNumber]);
    expect(await passes(written[0]!)).toBe(25);
    expect((await wallet.balance()).find((folder) => folder.folder === 'Bank')!.coins).toBe(0);
    await expect(wallet.exportCoins({ serialNumbers: [coins[0]!.serialNumber], out })).rejects.toMatchObject({
      code: 'WALLET_COIN_NOT_FOUND',
    });
  });

  it('a coin left in two folders by a crash keeps the copy with PANs, the other goes to Trash', async () => {
    dir = await mkdtemp(join(tmpdir(), 'wallet-'));
    const wallet = await openWallet({ dir });
    const [coin] = createTestCoins(1, 'dup');
    const plain = asWallet(coin!);
    await writeCoinFile(join(dir, 'Import', 'a.bin'), [plain]);
    await writeCoinFile(join(dir, 'Limbo', 'b.bin'), [{ ...plain, pans: plain.ans, pown: 'n'.repeat(25) }]);
    const future = new Date(Date.now() + 60_000);
    await utimes(join(dir, 'Import', 'a.bin'), future, future);
    const { coins } = await wallet.list();
    expect(coins.map((entry) => entry.folder)).toEqual(['Limbo']);
    expect(await readdir(join(dir, 'Trash'))).toHaveLength(1);
    expect(await readdir(join(dir, 'Import'))).toEqual([]);
  });

  it('bad files are reported by name and import the rest', async () => {
    const { network, source } = await setup();
    const bad = join(dir!, 'bad.bin');
    await writeFile(bad, encodeCoinFile([asWallet(createTestCoins(1, 'x')[0]!)]).slice(0, 100));
    const wallet = await openWallet({ dir: join(dir!, 'w') });
    const report = await wallet.importFiles([bad, source], network);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]!.message).toMatch(/bad\.bin: truncated/);
    expect(report.coins).toHaveLength(3);
  });
});

describe('a wallet and key coins', () => {
  it('skips a key coin (denomination 7–11) with a problem naming the file, and imports the others', async () => {
    const { network, source } = await setup();
    const key = join(dir!, 'key.bin');
    const [coin] = createTestCoins(1, 'key');
    await writeCoinFile(key, [{ ...asWallet(coin!), denomination: 11 }]);
    const wallet = await openWallet({ dir: join(dir!, 'w') });
    const report = await wallet.importFiles([key, source], network);
    expect(report.problems).toEqual([
      { path: key, message: `coin ${coin!.serialNumber} is a key coin (denomination 11), which this wallet does not hold; skipped` },
    ]);
    expect(report.coins).toHaveLength(3);
  });
});

describe('healing several coins', () => {
  it('heals a batch with one get_ticket per RAIDA and one fix per failing RAIDA listing only its coins; a coin with 12 tickets stays Fracked', async () => {
    const originals = createTestCoins(3, 'batch');
    const events: { raidaId: number; command: string | undefined; length: number }[] = [];
    // RAIDA 24 is down: the third coin, failing on 12 RAIDAs, then has only 12 tickets from RAIDAs that pass it.
    cluster = await startRaidaCluster({
      coins: originals,
      behaviors: { 24: { down: true } },
      healing: { peerTimeoutMs: 500 },
      onRequest: (event) => events.push({ raidaId: event.raidaId, command: event.command, length: event.length }),
    });
    client = createRaidaClient({ servers: cluster.servers, attemptTimeoutMs: 1000 });
    healer = createRaidaHealer({ servers: cluster.servers, attemptTimeoutMs: 1000 });
    dir = await mkdtemp(join(tmpdir(), 'wallet-'));
    const wallet = await openWallet({ dir });
    const tooMany = Array.from({ length: 12 }, (_, i) => i);
    const held = [frackCoin(originals[0]!, [5, 20]), frackCoin(originals[1]!, [3]), frackCoin(originals[2]!, tooMany)];
    const powns = [[5, 20], [3], tooMany].map((ids) => Array.from({ length: 25 }, (_, id) => (ids.includes(id) ? 'f' : 'p')).join(''));
    for (const [i, coin] of held.entries()) await writeCoinFile(join(dir, 'Fracked', `${i}.bin`), [{ ...asWallet(coin), pown: powns[i]! }]);

    const report = await wallet.heal({ client, healer });
    const bySerial = new Map(report.coins.map((coin) => [coin.serialNumber, coin]));
    expect(bySerial.get(originals[0]!.serialNumber)).toMatchObject({ folder: 'Bank', detail: 'healed' });
    expect(bySerial.get(originals[1]!.serialNumber)).toMatchObject({ folder: 'Bank', detail: 'healed' });
    expect(bySerial.get(originals[2]!.serialNumber)).toMatchObject({
      folder: 'Fracked',
      detail: 'fracked: only 12 RAIDAs gave a ticket for it, 13 are needed',
    });
    // Round 1: 24 get_tickets (RAIDA 24 is down) of three coins each (18 + 3 × 21 body bytes), then fixes on 3, 5 and 20 only.
    const tickets = events.filter((event) => event.command === 'get_ticket');
    expect(tickets.length).toBe(24);
    expect(tickets.every((event) => event.length === 32 + 18 + 3 * 21)).toBe(true);
    const fixes = events.filter((event) => event.command === 'fix');
    expect(fixes.map((event) => event.raidaId).sort((a, b) => a - b)).toEqual([3, 5, 20]);
    // Each fix lists only the coins failing on that RAIDA: one coin, 134 + 5 body bytes.
    expect(fixes.every((event) => event.length === 32 + 139)).toBe(true);
    // Every server that answers (all but the down RAIDA 24) passes the healed coins.
    for (const coin of (await wallet.list()).coins.filter((entry) => entry.folder === 'Bank')) expect(await passes(coin.coin)).toBe(24);
  });
});
