import { canonicalKey, quorumStillReachable } from '@x/rpc-strategies';

/** One participant of a consensus call, as the vote counter sees it. */
export type Ballot =
  | { readonly status: 'pending' }
  /** Cut by the deadline or the caller before it answered (only once the call is over). */
  | { readonly status: 'unanswered' }
  | { readonly status: 'failed' }
  | { readonly status: 'answered'; readonly value: unknown; readonly slot: number | undefined; readonly latencyMs: number };

export interface TallyOptions {
  /** `'value'`: answers agree when their `value` (or whole result) is equal. `'signature-list'`: see {@link tallySignatureLists}. */
  readonly comparison: 'value' | 'signature-list';
  /** A `null` answer means "not yet": it neither votes for nor against (getTransaction). */
  readonly abstainOnNull: boolean;
  /** Agreeing answers needed; `undefined` for the default (a strict majority). */
  readonly quorum: number | undefined;
  /** The `limit` of a getSignaturesForAddress call (default 1000): a list this long may be cut short. */
  readonly listLimit: number;
  /** True once nothing more will arrive (all settled, deadline, abort). */
  readonly final: boolean;
}

export interface TallyGroup {
  readonly indexes: readonly number[];
  /** Freshest `context.slot` in the group, if answers carry one. */
  readonly slot: number | undefined;
}

export type Tally =
  | { readonly kind: 'wait' }
  | {
      readonly kind: 'decided';
      readonly result: unknown;
      /** The participant whose answer is returned (`undefined` for a null by abstention or a merged list). */
      readonly source: number | undefined;
      readonly slot: number | undefined;
      readonly required: number;
      readonly agreed: readonly number[];
      readonly dissented: readonly number[];
      readonly abstained: readonly number[];
    }
  | {
      readonly kind: 'failed';
      /** `disagreement`: answers differ and none reached the quorum; `too-few`: not enough answers. */
      readonly reason: 'disagreement' | 'too-few';
      readonly required: number;
      readonly groups: readonly TallyGroup[];
      readonly abstained: readonly number[];
    };

const majority = (count: number): number => Math.floor(count / 2) + 1;

function isContextual(result: unknown): result is { context: unknown; value: unknown } {
  return typeof result === 'object' && result !== null && !Array.isArray(result) && 'context' in result && 'value' in result;
}

/** What answers are compared on: `value` of `{ context, value }` answers (the slot is kept aside), else the whole result. */
export function comparableValue(result: unknown): unknown {
  return isContextual(result) ? result.value : result;
}

interface Answered {
  readonly index: number;
  readonly value: unknown;
  readonly slot: number | undefined;
  readonly latencyMs: number;
}

function answeredOf(ballots: readonly Ballot[]): Answered[] {
  const out: Answered[] = [];
  ballots.forEach((ballot, index) => {
    if (ballot.status === 'answered') out.push({ index, value: ballot.value, slot: ballot.slot, latencyMs: ballot.latencyMs });
  });
  // Arrival order (everyone started together), so ties go to the earliest answer.
  return out.sort((a, b) => a.latencyMs - b.latencyMs || a.index - b.index);
}

const fresher = (a: number | undefined, b: number | undefined): boolean => (a ?? -1) > (b ?? -1);

/**
 * Counts the answers of one consensus call: the vote `createSolanaMultiRpc` runs for the `consensus`
 * strategy, exported for callers that gather answers themselves. Pure: the same ballots always give
 * the same tally. `wait` means "not decided yet, more answers could change it" (never when `final`).
 */
export function tallySolanaVotes(
  ballots: readonly Ballot[],
  options: TallyOptions & { readonly final: true },
): Exclude<Tally, { kind: 'wait' }>;
export function tallySolanaVotes(ballots: readonly Ballot[], options: TallyOptions): Tally;
export function tallySolanaVotes(ballots: readonly Ballot[], options: TallyOptions): Tally {
  return options.comparison === 'signature-list' ? tallySignatureLists(ballots, options) : tallyValues(ballots, options);
}

interface ValueGroup {
  readonly key: string;
  readonly members: Answered[];
  slot: number | undefined;
  /** The freshest member (the earliest among equally fresh ones): its answer is the one returned. */
  source: Answered;
}

