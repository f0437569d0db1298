/**
 * The appender, the cleaner and topic admin write the same partitions. Whatever order their
 * transactions take, the in-memory state must match what is stored (a reopened log), and no
 * offset may be reused.
 */
import { unwrap } from 'idb';
import { describe, expect, it } from 'vitest';
import { TopicNotFoundError } from '../../src/errors.js';
import { Appender } from '../../src/log/appender.js';
import { deleteRecords, runCleaner } from '../../src/log/cleaner.js';
import type { LogStore } from '../../src/log/log-store.js';
import { append, fakeClock, openStore, readAllFrom } from './log-helpers.js';

/** Calls `hook` right after the store creates a readwrite transaction on `stores` (first time only). */
function onWriteTransaction(store: LogStore, stores: string[], hook: () => void): void {
  const db = unwrap(store.db);
  const original = db.transaction.bind(db);
  let fired = false;
  db.transaction = ((names: string | string[], mode?: IDBTransactionMode) => {
    const tx = original(names, mode);
    const list = typeof names === 'string' ? [names] : [...names];
    if (!fired && mode === 'readwrite' && stores.every((s) => list.includes(s)) && list.length === stores.length) {
      fired = true;
      hook();
    }
    return tx;
  }) as IDBDatabase['transaction'];
}

/** What the log looks like in memory, per partition. */
function snapshot(store: LogStore, topic: string, partition: number) {
  const p = store.partition(topic, partition);
  return {
    ...store.watermarks(topic, partition),
    segments: [...p.sealed, p.active].map((s) => ({ base: s.baseOffset, next: s.nextOffset, sealed: s.sealedAt !== -1, records: s.recordCount, version: s.version })),
  };
}

/** Closes and reopens the store: the stored state must equal the state in memory. */
async function expectStoredEqualsMemory(o: { store: LogStore; factory: IDBFactory; name: string }, topic: string, now?: () => number) {
  const mem = snapshot(o.store, topic, 0);
  const memRecords = await readAllFrom(o.store, topic, 0);
  o.store.close();
  const { store } = await openStore({ factory: o.factory, name: o.name, now });
  expect(snapshot(store, topic, 0)).toEqual(mem);
  expect(await readAllFrom(store, topic, 0)).toEqual(memRecords);
  return store;
}

