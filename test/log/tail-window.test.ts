/**
 * The tail window on its own (pure): contiguous windows, the bounds a read must match, and the
 * memory limits (per partition and in all), measured by its stats.
 */
import { describe, expect, it } from 'vitest';
import { TailWindow, type TailBounds } from '../../src/log/tail-window.js';
import type { RecordBatch } from '../../src/protocol/record-batch.js';

function batch(baseOffset: number, count: number, sizeBytes = 100): RecordBatch {
  return {
    topic: 't', partition: 0, baseOffset, lastOffsetDelta: count - 1, count, firstTimestamp: 0, maxTimestamp: 0,
    timestampType: 'CreateTime', logAppendTime: -1, producerId: -1, producerEpoch: 0, baseSequence: -1, crc: 0,
    sizeBytes, payload: new Uint8Array(sizeBytes - 64), segment: 0, cleanedAt: -1,
  };
}

const at = (high: number, o: Partial<TailBounds> = {}): TailBounds => ({ generation: 1, activeBase: 0, low: 0, high, ...o });
const bases = (l: RecordBatch[] | undefined) => l?.map((b) => b.baseOffset);

describe('TailWindow', () => {
  it('answers from the batch holding the offset to the log end', () => {
    const w = new TailWindow();
    w.add('t:0', 1, batch(0, 3));
    w.add('t:0', 1, batch(3, 2));
    w.add('t:0', 1, batch(5, 1));
    expect(bases(w.read('t:0', 0, at(6)))).toEqual([0, 3, 5]);
    expect(bases(w.read('t:0', 4, at(6)))).toEqual([3, 5]);
    expect(bases(w.read('t:0', 5, at(6)))).toEqual([5]);
    expect(w.read('t:0', 6, at(6))).toBeUndefined(); // at the end: nothing to answer
    expect(w.read('t:1', 0, at(6))).toBeUndefined();
    expect(w.hits).toBe(3);
  });

  it('never answers what it does not hold up to the log end, below the low watermark, before the active segment, or for another generation', () => {
    const w = new TailWindow();
    w.add('t:0', 1, batch(10, 5));
    w.add('t:0', 1, batch(15, 5));
    expect(w.read('t:0', 9, at(20))).toBeUndefined(); // before the window: IndexedDB
    expect(w.read('t:0', 12, at(21))).toBeUndefined(); // the log grew past what it holds
    expect(w.read('t:0', 12, at(20, { low: 13 }))).toBeUndefined(); // below the low watermark
    expect(bases(w.read('t:0', 13, at(20, { low: 13 })))).toEqual([10, 15]); // the batch straddling it, as IndexedDB
    expect(w.read('t:0', 12, at(20, { activeBase: 15 }))).toBeUndefined(); // sealed (the cleaner may rewrite it)
    expect(bases(w.read('t:0', 16, at(20, { activeBase: 15 })))).toEqual([15]);
    expect(w.read('t:0', 16, at(20, { generation: 2 }))).toBeUndefined(); // the topic was created again
  });

  it('starts over when a batch does not follow on, or the generation changed', () => {
    const w = new TailWindow();
    w.add('t:0', 1, batch(0, 5));
    w.add('t:0', 1, batch(7, 1)); // a gap: only the new batch stays
    expect(bases(w.read('t:0', 7, at(8)))).toEqual([7]);
    expect(w.read('t:0', 0, at(8))).toBeUndefined();
    w.add('t:0', 2, batch(8, 1));
    expect(w.read('t:0', 7, at(9, { generation: 2 }))).toBeUndefined();
    expect(bases(w.read('t:0', 8, at(9, { generation: 2 })))).toEqual([8]);
    expect(w.stats()).toEqual({ partitions: 1, batches: 1, bytes: 100 });
  });

  it('keeps at most partitionBytes per partition (but always the last batch)', () => {
    const w = new TailWindow({ partitionBytes: 250, totalBytes: 10_000 });
    for (let i = 0; i < 10; i++) w.add('t:0', 1, batch(i, 1));
    expect(w.stats()).toEqual({ partitions: 1, batches: 2, bytes: 200 });
    expect(bases(w.read('t:0', 8, at(10)))).toEqual([8, 9]);
    expect(w.read('t:0', 7, at(10))).toBeUndefined();
    w.add('t:0', 1, batch(10, 1, 1000));
    expect(w.stats()).toEqual({ partitions: 1, batches: 1, bytes: 1000 });
    expect(bases(w.read('t:0', 10, at(11)))).toEqual([10]);
  });

  it('keeps at most totalBytes in all, dropping the partitions appended to least recently', () => {
    const w = new TailWindow({ partitionBytes: 1000, totalBytes: 300 });
    w.add('a:0', 1, batch(0, 1));
    w.add('b:0', 1, batch(0, 1));
    w.add('c:0', 1, batch(0, 1));
    w.add('a:0', 1, batch(1, 1)); // a is now the most recent
    expect(w.stats()).toEqual({ partitions: 2, batches: 3, bytes: 300 });
    expect(w.read('b:0', 0, at(1))).toBeUndefined();
    expect(bases(w.read('c:0', 0, at(1)))).toEqual([0]);
    expect(bases(w.read('a:0', 0, at(2)))).toEqual([0, 1]);
    w.drop('a:0');
    expect(w.stats()).toEqual({ partitions: 1, batches: 1, bytes: 100 });
    w.clear();
    expect(w.stats()).toEqual({ partitions: 0, batches: 0, bytes: 0 });
  });
});
