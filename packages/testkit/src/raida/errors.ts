import { XError } from '@x/errors';

/** `TESTKIT_RAIDA_INVALID_OPTIONS`: a cluster option, behaviour patch or coin is wrong; `field` names which. */
export function invalidRaidaOptions(message: string, field: string, value?: unknown): XError {
  return new XError({
    code: 'TESTKIT_RAIDA_INVALID_OPTIONS',
    category: 'config',
    message: `${field} ${message}`,
    context: { field, value: describeValue(value) },
  });
}

// Contexts must stay small and secret-free: never put an AN (a Uint8Array) or a whole object in them.
function describeValue(value: unknown): unknown {
  if (typeof value === 'function') return '[function]';
  if (value instanceof Uint8Array) return `[${value.length} bytes]`;
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? '[array]' : '[object]';
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function checkKeys(value: Record<string, unknown>, allowed: readonly string[], field: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw invalidRaidaOptions(`has an unknown option "${key}" (known: ${allowed.join(', ')})`, field, key);
  }
}

export function integerIn(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidRaidaOptions(`must be an integer in [${min}, ${max}]`, field, value);
  }
  return value;
}

export function numberIn(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalidRaidaOptions(`must be a number in [${min}, ${max}]`, field, value);
  }
  return value;
}
