import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

/** A real Ethereum JSON-RPC node (anvil, from the pinned `@foundry-rs/anvil-linux-amd64` package) on 127.0.0.1. */
export interface Anvil {
  readonly url: string;
  readonly chainId: number;
  /** One JSON-RPC call straight to the node (not through any relay). */
  call<T>(method: string, params?: unknown[]): Promise<T>;
  close(): Promise<void>;
}

/** An account the bench funded on anvil, with its balance (the truth a contender's answer is checked against). */
export interface FundedAccount {
  readonly evm: `0x${string}`;
  readonly wei: bigint;
}

/**
 * Funds `count` new accounts, drawn from `random`: whole ether plus a random number of wei, different for every account,
 * set on the node directly (`anvil_setBalance`).
 */
export async function fundAccounts(
  anvil: Anvil,
  random: { bytes(n: number): Uint8Array; int(min: number, max: number): number },
  count: number,
): Promise<FundedAccount[]> {
  const accounts: FundedAccount[] = [];
  for (let i = 0; i < count; i++) {
    const hex = random.bytes(20).reduce((text, byte) => text + byte.toString(16).padStart(2, '0'), '');
    const evm: `0x${string}` = `0x${hex}`;
    const wei = BigInt(random.int(1, 1000)) * 10n ** 18n + BigInt(random.int(1, 2 ** 31));
    await anvil.call('anvil_setBalance', [evm, `0x${wei.toString(16)}`]);
    accounts.push({ evm, wei });
  }
  return accounts;
}

function anvilBinary(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@foundry-rs/anvil-linux-amd64/package.json')), 'bin', 'anvil');
}

export async function anvilVersion(): Promise<string> {
  const child = spawn(anvilBinary(), ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const lines = createInterface({ input: child.stdout });
  const [first] = (await once(lines, 'line')) as [string];
  await once(child, 'exit').catch(() => undefined);
  return first.trim();
}

/** Starts anvil on an ephemeral port (read from its "Listening on" line), without mining (the chain does not move unless told). */
export async function startAnvil(): Promise<Anvil> {
  const child: ChildProcess = spawn(anvilBinary(), ['--host', '127.0.0.1', '--port', '0', '--no-mining'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const match = /Listening on (127\.0\.0\.1:\d+)/.exec(line);
      if (match) resolve(`http://${match[1]}`);
    });
    void exited.then(() => reject(new Error('anvil exited before listening')));
  });
  let nextId = 1;
  const call = async <T>(method: string, params: unknown[] = []): Promise<T> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
    });
    const body = (await response.json()) as { result?: T; error?: { message: string } };
    if (body.error !== undefined) throw new Error(`anvil ${method}: ${body.error.message}`);
    return body.result as T;
  };
  const chainId = Number(await call<string>('eth_chainId'));
  return {
    url,
    chainId,
    call,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
      lines.close();
    },
  };
}
