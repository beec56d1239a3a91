/**
 * Milliseconds to wait according to an HTTP `Retry-After` value (RFC 9110 §10.2.3): either
 * delay-seconds (`"120"`, a fraction tolerated) or an HTTP date (`"Wed, 21 Oct 2015 07:28:00 GMT"`), measured against
 * `nowMs` (wall clock, ms since the epoch; default `Date.now()`). A date in the past gives 0.
 * Anything else (empty, negative, exponent notation, unparseable) gives `undefined`, so the caller falls back
 * to its default instead of trusting garbage.
 */
export function parseRetryAfter(value: string | readonly string[] | null | undefined, nowMs: number = Date.now()): number | undefined {
  const first = typeof value === 'string' ? value : value?.[0];
  if (typeof first !== 'string') return undefined;
  const text = first.trim();
  if (text === '') return undefined;
  // RFC 9110 allows whole seconds only; a fraction is tolerated because some servers send one.
  if (/^\d+(\.\d+)?$/.test(text)) {
    const ms = Math.round(Number(text) * 1000);
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  // Date.parse also accepts ISO strings and other loose forms; all three HTTP date formats
  // (IMF-fixdate, RFC 850, asctime) spell the month as a three-letter name.
  if (!/\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\b/i.test(text.replace(/[-\d]+/g, ' '))) return undefined;
  // asctime dates carry no zone but are GMT by definition; Date.parse would read them as local time.
  const at = Date.parse(/^[a-z]{3} [a-z]{3} +\d{1,2} \d\d:\d\d:\d\d \d{4}$/i.test(text) ? `${text} GMT` : text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
