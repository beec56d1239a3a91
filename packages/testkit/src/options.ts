import { configError, type ConfigErrorContext, type XError } from '@x/errors';

/** The configuration error codes of testkit: a bad option of a Solana cluster, a RAIDA cluster or a relay set. */
export type TestkitConfigCode = 'TESTKIT_RPC_INVALID_OPTIONS' | 'TESTKIT_RAIDA_INVALID_OPTIONS' | 'TESTKIT_RELAY_INVALID_OPTIONS';

declare module '@x/errors' {
  interface ErrorContexts {
    /** A Solana cluster option or behaviour patch; `option` is its path, e.g. `endpoints[1].behavior.latency.sigma`. */
    TESTKIT_RPC_INVALID_OPTIONS: ConfigErrorContext;
    /** A RAIDA cluster option, behaviour patch or coin; `option` is its path. */
    TESTKIT_RAIDA_INVALID_OPTIONS: ConfigErrorContext;
    /** A relay set option or faults patch; `option` is its path, e.g. `relays[0].faults.dropRate`. */
    TESTKIT_RELAY_INVALID_OPTIONS: ConfigErrorContext;
  }
}

/** The option checks of one testkit component, each throwing `configError(code, option, …)` with the message `<option> <rule>`. */
export interface OptionChecks<Code extends TestkitConfigCode> {
  /** The error for `option`, which breaks `rule` (`must be an object`, say); `received` describes `value` when one is given. */
  readonly invalid: (rule: string, option: string, ...value: [unknown?]) => XError<Code, ConfigErrorContext>;
  /** Throws if `value` has a key not in `allowed`. */
  readonly checkKeys: (value: Record<string, unknown>, allowed: readonly string[], option: string) => void;
  /** `value` if it is a finite number in [min, max]. */
  readonly numberIn: (value: unknown, option: string, min: number, max: number) => number;
  /** `value` if it is a safe integer in [min, max]. */
  readonly integerIn: (value: unknown, option: string, min: number, max: number) => number;
}

export function optionChecks<Code extends TestkitConfigCode>(code: Code): OptionChecks<Code> {
  const invalid = (rule: string, option: string, ...value: [unknown?]): XError<Code, ConfigErrorContext> =>
    configError(code, option, `${option} ${rule}`, ...value);
  return {
    invalid,
    checkKeys: (value, allowed, option) => {
      for (const key of Object.keys(value)) {
        if (!allowed.includes(key)) throw invalid(`has an unknown option "${key}" (known: ${allowed.join(', ')})`, option, key);
      }
    },
    numberIn: (value, option, min, max) => {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
        throw invalid(`must be a number in [${min}, ${max}]`, option, value);
      }
      return value;
    },
    integerIn: (value, option, min, max) => {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
        throw invalid(`must be an integer in [${min}, ${max}]`, option, value);
      }
      return value;
    },
  };
}
