import { afterEach, describe, expect, it } from 'vitest';
import { OffsetOutOfRangeError } from '../../src/errors.js';
import { Appender } from '../../src/log/appender.js';
import type { Broker } from '../../src/broker/broker.js';
import { readAll, recorder, rejection, setup } from '../client/helpers.js';
import { append, brokerOver, fakeClock, openStore, readAllFrom } from './log-helpers.js';

type Env = Awaited<ReturnType<typeof setup>>;
let env: Env | undefined;
const cleanups: (() => void)[] = [];
const open = async (...a: Parameters<typeof setup>) => (env = await setup(...a));
afterEach(async () => {
  await env?.close();
  env = undefined;
  for (const c of cleanups.splice(0)) c();
});

const EACH_BATCH_OWN_SEGMENT = { name: 'segment.bytes', value: '1' };

async function fetchError(broker: Broker, topic: string, offset: number) {
  const [r] = await broker.fetch({ partitions: [{ topic, partition: 0, offset }], maxWaitMs: 0, maxBytes: 1 << 20, maxBytesPerPartition: 1 << 20 });
  return r!.error?.code;
}

/** A store and broker with a clock the test moves; closed after the test. */
async function clocked() {
  const clock = fakeClock();
  const { store } = await openStore({ now: clock.now });
  const broker = await brokerOver(store);
  cleanups.push(() => broker.close());
  const appender = new Appender(store);
  return { clock, store, broker, appender };
}

describe('segments', () => {
  it('segment.bytes rolls the active segment; segments are contiguous and only the last is active', async () => {
    const { admin, producer } = await open();
    await admin.createTopics({ topics: [{ topic: 's', configEntries: [{ name: 'segment.bytes', value: '400' }] }] });
    for (let i = 0; i < 12; i++) await producer.send({ topic: 's', messages: [{ value: 'x'.repeat(100) + i }] });
    const segs = await admin.describeSegments({ topic: 's', partition: 0 });
    expect(segs.length).toBeGreaterThanOrEqual(4);
    expect(segs[0]!.baseOffset).toBe(0);
    expect(segs.at(-1)!.nextOffset).toBe(12);
    for (let i = 0; i + 1 < segs.length; i++) {
      expect(segs[i]!.nextOffset).toBe(segs[i + 1]!.baseOffset);
      expect(segs[i]!.sealed).toBe(true);
      expect(segs[i]!.sizeBytes).toBeLessThanOrEqual(400);
    }
    expect(segs.at(-1)!.sealed).toBe(false);
    expect(segs.reduce((n, s) => n + s.recordCount, 0)).toBe(12);
    expect(segs.every((s) => s.version === 0 && s.topic === 's' && s.partition === 0)).toBe(true);
  });

  it('a batch larger than segment.bytes is kept whole in a segment of its own', async () => {
    const { admin, producer, broker } = await open();
    await admin.createTopics({ topics: [{ topic: 's', configEntries: [{ name: 'segment.bytes', value: '100' }] }] });
    await producer.send({ topic: 's', messages: [{ value: 'a' }] });
    await producer.send({ topic: 's', messages: Array.from({ length: 5 }, (_, i) => ({ value: 'y'.repeat(60) + i })) });
    await producer.send({ topic: 's', messages: [{ value: 'b' }] });
    const segs = await admin.describeSegments({ topic: 's', partition: 0 });
    expect(segs.map((s) => [s.baseOffset, s.nextOffset, s.recordCount])).toEqual([[0, 1, 1], [1, 6, 5], [6, 7, 1]]);
    expect((await readAll(broker, 's', 0)).map((m) => m.offset)).toEqual(['0', '1', '2', '3', '4', '5', '6']);
  });

  it('sealed segments never change under appends and cleaner runs, except by compaction (which bumps version)', async () => {
    const { admin, producer, broker } = await open();
    await admin.createTopics({ topics: [{ topic: 's', configEntries: [EACH_BATCH_OWN_SEGMENT, { name: 'cleanup.policy', value: 'compact,delete' }] }] });
    for (const key of ['a', 'b', 'c']) await producer.send({ topic: 's', messages: [{ key, value: `${key}1` }] });
    const before = (await admin.describeSegments({ topic: 's', partition: 0 })).filter((s) => s.sealed);
    const recordsBefore = await readAll(broker, 's', 0);
    expect(before.map((s) => s.baseOffset)).toEqual([0, 1]);
    await producer.send({ topic: 's', messages: [{ key: 'd', value: 'd1' }] });
    await admin.runLogCleaner({ topics: ['s'] });
    const after = await admin.describeSegments({ topic: 's', partition: 0 });
    expect(after.filter((s) => s.baseOffset < 2)).toEqual(before);
    expect((await readAll(broker, 's', 0)).slice(0, 3)).toEqual(recordsBefore);
    // Superseding key a rewrites only segment 0.
    await producer.send({ topic: 's', messages: [{ key: 'a', value: 'a2' }] });
    await admin.runLogCleaner({ topics: ['s'] });
    const compacted = await admin.describeSegments({ topic: 's', partition: 0 });
    expect(compacted.find((s) => s.baseOffset === 0)).toMatchObject({ version: 1, recordCount: 0 });
    expect(compacted.find((s) => s.baseOffset === 1)).toEqual(before[1]);
  });
});

