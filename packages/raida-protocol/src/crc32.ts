// CRC-32 as zlib computes it (IEEE 802.3): reflected polynomial 0xEDB88320, init and final xor
// 0xFFFFFFFF. Table-driven: a constant 1 KiB table computed once when the module loads.
const TABLE: Uint32Array = (() => {
  const built = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    built[n] = c >>> 0;
  }
  return built;
})();

/**
 * The standard CRC-32 (zlib/IEEE) of `bytes` (or of `bytes[start, end)`), as an unsigned 32-bit number.
 * `crc32("123456789") === 0xCBF43926`.
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = (TABLE[(crc ^ (bytes[i] ?? 0)) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
