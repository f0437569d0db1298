import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey, toPositive } from '../../src/partitioner/murmur2.js';
import { prng } from '../helpers/prng.js';

/**
 * A deliberately naive port of Kafka's `Utils.murmur2`, written with BigInt arithmetic and
 * TextEncoder so it shares no tricks (Math.imul, `| 0`, the scratch encoder) with the code
 * under test.
 */
function referenceMurmur2(key: string | Uint8Array): number {
  const bytes = typeof key === 'string' ? new TextEncoder().encode(key) : key;
  const MASK = 0xffffffffn;
  const m = 0x5bd1e995n;
  const mul = (a: bigint, b: bigint): bigint => (a * b) & MASK;
  const length = bytes.length;
  let h = (0x9747b28cn ^ BigInt(length)) & MASK;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    let k =
      BigInt(bytes[i]!) |
      (BigInt(bytes[i + 1]!) << 8n) |
      (BigInt(bytes[i + 2]!) << 16n) |
      (BigInt(bytes[i + 3]!) << 24n);
    k = mul(k, m);
    k ^= k >> 24n;
    k = mul(k, m);
    h = mul(h, m);
    h ^= k;
  }
  const rest = length % 4;
  if (rest >= 3) h ^= BigInt(bytes[i + 2]!) << 16n;
  if (rest >= 2) h ^= BigInt(bytes[i + 1]!) << 8n;
  if (rest >= 1) {
    h ^= BigInt(bytes[i]!);
    h = mul(h, m);
  }
  h ^= h >> 13n;
  h = mul(h, m);
  h ^= h >> 15n;
  return Number(BigInt.asIntN(32, h));
}

/** Random string mixing ASCII, 2- and 3-byte BMP chars, astral chars and lone surrogates. */
function randomString(random: () => number, maxLength: number): string {
  const length = Math.floor(random() * (maxLength + 1));
  let s = '';
  while (s.length < length) {
    const kind = random();
    if (kind < 0.5) s += String.fromCharCode(0x20 + Math.floor(random() * 0x5f));
    else if (kind < 0.65) s += String.fromCharCode(0x80 + Math.floor(random() * 0x780));
    else if (kind < 0.8) {
      // 3-byte range, excluding surrogates
      let c = 0x800 + Math.floor(random() * (0x10000 - 0x800 - 0x800));
      if (c >= 0xd800) c += 0x800;
      s += String.fromCharCode(c);
    } else if (kind < 0.95) s += String.fromCodePoint(0x10000 + Math.floor(random() * 0x100000));
    else s += String.fromCharCode(0xd800 + Math.floor(random() * 0x800)); // lone surrogate
  }
  return s;
}

