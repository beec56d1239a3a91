// Type tests of @x/pool's public generics (vitest typecheck, and tsc through the package's typecheck): the target
// type flows from the endpoints to every attempt, and `execute`'s overloads give each strategy its own result type.
import { isXError } from '@x/errors';
import type { AttemptContext, Outcome } from '@x/errors';
import { createLocalBudgetStore, createPool } from '@x/pool';
import type { AttemptOutcome, BudgetReport, ExecuteResult, Pool, PoolEndpoint, PoolHedgeResult, PoolRaceResult, Redundancy } from '@x/pool';
import type { ConsensusTally, ConsensusVerdict, DualResult, HedgeResult, RaceResult, ScatterOutcome } from '@x/rpc-strategies';
import { describe, expectTypeOf, it } from 'vitest';

interface Rpc {
  readonly url: string;
  call(method: string, options: { signal: AbortSignal }): Promise<number>;
}
const rpc = (url: string): Rpc => ({ url, call: () => Promise.resolve(1) });

const pool = createPool({
  endpoints: [
    { id: 'a', target: rpc('http://127.0.0.1:1') },
    { id: 'b', target: rpc('http://127.0.0.1:2'), weight: 0.5 },
  ],
});
type Endpoint = PoolEndpoint<Rpc>;
const getSlot = (endpoint: Endpoint, { signal }: AttemptContext): Promise<number> => endpoint.target.call('getSlot', { signal });

describe('createPool', () => {
  it('infers the target type from the endpoints', () => {
    expectTypeOf(pool).toEqualTypeOf<Pool<Rpc>>();
    void pool.execute(
      (endpoint, context) => {
        expectTypeOf(endpoint).toEqualTypeOf<Endpoint>();
        expectTypeOf(endpoint.target).toEqualTypeOf<Rpc>();
        expectTypeOf(context).toEqualTypeOf<AttemptContext>();
        return endpoint.target.call('getSlot', context);
      },
      { strategy: 'race' },
    );
  });
});

describe('execute overloads', () => {
  it('give each strategy its own result type', () => {
    expectTypeOf(pool.execute(getSlot, { strategy: 'race', attemptTimeoutMs: 50, deadlineMs: 200 })).toEqualTypeOf<
      Promise<RaceResult<Endpoint, number> & { readonly budget?: BudgetReport }>
    >();
    expectTypeOf(pool.execute(getSlot, { strategy: 'hedge', hedgeDelayMs: 20 })).toEqualTypeOf<
      Promise<HedgeResult<Endpoint, number> & { readonly budget?: BudgetReport }>
    >();
    expectTypeOf<PoolRaceResult<Rpc, number>>().toExtend<RaceResult<Endpoint, number>>();
    expectTypeOf<PoolHedgeResult<Rpc, number>>().toExtend<HedgeResult<Endpoint, number>>();
    expectTypeOf(pool.execute(getSlot, { strategy: 'consensus', quorum: 2 })).toEqualTypeOf<Promise<ConsensusVerdict<Endpoint, number>>>();
    expectTypeOf(pool.execute(getSlot, { strategy: 'dual', across: 'balance' })).toEqualTypeOf<Promise<DualResult<Endpoint, number>>>();
    expectTypeOf(pool.execute(getSlot, { strategy: 'scatter' })).toEqualTypeOf<Promise<Array<ScatterOutcome<number>>>>();
  });

  it("consensus with a tally resolves with the tally's verdict", () => {
    const firstAnswer: ConsensusTally<Endpoint, number, { readonly slot: number }> = {
      decide: (input) => {
        const answered = input.ballots.find((ballot) => ballot.status === 'answered');
        if (answered?.status === 'answered') return { kind: 'decided', verdict: { slot: answered.value } };
        return input.final ? { kind: 'failed', error: input.failures[0]!.error } : { kind: 'wait' };
      },
    };
    expectTypeOf(pool.execute(getSlot, { strategy: 'consensus', tally: firstAnswer })).toEqualTypeOf<Promise<{ readonly slot: number }>>();
  });

  it('a strategy chosen at run time gives the union of the results', () => {
    const strategy = 'race' as 'race' | 'scatter';
    expectTypeOf(pool.execute(getSlot, { strategy })).toEqualTypeOf<Promise<ExecuteResult<Rpc, number>>>();
  });

  it('refuses options of another strategy and the old names', () => {
    // @ts-expect-error the hedge delay option is hedgeDelayMs (delayMs before #15)
    void pool.execute(getSlot, { strategy: 'hedge', delayMs: 20 });
    // @ts-expect-error quorum belongs to consensus
    void pool.execute(getSlot, { strategy: 'race', quorum: 2 });
    // @ts-expect-error a strategy the pool does not know
    void pool.execute(getSlot, { strategy: 'fastest' });
    // @ts-expect-error the attempt function is for this pool's endpoints
    void pool.execute((endpoint: PoolEndpoint<string>) => Promise.resolve(endpoint.target.length), { strategy: 'race' });
  });
});

describe('recording outcomes', () => {
  it('records the Outcome of @x/errors', () => {
    expectTypeOf<AttemptOutcome>().toEqualTypeOf<Outcome<unknown>>();
    expectTypeOf(pool.record).parameter(1).toExtend<AttemptOutcome>();
  });

  it('POOL_* codes narrow their contexts', () => {
    const error: unknown = undefined;
    if (isXError(error, 'POOL_UNKNOWN_ENDPOINT')) expectTypeOf(error.context.endpointId).toEqualTypeOf<string>();
    if (isXError(error, 'POOL_INVALID_OPTIONS')) expectTypeOf(error.context.option).toEqualTypeOf<string>();
    if (isXError(error, 'POOL_BUDGET_EXHAUSTED')) {
      expectTypeOf(error.context.retryInMs).toEqualTypeOf<number>();
      expectTypeOf(error.context.endpoints).toEqualTypeOf<ReadonlyArray<string>>();
    }
    if (isXError(error, 'POOL_BUDGET_REFUSED')) expectTypeOf(error.context.endpointId).toEqualTypeOf<string>();
    if (isXError(error, 'POOL_INVALID_BUDGET')) expectTypeOf(error.context.option).toEqualTypeOf<string>();
  });
});

describe('budgets', () => {
  it('types the budget options, the per-call cost and the report', () => {
    const budgeted = createPool({
      endpoints: [
        { id: 'a', target: 'http://127.0.0.1:1', budget: { requestsPerSecond: 10, credits: { perSecond: 100, costs: { getSlot: 1 } } } },
      ],
      budgetStore: createLocalBudgetStore(),
      onBudgetExhausted: 'fail',
    });
    void budgeted.execute(() => Promise.resolve(1), {
      strategy: 'race',
      method: 'getSlot',
      cost: 2,
      onBudgetExhausted: 'wait',
      onSelection: (selection) => expectTypeOf(selection.budget).toEqualTypeOf<BudgetReport | undefined>(),
    });
    expectTypeOf<BudgetReport['redundancy']>().toEqualTypeOf<Redundancy | undefined>();
    expectTypeOf<Redundancy>().toEqualTypeOf<'race' | 'hedge' | 'single'>();
    // @ts-expect-error onBudgetExhausted is 'wait' or 'fail'
    void budgeted.execute(() => Promise.resolve(1), { strategy: 'race', onBudgetExhausted: 'queue' });
    // @ts-expect-error a budget needs requestsPerSecond
    createPool({ endpoints: [{ id: 'a', target: 1, budget: { burst: 5 } }] });
  });
});
