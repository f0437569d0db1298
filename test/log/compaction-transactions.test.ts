/**
 * Compaction of a partition that holds transactions (Kafka's log cleaner, KIP-98): records of
 * aborted transactions never supersede anything and are removed when their segment is cleaned;
 * records of open transactions (at or after the last stable offset) neither supersede nor go;
 * markers stay while their transaction's data may remain, then go delete.retention.ms after the
 * cleaner first found them alone, like tombstones. Offsets never change.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import type { LogStore } from '../../src/log/log-store.js';
import { encodeRecords, type RecordBatch } from '../../src/protocol/record-batch.js';
import type { Message } from '../../src/types.js';
import { decodeAll } from '../client/helpers.js';
import { brokerOver, fakeClock, openStore, readAsIsolation } from './log-helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => { for (const c of cleanups.splice(0)) c(); });

const RETENTION = 1000;

/** A compacted topic, each batch in a segment of its own unless `segment` says otherwise, on a store with a clock the test moves. */
async function compacted(segment: { name: string; value: string }[] = [{ name: 'segment.bytes', value: '1' }]) {
  const clock = fakeClock();
  const { store, factory, name } = await openStore({ now: clock.now });
  const broker = await brokerOver(store);
  cleanups.push(() => broker.close());
  await broker.createTopics([{ topic: 'c', numPartitions: 1, configEntries: [
    { name: 'cleanup.policy', value: 'compact' }, ...segment, { name: 'delete.retention.ms', value: String(RETENTION) },
  ] }], false);
  return { clock, store, broker, factory, name };
}

/** A transactional producer of `id` talking to the broker directly. */
async function txProducer(broker: Broker, id: string) {
  const { producerId, producerEpoch } = await broker.initProducerId({ transactionalId: id });
  let seq = 0;
  return {
    producerId,
    async send(messages: Message[]) {
      const [r] = await broker.produce({ producerId, producerEpoch, transactionalId: id, batches: [{ topic: 'c', partition: 0, baseSequence: seq, records: encodeRecords(messages, 1) }] });
      seq += messages.length;
      return r!.baseOffset;
    },
    end: (commit: boolean) => broker.endTransaction({ transactionalId: id, producerId, producerEpoch, commit }),
  };
}

/** A plain (non-transactional) write of one record. */
async function plain(broker: Broker, key: string, value: string | null): Promise<number> {
  const [r] = await broker.produce({ producerId: -1, producerEpoch: 0, batches: [{ topic: 'c', partition: 0, baseSequence: -1, records: encodeRecords([{ key, value }], 1) }] });
  return r!.baseOffset;
}

const read = (broker: Broker, readUncommitted: boolean) => readAsIsolation(broker, readUncommitted);

/** The stored batches of the partition (markers included), as "offset:kind". */
async function stored(store: LogStore): Promise<string[]> {
  const rows: RecordBatch[] = await store.readBatches('c', 0, -Infinity, Infinity);
  return rows.map((b) => `${b.baseOffset}:${b.control ?? (b.transactional ? 'txn' : 'plain')}`);
}