/**
 * Votes on `value`, keeping each vote's `context.slot`:
 * - answers with equal values (canonical JSON) form a group; the group's slot is its freshest vote's;
 * - `required` is the explicit quorum, else a strict majority of the participants that did not abstain;
 * - among groups that reach it the freshest wins (then the larger, then the earliest), and its
 *   freshest answer is returned; with the default quorum at most one group can reach it, so it is
 *   decided at once; with an explicit quorum the call waits while another group could still reach it;
 * - `null` from an abstaining method is "not yet": no vote. When no group reaches the quorum, the
 *   answers do not disagree (one group at most) and abstentions plus votes make up the quorum of
 *   all participants, the result is `null` ("not confirmed yet"); in particular, when nobody has it.
 */
function tallyValues(ballots: readonly Ballot[], options: TallyOptions): Tally {
  const participants = ballots.length;
  const pending = ballots.filter((ballot) => ballot.status === 'pending').length;
  const abstained: number[] = [];
  const groups = new Map<string, ValueGroup>();
  for (const answer of answeredOf(ballots)) {
    if (options.abstainOnNull && answer.value === null) {
      abstained.push(answer.index);
      continue;
    }
    const key = canonicalKey(comparableValue(answer.value));
    const group = groups.get(key);
    if (group === undefined) {
      groups.set(key, { key, members: [answer], slot: answer.slot, source: answer });
      continue;
    }
    group.members.push(answer);
    if (fresher(answer.slot, group.slot)) {
      group.slot = answer.slot;
      group.source = answer;
    }
  }
  const required = options.quorum ?? majority(Math.max(1, participants - abstained.length));
  const all = [...groups.values()];
  const qualifying = all.filter((group) => group.members.length >= required);
  const describeGroups = (): TallyGroup[] => all.map((group) => ({ indexes: group.members.map((m) => m.index), slot: group.slot }));

  if (qualifying.length > 0) {
    // Only an explicit quorum of half or less lets two groups qualify; then wait while one still could.
    if (!options.final && options.quorum !== undefined) {
      const another = pending >= required || all.some((group) => !qualifying.includes(group) && group.members.length + pending >= required);
      if (another) return { kind: 'wait' };
    }
    const winner = qualifying.reduce((best, group) => {
      if (fresher(group.slot, best.slot)) return group;
      if (group.slot === best.slot && group.members.length > best.members.length) return group;
      return best;
    });
    return {
      kind: 'decided',
      result: winner.source.value,
      source: winner.source.index,
      slot: winner.slot,
      required,
      agreed: winner.members.map((m) => m.index),
      dissented: all.filter((group) => group !== winner).flatMap((group) => group.members.map((m) => m.index)),
      abstained,
    };
  }
  if (!options.final) {
    // Settled as soon as no group can still reach the quorum (the rule of @x/rpc-strategies' consensus):
    // pending answers could all join the largest group. A "not confirmed yet" null (abstentions without
    // disagreement) stays possible while at most one group exists, so that case waits.
    const largest = all.reduce((most, group) => Math.max(most, group.members.length), 0);
    const fewestRequired = options.quorum ?? majority(Math.max(1, participants - abstained.length - pending));
    const nullStillPossible = options.abstainOnNull && all.length <= 1;
    if (nullStillPossible || quorumStillReachable(largest, pending, fewestRequired)) return { kind: 'wait' };
  }
  const votes = all.reduce((sum, group) => sum + group.members.length, 0);
  if (
    options.abstainOnNull &&
    abstained.length > 0 &&
    all.length <= 1 &&
    abstained.length + votes >= (options.quorum ?? majority(participants))
  ) {
    return {
      kind: 'decided',
      result: null,
      source: undefined,
      slot: undefined,
      required,
      agreed: [],
      // Answers other than the result: here the unconfirmed copies of the transaction.
      dissented: all.flatMap((group) => group.members.map((m) => m.index)),
      abstained,
    };
  }
  return { kind: 'failed', reason: all.length > 1 ? 'disagreement' : 'too-few', required, groups: describeGroups(), abstained };
}

/** One entry of a getSignaturesForAddress answer, as far as the vote is concerned. */
interface ListEntry {
  readonly key: string;
  readonly slot: number;
}

/** The fields of a getSignaturesForAddress entry the vote looks at. */
export interface SignatureEntry {
  readonly signature: string;
  readonly slot: number;
  readonly err?: unknown;
  readonly memo?: unknown;
}

/** Validated entries (the attempt rejects malformed lists before they reach the vote). */
function entriesOf(value: unknown): ListEntry[] {
  const list = value as readonly SignatureEntry[];
  // Identity of an entry: what every honest node reports alike. `confirmationStatus` and
  // `blockTime` legitimately differ between nodes (finality, missing block times).
  return list.map((entry) => ({
    key: `${entry.signature}@${entry.slot}:${canonicalKey(entry.err ?? null)}:${canonicalKey(entry.memo ?? null)}`,
    slot: entry.slot,
  }));
}

