/**
 * The admin client's group tools (KafkaJS names): describeGroups, listGroups, fetchOffsets,
 * setOffsets, resetOffsets, deleteGroups, over consumers sharing one in-page broker; and the
 * committed offsets' home, the internal compacted topic `__consumer_offsets`.
 */
import { IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { acquireInPageBroker } from '../../src/broker/in-page.js';
import type { Broker } from '../../src/broker/broker.js';
import { OFFSETS_TOPIC } from '../../src/group/offset-store.js';
import { LanesError, type ClientConfig, type Consumer, type ConsumerConfig } from '../../src/index.js';
import { readAll, rejection } from '../client/helpers.js';
import { waitFor, disconnectAfterEach, groupEnv } from './helpers.js';

const open = disconnectAfterEach();

/** A connected admin and producer on `config` (a fresh database unless given). */
async function connect(config: Partial<ClientConfig> = {}) {
  const e = await groupEnv(open, config);
  return {
    config: e.config, admin: e.admin, producer: e.producer,
    /** A running group consumer that records `partition:offset` and commits after each record. */
    async consumer(groupId = 'g', topic = 't', c: ConsumerConfig = {}) {
      const consumer: Consumer = await e.consumer({ groupId, ...c });
      const seen: string[] = [];
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ autoCommitThreshold: 1, eachMessage: async ({ partition, message }) => { seen.push(`${partition}:${message.offset}`); } });
      return { consumer, seen };
    },
    /** Disconnects everything opened so far (the in-page broker closes with the last client). */
    async closeAll() { for (const o of open.splice(0).reverse()) await o.disconnect(); },
  };
}

/** Committed offsets of group `g` in topic `t`, by partition. */
async function committed(admin: Awaited<ReturnType<typeof connect>>['admin'], groupId = 'g') {
  const [t] = await admin.fetchOffsets({ groupId, topics: ['t'] });
  return t!.partitions.map((p) => p.offset);
}

describe('describeGroups and listGroups', () => {
  it('describe state, protocol and each member with its assignment; list every group', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 4 }, { topic: 'u' }] });
    expect((await e.admin.describeGroups(['g'])).groups[0]).toMatchObject({ groupId: 'g', state: 'Dead', members: [] });
    const a = await e.consumer();
    const b = await e.consumer();
    const other = await e.consumer('other', 'u');
    await waitFor(() => a.consumer.assignment().length === 2 && b.consumer.assignment().length === 2, 'a balanced group');

    const { groups } = await e.admin.describeGroups(['g', 'other']);
    const [g, o] = groups as [typeof groups[0], typeof groups[0]];
    expect(g).toMatchObject({ groupId: 'g', errorCode: 0, state: 'Stable', protocol: 'cooperative-sticky', protocolType: 'consumer' });
    expect(g.generationId).toBeGreaterThan(0);
    const byId = new Map(g.members.map((m) => [m.memberId, m]));
    expect([...byId.keys()].sort()).toEqual([a.consumer.memberId, b.consumer.memberId].sort());
    for (const { consumer } of [a, b]) {
      const m = byId.get(consumer.memberId)!;
      expect(m.memberMetadata).toEqual({ topics: ['t'] });
      expect(m.groupInstanceId).toBeNull();
      expect(m.clientId).toMatch(/^c\d$/);
      expect(m.memberAssignment).toEqual({ t: consumer.assignment().map((x) => x.partition).sort((x, y) => x - y) });
    }
    expect(o).toMatchObject({ groupId: 'other', state: 'Stable', members: [{ memberId: other.consumer.memberId, memberAssignment: { u: [0] } }] });

    const listed = (await e.admin.listGroups()).groups.sort((x, y) => x.groupId.localeCompare(y.groupId));
    expect(listed).toEqual([{ groupId: 'g', protocolType: 'consumer' }, { groupId: 'other', protocolType: 'consumer' }]);
  });
});

