import { optionChecks } from '../options.js';

export { isPlainObject as isRecord } from '@x/errors';

/** `TESTKIT_RPC_INVALID_OPTIONS`: a cluster option or behaviour patch is wrong; `context.option` names which. */
export const rpcOptionChecks = optionChecks('TESTKIT_RPC_INVALID_OPTIONS');
export const { invalid: invalidOptions, checkKeys, numberIn, integerIn } = rpcOptionChecks;
