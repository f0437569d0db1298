/**
 * The log itself in real IndexedDB (Chromium and Firefox): idempotent appends across closing and reopening,
 * and a cleaner racing appends, on a LogStore opened with the page's `indexedDB`.
 */
import { expect } from '@esm-bundle/chai';
import { InvalidProducerEpochError, OutOfOrderSequenceError } from '../../src/index.js';
import { Appender, type AppendRequest } from '../../src/log/appender.js';
import { runCleaner } from '../../src/log/cleaner.js';
import { LogStore } from '../../src/log/log-store.js';
import { readPartition } from '../../src/log/reader.js';
import { decodeBatch, encodeRecords, payloadCrc } from '../../src/protocol/record-batch.js';
import { parseTopicConfig } from '../../src/protocol/topic-config.js';
import type { KafkaMessage, Message } from '../../src/index.js';
import { afterEach, describe, it } from './mocha-globals.js';
import { openVersion1 } from '../helpers/version1-db.js';

const opened: LogStore[] = [];
const names: string[] = [];

async function open(name: string, now?: () => number): Promise<LogStore> {
  const store = await LogStore.open({ indexedDB, IDBKeyRange, name, now });
  opened.push(store);
  return store;
}

function freshName(): string {
  const name = `log-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  names.push(name);
  return name;
}

function req(topic: string, partition: number, messages: Message[], o: { producerId?: number; epoch?: number; seq?: number } = {}): AppendRequest {
  return { producerId: o.producerId ?? -1, producerEpoch: o.epoch ?? 0, batches: [{ topic, partition, baseSequence: o.seq ?? -1, records: encodeRecords(messages, Date.now()) }] };
}

async function values(store: LogStore, topic: string, partition: number, from = 0): Promise<string[]> {
  const r = await readPartition(store, topic, partition, from, 1 << 20);
  const out: KafkaMessage[] = [];
  for (const b of r.batches) decodeBatch(b, out, from);
  return out.map((m) => `${m.offset}:${String(m.value)}`);
}

async function rejectsWith(p: Promise<unknown>, ctor: new (...a: never[]) => Error): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(ctor);
    return;
  }
  throw new Error(`expected a ${ctor.name}`);
}

afterEach(async () => {
  for (const s of opened.splice(0)) if (!s.closed) s.close();
  await Promise.all(names.splice(0).map((n) => new Promise<void>((resolve) => {
    const r = indexedDB.deleteDatabase(n);
    r.onsuccess = r.onerror = r.onblocked = () => resolve();
  })));
});

describe('idempotent appends in real IndexedDB', () => {
  it('a retry after closing and reopening is answered with the same offsets and not written again', async () => {
    const name = freshName();
    const first = await open(name);
    await first.createTopic('t', 1);
    const req0 = req('t', 0, [{ value: 'a' }, { value: 'b' }], { producerId: 3, seq: 0 });
    const [w] = await new Appender(first).append(req0);
    expect(w!.baseOffset).to.equal(0);
    expect(w!.duplicate).to.equal(false);
    first.close();

    const second = await open(name);
    const appender = new Appender(second);
    const [again] = await appender.append(req0);
    expect(again!.baseOffset).to.equal(0);
    expect(again!.duplicate).to.equal(true);
    expect(second.watermarks('t', 0)).to.deep.equal({ low: 0, high: 2 });
    const [next] = await appender.append(req('t', 0, [{ value: 'c' }], { producerId: 3, seq: 2 }));
    expect(next!.baseOffset).to.equal(2);
    expect(next!.duplicate).to.equal(false);
    await rejectsWith(appender.append(req('t', 0, [{ value: 'gap' }], { producerId: 3, seq: 9 })), OutOfOrderSequenceError);
    await appender.append(req('t', 0, [{ value: 'e1' }], { producerId: 3, epoch: 1, seq: 0 }));
    await rejectsWith(appender.append(req('t', 0, [{ value: 'old' }], { producerId: 3, epoch: 0, seq: 3 })), InvalidProducerEpochError);
    expect(await values(second, 't', 0)).to.deep.equal(['0:a', '1:b', '2:c', '3:e1']);
    second.close();

    const third = await open(name);
    expect(third.watermarks('t', 0)).to.deep.equal({ low: 0, high: 4 });
    const [dup] = await new Appender(third).append(req('t', 0, [{ value: 'e1' }], { producerId: 3, epoch: 1, seq: 0 }));
    expect(dup!.duplicate).to.equal(true);
    expect(dup!.baseOffset).to.equal(3);
  });

  it('producer ids allocated at the same time are distinct, and stay unused after reopen', async () => {
    const name = freshName();
    const store = await open(name);
    const ids = (await Promise.all([store.initProducerId(), store.initProducerId()])).map((i) => i.producerId);
    expect(ids[0]).to.not.equal(ids[1]);
    store.close();
    const again = await open(name);
    expect((await again.initProducerId()).producerId).to.be.greaterThan(Math.max(...ids));
  });
});

describe('reads behind the log end in real IndexedDB', () => {
  it('free the bytes of the row read past the cut and hand over intact batches', async () => {
    const store = await open(freshName());
    store.tail.limits.partitionBytes = 0; // every read goes to IndexedDB
    store.tail.limits.totalBytes = 0;
    await store.createTopic('r', 1);
    const appender = new Appender(store);
    for (let i = 0; i < 6; i++) await appender.append(req('r', 0, [{ value: `a${i}`.padEnd(200, '.') }, { value: `b${i}`.padEnd(200, '.') }]));
    const size = store.partition('r', 0).active.sizeBytes / 6;
    const proto = ArrayBuffer.prototype as ArrayBuffer & { transfer?: (n?: number) => ArrayBuffer };
    const realTransfer = proto.transfer;
    const freed: number[] = [];
    if (realTransfer) proto.transfer = function (this: ArrayBuffer, n?: number) { freed.push(this.byteLength); return realTransfer.call(this, n); };
    try {
      // Two batches fit: the third row is read to learn that it does not, and its bytes go.
      const r = await readPartition(store, 'r', 0, 0, Math.floor(size * 2.5));
      expect(r.batches.map((b) => b.baseOffset)).to.deep.equal([0, 2]);
      const out: KafkaMessage[] = [];
      for (const b of r.batches) decodeBatch(b, out, 0);
      expect(out.map((m) => String(m.value).slice(0, 2))).to.deep.equal(['a0', 'b0', 'a1', 'b1']);
      if (realTransfer) expect(freed).to.deep.equal([size - 64]); // the payload of one row (sizeBytes = payload + 64)
      // The next read gets that batch from IndexedDB again, whole.
      expect((await values(store, 'r', 0, 4)).map((v) => v.slice(0, 4))).to.deep.equal(['4:a2', '5:b2', '6:a3', '7:b3', '8:a4', '9:b4', '10:a', '11:b']);
    } finally {
      if (realTransfer) proto.transfer = realTransfer;
    }
  });
});

describe('the cleaner and appends in real IndexedDB', () => {
  it('retention racing an append keeps stored and in-memory state equal', async () => {
    const name = freshName();
    const store = await open(name);
    await store.createTopic('t', 1, [{ name: 'segment.bytes', value: '1' }]);
    const appender = new Appender(store);
    for (const v of ['a', 'b', 'c']) await appender.append(req('t', 0, [{ value: v }]));
    await store.alterConfig('t', [{ name: 'retention.bytes', value: '1' }]);
    const appended = appender.append(req('t', 0, [{ value: 'd' }]));
    const cleaned = runCleaner(store, ['t']);
    await Promise.all([appended, cleaned]);
    const mem = { ...store.watermarks('t', 0), records: await values(store, 't', 0, store.watermarks('t', 0).low) };
    store.close();
    const reopened = await open(name);
    const low = reopened.watermarks('t', 0).low;
    expect({ ...reopened.watermarks('t', 0), records: await values(reopened, 't', 0, low) }).to.deep.equal(mem);
    expect(mem.high).to.equal(4);
    const [next] = await new Appender(reopened).append(req('t', 0, [{ value: 'e' }]));
    expect(next!.baseOffset).to.equal(4);
  });

  it('compaction keeps offsets and the high watermark across reopen', async () => {
    const name = freshName();
    const store = await open(name);
    await store.createTopic('c', 1, [{ name: 'segment.bytes', value: '1' }, { name: 'cleanup.policy', value: 'compact' }]);
    const appender = new Appender(store);
    for (const [i, k] of ['0', '1', '0', '1', '0'].entries()) await appender.append(req('c', 0, [{ key: k, value: `v${i}` }]));
    await runCleaner(store, ['c']);
    store.close();
    const reopened = await open(name);
    expect(reopened.watermarks('c', 0)).to.deep.equal({ low: 0, high: 5 });
    expect(await values(reopened, 'c', 0, 0)).to.deep.equal(['3:v3', '4:v4']);
    expect(await values(reopened, 'c', 0, 1)).to.deep.equal(['3:v3', '4:v4']);
  });

  it('appends commit while a long cleaner run is still in progress (the cleaner never blocks appends)', async () => {
    const store = await open(freshName());
    await store.createTopic('busy', 1, [{ name: 'segment.bytes', value: '1' }, { name: 'cleanup.policy', value: 'compact' }]);
    await store.createTopic('other', 1);
    const appender = new Appender(store);
    // 200 one-batch segments of 20 keys: the cleaner rewrites segment after segment.
    for (let i = 0; i < 200; i++) await appender.append(req('busy', 0, [{ key: `k${i % 20}`, value: `v${i}` }]));
    const order: string[] = [];
    const cleaning = runCleaner(store, ['busy']).then((stats) => { order.push('cleaner done'); return stats; });
    await new Promise((r) => setTimeout(r, 0)); // let the cleaner start
    const [r] = await appender.append(req('other', 0, [{ value: 'during' }]));
    order.push('append done');
    const stats = await cleaning;
    expect(order).to.deep.equal(['append done', 'cleaner done']);
    expect(r!.baseOffset).to.equal(0);
    expect(stats.segmentsCompacted).to.be.greaterThan(100);
  });
});

describe('schema version 1 in real IndexedDB', () => {
  /** Writes a database as version 1 of the log left it: batches keyed in line, rows current. */
  async function writeVersion1(name: string, producerId: number): Promise<void> {
    const db = await openVersion1(name);
    const now = Date.now();
    const tx = db.transaction(['topics', 'partitions', 'segments', 'batches', 'producers', 'meta'], 'readwrite');
    tx.objectStore('topics').put({ topic: 't', numPartitions: 1, config: parseTopicConfig(undefined), createdAt: now, internal: false });
    tx.objectStore('partitions').put({ topic: 't', partition: 0, logStartOffset: 0 });
    let size = 0;
    const recent = [];
    for (let i = 0; i < 3; i++) {
      const rec = encodeRecords([{ value: `v${i}` }], now);
      size += rec.payload.length + 64;
      tx.objectStore('batches').put({
        topic: 't', partition: 0, baseOffset: i, lastOffsetDelta: 0, count: 1, firstTimestamp: now, maxTimestamp: now, timestampType: 'CreateTime', logAppendTime: -1,
        producerId, producerEpoch: 0, baseSequence: i, crc: payloadCrc(rec.payload), sizeBytes: rec.payload.length + 64, payload: rec.payload, segment: 0, cleanedAt: -1,
      });
      recent.push({ firstSeq: i, lastSeq: i, baseOffset: i, logAppendTime: -1 });
    }
    tx.objectStore('segments').put({ topic: 't', partition: 0, baseOffset: 0, nextOffset: 3, sizeBytes: size, batchCount: 3, recordCount: 3, firstTimestamp: now, maxTimestamp: now, createdAt: now, sealedAt: -1, version: 0 });
    tx.objectStore('producers').put({ producerId, topic: 't', partition: 0, epoch: 0, lastSequence: 2, recent, updatedAt: now });
    tx.objectStore('meta').put(producerId + 1, 'nextProducerId');
    await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onabort = () => reject(tx.error); });
    db.close();
  }

  it('upgrades: the batches move to out-of-line keys with every row, and the log continues where it was', async () => {
    const name = freshName();
    await writeVersion1(name, 7);
    const store = await open(name);
    const raw = (await new Promise<IDBDatabase>((resolve) => { const r = indexedDB.open(name); r.onsuccess = () => resolve(r.result); }));
    expect(raw.version).to.equal(2);
    expect([...raw.objectStoreNames].sort()).to.deep.equal(['batches', 'meta', 'partitions', 'producers', 'segments', 'topics']);
    expect(raw.transaction('batches').objectStore('batches').keyPath).to.equal(null);
    raw.close();
    expect(store.watermarks('t', 0)).to.deep.equal({ low: 0, high: 3 });
    expect(await values(store, 't', 0)).to.deep.equal(['0:v0', '1:v1', '2:v2']);
    const appender = new Appender(store);
    const [dup] = await appender.append(req('t', 0, [{ value: 'v2' }], { producerId: 7, seq: 2 }));
    expect(dup).to.include({ duplicate: true, baseOffset: 2 });
    const [next] = await appender.append(req('t', 0, [{ value: 'v3' }], { producerId: 7, seq: 3 }));
    expect(next).to.include({ duplicate: false, baseOffset: 3 });
    store.close();
    const again = await open(name);
    await again.usePartition('t', 0);
    expect(await values(again, 't', 0)).to.deep.equal(['0:v0', '1:v1', '2:v2', '3:v3']);
    expect(again.producerState(7, 't', 0)?.lastSequence).to.equal(3);
  });
});
