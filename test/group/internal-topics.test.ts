/**
 * Internal topics belong to the broker: a user send, topic delete or deleteRecords on
 * `__consumer_offsets` (or the reserved `__transaction_state`) is refused with InvalidTopicError
 * and writes nothing; and a database whose `__consumer_offsets` holds records that are not
 * committed offsets (written by a buggy version) still opens: those records are skipped and
 * reported, every valid committed offset is kept.
 */
import { IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { acquireInPageBroker } from '../../src/broker/in-page.js';
import { createClient, InvalidTopicError, LanesError } from '../../src/index.js';
import { nodeClient } from '../helpers/node-client.js';
import { appendRawOffsetRecords, BAD_OFFSET_RECORDS } from '../helpers/raw-offsets.js';
import { disconnectAfterEach } from './helpers.js';

const open = disconnectAfterEach();

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try { await p; } catch (e) { return e; }
  throw new Error('expected a rejection');
}

afterEach(() => { vi.restoreAllMocks(); });

describe('internal topics', () => {
  it('refuses user sends, deletes and deleteRecords on __consumer_offsets with InvalidTopicError, and writes nothing', async () => {
    const { client } = nodeClient();
    const admin = client.admin();
    const producer = client.producer();
    await admin.connect();
    await producer.connect();
    open.push(producer, admin);
    await admin.createTopics({ topics: [{ topic: 't' }] });
    await admin.setOffsets({ groupId: 'g', topic: 't', partitions: [{ partition: 0, offset: '0' }] });

    const send = await rejection(producer.send({ topic: '__consumer_offsets', messages: [{ value: 'x' }] }));
    expect(send).toBeInstanceOf(InvalidTopicError);
    expect((send as LanesError).code).toBe('INVALID_TOPIC_EXCEPTION');
    expect((send as Error).message).toContain('InvalidTopicError');
    expect((send as LanesError).details).toMatchObject({ topic: '__consumer_offsets', operation: 'produce' });
    const batch = await rejection(producer.sendBatch({ topicMessages: [{ topic: 't', messages: [{ value: 'ok' }] }, { topic: '__consumer_offsets', messages: [{ value: 'x' }] }] }));
    expect(batch).toBeInstanceOf(InvalidTopicError);
    expect(await rejection(admin.deleteTopics({ topics: ['__consumer_offsets'] }))).toBeInstanceOf(InvalidTopicError);
    expect(await rejection(admin.deleteTopicRecords({ topic: '__consumer_offsets', partitions: [{ partition: 0, offset: '-1' }] }))).toBeInstanceOf(InvalidTopicError);
    // The reserved name of a future internal topic cannot be taken by a user topic.
    expect(await rejection(admin.createTopics({ topics: [{ topic: '__transaction_state' }] }))).toBeInstanceOf(InvalidTopicError);
    expect(await rejection(producer.send({ topic: '__transaction_state', messages: [{ value: 'x' }] }))).toBeInstanceOf(InvalidTopicError);
    expect(await admin.listTopics()).toEqual(['t']);
    // Nothing was written: not the user topic of the refused atomic sendBatch, not the internal one.
    expect((await admin.fetchTopicOffsets('t'))[0]).toMatchObject({ low: '0', high: '0' });
    const [off] = await admin.fetchOffsets({ groupId: 'g', topics: ['t'] });
    expect(off!.partitions).toEqual([{ partition: 0, offset: '0', metadata: null }]);
  });

  it('a database whose __consumer_offsets holds unreadable records still opens, keeps valid offsets and reports the skipped ones', async () => {
    const { config, indexedDB } = nodeClient();
    const first = createClient(config);
    const admin = first.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    await admin.setOffsets({ groupId: 'g', topic: 't', partitions: [{ partition: 0, offset: '0' }, { partition: 1, offset: '0' }] });
    await admin.disconnect(); // the in-page broker closes with its last client

    await appendRawOffsetRecords({ indexedDB, IDBKeyRange, database: config.database });
    // A valid commit after the bad records is loaded too.
    await appendRawOffsetRecords({ indexedDB, IDBKeyRange, database: config.database }, [{ key: JSON.stringify(['g', 't', 1]), value: { offset: 7, metadata: 'm', commitTimestamp: 1 } }]);

    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const second = createClient(config);
    const admin2 = second.admin();
    await admin2.connect();
    open.push(admin2);
    const [off] = await admin2.fetchOffsets({ groupId: 'g', topics: ['t'] });
    expect(off!.partitions).toEqual([{ partition: 0, offset: '0', metadata: null }, { partition: 1, offset: '7', metadata: 'm' }]);
    const { broker, release } = await acquireInPageBroker({ database: config.database, indexedDB, IDBKeyRange });
    release();
    const skipped = broker.groups.offsets.skipped;
    expect(skipped).toHaveLength(BAD_OFFSET_RECORDS.length);
    expect(skipped.map((s) => s.reason)).toEqual([
      'key is not a JSON string', 'key is not JSON', 'key is not [groupId, topic, partition]',
      'value is not { offset, metadata, commitTimestamp }', 'value is not { offset, metadata, commitTimestamp }',
    ]);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('skipped 5 unreadable record(s) of __consumer_offsets'), skipped);
    // The group still works: a new commit lands and is read back.
    await admin2.setOffsets({ groupId: 'g', topic: 't', partitions: [{ partition: 0, offset: '0' }] });
    const [again] = await admin2.fetchOffsets({ groupId: 'g', topics: ['t'] });
    expect(again!.partitions[0]!.offset).toBe('0');
  });
});
