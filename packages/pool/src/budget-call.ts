import { budgetExhausted, budgetRefused } from './budgets.js';
import type { BudgetReport, Budgets, CallCost, Redundancy } from './budgets.js';
import { rankEndpoints } from './core.js';
import type { PoolCore } from './core.js';
import type { ExecuteOptions } from './execute.js';
import type { PoolEndpoint } from './options.js';
import { checkCount, pairsFrom, selectFrom } from './pool.js';
import { quorumOf } from './prepare-call.js';
import type { CallPlan } from './prepare-call.js';
import type { RankedEndpoint } from './selection.js';

/** A call planned under budgets: its candidates with their grants, what its redundancy became, and how long it waited. */
export interface BudgetedPlan<Target> {
  readonly plan: CallPlan<Target>;
  /** For race and hedge calls: what runs (`single`: one attempt at a time). */
  readonly redundancy: Redundancy | undefined;
  readonly waitedMs: number;
  /** At the end of the call: gives back the grants of attempts that never started. */
  readonly settle: () => void;
}

type Planned<Target> =
  | {
      readonly kind: 'planned';
      readonly chosen: Array<RankedEndpoint<Target>>;
      readonly pairs: CallPlan<Target>['pairs'];
      readonly degraded: boolean;
      readonly redundancy: Redundancy | undefined;
      readonly withoutHeadroom: string[];
    }
  | { readonly kind: 'exhausted'; readonly retryInMs: number | undefined; readonly endpoints: string[] };

/** Longest wait for a concurrency slot before a waiting call looks again by itself. */
const CONCURRENCY_RECHECK_MS = 250;

const minRetry = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);

/**
 * Chooses the candidates of one call within the endpoints' budgets, taking the tokens of the attempts that start at once
 * (all of a race's, consensus', scatter's and dual's; a hedge's first) before the strategy runs; later attempts (hedges,
 * failovers) take theirs as they start. When no budget admits the call it waits (bounded by `deadlineMs` and `signal`)
 * or fails with `POOL_BUDGET_EXHAUSTED`, as `onBudgetExhausted` says.
 */