describe('murmur2', () => {
  // Kafka's own vectors: clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java,
  // testMurmur2 (the inputs there are "...".getBytes(), i.e. ASCII bytes).
  const kafkaVectors: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];

  it.each(kafkaVectors)('matches Kafka UtilsTest.testMurmur2 for the string %j', (key, expected) => {
    expect(murmur2(key)).toBe(expected);
  });

  it.each(kafkaVectors)('matches Kafka UtilsTest.testMurmur2 for the bytes of %j', (key, expected) => {
    expect(murmur2(new TextEncoder().encode(key))).toBe(expected);
  });

  // Regression: the shared encode buffer used to be read before it was grown, so the first
  // key longer than the buffer hashed stale bytes. Keep this test before any long-key test.
  it('hashes correctly while the shared encode buffer grows', () => {
    for (let length = 50; length <= 4096; length = Math.ceil(length * 1.5)) {
      const s = 'k€😀'.repeat(length).slice(0, length);
      expect(murmur2(s)).toBe(referenceMurmur2(s));
    }
  });

  it('hashes new byte[] {a, b, c} like Kafka', () => {
    expect(murmur2(new Uint8Array([0x61, 0x62, 0x63]))).toBe(479470107);
  });

  it('hashes the empty key (string and bytes) the same way', () => {
    expect(murmur2('')).toBe(referenceMurmur2(new Uint8Array(0)));
    expect(murmur2(new Uint8Array(0))).toBe(275646681);
  });

  it('returns signed 32-bit integers', () => {
    for (const [key] of kafkaVectors) {
      const h = murmur2(key);
      expect(Number.isInteger(h)).toBe(true);
      expect(h).toBe(h | 0);
    }
  });

  it('covers every tail length (0-3 leftover bytes) against the reference', () => {
    for (let length = 0; length <= 16; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 37 + 200) & 0xff);
      expect(murmur2(bytes)).toBe(referenceMurmur2(bytes));
    }
  });

  it('uses bytes >= 0x80 as unsigned, like Java `& 0xff`', () => {
    const bytes = new Uint8Array([0xff, 0x80, 0xfe, 0x81, 0xc3, 0xa9, 0xff]);
    expect(murmur2(bytes)).toBe(referenceMurmur2(bytes));
  });

  it('hashes a subarray view by its own bytes only', () => {
    const backing = new TextEncoder().encode('xxfoobaryy');
    expect(murmur2(backing.subarray(2, 8))).toBe(-790332482);
  });

  describe('UTF-8 encoding of strings', () => {
    const samples = [
      'é', // 2 bytes
      'café',
      '€', // 3 bytes
      'ü€😀x',
      '日本語のキー',
      '😀', // surrogate pair -> 4 bytes
      '🏳️‍🌈', // ZWJ sequence
      'a\u0000b', // NUL is an ordinary byte
      '\u007f\u0080\u07ff\u0800\uffff', // encoding boundaries
      '\u{10000}\u{10ffff}',
    ];

    it.each(samples)('hashes %j over its UTF-8 bytes', (s) => {
      const bytes = new TextEncoder().encode(s);
      expect(murmur2(s)).toBe(murmur2(bytes));
      expect(murmur2(s)).toBe(referenceMurmur2(bytes));
    });

    it('encodes a surrogate pair as one 4-byte code point', () => {
      expect(murmur2('😀')).toBe(murmur2(new Uint8Array([0xf0, 0x9f, 0x98, 0x80])));
    });

    it('encodes lone surrogates as U+FFFD, like TextEncoder', () => {
      const fffd = [0xef, 0xbf, 0xbd];
      expect(murmur2('\ud800')).toBe(murmur2(new Uint8Array(fffd)));
      expect(murmur2('\udc00')).toBe(murmur2(new Uint8Array(fffd)));
      // high surrogate followed by a non-surrogate, and a reversed pair
      expect(murmur2('\ud83dA')).toBe(murmur2(new Uint8Array([...fffd, 0x41])));
      expect(murmur2('\ude00\ud83d')).toBe(murmur2(new Uint8Array([...fffd, ...fffd])));
      // a high surrogate at the very end of the string
      expect(murmur2('ab\ud83d')).toBe(murmur2(new Uint8Array([0x61, 0x62, ...fffd])));
    });

    it('handles long keys (beyond the scratch buffer) the same way', () => {
      for (const length of [4095, 4096, 4097, 10_000, 70_000]) {
        const s = 'k€😀'.repeat(Math.ceil(length / 4)).slice(0, length);
        expect(murmur2(s)).toBe(referenceMurmur2(s));
      }
    });

    it('is not disturbed by a previous longer key in the shared buffer', () => {
      const short = murmur2('foobar');
      murmur2('x'.repeat(3000));
      expect(murmur2('foobar')).toBe(short);
      expect(short).toBe(-790332482);
    });
  });

  it('agrees with the naive reference on thousands of random strings', () => {
    const random = prng(42);
    for (let i = 0; i < 3000; i++) {
      const s = randomString(random, i < 2800 ? 40 : i < 2900 ? 4096 : 6000);
      const expected = referenceMurmur2(s);
      if (murmur2(s) !== expected) {
        throw new Error(`mismatch for ${JSON.stringify(s)}: ${murmur2(s)} !== ${expected}`);
      }
    }
  });

  it('agrees with the naive reference on thousands of random byte arrays', () => {
    const random = prng(7);
    for (let i = 0; i < 3000; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(random() * 100) }, () =>
        Math.floor(random() * 256),
      );
      const expected = referenceMurmur2(bytes);
      if (murmur2(bytes) !== expected) {
        throw new Error(`mismatch for [${bytes.join(',')}]: ${murmur2(bytes)} !== ${expected}`);
      }
    }
  });
});

describe('toPositive', () => {
  it('clears the sign bit, like Kafka Utils.toPositive', () => {
    expect(toPositive(0)).toBe(0);
    expect(toPositive(5)).toBe(5);
    expect(toPositive(2147483647)).toBe(2147483647);
    expect(toPositive(-1)).toBe(2147483647);
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(-790332482)).toBe(1357151166);
  });
});

describe('partitionForKey', () => {
  it('is toPositive(murmur2(key)) % numPartitions', () => {
    // toPositive of the Kafka vectors: "21" -> 1173551340, "foobar" -> 1357151166,
    // "a-little-bit-longer-string" -> 661178819, "abc" -> 479470107.
    expect(partitionForKey('21', 7)).toBe(1173551340 % 7);
    expect(partitionForKey('foobar', 10)).toBe(6);
    expect(partitionForKey('foobar', 12)).toBe(6);
    expect(partitionForKey('a-little-bit-longer-string', 12)).toBe(11);
    expect(partitionForKey('abc', 7)).toBe(4);
    expect(partitionForKey(new Uint8Array([0x61, 0x62, 0x63]), 10)).toBe(7);
    expect(partitionForKey('anything', 1)).toBe(0);
  });

  it('stays within [0, numPartitions)', () => {
    const random = prng(1);
    for (let i = 0; i < 500; i++) {
      const n = 1 + Math.floor(random() * 64);
      const p = partitionForKey(randomString(random, 20), n);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(n);
    }
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses numPartitions = %s with a RangeError naming it',
    (n) => {
      expect(() => partitionForKey('k', n)).toThrow(RangeError);
      expect(() => partitionForKey('k', n)).toThrow(/numPartitions/);
    },
  );
});
