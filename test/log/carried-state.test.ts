/**
 * An append writes one row, its batch, which carries the active segment's counters and its
 * producer's state (src/log/carried-state.ts). Whatever was committed last, a reopened log
 * (lazy, as the broker opens it, and eager) rebuilds the same watermarks, segment counters and
 * producer states from its rows and the last batch: no acknowledged record is lost, no offset
 * is reused, and a retry of any producer's last batch is still answered as a duplicate.
 */
import { IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { OutOfOrderSequenceError } from '../../src/errors.js';
import { Appender } from '../../src/log/appender.js';
import { deleteRecords, runCleaner } from '../../src/log/cleaner.js';
import { openLogDb, S } from '../../src/log/log-db.js';
import { LogStore } from '../../src/log/log-store.js';
import { append, fakeClock, openStore, readAllFrom } from './log-helpers.js';

type Opened = Awaited<ReturnType<typeof openStore>>;

/** The partition as memory holds it: watermarks, active segment, producer states. */
function state(store: LogStore, topic: string, ids: number[]) {
  const p = store.partition(topic, 0);
  return {
    ...store.watermarks(topic, 0),
    active: p.active,
    producers: ids.map((id) => store.producerState(id, topic, 0) ?? null),
  };
}

/** Reopens the log both ways (lazy as the broker does, and eager) and checks each against memory; returns the lazy one. */
async function reopenEqual(o: Opened, topic: string, ids: number[], now?: () => number): Promise<LogStore> {
  const mem = state(o.store, topic, ids);
  const records = await readAllFrom(o.store, topic, 0);
  o.store.close();
  const eager = await LogStore.open({ indexedDB: o.factory, IDBKeyRange, name: o.name, now });
  expect(state(eager, topic, ids)).toEqual(mem);
  eager.close();
  const lazy = await LogStore.open({ indexedDB: o.factory, IDBKeyRange, name: o.name, now, lazy: true });
  await lazy.usePartition(topic, 0);
  for (const id of ids) await lazy.useProducer(id, topic, 0);
  expect(state(lazy, topic, ids)).toEqual(mem);
  expect(await readAllFrom(lazy, topic, 0)).toEqual(records);
  return lazy;
}

/** The stored rows of the log. */
async function rows(o: Opened) {
  const db = await openLogDb(o.factory, o.name);
  const [segments, producers, batches] = await Promise.all([db.getAll(S.segments), db.getAll(S.producers), db.getAll(S.batches)]);
  db.close();
  return { segments, producers, batches };
}

describe('state carried by the last batch', () => {
  it('an append writes only its batch; a reopened log has the same high watermark, segment and producer state', async () => {
    const o = await openStore();
    await o.store.createTopic('t', 1);
    const app = new Appender(o.store);
    const { producerId } = await o.store.initProducerId();
    for (let i = 0; i < 4; i++) await app.append(append('t', 0, [{ value: `v${i}` }, { value: `w${i}` }], { producerId, seq: 2 * i }));
    const stored = await rows(o);
    // The segment row is as the topic's creation wrote it, and no producers row was written.
    expect(stored.segments).toHaveLength(1);
    expect(stored.segments[0]).toMatchObject({ nextOffset: 0, batchCount: 0 });
    expect(stored.producers).toHaveLength(0);
    expect(stored.batches.at(-1)!.carried).toMatchObject({ segment: { batchCount: 4, recordCount: 8 }, producer: { lastSequence: 7 } });

    const again = await reopenEqual(o, 't', [producerId]);
    expect(again.watermarks('t', 0)).toEqual({ low: 0, high: 8 });
    const a2 = new Appender(again);
    // A retry of the last batch is a duplicate; a gap is refused; the next sequence lands at the next offset.
    const [dup] = await a2.append(append('t', 0, [{ value: 'v3' }, { value: 'w3' }], { producerId, seq: 6 }));
    expect(dup).toMatchObject({ duplicate: true, baseOffset: 6 });
    await expect(a2.append(append('t', 0, [{ value: 'x' }], { producerId, seq: 9 }))).rejects.toBeInstanceOf(OutOfOrderSequenceError);
    const [next] = await a2.append(append('t', 0, [{ value: 'x' }], { producerId, seq: 8 }));
    expect(next).toMatchObject({ duplicate: false, baseOffset: 8 });
    again.close();
  });

  it('two producers taking turns: the one whose batch is no longer last has its row written, in the same transaction', async () => {
    const o = await openStore();
    await o.store.createTopic('t', 1);
    const app = new Appender(o.store);
    const { producerId: p1 } = await o.store.initProducerId();
    const { producerId: p2 } = await o.store.initProducerId();
    await app.append(append('t', 0, [{ value: 'a' }], { producerId: p1, seq: 0 }));
    await app.append(append('t', 0, [{ value: 'b' }], { producerId: p1, seq: 1 }));
    await app.append(append('t', 0, [{ value: 'c' }], { producerId: p2, seq: 0 }));
    let stored = await rows(o);
    expect(stored.producers.map((r) => [r.producerId, r.lastSequence])).toEqual([[p1, 1]]);
    // A batch without idempotence ends p2's carrying: its row is written with it.
    await app.append(append('t', 0, [{ value: 'd' }]));
    stored = await rows(o);
    expect(stored.producers.map((r) => [r.producerId, r.lastSequence])).toEqual([[p1, 1], [p2, 0]]);
    await app.append(append('t', 0, [{ value: 'e' }], { producerId: p1, seq: 2 }));

    const again = await reopenEqual(o, 't', [p1, p2]);
    const a2 = new Appender(again);
    const [d1] = await a2.append(append('t', 0, [{ value: 'e' }], { producerId: p1, seq: 2 }));
    const [d2] = await a2.append(append('t', 0, [{ value: 'c' }], { producerId: p2, seq: 0 }));
    expect([d1, d2]).toMatchObject([{ duplicate: true, baseOffset: 4 }, { duplicate: true, baseOffset: 2 }]);
    expect(again.watermarks('t', 0).high).toBe(5);
    again.close();
  });

  it('segment rolls write the sealed and the new active segment; the counters after a roll survive a reopen', async () => {
    const o = await openStore();
    await o.store.createTopic('t', 1, [{ name: 'segment.bytes', value: '200' }]);
    const app = new Appender(o.store);
    const { producerId } = await o.store.initProducerId();
    for (let i = 0; i < 12; i++) await app.append(append('t', 0, [{ value: `value ${i}`.padEnd(40, '.') }], { producerId, seq: i }));
    expect(o.store.partition('t', 0).sealed.length).toBeGreaterThan(1);
    const again = await reopenEqual(o, 't', [producerId]);
    await again.useSegments('t', 0);
    expect(again.partition('t', 0).sealed.length).toBeGreaterThan(1);
    const [next] = await new Appender(again).append(append('t', 0, [{ value: 'x' }], { producerId, seq: 12 }));
    expect(next).toMatchObject({ duplicate: false, baseOffset: 12 });
    again.close();
  });

  it('deleteRecords of every record keeps the high watermark and the producer state: no offset is reused', async () => {
    const o = await openStore();
    await o.store.createTopic('t', 1);
    const app = new Appender(o.store);
    const { producerId } = await o.store.initProducerId();
    for (let i = 0; i < 3; i++) await app.append(append('t', 0, [{ value: `v${i}` }], { producerId, seq: i }));
    await deleteRecords(o.store, 't', 0, -1);
    expect((await rows(o)).batches).toHaveLength(0);
    const again = await reopenEqual(o, 't', [producerId]);
    expect(again.watermarks('t', 0)).toEqual({ low: 3, high: 3 });
    const a2 = new Appender(again);
    const [dup] = await a2.append(append('t', 0, [{ value: 'v2' }], { producerId, seq: 2 }));
    expect(dup).toMatchObject({ duplicate: true, baseOffset: 2 });
    const [next] = await a2.append(append('t', 0, [{ value: 'v3' }], { producerId, seq: 3 }));
    expect(next).toMatchObject({ duplicate: false, baseOffset: 3 });
    again.close();
  });

  it('retention deleting the segment that holds the last batch keeps the producer state and the log end', async () => {
    const clock = fakeClock();
    const o = await openStore({ now: clock.now });
    await o.store.createTopic('t', 1, [{ name: 'segment.ms', value: '1000' }, { name: 'retention.ms', value: '2000' }]);
    const app = new Appender(o.store);
    const { producerId } = await o.store.initProducerId();
    for (let i = 0; i < 3; i++) await app.append(append('t', 0, [{ value: `v${i}` }], { producerId, seq: i, now: clock.t }));
    clock.t += 1500; // the cleaner seals the aged active segment ...
    await runCleaner(o.store, ['t']);
    clock.t += 5000; // ... and later retention deletes it: the log is empty
    await runCleaner(o.store, ['t']);
    expect((await rows(o)).batches).toHaveLength(0);
    const again = await reopenEqual(o, 't', [producerId], clock.now);
    expect(again.watermarks('t', 0)).toEqual({ low: 3, high: 3 });
    const [dup] = await new Appender(again).append(append('t', 0, [{ value: 'v2' }], { producerId, seq: 2, now: clock.t }));
    expect(dup).toMatchObject({ duplicate: true, baseOffset: 2 });
    again.close();
  });

  it('compaction deleting a producer\'s last batch never brings back the older state an earlier batch carries', async () => {
    const clock = fakeClock();
    const o = await openStore({ now: clock.now });
    await o.store.createTopic('t', 1, [{ name: 'segment.ms', value: '1000' }, { name: 'cleanup.policy', value: 'compact' }, { name: 'delete.retention.ms', value: '0' }]);
    const app = new Appender(o.store);
    const { producerId } = await o.store.initProducerId();
    // Offsets 0 (k1=a), 1 (k2=b) by the producer; then a tombstone of k2 by the same producer.
    await app.append(append('t', 0, [{ key: 'k1', value: 'a' }], { producerId, seq: 0, now: clock.t }));
    await app.append(append('t', 0, [{ key: 'k2', value: 'b' }], { producerId, seq: 1, now: clock.t }));
    await app.append(append('t', 0, [{ key: 'k2', value: null }], { producerId, seq: 2, now: clock.t }));
    clock.t += 1500;
    await runCleaner(o.store, ['t']); // seals the segment, compacts it: the tombstone is due at once
    clock.t += 10;
    await runCleaner(o.store, ['t']); // the second pass removes the tombstone's batch
    const stored = await rows(o);
    expect(stored.batches.map((b) => b.baseOffset)).toEqual([0]);
    // The batch at offset 0 still carries the state after sequence 0; the state after 2 is in the row.
    expect(stored.batches[0]!.carried?.producer?.lastSequence).toBe(0);
    expect(stored.producers.map((r) => r.lastSequence)).toEqual([2]);
    // A lazy broker whose first append is someone else's writes the producer's row from
    // memory: that must be the newer state, not the one offset 0 carries.
    const lazy = await LogStore.open({ indexedDB: o.factory, IDBKeyRange, name: o.name, now: clock.now, lazy: true });
    await new Appender(lazy).append(append('t', 0, [{ value: 'other' }], { now: clock.t }));
    lazy.close();
    const again = await reopenEqual({ ...o, store: await LogStore.open({ indexedDB: o.factory, IDBKeyRange, name: o.name, now: clock.now }) }, 't', [producerId], clock.now);
    expect(again.producerState(producerId, 't', 0)?.lastSequence).toBe(2);
    expect(again.watermarks('t', 0).high).toBe(4);
    const a2 = new Appender(again);
    await expect(a2.append(append('t', 0, [{ value: 'x' }], { producerId, seq: 1 + 1, now: clock.t }))).resolves.toMatchObject([{ duplicate: true, baseOffset: 2 }]);
    const [next] = await a2.append(append('t', 0, [{ value: 'x' }], { producerId, seq: 3, now: clock.t }));
    expect(next).toMatchObject({ duplicate: false, baseOffset: 4 });
    again.close();
  });
});
