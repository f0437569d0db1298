/**
 * CRC-32C (Castagnoli), the checksum Kafka's record batches carry. Slicing-by-8 over
 * lookup tables built once at first use, so a 100 KB batch costs well under a millisecond.
 *
 * The eight tables are one Int32Array (table s at s * 256) read with 32-bit signed words: the
 * same speed in Chromium, and 1.5-3x faster in Firefox than eight Uint32Arrays, whose entries
 * above 2^31 SpiderMonkey handles as doubles (100 batches of 100 kB: 8-9 ms against 13-27 ms).
 */

let table: Int32Array | null = null;

function buildTable(): Int32Array {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c;
  }
  for (let i = 256; i < 2048; i++) t[i] = (t[i - 256]! >>> 8) ^ t[t[i - 256]! & 0xff]!;
  return t;
}

/** CRC-32C of `bytes` (optionally continuing from a previous `crc`), as an unsigned 32-bit number. */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  const t = (table ??= buildTable());
  let c = ~crc;
  let i = 0;
  const n = bytes.length;
  // Bytes up to a 4-byte boundary, then two aligned 32-bit words per step (one load each
  // instead of four byte loads; little-endian, as every engine lanes runs on is).
  const lead = Math.min(n, (4 - (bytes.byteOffset & 3)) & 3);
  while (i < lead) c = t[(c ^ bytes[i++]!) & 0xff]! ^ (c >>> 8);
  const words = (n - i) >>> 3 << 1;
  if (words > 0 && LITTLE_ENDIAN) {
    const w = new Int32Array(bytes.buffer, bytes.byteOffset + i, words);
    for (let k = 0; k < words; k += 2) {
      const a = c ^ w[k]!;
      const b = w[k + 1]!;
      c = t[1792 + (a & 0xff)]! ^ t[1536 + ((a >>> 8) & 0xff)]! ^ t[1280 + ((a >>> 16) & 0xff)]! ^ t[1024 + (a >>> 24)]! ^
        t[768 + (b & 0xff)]! ^ t[512 + ((b >>> 8) & 0xff)]! ^ t[256 + ((b >>> 16) & 0xff)]! ^ t[b >>> 24]!;
    }
    i += words * 4;
  }
  while (i < n) c = t[(c ^ bytes[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