function slotRange(entries: readonly ListEntry[]): { min: number; max: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const entry of entries) {
    if (entry.slot < min) min = entry.slot;
    if (entry.slot > max) max = entry.slot;
  }
  return { min, max };
}

/**
 * Whether two getSignaturesForAddress answers (newest first) can both be true: on the slots both cover, they list
 * the same entries in the same order. Slots only one of them covers prove nothing — a lagging node
 * has not seen the newest slots, and `limit` cuts the oldest — and when a list is as long as
 * `limit` its oldest slot may be cut in the middle, so that slot is left out of the comparison.
 */
export function signatureListsCompatible(a: readonly SignatureEntry[], b: readonly SignatureEntry[], limit = 1000): boolean {
  return listsCompatible(entriesOf(a), entriesOf(b), limit);
}

function listsCompatible(a: readonly ListEntry[], b: readonly ListEntry[], limit: number): boolean {
  if (a.length === 0 || b.length === 0) return true;
  const ra = slotRange(a);
  const rb = slotRange(b);
  const lo = Math.max(ra.min, rb.min);
  const hi = Math.min(ra.max, rb.max);
  if (lo > hi) return true;
  const cutAtLo = (a.length >= limit && ra.min === lo) || (b.length >= limit && rb.min === lo);
  const inWindow = (entry: ListEntry): boolean => entry.slot <= hi && (cutAtLo ? entry.slot > lo : entry.slot >= lo);
  const wa = a.filter(inWindow);
  const wb = b.filter(inWindow);
  return wa.length === wb.length && wa.every((entry, i) => entry.key === wb[i]?.key);
}

/**
 * getSignaturesForAddress: agreement on the common part. An entry (signature, slot, err, memo) is
 * confirmed when at least `required` answers (explicit quorum, else a strict majority of the
 * participants) list it; the result is the confirmed entries, newest first. It is accepted when at
 * least `required` answers are compatible with it ({@link listsCompatible}) and, if it is empty,
 * at least `required` answers are empty too (agreeing on nothing is not agreeing that nothing
 * happened). A forged newest signature is listed by one node only and never confirmed; the newest
 * signatures a lagging node has not seen yet are confirmed by the others. Before the call is over
 * it is decided only once no pending answer could confirm another entry.
 */
function tallySignatureLists(ballots: readonly Ballot[], options: TallyOptions): Tally {
  const participants = ballots.length;
  const pending = ballots.filter((ballot) => ballot.status === 'pending').length;
  const required = options.quorum ?? majority(participants);
  const answers = answeredOf(ballots);
  const lists = answers.map((answer) => entriesOf(answer.value));
  const support = new Map<string, { count: number; slot: number; rank: number; position: number; source: unknown }>();
  lists.forEach((entries, rank) => {
    const raw = answers[rank]?.value as readonly unknown[];
    entries.forEach((entry, position) => {
      const known = support.get(entry.key);
      if (known === undefined) support.set(entry.key, { count: 1, slot: entry.slot, rank, position, source: raw[position] });
      else known.count += 1;
    });
  });
  const confirmed = [...support.entries()]
    .filter(([, s]) => s.count >= required)
    .sort(([, x], [, y]) => y.slot - x.slot || x.rank - y.rank || x.position - y.position);
  const resultEntries: ListEntry[] = confirmed.map(([key, s]) => ({ key, slot: s.slot }));
  const compatible = answers.filter((_, i) => listsCompatible(lists[i] ?? [], resultEntries, options.listLimit));
  const empty = lists.filter((entries) => entries.length === 0).length;
  const accepted = compatible.length >= required && (resultEntries.length > 0 || empty >= required);

  if (!options.final) {
    const open = pending >= required || [...support.values()].some((s) => s.count < required && s.count + pending >= required);
    if (open || !accepted) return { kind: 'wait' };
  }
  if (accepted) {
    const agreed = compatible.map((answer) => answer.index);
    return {
      kind: 'decided',
      result: confirmed.map(([, s]) => s.source),
      source: undefined,
      slot: undefined,
      required,
      agreed,
      dissented: answers.filter((answer) => !agreed.includes(answer.index)).map((answer) => answer.index),
      abstained: [],
    };
  }
  return {
    kind: 'failed',
    reason: answers.length >= required ? 'disagreement' : 'too-few',
    required,
    groups: answers.map((answer) => ({ indexes: [answer.index], slot: undefined })),
    abstained: [],
  };
}