export async function planWithBudgets<Target, T>(
  core: PoolCore<Target>,
  budgets: Budgets,
  options: ExecuteOptions<Target, T>,
): Promise<BudgetedPlan<Target>> {
  const { settings } = core;
  const cost: CallCost = { method: options.method, cost: options.cost };
  const policy = options.onBudgetExhausted ?? settings.onBudgetExhausted;
  const started = settings.now();
  /** Endpoint ids granted to this call whose attempt has not started yet. */
  const granted = new Set<string>();
  let waited = false;
  /** Set when the call has ended: a grant that arrives later (a hedge's take still at the store) goes straight back. */
  let over = false;
  const take = async (id: string): Promise<{ granted: boolean; retryInMs: number | undefined }> => {
    const answer = await budgets.take(id, cost);
    if (answer.granted) {
      if (over) budgets.release(id, cost);
      else granted.add(id);
    }
    return answer;
  };
  /** Gives back the grants not started yet (also between two plans of one call). */
  const releaseGranted = (): void => {
    for (const id of granted) budgets.release(id, cost);
    granted.clear();
  };
  /** The call has ended: what it holds goes back, and so does whatever it is still granted. */
  const settle = (): void => {
    over = true;
    releaseGranted();
  };

  try {
    for (;;) {
      const planned = await planOnce(core, budgets, options, cost, take, releaseGranted);
      const waitedMs = settings.now() - started;
      if (planned.kind === 'planned' && options.deadlineMs !== undefined && waitedMs >= options.deadlineMs) {
        // Planning itself (a slow store) used up the deadline: the attempts could only start to be cut at once.
        settle();
        budgets.counters.exhausted++;
        throw budgetExhausted(
          0,
          [],
          waitedMs,
          `planning the call took ${Math.round(waitedMs)} ms, its whole deadline (${options.deadlineMs} ms)`,
        );
      }
      if (planned.kind === 'planned') {
        if (waited) budgets.counters.waitedMs += waitedMs;
        const report: BudgetReport = {
          strategy: options.strategy,
          ...(planned.redundancy === undefined ? {} : { redundancy: planned.redundancy }),
          degraded: planned.redundancy !== undefined && planned.redundancy !== options.strategy,
          waitedMs,
          withoutHeadroom: planned.withoutHeadroom,
        };
        if (report.degraded) {
          const step = `${options.strategy}>${planned.redundancy}`;
          budgets.counters.degraded.set(step, (budgets.counters.degraded.get(step) ?? 0) + 1);
        }
        const plan: CallPlan<Target> = {
          chosen: planned.chosen,
          pairs: planned.pairs,
          degraded: planned.degraded,
          budget: report,
          beforeStart: (endpoint: PoolEndpoint<Target>) => {
            if (granted.has(endpoint.id)) return undefined;
            return take(endpoint.id).then((answer) => {
              if (!answer.granted) throw budgetRefused(endpoint.id, answer.retryInMs ?? 0);
            });
          },
          onStart: (endpoint: PoolEndpoint<Target>) => {
            if (granted.delete(endpoint.id)) budgets.start(endpoint.id);
          },
        };
        return { plan, redundancy: planned.redundancy, waitedMs, settle };
      }
      const remainingMs = options.deadlineMs === undefined ? Number.POSITIVE_INFINITY : options.deadlineMs - waitedMs;
      const retryInMs = planned.retryInMs ?? 0;
      const fail = (why: string): never => {
        budgets.counters.exhausted++;
        if (waited) budgets.counters.waitedMs += waitedMs;
        throw budgetExhausted(retryInMs, planned.endpoints, waitedMs, why);
      };
      if (policy === 'fail') fail(`no endpoint can take this call now (onBudgetExhausted: 'fail'; retry in ${retryInMs} ms)`);
      if (remainingMs <= 0 || (planned.retryInMs !== undefined && planned.retryInMs > remainingMs)) {
        fail(`the first budget to free up (in ${retryInMs} ms) comes after the call's deadline (${options.deadlineMs} ms)`);
      }
      if (!waited) budgets.counters.waits++;
      waited = true;
      // Woken early when an attempt of this pool finishes (a concurrency slot frees) or a grant is given back; one waiter is
      // woken per slot or grant, so a wait for a slot also looks again every CONCURRENCY_RECHECK_MS in case the waiter
      // woken for it could not use it.
      await budgets.wait(planned.retryInMs ?? Math.min(remainingMs, CONCURRENCY_RECHECK_MS), options.signal);
      await budgets.refreshHolds(core);
    }
  } catch (error) {
    settle();
    throw error;
  }
}

