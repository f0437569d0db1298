/**
 * Committed offsets outlive the page: after every client disconnected (the in-page broker
 * closes with the last one) a new client on the same IDBFactory and database reopens the
 * broker, which reloads `__consumer_offsets`, and a consumer of the same group resumes at the
 * committed offset (last processed + 1). A group with no committed offset starts where
 * fromBeginning says.
 */
import { IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireInPageBroker } from '../../src/broker/in-page.js';
import { createClient, type ClientConfig, type Consumer, type ConsumerConfig, type EachMessagePayload } from '../../src/index.js';
import { nodeClient } from '../helpers/node-client.js';
import { waitFor, FAST } from './helpers.js';

/** Everything opened by one "page load"; unload() disconnects it all. */
function page(config: ClientConfig) {
  const client = createClient(config);
  const open: { disconnect(): Promise<void> }[] = [];
  return {
    async admin() { const a = client.admin(); await a.connect(); open.push(a); return a; },
    async producer() { const p = client.producer(); await p.connect(); open.push(p); return p; },
    async consumer(c: ConsumerConfig = {}) {
      const consumer = createClient({ ...config, clientId: `c${open.length}` }).consumer({ groupId: 'g', ...FAST, ...c });
      await consumer.connect();
      open.push(consumer);
      return consumer;
    },
    async unload() { for (const o of open.splice(0).reverse()) await o.disconnect(); },
  };
}

let pages: ReturnType<typeof page>[] = [];
afterEach(async () => { for (const p of pages) await p.unload(); pages = []; });
const load = (config: ClientConfig) => { const p = page(config); pages.push(p); return p; };

/** Records what a consumer processes, as `partition:offset:value`. */
async function consume(consumer: Consumer, topic: string, fromBeginning: boolean, onMessage?: (p: EachMessagePayload) => void) {
  const seen: string[] = [];
  await consumer.subscribe({ topics: [topic], fromBeginning });
  await consumer.run({
    autoCommitThreshold: 1,
    eachMessage: async (p) => { seen.push(`${p.partition}:${p.message.offset}:${String(p.message.value)}`); onMessage?.(p); },
  });
  return seen;
}

describe('committed offsets survive a reload', () => {
  it('a new client on the same database resumes the group at last processed + 1 and redelivers nothing', async () => {
    const { config, indexedDB } = nodeClient();
    const first = load(config);
    const admin = await first.admin();
    await admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    const producer = await first.producer();
    for (let i = 0; i < 10; i++) await producer.send({ topic: 't', messages: [{ value: `a${i}`, partition: i % 2 }] });

    // Consume part of the topic: each partition pauses itself after its record at offset 2.
    const consumer = await first.consumer();
    const seen = await consume(consumer, 't', true, ({ message, pause }) => { if (message.offset === '2') pause(); });
    await waitFor(() => seen.length === 6, 'offsets 0..2 of both partitions');
    await waitFor(async () => {
      const [t] = await admin.fetchOffsets({ groupId: 'g', topics: ['t'] });
      return t!.partitions.every((p) => p.offset === '3');
    }, 'commits of offset 3');
    const before = await acquireInPageBroker({ database: config.database, indexedDB, IDBKeyRange });
    before.release();
    await first.unload(); // the last client goes: the in-page broker closes

    const second = load({ ...config, clientId: 'reloaded' });
    const after = await acquireInPageBroker({ database: config.database, indexedDB, IDBKeyRange });
    after.release();
    expect(after.broker).not.toBe(before.broker); // a reopened broker, not the old one
    const admin2 = await second.admin();
    const [t] = await admin2.fetchOffsets({ groupId: 'g', topics: ['t'] });
    expect(t!.partitions).toEqual([{ partition: 0, offset: '3', metadata: null }, { partition: 1, offset: '3', metadata: null }]);
    const producer2 = await second.producer();
    await producer2.send({ topic: 't', messages: [{ value: 'b0', partition: 0 }, { value: 'b1', partition: 1 }] });

    const consumer2 = await second.consumer();
    const seen2 = await consume(consumer2, 't', true); // fromBeginning does not matter: the group has offsets
    await waitFor(() => seen2.length === 6, 'the rest of both partitions');
    expect(seen.sort()).toEqual(['0:0:a0', '0:1:a2', '0:2:a4', '1:0:a1', '1:1:a3', '1:2:a5']);
    expect(seen2.sort()).toEqual(['0:3:a6', '0:4:a8', '0:5:b0', '1:3:a7', '1:4:a9', '1:5:b1']);
    await waitFor(async () => {
      const [u] = await admin2.fetchOffsets({ groupId: 'g', topics: ['t'] });
      return u!.partitions.every((p) => p.offset === '6');
    }, 'commits of offset 6');
  });

  it('fromBeginning decides earliest or latest for a group with no committed offset', async () => {
    const { config } = nodeClient();
    const p = load(config);
    const admin = await p.admin();
    await admin.createTopics({ topics: [{ topic: 't' }] });
    const producer = await p.producer();
    await producer.send({ topic: 't', messages: [{ value: 'old0' }, { value: 'old1' }] });

    const early = await p.consumer({ groupId: 'early' });
    const earlySeen = await consume(early, 't', true);
    const late = await p.consumer({ groupId: 'late' });
    const fetching = new Promise<void>((r) => { const off = late.on(late.events.FETCH_START, () => { off(); r(); }); });
    const lateSeen = await consume(late, 't', false);
    await fetching; // its position is resolved to the log end
    await producer.send({ topic: 't', messages: [{ value: 'new' }] });
    await waitFor(() => earlySeen.length === 3 && lateSeen.length === 1, 'both groups caught up');
    expect(earlySeen).toEqual(['0:0:old0', '0:1:old1', '0:2:new']);
    expect(lateSeen).toEqual(['0:2:new']);
  });
});
