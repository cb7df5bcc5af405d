// crc32c.ts computes CRC-32C (Castagnoli, reflected polynomial 0x82F63B78),
// the checksum in front of every streamed remote-read frame (written by the
// remote-read handler, checked by the tests and peer suites).

const CASTAGNOLI_REFLECTED = 0x82f63b78;

/** CRC32C_TABLE is the byte-at-a-time lookup table for the reflected polynomial. */
const CRC32C_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? (c >>> 1) ^ CASTAGNOLI_REFLECTED : c >>> 1;
    }
    table[n] = c >>> 0;
  }
  return table;
})();

/** crc32c returns the CRC-32C of data as an unsigned 32-bit number. */
export function crc32c(data: Uint8Array, seed = 0): number {
  let crc = ~seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    crc = CRC32C_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  }
  return ~crc >>> 0;
}