describe('fetchOffsets', () => {
  it("answers '-1' where nothing is committed, and the committed offsets from which lag = high - committed", async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }, { topic: 'u' }] });
    expect(await e.admin.fetchOffsets({ groupId: 'g', topics: ['t'] })).toEqual([
      { topic: 't', partitions: [{ partition: 0, offset: '-1', metadata: null }, { partition: 1, offset: '-1', metadata: null }] },
    ]);
    expect(await e.admin.fetchOffsets({ groupId: 'g' })).toEqual([]);
    await e.producer.send({ topic: 't', messages: [0, 1, 2].map((i) => ({ value: `p0-${i}`, partition: 0 })) });
    const { consumer, seen } = await e.consumer();
    await waitFor(() => seen.length === 3, 'partition 0 consumed');
    await consumer.stop(); // commits its positions: 3 after the last record, 0 where it read nothing
    await e.producer.send({ topic: 't', messages: [{ value: 'late', partition: 0 }, { value: 'p1', partition: 1 }, { value: 'p1', partition: 1 }] });

    expect(await e.admin.fetchOffsets({ groupId: 'g', topics: ['t', 'u'] })).toEqual([
      { topic: 't', partitions: [{ partition: 0, offset: '3', metadata: null }, { partition: 1, offset: '0', metadata: null }] },
      { topic: 'u', partitions: [{ partition: 0, offset: '-1', metadata: null }] },
    ]);
    const [t] = await e.admin.fetchOffsets({ groupId: 'g' }); // topics omitted: every topic with commits
    expect(t!.topic).toBe('t');
    const high = await e.admin.fetchTopicOffsets('t');
    const lag = t!.partitions.map((p) => Number(high.find((x) => x.partition === p.partition)!.high) - Number(p.offset));
    expect(lag).toEqual([1, 2]);
  });
});

describe('setOffsets and resetOffsets', () => {
  it('are refused with GROUP_NOT_EMPTY while the group has members, and move the committed offsets once it has none', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    await e.producer.send({ topic: 't', messages: [0, 1, 2, 3, 4, 5].map((i) => ({ value: String(i), partition: i % 2 })) });
    const first = await e.consumer();
    await waitFor(() => first.seen.length === 6, 'everything consumed');
    await waitFor(async () => (await committed(e.admin)).join() === '3,3', 'commits at the log end');

    for (const call of [
      () => e.admin.setOffsets({ groupId: 'g', topic: 't', partitions: [{ partition: 0, offset: '1' }] }),
      () => e.admin.resetOffsets({ groupId: 'g', topic: 't', earliest: true }),
      () => e.admin.resetOffsets({ groupId: 'g', topic: 't' }),
    ]) {
      const err = await rejection(call());
      expect(err).toBeInstanceOf(LanesError);
      expect(err.code).toBe('GROUP_NOT_EMPTY');
    }
    expect(await committed(e.admin)).toEqual(['3', '3']);
    await first.consumer.disconnect();
    expect((await e.admin.describeGroups(['g'])).groups[0]!.state).toBe('Empty');

    await e.admin.setOffsets({ groupId: 'g', topic: 't', partitions: [{ partition: 0, offset: '1' }] });
    expect(await committed(e.admin)).toEqual(['1', '3']);
    await e.admin.resetOffsets({ groupId: 'g', topic: 't', earliest: true });
    expect(await committed(e.admin)).toEqual(['0', '0']);
    await e.admin.deleteTopicRecords({ topic: 't', partitions: [{ partition: 1, offset: '2' }] });
    await e.admin.resetOffsets({ groupId: 'g', topic: 't', earliest: true });
    expect(await committed(e.admin)).toEqual(['0', '2']); // earliest is the low watermark
    await e.admin.resetOffsets({ groupId: 'g', topic: 't' });
    expect(await committed(e.admin)).toEqual(['3', '3']); // latest: the high watermark

    // The group resumes where setOffsets put it.
    await e.admin.setOffsets({ groupId: 'g', topic: 't', partitions: [{ partition: 0, offset: '2' }, { partition: 1, offset: '2' }] });
    const second = await e.consumer();
    await waitFor(() => second.seen.length === 2, 'the records after the set offsets');
    expect(second.seen.sort()).toEqual(['0:2', '1:2']);
  });
});

describe('group ids the offset tools refuse', () => {
  it('fetchOffsets, setOffsets and resetOffsets refuse an empty or missing groupId (KafkaJS: Invalid groupId) and commit nothing', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't' }] });
    for (const groupId of ['', undefined, 5]) {
      for (const call of [
        () => e.admin.fetchOffsets({ groupId: groupId as string, topics: ['t'] }),
        () => e.admin.setOffsets({ groupId: groupId as string, topic: 't', partitions: [{ partition: 0, offset: '0' }] }),
        () => e.admin.resetOffsets({ groupId: groupId as string, topic: 't' }),
      ]) {
        const err = await rejection(call());
        expect(err.code).toBe('INVALID_ARGUMENT');
        expect(err.message).toContain('groupId');
      }
    }
    expect(await rejection(e.admin.fetchOffsets({ groupId: 'g', topics: 't' as unknown as string[] }))).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'topics' } });
    expect((await e.admin.listGroups()).groups).toEqual([]);
  });
});

