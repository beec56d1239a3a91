import { XError } from '@x/errors';

/** Bad usage or bad input: printed as one line, exit code 2 (as is every `config` error). */
export function usageError(message: string): XError {
  return new XError({ code: 'RAIDA_CLI_USAGE', category: 'config', message });
}
