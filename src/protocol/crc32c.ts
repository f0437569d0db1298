/**
 * CRC-32C (Castagnoli), the checksum Kafka's record batches carry. Slicing-by-8 over
 * lookup tables built once at first use, so a 100 KB batch costs well under a millisecond.
 */

let tables: Uint32Array[] | null = null;

function buildTables(): Uint32Array[] {
  const t: Uint32Array[] = [];
  const t0 = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t0[i] = c >>> 0;
  }
  t.push(t0);
  for (let s = 1; s < 8; s++) {
    const prev = t[s - 1]!;
    const cur = new Uint32Array(256);
    for (let i = 0; i < 256; i++) cur[i] = (prev[i]! >>> 8) ^ t0[prev[i]! & 0xff]!;
    t.push(cur);
  }
  return t;
}

/** CRC-32C of `bytes` (optionally continuing from a previous `crc`), as an unsigned 32-bit number. */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  const t = (tables ??= buildTables());
  const [t0, t1, t2, t3, t4, t5, t6, t7] = t as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let c = ~crc >>> 0;
  let i = 0;
  const n = bytes.length;
  // Bytes up to a 4-byte boundary, then two aligned 32-bit words per step (one load each
  // instead of four byte loads; little-endian, as every engine lanes runs on is).
  const lead = Math.min(n, (4 - (bytes.byteOffset & 3)) & 3);
  while (i < lead) c = t0[(c ^ bytes[i++]!) & 0xff]! ^ (c >>> 8);
  const words = (n - i) >>> 3 << 1;
  if (words > 0 && LITTLE_ENDIAN) {
    const w = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
    for (let k = 0; k < words; k += 2) {
      const a = c ^ w[k]!;
      const b = w[k + 1]!;
      c = t7[a & 0xff]! ^ t6[(a >>> 8) & 0xff]! ^ t5[(a >>> 16) & 0xff]! ^ t4[a >>> 24]! ^
        t3[b & 0xff]! ^ t2[(b >>> 8) & 0xff]! ^ t1[(b >>> 16) & 0xff]! ^ t0[b >>> 24]!;
    }
    i += words * 4;
  }
  while (i < n) c = t0[(c ^ bytes[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
