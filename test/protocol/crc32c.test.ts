import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/protocol/crc32c.js';

/** Bit-at-a-time CRC-32C, the definition the table-driven code must match. */
function reference(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function pseudoRandomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('crc32c', () => {
  it('matches the standard check value of "123456789"', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });

  it('matches the RFC 3720 (iSCSI) vectors', () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it('is 0 for no bytes and always an unsigned 32-bit number', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
    for (let n = 1; n < 40; n++) {
      const c = crc32c(pseudoRandomBytes(n, n));
      expect(Number.isInteger(c) && c >= 0 && c <= 0xffffffff).toBe(true);
    }
  });

  it('agrees with the bitwise definition for every length around the 8-byte stride', () => {
    for (let n = 0; n <= 70; n++) {
      const b = pseudoRandomBytes(n, 7 + n);
      expect(crc32c(b), `length ${n}`).toBe(reference(b));
    }
    const big = pseudoRandomBytes(100_003, 99);
    expect(crc32c(big)).toBe(reference(big));
  });

  it('continues from a previous crc as if over the concatenation', () => {
    const all = pseudoRandomBytes(53, 3);
    for (const cut of [0, 1, 7, 8, 9, 30, 53]) {
      expect(crc32c(all.subarray(cut), crc32c(all.subarray(0, cut))), `cut ${cut}`).toBe(crc32c(all));
    }
  });

  it('reads only the view it is given', () => {
    const buf = pseudoRandomBytes(40, 5);
    const view = buf.subarray(3, 28);
    expect(crc32c(view)).toBe(reference(buf.slice(3, 28)));
  });
});
