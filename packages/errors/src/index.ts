export { ERROR_CATEGORIES, XError, hasCategory, isXError, toXError } from './error.js';
export type { ErrorCategory, ErrorContext, XErrorJSON, XErrorOptions } from './error.js';
export { abortedError, isAbortSignal, throwIfAborted } from './abort.js';
export type { AbortedError } from './abort.js';
export { REDACTED, redactSecrets, redactUrl, secretsOfUrl } from './redact.js';
