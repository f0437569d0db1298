/**
 * KafkaJS-shaped partitioners [pure: page, worker, service worker, Node].
 *
 * A partitioner factory is called once per producer; the partitioner it returns is called once
 * per message and answers the partition number. Precedence, for every partitioner here:
 *   1. `message.partition`, when given, wins (Kafka and KafkaJS do the same).
 *   2. A key (any string or byte array, even empty; `null`/`undefined` mean "no key") picks
 *      `toPositive(murmur2(key)) % partitionMetadata.length`, exactly Kafka's Java default,
 *      so a key lands on the same partition in lanes, KafkaJS and the Java client.
 *   3. Keyless messages are spread: sticky (DefaultPartitioner) or round-robin
 *      (RoundRobinPartitioner), choosing among `partitionMetadata[i].partitionId`.
 *
 * Invariants:
 * - Per-topic state (the sticky partition, the round-robin counter) lives in the closure the
 *   factory returns, so two producers never share it and a fresh producer starts fresh.
 * - A keyless pick is always a partitionId present in the `partitionMetadata` of that call;
 *   if the topic grew or shrank since the last call, the sticky choice is made again.
 * - Bad input is refused with a RangeError that names the field.
 */

import { partitionForKey } from './murmur2.js';

/** What a partitioner is told about one message. Same shape as KafkaJS's partitioner args. */
export interface PartitionerArgs {
  /** Topic the message goes to. */
  topic: string;
  /** One entry per partition of the topic; only `partitionId` is read. */
  partitionMetadata: { partitionId: number }[];
  /** The message being sent; only `key` and `partition` are read. */
  message: { key?: string | Uint8Array | null; partition?: number };
}

/** Picks the partition for one message. */
export type Partitioner = (args: PartitionerArgs) => number;

/** Creates a partitioner; called once per producer (KafkaJS's `createPartitioner` option). */
export type PartitionerFactory = () => Partitioner;

/**
 * A partitioner that keeps sending keyless messages of a topic to one partition until told a
 * batch is complete (Kafka's KIP-480 sticky partitioner). Sticky batching fills fewer, larger
 * batches, which matters here because each batch costs one IndexedDB transaction.
 */
export interface StickyPartitioner extends Partitioner {
  /**
   * Signals that the batch for `topic` is complete: the next keyless message for it goes to a
   * different, randomly chosen partition (when the topic has more than one).
   *
   * As in Kafka's `StickyPartitionCache.nextPartition`, if `previousPartition` is given and the
   * topic has already moved away from it (another batch completed first), nothing changes, so
   * two batches finishing together switch the partition once, not twice.
   */
  onNewBatch(topic: string, previousPartition?: number): void;
}

/** Options for {@link createStickyPartitioner} and {@link createRoundRobinPartitioner}. */
export interface PartitionerOptions {
  /** Source of randomness in [0, 1); defaults to `Math.random`. Inject one for tests. */
  random?: () => number;
}

/**
 * The partition the message decides: its own `partition` (validated), else its key's hash;
 * undefined for a keyless message without one. Also checks `partitionMetadata` is not empty.
 */
function decided(args: PartitionerArgs): number | undefined {
  const { partition: p, key } = args.message;
  // `== null` on purpose: JavaScript callers (KafkaJS code) pass `partition: null` for "none".
  if (p != null) {
    if (!Number.isInteger(p) || p < 0) throw new RangeError(`message.partition must be a non-negative integer, got ${String(p)}`);
    return p;
  }
  const n = args.partitionMetadata.length;
  if (n === 0) throw new RangeError(`partitionMetadata for topic "${args.topic}" must not be empty`);
  return key != null ? partitionForKey(key, n) : undefined;
}

/**
 * Creates a sticky partitioner: explicit partition, else key hash, else the topic's current
 * sticky partition. The sticky partition is chosen at random the first time a topic is seen and
 * changes only when the caller calls `onNewBatch(topic)` (or the topic's partition count
 * changes). Without `onNewBatch` calls, all keyless messages of a topic stay on one partition;
 * the producer is expected to call it whenever it closes a batch for that topic.
 */
export function createStickyPartitioner(options: PartitionerOptions = {}): StickyPartitioner {
  const random = options.random ?? Math.random;
  /**
   * topic -> sticky index into partitionMetadata, the metadata length it was chosen for, and
   * the partitionId last returned for it (what `onNewBatch`'s previousPartition is compared to).
   */
  const sticky = new Map<string, { index: number; count: number; partitionId?: number }>();

  const partitioner = ((args: PartitionerArgs): number => {
    const d = decided(args);
    if (d !== undefined) return d;
    const n = args.partitionMetadata.length;
    let current = sticky.get(args.topic);
    if (current === undefined || current.count !== n) {
      current = { index: Math.floor(random() * n) % n, count: n };
      sticky.set(args.topic, current);
    }
    const partitionId = args.partitionMetadata[current.index]!.partitionId;
    current.partitionId = partitionId;
    return partitionId;
  }) as StickyPartitioner;

  partitioner.onNewBatch = (topic: string, previousPartition?: number): void => {
    const current = sticky.get(topic);
    if (current === undefined) return;
    if (previousPartition !== undefined && current.partitionId !== previousPartition) return;
    if (current.count <= 1) return;
    // Pick uniformly among the other count - 1 partitions, so a switch really switches.
    const step = 1 + (Math.floor(random() * (current.count - 1)) % (current.count - 1));
    sticky.set(topic, { index: (current.index + step) % current.count, count: current.count });
  };

  return partitioner;
}

/**
 * Creates a round-robin partitioner: explicit partition, else key hash (like Kafka's default,
 * so keyed order is kept; Java's RoundRobinPartitioner ignores keys, this one does not), else
 * the topic's next partition in turn. Each topic's counter starts at a random position, as in
 * KafkaJS, so many short-lived producers (tabs) do not all pile onto partition 0.
 */
export function createRoundRobinPartitioner(options: PartitionerOptions = {}): Partitioner {
  const random = options.random ?? Math.random;
  const counters = new Map<string, number>();

  return (args: PartitionerArgs): number => {
    const d = decided(args);
    if (d !== undefined) return d;
    const n = args.partitionMetadata.length;
    let counter = counters.get(args.topic);
    if (counter === undefined) counter = Math.floor(random() * n);
    // Keep the counter small so it never loses integer precision over a long-lived producer.
    counters.set(args.topic, (counter + 1) % 0x7fffffff);
    return args.partitionMetadata[counter % n]!.partitionId;
  };
}

/**
 * Kafka's default partitioning: explicit partition, else murmur2 of the key, else a sticky
 * partition per topic. Returns a {@link StickyPartitioner}; call its `onNewBatch(topic)` when a
 * batch for that topic is complete to move keyless messages to another partition.
 */
export const DefaultPartitioner = (): StickyPartitioner => createStickyPartitioner();

/** Keyless messages take the topic's partitions in turn; keyed ones hash like the default. */
export const RoundRobinPartitioner: PartitionerFactory = () => createRoundRobinPartitioner();

/** The built-in partitioner factories, named as in KafkaJS (`Partitioners.DefaultPartitioner`). */
export const Partitioners = {
  DefaultPartitioner,
  RoundRobinPartitioner,
} as const;