describe('retention', () => {
  it('retention.bytes deletes whole oldest sealed segments and moves the low watermark', async () => {
    const { admin, producer, broker, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 'r', configEntries: [EACH_BATCH_OWN_SEGMENT] }] });
    for (let i = 0; i < 6; i++) await producer.send({ topic: 'r', messages: [{ value: 'v'.repeat(50) + i }] });
    const segs = await admin.describeSegments({ topic: 'r', partition: 0 });
    expect(segs).toHaveLength(6);
    const size = segs[0]!.sizeBytes;
    // Keep about three segments' worth.
    await admin.alterConfigs({ resources: [{ name: 'r', configEntries: [{ name: 'retention.bytes', value: String(size * 3) }] }] });
    const stats = await admin.runLogCleaner({ topics: ['r'] });
    expect(stats.segmentsDeleted).toBe(3);
    expect((await admin.describeSegments({ topic: 'r', partition: 0 })).map((s) => s.baseOffset)).toEqual([3, 4, 5]);
    expect(await offsets('r')).toEqual([{ partition: 0, low: 3, high: 6 }]);
    expect(await fetchError(broker, 'r', 2)).toBe('OFFSET_OUT_OF_RANGE');
    expect((await readAll(broker, 'r', 0, 3)).map((m) => m.offset)).toEqual(['3', '4', '5']);
    // The active segment is never deleted, whatever the limit.
    await admin.alterConfigs({ resources: [{ name: 'r', configEntries: [{ name: 'retention.bytes', value: '0' }] }] });
    await admin.runLogCleaner({ topics: ['r'] });
    expect(await offsets('r')).toEqual([{ partition: 0, low: 5, high: 6 }]);
    expect((await readAll(broker, 'r', 0, 5)).map((m) => m.offset)).toEqual(['5']);
  });

  it('a consumer from "earliest" starts at the moved low watermark', async () => {
    const { admin, producer } = await open();
    await admin.createTopics({ topics: [{ topic: 'r', configEntries: [EACH_BATCH_OWN_SEGMENT, { name: 'retention.bytes', value: '0' }] }] });
    for (let i = 0; i < 4; i++) await producer.send({ topic: 'r', messages: [{ value: String(i) }] });
    await admin.runLogCleaner({ topics: ['r'] });
    const c = await env!.consumer();
    c.assign([{ topic: 'r', partition: 0, offset: 'earliest' }]);
    const rec = recorder();
    await c.run({ eachMessage: rec.eachMessage });
    expect((await rec.until(1)).map((m) => [m.offset, m.value])).toEqual([['3', '3']]);
  });

  it('retention.ms deletes sealed segments whose newest record is older, oldest first, with an injected clock', async () => {
    const { clock, store, broker, appender } = await clocked();
    await store.createTopic('r', 1, [EACH_BATCH_OWN_SEGMENT, { name: 'retention.ms', value: '1000' }]);
    const t0 = clock.t;
    await appender.append(append('r', 0, [{ value: 'old-0' }], { now: t0 - 500 }));
    await appender.append(append('r', 0, [{ value: 'old-1' }], { now: t0 - 400 }));
    await appender.append(append('r', 0, [{ value: 'newer' }], { now: t0 + 800 }));
    await appender.append(append('r', 0, [{ value: 'old-but-after' }], { now: t0 - 300 }));
    await appender.append(append('r', 0, [{ value: 'active' }], { now: t0 - 1000 }));
    clock.t = t0 + 500; // nothing is older than 1000 ms yet
    expect((await broker.runLogCleaner(['r'])).segmentsDeleted).toBe(0);
    clock.t = t0 + 1000; // old-0 and old-1 are now more than 1000 ms old; "newer" is not
    const stats = await broker.runLogCleaner(['r']);
    expect(stats.segmentsDeleted).toBe(2);
    expect(store.watermarks('r', 0)).toEqual({ low: 2, high: 5 });
    // The expired segment after a live one stays, and so does the (expired) active segment.
    expect((await readAllFrom(store, 'r', 0)).map((m) => m.value)).toEqual(['newer', 'old-but-after', 'active']);
    expect(await fetchError(broker, 'r', 1)).toBe('OFFSET_OUT_OF_RANGE');
  });

  it('seals an active segment older than segment.ms so retention can reach it; offsets continue after', async () => {
    const { clock, store, broker, appender } = await clocked();
    await store.createTopic('r', 1, [{ name: 'retention.ms', value: '1000' }, { name: 'segment.ms', value: '60000' }]);
    const t0 = clock.t;
    await appender.append(append('r', 0, [{ value: 'a' }, { value: 'b' }], { now: t0 }));
    clock.t = t0 + 30_000;
    expect(await broker.runLogCleaner(['r'])).toMatchObject({ segmentsSealed: 0, segmentsDeleted: 0 });
    clock.t = t0 + 60_000;
    expect(await broker.runLogCleaner(['r'])).toMatchObject({ segmentsSealed: 1, segmentsDeleted: 1 });
    expect(store.watermarks('r', 0)).toEqual({ low: 2, high: 2 });
    const [r] = await appender.append(append('r', 0, [{ value: 'c' }], { now: clock.t }));
    expect(r!.baseOffset).toBe(2);
    expect((await readAllFrom(store, 'r', 0)).map((m) => [m.offset, m.value])).toEqual([['2', 'c']]);
  });

  it('retention.ms=-1 and retention.bytes=-1 keep everything', async () => {
    const { clock, store, broker, appender } = await clocked();
    await store.createTopic('r', 1, [EACH_BATCH_OWN_SEGMENT, { name: 'retention.ms', value: '-1' }]);
    for (let i = 0; i < 3; i++) await appender.append(append('r', 0, [{ value: String(i) }], { now: 1 }));
    clock.t += 10 * 365 * 24 * 3600 * 1000;
    await broker.runLogCleaner(['r']);
    expect(store.watermarks('r', 0)).toEqual({ low: 0, high: 3 });
  });

  it('a compact-only topic is not subject to retention', async () => {
    const { clock, store, broker, appender } = await clocked();
    await store.createTopic('r', 1, [EACH_BATCH_OWN_SEGMENT, { name: 'cleanup.policy', value: 'compact' }, { name: 'retention.ms', value: '1' }, { name: 'retention.bytes', value: '0' }]);
    for (const key of ['a', 'b', 'c']) await appender.append(append('r', 0, [{ key, value: key }], { now: 1 }));
    clock.t += 1_000_000;
    await broker.runLogCleaner(['r']);
    expect((await readAllFrom(store, 'r', 0)).map((m) => m.key)).toEqual(['a', 'b', 'c']);
  });
});

