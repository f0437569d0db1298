/**
 * Shared set-up of the node client tests: a client on a fresh fake-indexeddb database, its
 * admin and producer connected, and the in-page broker behind them for direct calls.
 */
import { IDBKeyRange } from 'fake-indexeddb';
import { acquireInPageBroker } from '../../src/broker/in-page.js';
import type { Broker } from '../../src/broker/broker.js';
import { decodeBatch, verifyCrc, type RecordBatch } from '../../src/protocol/record-batch.js';
import { plainBatch } from '../../src/protocol/compression.js';
import type { ClientConfig, Consumer, ConsumerConfig, EachMessagePayload, ProducerConfig } from '../../src/index.js';
import type { KafkaMessage } from '../../src/types.js';
import { nodeClient } from '../helpers/node-client.js';

/** A connected admin and producer on a fresh database, plus the broker itself. */
export async function setup(over: Partial<ClientConfig> = {}, producerConfig: ProducerConfig = {}) {
  const { client, config, indexedDB } = nodeClient(over);
  const admin = client.admin();
  await admin.connect();
  const producer = client.producer(producerConfig);
  await producer.connect();
  const held = await acquireInPageBroker({ database: config.database, indexedDB, IDBKeyRange, logCleanerIntervalMs: 0 });
  const consumers: Consumer[] = [];
  return {
    client, config, indexedDB, admin, producer,
    broker: held.broker as Broker,
    /**
     * A connected free consumer, disconnected by close(). Its long polls are short by default:
     * stop() called while the runner is between fetches can miss its wake-up and wait for the
     * poll in flight (a runner bug reported separately).
     */
    async consumer(c: ConsumerConfig = {}) {
      const consumer = client.consumer({ maxWaitTimeInMs: 250, ...c });
      await consumer.connect();
      consumers.push(consumer);
      return consumer;
    },
    /** Offsets of a topic as { low, high } per partition, numbers. */
    async offsets(topic: string) {
      return (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, low: Number(p.low), high: Number(p.high) }));
    },
    async close() {
      for (const c of consumers) await c.disconnect();
      await producer.disconnect();
      await admin.disconnect();
      held.release();
    },
  };
}

/** A consumed message with its partition. */
export type Got = KafkaMessage & { topic: string; partition: number };

/** An eachMessage handler that records messages, and waits for a number of them. */
export function recorder(onMessage?: (p: EachMessagePayload) => void | Promise<void>) {
  const got: Got[] = [];
  let waiters: { n: number; resolve: () => void }[] = [];
  const check = () => {
    const ready = waiters.filter((w) => got.length >= w.n);
    waiters = waiters.filter((w) => got.length < w.n);
    for (const w of ready) w.resolve();
  };
  return {
    got,
    eachMessage: async (p: EachMessagePayload) => {
      got.push({ ...p.message, topic: p.topic, partition: p.partition });
      await onMessage?.(p);
      check();
    },
    /** Resolves once `n` messages in total were recorded. */
    until(n: number): Promise<Got[]> {
      return new Promise<void>((resolve) => { waiters.push({ n, resolve }); check(); }).then(() => got);
    },
    offsets: (partition?: number) => got.filter((m) => partition === undefined || m.partition === partition).map((m) => Number(m.offset)),
  };
}

/** Decodes fetched batches (checking their CRCs over the stored bytes, then decompressing) from `from`. */
export async function decodeAll(batches: RecordBatch[], from = 0): Promise<KafkaMessage[]> {
  const out: KafkaMessage[] = [];
  for (const b of batches) {
    verifyCrc(b);
    decodeBatch(await plainBatch(b), out, from);
  }
  return out;
}

/** Reads a whole partition through the broker, from `offset` (no waiting). */
export async function readAll(broker: Broker, topic: string, partition: number, offset = 0): Promise<KafkaMessage[]> {
  const out: KafkaMessage[] = [];
  let at = offset;
  for (;;) {
    const [r] = await broker.fetch({ partitions: [{ topic, partition, offset: at }], maxWaitMs: 0, maxBytes: 1 << 20, maxBytesPerPartition: 1 << 20 });
    if (r!.error) throw new Error(`fetch failed: ${r!.error.code} ${r!.error.message}`);
    if (r!.batches.length === 0) return out;
    const msgs = await decodeAll(r!.batches, at);
    out.push(...msgs);
    const last = r!.batches[r!.batches.length - 1]!;
    at = last.baseOffset + last.lastOffsetDelta + 1;
  }
}

/** The error a promise rejects with (fails when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; retriable?: boolean; details?: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection, but it resolved');
}

/** A function that throws, as a rejection (for sync throws). */
export function rejectionOf(fn: () => unknown): Promise<Error & { code?: string; details?: Record<string, unknown> }> {
  return rejection((async () => fn())());
}
