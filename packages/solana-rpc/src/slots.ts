import type { Pool } from '@x/pool';
import type { Endpoints, Endpoint } from './endpoints.js';
import { solanaError } from './errors.js';
import type { SolanaCommitment } from './params.js';
import { createSlotWatermark } from './watermark.js';
import type { SlotVerdict, SlotWatermark } from './watermark.js';

/** How long a slot check (`getSlot` on the other endpoints) may take, and how often one may start per commitment. */
const SLOT_CHECK_TIMEOUT_MS = 2_000;
const SLOT_CHECK_INTERVAL_MS = 1_000;

export interface SlotGuardOptions {
  readonly endpoints: Endpoints;
  readonly pool: Pool<string>;
  readonly maxSlotLag: number;
  readonly slotQuorum: number | undefined;
}

/** The slot watermark with what keeps it honest: slot checks, waiting for corroboration, suspecting liars. */
export interface SlotGuard {
  readonly watermark: SlotWatermark;
  /**
   * Judges one answer's slot (`floor` as it was when the request started): resolves when the slot is
   * acceptable, throws `SOLANA_STALE_SLOT` or `SOLANA_SLOT_AHEAD` when it is not. An answer too few other
   * endpoints have corroborated yet waits while they are asked for theirs (a slot check), or until `signal` aborts.
   */
  judge(
    endpoint: Endpoint,
    method: string,
    commitment: SolanaCommitment,
    slot: number,
    floor: number | undefined,
    signal: AbortSignal,
  ): Promise<void>;
  /** Stops slot checks in flight; answers still waiting are aborted with their calls. */
  close(): void;
}

