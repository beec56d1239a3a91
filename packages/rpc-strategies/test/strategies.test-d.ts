// Type tests of @x/rpc-strategies' generic strategies (vitest typecheck, and tsc through the package's typecheck):
// the candidate type C and the value type T flow from the arguments to the result, the consensus overloads pick
// the verdict or the tally's own V, and the STRATEGY_* codes narrow their contexts.
import { isXError } from '@x/errors';
import type { AttemptContext, Failure, Outcome, Success, XError } from '@x/errors';
import { adaptiveDelay, consensus, dual, hedge, race, scatter } from '@x/rpc-strategies';
import type {
  AttemptEvent,
  ConsensusTally,
  ConsensusVerdict,
  DualResult,
  FailureEntry,
  GroupSummary,
  HedgeResult,
  RaceResult,
  ScatterOutcome,
  StrategyErrorCode,
  TallyDecision,
  TallyInput,
} from '@x/rpc-strategies';
import { describe, expectTypeOf, it } from 'vitest';

interface Node {
  readonly url: string;
  readonly weight: number;
}
interface Balance {
  readonly lamports: bigint;
  readonly slot: number;
}

const nodes: readonly Node[] = [
  { url: 'http://127.0.0.1:1', weight: 1 },
  { url: 'http://127.0.0.1:2', weight: 2 },
];
const getBalance = (node: Node, context: AttemptContext): Promise<Balance> => {
  expectTypeOf(context.signal).toEqualTypeOf<AbortSignal>();
  return Promise.resolve({ lamports: BigInt(node.weight), slot: context.attempt });
};

describe('race, hedge, dual', () => {
  it('infer the candidate and value types into the result', () => {
    expectTypeOf(race(nodes, getBalance)).toEqualTypeOf<Promise<RaceResult<Node, Balance>>>();
    expectTypeOf(hedge(nodes, getBalance, { hedgeDelayMs: 20 })).toEqualTypeOf<Promise<HedgeResult<Node, Balance>>>();
    expectTypeOf(dual([{ primary: nodes[0]! }], getBalance)).toEqualTypeOf<Promise<DualResult<Node, Balance>>>();
  });

  it('type the attempt function from the candidates', () => {
    void race(nodes, (node, { signal, attempt }) => {
      expectTypeOf(node).toEqualTypeOf<Node>();
      expectTypeOf(signal).toEqualTypeOf<AbortSignal>();
      expectTypeOf(attempt).toEqualTypeOf<number>();
      return Promise.resolve(node.url);
    }).then((won) => {
      expectTypeOf(won.value).toEqualTypeOf<string>();
      expectTypeOf(won.candidate).toEqualTypeOf<Node>();
    });
    // @ts-expect-error the attempt function must return a promise
    void race(nodes, (node: Node) => node.url);
    // @ts-expect-error the attempt function's candidate type must match the candidates
    void race(nodes, (url: string) => Promise.resolve(url));
  });

  it('hedge takes hedgeDelayMs (a number or a per-candidate function), never delayMs', () => {
    void hedge(nodes, getBalance, { hedgeDelayMs: (node, index) => node.weight * index });
    void hedge(nodes, getBalance, { hedgeDelayMs: adaptiveDelay((node: Node) => node.weight, { fallbackMs: 50 }) });
    // @ts-expect-error the hedge delay option is hedgeDelayMs
    void hedge(nodes, getBalance, { delayMs: 20 });
    // @ts-expect-error hedge needs hedgeDelayMs
    void hedge(nodes, getBalance, {});
  });

  it('report every attempt as an Outcome of the value type', () => {
    void race(nodes, getBalance, {
      attemptTimeoutMs: 50,
      deadlineMs: 200,
      onAttempt: (event) => {
        expectTypeOf(event).toEqualTypeOf<AttemptEvent<Node, Balance>>();
        expectTypeOf(event.outcome).toEqualTypeOf<Outcome<Balance>>();
      },
    });
    // @ts-expect-error the glossary's name is attemptTimeoutMs; a transport's timeoutMs is not a strategy option
    void race(nodes, getBalance, { timeoutMs: 50 });
  });
});