describe('deleteRecords', () => {
  it('moves the low watermark; reads below it fail and a consumer starts there', async () => {
    const { admin, producer, broker, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 'd' }] });
    await producer.send({ topic: 'd', messages: ['a', 'b', 'c'].map((value) => ({ value })) });
    await producer.send({ topic: 'd', messages: ['d', 'e'].map((value) => ({ value })) });
    await admin.deleteTopicRecords({ topic: 'd', partitions: [{ partition: 0, offset: '2' }] });
    expect(await offsets('d')).toEqual([{ partition: 0, low: 2, high: 5 }]);
    expect(await fetchError(broker, 'd', 0)).toBe('OFFSET_OUT_OF_RANGE');
    expect(await fetchError(broker, 'd', 1)).toBe('OFFSET_OUT_OF_RANGE');
    // The batch holding offsets 0-2 straddles the new start: offset 2 is still readable.
    expect((await readAll(broker, 'd', 0, 2)).map((m) => m.value)).toEqual(['c', 'd', 'e']);
    const c = await env!.consumer();
    c.assign([{ topic: 'd', partition: 0, offset: 'earliest' }]);
    const rec = recorder();
    await c.run({ eachMessage: rec.eachMessage });
    expect((await rec.until(3)).map((m) => m.offset)).toEqual(['2', '3', '4']);
  });

  it('deleteRecords (Kafka\'s name) with offset -1 empties the partition; offsets go on from the end', async () => {
    const { admin, producer, broker, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 'd', numPartitions: 2 }] });
    await producer.send({ topic: 'd', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }, { value: 'x', partition: 1 }] });
    await admin.deleteRecords({ topic: 'd', partitions: [{ partition: 0, offset: '-1' }] });
    expect(await offsets('d')).toEqual([{ partition: 0, low: 2, high: 2 }, { partition: 1, low: 0, high: 1 }]);
    expect(await readAll(broker, 'd', 0, 2)).toEqual([]);
    expect((await producer.send({ topic: 'd', messages: [{ value: 'c', partition: 0 }] }))[0]!.baseOffset).toBe('2');
    expect((await readAll(broker, 'd', 0, 2)).map((m) => m.value)).toEqual(['c']);
  });

  it('refuses an offset past the high watermark or below the low one; the low watermark never goes back', async () => {
    const { admin, producer, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 'd' }] });
    await producer.send({ topic: 'd', messages: ['a', 'b', 'c'].map((value) => ({ value })) });
    await admin.deleteRecords({ topic: 'd', partitions: [{ partition: 0, offset: '2' }] });
    for (const offset of ['4', '1']) {
      expect(await rejection(admin.deleteRecords({ topic: 'd', partitions: [{ partition: 0, offset }] }))).toBeInstanceOf(OffsetOutOfRangeError);
    }
    expect(await rejection(admin.deleteRecords({ topic: 'd', partitions: [{ partition: 0, offset: 'x' }] }))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await offsets('d')).toEqual([{ partition: 0, low: 2, high: 3 }]);
  });

  it('segments wholly below the low watermark go at the next cleaner run', async () => {
    const { admin, producer } = await open();
    await admin.createTopics({ topics: [{ topic: 'd', configEntries: [EACH_BATCH_OWN_SEGMENT] }] });
    for (let i = 0; i < 5; i++) await producer.send({ topic: 'd', messages: [{ value: String(i) }] });
    await admin.deleteRecords({ topic: 'd', partitions: [{ partition: 0, offset: '3' }] });
    const stats = await admin.runLogCleaner({ topics: ['d'] });
    expect(stats.segmentsDeleted).toBe(3);
    expect((await admin.describeSegments({ topic: 'd', partition: 0 })).map((s) => s.baseOffset)).toEqual([3, 4]);
  });
});

