/**
 * Kafka-compatible murmur2 hashing of record keys [pure: page, worker, service worker, Node].
 *
 * A keyed record must land on the same partition it would in Apache Kafka (and in KafkaJS's
 * `DefaultPartitioner`), so data and consumers can move between lanes and a real cluster
 * without reshuffling keys. That means hashing exactly like the Java client's
 * `org.apache.kafka.common.utils.Utils.murmur2(byte[])`: MurmurHash2, 32-bit, seed
 * 0x9747b28c, little-endian 4-byte blocks, result read as a signed 32-bit int.
 *
 * Invariants:
 * - `murmur2(s) === murmur2(new TextEncoder().encode(s))` for every string `s`, including
 *   strings with lone surrogates (both encode them as U+FFFD, EF BF BD). Java's
 *   `String.getBytes(UTF_8)` writes `?` (0x3F) for a lone surrogate instead, so only for such
 *   malformed strings can a Java producer pick a different partition; well-formed strings hash
 *   identically everywhere.
 * - Results are always in [-2^31, 2^31): every multiplication goes through `Math.imul` and
 *   every shift is `>>>` followed by `| 0`, mirroring Java's wrapping `int` arithmetic.
 * - No allocation per call for string keys up to SCRATCH_LIMIT UTF-16 units: they are encoded
 *   into one module-level buffer that only ever grows (to at most 3 * SCRATCH_LIMIT bytes).
 *   Sharing it is safe because hashing is synchronous and never re-enters itself.
 * - Strings are encoded by protocol/utf8.ts's writeUtf8, the record encoder's, which writes
 *   what TextEncoder writes (a lone surrogate as U+FFFD).
 */

import { maxUtf8Length, writeUtf8 } from '../protocol/utf8.js';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/**
 * Strings up to this many UTF-16 code units are encoded into the shared scratch buffer
 * (3 bytes per code unit is the UTF-8 worst case). Longer keys are rare and get a buffer of
 * their own, so one huge key does not pin a huge buffer for the life of the page.
 */
const SCRATCH_LIMIT = 4096;

let scratch = new Uint8Array(256);

/** MurmurHash2 over `data[0, length)`, as Kafka's `Utils.murmur2`. */
function hashBytes(data: Uint8Array, length: number): number {
  let h = (SEED ^ length) | 0;
  const blocks = length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k =
      (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) | 0;
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  // Java's `switch (length % 4)` falls through 3 -> 2 -> 1 and multiplies once at the end;
  // written as ifs so it also passes `noFallthroughCasesInSwitch`.
  const rest = length & 3;
  if (rest !== 0) {
    if (rest === 3) h ^= data[blocks + 2]! << 16;
    if (rest >= 2) h ^= data[blocks + 1]! << 8;
    h ^= data[blocks]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * Kafka's murmur2 hash of a record key, as the signed 32-bit int the Java client returns.
 * Strings are hashed over their UTF-8 bytes (what Kafka's `StringSerializer` produces and what
 * `TextEncoder` produces), byte arrays as they are.
 *
 * @example murmur2('foobar') === -790332482
 */
export function murmur2(key: string | Uint8Array): number {
  if (typeof key !== 'string') return hashBytes(key, key.length);
  const needed = maxUtf8Length(key);
  let buf = scratch;
  if (buf.length < needed) {
    buf = new Uint8Array(needed);
    if (key.length <= SCRATCH_LIMIT) scratch = buf;
  }
  return hashBytes(buf, writeUtf8(key, buf, 0));
}

/**
 * Kafka's `Utils.toPositive`: clears the sign bit, so a negative hash maps to a non-negative
 * number without the `Math.abs(-2^31)` trap. Not the absolute value: `toPositive(-1)` is
 * 2147483647.
 */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/**
 * The partition Kafka's default partitioner picks for a keyed record:
 * `toPositive(murmur2(key)) % numPartitions`.
 *
 * @throws RangeError if `numPartitions` is not a positive integer.
 */
export function partitionForKey(key: string | Uint8Array, numPartitions: number): number {
  if (!Number.isInteger(numPartitions) || numPartitions <= 0) {
    throw new RangeError(`numPartitions must be a positive integer, got ${String(numPartitions)}`);
  }
  return toPositive(murmur2(key)) % numPartitions;
}
