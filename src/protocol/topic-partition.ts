/**
 * Topic-partition keys and the checks on partition counts and record-deletion offsets, shared
 * by the client (validateOnly paths), the broker and the log so they refuse the same input with
 * the same error [pure].
 */
import { InvalidPartitionsError, OffsetOutOfRangeError } from '../errors.js';

/** The map key of a topic-partition (NUL cannot appear in a topic name). */
export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * The most partitions a topic may have. The broker keeps each partition's state in memory and
 * opens it in one IndexedDB transaction: 100,000 partitions took 35 s and 350 MB to create, and
 * a count of 10^9 ran the broker out of memory.
 */
export const MAX_PARTITIONS = 10_000;

/** Throws InvalidPartitionsError unless `numPartitions` is an integer in [1, MAX_PARTITIONS] (createTopics). */
export function checkNumPartitions(topic: unknown, numPartitions: unknown): asserts numPartitions is number {
  if (!Number.isInteger(numPartitions) || (numPartitions as number) < 1 || (numPartitions as number) > MAX_PARTITIONS) {
    throw new InvalidPartitionsError(`numPartitions of topic ${JSON.stringify(topic)} must be an integer >= 1; got ${String(numPartitions)} (a topic has at most ${MAX_PARTITIONS} partitions)`, { details: { topic, numPartitions } });
  }
}

/** Throws InvalidPartitionsError unless `count` grows a topic of `current` partitions, to at most MAX_PARTITIONS (createPartitions). */
export function checkPartitionCount(topic: string, current: number, count: unknown): asserts count is number {
  if (!Number.isInteger(count) || (count as number) <= current || (count as number) > MAX_PARTITIONS) {
    throw new InvalidPartitionsError(`createPartitions: count for ${JSON.stringify(topic)} must be an integer above the current ${current}; got ${String(count)} (a topic has at most ${MAX_PARTITIONS} partitions)`, { details: { topic, count } });
  }
}

/**
 * The new low watermark of a deleteRecords call (offset -1: the high watermark); throws
 * OffsetOutOfRangeError unless it lies within [low, high].
 */
export function deleteRecordsTarget(topic: string, partition: number, offset: number, low: number, high: number): number {
  const target = offset === -1 ? high : offset;
  if (!Number.isSafeInteger(target) || target < low || target > high) {
    throw new OffsetOutOfRangeError(`deleteRecords offset ${offset} is out of range for ${topic}-${partition} (low ${low}, high ${high})`, { details: { topic, partition, offset, low, high } });
  }
  return target;
}

/** Partitions by topic, as the plain objects of assignments and `owned` lists carry them. */
export type PartitionsByTopic = { [topic: string]: number[] };

/**
 * The partitions of `topic` in a plain object keyed by topic, or undefined: own properties
 * only, so a topic named `constructor` or `toString` never reads Object.prototype's member.
 */
export function partitionsOf(byTopic: Readonly<PartitionsByTopic>, topic: string): number[] | undefined {
  return Object.hasOwn(byTopic, topic) ? byTopic[topic] : undefined;
}

/**
 * Groups topic-partitions into a plain object keyed by topic, in first-seen order, every topic
 * an own data property (built with Object.fromEntries: `obj['__proto__'] = x` would replace the
 * object's prototype instead, and `obj['constructor'] ??= []` would read Object's constructor).
 */
export function groupByTopic(list: Iterable<{ topic: string; partition: number }>): PartitionsByTopic {
  const m = new Map<string, number[]>();
  for (const { topic, partition } of list) {
    const ps = m.get(topic);
    if (ps) ps.push(partition);
    else m.set(topic, [partition]);
  }
  return Object.fromEntries(m);
}