/** Waits for `promise` unless `signal` aborts first (then rejects with its reason); never leaves a listener behind. */
function untilAborted(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

export function createSlotGuard(options: SlotGuardOptions): SlotGuard {
  const { endpoints, pool, maxSlotLag, slotQuorum } = options;
  const watermark = createSlotWatermark({
    maxSlotLag,
    endpoints: endpoints.list.map((endpoint) => endpoint.id),
    ...(slotQuorum === undefined ? {} : { quorum: slotQuorum }),
  });
  let closed = false;
  const slotChecks = new AbortController();
  const lastSlotCheck = new Map<SolanaCommitment, number>();
  const slotChecksRunning = new Map<SolanaCommitment, Promise<void>>();
  /** Endpoints whose last slot check failed: not waited for as corroborators until they show a slot. */
  const silent = new Set<string>();
  /** Answers waiting for corroboration, woken by every slot recorded at their commitment. */
  const slotWaiters = new Map<SolanaCommitment, Array<() => void>>();
  const nextSlot = (commitment: SolanaCommitment): Promise<void> =>
    new Promise<void>((resolve) => {
      const waiting = slotWaiters.get(commitment);
      if (waiting === undefined) slotWaiters.set(commitment, [resolve]);
      else waiting.push(resolve);
    });

  /** Records one endpoint's slot; endpoints whose slots a quorum has refuted become suspect. */
  const observeSlot = (
    endpoint: Endpoint,
    method: string,
    commitment: SolanaCommitment,
    slot: number,
    floor: number | undefined,
  ): SlotVerdict => {
    silent.delete(endpoint.id);
    const observation = watermark.observe(endpoint.id, commitment, slot, floor, silent);
    const waiting = slotWaiters.get(commitment);
    if (waiting !== undefined) {
      slotWaiters.delete(commitment);
      for (const wake of waiting) wake();
    }
    for (const id of observation.refuted) {
      const liar = endpoints.byId(id);
      watermark.forget(id);
      pool.suspect(
        id,
        solanaError(
          'SOLANA_SLOT_AHEAD',
          'server',
          `${liar.label} showed a ${commitment} slot that ${watermark.quorum} other endpoints, answering after it, are far behind of (${method})`,
          {
            endpoint: id,
            label: liar.label,
            commitment,
          },
        ),
      );
    }
    return observation.verdict;
  };

  /**
   * Asks every other endpoint for its slot (getSlot, not counted in the pool's statistics), so that a
   * slot nobody has corroborated yet is corroborated or refuted even when the traffic reaches only one
   * endpoint. At most one check per commitment at a time, and one a second; resolves when it is over.
   * Endpoints with a declared budget are not asked: these requests bypass the pool and would spend the
   * provider's allowance unaccounted (429s); the pool spreads calls over budgeted endpoints, whose answers
   * corroborate slots as well.
   */
  const checkSlots = (asker: Endpoint, commitment: SolanaCommitment): Promise<void> => {
    const running = slotChecksRunning.get(commitment);
    if (running !== undefined) return running;
    const at = performance.now();
    if (closed || at - (lastSlotCheck.get(commitment) ?? Number.NEGATIVE_INFINITY) < SLOT_CHECK_INTERVAL_MS) return Promise.resolve();
    lastSlotCheck.set(commitment, at);
    const checks = endpoints.list
      .filter((endpoint) => endpoint !== asker && !endpoint.budgeted)
      .map(async (endpoint) => {
        try {
          const floor = watermark.floor(commitment);
          const slot = await endpoint.transport.call('getSlot', [{ commitment }], {
            signal: slotChecks.signal,
            timeoutMs: SLOT_CHECK_TIMEOUT_MS,
          });
          if (typeof slot === 'number' && Number.isSafeInteger(slot) && slot >= 0) {
            if (!slotChecks.signal.aborted) observeSlot(endpoint, 'getSlot', commitment, slot, floor);
            return;
          }
        } catch {
          // Below: an endpoint that cannot tell its slot corroborates nothing.
        }
        silent.add(endpoint.id);
      });
    const done = Promise.all(checks).then(() => {
      slotChecksRunning.delete(commitment);
    });
    slotChecksRunning.set(commitment, done);
    return done;
  };

  const judge: SlotGuard['judge'] = async (endpoint, method, commitment, slot, floor, signal) => {
    let verdict = observeSlot(endpoint, method, commitment, slot, floor);
    // Judged again as other slots arrive (this call's other answers, the slot check's), until the check is over.
    let checked = false;
    while (verdict.kind === 'unconfirmed' && !checked) {
      const check = checkSlots(endpoint, commitment).then(() => {
        checked = true;
      });
      await untilAborted(Promise.race([check, nextSlot(commitment)]), signal);
      verdict = watermark.judge(endpoint.id, commitment, slot, silent);
      // An answer nobody had corroborated is judged against the watermark established meanwhile.
      const floorNow = watermark.floor(commitment);
      if (floorNow !== undefined && slot < floorNow) verdict = { kind: 'stale', watermark: floorNow + maxSlotLag };
    }
    if (verdict.kind === 'stale') {
      const seen = verdict.watermark;
      throw solanaError(
        'SOLANA_STALE_SLOT',
        'server',
        `${endpoint.label} answered ${method} at slot ${slot}, ${seen - slot} slots behind the highest ${commitment} slot seen (${seen}); ` +
          `at most ${maxSlotLag} are accepted`,
        { endpoint: endpoint.id, label: endpoint.label, method, commitment, slot, watermark: seen, maxSlotLag },
      );
    }
    if (verdict.kind === 'ahead') {
      void checkSlots(endpoint, commitment);
      throw solanaError(
        'SOLANA_SLOT_AHEAD',
        'server',
        `${endpoint.label} answered ${method} at slot ${slot}, ` +
          `beyond what ${watermark.quorum} other endpoints can have reached (${verdict.ceiling} at ${commitment})`,
        { endpoint: endpoint.id, label: endpoint.label, method, commitment, slot, ceiling: verdict.ceiling },
      );
    }
  };

  return {
    watermark,
    judge,
    close: () => {
      closed = true;
      slotChecks.abort();
      // Answers still waiting for corroboration are aborted with their calls; nothing more will wake them.
      slotWaiters.clear();
    },
  };
}
