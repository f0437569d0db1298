/**
 * In real IndexedDB (Chromium and Firefox): the reads that look backwards from an offset
 * (deleteRecords finding the batch that straddles the new low watermark, a mirror finding the
 * last replica offset it wrote) answer what they did, and open no backward value cursor over
 * the batches: Firefox's value cursor reads rows ahead and deserializes them on the calling
 * thread (bench/ANALYSIS.md, "(c) in Firefox"). They use a key cursor and read single rows.
 */
import { expect } from '@esm-bundle/chai';
import { Appender } from '../../src/log/appender.js';
import { deleteRecords } from '../../src/log/cleaner.js';
import { LogStore } from '../../src/log/log-store.js';
import { readPartition } from '../../src/log/reader.js';
import { decodeBatch, encodeRecords } from '../../src/protocol/record-batch.js';
import { mirrorPosition, REPLICA_OFFSET_HEADER } from '../../src/sync/mirror.js';
import type { KafkaMessage, Message } from '../../src/index.js';
import { afterEach, describe, it } from './mocha-globals.js';

const opened: LogStore[] = [];
const names: string[] = [];

async function fresh(): Promise<LogStore> {
  const name = `backward-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  names.push(name);
  const store = await LogStore.open({ indexedDB, IDBKeyRange, name });
  opened.push(store);
  return store;
}

afterEach(async () => {
  for (const s of opened.splice(0)) if (!s.closed) s.close();
  await Promise.all(names.splice(0).map((n) => new Promise<void>((resolve) => {
    const r = indexedDB.deleteDatabase(n);
    r.onsuccess = r.onerror = r.onblocked = () => resolve();
  })));
});

/** Runs `fn` while recording the direction of every value cursor opened on an object store. */
async function valueCursors<T>(fn: () => Promise<T>): Promise<{ result: T; directions: string[] }> {
  const proto = IDBObjectStore.prototype;
  const original = proto.openCursor;
  const directions: string[] = [];
  proto.openCursor = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['openCursor']>) {
    directions.push(`${this.name}:${args[1] ?? 'next'}`);
    return original.apply(this, args);
  };
  try {
    return { result: await fn(), directions };
  } finally {
    proto.openCursor = original;
  }
}

async function append(store: LogStore, topic: string, messages: Message[]): Promise<number> {
  const [r] = await new Appender(store).append({ producerId: -1, producerEpoch: 0, batches: [{ topic, partition: 0, baseSequence: -1, records: encodeRecords(messages, Date.now()) }] });
  return r!.baseOffset;
}

async function values(store: LogStore, topic: string, from: number): Promise<string[]> {
  const r = await readPartition(store, topic, 0, from, 1 << 20);
  const out: KafkaMessage[] = [];
  for (const b of r.batches) decodeBatch(b, out, from);
  return out.map((m) => `${m.offset}:${String(m.value)}`);
}

describe('backward reads without a backward value cursor', () => {
  it('deleteRecords inside a batch keeps that batch; at a batch boundary it deletes the one before', async () => {
    const store = await fresh();
    await store.createTopic('t', 1);
    for (const b of [0, 1, 2]) await append(store, 't', [0, 1, 2].map((i) => ({ value: `v${b * 3 + i}` })));
    // Offset 4 lies inside the batch 3-5: that batch stays (records 4 and 5 stay readable).
    const inside = await valueCursors(() => deleteRecords(store, 't', 0, 4));
    expect(inside.result).to.equal(4);
    expect(inside.directions.filter((d) => d.endsWith(':prev'))).to.deep.equal([]);
    expect(store.watermarks('t', 0)).to.deep.equal({ low: 4, high: 9 });
    expect((await store.readBatches('t', 0, 0, Infinity)).map((b) => b.baseOffset)).to.deep.equal([3, 6]);
    expect(await values(store, 't', 4)).to.deep.equal(['4:v4', '5:v5', '6:v6', '7:v7', '8:v8']);
    // Offset 6 starts a batch: the batch 3-5 goes.
    const boundary = await valueCursors(() => deleteRecords(store, 't', 0, 6));
    expect(boundary.result).to.equal(6);
    expect(boundary.directions.filter((d) => d.endsWith(':prev'))).to.deep.equal([]);
    expect((await store.readBatches('t', 0, 0, Infinity)).map((b) => b.baseOffset)).to.deep.equal([6]);
    // -1: the high watermark; every batch goes.
    expect(await deleteRecords(store, 't', 0, -1)).to.equal(9);
    expect(await store.readBatches('t', 0, 0, Infinity)).to.deep.equal([]);
  });

  it('mirrorPosition is one past the last replica offset written, looking back past batches without one', async () => {
    const store = await fresh();
    await store.createTopic('m', 1);
    const empty = await valueCursors(() => mirrorPosition(store, 'm', 0));
    expect(empty.result).to.equal(0);
    const h = (o: number) => ({ [REPLICA_OFFSET_HEADER]: String(o) });
    await append(store, 'm', [{ value: 'a', headers: h(10) }, { value: 'b', headers: h(11) }]);
    expect((await valueCursors(() => mirrorPosition(store, 'm', 0))).result).to.equal(12);
    // A batch whose last record has no replica offset: its earlier record's counts.
    await append(store, 'm', [{ value: 'c', headers: h(20) }, { value: 'local' }]);
    expect((await valueCursors(() => mirrorPosition(store, 'm', 0))).result).to.equal(21);
    // Batches with none at all are looked past.
    for (let i = 0; i < 3; i++) await append(store, 'm', [{ value: `plain-${i}` }]);
    const past = await valueCursors(() => mirrorPosition(store, 'm', 0));
    expect(past.result).to.equal(21);
    expect([...empty.directions, ...past.directions].filter((d) => d.endsWith(':prev'))).to.deep.equal([]);
  });
});
