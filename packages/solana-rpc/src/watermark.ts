import type { SolanaCommitment } from './params.js';

/** The highest `context.slot` seen per commitment (answers at `finalized` trail `processed` by ~32 slots). */
export interface SlotWatermark {
  /** The watermark at one commitment, or the highest of all without one; `undefined` before any answer. */
  get(commitment?: SolanaCommitment): number | undefined;
  /** Raises the commitment's watermark to `slot` if it is higher. */
  observe(commitment: SolanaCommitment, slot: number): void;
  /** The lowest acceptable slot right now (`watermark − maxSlotLag`), or `undefined` when nothing was seen. */
  floor(commitment: SolanaCommitment): number | undefined;
}

export function createSlotWatermark(maxSlotLag: number): SlotWatermark {
  const marks = new Map<SolanaCommitment, number>();
  return {
    get(commitment) {
      if (commitment !== undefined) return marks.get(commitment);
      let highest: number | undefined;
      for (const slot of marks.values()) if (highest === undefined || slot > highest) highest = slot;
      return highest;
    },
    observe(commitment, slot) {
      const current = marks.get(commitment);
      if (current === undefined || slot > current) marks.set(commitment, slot);
    },
    floor(commitment) {
      const current = marks.get(commitment);
      return current === undefined ? undefined : current - maxSlotLag;
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