describe('concurrent writes to one partition', () => {
  it('an append committing while retention deletes segments keeps the new low watermark', async () => {
    const o = await openStore();
    const { store } = o;
    await store.createTopic('t', 1, [{ name: 'segment.bytes', value: '1' }]);
    const appender = new Appender(store);
    for (const v of ['a', 'b', 'c']) await appender.append(append('t', 0, [{ value: v }]));
    await store.alterConfig('t', [{ name: 'retention.bytes', value: '1' }]);
    let appended: Promise<unknown> | undefined;
    onWriteTransaction(store, ['segments', 'batches', 'partitions', 'producers'], () => { appended = appender.append(append('t', 0, [{ value: 'd' }])); });
    await runCleaner(store, ['t']);
    await appended;
    expect(store.watermarks('t', 0)).toEqual({ low: 2, high: 4 });
    expect((await readAllFrom(store, 't', 0)).map((m) => m.value)).toEqual(['c', 'd']);
    const reopened = await expectStoredEqualsMemory(o, 't');
    reopened.close();
  });

  it('an append committing while compaction rewrites a segment keeps the new segment version', async () => {
    const o = await openStore();
    const { store } = o;
    await store.createTopic('t', 1, [{ name: 'segment.bytes', value: '1' }, { name: 'cleanup.policy', value: 'compact' }]);
    const appender = new Appender(store);
    for (const k of ['a', 'b', 'a']) await appender.append(append('t', 0, [{ key: k, value: k }]));
    let appended: Promise<unknown> | undefined;
    onWriteTransaction(store, ['batches', 'segments', 'partitions', 'producers'], () => { appended = appender.append(append('t', 0, [{ key: 'c', value: 'c' }])); });
    await runCleaner(store, ['t']);
    await appended;
    expect(snapshot(store, 't', 0).segments[0]).toMatchObject({ base: 0, version: 1, records: 0 });
    expect((await readAllFrom(store, 't', 0)).map((m) => m.offset)).toEqual(['1', '2', '3']);
    const reopened = await expectStoredEqualsMemory(o, 't');
    reopened.close();
  });

  it('the cleaner sealing an aged segment while an append is in flight never reuses offsets', async () => {
    const clock = fakeClock();
    const t0 = clock.t;
    const o = await openStore({ now: clock.now });
    const { store } = o;
    await store.createTopic('t', 1, [{ name: 'segment.ms', value: '1000' }]);
    const appender = new Appender(store);
    await appender.append(append('t', 0, [{ value: 'a' }]));
    // The append is planned while the segment is young; then it ages and the cleaner seals it.
    let cleaned: Promise<unknown> | undefined;
    onWriteTransaction(store, ['batches'], () => { clock.t = t0 + 5000; cleaned = runCleaner(store, ['t']); });
    await appender.append(append('t', 0, [{ value: 'b' }]));
    await cleaned;
    const reopened = await expectStoredEqualsMemory(o, 't', clock.now);
    expect(snapshot(reopened, 't', 0).segments.filter((s) => !s.sealed)).toHaveLength(1);
    const [next] = await new Appender(reopened).append(append('t', 0, [{ value: 'c' }]));
    expect(next!.baseOffset).toBe(2);
    expect((await readAllFrom(reopened, 't', 0)).map((m) => `${m.offset}:${m.value}`)).toEqual(['0:a', '1:b', '2:c']);
    reopened.close();
  });

  it('an append planned while the cleaner seals a segment never leaves two active segments', async () => {
    const clock = fakeClock();
    const t0 = clock.t;
    const o = await openStore({ now: clock.now });
    const { store } = o;
    await store.createTopic('t', 1, [{ name: 'segment.ms', value: '1000' }]);
    const appender = new Appender(store);
    await appender.append(append('t', 0, [{ value: 'a' }]));
    clock.t = t0 + 5000;
    // The cleaner seals; an append that still sees a young segment (its clock read earlier) races it.
    let appended: Promise<unknown> | undefined;
    onWriteTransaction(store, ['segments'], () => { clock.t = t0 + 10; appended = appender.append(append('t', 0, [{ value: 'b' }])); });
    await runCleaner(store, ['t']);
    await appended;
    clock.t = t0 + 20_000; // the next append rolls by age
    await appender.append(append('t', 0, [{ value: 'c' }]));
    const reopened = await expectStoredEqualsMemory(o, 't', clock.now);
    expect(snapshot(reopened, 't', 0).segments.filter((s) => !s.sealed)).toHaveLength(1);
    const [next] = await new Appender(reopened).append(append('t', 0, [{ value: 'd' }]));
    expect(next!.baseOffset).toBe(3);
    expect((await readAllFrom(reopened, 't', 0)).map((m) => `${m.offset}:${m.value}`)).toEqual(['0:a', '1:b', '2:c', '3:d']);
    reopened.close();
  });

  it('an append committing while deleteRecords runs keeps the new low watermark', async () => {
    const o = await openStore();
    const { store } = o;
    await store.createTopic('t', 1);
    const appender = new Appender(store);
    for (const v of ['a', 'b', 'c']) await appender.append(append('t', 0, [{ value: v }]));
    let appended: Promise<unknown> | undefined;
    onWriteTransaction(store, ['segments', 'batches', 'partitions', 'producers'], () => { appended = appender.append(append('t', 0, [{ value: 'd' }])); });
    await deleteRecords(store, 't', 0, 2);
    await appended;
    expect(store.watermarks('t', 0)).toEqual({ low: 2, high: 4 });
    const reopened = await expectStoredEqualsMemory(o, 't');
    reopened.close();
  });

  it('an append queued after deleteTopic fails and leaves nothing of the topic behind', async () => {
    const o = await openStore();
    const { store } = o;
    await store.createTopic('t', 1);
    const appender = new Appender(store);
    await appender.append(append('t', 0, [{ value: 'a' }]));
    const deleted = store.deleteTopic('t');
    const appended = appender.append(append('t', 0, [{ value: 'b' }]));
    await deleted;
    await expect(appended).rejects.toBeInstanceOf(TopicNotFoundError);
    const tx = store.db.transaction(['batches', 'segments'], 'readonly');
    expect(await Promise.all([tx.objectStore('batches').count(), tx.objectStore('segments').count()])).toEqual([0, 0]);
    await store.createTopic('t', 1);
    expect(await readAllFrom(store, 't', 0)).toEqual([]);
    store.close();
  });
});
