/**
 * Reads at the log end come from the batches the appender has just committed, not from
 * IndexedDB: with the stored row removed behind the store's back, a read of the new batch still
 * answers it (byte for byte what was appended), while reads behind the active segment's cached
 * tail still go to IndexedDB. Each read gets its own copy of the bytes.
 */
import { describe, expect, it } from 'vitest';
import { Appender } from '../../src/log/appender.js';
import { S, transaction } from '../../src/log/log-db.js';
import { readPartition } from '../../src/log/reader.js';
import { append, openStore } from './log-helpers.js';

async function dropRow(store: Awaited<ReturnType<typeof openStore>>['store'], baseOffset: number) {
  const tx = transaction(store.db, [S.batches], 'readwrite');
  await tx.objectStore(S.batches).delete(['t', 0, baseOffset]);
  await tx.done;
}

describe('reads at the log end', () => {
  it('are answered from the just-committed batches; reads behind the cached tail go to IndexedDB', async () => {
    const { store } = await openStore();
    await store.createTopic('t', 1);
    const app = new Appender(store);
    await app.append(append('t', 0, [{ value: 'a' }, { value: 'b' }]));
    await app.append(append('t', 0, [{ value: 'c' }]));
    const stored = await store.readBatches('t', 0, 0, Infinity);
    expect(stored.map((b) => b.baseOffset)).toEqual([0, 2]);

    await dropRow(store, 2);
    const r = await readPartition(store, 't', 0, 2, 1 << 20);
    expect(r.high).toBe(3);
    expect(r.batches.map((b) => b.baseOffset)).toEqual([2]);
    expect(r.batches[0]!.payload).toEqual(stored[1]!.payload);
    expect(r.batches[0]!.crc).toBe(stored[1]!.crc);

    // Every read gets its own bytes: a reader that detaches or changes them harms no other.
    r.batches[0]!.payload.fill(0);
    const again = await readPartition(store, 't', 0, 1, 1 << 20);
    expect(again.batches.map((b) => b.baseOffset)).toEqual([0, 2]);
    expect(again.batches[1]!.payload).toEqual(stored[1]!.payload);
    store.close();
  });

  it('after a segment rolls, reads of the sealed segment read IndexedDB', async () => {
    const { store } = await openStore();
    await store.createTopic('t', 1, [{ name: 'segment.bytes', value: '1' }]);
    const app = new Appender(store);
    await app.append(append('t', 0, [{ value: 'a' }]));
    await app.append(append('t', 0, [{ value: 'b' }]));
    expect(store.partition('t', 0).active.baseOffset).toBe(1);
    await dropRow(store, 0);
    // Offset 0 lies in a sealed segment: IndexedDB, where the row is gone, answers.
    const r = await readPartition(store, 't', 0, 0, 1 << 20);
    expect(r.batches.map((b) => b.baseOffset)).toEqual([1]);
    store.close();
  });
});
