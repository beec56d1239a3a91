import { createHttpTransport } from '@x/http-transport';
import type { HttpTransport } from '@x/http-transport';
import { DEFAULT_HEDGE, DEFAULT_HEDGE_BUDGET, createPool } from '@x/pool';
import type { RpcContender } from './contender.js';

export type OurEvmVariant = 'race' | 'hedge' | 'dual' | 'consensus' | 'race-tuned' | 'hedge-tuned';

/**
 * The tuned variants of ours. Hedge: a per-attempt timeout, a deadline, and transports that give up sooner.
 * Race: more connections per endpoint — every race call keeps a connection busy at every endpoint until the
 * loser's answer has been drained, so at 16 concurrent calls the default 16 connections make calls queue.
 */
const OURS_EVM_TUNED = { attemptTimeoutMs: 250, deadlineMs: 1000, transportTimeoutMs: 1000, raceConnections: 64 } as const;

/** The transports' own defaults, as @x/http-transport documents them. */
const TRANSPORT_DEFAULT_TIMEOUT_MS = 10_000;
const TRANSPORT_DEFAULT_CONNECTIONS = 16;

const NAMES: Record<OurEvmVariant, string> = {
  race: 'ours: race (defaults)',
  hedge: 'ours: hedge (defaults)',
  dual: 'ours: dual (defaults)',
  consensus: 'ours: consensus, quorum 2 (defaults)',
  'race-tuned': 'ours: race (tuned)',
  'hedge-tuned': 'ours: hedge (tuned)',
};

export function oursEvmName(variant: OurEvmVariant): string {
  return NAMES[variant];
}

export function oursEvmSettings(variant: OurEvmVariant): string {
  const layers = '@x/pool execute() over one @x/http-transport per endpoint, eth_getBalance';
  const hedge =
    `best-ranked endpoint first; the next after that endpoint's own p${DEFAULT_HEDGE.quantile * 100} latency (${DEFAULT_HEDGE.defaultDelayMs} ms until ${DEFAULT_HEDGE.minSamples} samples), ` +
    `or at once on a failure; hedges limited to ${DEFAULT_HEDGE_BUDGET.ratio * 100} % of calls + ${DEFAULT_HEDGE_BUDGET.minPerSecond} a second (burst ${DEFAULT_HEDGE_BUDGET.burst})`;
  const defaults = `no deadline, no per-attempt timeout, transport timeout ${TRANSPORT_DEFAULT_TIMEOUT_MS / 1000} s and ${TRANSPORT_DEFAULT_CONNECTIONS} connections per endpoint, pool defaults`;
  switch (variant) {
    case 'race':
      return `${layers}: strategy race, ${defaults}; every endpoint at once, first success wins, losers aborted`;
    case 'hedge':
      return `${layers}: strategy hedge, ${defaults}; ${hedge}`;
    case 'dual':
      return `${layers}: strategy dual, ${defaults}; pool-classified primary/secondary pairs, raced within and across pairs`;
    case 'consensus':
      return `${layers}: strategy consensus, quorum 2, ${defaults}; every endpoint at once, decided when 2 agree on the value, the rest aborted`;
    case 'race-tuned':
      return `${layers}: strategy race, transport connections ${OURS_EVM_TUNED.raceConnections} per endpoint, otherwise as race (defaults); every endpoint at once, first success wins, losers aborted`;
    case 'hedge-tuned':
      return (
        `${layers}: strategy hedge, attemptTimeoutMs ${OURS_EVM_TUNED.attemptTimeoutMs}, deadlineMs ${OURS_EVM_TUNED.deadlineMs}, ` +
        `transport timeoutMs ${OURS_EVM_TUNED.transportTimeoutMs}, pool defaults; ${hedge}`
      );
  }
}

/**
 * Ours through the generic layers, as a user with EVM endpoints would write it: one pool of
 * @x/http-transport endpoints, each call one `pool.execute()` with a strategy of @x/rpc-strategies.
 */
export function oursEvm(variant: OurEvmVariant, endpoints: ReadonlyArray<{ id: string; url: string }>): RpcContender {
  const tuned = variant === 'hedge-tuned';
  const transports = endpoints.map((e) =>
    tuned
      ? createHttpTransport({ url: e.url, timeoutMs: OURS_EVM_TUNED.transportTimeoutMs })
      : variant === 'race-tuned'
        ? createHttpTransport({ url: e.url, connections: OURS_EVM_TUNED.raceConnections })
        : createHttpTransport({ url: e.url }),
  );
  const pool = createPool<HttpTransport>({ endpoints: endpoints.map((e, i) => ({ id: e.id, target: transports[i]! })) });
  const strategy = variant === 'hedge-tuned' ? 'hedge' : variant === 'race-tuned' ? 'race' : variant;
  return {
    name: oursEvmName(variant),
    kind: 'ours',
    settings: oursEvmSettings(variant),
    async getBalance(target) {
      const attempt = (endpoint: { target: HttpTransport }, { signal }: { signal: AbortSignal }): Promise<string> =>
        endpoint.target.call<string>('eth_getBalance', [target.evm, 'latest'], { signal });
      const tuning = tuned ? { attemptTimeoutMs: OURS_EVM_TUNED.attemptTimeoutMs, deadlineMs: OURS_EVM_TUNED.deadlineMs } : {};
      switch (strategy) {
        case 'race':
          return BigInt((await pool.execute(attempt, { strategy: 'race', ...tuning })).value);
        case 'hedge':
          return BigInt((await pool.execute(attempt, { strategy: 'hedge', ...tuning })).value);
        case 'dual':
          return BigInt((await pool.execute(attempt, { strategy: 'dual', ...tuning })).value);
        case 'consensus':
          return BigInt((await pool.execute(attempt, { strategy: 'consensus', quorum: 2, ...tuning })).value);
      }
    },
    diagnostics: () => ({
      hedgeBudget: pool.hedgeBudget.snapshot(),
      endpoints: pool.snapshot().endpoints.map((e) => ({
        id: e.id,
        health: e.health,
        ejections: e.ejectionsTotal,
        totals: e.totals,
        p90Ms: e.latency?.p90Ms ?? null,
      })),
    }),
    close: async () => {
      await Promise.all(transports.map((t) => t.close()));
    },
  };
}
