import type { SolanaCommitment } from './params.js';

/**
 * The fastest a Solana cluster can move: 1 slot per 200 ms (twice the nominal 400 ms pace). A slot an
 * endpoint showed at time t bounds, from above, what an up-to-date node can show later.
 */
const FASTEST_SLOT_MS = 200;

/** How an answer's slot compares with what the other endpoints have shown. */
export type SlotVerdict =
  /** Corroborated: enough other endpoints have shown slots that make it plausible, and it is not stale. */
  | { readonly kind: 'ok' }
  /** More than `maxSlotLag` below the watermark as it was when the request started. */
  | { readonly kind: 'stale'; readonly watermark: number }
  /** Further ahead than a quorum of the other endpoints could have reached since they answered. */
  | { readonly kind: 'ahead'; readonly ceiling: number }
  /** Too few other endpoints have shown a slot yet to judge it. */
  | { readonly kind: 'unconfirmed' };

interface SlotObservation {
  readonly verdict: SlotVerdict;
  /** Endpoints whose last slot a quorum of later answers has refuted (far ahead of all of them): suspects. */
  readonly refuted: readonly string[];
}

/**
 * The slot watermark per commitment (answers at `finalized` trail `processed` by ~32 slots), bounded by
 * what a quorum of endpoints has shown: one endpoint can never move it on its own.
 */
export interface SlotWatermark {
  /** The watermark at one commitment, or the highest of all without one; `undefined` before a quorum has answered. */
  get(commitment?: SolanaCommitment): number | undefined;
  /** The lowest acceptable slot right now (`watermark − maxSlotLag`), or `undefined` when there is no watermark yet. */
  floor(commitment: SolanaCommitment): number | undefined;
  /**
   * Judges `slot`, which `endpoint` just answered at `commitment` (`floor` as it was when the request
   * started), and records it as that endpoint's last slot. Endpoints in `silent` (they could not tell
   * their slot) are not waited for as corroborators.
   */
  observe(
    endpoint: string,
    commitment: SolanaCommitment,
    slot: number,
    floor: number | undefined,
    silent?: ReadonlySet<string>,
  ): SlotObservation;
  /** Judges again, without recording, an answer that was `unconfirmed` (after others have been asked). */
  judge(endpoint: string, commitment: SolanaCommitment, slot: number, silent?: ReadonlySet<string>): SlotVerdict;
  /** Forgets what an endpoint has shown (it is suspect: its slots corroborate nothing). */
  forget(endpoint: string): void;
  /** Endpoints needed to corroborate a slot (the quorum). */
  readonly quorum: number;
}

export interface SlotWatermarkOptions {
  readonly maxSlotLag: number;
  /** The ids of the client's endpoints. */
  readonly endpoints: readonly string[];
  /** Endpoints that must have shown a slot before the watermark reaches it. Default: a strict majority of `endpoints`. */
  readonly quorum?: number;
  /** Monotonic clock in ms. Default `performance.now()`. */
  readonly now?: () => number;
}

interface Report {
  readonly slot: number;
  readonly at: number;
  /** Arrival order: "answered after" is judged on it, not on a clock that may stand still. */
  readonly seq: number;
}

/**
 * Every endpoint's last slot per commitment, with when it was shown. With `q` the quorum:
 * - the watermark is the `q`-th highest of these slots (never lowered): at least `q` endpoints have
 *   shown it, so fewer than `q` liars cannot raise it past what an honest endpoint has shown;
 * - an answer is `ahead` when at least `q` other endpoints' last slots, each plus `maxSlotLag` plus
 *   one slot per {@link FASTEST_SLOT_MS} since it was shown, stay below it; `stale` when at least `q`
 *   other endpoints have shown slots more than `maxSlotLag` above it (or it is below the floor the
 *   request started with); `unconfirmed` when fewer than `q − 1` other endpoints' slots are within
 *   those bounds (too little is known yet), not counting endpoints that could not tell their slot;
 * - an endpoint's last slot is refuted when `q` other endpoints answered after it with slots more
 *   than `maxSlotLag` below it: it is the suspect, and its slots are forgotten.
 * With fewer than three endpoints nobody can be outvoted: every answer that is not stale is `ok`.
 */
