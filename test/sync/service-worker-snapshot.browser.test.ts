/**
 * What the service worker's sync may upload while tabs keep writing, in real IndexedDB
 * (Chromium and Firefox). The service worker opens the log the way sw/lanes-sync.ts does (an
 * eager LogStore: topics, segments, the transaction index and each partition's last batch) and
 * uploads up to each partition's last stable offset as that view computes it. A broker in the
 * same origin keeps appending meanwhile, so the view must be one snapshot: a transaction whose
 * first records land between the read of the transaction index and the read of the partition's
 * end would otherwise count as committed (the end includes its records, the index does not
 * know it is open), and its batches would be uploaded before its marker, aborted or not.
 *
 * The interleaving is made certain, not left to chance: a read-write transaction of the test
 * holds the `meta` store while the view's first read is queued behind it, and is let go only
 * once the broker's append of the open transaction's records is queued too.
 */
import { expect } from '@esm-bundle/chai';
import { createClient } from '../../src/index.js';
import { dbName } from '../../src/broker/in-page.js';
import { LogStore } from '../../src/log/log-store.js';
import { partitionFacts } from '../../src/sync/sync-agent.js';
import { decodeBatch } from '../../src/protocol/record-batch.js';
import type { KafkaMessage } from '../../src/types.js';
import { afterEach, describe, it } from '../log/mocha-globals.js';

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const c of closers.splice(0).reverse()) await c(); });

function openRaw(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(name);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

describe('the service worker uploads from one snapshot of the log', () => {
  it('a transaction opened while the worker opens the log is not uploadable: its end stops at the open transaction', async () => {
    const database = `sw-snap-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const lanes = createClient({ clientId: 'tab', database, broker: 'in-page', logCleanerIntervalMs: 0 });
    const admin = lanes.admin();
    const plain = lanes.producer();
    const tp = lanes.producer({ transactionalId: 'writer', idempotent: true, maxInFlightRequests: 1 });
    await admin.connect();
    await plain.connect();
    await tp.connect();
    closers.push(async () => { await tp.disconnect(); await plain.disconnect(); await admin.disconnect(); });
    await admin.createTopics({ topics: [{ topic: 't', numPartitions: 1 }] });
    await plain.send({ topic: 't', messages: [{ value: 'plain' }] }); // 0
    // A committed transaction first, so the broker holds everything the next one touches.
    const t0 = await tp.transaction();
    await t0.send({ topic: 't', messages: [{ value: 'committed' }] }); // 1
    await t0.commit(); // COMMIT 2
    const t1 = await tp.transaction();

    // The blocker: a read-write transaction on `meta` that keeps itself alive until let go.
    const raw = await openRaw(dbName(database));
    closers.push(() => raw.close());
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    let holding = true;
    void released.then(() => { holding = false; });
    const blocker = raw.transaction(['meta'], 'readwrite');
    const spin = (): void => { if (holding) blocker.objectStore('meta').get('nextProducerId').onsuccess = spin; };
    spin();
    const blockerDone = new Promise<void>((r) => { blocker.oncomplete = () => r(); blocker.onabort = () => r(); });

    // Watch transactions being created: the worker's first read of the log, then the broker's
    // append of t1's records, which must queue up while that read waits for the blocker.
    const original = IDBDatabase.prototype.transaction;
    let viewRead = false;
    let appendQueued = false;
    let sent: Promise<unknown> | undefined;
    IDBDatabase.prototype.transaction = function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
      const tx = original.apply(this, args);
      const scope = typeof args[0] === 'string' ? [args[0]] : [...args[0]];
      if (!viewRead && this !== raw && args[1] !== 'readwrite' && scope.includes('segments') && scope.includes('meta')) {
        viewRead = true;
        sent = t1.send({ topic: 't', messages: [{ value: 'open' }] }); // 3, open
      } else if (viewRead && !appendQueued && args[1] === 'readwrite' && scope.includes('batches')) {
        appendQueued = true;
        release();
      }
      return tx;
    } as IDBDatabase['transaction'];
    closers.push(() => { IDBDatabase.prototype.transaction = original; release(); });
    // Should the broker never append (a change elsewhere), the blocker still ends and the test fails below.
    const fallback = setTimeout(release, 10_000);

    const sw = await LogStore.open({ indexedDB, IDBKeyRange, name: dbName(database) });
    closers.push(() => sw.close());
    clearTimeout(fallback);
    IDBDatabase.prototype.transaction = original;
    await sent;
    await blockerDone;
    expect(viewRead, 'the worker read the log').to.equal(true);
    expect(appendQueued, "the broker's append was queued while the worker's read waited").to.equal(true);

    const [facts] = partitionFacts(sw);
    // The stable end of the worker's view: never past the open transaction's first offset (3).
    expect(facts!.logEnd).to.be.at.most(3);
    // What the worker would upload up to there holds no record of the open transaction.
    const rows = await sw.readBatches('t', 0, 0, facts!.logEnd);
    const out: KafkaMessage[] = [];
    for (const b of rows) if (!b.control) decodeBatch(b, out, 0);
    expect(out.map((m) => String(m.value))).to.not.include('open');

    // The broker's own view has the transaction open, and the tab sees it as such.
    const [w] = await admin.fetchTopicOffsets('t');
    expect([w!.high, w!.lastStable]).to.deep.equal(['4', '3']);
    await t1.abort();
  });
});
