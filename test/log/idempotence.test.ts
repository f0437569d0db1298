import { describe, expect, it } from 'vitest';
import { Appender } from '../../src/log/appender.js';
import { InvalidProducerEpochError, OutOfOrderSequenceError } from '../../src/errors.js';
import { append, openStore, readAllFrom } from './log-helpers.js';

const P = 7;

async function reopen(o: { factory: IDBFactory; name: string }) {
  const { store } = await openStore({ factory: o.factory, name: o.name });
  return { store, appender: new Appender(store) };
}

describe('idempotent appends survive closing and reopening the log', () => {
  it('a retried batch after reopen is answered with its first offsets and not written again', async () => {
    const first = await openStore();
    await first.store.createTopic('t', 1);
    let appender = new Appender(first.store);
    await appender.append(append('t', 0, [{ value: 'other' }])); // someone else's record at offset 0
    const req = append('t', 0, [{ value: 'a' }, { value: 'b' }], { producerId: P, epoch: 0, seq: 0 });
    const [written] = await appender.append(req);
    expect(written).toMatchObject({ baseOffset: 1, duplicate: false });
    first.store.close();

    let { store, appender: a2 } = await reopen(first);
    appender = a2;
    expect(store.watermarks('t', 0)).toEqual({ low: 0, high: 3 });
    const [again] = await appender.append(req);
    expect(again).toMatchObject({ topic: 't', partition: 0, baseOffset: 1, duplicate: true });
    expect(store.watermarks('t', 0)).toEqual({ low: 0, high: 3 });

    const [next] = await appender.append(append('t', 0, [{ value: 'c' }], { producerId: P, epoch: 0, seq: 2 }));
    expect(next).toMatchObject({ baseOffset: 3, duplicate: false });
    expect((await readAllFrom(store, 't', 0)).map((m) => m.value)).toEqual(['other', 'a', 'b', 'c']);

    // And once more across a reopen: the newest batch is still recognised.
    store.close();
    ({ store, appender } = await reopen(first));
    const [dup] = await appender.append(append('t', 0, [{ value: 'c' }], { producerId: P, epoch: 0, seq: 2 }));
    expect(dup).toMatchObject({ baseOffset: 3, duplicate: true });
    expect(store.watermarks('t', 0).high).toBe(4);
    store.close();
  });

  it('recognises any of the last five batches, but a sequence gap is OutOfOrderSequence', async () => {
    const { store, factory, name } = await openStore();
    await store.createTopic('t', 1);
    const appender = new Appender(store);
    for (let s = 0; s < 6; s++) await appender.append(append('t', 0, [{ value: String(s) }], { producerId: P, seq: s }));
    store.close();
    const r = await reopen({ factory, name });
    for (let s = 1; s < 6; s++) {
      const [res] = await r.appender.append(append('t', 0, [{ value: String(s) }], { producerId: P, seq: s }));
      expect(res).toMatchObject({ baseOffset: s, duplicate: true });
    }
    const gap = r.appender.append(append('t', 0, [{ value: 'x' }], { producerId: P, seq: 8 }));
    await expect(gap).rejects.toBeInstanceOf(OutOfOrderSequenceError);
    await expect(gap).rejects.toMatchObject({ details: { expected: 6, got: 8 } });
    expect(r.store.watermarks('t', 0).high).toBe(6);
    const [ok] = await r.appender.append(append('t', 0, [{ value: '6' }], { producerId: P, seq: 6 }));
    expect(ok).toMatchObject({ baseOffset: 6, duplicate: false });
    r.store.close();
  });

  it('refuses an older epoch after reopen (a fenced producer) and writes nothing', async () => {
    const { store, factory, name } = await openStore();
    await store.createTopic('t', 1);
    const appender = new Appender(store);
    await appender.append(append('t', 0, [{ value: 'e0' }], { producerId: P, epoch: 0, seq: 0 }));
    await appender.append(append('t', 0, [{ value: 'e1' }], { producerId: P, epoch: 1, seq: 0 }));
    store.close();
    const r = await reopen({ factory, name });
    await expect(r.appender.append(append('t', 0, [{ value: 'old' }], { producerId: P, epoch: 0, seq: 1 }))).rejects.toBeInstanceOf(InvalidProducerEpochError);
    expect(r.store.watermarks('t', 0).high).toBe(2);
    // A new epoch must start at sequence 0.
    await expect(r.appender.append(append('t', 0, [{ value: 'x' }], { producerId: P, epoch: 2, seq: 5 }))).rejects.toBeInstanceOf(OutOfOrderSequenceError);
    const [ok] = await r.appender.append(append('t', 0, [{ value: 'e2' }], { producerId: P, epoch: 2, seq: 0 }));
    expect(ok).toMatchObject({ baseOffset: 2, duplicate: false });
    r.store.close();
  });

  it('a new producer must start at sequence 0; producers and partitions keep separate sequences', async () => {
    const { store } = await openStore();
    await store.createTopic('t', 2);
    const appender = new Appender(store);
    await expect(appender.append(append('t', 0, [{ value: 'x' }], { producerId: P, seq: 1 }))).rejects.toBeInstanceOf(OutOfOrderSequenceError);
    await appender.append(append('t', 0, [{ value: 'a' }], { producerId: P, seq: 0 }));
    const [p1] = await appender.append(append('t', 1, [{ value: 'b' }], { producerId: P, seq: 0 }));
    const [q] = await appender.append(append('t', 0, [{ value: 'c' }], { producerId: P + 1, seq: 0 }));
    expect(p1).toMatchObject({ partition: 1, baseOffset: 0, duplicate: false });
    expect(q).toMatchObject({ partition: 0, baseOffset: 1, duplicate: false });
    store.close();
  });

  it('a request with a bad batch writes none of its batches', async () => {
    const { store } = await openStore();
    await store.createTopic('t', 2);
    const appender = new Appender(store);
    const good = append('t', 0, [{ value: 'a' }], { producerId: P, seq: 0 });
    const bad = append('t', 1, [{ value: 'b' }], { producerId: P, seq: 3 });
    await expect(appender.append({ ...good, batches: [...good.batches, ...bad.batches] })).rejects.toBeInstanceOf(OutOfOrderSequenceError);
    expect([store.watermarks('t', 0).high, store.watermarks('t', 1).high]).toEqual([0, 0]);
    // The refused request left no producer state behind: sequence 0 is still next.
    const [ok] = await appender.append(good);
    expect(ok).toMatchObject({ baseOffset: 0, duplicate: false });
    store.close();
  });

  it('producer ids are never reused, also across reopen and when allocated concurrently', async () => {
    const { store, factory, name } = await openStore();
    const ids = await Promise.all([store.initProducerId(), store.initProducerId(), store.initProducerId()]);
    expect(new Set(ids.map((i) => i.producerId)).size).toBe(3);
    expect(ids.every((i) => i.producerEpoch === 0)).toBe(true);
    store.close();
    const r = await reopen({ factory, name });
    const next = await r.store.initProducerId();
    expect(next.producerId).toBeGreaterThan(Math.max(...ids.map((i) => i.producerId)));
    r.store.close();
  });
});
