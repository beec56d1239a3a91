import { MAX_SERIAL_NUMBER, isCrashSafeType1BodyLength, maxCoinsPerRequest, requestBodyLength } from '@x/raida-protocol';
import type { CoinId } from '@x/raida-protocol';
import { invalidOptions } from './errors.js';

/** Request sizes (in coins) the planner tries at each end of the range: two periods of 16 and then some. */
const WINDOW = 40;

/** One request's share of a detect or pown: `count` of the caller's coins from `offset`, then `fillers` filler coins. */
export interface CoinBatch {
  readonly offset: number;
  readonly count: number;
  readonly fillers: number;
}

export interface BatchPlanInput {
  readonly command: 'detect' | 'pown';
  readonly coinCount: number;
  readonly maxRequestBytes: number;
  /** Encryption type 1: every request's body length must be crash-safe. */
  readonly encrypted: boolean;
}

/**
 * How the coins of one detect or pown are cut into requests. Unencrypted: as many coins per request as fit.
 * Encryption type 1: only requests whose body length is crash-safe (`isCrashSafeType1BodyLength`: a RAIDAX
 * server on an AES-NI host dies of the others), in as few requests as possible and then with as few filler
 * coins as possible. A filler is needed only where no other split of the caller's coins is as short, e.g. for a
 * single coin (bodyLength 39 for detect, 55 for pown). Throws `RAIDA_CLIENT_INVALID_OPTIONS` when
 * `maxRequestBytes` leaves no crash-safe request.
 */
export function planCoinBatches(input: BatchPlanInput): CoinBatch[] {
  const { command, coinCount: n } = input;
  const perRequest = maxCoinsPerRequest(command, input.maxRequestBytes);
  if (!input.encrypted) {
    const batches: CoinBatch[] = [];
    for (let offset = 0; offset < n; offset += perRequest) batches.push({ offset, count: Math.min(perRequest, n - offset), fillers: 0 });
    return batches;
  }
  // fillersFor[s]: fewest fillers that make a request of s coins crash-safe within the limit, or -1.
  const fillersFor = new Int32Array(perRequest + 1).fill(-1);
  for (let s = 1; s <= perRequest; s++) {
    for (let total = s; total <= perRequest; total++) {
      if (isCrashSafeType1BodyLength(requestBodyLength(command, total))) {
        fillersFor[s] = total - s;
        break;
      }
    }
  }
  if (n === 0) return [];
  // Everything in one request is the fewest requests, and then its own fillers are the only choice.
  if (n <= perRequest && fillersFor[n]! >= 0) return [{ offset: 0, count: n, fillers: fillersFor[n]! }];
  // Moving 16 coins between two requests keeps both body lengths' residues, so some best plan has every request
  // but one within WINDOW of either end of the range: a dynamic programme over those sizes, then one last
  // request of any size. O(n × 2·WINDOW + perRequest).
  const sizes: number[] = [];
  for (let s = 1; s <= perRequest; s++) if (fillersFor[s]! >= 0 && (s <= WINDOW || s > perRequest - WINDOW)) sizes.push(s);
  if (sizes.length === 0) {
    const needed = smallestSafeRequestBytes(command);
    throw invalidOptions(
      'maxRequestBytes',
      `maxRequestBytes ${input.maxRequestBytes} leaves no crash-safe encrypted ${command} request: with encryption type 1 use at least ${needed}`,
      input.maxRequestBytes,
    );
  }
  // requests[k], fillers[k]: the best plan for the first k coins from window sizes; last[k]: its last request's size.
  const requests = new Float64Array(n + 1).fill(Number.POSITIVE_INFINITY);
  const fillers = new Float64Array(n + 1).fill(Number.POSITIVE_INFINITY);
  const last = new Int32Array(n + 1);
  requests[0] = 0;
  fillers[0] = 0;
  for (let k = 1; k <= n; k++) {
    for (const s of sizes) {
      if (s > k) break;
      const r = requests[k - s]! + 1;
      const f = fillers[k - s]! + fillersFor[s]!;
      if (r < requests[k]! || (r === requests[k]! && f < fillers[k]!)) {
        requests[k] = r;
        fillers[k] = f;
        last[k] = s;
      }
    }
  }
  let bestTail = 0;
  let bestRequests = requests[n]!;
  let bestFillers = fillers[n]!;
  for (let s = 1; s <= Math.min(perRequest, n); s++) {
    if (fillersFor[s]! < 0) continue;
    const r = requests[n - s]! + 1;
    const f = fillers[n - s]! + fillersFor[s]!;
    if (r < bestRequests || (r === bestRequests && f < bestFillers)) {
      bestRequests = r;
      bestFillers = f;
      bestTail = s;
    }
  }
  const batches: CoinBatch[] = [];
  let k = n;
  if (bestTail > 0) {
    batches.push({ offset: n - bestTail, count: bestTail, fillers: fillersFor[bestTail]! });
    k -= bestTail;
  }
  for (; k > 0; k -= last[k]!) batches.push({ offset: k - last[k]!, count: last[k]!, fillers: fillersFor[last[k]!]! });
  return batches.reverse();
}

function smallestSafeRequestBytes(command: 'detect' | 'pown'): number {
  let coins = 1;
  while (!isCrashSafeType1BodyLength(requestBodyLength(command, coins))) coins++;
  return 32 + requestBodyLength(command, coins);
}

/**
 * `count` filler coin ids, distinct from each other and from `taken`: serial numbers counted down from the top of
 * the u32 range, far above any serial number the network issues (below 1,024,000), so that a server counts each
 * as one failed coin. Denomination 0.
 */
export function fillerCoinIds(count: number, taken: readonly CoinId[]): CoinId[] {
  const used = new Set(taken.filter((coin) => coin.denomination === 0).map((coin) => coin.serialNumber));
  const ids: CoinId[] = [];
  for (let serialNumber = MAX_SERIAL_NUMBER; ids.length < count; serialNumber--) {
    if (!used.has(serialNumber)) ids.push({ denomination: 0, serialNumber });
  }
  return ids;
}
