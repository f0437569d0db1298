/**
 * Schema versions. A database written by the code of every earlier DB_VERSION (committed
 * fixtures, test/log/fixtures/) opens with the current code with every record, watermark,
 * committed offset and producer state intact, and keeps every stored row. A database newer
 * than the code is refused with IncompatibleVersionError naming both versions, and nothing is
 * written to it. An open log never holds up another connection's upgrade or deletion.
 */
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { IncompatibleVersionError } from '../../src/errors.js';
import { Appender } from '../../src/log/appender.js';
import { DB_VERSION } from '../../src/log/log-db.js';
import { LogStore } from '../../src/log/log-store.js';
import { decodeBatch, encodeRecords, type RecordBatch } from '../../src/protocol/record-batch.js';
import type { KafkaMessage } from '../../src/types.js';
import { decode, dumpStores, fixtures, loadFixture, type Fixture } from './fixtures/fixture-db.js';
import { brokerOver, readAllFrom } from './log-helpers.js';

let n = 0;
const fresh = () => `upgrade-${n++}`;

/** The records of one partition as the fixture stores them, from its low watermark. */
function fixtureRecords(f: Fixture, topic: string, partition: number, low: number): KafkaMessage[] {
  const out: KafkaMessage[] = [];
  const batches = f.stores.batches!.rows.map((r) => decode(r.value) as RecordBatch).filter((b) => b.topic === topic && b.partition === partition);
  for (const b of batches) decodeBatch(b, out, low);
  return out.filter((m) => Number(m.offset) >= low);
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
}

const all = fixtures();

describe('upgrading a database written by an earlier schema version', () => {
  it('there is a fixture for every schema version before this one', () => {
    expect(all.map((f) => f.fixture.version)).toEqual(Array.from({ length: DB_VERSION }, (_, i) => i + 1).filter((v) => v <= DB_VERSION));
  });

  for (const { file, fixture } of all) {
    it(`${file}: every record, watermark, committed offset and producer state survive, and every row is kept`, async () => {
      const factory = new IDBFactory();
      const name = fresh();
      await loadFixture(factory, name, fixture);
      const before = await dumpStores(factory, name);

      const store = await LogStore.open({ indexedDB: factory, IDBKeyRange, name });
      const broker = await brokerOver(store);
      try {
        // Topics, partitions and watermarks.
        const topics = fixture.stores.topics!.rows.map((r) => decode(r.value) as { topic: string; numPartitions: number; internal: boolean });
        expect([...store.topics.keys()].sort()).toEqual(topics.map((t) => t.topic).sort());
        const segments = fixture.stores.segments!.rows.map((r) => decode(r.value) as { topic: string; partition: number; nextOffset: number });
        const stored = fixture.stores.batches!.rows.map((r) => decode(r.value) as RecordBatch);
        /** A partition's last batch (from version 2 on it carries the newest active segment and producer state). */
        const lastBatch = (topic: string, partition: number) => stored.filter((b) => b.topic === topic && b.partition === partition).at(-1);
        let records = 0;
        for (const row of fixture.stores.partitions!.rows) {
          const p = decode(row.value) as { topic: string; partition: number; logStartOffset: number };
          const last = lastBatch(p.topic, p.partition);
          const high = Math.max(p.logStartOffset, last ? last.baseOffset + last.lastOffsetDelta + 1 : 0, ...segments.filter((s) => s.topic === p.topic && s.partition === p.partition).map((s) => s.nextOffset));
          expect(store.watermarks(p.topic, p.partition), `${p.topic}-${p.partition}`).toEqual({ low: p.logStartOffset, high });
          // Every record, read through the current code, equals what the old code stored.
          const want = fixtureRecords(fixture, p.topic, p.partition, p.logStartOffset);
          const got = await readAllFrom(store, p.topic, p.partition);
          expect(got, `${p.topic}-${p.partition}`).toEqual(want);
          records += got.length;
        }
        expect(records).toBeGreaterThan(50);

        // Committed offsets (records of __consumer_offsets), metadata included.
        const committed = async (g: string) => (await broker.fetchOffsets(g)).map((o) => `${o.topic}-${o.partition}:${o.offset}:${o.metadata}`).sort();
        expect(await committed('g1')).toEqual(['orders-0:4:null', 'orders-1:7:null', 'orders-2:0:null']);
        expect(await committed('g2')).toEqual(['trimmed-0:5:null']);
        expect(await committed('g3')).toEqual(['orders-1:9:kept across upgrades']);

        // Producer states: each is loaded, and a retry of each producer's last batch is still
        // answered as a duplicate at its original offset rather than written again.
        type Row = { producerId: number; topic: string; partition: number; epoch: number; recent: { firstSeq: number; lastSeq: number; baseOffset: number }[] };
        const rows = fixture.stores.producers!.rows.map((r) => decode(r.value) as Row);
        // The state of a producer is its row, or what the partition's last batch carries when
        // that batch is the producer's and newer (version 2).
        const producers = new Map(rows.map((r) => [`${r.producerId}:${r.topic}:${r.partition}`, r]));
        for (const b of stored) {
          const c = b.carried?.producer;
          if (!c || lastBatch(b.topic, b.partition) !== b) continue;
          const k = `${b.producerId}:${b.topic}:${b.partition}`;
          const prev = producers.get(k);
          if (!prev || prev.recent.at(-1)!.baseOffset < c.recent.at(-1)!.baseOffset) producers.set(k, { producerId: b.producerId, topic: b.topic, partition: b.partition, ...c });
        }
        expect(producers.size).toBeGreaterThan(0);
        const appender = new Appender(store);
        for (const pr of producers.values()) {
          expect(store.producerState(pr.producerId, pr.topic, pr.partition)).toEqual(pr);
          const last = pr.recent.at(-1)!;
          const count = last.lastSeq - last.firstSeq + 1;
          const highBefore = store.watermarks(pr.topic, pr.partition).high;
          const [r] = await appender.append({
            producerId: pr.producerId, producerEpoch: pr.epoch,
            batches: [{ topic: pr.topic, partition: pr.partition, baseSequence: last.firstSeq, records: encodeRecords(Array.from({ length: count }, () => ({ value: 'retry' })), 1) }],
          });
          expect(r).toMatchObject({ duplicate: true, baseOffset: last.baseOffset });
          expect(store.watermarks(pr.topic, pr.partition).high).toBe(highBefore);
        }
        // The producer id counter: a new producer never reuses an id.
        const next = fixture.stores.meta!.rows.find((r) => r.key === 'nextProducerId')!.value as number;
        expect((await store.initProducerId()).producerId).toBe(next);
      } finally {
        broker.close();
      }

      // Every row the old code wrote is still stored as it was (the retries above wrote
      // nothing; only the producer id counter moved).
      const after = await dumpStores(factory, name);
      expect(after.version).toBe(DB_VERSION);
      for (const [storeName, rows] of Object.entries(before.stores)) {
        const kept = new Map(after.stores[storeName]!.map(([k, v]) => [JSON.stringify(k), v]));
        for (const [k, v] of rows) {
          if (storeName === 'meta' && k === 'nextProducerId') continue;
          expect(kept.get(JSON.stringify(k)), `${storeName} ${JSON.stringify(k)}`).toEqual(v);
        }
      }
    });
  }
});

