import { XError } from './error.js';
import { MAX_TIMER_MS, describeValue, isTimerMs } from './values.js';

/** The context of every configuration error: the one key `option` names what the caller got wrong. */
export interface ConfigErrorContext {
  /** The option (or argument) at fault, e.g. `attemptTimeoutMs` or `endpoints[2].url`. */
  readonly option: string;
  /** A safe description of the value received (see {@link describeValue}); absent for secrets. */
  readonly received?: string;
}

/**
 * Builds the configuration error of a package: category `config`, the package's own prefixed code
 * (e.g. `HTTP_INVALID_OPTIONS`), and `context.option` naming the option. The message is the
 * sentence a user reads; callers no longer need to strip prefixes to show it.
 */
export function configError<Code extends string>(
  code: Code,
  option: string,
  message: string,
  value?: unknown,
): XError<Code, ConfigErrorContext> {
  const context: ConfigErrorContext = arguments.length >= 4 ? { option, received: describeValue(value) } : { option };
  return new XError({ code, category: 'config', message, context });
}

/**
 * Checks a duration option (`timeoutMs`, `attemptTimeoutMs`, `deadlineMs`, `hedgeDelayMs`...):
 * a finite number in (0, 2^31 − 1]. Returns it, or throws {@link configError} with `code`.
 */
export function checkTimerMs<Code extends string>(code: Code, option: string, value: unknown): number {
  if (!isTimerMs(value)) {
    throw configError(
      code,
      option,
      `${option} must be a number of milliseconds in (0, ${MAX_TIMER_MS}], got ${describeValue(value)}`,
      value,
    );
  }
  return value;
}
