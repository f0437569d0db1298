/**
 * A lazy LogStore (the broker's) opens with topics and the producer-id counter only and loads a
 * partition's row and segments on first use, and a producer's state when that producer first
 * appends to a partition: watermarks, sealed segments, producer deduplication, sequence checks
 * and fencing come out exactly as an eager open reads them, appends to a partition not yet
 * loaded land after its existing records, and a topic deleted while its partitions load leaves
 * no partition state behind.
 */
import { IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { Appender } from '../../src/log/appender.js';
import { LogStore } from '../../src/log/log-store.js';
import { InvalidProducerEpochError, OutOfOrderSequenceError, StorageError, TopicNotFoundError } from '../../src/errors.js';
import { openLogDb, S } from '../../src/log/log-db.js';
import { append, openStore, readAllFrom } from './log-helpers.js';

async function seeded() {
  const { store, factory, name } = await openStore();
  await store.createTopic('big', 2, [{ name: 'segment.bytes', value: '1' }]);
  await store.createTopic('other', 3);
  const app = new Appender(store);
  const { producerId } = await store.initProducerId();
  for (let i = 0; i < 5; i++) await app.append(append('big', 0, [{ value: `v${i}` }], { producerId, seq: i }));
  await app.append(append('other', 2, [{ value: 'x' }]));
  const eager = { big0: store.partition('big', 0), other2: store.watermarks('other', 2) };
  store.close();
  return { factory, name, producerId, eager };
}

const lazyOpen = (factory: IDBFactory, name: string) => LogStore.open({ indexedDB: factory, IDBKeyRange, name, lazy: true });

describe('lazy LogStore open', () => {
  it('loads no partition at open, and a used partition exactly as an eager open does', async () => {
    const { factory, name, eager } = await seeded();
    const store = await lazyOpen(factory, name);
    // Nothing but the producer-id counter is read at open; a topic's row when it is first named.
    expect(store.topics.size).toBe(0);
    expect(store.knowsTopics(['big'])).toBe(false);
    expect(() => store.topic('big')).toThrow(StorageError);
    await store.useTopics(['big', 'missing']);
    expect([...store.topics.keys()]).toEqual(['big']);
    expect(store.knowsTopics(['big', 'missing'])).toBe(true);
    expect(() => store.topic('missing')).toThrow(TopicNotFoundError);
    expect(store.partitions.size).toBe(0);
    expect(() => store.watermarks('big', 0)).toThrow(StorageError);
    await store.usePartition('big', 0);
    expect(store.partitions.size).toBe(1);
    // First use reads the active segment only; the sealed ones come when something needs them.
    expect(store.partition('big', 0).sealed).toEqual([]);
    expect(store.partition('big', 0).active).toEqual(eager.big0.active);
    expect(store.watermarks('big', 0)).toEqual({ low: 0, high: 5 });
    await store.useSegments('big', 0);
    const p = store.partition('big', 0);
    expect(p.sealed).toEqual(eager.big0.sealed);
    expect(p.sealed.length).toBeGreaterThanOrEqual(4);
    expect(p.olderUnloaded).toBe(false);
    await store.useTopic('other');
    expect(store.watermarks('other', 2)).toEqual(eager.other2);
    expect(store.watermarks('other', 0)).toEqual({ low: 0, high: 0 });
    store.close();
  });

  it('appends to a partition not loaded yet after its records; a producer retry stays a duplicate', async () => {
    const { factory, name, producerId } = await seeded();
    const store = await lazyOpen(factory, name);
    const app = new Appender(store);
    // Two requests in flight before the partition is loaded keep their order.
    const [dup, next] = await Promise.all([
      app.append(append('big', 0, [{ value: 'v4' }], { producerId, seq: 4 })),
      app.append(append('big', 0, [{ value: 'v5' }], { producerId, seq: 5 })),
    ]);
    expect(dup[0]).toMatchObject({ baseOffset: 4, duplicate: true });
    expect(next[0]).toMatchObject({ baseOffset: 5, duplicate: false });
    expect(store.watermarks('big', 0).high).toBe(6);
    // Segments sealed since the load go after the older ones read later.
    await store.useSegments('big', 0);
    const bases = store.partition('big', 0).sealed.map((x) => x.baseOffset);
    expect(bases).toEqual([...bases].sort((x, y) => x - y));
    expect(new Set(bases).size).toBe(bases.length);
    expect(bases.at(-1)).toBe(4);
    expect(store.partition('big', 0).active.baseOffset).toBe(5);
    expect((await readAllFrom(store, 'big', 0)).map((m) => m.offset)).toEqual(['0', '1', '2', '3', '4', '5']);
    store.close();
  });

  it('useAll loads every partition; a topic deleted while its partitions load leaves no partition state', async () => {
    const { factory, name } = await seeded();
    const store = await lazyOpen(factory, name);
    const loading = store.useTopic('other');
    await store.deleteTopic('other');
    await loading;
    expect(store.topics.has('other')).toBe(false);
    expect([...store.partitions.keys()].some((k) => k.startsWith('other'))).toBe(false);
    await store.useAll();
    expect(store.partitions.size).toBe(2);
    expect(store.watermarks('big', 1)).toEqual({ low: 0, high: 0 });
    store.close();
  });

  it('reads no producer state at open; an older producer\'s state is read on its first append (dedupe, sequence, fencing)', async () => {
    const { factory, name, producerId } = await seeded();
    const store = await lazyOpen(factory, name);
    expect(store.producers.size).toBe(0);
    expect(store.needsProducer(producerId, 'big', 0)).toBe(true);
    const app = new Appender(store);
    // A gap after the stored last sequence (4) is refused: the stored state was read.
    await expect(app.append(append('big', 0, [{ value: 'gap' }], { producerId, seq: 7 }))).rejects.toBeInstanceOf(OutOfOrderSequenceError);
    expect(store.producerState(producerId, 'big', 0)).toMatchObject({ lastSequence: 4, epoch: 0 });
    expect(store.needsProducer(producerId, 'big', 0)).toBe(false);
    // A retry of an older batch still among the last five is answered with its offset.
    const [dup] = await app.append(append('big', 0, [{ value: 'v2' }], { producerId, seq: 2 }));
    expect(dup).toMatchObject({ baseOffset: 2, duplicate: true });
    // An epoch older than the stored one is fenced.
    await app.append(append('big', 0, [{ value: 'e1' }], { producerId, epoch: 1, seq: 0 }));
    expect(store.watermarks('big', 0).high).toBe(6);
    store.close();
    const again = await lazyOpen(factory, name);
    await expect(new Appender(again).append(append('big', 0, [{ value: 'old' }], { producerId, epoch: 0, seq: 5 }))).rejects.toBeInstanceOf(InvalidProducerEpochError);
    // A producer that never wrote a partition: looked up once, then known to have no state.
    await expect(new Appender(again).append(append('other', 0, [{ value: 'x' }], { producerId, seq: 3 }))).rejects.toBeInstanceOf(OutOfOrderSequenceError);
    expect(again.needsProducer(producerId, 'other', 0)).toBe(false);
    // Ids handed out after open need no read at all.
    const { producerId: fresh } = await again.initProducerId();
    expect(again.needsProducer(fresh, 'big', 0)).toBe(false);
    again.close();
  });

  it('deleting a topic deletes the stored states of producers the lazy store never read', async () => {
    const { factory, name, producerId } = await seeded();
    const store = await lazyOpen(factory, name);
    await store.deleteTopic('big');
    await store.createTopic('big', 1);
    // The old state is gone: continuing the old sequence is refused, starting over at 0 works.
    const app = new Appender(store);
    await expect(app.append(append('big', 0, [{ value: 'v5' }], { producerId, seq: 5 }))).rejects.toBeInstanceOf(OutOfOrderSequenceError);
    const [r] = await app.append(append('big', 0, [{ value: 'v0' }], { producerId, seq: 0 }));
    expect(r).toMatchObject({ baseOffset: 0, duplicate: false });
    store.close();
    const db = await openLogDb(factory, name);
    const rows = await db.getAll(S.producers);
    const batches = await db.getAll(S.batches);
    db.close();
    // The old row went with the topic; the new state is carried by the partition's last batch.
    expect(rows.filter((p) => p.topic === 'big')).toHaveLength(0);
    expect(rows.filter((p) => p.topic === 'other')).toHaveLength(0);
    const last = batches.filter((b) => b.topic === 'big').at(-1)!;
    expect([last.producerId, last.partition, last.carried?.producer?.lastSequence]).toEqual([producerId, 0, 0]);
  });

  it('topic rows: every topic once something lists them; a lookup racing a delete or a create never resurrects or hides a topic', async () => {
    const { factory, name } = await seeded();
    const store = await lazyOpen(factory, name);
    // A lookup in flight while the topic is deleted, and one while another is created.
    const looking = store.useTopics(['other', 'fresh']);
    const deleting = store.deleteTopic('other');
    const creating = store.createTopic('fresh', 2);
    await Promise.all([looking, deleting, creating]);
    expect(store.topics.has('other')).toBe(false);
    expect(() => store.topic('other')).toThrow(TopicNotFoundError);
    expect(store.topic('fresh').numPartitions).toBe(2);
    await store.useAllTopics();
    expect([...store.topics.keys()].sort()).toEqual(['big', 'fresh']);
    store.close();
    // Reopened: the delete and the create are what is stored.
    const again = await lazyOpen(factory, name);
    await again.useAllTopics();
    expect([...again.topics.keys()].sort()).toEqual(['big', 'fresh']);
    again.close();
  });
});
