/** Small value checks shared by every package's option validation, so each rule exists once. */

/** The longest delay `setTimeout` honours (2^31 − 1 ms); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A non-null object that is not an array (JSON objects, option bags). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True for a finite number of milliseconds in (0, {@link MAX_TIMER_MS}] — any timer duration. */
export function isTimerMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= MAX_TIMER_MS;
}

/**
 * Describes a bad value for an error message without dumping it: strings are quoted and cut at 40
 * characters, objects are named by kind. Never pass secrets (the caller decides what is safe).
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      return 'an object';
  }
}
