/**
 * Body lengths that a RAIDAX server survives with encryption type 1.
 *
 * The server decrypts a type-1 body in place, rounded up to whole 16-byte AES blocks, inside a buffer of exactly
 * `bodyLength` bytes. When `(bodyLength − 2) mod 16` is 1–6 that write runs past the buffer and, on hosts with
 * AES-NI, kills the server within a few requests (shared/raida-protocol.md, "Encryption type 1"). A client must
 * never send such a request.
 */
export function isCrashSafeType1BodyLength(bodyLength: number): boolean {
  if (!Number.isSafeInteger(bodyLength) || bodyLength < 2) return false;
  const tail = (bodyLength - 2) % 16;
  return tail === 0 || tail > 6;
}