async function planOnce<Target, T>(
  core: PoolCore<Target>,
  budgets: Budgets,
  options: ExecuteOptions<Target, T>,
  cost: CallCost,
  take: (id: string) => Promise<{ granted: boolean; retryInMs: number | undefined }>,
  settle: () => void,
): Promise<Planned<Target>> {
  const idOf = (entry: RankedEndpoint<Target>): string => entry.state.endpoint.id;
  const headroom = (entry: RankedEndpoint<Target>): number => budgets.headroom(entry.state, cost);

  if (options.strategy === 'dual') {
    checkCount('maxCandidates', options.maxCandidates, 1);
    const selection = pairsFrom(core, { maxPairs: options.maxCandidates });
    const answers = await Promise.all(selection.chosen.map((entry) => take(idOf(entry))));
    const ok = new Set(selection.chosen.filter((_, index) => answers[index]?.granted === true).map(idOf));
    const pairs = selection.pairs.flatMap((pair) => {
      const secondary = pair.secondary !== undefined && ok.has(pair.secondary.id) ? pair.secondary : undefined;
      if (ok.has(pair.primary.id)) return [secondary === undefined ? { primary: pair.primary } : { primary: pair.primary, secondary }];
      return secondary === undefined ? [] : [{ primary: secondary }];
    });
    const refused = selection.chosen.filter((entry) => !ok.has(idOf(entry)));
    if (pairs.length === 0) {
      return {
        kind: 'exhausted',
        retryInMs: answers.reduce<number | undefined>((a, b) => minRetry(a, b.retryInMs), undefined),
        endpoints: refused.map(idOf),
      };
    }
    return {
      kind: 'planned',
      chosen: selection.chosen.filter((entry) => ok.has(idOf(entry))),
      pairs,
      degraded: selection.degraded,
      redundancy: undefined,
      withoutHeadroom: refused.map(idOf),
    };
  }

  const raw = rankEndpoints(core);
  const ranked = budgets.rank(raw, cost) as Array<RankedEndpoint<Target>>;
  const usable = new Set(ranked.filter((entry) => entry.available).map(idOf));
  const withoutHeadroom = raw.filter((entry) => entry.available && !usable.has(idOf(entry))).map(idOf);
  const quorum = quorumOf(options);
  const selection = selectFrom(ranked, { maxCandidates: options.maxCandidates, minCandidates: options.minCandidates ?? quorum });
  const { chosen } = selection;

  if (options.strategy === 'race' || options.strategy === 'hedge') {
    // The first attempt: the best endpoint (by score and headroom) whose budget admits it; when the store refuses every
    // chosen one (another user of the store took the tokens), the next usable endpoints beyond maxCandidates are asked too.
    const asked = new Set(chosen.map(idOf));
    const order = [...chosen, ...ranked.filter((entry) => entry.available && !asked.has(idOf(entry)))];
    let retryInMs: number | undefined;
    let first = -1;
    for (let index = 0; index < order.length; index++) {
      const entry = order[index] as RankedEndpoint<Target>;
      const answer = await take(idOf(entry));
      if (answer.granted) {
        first = index;
        break;
      }
      retryInMs = minRetry(retryInMs, answer.retryInMs);
      withoutHeadroom.push(idOf(entry));
    }
    if (first < 0) {
      // Every endpoint usable by health is a chance: the soonest of their budgets decides how long to wait.
      const tried = new Set(order.map(idOf));
      const others = raw.filter((entry) => entry.available && !tried.has(idOf(entry)));
      for (const entry of others) retryInMs = minRetry(retryInMs, budgets.retryEstimate(entry.state, cost));
      return { kind: 'exhausted', retryInMs, endpoints: [...tried, ...others.map(idOf)] };
    }
    const primary = order[first] as RankedEndpoint<Target>;
    const rest = chosen.slice(first + 1);
    // Nothing else to run on but for budgets (one endpoint, or maxCandidates 1): the redundancy asked for is all there is.
    const budgetsLeftOut = withoutHeadroom.length > 0 && chosen.length < (options.maxCandidates ?? Number.POSITIVE_INFINITY);
    const alone = rest.length === 0 && !budgetsLeftOut;
    const { race: raceHeadroom, hedge: hedgeHeadroom } = core.settings.redundancyHeadroom;
    if (options.strategy === 'race') {
      const extras = rest.filter((entry) => headroom(entry) >= raceHeadroom);
      const answers = await Promise.all(extras.map((entry) => take(idOf(entry))));
      const racing = extras.filter((_, index) => answers[index]?.granted === true);
      if (racing.length > 0 || alone) {
        const left = rest.filter((entry) => !racing.includes(entry)).map(idOf);
        return {
          kind: 'planned',
          chosen: [primary, ...racing],
          pairs: [],
          degraded: selection.degraded,
          redundancy: 'race',
          withoutHeadroom: [...withoutHeadroom, ...left],
        };
      }
    }
    // A hedge (or a race without room for a second attempt): later attempts take their tokens as they start.
    const later = rest.filter((entry) => headroom(entry) > 0);
    const redundancy: Redundancy = alone || later.some((entry) => headroom(entry) >= hedgeHeadroom) ? 'hedge' : 'single';
    const left = rest.filter((entry) => !later.includes(entry)).map(idOf);
    return {
      kind: 'planned',
      chosen: [primary, ...later],
      pairs: [],
      degraded: selection.degraded,
      redundancy,
      withoutHeadroom: [...withoutHeadroom, ...left],
    };
  }

  // consensus and scatter: every chosen endpoint is asked at once, so each takes its tokens now.
  const answers = await Promise.all(chosen.map((entry) => take(idOf(entry))));
  const kept = chosen.filter((_, index) => answers[index]?.granted === true);
  const refused = chosen.filter((_, index) => answers[index]?.granted !== true).map(idOf);
  const needed = Math.min(chosen.length, Math.max(1, options.minCandidates ?? quorum));
  if (kept.length < needed) {
    settle();
    return {
      kind: 'exhausted',
      retryInMs: answers.reduce<number | undefined>((a, b) => minRetry(a, b.retryInMs), undefined),
      endpoints: refused,
    };
  }
  return {
    kind: 'planned',
    chosen: kept,
    pairs: [],
    degraded: selection.degraded,
    redundancy: undefined,
    withoutHeadroom: [...withoutHeadroom, ...refused],
  };
}
