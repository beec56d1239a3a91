import { optionChecks } from '../options.js';

export { isPlainObject as isRecord } from '@x/errors';

/**
 * `TESTKIT_RAIDA_INVALID_OPTIONS`: a cluster option, behaviour patch or coin is wrong; `context.option` names which.
 * `context.received` describes the value by kind only (an AN is `an object`), so no secret reaches it.
 */
export const { invalid: invalidRaidaOptions, checkKeys, integerIn, numberIn } = optionChecks('TESTKIT_RAIDA_INVALID_OPTIONS');
