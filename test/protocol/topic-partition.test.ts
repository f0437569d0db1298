import { describe, expect, it } from 'vitest';
import { InvalidPartitionsError, OffsetOutOfRangeError } from '../../src/errors.js';
import { checkNumPartitions, checkPartitionCount, deleteRecordsTarget, tpKey } from '../../src/protocol/topic-partition.js';

describe('topic-partition helpers', () => {
  it('tpKey tells apart topics whose names run into the partition digits', () => {
    expect(tpKey('a1', 0)).not.toBe(tpKey('a', 10));
    expect(tpKey('a', 1)).toBe(tpKey('a', 1));
  });

  it('checkNumPartitions accepts integers >= 1 and names the topic otherwise', () => {
    expect(() => checkNumPartitions('t', 1)).not.toThrow();
    expect(() => checkNumPartitions('t', 10_000)).not.toThrow();
    for (const bad of [0, -1, 1.5, NaN, '2', undefined, 10_001, Infinity]) {
      expect(() => checkNumPartitions('t', bad)).toThrow(InvalidPartitionsError);
    }
    expect(() => checkNumPartitions('orders', 0)).toThrow(/numPartitions of topic "orders"/);
  });

  it('checkPartitionCount only accepts a count that grows the topic', () => {
    expect(() => checkPartitionCount('t', 2, 3)).not.toThrow();
    expect(() => checkPartitionCount('t', 2, 2)).toThrow(InvalidPartitionsError);
    expect(() => checkPartitionCount('t', 2, 1)).toThrow(/above the current 2; got 1/);
    expect(() => checkPartitionCount('t', 2, 2.5)).toThrow(InvalidPartitionsError);
    expect(() => checkPartitionCount('t', 2, 10_000)).not.toThrow();
    expect(() => checkPartitionCount('t', 2, 10_001)).toThrow(/got 10001 \(a topic has at most 10000 partitions\)/);
  });

  it('deleteRecordsTarget maps -1 to the high watermark and refuses offsets outside [low, high]', () => {
    expect(deleteRecordsTarget('t', 0, -1, 3, 9)).toBe(9);
    expect(deleteRecordsTarget('t', 0, 3, 3, 9)).toBe(3);
    expect(deleteRecordsTarget('t', 0, 9, 3, 9)).toBe(9);
    expect(() => deleteRecordsTarget('t', 0, 2, 3, 9)).toThrow(OffsetOutOfRangeError);
    expect(() => deleteRecordsTarget('t', 0, 10, 3, 9)).toThrow(/out of range for t-0 \(low 3, high 9\)/);
  });
});
