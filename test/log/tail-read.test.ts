/**
 * Reads at the log end come from the batches the appender has just committed, not from
 * IndexedDB, and answer exactly what IndexedDB would: shown by removing the stored row behind
 * the store's back (memory still answers) and by comparing, over many offsets and limits, with a
 * second connection to the same database that has no tail window. Reads behind the window, in
 * sealed segments, below a moved low watermark, of a topic deleted and created again, or after
 * the database was deleted and reopened never come from a stale window. A broker fetch waiting at
 * the log end is answered by the append with the records, from memory.
 */
import { describe, expect, it } from 'vitest';
import { Appender } from '../../src/log/appender.js';
import { deleteRecords, runCleaner } from '../../src/log/cleaner.js';
import { S, transaction } from '../../src/log/log-db.js';
import { LogStore } from '../../src/log/log-store.js';
import { readPartition } from '../../src/log/reader.js';
import { IDBKeyRange } from 'fake-indexeddb';
import { decodeBatch } from '../../src/protocol/record-batch.js';
import type { KafkaMessage } from '../../src/types.js';
import { append, brokerOver, fakeClock, openStore, readAllFrom } from './log-helpers.js';

async function dropRow(store: LogStore, topic: string, baseOffset: number) {
  const tx = transaction(store.db, [S.batches], 'readwrite');
  await tx.objectStore(S.batches).delete([topic, 0, baseOffset]);
  await tx.done;
}

const bases = (r: { batches: { baseOffset: number }[] }) => r.batches.map((b) => b.baseOffset);

