/**
 * What readers see of transactions (Kafka's isolation levels): read-committed readers stop at
 * the last stable offset and never get aborted records; read-uncommitted readers get everything
 * up to the high watermark; nobody gets a marker. Also: the transaction index survives a
 * reopen, the broker aborts transactions left open (timeout, a new producer of the same id),
 * and sendOffsets checks the generation of this tab's consumer of the group.
 */
import { IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { IllegalGenerationError, InvalidArgumentError, ProducerFencedError, type Producer, type ProducerConfig } from '../../../src/index.js';
import { LogStore } from '../../../src/log/log-store.js';
import { dbName } from '../../../src/broker/in-page.js';
import { encodeRecords } from '../../../src/protocol/record-batch.js';
import { decodeAll, readAll, recorder, rejection, setup } from '../helpers.js';
import { FAST, waitFor } from '../../group/helpers.js';

type Env = Awaited<ReturnType<typeof setup>>;
let env: Env | undefined;
const extra: { disconnect(): Promise<void> }[] = [];
const open = async () => {
  env = await setup();
  await env.admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }, { topic: 'invoices', numPartitions: 1 }] });
  return env;
};
afterEach(async () => {
  for (const p of extra.splice(0).reverse()) await p.disconnect();
  await env?.close();
  env = undefined;
});

async function txProducer(id = 'tx-1', over: ProducerConfig = {}): Promise<Producer> {
  const p = env!.client.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1, ...over });
  await p.connect();
  extra.push(p);
  return p;
}
const committedValues = async () => (await readAll(env!.broker, 'invoices', 0)).map((m) => String(m.value));
/** One fetch from `offset` as a reader of the given isolation sees it. */
async function fetchOnce(offset: number, readUncommitted: boolean) {
  const [r] = await env!.broker.fetch({ partitions: [{ topic: 'invoices', partition: 0, offset }], maxWaitMs: 0, maxBytes: 1 << 20, maxBytesPerPartition: 1 << 20, readUncommitted });
  return { ...r!, values: (await decodeAll(r!.batches, offset)).map((m) => String(m.value)) };
}

