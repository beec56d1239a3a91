/**
 * Milliseconds to wait according to an HTTP `Retry-After` header value: either a number of seconds
 * (`"120"`, fractional values tolerated) or an HTTP date, measured from `nowMs` (wall clock, because
 * an HTTP date is wall-clock time). A date in the past gives 0. Anything unparseable gives
 * `undefined`, so a garbled header never turns into a made-up delay.
 */
export function parseRetryAfter(value: string | readonly string[] | undefined, nowMs: number = Date.now()): number | undefined {
  const text = (typeof value === 'string' ? value : value?.[0])?.trim();
  if (text === undefined || text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // Only an HTTP date may follow; Date.parse would otherwise accept bare numbers such as "-1" or "1e3".
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