describe('compaction', () => {
  async function compactTopic(e: Env, extra: { name: string; value: string }[] = []) {
    await e.admin.createTopics({ topics: [{ topic: 'c', configEntries: [{ name: 'cleanup.policy', value: 'compact' }, EACH_BATCH_OWN_SEGMENT, ...extra] }] });
  }

  it('keys 0,1,0,1,0 at offsets 0-4 compact to offsets [3, 4]; reads at removed offsets start at the next survivor; high stays 5', async () => {
    const e = await open();
    await compactTopic(e);
    const keys = ['0', '1', '0', '1', '0'];
    for (let i = 0; i < keys.length; i++) {
      const [r] = await e.producer.send({ topic: 'c', messages: [{ key: keys[i]!, value: `v${i}` }] });
      expect(r!.baseOffset).toBe(String(i));
    }
    const stats = await e.admin.runLogCleaner({ topics: ['c'] });
    expect(stats.recordsRemoved).toBe(3);
    expect(await e.offsets('c')).toEqual([{ partition: 0, low: 0, high: 5 }]);

    const all = await e.consumer();
    all.assign([{ topic: 'c', partition: 0, offset: 0 }]);
    const rAll = recorder();
    await all.run({ eachMessage: rAll.eachMessage });
    const fromOne = await e.consumer();
    fromOne.assign([{ topic: 'c', partition: 0, offset: 1 }]);
    const rOne = recorder();
    await fromOne.run({ eachMessage: rOne.eachMessage });
    await rAll.until(2);
    await rOne.until(2);
    // A marker record after them shows nothing else was coming.
    await e.producer.send({ topic: 'c', messages: [{ key: 'marker', value: 'm' }] });
    await rAll.until(3);
    await rOne.until(3);
    expect(rAll.got.map((m) => [m.offset, m.key, m.value])).toEqual([['3', '1', 'v3'], ['4', '0', 'v4'], ['5', 'marker', 'm']]);
    expect(rOne.offsets()).toEqual([3, 4, 5]);
    const segs = await e.admin.describeSegments({ topic: 'c', partition: 0 });
    expect(segs.filter((s) => s.baseOffset <= 2).map((s) => [s.recordCount, s.version])).toEqual([[0, 1], [0, 1], [0, 1]]);
  });

  it('keeps offsets and the latest value per key inside one batch, across many segments', async () => {
    const e = await open();
    await compactTopic(e);
    await e.producer.send({ topic: 'c', messages: [{ key: 'a', value: 1 }, { key: 'b', value: 1 }, { key: 'a', value: 2 }, { value: 'keyless' }, { key: 'c', value: 1 }] });
    await e.producer.send({ topic: 'c', messages: [{ key: 'b', value: 2 }] });
    await e.producer.send({ topic: 'c', messages: [{ key: 'z', value: 0 }] }); // keeps the rest sealed
    await e.admin.runLogCleaner({ topics: ['c'] });
    expect((await readAll(e.broker, 'c', 0)).map((m) => [m.offset, m.key, m.value])).toEqual([
      ['2', 'a', 2], ['3', null, 'keyless'], ['4', 'c', 1], ['5', 'b', 2], ['6', 'z', 0],
    ]);
    // A second run finds nothing more to do.
    expect(await e.admin.runLogCleaner({ topics: ['c'] })).toMatchObject({ segmentsCompacted: 0, recordsRemoved: 0 });
  });

  it('never compacts the active segment', async () => {
    const e = await open();
    await e.admin.createTopics({ topics: [{ topic: 'c', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    for (let i = 0; i < 3; i++) await e.producer.send({ topic: 'c', messages: [{ key: 'k', value: i }] });
    await e.admin.runLogCleaner({ topics: ['c'] });
    expect((await readAll(e.broker, 'c', 0)).map((m) => m.value)).toEqual([0, 1, 2]);
  });

  it('a tombstone removes earlier records of its key and goes itself delete.retention.ms after the cleaner first processed it', async () => {
    const { clock, store, broker, appender } = await clocked();
    await store.createTopic('c', 1, [{ name: 'cleanup.policy', value: 'compact' }, EACH_BATCH_OWN_SEGMENT, { name: 'delete.retention.ms', value: '1000' }]);
    await appender.append(append('c', 0, [{ key: 'a', value: 'a1' }]));
    await appender.append(append('c', 0, [{ key: 'b', value: 'b1' }]));
    await appender.append(append('c', 0, [{ key: 'a', value: null }]));
    await appender.append(append('c', 0, [{ key: 'c', value: 'c1' }])); // seals the tombstone's segment
    const values = async () => (await readAllFrom(store, 'c', 0)).map((m) => `${m.offset}:${m.key}=${m.value}`);

    // Time passes before the cleaner first sees the tombstone: that does not count.
    clock.t += 5000;
    const first = await broker.runLogCleaner(['c']);
    expect(first).toMatchObject({ recordsRemoved: 1, tombstonesRemoved: 0 });
    expect(await values()).toEqual(['1:b=b1', '2:a=null', '3:c=c1']);

    clock.t += 999;
    expect(await broker.runLogCleaner(['c'])).toMatchObject({ tombstonesRemoved: 0 });
    expect(await values()).toEqual(['1:b=b1', '2:a=null', '3:c=c1']);

    clock.t += 1;
    expect(await broker.runLogCleaner(['c'])).toMatchObject({ tombstonesRemoved: 1 });
    expect(await values()).toEqual(['1:b=b1', '3:c=c1']);
    expect(store.watermarks('c', 0)).toEqual({ low: 0, high: 4 });
    // A read at the tombstone's old offset starts at the next survivor.
    expect((await readAllFrom(store, 'c', 0, 2)).map((m) => m.offset)).toEqual(['3']);
  });

  it('a run that finds the log as the last one left it reads nothing, until it grows or a tombstone falls due', async () => {
    const { clock, store, broker, appender } = await clocked();
    await store.createTopic('c', 1, [{ name: 'cleanup.policy', value: 'compact' }, EACH_BATCH_OWN_SEGMENT, { name: 'delete.retention.ms', value: '1000' }]);
    for (const [key, value] of [['a', 'a1'], ['b', 'b1'], ['a', null], ['c', 'c1']] as const) await appender.append(append('c', 0, [{ key, value }]));
    let reads = 0;
    const readBatches = store.readBatches.bind(store);
    store.readBatches = (...a: Parameters<typeof store.readBatches>) => { reads++; return readBatches(...a); };
    expect(await broker.runLogCleaner(['c'])).toMatchObject({ recordsRemoved: 1 });
    expect(reads).toBeGreaterThan(0);
    reads = 0;
    expect(await broker.runLogCleaner(['c'])).toMatchObject({ segmentsCompacted: 0, recordsRemoved: 0 });
    expect(reads).toBe(0); // nothing changed, no tombstone due: skipped
    await appender.append(append('c', 0, [{ key: 'b', value: 'b2' }]));
    expect(await broker.runLogCleaner(['c'])).toMatchObject({ recordsRemoved: 1 }); // b1 superseded
    expect(reads).toBeGreaterThan(0);
    reads = 0;
    await broker.runLogCleaner(['c']);
    expect(reads).toBe(0);
    clock.t += 1000; // the tombstone of a falls due
    expect(await broker.runLogCleaner(['c'])).toMatchObject({ tombstonesRemoved: 1 });
    expect((await readAllFrom(store, 'c', 0)).map((m) => `${m.key}=${m.value}`)).toEqual(['c=c1', 'b=b2']);
  });

  it('a later record of the key supersedes a tombstone before its time is up', async () => {
    const { clock, store, broker, appender } = await clocked();
    await store.createTopic('c', 1, [{ name: 'cleanup.policy', value: 'compact' }, EACH_BATCH_OWN_SEGMENT, { name: 'delete.retention.ms', value: '100000' }]);
    await appender.append(append('c', 0, [{ key: 'a', value: 'a1' }]));
    await appender.append(append('c', 0, [{ key: 'a', value: null }]));
    await appender.append(append('c', 0, [{ key: 'a', value: 'a2' }]));
    await appender.append(append('c', 0, [{ key: 'x', value: 'x' }]));
    clock.t += 1;
    await broker.runLogCleaner(['c']);
    expect((await readAllFrom(store, 'c', 0)).map((m) => `${m.offset}:${m.value}`)).toEqual(['2:a2', '3:x']);
  });

  it('compact,delete also applies retention', async () => {
    const e = await open();
    await compactTopic(e, [{ name: 'cleanup.policy', value: 'compact,delete' }, { name: 'retention.bytes', value: '0' }]);
    for (const key of ['a', 'b', 'a']) await e.producer.send({ topic: 'c', messages: [{ key, value: key }] });
    await e.admin.runLogCleaner({ topics: ['c'] });
    expect(await e.offsets('c')).toEqual([{ partition: 0, low: 2, high: 3 }]);
  });
});

describe('fetchTopicOffsetsByTimestamp', () => {
  it('answers the first offset with a timestamp at or after the time, or the high watermark', async () => {
    const { admin, producer } = await open();
    await admin.createTopics({ topics: [{ topic: 'ts', numPartitions: 2 }] });
    await producer.send({ topic: 'ts', messages: [100, 200, 300].map((timestamp, i) => ({ value: String(i), timestamp, partition: 0 })) });
    await producer.send({ topic: 'ts', messages: [{ value: 'late', timestamp: 150, partition: 0 }, { value: 'p1', timestamp: 500, partition: 1 }] });
    const at = async (t: number) => (await admin.fetchTopicOffsetsByTimestamp('ts', t)).map((r) => r.offset);
    expect(await at(0)).toEqual(['0', '0']);
    expect(await at(100)).toEqual(['0', '0']);
    expect(await at(101)).toEqual(['1', '0']);
    expect(await at(250)).toEqual(['2', '0']);
    expect(await at(301)).toEqual(['4', '0']);
    expect(await at(501)).toEqual(['4', '1']);
    expect((await admin.fetchTopicOffsetsByTimestamp('ts', 0)).map((r) => r.partition)).toEqual([0, 1]);
  });

  it('never answers below the low watermark', async () => {
    const { admin, producer } = await open();
    await admin.createTopics({ topics: [{ topic: 'ts' }] });
    await producer.send({ topic: 'ts', messages: [10, 20, 30, 40].map((timestamp) => ({ value: 'v', timestamp })) });
    await admin.deleteRecords({ topic: 'ts', partitions: [{ partition: 0, offset: '2' }] });
    expect(await admin.fetchTopicOffsetsByTimestamp('ts', 15)).toEqual([{ partition: 0, offset: '2' }]);
    expect(await admin.fetchTopicOffsetsByTimestamp('ts', 35)).toEqual([{ partition: 0, offset: '3' }]);
  });

  it('uses the append time on LogAppendTime topics', async () => {
    const { clock, store, broker, appender } = await clocked();
    await store.createTopic('ts', 1, [{ name: 'message.timestamp.type', value: 'LogAppendTime' }, EACH_BATCH_OWN_SEGMENT]);
    const t0 = clock.t;
    await appender.append(append('ts', 0, [{ value: 'a', timestamp: 1 }]));
    clock.t = t0 + 1000;
    await appender.append(append('ts', 0, [{ value: 'b', timestamp: 1 }]));
    expect(await broker.offsetsForTimestamp('ts', t0 + 1)).toEqual([{ partition: 0, offset: 1 }]);
    expect(await broker.offsetsForTimestamp('ts', t0)).toEqual([{ partition: 0, offset: 0 }]);
    expect(await broker.offsetsForTimestamp('ts', t0 + 1001)).toEqual([{ partition: 0, offset: 2 }]);
  });
});
