import { createHash } from 'node:crypto';
import { configure } from 'safe-stable-stringify';
import type { SolanaCommitment } from '../params.js';

/** The Solana subscription methods merged across providers. */
export const SUBSCRIPTION_METHODS = [
  'logsSubscribe',
  'programSubscribe',
  'accountSubscribe',
  'signatureSubscribe',
  'slotSubscribe',
] as const;

export type SolanaSubscriptionMethod = (typeof SUBSCRIPTION_METHODS)[number];

interface MethodSpec {
  readonly notification: string;
  readonly unsubscribe: string;
  /** Where the config object (with `commitment`) sits in the params; undefined when the method takes none. */
  readonly configAt: number | undefined;
  /** What identifies one notification across providers. */
  readonly key: (result: unknown) => string;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** `context.slot` of a notification result (`RpcResponse` shape), or the `slot` of a slot notification. */
export function notificationSlot(result: unknown): number | undefined {
  const r = record(result);
  const slot = record(r?.context)?.slot ?? r?.slot;
  if (typeof slot === 'number' && Number.isSafeInteger(slot)) return slot;
  if (typeof slot === 'bigint') return Number(slot);
  return undefined;
}

const canonical = configure({ bigint: true, circularValue: '[circular]', deterministic: true });

/** A short digest of a value's content (stable key order), so that keys stay small whatever the account size. */
function digest(value: unknown): string {
  return createHash('sha256')
    .update(canonical(value) ?? 'undefined')
    .digest('base64url')
    .slice(0, 22);
}

function malformed(method: string): never {
  throw new Error(`${method} notification without the field that identifies it`);
}

const SPECS: Readonly<Record<SolanaSubscriptionMethod, MethodSpec>> = {
  logsSubscribe: {
    notification: 'logsNotification',
    unsubscribe: 'logsUnsubscribe',
    configAt: 1,
    key: (result) => {
      const signature = record(record(result)?.value)?.signature;
      return typeof signature === 'string' ? signature : malformed('logs');
    },
  },
  signatureSubscribe: {
    notification: 'signatureNotification',
    unsubscribe: 'signatureUnsubscribe',
    configAt: 1,
    // One subscription watches one signature: a 'receivedSignature' notice and the final status are its two events.
    key: (result) => (record(result)?.value === 'receivedSignature' ? 'received' : 'final'),
  },
  slotSubscribe: {
    notification: 'slotNotification',
    unsubscribe: 'slotUnsubscribe',
    configAt: undefined,
    key: (result) => {
      const slot = notificationSlot(result);
      return slot === undefined ? malformed('slot') : String(slot);
    },
  },
  accountSubscribe: {
    notification: 'accountNotification',
    unsubscribe: 'accountUnsubscribe',
    configAt: 1,
    key: (result) => {
      const slot = notificationSlot(result);
      return slot === undefined ? malformed('account') : `${slot}:${digest(record(result)?.value)}`;
    },
  },
  programSubscribe: {
    notification: 'programNotification',
    unsubscribe: 'programUnsubscribe',
    configAt: 1,
    key: (result) => {
      const slot = notificationSlot(result);
      const value = record(record(result)?.value);
      const pubkey = value?.pubkey;
      return slot === undefined || typeof pubkey !== 'string' ? malformed('program') : `${slot}:${pubkey}:${digest(value?.account)}`;
    },
  },
};

export function isSubscriptionMethod(method: unknown): method is SolanaSubscriptionMethod {
  return typeof method === 'string' && (SUBSCRIPTION_METHODS as readonly string[]).includes(method);
}

export function specOf(method: SolanaSubscriptionMethod): MethodSpec {
  return SPECS[method];
}

/** The commitment a subscription asked for; the node default is `finalized`. Slot subscriptions have none. */
export function subscriptionCommitment(method: SolanaSubscriptionMethod, params: readonly unknown[]): SolanaCommitment | undefined {
  const at = SPECS[method].configAt;
  if (at === undefined) return undefined;
  const commitment = record(params[at])?.commitment;
  if (commitment === 'processed' || commitment === 'confirmed' || commitment === 'finalized') return commitment;
  return 'finalized';
}

/** The address a `logsSubscribe` filter mentions (`{ mentions: [address] }`), the one filter a backfill can replay. */
export function mentionedAddress(method: SolanaSubscriptionMethod, params: readonly unknown[]): string | undefined {
  if (method !== 'logsSubscribe') return undefined;
  const mentions = record(params[0])?.mentions;
  return Array.isArray(mentions) && mentions.length === 1 && typeof mentions[0] === 'string' ? mentions[0] : undefined;
}

/** One canonical text for a subscription (method and params with sorted keys): identical subscriptions share it. */
export function subscriptionKey(method: string, params: readonly unknown[]): string {
  return `${method}:${canonical(params) ?? '[]'}`;
}
