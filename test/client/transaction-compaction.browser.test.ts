/**
 * Compaction of transactional writes in real IndexedDB (Chromium and Firefox), through the
 * public API: an aborted or still open write of a key never costs a read-committed consumer the
 * key's committed value; aborted records are gone after the clean for read-uncommitted
 * consumers too; a committed transaction's value supersedes older ones at the next clean; all
 * of it reads the same after the log is reopened.
 */
import { expect } from '@esm-bundle/chai';
import { createClient, type Client } from '../../src/index.js';
import { afterEach, describe, it } from '../log/mocha-globals.js';
import { consumeN } from './browser-consume.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => { for (const c of closers.splice(0).reverse()) await c(); });

function client(database: string): Client {
  return createClient({ clientId: 'browser-test', database, broker: 'in-page', logCleanerIntervalMs: 0 });
}

/** Reads `n` records from the start with a free consumer of the given isolation, then stops it. */
async function consume(lanes: Client, n: number, readUncommitted: boolean): Promise<string[]> {
  const got = await consumeN(lanes, { topic: 'kv', offset: 0, n, readUncommitted });
  return got.map((m) => `${m.offset}:${String(m.key)}=${String(m.value)}`);
}

describe('compaction and transactions in the browser', () => {
  it('keeps the committed value under an aborted and an open write, drops aborted records, and reads the same after reopening', async () => {
    const database = `txc-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const lanes = client(database);
    const admin = lanes.admin();
    const producer = lanes.producer();
    const tp = lanes.producer({ transactionalId: 'writer', idempotent: true, maxInFlightRequests: 1 });
    await admin.connect();
    await producer.connect();
    await tp.connect();
    let open = true;
    closers.push(async () => {
      if (!open) return;
      await tp.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    });
    await admin.createTopics({ topics: [{ topic: 'kv', configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'segment.bytes', value: '1' }] }] });
    await producer.send({ topic: 'kv', messages: [{ key: 'k', value: 'v1' }] }); // 0
    const aborted = await tp.transaction();
    await aborted.send({ topic: 'kv', messages: [{ key: 'k', value: 'v2' }] }); // 1
    await aborted.abort(); // ABORT 2
    const pending = await tp.transaction();
    await pending.send({ topic: 'kv', messages: [{ key: 'k', value: 'v3' }] }); // 3, open
    await producer.send({ topic: 'kv', messages: [{ key: 'z', value: 'z' }] }); // 4

    await admin.runLogCleaner({ topics: ['kv'] });
    expect(await consume(lanes, 1, false)).to.deep.equal(['0:k=v1']);
    expect(await consume(lanes, 3, true)).to.deep.equal(['0:k=v1', '3:k=v3', '4:z=z']);

    await pending.commit(); // COMMIT 5
    await producer.send({ topic: 'kv', messages: [{ key: 'end', value: 'end' }] }); // 6
    await admin.runLogCleaner({ topics: ['kv'] });
    const after = ['3:k=v3', '4:z=z', '6:end=end'];
    expect(await consume(lanes, 3, false)).to.deep.equal(after);
    open = false;
    await tp.disconnect();
    await producer.disconnect();
    await admin.disconnect();

    const again = client(database);
    const admin2 = again.admin();
    await admin2.connect();
    closers.push(() => admin2.disconnect());
    const [w] = await admin2.fetchTopicOffsets('kv');
    expect([w!.low, w!.high, w!.lastStable]).to.deep.equal(['0', '7', '7']);
    expect(await consume(again, 3, false)).to.deep.equal(after);
    expect(await consume(again, 3, true)).to.deep.equal(after);
  });
});
