import { XError } from '@x/errors';

/** `TESTKIT_RPC_INVALID_OPTIONS`: a cluster option or behaviour patch is wrong; `field` names which. */
export function invalidOptions(message: string, field: string, value?: unknown): XError {
  return new XError({
    code: 'TESTKIT_RPC_INVALID_OPTIONS',
    category: 'config',
    message: `${field} ${message}`,
    context: { field, value: describe(value) },
  });
}

function describe(value: unknown): unknown {
  if (typeof value === 'function') return '[function]';
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? '[array]' : '[object]';
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function checkKeys(value: Record<string, unknown>, allowed: readonly string[], field: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw invalidOptions(`has an unknown option "${key}" (known: ${allowed.join(', ')})`, field, key);
  }
}