describe('scatter', () => {
  it('gives one Outcome per candidate, plus aborted', () => {
    expectTypeOf(scatter(nodes, getBalance)).toEqualTypeOf<Promise<ScatterOutcome<Balance>[]>>();
    const outcome = {} as ScatterOutcome<Balance>;
    if (outcome.ok) {
      expectTypeOf(outcome.value).toEqualTypeOf<Balance>();
      expectTypeOf(outcome.aborted).toEqualTypeOf<false>();
      expectTypeOf(outcome).toExtend<Success<Balance>>();
    } else {
      expectTypeOf(outcome.error).toEqualTypeOf<XError>();
      expectTypeOf(outcome.aborted).toEqualTypeOf<boolean>();
      expectTypeOf(outcome).toExtend<Failure>();
    }
    expectTypeOf<ScatterOutcome<Balance>>().toExtend<Outcome<Balance>>();
  });
});

describe('consensus overloads', () => {
  it('without a tally: the majority verdict over C and T', () => {
    expectTypeOf(consensus(nodes, getBalance)).toEqualTypeOf<Promise<ConsensusVerdict<Node, Balance>>>();
    const voted = consensus(nodes, getBalance, {
      quorum: { weight: 2 },
      normalize: (balance) => {
        expectTypeOf(balance).toEqualTypeOf<Balance>();
        return balance.lamports.toString();
      },
      weight: (node) => node.weight,
    });
    expectTypeOf(voted).toEqualTypeOf<Promise<ConsensusVerdict<Node, Balance>>>();
  });

  it("with a tally: the tally's own verdict type V", () => {
    const highestSlot: ConsensusTally<Node, Balance, { readonly slot: number; readonly voters: number }> = {
      accept: (balance, node) => {
        expectTypeOf(balance).toEqualTypeOf<Balance>();
        expectTypeOf(node).toEqualTypeOf<Node>();
        return undefined;
      },
      decide: (input) => {
        expectTypeOf(input).toEqualTypeOf<TallyInput<Node, Balance>>();
        const answered = input.ballots.flatMap((ballot) => (ballot.status === 'answered' ? [ballot.value] : []));
        expectTypeOf(answered).toEqualTypeOf<Balance[]>();
        if (!input.final) return { kind: 'wait' };
        return { kind: 'decided', verdict: { slot: Math.max(...answered.map((b) => b.slot)), voters: answered.length } };
      },
    };
    expectTypeOf(consensus(nodes, getBalance, { tally: highestSlot })).toEqualTypeOf<
      Promise<{ readonly slot: number; readonly voters: number }>
    >();
    expectTypeOf(highestSlot.decide).returns.toEqualTypeOf<TallyDecision<{ readonly slot: number; readonly voters: number }>>();
    // @ts-expect-error a tally counts the votes itself: quorum (and normalize, weight) are refused with one
    void consensus(nodes, getBalance, { tally: highestSlot, quorum: 2 });
  });

  it('a tally decision is wait, decided with the verdict, or failed with an XError', () => {
    expectTypeOf<TallyDecision<number>>().toEqualTypeOf<
      | { readonly kind: 'wait' }
      | { readonly kind: 'decided'; readonly verdict: number }
      | { readonly kind: 'failed'; readonly error: XError }
    >();
  });
});

describe('STRATEGY_* error contexts', () => {
  it('narrow through isXError without casts', () => {
    const error: unknown = undefined;
    if (isXError(error, ['STRATEGY_ALL_ATTEMPTS_FAILED', 'STRATEGY_DEADLINE_EXCEEDED'])) {
      expectTypeOf(error.context.failures).toEqualTypeOf<readonly FailureEntry[]>();
      expectTypeOf(error.context.failures[0]!.error).toEqualTypeOf<XError>();
    }
    if (isXError(error, 'STRATEGY_QUORUM_UNREACHABLE')) {
      expectTypeOf(error.context.groups).toEqualTypeOf<readonly GroupSummary[]>();
      expectTypeOf(error.context.pending).toEqualTypeOf<readonly number[]>();
    }
    if (isXError(error, 'STRATEGY_ATTEMPT_TIMEOUT')) expectTypeOf(error.context.attemptTimeoutMs).toEqualTypeOf<number>();
    if (isXError(error, 'STRATEGY_INVALID_OPTIONS')) expectTypeOf(error.context.option).toEqualTypeOf<string>();
  });

  it('every code has the STRATEGY_ prefix', () => {
    expectTypeOf<StrategyErrorCode>().toExtend<`STRATEGY_${string}`>();
  });
});