export function createSlotWatermark(options: SlotWatermarkOptions): SlotWatermark {
  const { maxSlotLag, endpoints } = options;
  const quorum = options.quorum ?? Math.floor(endpoints.length / 2) + 1;
  const now = options.now ?? (() => performance.now());
  const judging = endpoints.length >= 3 && quorum >= 2;
  const marks = new Map<SolanaCommitment, number>();
  const reports = new Map<SolanaCommitment, Map<string, Report>>();
  let seq = 0;

  const ceilingOf = (report: Report, at: number): number =>
    report.slot + maxSlotLag + Math.floor(Math.max(0, at - report.at) / FASTEST_SLOT_MS);

  const raise = (commitment: SolanaCommitment, shown: Map<string, Report>): void => {
    if (shown.size < quorum) return;
    const slots = [...shown.values()].map((report) => report.slot).sort((a, b) => b - a);
    const corroborated = slots[quorum - 1] as number;
    const current = marks.get(commitment);
    if (current === undefined || corroborated > current) marks.set(commitment, corroborated);
  };

  const shownAt = (commitment: SolanaCommitment): Map<string, Report> => {
    let shown = reports.get(commitment);
    if (shown === undefined) {
      shown = new Map();
      reports.set(commitment, shown);
    }
    return shown;
  };

  const judgeAgainst = (
    shown: Map<string, Report>,
    endpoint: string,
    slot: number,
    silent: ReadonlySet<string> | undefined,
  ): SlotVerdict => {
    if (!judging) return { kind: 'ok' };
    const at = now();
    const ceilings: number[] = [];
    const above: number[] = [];
    let corroborating = 0;
    for (const [id, report] of shown) {
      if (id === endpoint) continue;
      const ceiling = ceilingOf(report, at);
      if (ceiling < slot) ceilings.push(ceiling);
      else if (report.slot > slot + maxSlotLag) above.push(report.slot);
      else corroborating++;
    }
    if (ceilings.length >= quorum) return { kind: 'ahead', ceiling: ceilings.sort((x, y) => y - x)[quorum - 1] as number };
    if (above.length >= quorum) return { kind: 'stale', watermark: above.sort((x, y) => x - y)[above.length - quorum] as number };
    // Endpoints that cannot tell their slot are not waited for (with all others silent, nothing is).
    let askable = 0;
    for (const id of endpoints) if (id !== endpoint && (shown.has(id) || silent?.has(id) !== true)) askable++;
    return corroborating < Math.min(quorum - 1, askable) ? { kind: 'unconfirmed' } : { kind: 'ok' };
  };

  const refutedBy = (shown: Map<string, Report>): string[] => {
    const out: string[] = [];
    for (const [id, report] of shown) {
      let refuters = 0;
      for (const [other, later] of shown) {
        if (other !== id && later.seq > report.seq && later.slot + maxSlotLag < report.slot) refuters++;
      }
      if (refuters >= quorum) out.push(id);
    }
    for (const id of out) shown.delete(id);
    return out;
  };

  return {
    quorum,
    get(commitment) {
      if (commitment !== undefined) return marks.get(commitment);
      let highest: number | undefined;
      for (const slot of marks.values()) if (highest === undefined || slot > highest) highest = slot;
      return highest;
    },
    floor(commitment) {
      const current = marks.get(commitment);
      return current === undefined ? undefined : current - maxSlotLag;
    },
    observe(endpoint, commitment, slot, floor, silent) {
      const shown = shownAt(commitment);
      const verdict: SlotVerdict =
        floor !== undefined && slot < floor
          ? { kind: 'stale', watermark: floor + maxSlotLag }
          : judgeAgainst(shown, endpoint, slot, silent);
      shown.set(endpoint, { slot, at: now(), seq: ++seq });
      const refuted = judging ? refutedBy(shown) : [];
      raise(commitment, shown);
      return { verdict, refuted };
    },
    judge(endpoint, commitment, slot, silent) {
      return judgeAgainst(shownAt(commitment), endpoint, slot, silent);
    },
    forget(endpoint) {
      for (const shown of reports.values()) shown.delete(endpoint);
    },
  };
}

function isSlot(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * The slot an answer was served at: `context.slot` of Solana's `{ context, value }` answers, and the
 * result itself for `getSlot`. `undefined` for answers that carry none (getTransaction's `slot` is
 * the transaction's, not the node's, and says nothing about freshness).
 */
export function contextSlotOf(method: string, result: unknown): number | undefined {
  if (method === 'getSlot') return isSlot(result) ? result : undefined;
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return undefined;
  const context = (result as { context?: unknown }).context;
  if (typeof context !== 'object' || context === null) return undefined;
  const slot = (context as { slot?: unknown }).slot;
  return isSlot(slot) ? slot : undefined;
}
