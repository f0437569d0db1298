/**
 * Transactions: records of a transaction are in the log as they are sent (read-uncommitted
 * readers see them), and become visible to read-committed readers together with the offsets at
 * commit (markers + offsets: one appender request, one IndexedDB transaction) or never; a newer
 * producer with the same transactionalId fences the older one; a member of a stale generation
 * cannot commit offsets in a transaction; a retried commit is written once.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  IllegalGenerationError, InvalidArgumentError, InvalidTxnStateError, NotConnectedError, ProducerFencedError, TopicNotFoundError, type Producer,
} from '../../../src/index.js';
import type { JoinGroupRequest } from '../../../src/protocol/broker-api.js';
import { decodeAll, readAll, rejection, setup } from '../helpers.js';

type Env = Awaited<ReturnType<typeof setup>>;
let env: Env | undefined;
const extra: Producer[] = [];
const open = async () => {
  env = await setup();
  await env.admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }, { topic: 'invoices', numPartitions: 2 }, { topic: 'audit' }] });
  return env;
};
afterEach(async () => {
  for (const p of extra.splice(0)) await p.disconnect();
  await env?.close();
  env = undefined;
});

async function txProducer(id = 'tx-1') {
  const p = env!.client.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  extra.push(p);
  return p;
}
const values = async (topic: string, partition: number) => (await readAll(env!.broker, topic, partition)).map((m) => String(m.value));
/** Values a read-uncommitted reader gets from `offset` (whole log), and where reads ended. */
async function uncommitted(topic: string, partition: number): Promise<string[]> {
  const out: string[] = [];
  let at = 0;
  for (;;) {
    const [r] = await env!.broker.fetch({ partitions: [{ topic, partition, offset: at }], maxWaitMs: 0, maxBytes: 1 << 20, maxBytesPerPartition: 1 << 20, readUncommitted: true });
    if (r!.batches.length === 0) return out;
    out.push(...(await decodeAll(r!.batches, at)).map((m) => String(m.value)));
    const last = r!.batches.at(-1)!;
    at = last.baseOffset + last.lastOffsetDelta + 1;
  }
}
const committed = async (groupId: string, topic: string) =>
  (await env!.admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions.map((p) => Number(p.offset));

describe('transactions', () => {
  it('commit makes records on several partitions and topics and the offsets visible together', async () => {
    const { broker } = await open();
    const p = await txProducer();
    const tx = await p.transaction();
    expect(tx.isActive()).toBe(true);
    await tx.send({ topic: 'invoices', messages: [{ value: 'i0', partition: 0 }, { value: 'i1', partition: 1 }] });
    await tx.sendBatch({ topicMessages: [{ topic: 'audit', messages: [{ value: 'a0' }] }, { topic: 'invoices', messages: [{ value: 'i0b', partition: 0 }] }] });
    await tx.sendOffsets({ consumerGroupId: 'billing', topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: '5' }, { partition: 1, offset: 7 }] }] });
    // Nothing is visible to read-committed readers before commit; read-uncommitted ones see it all.
    expect(await values('invoices', 0)).toEqual([]);
    expect(await uncommitted('invoices', 0)).toEqual(['i0', 'i0b']);
    expect(await committed('billing', 'orders')).toEqual([-1, -1]);
    const commitsBefore = broker.appender.commits;
    await tx.commit();
    expect(tx.isActive()).toBe(false);
    expect(broker.appender.commits).toBe(commitsBefore + 1); // one IndexedDB transaction for all of it
    expect(await values('invoices', 0)).toEqual(['i0', 'i0b']);
    expect(await values('invoices', 1)).toEqual(['i1']);
    expect(await values('audit', 0)).toEqual(['a0']);
    expect(await committed('billing', 'orders')).toEqual([5, 7]);
    // A second transaction of the same producer continues its sequences.
    const tx2 = await p.transaction();
    await tx2.send({ topic: 'invoices', messages: [{ value: 'i2', partition: 1 }] });
    await tx2.sendOffsets({ consumerGroupId: 'billing', topics: [{ topic: 'orders', partitions: [{ partition: 1, offset: 8 }] }] });
    await tx2.commit();
    expect(await values('invoices', 1)).toEqual(['i1', 'i2']);
    expect(await committed('billing', 'orders')).toEqual([5, 8]);
  });

  it('abort makes neither the records nor the offsets visible, and the offsets stay uncommitted', async () => {
    await open();
    const p = await txProducer();
    const tx = await p.transaction();
    await tx.send({ topic: 'invoices', messages: [{ value: 'x', partition: 0 }] });
    await tx.sendOffsets({ consumerGroupId: 'billing', topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: 3 }] }] });
    await tx.abort();
    expect(tx.isActive()).toBe(false);
    expect(await values('invoices', 0)).toEqual([]);
    expect(await committed('billing', 'orders')).toEqual([-1, -1]);
    // The record and its ABORT marker take offsets 0 and 1, as in Kafka; read_uncommitted sees
    // the aborted record, never the marker.
    expect((await env!.offsets('invoices')).map((o) => o.high)).toEqual([2, 0]);
    expect(await uncommitted('invoices', 0)).toEqual(['x']);
    expect(await rejection(tx.commit())).toBeInstanceOf(InvalidTxnStateError);
    expect(await rejection(tx.send({ topic: 'invoices', messages: [{ value: 'late' }] }))).toBeInstanceOf(InvalidTxnStateError);
    // A consumer reads the next committed transaction only.
    const tx2 = await p.transaction();
    await tx2.send({ topic: 'invoices', messages: [{ value: 'y', partition: 0 }] });
    await tx2.commit();
    expect(await values('invoices', 0)).toEqual(['y']);
    expect(await uncommitted('invoices', 0)).toEqual(['x', 'y']);
    const c = await env!.consumer({ groupId: 'reader' });
    await c.subscribe({ topic: 'invoices', fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      void c.run({ eachMessage: async ({ message }) => { got.push(String(message.value)); if (got.length === 1) resolve(); } });
    });
    await c.stop();
    expect(got).toEqual(['y']);
  });

  it('a zombie producer (same transactionalId, older epoch) cannot commit, and stays fenced', async () => {
    const { broker } = await open();
    const old = await txProducer('shared');
    const tx = await old.transaction();
    await tx.send({ topic: 'invoices', messages: [{ value: 'zombie', partition: 0 }] });
    await tx.sendOffsets({ consumerGroupId: 'billing', topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: 9 }] }] });
    const fresh = await txProducer('shared');
    const err = await rejection(tx.commit());
    expect(err).toBeInstanceOf(ProducerFencedError);
    expect(err.code).toBe('PRODUCER_FENCED');
    expect(err.retriable).toBe(false);
    expect(await values('invoices', 0)).toEqual([]);
    expect(await committed('billing', 'orders')).toEqual([-1, -1]);
    expect(await rejection(old.transaction())).toBeInstanceOf(ProducerFencedError);
    // The epoch is persisted: a broker reading it from the log refuses the zombie too.
    const row = await broker.store.transactionalProducer('shared');
    expect(row?.producerEpoch).toBe(1);
    const tx2 = await fresh.transaction();
    await tx2.send({ topic: 'invoices', messages: [{ value: 'live', partition: 0 }] });
    await tx2.commit();
    expect(await values('invoices', 0)).toEqual(['live']);
  });

  it('offsets of a member whose generation is stale are refused with IllegalGeneration, and nothing is written', async () => {
    const { broker } = await open();
    const fake = (memberId: string): JoinGroupRequest => ({
      groupId: 'g', memberId, clientId: 'fake', topics: ['orders'], owned: {}, protocols: ['range'], sessionTimeout: 30_000, rebalanceTimeout: 30_000,
    });
    const a1 = await broker.joinGroup(fake('a'));
    // b's join starts a round; it completes once a rejoins.
    const b = broker.joinGroup(fake('b'));
    const [a2] = await Promise.all([broker.joinGroup(fake('a')), b]);
    expect(a2.generationId).toBeGreaterThan(a1.generationId);
    const p = await txProducer();
    const tx = await p.transaction();
    await tx.send({ topic: 'invoices', messages: [{ value: 'stale', partition: 0 }] });
    await tx.sendOffsets({ consumerGroupId: 'g', memberId: 'a', generationId: a1.generationId, topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: 1 }] }] });
    expect(await rejection(tx.commit())).toBeInstanceOf(IllegalGenerationError);
    expect(await values('invoices', 0)).toEqual([]);
    expect(await committed('g', 'orders')).toEqual([-1, -1]);
    const tx2 = await p.transaction();
    await tx2.send({ topic: 'invoices', messages: [{ value: 'current', partition: 0 }] });
    await tx2.sendOffsets({ consumerGroupId: 'g', memberId: 'a', generationId: a2.generationId, topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: 1 }] }] });
    await tx2.commit();
    expect(await values('invoices', 0)).toEqual(['current']);
    expect(await committed('g', 'orders')).toEqual([1, -1]);
    await broker.leaveGroup({ groupId: 'g', memberId: 'a' });
    await broker.leaveGroup({ groupId: 'g', memberId: 'b' });
  });

  it('a retried commit is written once: markers and offsets are not duplicated', async () => {
    const { broker } = await open();
    const { producerId, producerEpoch } = await broker.initProducerId({ transactionalId: 'retry' });
    const { encodeRecords } = await import('../../../src/protocol/record-batch.js');
    const send = { producerId, producerEpoch, transactionalId: 'retry', batches: [{ topic: 'invoices', partition: 0, baseSequence: 0, records: encodeRecords([{ value: 'once' }], Date.now()) }] };
    const [sent] = await broker.produce(send);
    const [resent] = await broker.produce(send);
    expect(resent).toMatchObject({ baseOffset: sent!.baseOffset, duplicate: true });
    const end = { transactionalId: 'retry', producerId, producerEpoch, commit: true, offsets: { groupId: 'billing', offsetsSequence: 0, offsets: [{ topic: 'orders', partition: 0, offset: 4 }] } };
    await broker.endTransaction(end);
    await broker.endTransaction(end);
    expect(await values('invoices', 0)).toEqual(['once']);
    expect((await env!.offsets('invoices'))[0]!.high).toBe(2); // the record and one COMMIT marker
    expect(await committed('billing', 'orders')).toEqual([4, -1]);
    expect((await env!.offsets('__consumer_offsets'))[0]!.high).toBe(1);
  });

  it('bad use gets typed errors naming the field', async () => {
    await open();
    expect(() => env!.client.producer({ transactionalId: 'x', idempotent: false })).toThrow(InvalidArgumentError);
    expect(() => env!.client.producer({ transactionalId: '' })).toThrow(/transactionalId/);
    expect(await rejection(env!.producer.transaction())).toBeInstanceOf(InvalidTxnStateError);
    const p = await txProducer();
    expect(await rejection(p.send({ topic: 'invoices', messages: [{ value: 'v' }] }))).toBeInstanceOf(InvalidTxnStateError);
    const tx = await p.transaction();
    expect(await rejection(p.transaction())).toBeInstanceOf(InvalidTxnStateError);
    const e = await rejection(tx.sendOffsets({ consumerGroupId: 'g', topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: -1 }] }] }));
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e.message).toMatch(/sendOffsets\.topics\[0\]\.partitions\[0\]\.offset/);
    expect(tx.isActive()).toBe(true);
    await tx.abort();
  });

  it('sendOffsets for a partition or topic that does not exist fails at the call with TopicNotFoundError naming it; the transaction stays usable', async () => {
    await open();
    const p = await txProducer();
    const tx = await p.transaction();
    await tx.send({ topic: 'invoices', messages: [{ value: 'kept', partition: 0 }] });
    // orders has partitions 0 and 1: partition 2 does not exist. Nothing of the call is kept.
    const e = await rejection(tx.sendOffsets({ consumerGroupId: 'billing', topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: 4 }, { partition: 2, offset: 1 }] }] }));
    expect(e).toBeInstanceOf(TopicNotFoundError);
    expect(e.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(e.message).toContain('orders-2');
    expect(e.details).toMatchObject({ topic: 'orders', partition: 2, field: 'sendOffsets.topics[0].partitions[1].partition' });
    const gone = await rejection(tx.sendOffsets({ consumerGroupId: 'billing', topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: 4 }] }, { topic: 'nope', partitions: [{ partition: 0, offset: 1 }] }] }));
    expect(gone).toBeInstanceOf(TopicNotFoundError);
    expect(gone.details).toMatchObject({ topic: 'nope', partition: 0, field: 'sendOffsets.topics[1].partitions[0].partition' });
    expect(await env!.admin.listTopics()).not.toContain('nope');
    expect(tx.isActive()).toBe(true);
    await tx.sendOffsets({ consumerGroupId: 'billing', topics: [{ topic: 'orders', partitions: [{ partition: 1, offset: 6 }] }] });
    await tx.commit();
    // Only the valid call's offsets were committed, with the records.
    expect(await committed('billing', 'orders')).toEqual([-1, 6]);
    expect(await values('invoices', 0)).toEqual(['kept']);
  });

  it('a transactionTimeout beyond 2^31-1 ms arms no timer that would fire at once (and spin while the transaction is open)', async () => {
    await open();
    const p = env!.client.producer({ transactionalId: 'long', transactionTimeout: 30 * 24 * 3600 * 1000 });
    await p.connect();
    extra.push(p);
    const spy = vi.spyOn(globalThis, 'setTimeout');
    try {
      const tx = await p.transaction();
      await tx.send({ topic: 'invoices', messages: [{ value: 'v', partition: 0 }] });
      const delays = spy.mock.calls.map((c) => c[1] ?? 0);
      expect(delays.length).toBeGreaterThan(0);
      expect(delays.filter((d) => d > 0x7fffffff)).toEqual([]);
      await tx.commit();
    } finally {
      spy.mockRestore();
    }
    expect(await values('invoices', 0)).toEqual(['v']);
  });

  it('a transaction of a disconnected producer refuses send, sendOffsets and commit with NotConnectedError and writes nothing', async () => {
    await open();
    const p = await txProducer();
    const tx = await p.transaction();
    await tx.send({ topic: 'invoices', messages: [{ value: 'before', partition: 0 }] });
    await p.disconnect();
    for (const call of [
      () => tx.send({ topic: 'invoices', messages: [{ value: 'after', partition: 0 }] }),
      () => tx.sendBatch({ topicMessages: [{ topic: 'audit', messages: [{ value: 'after' }] }] }),
      () => tx.sendOffsets({ consumerGroupId: 'g', topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: '1' }] }] }),
      () => tx.commit(),
    ]) expect(await rejection(call())).toBeInstanceOf(NotConnectedError);
    expect(await uncommitted('invoices', 0)).toEqual(['before']);
    expect(await uncommitted('audit', 0)).toEqual([]);
    expect(await values('invoices', 0)).toEqual([]);
    // Connected again, the same transaction goes on and commits what it holds.
    await p.connect();
    await tx.commit();
    expect(await values('invoices', 0)).toEqual(['before']);
  });
});
