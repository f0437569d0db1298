/** Helpers of the node log tests: a LogStore on fake-indexeddb with a clock the test moves. */
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { Broker } from '../../src/broker/broker.js';
import { LogStore } from '../../src/log/log-store.js';
import { readPartition } from '../../src/log/reader.js';
import { decodeBatch, encodeRecords, verifyCrc } from '../../src/protocol/record-batch.js';
import type { AppendRequest } from '../../src/log/appender.js';
import type { KafkaMessage, Message } from '../../src/types.js';
import { decodeAll } from '../client/helpers.js';

let n = 0;

/** A clock the test sets. */
export function fakeClock(start = 1_700_000_000_000) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

/** Opens a LogStore on a fresh (or given) fake IDBFactory. */
export async function openStore(o: { factory?: IDBFactory; name?: string; now?: () => number } = {}) {
  const factory = o.factory ?? new IDBFactory();
  const name = o.name ?? `log-${Date.now()}-${n++}`;
  const store = await LogStore.open({ indexedDB: factory, IDBKeyRange, name, now: o.now });
  return { store, factory, name };
}

/** A broker over a store (whichever way this build constructs one), cleaner timer off. */
export async function brokerOver(store: LogStore): Promise<Broker> {
  const B = Broker as unknown as { open?: (s: LogStore, o: object) => Promise<Broker>; new (s: LogStore, o: object): Broker };
  const options = { host: 'in-page', database: store.name, logCleanerIntervalMs: 0 };
  return typeof B.open === 'function' ? B.open(store, options) : new B(store, options);
}

/** A one-batch append request. */
export function append(topic: string, partition: number, messages: Message[], o: { producerId?: number; epoch?: number; seq?: number; now?: number } = {}): AppendRequest {
  return {
    producerId: o.producerId ?? -1,
    producerEpoch: o.epoch ?? 0,
    batches: [{ topic, partition, baseSequence: o.seq ?? -1, records: encodeRecords(messages, o.now ?? 1_700_000_000_000) }],
  };
}

/** Every record of a partition from `offset`, read through readPartition page by page. */
export async function readAllFrom(store: LogStore, topic: string, partition: number, offset?: number): Promise<KafkaMessage[]> {
  let at = offset ?? store.watermarks(topic, partition).low;
  const out: KafkaMessage[] = [];
  for (;;) {
    const r = await readPartition(store, topic, partition, at, 1 << 20);
    if (r.batches.length === 0) return out;
    for (const b of r.batches) {
      verifyCrc(b);
      decodeBatch(b, out, at);
    }
    const last = r.batches[r.batches.length - 1]!;
    at = last.baseOffset + last.lastOffsetDelta + 1;
  }
}

/**
 * Every record a reader of the isolation level gets from offset 0 of `topic`-0 through the
 * broker's fetch, as "offset:key=value".
 */
export async function readAsIsolation(broker: Broker, readUncommitted: boolean, topic = 'c'): Promise<string[]> {
  const out: string[] = [];
  let at = 0;
  for (;;) {
    const [r] = await broker.fetch({ partitions: [{ topic, partition: 0, offset: at }], maxWaitMs: 0, maxBytes: 1 << 20, maxBytesPerPartition: 1 << 20, readUncommitted });
    if (r!.error) throw new Error(r!.error.message);
    if (r!.batches.length === 0) return out;
    for (const m of await decodeAll(r!.batches, at)) out.push(`${m.offset}:${m.key}=${m.value}`);
    const last = r!.batches[r!.batches.length - 1]!;
    at = last.baseOffset + last.lastOffsetDelta + 1;
  }
}