describe('deleteGroups', () => {
  it('fails with GROUP_NOT_EMPTY while members are active; afterwards the group and its offsets are gone', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't' }] });
    await e.producer.send({ topic: 't', messages: [{ value: 'a' }] });
    const { consumer, seen } = await e.consumer();
    await waitFor(() => seen.length === 1, 'the record consumed');
    await waitFor(async () => (await committed(e.admin)).join() === '1', 'its commit');

    const err = await rejection(e.admin.deleteGroups(['g']));
    expect(err).toBeInstanceOf(LanesError);
    expect(err.code).toBe('GROUP_NOT_EMPTY');
    expect(await committed(e.admin)).toEqual(['1']);
    expect((await rejection(e.admin.deleteGroups(['nope']))).code).toBe('GROUP_ID_NOT_FOUND');

    await consumer.disconnect();
    expect(await e.admin.deleteGroups(['g'])).toEqual([{ groupId: 'g', errorCode: 0 }]);
    expect(await committed(e.admin)).toEqual(['-1']);
    expect((await e.admin.listGroups()).groups).toEqual([]);
    expect((await e.admin.describeGroups(['g'])).groups[0]!.state).toBe('Dead');

    // Still gone after the broker reopens (tombstones in __consumer_offsets).
    const { config } = e;
    await e.closeAll();
    const again = await connect(config);
    expect(await committed(again.admin)).toEqual(['-1']);
    expect((await again.admin.listGroups()).groups).toEqual([]);
  });
});

describe('committed offsets live in __consumer_offsets', () => {
  it('an internal topic that listTopics hides, reloaded when the broker reopens', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    await e.producer.send({ topic: 't', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }, { value: 'c', partition: 1 }] });
    const { seen } = await e.consumer();
    await waitFor(() => seen.length === 3, 'everything consumed');
    await waitFor(async () => (await committed(e.admin)).join() === '2,1', 'the commits');
    expect(await e.admin.listTopics()).toEqual(['t']);
    expect((await e.admin.fetchTopicMetadata()).topics.map((t) => t.name)).toEqual(['t']);

    const held = await acquireInPageBroker({ database: e.config.database, indexedDB: e.config.indexedDB, IDBKeyRange });
    try {
      const records = await readAll(held.broker as Broker, OFFSETS_TOPIC, 0);
      const latest = new Map<string, unknown>();
      for (const r of records) latest.set(r.key as string, (r.value as { offset: number } | null)?.offset);
      expect(Object.fromEntries(latest)).toEqual({ [JSON.stringify(['g', 't', 0])]: 2, [JSON.stringify(['g', 't', 1])]: 1 });
    } finally {
      held.release();
    }

    const { config } = e;
    await e.closeAll();
    const again = await connect(config);
    expect(await committed(again.admin)).toEqual(['2', '1']);
    expect((await again.admin.listGroups()).groups).toEqual([{ groupId: 'g', protocolType: 'consumer' }]);
    expect((await again.admin.describeGroups(['g'])).groups[0]).toMatchObject({ state: 'Empty', members: [] });
    expect(await again.admin.listTopics()).toEqual(['t']);
  });

  it('reloads the latest of many commits (more than one page of the internal topic)', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    await e.producer.send({ topic: 't', messages: Array.from({ length: 200 }, (_, i) => ({ value: String(i), partition: i % 2 })) });
    const expected = [['-1', '-1'], ['-1', '-1'], ['-1', '-1']];
    for (let i = 1; i <= 150; i++) { // 150 commits: more than one 64-batch page to reload
      await e.admin.setOffsets({ groupId: `g${i % 3}`, topic: 't', partitions: [{ partition: i % 2, offset: String(i % 100) }] });
      expected[i % 3]![i % 2] = String(i % 100);
    }
    const before = await Promise.all([0, 1, 2].map((g) => committed(e.admin, `g${g}`)));
    expect(before).toEqual(expected);
    const { config } = e;
    await e.closeAll();
    const again = await connect(config);
    expect(await Promise.all([0, 1, 2].map((g) => committed(again.admin, `g${g}`)))).toEqual(before);
  });
});

