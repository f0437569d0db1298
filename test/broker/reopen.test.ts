/**
 * The in-page broker on fake-indexeddb when its database is deleted under it: the deletion
 * completes, nothing of the lost log is reported, the next call reopens a fresh log, and a
 * producer created afterwards never gets an id a producer of the lost log still sends with
 * (its first batch would otherwise be answered as that producer's retry and not written).
 */
import { IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireInPageBroker } from '../../src/broker/in-page.js';
import { TopicNotFoundError } from '../../src/errors.js';
import { nodeClient } from '../helpers/node-client.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });

function deleted(factory: IDBFactory, name: string): Promise<'done' | 'blocked'> {
  return new Promise((resolve, reject) => {
    const r = factory.deleteDatabase(name);
    r.onsuccess = () => resolve('done');
    r.onerror = () => reject(r.error);
    r.onblocked = () => resolve('blocked');
  });
}

describe('the database deleted under the in-page broker', () => {
  it('is reopened fresh by the next call; producer ids of the lost log are not handed out again', async () => {
    const { client, config, indexedDB } = nodeClient();
    const admin = client.admin();
    await admin.connect();
    cleanup.push(() => admin.disconnect());
    const old = client.producer();
    await old.connect();
    cleanup.push(() => old.disconnect());
    await admin.createTopics({ topics: [{ topic: 't', numPartitions: 1 }] });
    for (let i = 0; i < 3; i++) await old.send({ topic: 't', messages: [{ value: `v${i}` }] });
    const held = await acquireInPageBroker({ database: config.database, indexedDB, IDBKeyRange });
    cleanup.push(() => held.release());
    const idBefore = (await held.broker.initProducerId()).producerId;

    expect(await deleted(indexedDB, `lanes:${config.database}`)).toBe('done');
    await expect(admin.fetchTopicOffsets('t')).rejects.toBeInstanceOf(TopicNotFoundError);
    expect(await admin.listTopics()).toEqual([]);

    // The old producer's metadata is stale: its send meets the topic gone, looks it up again
    // (auto-creating it on the fresh log) and is placed there once, its sequence starting over.
    const [a] = await old.send({ topic: 't', messages: [{ value: 'old' }] });
    expect(a).toMatchObject({ baseOffset: '0' });

    // A new producer gets an id above every id of the lost log, so its batch is written.
    expect((await held.broker.initProducerId()).producerId).toBeGreaterThan(idBefore);
    const fresh = client.producer();
    await fresh.connect();
    cleanup.push(() => fresh.disconnect());
    const [b] = await fresh.send({ topic: 't', messages: [{ value: 'new' }] });
    expect(b).toMatchObject({ baseOffset: '1' });
    expect(await admin.fetchTopicOffsets('t')).toEqual([expect.objectContaining({ partition: 0, low: '0', high: '2' })]);
  });
});