describe('compaction and transactions', () => {
  it('a committed value survives a later write of its key by a transaction that aborts', async () => {
    const { broker } = await compacted();
    expect(await plain(broker, 'k', 'v1')).toBe(0);
    const tx = await txProducer(broker, 't');
    expect(await tx.send([{ key: 'k', value: 'v2' }])).toBe(1);
    await tx.end(false); // ABORT marker at 2
    await plain(broker, 'z', 'z'); // 3: seals the marker's segment
    await broker.runLogCleaner(['c']);
    expect(await read(broker, false)).toEqual(['0:k=v1', '3:z=z']);
  });

  it('a committed value survives a later write of its key by a transaction still open', async () => {
    const { broker } = await compacted();
    await plain(broker, 'k', 'v1');
    const tx = await txProducer(broker, 't');
    await tx.send([{ key: 'k', value: 'v2' }]); // 1, open: the last stable offset stays at 1
    await plain(broker, 'z', 'z'); // 2: seals offset 1's segment
    await broker.runLogCleaner(['c']);
    expect(await read(broker, false)).toEqual(['0:k=v1']);
    expect(await read(broker, true)).toEqual(['0:k=v1', '1:k=v2', '2:z=z']);
  });

  it('records of an aborted transaction go at the clean, for read-uncommitted readers too; the ABORT marker stays; offsets stay', async () => {
    const { broker, store } = await compacted();
    await plain(broker, 'k', 'v1'); // 0
    const tx = await txProducer(broker, 't');
    await tx.send([{ key: 'k', value: 'v2' }, { key: 'n', value: 'only-aborted' }]); // 1-2
    await tx.end(false); // ABORT at 3
    await plain(broker, 'z', 'z'); // 4
    const committed = await read(broker, false);
    expect(committed).toEqual(['0:k=v1', '4:z=z']);
    expect(await read(broker, true)).toEqual(['0:k=v1', '1:k=v2', '2:n=only-aborted', '4:z=z']);
    const offsets = await broker.listOffsets('c');
    const stats = await broker.runLogCleaner(['c']);
    expect(stats).toMatchObject({ recordsRemoved: 2, tombstonesRemoved: 0 });
    expect(await read(broker, false)).toEqual(committed);
    expect(await read(broker, true)).toEqual(committed); // as in Kafka: the cleaner discards aborted data
    expect(await stored(store)).toEqual(['0:plain', '3:ABORT', '4:plain']);
    expect(await broker.listOffsets('c')).toEqual(offsets); // low, high and last stable unchanged
    // A reader placed inside the removed range starts at the next survivor.
    const [r] = await broker.fetch({ partitions: [{ topic: 'c', partition: 0, offset: 1 }], maxWaitMs: 0, maxBytes: 1 << 20, maxBytesPerPartition: 1 << 20, readUncommitted: true });
    expect((await decodeAll(r!.batches, 1)).map((m) => m.offset)).toEqual(['4']);
  });

  it('an open transaction survives a clean whole; after its commit the next clean lets it replace the older value', async () => {
    const { broker, store } = await compacted();
    await plain(broker, 'k', 'v1'); // 0
    await plain(broker, 'k', 'v2'); // 1: supersedes 0 (below the last stable offset)
    const tx = await txProducer(broker, 't');
    await tx.send([{ key: 'k', value: 'v3' }]); // 2, open
    await plain(broker, 'k', 'v4'); // 3: behind the open transaction, so it supersedes nothing yet
    await plain(broker, 'z', 'z'); // 4
    expect((await broker.listOffsets('c'))[0]).toMatchObject({ high: 5, lastStable: 2 });
    await broker.runLogCleaner(['c']);
    expect(await stored(store)).toEqual(['1:plain', '2:txn', '3:plain', '4:plain']);
    expect(await read(broker, false)).toEqual(['1:k=v2']);
    expect(await read(broker, true)).toEqual(['1:k=v2', '2:k=v3', '3:k=v4', '4:z=z']);
    await tx.end(true); // COMMIT at 5
    await plain(broker, 'y', 'y'); // 6: seals the marker
    expect(await read(broker, false)).toEqual(['1:k=v2', '2:k=v3', '3:k=v4', '4:z=z', '6:y=y']);
    await broker.runLogCleaner(['c']);
    expect(await read(broker, false)).toEqual(['3:k=v4', '4:z=z', '6:y=y']);
    expect(await read(broker, true)).toEqual(['3:k=v4', '4:z=z', '6:y=y']);
    expect((await broker.listOffsets('c'))[0]).toMatchObject({ low: 0, high: 7, lastStable: 7 });
  });

  it('a committed transaction\'s value replaces older ones; an aborted tombstone deletes nothing', async () => {
    const { broker } = await compacted();
    await plain(broker, 'a', 'a1'); // 0
    await plain(broker, 'b', 'b1'); // 1
    const tx = await txProducer(broker, 't');
    await tx.send([{ key: 'a', value: 'a2' }]); // 2
    await tx.end(true); // COMMIT 3
    await tx.send([{ key: 'b', value: null }]); // 4
    await tx.end(false); // ABORT 5
    await plain(broker, 'z', 'z'); // 6
    await broker.runLogCleaner(['c']);
    expect(await read(broker, false)).toEqual(['1:b=b1', '2:a=a2', '6:z=z']);
  });

  it('markers stay while their transaction has data; then delete.retention.ms after the cleaner first found them alone', async () => {
    const { broker, store, clock, factory, name } = await compacted();
    const tx = await txProducer(broker, 't');
    await tx.send([{ key: 'k', value: 'kept' }]); // 0
    await tx.end(true); // COMMIT 1
    await tx.send([{ key: 'x', value: 'aborted' }]); // 2
    await tx.end(false); // ABORT 3
    await tx.send([{ key: 'm', value: 'm1' }]); // 4
    await tx.end(true); // COMMIT 5
    await plain(broker, 'm', 'm2'); // 6: supersedes 4, so the COMMIT at 5 is left alone
    await plain(broker, 'z', 'z'); // 7
    expect([...store.txns.aborted.values()].flat()).toEqual([{ producerId: tx.producerId, firstOffset: 2, lastOffset: 3 }]);
    const visible = ['0:k=kept', '6:m=m2', '7:z=z'];

    await broker.runLogCleaner(['c']);
    expect(await stored(store)).toEqual(['0:txn', '1:COMMIT', '3:ABORT', '5:COMMIT', '6:plain', '7:plain']);
    expect(await read(broker, false)).toEqual(visible);
    expect(await read(broker, true)).toEqual(visible);
    // No data of the aborted transaction is left: its range leaves the index, also as stored.
    expect([...store.txns.aborted.values()].flat()).toEqual([]);

    clock.t += RETENTION - 1;
    await broker.runLogCleaner(['c']);
    expect(await stored(store)).toEqual(['0:txn', '1:COMMIT', '3:ABORT', '5:COMMIT', '6:plain', '7:plain']);
    clock.t += 1;
    const stats = await broker.runLogCleaner(['c']);
    expect(stats.recordsRemoved).toBe(2); // the two markers alone
    expect(await stored(store)).toEqual(['0:txn', '1:COMMIT', '6:plain', '7:plain']);
    expect(await read(broker, false)).toEqual(visible);
    expect(await read(broker, true)).toEqual(visible);
    expect((await broker.listOffsets('c'))[0]).toMatchObject({ low: 0, high: 8, lastStable: 8 });

    // The index as stored matches: a reopened log reads the same.
    broker.close();
    store.close();
    const again = await openStore({ factory, name, now: clock.now });
    const b2 = await brokerOver(again.store);
    cleanups.push(() => { b2.close(); again.store.close(); });
    expect([...again.store.txns.aborted.values()].flat()).toEqual([]);
    expect(await read(b2, false)).toEqual(visible);
  });

  it('a marker newer than the last stable offset is left alone, even when its own data is gone', async () => {
    const { broker, store, clock } = await compacted();
    const t = await txProducer(broker, 't');
    const u = await txProducer(broker, 'u');
    await plain(broker, 'k', 'v1'); // 0
    await u.send([{ key: 'o', value: 'open' }]); // 1: u stays open, last stable offset 1
    await t.send([{ key: 'k', value: 'aborted' }]); // 2
    await t.end(false); // ABORT 3
    await plain(broker, 'z', 'z'); // 4
    clock.t += 10 * RETENTION;
    await broker.runLogCleaner(['c']);
    clock.t += 10 * RETENTION;
    await broker.runLogCleaner(['c']);
    expect(await stored(store)).toEqual(['0:plain', '1:txn', '2:txn', '3:ABORT', '4:plain']);
    expect(await read(broker, false)).toEqual(['0:k=v1']);
    await u.end(false); // ABORT 5
    await plain(broker, 'y', 'y'); // 6
    await broker.runLogCleaner(['c']);
    expect(await stored(store)).toEqual(['0:plain', '3:ABORT', '4:plain', '5:ABORT', '6:plain']);
    expect(await read(broker, false)).toEqual(['0:k=v1', '4:z=z', '6:y=y']);
    expect(await read(broker, true)).toEqual(['0:k=v1', '4:z=z', '6:y=y']);
  });

  it('producer state is untouched: a retried batch is still answered with its offsets, the next sequence is taken, the transactional producer goes on', async () => {
    const { broker, clock } = await compacted();
    const { producerId, producerEpoch } = await broker.initProducerId();
    const send = async (seq: number, key: string, value: string) =>
      (await broker.produce({ producerId, producerEpoch, batches: [{ topic: 'c', partition: 0, baseSequence: seq, records: encodeRecords([{ key, value }], 1) }] }))[0]!;
    expect((await send(0, 'k', 'v1')).baseOffset).toBe(0);
    expect((await send(1, 'k', 'v2')).baseOffset).toBe(1);
    const tx = await txProducer(broker, 't');
    await tx.send([{ key: 'k', value: 'v3' }]); // 2
    await tx.end(false); // ABORT 3
    expect((await send(2, 'z', 'z')).baseOffset).toBe(4);
    clock.t += 10 * RETENTION;
    await broker.runLogCleaner(['c']);
    clock.t += 10 * RETENTION;
    await broker.runLogCleaner(['c']);
    expect(await read(broker, true)).toEqual(['1:k=v2', '4:z=z']);
    // The retry of the last batch is a duplicate with its first offsets; the sequence goes on.
    expect(await send(2, 'z', 'z')).toMatchObject({ baseOffset: 4, duplicate: true });
    expect(await send(3, 'k', 'v4')).toMatchObject({ baseOffset: 5, duplicate: false });
    // The transactional producer, whose only batch and marker here are gone, keeps its epoch.
    await tx.send([{ key: 'k', value: 'v5' }]); // 6
    await tx.end(true); // COMMIT 7
    expect(await read(broker, false)).toEqual(['1:k=v2', '4:z=z', '5:k=v4', '6:k=v5']);
    const stale = broker.produce({ producerId: tx.producerId, producerEpoch: -1, transactionalId: 't', batches: [{ topic: 'c', partition: 0, baseSequence: 2, records: encodeRecords([{ value: 'x' }], 1) }] });
    await expect(stale).rejects.toMatchObject({ name: 'ProducerFencedError' });
  });

  it('a sealed segment reaching past the last stable offset is cleaned below it only, and its counts stay those of what it holds', async () => {
    const { broker, store, clock } = await compacted([{ name: 'segment.ms', value: '1000' }]);
    await plain(broker, 'k', 'v1'); // 0
    await plain(broker, 'k', 'v2'); // 1
    const tx = await txProducer(broker, 't');
    await tx.send([{ key: 'k', value: 'v3' }, { key: 'j', value: 'j1' }]); // 2-3, open
    await plain(broker, 'j', 'j2'); // 4
    clock.t += 1000; // the cleaner seals the one segment [0, 5), then cleans it
    await broker.runLogCleaner(['c']);
    const [seg] = await broker.segments('c', 0);
    expect(seg).toMatchObject({ baseOffset: 0, nextOffset: 5, sealed: true, recordCount: 4, version: 1 });
    expect(await stored(store)).toEqual(['1:plain', '2:txn', '4:plain']);
    expect(seg!.sizeBytes).toBe((await store.readBatches('c', 0, 0, 5)).reduce((n, b) => n + b.sizeBytes, 0));
    expect(await read(broker, true)).toEqual(['1:k=v2', '2:k=v3', '3:j=j1', '4:j=j2']);
  });
});