describe('a database newer than the code', () => {
  it('is refused with IncompatibleVersionError naming both versions, and nothing is written', async () => {
    const factory = new IDBFactory();
    const name = fresh();
    await loadFixture(factory, name, all.at(-1)!.fixture);
    // A newer lanes upgraded it: same rows, a higher version (and a store this code does not know).
    const newer = factory.open(name, DB_VERSION + 1);
    newer.onupgradeneeded = () => newer.result.createObjectStore('from-the-future');
    (await request(newer)).close();
    const before = await dumpStores(factory, name);

    const err = await LogStore.open({ indexedDB: factory, IDBKeyRange, name }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(IncompatibleVersionError);
    const e = err as IncompatibleVersionError;
    expect(e.retriable).toBe(false);
    expect(e.details).toMatchObject({ databaseVersion: DB_VERSION + 1, codeVersion: DB_VERSION });
    expect(e.message).toContain(String(DB_VERSION + 1));
    expect(e.message).toContain(`version ${DB_VERSION}`);
    expect(await dumpStores(factory, name)).toEqual(before);
  });
});

describe('an open log never holds up another connection', () => {
  it('a higher-version open completes at once: the log closes and reports versionchange', async () => {
    const factory = new IDBFactory();
    const name = fresh();
    const lost: [string, number | null][] = [];
    const store = await LogStore.open({ indexedDB: factory, IDBKeyRange, name, onLost: (reason, v) => lost.push([reason, v]) });
    await store.createTopic('t', 1);
    const newer = factory.open(name, DB_VERSION + 1);
    let blocked = false;
    newer.onblocked = () => { blocked = true; };
    const db = await request(newer);
    expect(blocked).toBe(false);
    expect(db.version).toBe(DB_VERSION + 1);
    db.close();
    expect(lost).toEqual([['versionchange', DB_VERSION + 1]]);
    expect(store.closed).toBe(true);
  });

  it('deleteDatabase completes at once: the log closes and reports it', async () => {
    const factory = new IDBFactory();
    const name = fresh();
    const lost: [string, number | null][] = [];
    const store = await LogStore.open({ indexedDB: factory, IDBKeyRange, name, onLost: (reason, v) => lost.push([reason, v]) });
    await store.createTopic('t', 1);
    const del = factory.deleteDatabase(name);
    let blocked = false;
    del.onblocked = () => { blocked = true; };
    await request(del);
    expect(blocked).toBe(false);
    expect(lost).toEqual([['versionchange', null]]);
    // A new open finds an empty log.
    const again = await LogStore.open({ indexedDB: factory, IDBKeyRange, name });
    expect([...again.topics.keys()]).toEqual([]);
    again.close();
  });
});
