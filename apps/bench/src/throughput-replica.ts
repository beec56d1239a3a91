/**
 * Child-process entry: one replica of a service that reads balances through ours (@x/pool with budgets), with its
 * budgets in a store of its own (local) or in one Redis shared with the other replicas (@x/budget-redis). Started by
 * the throughput scenario, two at a time, each offered its own open-loop load against the same rate-limited relays.
 */
import { createRedisBudgetStore } from '@x/budget-redis';
import type { BudgetStore } from '@x/pool';
import { createRandom } from '@x/testkit';
import { oursThroughput } from './rpc/ours-throughput.js';
import type { OursThroughputVariant } from './rpc/ours-throughput.js';
import type { RpcContender } from './rpc/contender.js';
import { runOpenLoopStep } from './rpc/open-loop.js';

interface ReplicaStart {
  readonly op: 'start';
  readonly endpoints: ReadonlyArray<{ id: string; url: string }>;
  readonly limit: { readonly requestsPerSecond: number; readonly burst: number };
  readonly variant: OursThroughputVariant;
  /** Undefined: local budgets (a store of the pool's own). */
  readonly redis?: { readonly url: string; readonly keyPrefix: string; readonly replicas: number };
}

interface ReplicaRun {
  readonly op: 'run';
  readonly callsPerSecond: number;
  readonly durationMs: number;
  readonly graceMs: number;
  readonly seed: number;
  /** The accounts to read, with their balances in wei as decimal strings. */
  readonly accounts: ReadonlyArray<{ readonly evm: `0x${string}`; readonly wei: string }>;
}

export type ReplicaRequest = ReplicaStart | ReplicaRun | { readonly op: 'close' };

/** What a replica reports of its run (the endpoints' own counts are read by the parent). */
export interface ReplicaResult {
  readonly issued: number;
  readonly served: number;
  readonly failed: number;
  readonly unfinished: number;
  readonly elapsedMs: number;
  readonly servedLatencies: readonly number[];
  readonly errors: ReadonlyArray<[string, number]>;
  readonly store: string;
}

let contender: RpcContender | undefined;
let store: BudgetStore | undefined;

async function handle(request: ReplicaRequest): Promise<unknown> {
  switch (request.op) {
    case 'start': {
      store = request.redis === undefined ? undefined : await createRedisBudgetStore(request.redis);
      contender = oursThroughput(request.variant, request.endpoints, request.limit, store);
      return store?.status().mode ?? 'local';
    }
    case 'run': {
      if (contender === undefined) throw new Error('replica not started');
      const truth = new Map(request.accounts.map((a) => [a.evm.toLowerCase(), BigInt(a.wei)]));
      const arrivals = createRandom(request.seed).fork('replica-arrivals');
      const step = await runOpenLoopStep(contender, {
        callsPerSecond: request.callsPerSecond,
        durationMs: request.durationMs,
        graceMs: request.graceMs,
        random: () => arrivals.next(),
        targetOf: (index) => {
          const account = request.accounts[index % request.accounts.length]!;
          return { solana: account.evm, evm: account.evm };
        },
        isTrue: (value, target) => value === truth.get(target.evm.toLowerCase()),
      });
      const result: ReplicaResult = {
        issued: step.issued,
        served: step.served,
        failed: step.failed + step.wrong,
        unfinished: step.unfinished,
        elapsedMs: step.elapsedMs,
        servedLatencies: step.servedLatencies,
        errors: [...step.errors],
        store: store?.status().mode ?? 'local',
      };
      return result;
    }
    case 'close': {
      await contender?.close();
      await store?.close();
      contender = undefined;
      store = undefined;
      return null;
    }
  }
}

process.on('message', (message: ReplicaRequest & { id: number }) => {
  handle(message).then(
    (value) => process.send?.({ id: message.id, ok: true, value }),
    (error: unknown) => process.send?.({ id: message.id, ok: false, message: error instanceof Error ? error.message : String(error) }),
  );
});
// The parent going away (or closing the channel) ends this process with it.
process.on('disconnect', () => {
  void Promise.allSettled([contender?.close(), store?.close()]).then(() => process.exit(0));
});
