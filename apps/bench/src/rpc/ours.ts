import { DEFAULT_HEDGE, DEFAULT_HEDGE_BUDGET } from '@x/pool';
import { DEFAULT_MAX_SLOT_LAG, METHOD_PRESETS, createSolanaMultiRpc } from '@x/solana-rpc';
import type { MethodPolicyOverride } from '@x/solana-rpc';
import type { RpcContender } from './contender.js';

export type OurStrategy = 'race' | 'hedge' | 'dual' | 'consensus';

const LABELS: Record<OurStrategy, string> = {
  race: 'ours: race',
  hedge: 'ours: hedge (adaptive)',
  dual: 'ours: dual',
  consensus: 'ours: consensus, quorum 2',
};

const SETTINGS: Record<OurStrategy, string> = {
  race: 'every endpoint at once, first success wins, losers aborted',
  hedge: `best-ranked endpoint first; the next after that endpoint's own p${DEFAULT_HEDGE.quantile * 100} latency (${DEFAULT_HEDGE.defaultDelayMs} ms until ${DEFAULT_HEDGE.minSamples} samples), or at once on a failure; hedges limited to ${DEFAULT_HEDGE_BUDGET.ratio * 100} % of calls + ${DEFAULT_HEDGE_BUDGET.minPerSecond} a second (burst ${DEFAULT_HEDGE_BUDGET.burst})`,
  dual: 'pool-classified primary/secondary pairs, raced within and across pairs',
  consensus: 'every endpoint at once, decided when 2 agree on the value (the freshest agreeing answer), the rest aborted',
};

/**
 * One @x/solana-rpc client per strategy (as a user would have one client), reading `getBalance` with
 * its preset deadline of 500 ms and every other setting at its default; only the strategy is set (and
 * consensus's quorum of 2, the same as ethers' quorum 2).
 */
export function oursName(strategy: OurStrategy): string {
  return LABELS[strategy];
}

export function oursSettings(strategy: OurStrategy): string {
  const preset = METHOD_PRESETS.getBalance!;
  const attempt = preset.attemptTimeoutMs === undefined ? 'no per-attempt timeout' : `per-attempt timeout ${preset.attemptTimeoutMs} ms`;
  return `@x/solana-rpc getBalance: ${strategy}, deadline ${preset.deadlineMs} ms (preset), ${attempt}, pool and transport defaults, maxSlotLag ${DEFAULT_MAX_SLOT_LAG} (default); ${SETTINGS[strategy]}`;
}

export function ours(strategy: OurStrategy, endpoints: ReadonlyArray<{ id: string; url: string }>): RpcContender {
  const policy: MethodPolicyOverride = strategy === 'consensus' ? { strategy, quorum: 2 } : { strategy };
  const rpc = createSolanaMultiRpc({
    endpoints: endpoints.map((e) => ({ id: e.id, url: e.url })),
    methods: { getBalance: policy },
  });
  return {
    name: oursName(strategy),
    kind: 'ours',
    settings: oursSettings(strategy),
    async getBalance(target) {
      const result = await rpc.call<{ context: { slot: number }; value: number }>('getBalance', [target.solana]);
      return BigInt(result.value);
    },
    diagnostics: () => ({
      hedgeBudget: rpc.pool.hedgeBudget.snapshot(),
      endpoints: rpc.pool.snapshot().endpoints.map((e) => ({
        id: e.id,
        health: e.health,
        ejections: e.ejectionsTotal,
        totals: e.totals,
        p90Ms: e.latency?.p90Ms ?? null,
      })),
    }),
    close: () => rpc.close(),
  };
}
