import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/partitioner/murmur2.js';
import {
  createRoundRobinPartitioner,
  createStickyPartitioner,
  DefaultPartitioner,
  Partitioners,
  RoundRobinPartitioner,
  type Partitioner,
  type PartitionerArgs,
  type PartitionerFactory,
} from '../../src/partitioner/partitioners.js';

function metadata(n: number): { partitionId: number }[] {
  return Array.from({ length: n }, (_, partitionId) => ({ partitionId }));
}

function args(
  topic: string,
  n: number | { partitionId: number }[],
  message: PartitionerArgs['message'] = {},
): PartitionerArgs {
  return { topic, partitionMetadata: typeof n === 'number' ? metadata(n) : n, message };
}

/** Deterministic "random" source that replays the given values in a loop. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

const factories: [string, PartitionerFactory][] = [
  ['DefaultPartitioner', DefaultPartitioner],
  ['RoundRobinPartitioner', RoundRobinPartitioner],
];

describe.each(factories)('%s: shared rules', (_name, factory) => {
  it('returns an explicit message.partition, even over a key', () => {
    const partitioner = factory();
    expect(partitioner(args('t', 6, { partition: 4 }))).toBe(4);
    expect(partitioner(args('t', 6, { partition: 0, key: 'foobar' }))).toBe(0);
    expect(partitioner(args('t', 6, { partition: 5, key: null }))).toBe(5);
  });

  it('returns an explicit partition without needing metadata', () => {
    expect(factory()(args('t', [], { partition: 2 }))).toBe(2);
  });

  it('treats partition: null (as KafkaJS callers send) as no partition', () => {
    const message = { key: 'foobar', partition: null } as unknown as PartitionerArgs['message'];
    expect(factory()(args('t', 12, message))).toBe(6);
  });

  it.each([-1, 1.5, Number.NaN])('refuses message.partition = %s, naming the field', (p) => {
    const partitioner = factory();
    expect(() => partitioner(args('t', 3, { partition: p }))).toThrow(RangeError);
    expect(() => partitioner(args('t', 3, { partition: p }))).toThrow(/message\.partition/);
  });

  it('hashes string keys exactly like Kafka (toPositive(murmur2) % n)', () => {
    const partitioner = factory();
    // From Kafka's murmur2 vectors: "foobar" -> 1357151166, "a-little-bit-longer-string" ->
    // 661178819 after toPositive.
    expect(partitioner(args('t', 12, { key: 'foobar' }))).toBe(6);
    expect(partitioner(args('t', 10, { key: 'foobar' }))).toBe(6);
    expect(partitioner(args('t', 12, { key: 'a-little-bit-longer-string' }))).toBe(11);
    for (const key of ['a', 'user-42', 'ключ', '😀']) {
      expect(partitioner(args('t', 7, { key }))).toBe(partitionForKey(key, 7));
    }
  });

  it('hashes byte-array keys over their bytes', () => {
    const partitioner = factory();
    const key = new Uint8Array([0x61, 0x62, 0x63]);
    expect(partitioner(args('t', 10, { key }))).toBe(7);
    expect(partitioner(args('t', 10, { key: 'abc' }))).toBe(7);
  });

  it('hashes an empty key instead of treating it as keyless', () => {
    const partitioner = factory();
    const expected = partitionForKey('', 5);
    for (let i = 0; i < 20; i++) expect(partitioner(args('t', 5, { key: '' }))).toBe(expected);
    expect(partitioner(args('t', 5, { key: new Uint8Array(0) }))).toBe(expected);
  });

  it('sends the same key to the same partition every time, across partitioner instances', () => {
    const a = factory();
    const b = factory();
    for (let i = 0; i < 50; i++) {
      const key = `key-${i}`;
      expect(a(args('t', 8, { key }))).toBe(b(args('other', 8, { key })));
    }
  });

  it('refuses empty partitionMetadata for keyed and keyless messages, naming the field', () => {
    const partitioner = factory();
    expect(() => partitioner(args('t', 0, { key: 'k' }))).toThrow(/partitionMetadata/);
    expect(() => partitioner(args('t', 0))).toThrow(RangeError);
    expect(() => partitioner(args('t', 0))).toThrow(/partitionMetadata/);
  });

  it('picks keyless partitions among the partitionIds given', () => {
    const partitioner = factory();
    const sparse = [{ partitionId: 3 }, { partitionId: 7 }, { partitionId: 11 }];
    for (let i = 0; i < 30; i++) {
      expect([3, 7, 11]).toContain(partitioner(args('t', sparse)));
    }
  });

  it('spreads keyless messages from many producers over all partitions', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(factory()(args('t', 4)));
    expect([...seen].sort()).toEqual([0, 1, 2, 3]);
  });
});

describe('DefaultPartitioner (sticky for keyless messages)', () => {
  it('keeps keyless messages of a topic on one partition until a new batch', () => {
    const partitioner = DefaultPartitioner();
    const first = partitioner(args('t', 6));
    for (let i = 0; i < 100; i++) expect(partitioner(args('t', 6))).toBe(first);
  });

  it('keyed messages do not move the sticky partition', () => {
    const partitioner = createStickyPartitioner({ random: sequence(0.5) });
    expect(partitioner(args('t', 4))).toBe(2);
    expect(partitioner(args('t', 4, { key: 'foobar' }))).toBe(1357151166 % 4);
    expect(partitioner(args('t', 4))).toBe(2);
  });

  it('chooses the first sticky partition at random', () => {
    expect(createStickyPartitioner({ random: sequence(0) })(args('t', 4))).toBe(0);
    expect(createStickyPartitioner({ random: sequence(0.3) })(args('t', 4))).toBe(1);
    expect(createStickyPartitioner({ random: sequence(0.99) })(args('t', 4))).toBe(3);
    // a random source that returns exactly 1 must not pick a partition out of range
    expect(createStickyPartitioner({ random: sequence(1) })(args('t', 4))).toBe(0);
  });

  it('keeps one sticky partition per topic', () => {
    const partitioner = createStickyPartitioner({ random: sequence(0, 0.5) });
    expect(partitioner(args('a', 4))).toBe(0);
    expect(partitioner(args('b', 4))).toBe(2);
    expect(partitioner(args('a', 4))).toBe(0);
    partitioner.onNewBatch('a');
    expect(partitioner(args('b', 4))).toBe(2);
  });

  it('switches to a different partition on onNewBatch', () => {
    const partitioner = DefaultPartitioner();
    let current = partitioner(args('t', 5));
    for (let i = 0; i < 100; i++) {
      partitioner.onNewBatch('t');
      const next = partitioner(args('t', 5));
      expect(next).not.toBe(current);
      expect(partitioner(args('t', 5))).toBe(next);
      current = next;
    }
  });

  it('visits every partition over many batches', () => {
    const partitioner = DefaultPartitioner();
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      seen.add(partitioner(args('t', 5)));
      partitioner.onNewBatch('t');
    }
    expect(seen.size).toBe(5);
  });

  it('switches only once when two batches of the same partition complete (previousPartition)', () => {
    const partitioner = createStickyPartitioner({ random: sequence(0, 0) });
    const first = partitioner(args('t', 4));
    expect(first).toBe(0);
    partitioner.onNewBatch('t', first);
    const second = partitioner(args('t', 4));
    expect(second).toBe(1);
    // a late signal for the batch of the old partition must not move it again
    partitioner.onNewBatch('t', first);
    expect(partitioner(args('t', 4))).toBe(second);
    // a signal for the current partition does
    partitioner.onNewBatch('t', second);
    expect(partitioner(args('t', 4))).not.toBe(second);
  });

  it('stays on the only partition of a single-partition topic', () => {
    const partitioner = DefaultPartitioner();
    expect(partitioner(args('t', 1))).toBe(0);
    partitioner.onNewBatch('t');
    expect(partitioner(args('t', 1))).toBe(0);
  });

  it('ignores onNewBatch for a topic it has not seen', () => {
    const partitioner = createStickyPartitioner({ random: sequence(0.5) });
    partitioner.onNewBatch('never');
    expect(partitioner(args('never', 4))).toBe(2);
  });

  it('chooses again when the partition count changes', () => {
    const partitioner = createStickyPartitioner({ random: sequence(0.9, 0.1) });
    expect(partitioner(args('t', 10))).toBe(9);
    // the topic shrank (recreated): partition 9 no longer exists
    expect(partitioner(args('t', 3))).toBe(0);
    expect(partitioner(args('t', 3))).toBe(0);
  });

  it('does not share sticky state between producers', () => {
    const a = createStickyPartitioner({ random: sequence(0) });
    const b = createStickyPartitioner({ random: sequence(0.75) });
    expect(a(args('t', 4))).toBe(0);
    expect(b(args('t', 4))).toBe(3);
    a.onNewBatch('t');
    expect(b(args('t', 4))).toBe(3);
  });
});

describe('RoundRobinPartitioner', () => {
  it('cycles keyless messages over every partition in order', () => {
    const partitioner = createRoundRobinPartitioner({ random: sequence(0) });
    const picks = Array.from({ length: 8 }, () => partitioner(args('t', 3)));
    expect(picks).toEqual([0, 1, 2, 0, 1, 2, 0, 1]);
  });

  it('starts each topic at a random partition', () => {
    const partitioner = createRoundRobinPartitioner({ random: sequence(0.5, 0.8) });
    expect(partitioner(args('a', 4))).toBe(2);
    expect(partitioner(args('b', 5))).toBe(4);
    expect(partitioner(args('a', 4))).toBe(3);
    expect(partitioner(args('b', 5))).toBe(0);
    expect(partitioner(args('a', 4))).toBe(0);
  });

  it('keeps a separate counter per topic', () => {
    const partitioner = createRoundRobinPartitioner({ random: sequence(0) });
    expect(partitioner(args('a', 3))).toBe(0);
    expect(partitioner(args('a', 3))).toBe(1);
    expect(partitioner(args('b', 3))).toBe(0);
    expect(partitioner(args('a', 3))).toBe(2);
  });

  it('keyed and explicit messages do not advance the counter', () => {
    const partitioner = createRoundRobinPartitioner({ random: sequence(0) });
    expect(partitioner(args('t', 3))).toBe(0);
    partitioner(args('t', 3, { key: 'k' }));
    partitioner(args('t', 3, { partition: 2 }));
    expect(partitioner(args('t', 3))).toBe(1);
  });

  it('distributes evenly', () => {
    const partitioner = RoundRobinPartitioner();
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 500; i++) counts[partitioner(args('t', 5))]!++;
    expect(counts).toEqual([100, 100, 100, 100, 100]);
  });

  it('uses the partitionIds of the metadata', () => {
    const partitioner = createRoundRobinPartitioner({ random: sequence(0) });
    const sparse = [{ partitionId: 10 }, { partitionId: 20 }];
    expect([partitioner(args('t', sparse)), partitioner(args('t', sparse))]).toEqual([10, 20]);
  });
});

describe('Partitioners', () => {
  it('exposes the factories under their KafkaJS names', () => {
    expect(Partitioners.DefaultPartitioner).toBe(DefaultPartitioner);
    expect(Partitioners.RoundRobinPartitioner).toBe(RoundRobinPartitioner);
  });

  it('each factory call creates an independent partitioner function', () => {
    const factory: PartitionerFactory = Partitioners.DefaultPartitioner;
    const a: Partitioner = factory();
    const b: Partitioner = factory();
    expect(a).not.toBe(b);
    expect(typeof a).toBe('function');
  });
});