describe('reads at the log end', () => {
  it('are answered from the just-committed batches, byte for byte, each read with its own copy', async () => {
    const { store } = await openStore();
    await store.createTopic('t', 1);
    const app = new Appender(store);
    await app.append(append('t', 0, [{ value: 'a' }, { value: 'b' }]));
    await app.append(append('t', 0, [{ value: 'c' }]));
    const stored = await store.readBatches('t', 0, 0, Infinity);
    expect(stored.map((b) => b.baseOffset)).toEqual([0, 2]);

    await dropRow(store, 't', 2); // only memory can answer offset 2 now
    const r = await readPartition(store, 't', 0, 2, 1 << 20);
    expect(r).toMatchObject({ high: 3, low: 0 });
    expect(bases(r)).toEqual([2]);
    expect(r.batches[0]!.payload).toEqual(stored[1]!.payload);
    expect(r.batches[0]!.crc).toBe(stored[1]!.crc);
    expect(store.tail.hits).toBe(1);

    // A reader that changes (or, in a SharedWorker, transfers away) its bytes harms no other.
    r.batches[0]!.payload.fill(0);
    const again = await readPartition(store, 't', 0, 1, 1 << 20);
    expect(bases(again)).toEqual([0, 2]);
    expect(again.batches[1]!.payload).toEqual(stored[1]!.payload);
    store.close();
  });

  it('answer what IndexedDB answers for every offset, maxBytes and maxRecords', async () => {
    const { store, factory, name } = await openStore();
    await store.createTopic('t', 1);
    const app = new Appender(store);
    for (let i = 0; i < 12; i++) await app.append(append('t', 0, Array.from({ length: 1 + (i % 4) }, (_, j) => ({ key: `k${j}`, value: 'v'.repeat(10 * (i % 5)) }))));
    const plain = await LogStore.open({ indexedDB: factory, IDBKeyRange, name }); // no tail window
    plain.tail.limits.partitionBytes = 0;
    plain.tail.limits.totalBytes = 0;
    const { high } = store.watermarks('t', 0);
    const hits = store.tail.hits;
    for (let offset = 0; offset <= high; offset++) {
      for (const maxBytes of [1, 150, 400, 1 << 20]) {
        for (const maxRecords of [1, 3, Infinity]) {
          const mem = await readPartition(store, 't', 0, offset, maxBytes, maxRecords);
          const idb = await readPartition(plain, 't', 0, offset, maxBytes, maxRecords);
          expect(mem, `offset ${offset} maxBytes ${maxBytes} maxRecords ${maxRecords}`).toEqual(idb);
        }
      }
    }
    expect(store.tail.hits - hits).toBe(high * 12);
    expect(plain.tail.hits).toBe(0);
    plain.close();
    store.close();
  });

  it('after a segment rolls, reads of the sealed segment go to IndexedDB (the cleaner may rewrite it)', async () => {
    const { store } = await openStore();
    await store.createTopic('t', 1, [{ name: 'segment.bytes', value: '1' }]);
    const app = new Appender(store);
    await app.append(append('t', 0, [{ value: 'a' }]));
    await app.append(append('t', 0, [{ value: 'b' }]));
    expect(store.partition('t', 0).active.baseOffset).toBe(1);
    await dropRow(store, 't', 0);
    // Offset 0 lies in a sealed segment: IndexedDB, where the row is gone, answers.
    expect(bases(await readPartition(store, 't', 0, 0, 1 << 20))).toEqual([1]);
    store.close();
  });

  it('a compacted segment is read as compacted, not from the window', async () => {
    const clock = fakeClock();
    const { store } = await openStore({ now: clock.now });
    await store.createTopic('c', 1, [{ name: 'cleanup.policy', value: 'compact' }, { name: 'segment.ms', value: '1000' }]);
    const app = new Appender(store);
    for (let i = 0; i < 3; i++) await app.append(append('c', 0, [{ key: 'k', value: i }]));
    clock.t += 2000;
    await runCleaner(store); // seals the active segment (segment.ms), then compacts it
    expect((await readAllFrom(store, 'c', 0, 0)).map((m) => [m.offset, m.value])).toEqual([['2', 2]]);
    store.close();
  });

  it('deleteRecords into the active segment: below the low watermark is out of range, at it the straddling batch as IndexedDB', async () => {
    const { store } = await openStore();
    await store.createTopic('d', 1);
    const app = new Appender(store);
    await app.append(append('d', 0, [{ value: 'a' }, { value: 'b' }, { value: 'c' }]));
    await app.append(append('d', 0, [{ value: 'd' }, { value: 'e' }]));
    await deleteRecords(store, 'd', 0, 4);
    await expect(readPartition(store, 'd', 0, 3, 1 << 20)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    expect((await readAllFrom(store, 'd', 0, 4)).map((m) => m.value)).toEqual(['e']);
    store.close();
  });

  it('a topic deleted and created again never answers from the old window', async () => {
    const { store } = await openStore();
    await store.createTopic('t', 1);
    const app = new Appender(store);
    await app.append(append('t', 0, [{ value: 'old-0' }, { value: 'old-1' }]));
    await store.deleteTopic('t');
    expect(store.tail.stats().partitions).toBe(0);
    await store.createTopic('t', 1);
    await app.append(append('t', 0, [{ value: 'new-0' }]));
    await app.append(append('t', 0, [{ value: 'new-1' }]));
    expect((await readAllFrom(store, 't', 0, 0)).map((m) => m.value)).toEqual(['new-0', 'new-1']);
    store.close();
  });

  it('a database deleted and opened again starts with an empty window', async () => {
    const { store, factory, name } = await openStore();
    await store.createTopic('t', 1);
    await new Appender(store).append(append('t', 0, [{ value: 'lost' }]));
    store.close();
    await new Promise<void>((resolve, reject) => { const r = factory.deleteDatabase(`${name}`); r.onsuccess = () => resolve(); r.onerror = () => reject(r.error); });
    const fresh = await LogStore.open({ indexedDB: factory, IDBKeyRange, name });
    await fresh.createTopic('t', 1);
    await new Appender(fresh).append(append('t', 0, [{ value: 'fresh' }]));
    expect((await readAllFrom(fresh, 't', 0, 0)).map((m) => m.value)).toEqual(['fresh']);
    expect(fresh.tail.stats()).toMatchObject({ partitions: 1, batches: 1 });
    fresh.close();
  });

  it('holds at most its limits: the memory of a long log is the window, not the log', async () => {
    const { store } = await openStore();
    await store.createTopic('t', 2);
    store.tail.limits.partitionBytes = 2000;
    store.tail.limits.totalBytes = 3000;
    const app = new Appender(store);
    for (let i = 0; i < 40; i++) await app.append(append('t', i % 2, [{ value: 'x'.repeat(200) }]));
    const s = store.tail.stats();
    expect(s.bytes).toBeLessThanOrEqual(3000);
    expect(s.partitions).toBe(2);
    // What fell out of the window is read from IndexedDB, the same records.
    expect((await readAllFrom(store, 't', 0, 0)).length).toBe(20);
    store.close();
  });
});

describe('a fetch waiting at the log end', () => {
  it('is answered by the append with the new records, read from memory (no IndexedDB read)', async () => {
    const { store } = await openStore();
    await store.createTopic('t', 1);
    const broker = await brokerOver(store);
    try {
      const app = broker.appender;
      await app.append(append('t', 0, [{ value: 'before' }]));
      const waiting = broker.fetch({ partitions: [{ topic: 't', partition: 0, offset: 1 }], maxWaitMs: 30_000, maxBytes: 1 << 20, maxBytesPerPartition: 1 << 20 });
      const before = { hits: store.tail.hits, misses: store.tail.misses };
      await app.append(append('t', 0, [{ value: 'new-1' }, { value: 'new-2' }]));
      const [r] = await waiting;
      expect(r).toMatchObject({ offset: 1, high: 3, low: 0 });
      const got: KafkaMessage[] = [];
      for (const b of r!.batches) decodeBatch(b, got, 1);
      expect(got.map((m) => [m.offset, m.value])).toEqual([['1', 'new-1'], ['2', 'new-2']]);
      expect({ hits: store.tail.hits - before.hits, misses: store.tail.misses - before.misses }).toEqual({ hits: 1, misses: 0 });
    } finally {
      broker.close();
    }
  });

  it('is answered before the produce that woke it, which is still answered after its commit', async () => {
    const { store } = await openStore();
    await store.createTopic('t', 1);
    const broker = await brokerOver(store);
    try {
      const order: string[] = [];
      const fetch = (offset: number) => broker.fetch({ partitions: [{ topic: 't', partition: 0, offset }], maxWaitMs: 30_000, maxBytes: 1 << 20, maxBytesPerPartition: 1 << 20 });
      const waiting = fetch(0).then((r) => { order.push(`fetch ${r[0]!.high}`); return r; });
      const produced = broker.produce(append('t', 0, [{ value: 'x' }])).then((r) => { order.push(`produce ${r[0]!.baseOffset}`); });
      await Promise.all([waiting, produced]);
      expect(order).toEqual(['fetch 1', 'produce 0']);
      expect((await store.readBatches('t', 0, 0, Infinity)).map((b) => b.baseOffset)).toEqual([0]);

      // A produce that wakes nobody is answered as before.
      order.length = 0;
      await broker.produce(append('t', 0, [{ value: 'y' }])).then(() => order.push('produce'));
      expect(order).toEqual(['produce']);
    } finally {
      broker.close();
    }
  });

  it('is woken by the commit before the append resolves, so its answer starts ahead of the producer', async () => {
    const { store } = await openStore();
    await store.createTopic('t', 1);
    const app = new Appender(store);
    const order: string[] = [];
    // A reader's first step after its wake-up, as a woken fetch takes it (a microtask).
    store.onAppend((_t, _p, end) => { void Promise.resolve().then(() => order.push(`reader ${end}`)); });
    await app.append(append('t', 0, [{ value: 'x' }])).then((r) => { order.push(`append ${r[0]!.baseOffset}`); });
    expect(order).toEqual(['reader 1', 'append 0']);
    // Both follow the commit: the record is stored, and in the window a woken read answers from.
    expect((await store.readBatches('t', 0, 0, Infinity)).map((b) => b.baseOffset)).toEqual([0]);
    expect(bases(await readPartition(store, 't', 0, 0, 1 << 20))).toEqual([0]);
    store.close();
  });
});
