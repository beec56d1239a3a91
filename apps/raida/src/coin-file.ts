import { AN_LENGTH, MAX_DENOMINATION, MIN_DENOMINATION } from '@x/raida-protocol';
import type { RaidaCoin } from '@x/raida-client';
import { usageError } from './usage-error.js';

/*
 * The coin file of the `raida` command (JSON):
 *
 *   { "coins": [ { "denomination": 0, "serialNumber": 4660, "ans": ["<32 hex digits>", … one per RAIDA id] } ] }
 *
 * `ans[id]` is the AN that RAIDA `id` holds. Every configured server's id must have one.
 */

const HEX_AN = /^[0-9a-f]{32}$/i;

function hexToBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(AN_LENGTH);
  for (let i = 0; i < AN_LENGTH; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

export function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * ` (line L, column C)` where the JSON parser stopped, from the position number in its message when it gives one.
 * Only the number is kept: the rest of the message quotes the text around the error, which may be part of an AN.
 */
function jsonErrorPlace(error: unknown, text: string): string {
  const match = error instanceof Error ? /position (\d+)/.exec(error.message) : null;
  if (match === null) return '';
  const before = text.slice(0, Number(match[1]));
  const lines = before.split('\n');
  return ` (line ${lines.length}, column ${lines.at(-1)!.length + 1})`;
}

/**
 * Reads a coin file's text. `ids` are the RAIDA ids that must have an AN. Throws a one-line
 * `RAIDA_CLI_USAGE` error naming the file, the coin and the field to fix; never echoes an AN.
 */
export function parseCoinFile(text: string, source: string, ids: readonly number[]): RaidaCoin[] {
  const fail = (message: string): never => {
    throw usageError(`${source}: ${message}`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // The parser's own message quotes the text around the error, which may be part of an AN: never repeat it.
    return fail(`not valid JSON${jsonErrorPlace(error, text)}; expected { "coins": [ … ] }`);
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { coins?: unknown }).coins)) {
    return fail('expected an object with a "coins" array: { "coins": [ { "denomination", "serialNumber", "ans" } ] }');
  }
  const entries = (parsed as { coins: unknown[] }).coins;
  if (entries.length === 0) fail('the "coins" array is empty');
  return entries.map((entry, index) => {
    const where = `coin ${index}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      return fail(`${where} must be an object { "denomination", "serialNumber", "ans" }`);
    const { denomination, serialNumber, ans } = entry as Record<string, unknown>;
    if (
      typeof denomination !== 'number' ||
      !Number.isInteger(denomination) ||
      denomination < MIN_DENOMINATION ||
      denomination > MAX_DENOMINATION
    ) {
      fail(`${where}: "denomination" must be an integer from ${MIN_DENOMINATION} to ${MAX_DENOMINATION}`);
    }
    if (typeof serialNumber !== 'number' || !Number.isInteger(serialNumber) || serialNumber < 0 || serialNumber > 0xffffffff) {
      fail(`${where}: "serialNumber" must be an integer from 0 to 4294967295`);
    }
    if (!Array.isArray(ans)) return fail(`${where}: "ans" must be an array of 32-hex-digit ANs, one per RAIDA id`);
    const bytes: Uint8Array[] = [];
    for (const id of ids) {
      const an: unknown = ans[id];
      if (an === undefined) fail(`${where}: "ans" has no entry for RAIDA ${id} (it has ${ans.length}; one per RAIDA id is needed)`);
      if (typeof an !== 'string' || !HEX_AN.test(an)) fail(`${where}: "ans"[${id}] must be 32 hex digits (16 bytes)`);
      bytes[id] = hexToBytes(an as string);
    }
    return { denomination: denomination as number, serialNumber: serialNumber as number, ans: bytes };
  });
}

/** The coin file text for `coins` (the format {@link parseCoinFile} reads). */
export function formatCoinFile(coins: readonly RaidaCoin[]): string {
  const entries = coins.map((coin) => ({
    denomination: coin.denomination,
    serialNumber: coin.serialNumber,
    ans: Array.from(coin.ans, (an) => (an === undefined ? '' : bytesToHex(an))),
  }));
  return `${JSON.stringify({ coins: entries }, null, 2)}\n`;
}