describe('transactions and isolation levels', () => {
  it('an open transaction holds read-committed readers at its first offset (last stable offset); read-uncommitted readers read on', async () => {
    await open();
    const p = await txProducer();
    const tx = await p.transaction();
    await tx.send({ topic: 'invoices', messages: [{ value: 'in-flight' }] });
    await env!.producer.send({ topic: 'invoices', messages: [{ value: 'plain' }] });
    const rc = await fetchOnce(0, false);
    expect(rc).toMatchObject({ high: 2, lastStable: 0, values: [] });
    const ru = await fetchOnce(0, true);
    expect(ru.values).toEqual(['in-flight', 'plain']);
    await tx.commit();
    const after = await fetchOnce(0, false);
    expect(after).toMatchObject({ high: 3, lastStable: 3 });
    expect(after.values).toEqual(['in-flight', 'plain']); // the COMMIT marker (offset 2) is not delivered
  });

  it('read-committed at the log end: a long-poll waiting at the last stable offset wakes on the commit, not before', async () => {
    await open();
    const p = await txProducer();
    const tx = await p.transaction();
    await tx.send({ topic: 'invoices', messages: [{ value: 'late' }] });
    let settled = false;
    const waiting = env!.broker.fetch({ partitions: [{ topic: 'invoices', partition: 0, offset: 0 }], maxWaitMs: 20_000, maxBytes: 1 << 20, maxBytesPerPartition: 1 << 20 });
    void waiting.then(() => { settled = true; });
    expect((await fetchOnce(0, true)).values).toEqual(['late']); // a full round trip through the broker
    expect(settled).toBe(false); // the record is in the log, but not stable
    await tx.commit();
    const [r] = await waiting;
    expect((await decodeAll(r!.batches, 0)).map((m) => String(m.value))).toEqual(['late']);
    // A wake-up by a write behind the open transaction answers nothing (below the LSO there is nothing new).
    const t2 = await p.transaction();
    await t2.send({ topic: 'invoices', messages: [{ value: 'open' }] });
    const poll = env!.broker.fetch({ partitions: [{ topic: 'invoices', partition: 0, offset: 2 }], maxWaitMs: 20_000, maxBytes: 1 << 20, maxBytesPerPartition: 1 << 20 });
    await env!.producer.send({ topic: 'invoices', messages: [{ value: 'plain' }] });
    const [woken] = await poll;
    expect(woken!.batches).toEqual([]);
    expect(woken!.lastStable).toBe(2);
    await t2.commit();
    expect(await committedValues()).toEqual(['late', 'open', 'plain']);
  });

  it('consumers: readUncommitted gets open and aborted records, the default gets committed ones only, neither gets markers', async () => {
    await open();
    const p = await txProducer();
    const t1 = await p.transaction();
    await t1.send({ topic: 'invoices', messages: [{ value: 'aborted' }] });
    await t1.abort();
    const t2 = await p.transaction();
    await t2.send({ topic: 'invoices', messages: [{ value: 'committed' }] });
    await t2.commit();
    const t3 = await p.transaction();
    await t3.send({ topic: 'invoices', messages: [{ value: 'open' }] });
    await env!.producer.send({ topic: 'invoices', messages: [{ value: 'plain' }] });
    const rc = recorder();
    const ru = recorder();
    const crc = await env!.consumer({ groupId: 'rc' });
    const cru = await env!.consumer({ groupId: 'ru', readUncommitted: true });
    await crc.subscribe({ topic: 'invoices', fromBeginning: true });
    await cru.subscribe({ topic: 'invoices', fromBeginning: true });
    await crc.run({ eachMessage: rc.eachMessage });
    await cru.run({ eachMessage: ru.eachMessage });
    await ru.until(3);
    await rc.until(1);
    expect(ru.got.map((m) => String(m.value))).toEqual(['aborted', 'committed', 'open', 'plain']);
    expect(rc.got.map((m) => String(m.value))).toEqual(['committed']);
    await t3.commit();
    await rc.until(3);
    expect(rc.got.map((m) => [String(m.value), Number(m.offset)])).toEqual([['committed', 2], ['open', 4], ['plain', 5]]);
    expect(ru.got.map((m) => Number(m.offset))).toEqual([0, 2, 4, 5]); // markers at 1, 3 and 6 never delivered
  });

  it('the transaction index is stored with the log: a reopened log still hides aborted records and holds the open transaction', async () => {
    await open();
    const p = await txProducer();
    const t1 = await p.transaction();
    await t1.send({ topic: 'invoices', messages: [{ value: 'aborted' }] });
    await t1.abort();
    const t2 = await p.transaction();
    await t2.send({ topic: 'invoices', messages: [{ value: 'open' }] });
    const again = await LogStore.open({ indexedDB: env!.indexedDB, IDBKeyRange, name: dbName(env!.config.database) });
    try {
      expect(again.txns.isAborted('invoices', 0, again.txns.open.get('tx-1')!.producerId, 0)).toBe(true);
      expect(again.txns.lastStable('invoices', 0, 3)).toBe(2);
      expect([...again.txns.open.keys()]).toEqual(['tx-1']);
    } finally {
      again.close();
    }
    await t2.abort();
  });

  it('a transaction of several sends: a later send to a partition it already wrote keeps the stored open transaction, a send to a new one adds it', async () => {
    await open();
    const p = await txProducer();
    const tx = await p.transaction();
    await tx.send({ topic: 'invoices', messages: [{ value: 'one' }] });
    await tx.send({ topic: 'invoices', messages: [{ value: 'two' }] });
    await tx.sendBatch({ topicMessages: [{ topic: 'invoices', messages: [{ value: 'three' }] }, { topic: 'orders', messages: [{ partition: 1, value: 'four' }] }] });
    const again = await LogStore.open({ indexedDB: env!.indexedDB, IDBKeyRange, name: dbName(env!.config.database) });
    try {
      // Stored as written: both partitions, each from the transaction's first offset there.
      expect(again.txns.open.get('tx-1')!.partitions).toEqual([{ topic: 'invoices', partition: 0, firstOffset: 0 }, { topic: 'orders', partition: 1, firstOffset: 0 }]);
      expect(again.txns.lastStable('invoices', 0, 3)).toBe(0);
    } finally {
      again.close();
    }
    await tx.abort();
    expect(await committedValues()).toEqual([]);
    expect((await fetchOnce(0, true)).values).toEqual(['one', 'two', 'three']);
  });

  it('transactionTimeout: the broker aborts a transaction left open and fences its producer', async () => {
    await open();
    const p = await txProducer('slow', { transactionTimeout: 100 });
    const tx = await p.transaction();
    await tx.send({ topic: 'invoices', messages: [{ value: 'never' }] });
    await waitFor(() => env!.broker.store.txns.open.size === 0, 'the broker aborts the transaction');
    expect(await committedValues()).toEqual([]);
    expect((await fetchOnce(0, true)).values).toEqual(['never']);
    expect(await rejection(tx.commit())).toBeInstanceOf(ProducerFencedError);
  });

  it('a new producer with the same transactionalId (a reload) aborts what the previous one left open', async () => {
    await open();
    const before = await txProducer('page');
    const tx = await before.transaction();
    await tx.send({ topic: 'invoices', messages: [{ value: 'left-open' }] });
    expect((await fetchOnce(0, false)).lastStable).toBe(0);
    const after = await txProducer('page');
    expect(await fetchOnce(0, false)).toMatchObject({ lastStable: 2, values: [] });
    const t2 = await after.transaction();
    await t2.send({ topic: 'invoices', messages: [{ value: 'next' }] });
    await t2.commit();
    expect(await committedValues()).toEqual(['next']);
    expect(await rejection(tx.send({ topic: 'invoices', messages: [{ value: 'zombie' }] }))).toBeInstanceOf(ProducerFencedError);
    expect(await committedValues()).toEqual(['next']);
  });

  it("sendOffsets takes this tab's consumer generation: after a rebalance took its partitions the commit is refused and the records are aborted", async () => {
    await open();
    const p = await txProducer();
    const c1 = env!.client.consumer({ groupId: 'billing', ...FAST, partitionAssigners: ['range'] });
    await c1.connect();
    extra.push(c1);
    await c1.subscribe({ topic: 'orders' });
    await c1.run({ eachMessage: async () => undefined });
    await waitFor(async () => (await c1.describeGroup()).members.length === 1 && (await c1.describeGroup()).state === 'Stable', 'c1 joined');
    const tx = await p.transaction();
    await tx.send({ topic: 'invoices', messages: [{ value: 'from-old-generation' }] });
    // Offsets of both partitions: the rebalance below takes one of them from c1.
    await tx.sendOffsets({ consumerGroupId: 'billing', topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: 7 }, { partition: 1, offset: 7 }] }] });
    const c2 = env!.client.consumer({ groupId: 'billing', ...FAST, partitionAssigners: ['range'] });
    await c2.connect();
    extra.push(c2);
    await c2.subscribe({ topic: 'orders' });
    await c2.run({ eachMessage: async () => undefined });
    await waitFor(async () => { const d = await c1.describeGroup(); return d.members.length === 2 && d.state === 'Stable'; }, 'rebalanced');
    expect(await rejection(tx.commit())).toBeInstanceOf(IllegalGenerationError);
    expect(await committedValues()).toEqual([]);
    expect(env!.broker.store.txns.open.size).toBe(0); // aborted, not left to time out
    const offsets = (await env!.admin.fetchOffsets({ groupId: 'billing', topics: ['orders'] }))[0]!.partitions;
    expect(offsets.map((x) => x.offset)).not.toContain('7'); // the transaction's offsets were not committed
    // The current generation commits.
    const t2 = await p.transaction();
    await t2.send({ topic: 'invoices', messages: [{ value: 'current' }] });
    const kept = c1.assignment().map((x) => x.partition)[0]!;
    await t2.sendOffsets({ consumerGroupId: 'billing', topics: [{ topic: 'orders', partitions: [{ partition: kept, offset: 1 }] }] });
    await t2.commit();
    expect(await committedValues()).toEqual(['current']);
  });

  it('bad input gets typed errors naming the field, and nothing is written', async () => {
    const { broker } = await open();
    expect(() => env!.client.producer({ transactionalId: 'x', transactionTimeout: -1 })).toThrow(/transactionTimeout/);
    expect(() => env!.client.consumer({ groupId: 'g', readUncommitted: 'yes' as unknown as boolean })).toThrow(InvalidArgumentError);
    const records = encodeRecords([{ value: 'forged' }], Date.now());
    const forged = { producerId: -1, producerEpoch: 0, batches: [{ topic: 'invoices', partition: 0, baseSequence: -1, records, control: 'COMMIT' }] };
    expect(await rejection(broker.produce(forged as never))).toBeInstanceOf(InvalidArgumentError);
    expect((await env!.offsets('invoices'))[0]!.high).toBe(0);
  });
});
