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
import { brokerOver, fakeClock, openStore } from './log-helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => { for (const c of cleanups.splice(0)) c(); });

const RETENTION = 1000;

/** A compacted topic, each batch in a segment of its own, on a store with a clock the test moves. */
async function compacted() {
  const clock = fakeClock();
  const { store, factory, name } = await openStore({ now: clock.now });
  const broker = await brokerOver(store);
  cleanups.push(() => broker.close());
  await broker.createTopics([{ topic: 'c', numPartitions: 1, configEntries: [
    { name: 'cleanup.policy', value: 'compact' }, { name: 'segment.bytes', value: '1' }, { name: 'delete.retention.ms', value: String(RETENTION) },
  ] }] as never);
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

/** Everything a reader of the isolation level gets from offset 0, as "offset:key=value". */
async function read(broker: Broker, readUncommitted: boolean): Promise<string[]> {
  const out: string[] = [];
  let at = 0;
  for (;;) {
    const [r] = await broker.fetch({ partitions: [{ topic: 'c', partition: 0, offset: at }], maxWaitMs: 0, maxBytes: 1 << 20, maxBytesPerPartition: 1 << 20, readUncommitted });
    if (r!.error) throw new Error(r!.error.message);
    if (r!.batches.length === 0) return out;
    for (const m of await decodeAll(r!.batches, at)) out.push(`${m.offset}:${m.key}=${m.value}`);
    const last = r!.batches[r!.batches.length - 1]!;
    at = last.baseOffset + last.lastOffsetDelta + 1;
  }
}

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
});
