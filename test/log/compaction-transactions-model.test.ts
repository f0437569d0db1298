/**
 * Compaction with transactions, checked against a twin log that is never cleaned: the same
 * seeded random mix of plain writes, tombstones, and transactions of two producers that commit,
 * abort or stay open goes to both, and the cleaner runs on one of them at random points with
 * the clock moving past delete.retention.ms now and then. After every run:
 * - watermarks and the last stable offset are the twin's;
 * - a read-committed reader gets a subsequence of what the twin's gets, with the twin's last
 *   record of every key (a tombstone may be gone once due);
 * - a read-uncommitted reader gets, from the last stable offset on, exactly the twin's records;
 *   below it, no record of an aborted transaction outside the active segment;
 * - every segment row counts the batches and records it holds;
 * and a reopened log reads the same. LANES_SEED replays a run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import type { LogStore } from '../../src/log/log-store.js';
import { encodeRecords } from '../../src/protocol/record-batch.js';
import type { Message } from '../../src/types.js';
import { prng } from '../helpers/prng.js';
import { brokerOver, fakeClock, openStore, readAsIsolation } from './log-helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => { for (const c of cleanups.splice(0)) c(); });

const RETENTION = 1000;
const CONFIG = [
  { name: 'cleanup.policy', value: 'compact' }, { name: 'segment.bytes', value: '300' },
  { name: 'segment.ms', value: '5000' }, { name: 'delete.retention.ms', value: String(RETENTION) },
];

async function log(clock: { now: () => number }) {
  const opened = await openStore({ now: clock.now });
  const broker = await brokerOver(opened.store);
  cleanups.push(() => { broker.close(); opened.store.close(); });
  await broker.createTopics([{ topic: 'c', numPartitions: 1, configEntries: CONFIG }], false);
  return { ...opened, broker };
}

const read = (broker: Broker, readUncommitted: boolean) => readAsIsolation(broker, readUncommitted);

const offsetOf = (s: string) => Number(s.slice(0, s.indexOf(':')));
const keyOf = (s: string) => s.slice(s.indexOf(':') + 1, s.indexOf('='));

/** Checks the segment rows against the batches they hold. */
async function segmentsMatch(store: LogStore): Promise<void> {
  const p = store.partition('c', 0);
  for (const s of [...p.sealed, p.active]) {
    const rows = s.nextOffset > s.baseOffset ? await store.readBatches('c', 0, s.baseOffset, s.nextOffset) : [];
    expect({ at: s.baseOffset, batches: s.batchCount, records: s.recordCount, bytes: s.sizeBytes })
      .toEqual({ at: s.baseOffset, batches: rows.length, records: rows.reduce((n, b) => n + b.count, 0), bytes: rows.reduce((n, b) => n + b.sizeBytes, 0) });
  }
}

describe('compaction with transactions against a twin that is never cleaned', () => {
  const seed = Number(process.env.LANES_SEED ?? 0x5eed);
  it(`agrees with the twin on what every reader may see (seed ${seed})`, async () => {
    const random = prng(seed);
    const clock = fakeClock();
    const cleaned = await log(clock);
    const twin = await log(clock);
    const both = async <T>(f: (b: Broker) => Promise<T>): Promise<T> => { const a = await f(cleaned.broker); const b = await f(twin.broker); expect(b).toEqual(a); return a; };
    const ids = ['A', 'B'];
    const producers = new Map<string, { producerId: number; producerEpoch: number; seq: number; open: boolean }>();
    for (const id of ids) producers.set(id, { ...(await both((b) => b.initProducerId({ transactionalId: id }))), seq: 0, open: false });
    const keys = ['k0', 'k1', 'k2', 'k3'];
    let n = 0;
    const messages = (): Message[] => Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
      key: keys[Math.floor(random() * keys.length)]!, value: random() < 0.1 ? null : `v${n++}`,
    }));
    let runs = 0;
    for (let step = 0; step < 300; step++) {
      const r = random();
      const id = ids[Math.floor(random() * ids.length)]!;
      const p = producers.get(id)!;
      if (r < 0.35) {
        const records = encodeRecords(messages(), 1);
        await both((b) => b.produce({ producerId: -1, producerEpoch: 0, batches: [{ topic: 'c', partition: 0, baseSequence: -1, records }] }));
      } else if (r < 0.65) {
        const m = messages();
        const records = encodeRecords(m, 1);
        await both((b) => b.produce({ producerId: p.producerId, producerEpoch: p.producerEpoch, transactionalId: id, batches: [{ topic: 'c', partition: 0, baseSequence: p.seq, records }] }));
        p.seq += m.length;
        p.open = true;
      } else if (r < 0.8) {
        if (!p.open) continue;
        const commit = random() < 0.5;
        await both((b) => b.endTransaction({ transactionalId: id, producerId: p.producerId, producerEpoch: p.producerEpoch, commit }));
        p.open = false;
      } else {
        clock.t += random() < 0.3 ? RETENTION + Math.floor(random() * 5000) : Math.floor(random() * 100);
        await cleaned.broker.runLogCleaner(['c']);
        runs++;
        const [w] = await cleaned.broker.listOffsets('c');
        expect(w).toEqual((await twin.broker.listOffsets('c'))[0]);
        const stable = w!.lastStable!;
        const rc = await read(cleaned.broker, false);
        const rcTwin = await read(twin.broker, false);
        const twinSet = new Set(rcTwin);
        expect(rc.filter((x) => !twinSet.has(x))).toEqual([]);
        const lastOf = new Map<string, string>();
        for (const x of rcTwin) lastOf.set(keyOf(x), x);
        const have = new Set(rc);
        for (const [, x] of lastOf) if (!have.has(x)) expect(x.endsWith('=null'), `last committed record ${x} lost`).toBe(true);
        const ru = await read(cleaned.broker, true);
        const ruTwin = await read(twin.broker, true);
        expect(ru.filter((x) => offsetOf(x) >= stable)).toEqual(ruTwin.filter((x) => offsetOf(x) >= stable));
        const activeBase = cleaned.store.partition('c', 0).active.baseOffset;
        const abortedLeft = ru.filter((x) => offsetOf(x) < stable && !twinSet.has(x) && offsetOf(x) < activeBase);
        expect(abortedLeft).toEqual([]);
        await segmentsMatch(cleaned.store);
      }
    }
    expect(runs).toBeGreaterThan(20);
    // The log as stored reads the same once reopened (transaction index included).
    const views = [await read(cleaned.broker, false), await read(cleaned.broker, true)];
    cleaned.broker.close();
    cleaned.store.close();
    const again = await openStore({ factory: cleaned.factory, name: cleaned.name, now: clock.now });
    const b2 = await brokerOver(again.store);
    cleanups.push(() => { b2.close(); again.store.close(); });
    expect([await read(b2, false), await read(b2, true)]).toEqual(views);
    await again.store.useAll();
    await segmentsMatch(again.store);
  });
});
