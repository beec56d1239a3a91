import { failureRate, isAvailable, probeDue, refreshHealth, unavailableForMs } from './endpoint.js';
import type { EndpointState } from './endpoint.js';
import type { EndpointRole, PoolEndpoint, ResolvedSettings } from './options.js';

/**
 * The latency an endpoint without samples is assumed to have: the median peak cost of the endpoints that
 * have samples, so a new endpoint is neither flooded (as with 0) nor starved (as with a pessimistic guess).
 */
function neutralLatency(states: ReadonlyArray<EndpointState<unknown>>, now: number): number {
  const known = states
    .map((state) => state.latency.peak(now))
    .filter((value): value is number => value !== undefined)
    .sort((a, b) => a - b);
  if (known.length === 0) return 0;
  const middle = Math.floor(known.length / 2);
  return known.length % 2 === 1 ? (known[middle] as number) : ((known[middle - 1] as number) + (known[middle] as number)) / 2;
}

function latencyCost(state: EndpointState<unknown>, now: number, neutral: number): number {
  return state.latency.peak(now) ?? neutral;
}

/**
 * Lower is better:
 * `(peakEwmaMs + 1) × (1 + inFlightPenalty × inFlight) × (1 + errorPenalty × failureRate) / weight`.
 * The `+ 1` ms keeps the load and failure factors meaningful for endpoints answering in well under a
 * millisecond (loopback, fake timers).
 */
function scoreOf(state: EndpointState<unknown>, now: number, settings: ResolvedSettings, neutral: number): number {
  const { rate } = failureRate(state.window.counts(now));
  const { errorPenalty, inFlightPenalty } = settings.scoring;
  return (
    ((latencyCost(state, now, neutral) + 1) * (1 + inFlightPenalty * state.inFlight) * (1 + errorPenalty * rate)) / state.endpoint.weight
  );
}

export interface RankedEndpoint<Target> {
  readonly state: EndpointState<Target>;
  readonly score: number;
  readonly available: boolean;
}

/**
 * Every endpoint, available ones first (healthy before probing, each by score), then the unavailable
 * ones least bad first: soonest usable again, then by score.
 */
export function rankAll<Target>(
  states: ReadonlyArray<EndpointState<Target>>,
  now: number,
  settings: ResolvedSettings,
): Array<RankedEndpoint<Target>> {
  for (const state of states) refreshHealth(state, now, settings);
  const neutral = neutralLatency(states, now);
  const ranked = states.map((state) => ({
    state,
    score: scoreOf(state, now, settings, neutral),
    available: isAvailable(state, now, settings),
    waitMs: unavailableForMs(state, now),
  }));
  ranked.sort((a, b) => {
    if (a.available !== b.available) return a.available ? -1 : 1;
    if (a.available) {
      // A probe that is due goes first, so that one call in each probeIntervalMs tries it whatever the
      // strategy (hedge and single use the first endpoint only); the others go last among usable
      // endpoints: limited traffic that lets them prove themselves without slowing many calls.
      const aProbe = a.state.health !== 'probing' ? 1 : probeDue(a.state, now, settings) ? 0 : 2;
      const bProbe = b.state.health !== 'probing' ? 1 : probeDue(b.state, now, settings) ? 0 : 2;
      if (aProbe !== bProbe) return aProbe - bProbe;
    } else if (a.waitMs !== b.waitMs) {
      return a.waitMs - b.waitMs;
    }
    return a.score - b.score || a.state.order - b.state.order;
  });
  return ranked.map(({ state, score, available }) => ({ state, score, available }));
}

/**
 * Effective roles: configured ones as given; the others split by latency cost, the faster half
 * (rounded up) primary ("fast"), the rest secondary ("reliable"). Recomputed from the current statistics
 * on every call, so an endpoint that slows down moves to the secondary side by itself.
 */
export function classifyRoles(
  states: ReadonlyArray<EndpointState<unknown>>,
  now: number,
): Map<string, { role: EndpointRole; source: 'configured' | 'auto' }> {
  const roles = new Map<string, { role: EndpointRole; source: 'configured' | 'auto' }>();
  const neutral = neutralLatency(states, now);
  const auto: Array<EndpointState<unknown>> = [];
  for (const state of states) {
    const configured = state.endpoint.configuredRole;
    if (configured === undefined) auto.push(state);
    else roles.set(state.endpoint.id, { role: configured, source: 'configured' });
  }
  auto.sort((a, b) => latencyCost(a, now, neutral) - latencyCost(b, now, neutral) || a.order - b.order);
  const primaries = Math.ceil(auto.length / 2);
  auto.forEach((state, index) => roles.set(state.endpoint.id, { role: index < primaries ? 'primary' : 'secondary', source: 'auto' }));
  return roles;
}

export interface EndpointPair<Target> {
  readonly primary: PoolEndpoint<Target>;
  readonly secondary?: PoolEndpoint<Target>;
}

/**
 * Primary/secondary pairs for the dual strategy: primaries best score first, each with a secondary
 * chosen most reliable first (lowest failure rate, then score). Each endpoint appears in one pair at
 * most, so a call never sends two attempts to the same endpoint: surplus primaries go without a
 * secondary, surplus secondaries are left out. Without any primary the secondaries serve alone.
 */
export function buildPairs<Target>(
  candidates: ReadonlyArray<RankedEndpoint<Target>>,
  roles: ReadonlyMap<string, { role: EndpointRole }>,
  now: number,
): Array<EndpointPair<Target>> {
  const primaries = candidates.filter((entry) => roles.get(entry.state.endpoint.id)?.role === 'primary');
  const secondaries = candidates
    .filter((entry) => roles.get(entry.state.endpoint.id)?.role !== 'primary')
    .map((entry) => ({ entry, rate: failureRate(entry.state.window.counts(now)).rate }))
    .sort((a, b) => a.rate - b.rate || a.entry.score - b.entry.score || a.entry.state.order - b.entry.state.order)
    .map(({ entry }) => entry);
  if (primaries.length === 0) return secondaries.map((entry) => ({ primary: entry.state.endpoint }));
  return primaries.map((entry, index) => {
    const secondary = secondaries[index];
    return secondary === undefined
      ? { primary: entry.state.endpoint }
      : { primary: entry.state.endpoint, secondary: secondary.state.endpoint };
  });
}
