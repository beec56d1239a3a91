import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AccountRole,
  address,
  appendTransactionMessageInstruction,
  blockhash,
  compileTransaction,
  createTransactionMessage,
  getBase64EncodedWireTransaction,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
} from '@solana/kit';
import type { SignatureBytes } from '@solana/kit';
import { startRpcCluster } from '@x/testkit';
import type { RpcBehaviorPatch, RpcCluster, RpcClusterOptions } from '@x/testkit';
import { createSolanaMultiRpc } from '@x/solana-rpc';
import type { SolanaRpc, SolanaRpcOptions } from '@x/solana-rpc';

/** Budgets far beyond anything loopback needs, so tests never depend on the machine's speed. */
export const GENEROUS = { deadlineMs: 10_000 } as const;

export const GENEROUS_METHODS: NonNullable<SolanaRpcOptions['methods']> = {
  getAccountInfo: GENEROUS,
  getMultipleAccounts: GENEROUS,
  getTransaction: GENEROUS,
  getSignaturesForAddress: GENEROUS,
  getBalance: GENEROUS,
  getSlot: GENEROUS,
  getLatestBlockhash: GENEROUS,
  sendTransaction: GENEROUS,
};

export interface Setup {
  readonly cluster: RpcCluster;
  readonly client: SolanaRpc;
  readonly close: () => Promise<void>;
}

export interface SetupOptions {
  readonly client?: Partial<SolanaRpcOptions>;
  readonly cluster?: Omit<RpcClusterOptions, 'endpoints'>;
  /** Appended to every endpoint URL (an API key in the path or query). */
  readonly urlSuffix?: string;
  /** Keep the real presets (50 ms races…) instead of generous budgets. Default false. */
  readonly presets?: boolean;
}

/**
 * A simulated cluster whose slots move only when the test says so, and a client over all of its
 * endpoints (ids as in the cluster) with generous budgets unless told otherwise.
 */
export async function setup(
  endpoints: ReadonlyArray<{ id: string; behavior?: RpcBehaviorPatch }>,
  options: SetupOptions = {},
): Promise<Setup> {
  const started = await startRpcCluster({ seed: 7, autoAdvance: false, ...options.cluster, endpoints });
  const generous = options.presets !== true;
  try {
    const rpc = createSolanaMultiRpc({
      endpoints: started.endpoints.map((endpoint) => ({ url: `${endpoint.url}${options.urlSuffix ?? ''}`, id: endpoint.id })),
      ...(generous ? { defaults: GENEROUS } : {}),
      ...options.client,
      methods: { ...(generous ? GENEROUS_METHODS : {}), ...options.client?.methods },
    });
    return {
      cluster: started,
      client: rpc,
      close: async () => {
        await rpc.close();
        await started.close();
      },
    };
  } catch (error) {
    await started.close();
    throw error;
  }
}

let signatureCounter = 0;

/**
 * A System transfer, base64 wire format, with a distinct fake signature (the simulator does not
 * verify signatures). Returns the wire text and the signature the nodes will answer.
 */
export function transferTransaction(
  from: string,
  to: string,
  lamports: bigint,
  recentBlockhash: string,
): { wire: string; bytes: Uint8Array } {
  const data = new Uint8Array(12);
  const view = new DataView(data.buffer);
  view.setUint32(0, 2, true);
  view.setBigUint64(4, lamports, true);
  const message = pipe(
    createTransactionMessage({ version: 'legacy' }),
    (m) => setTransactionMessageFeePayer(address(from), m),
    (m) => setTransactionMessageLifetimeUsingBlockhash({ blockhash: blockhash(recentBlockhash), lastValidBlockHeight: 0n }, m),
    (m) =>
      appendTransactionMessageInstruction(
        {
          programAddress: address('11111111111111111111111111111111'),
          accounts: [
            { address: address(from), role: AccountRole.WRITABLE_SIGNER },
            { address: address(to), role: AccountRole.WRITABLE },
          ],
          data,
        },
        m,
      ),
  );
  const compiled = compileTransaction(message);
  signatureCounter += 1;
  const signature = new Uint8Array(64).fill((signatureCounter % 251) + 1);
  signature[0] = signatureCounter & 0xff;
  signature[1] = (signatureCounter >> 8) & 0xff;
  const signed = { ...compiled, signatures: { ...compiled.signatures, [from]: signature as SignatureBytes } };
  const wire = getBase64EncodedWireTransaction(signed);
  return { wire, bytes: new Uint8Array(Buffer.from(wire, 'base64')) };
}

export interface ScriptedRequest {
  readonly method: string;
  readonly params: unknown;
  readonly id: unknown;
}

/** What a scripted endpoint answers: a result, or a promise of one (to hold the answer back). */
export type Script = (request: ScriptedRequest) => unknown;

export interface ScriptedServer {
  readonly url: string;
  /** Every request received, parsed. */
  readonly requests: ScriptedRequest[];
  /** Every request body as received, for what JSON.parse would round. */
  readonly bodies: string[];
  close(): Promise<void>;
}

/** A JSON-RPC endpoint on 127.0.0.1 that answers each call with `script(request)` as its result. */
export async function startScriptedServer(script: Script): Promise<ScriptedServer> {
  const requests: ScriptedRequest[] = [];
  const bodies: string[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = JSON.parse(text) as ScriptedRequest;
      requests.push(body);
      bodies.push(text);
      Promise.resolve(script(body)).then(
        (result) => {
          if (!res.destroyed) res.end(JSON.stringify({ jsonrpc: '2.0', id: body.id, result }));
        },
        () => res.destroy(),
      );
    });
  };
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A promise with its resolver, to hold an answer back until the test lets it go. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
