/**
 * Topics named like Object.prototype's members (`constructor`, `__proto__`, `toString`,
 * `hasOwnProperty`) are legal Kafka names and work end to end: create, produce, group consume,
 * commit, admin describe and offsets, transactions and delete. Results keyed by topic are plain
 * objects with the topic as an own property.
 */
import { describe, expect, it } from 'vitest';
import type { Consumer } from '../../src/index.js';
import { disconnectAfterEach, groupEnv, waitFor } from '../group/helpers.js';
import { recorder } from './helpers.js';

const NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty'];
const open = disconnectAfterEach();

describe('topics named like Object.prototype members', () => {
  it('are created, produced to, consumed by a group, committed, described and deleted', async () => {
    const env = await groupEnv(open);
    const { admin, producer } = env;
    expect(await admin.createTopics({ topics: NAMES.map((topic) => ({ topic, numPartitions: 2 })) })).toBe(true);
    expect((await admin.listTopics()).sort()).toEqual([...NAMES].sort());
    const meta = await admin.fetchTopicMetadata({ topics: NAMES });
    expect(meta.topics.map((t) => [t.name, t.partitions.length])).toEqual(NAMES.map((n) => [n, 2]));

    await producer.sendBatch({ topicMessages: NAMES.map((topic) => ({ topic, messages: [0, 1].map((partition) => ({ partition, key: `${topic}-${partition}`, value: topic })) })) });
    await producer.send({ topic: '__proto__', messages: [{ partition: 1, value: 'again' }] });
    for (const topic of NAMES) {
      const offs = await admin.fetchTopicOffsets(topic);
      expect(offs.map((o) => [o.partition, o.low, o.high])).toEqual([[0, '0', '1'], [1, '0', topic === '__proto__' ? '2' : '1']]);
      expect((await admin.fetchTopicOffsetsByTimestamp(topic, 0)).map((o) => o.offset)).toEqual(['0', '0']);
    }

    // Two group members share the partitions of the four topics: the assignments and the
    // committed offsets are keyed by topic on every layer.
    const a = recorder(), b = recorder();
    const consumers: Consumer[] = [await env.consumer(), await env.consumer()];
    const joins: { [topic: string]: number[] }[] = [];
    const crashes: unknown[] = [];
    for (const c of consumers) {
      c.on(c.events.GROUP_JOIN, (e) => joins.push((e.payload as { memberAssignment: { [topic: string]: number[] } }).memberAssignment));
      c.on(c.events.CRASH, (e) => crashes.push(e.payload));
    }
    for (const c of consumers) await c.subscribe({ topics: NAMES, fromBeginning: true });
    await consumers[0]!.run({ autoCommitThreshold: 1, eachMessage: a.eachMessage });
    await consumers[1]!.run({ autoCommitThreshold: 1, eachMessage: b.eachMessage });
    await waitFor(() => a.got.length + b.got.length === 9, 'all 9 records consumed');
    const got = [...a.got, ...b.got].map((m) => `${m.topic}/${m.partition}/${String(m.value)}`).sort();
    expect(got).toEqual([...NAMES.flatMap((t) => [0, 1].map((p) => `${t}/${p}/${t}`)), '__proto__/1/again'].sort());
    const assigned = () => consumers.flatMap((c) => c.assignment()).map((x) => `${x.topic}-${x.partition}`).sort().join();
    const all = NAMES.flatMap((t) => [`${t}-0`, `${t}-1`]).sort().join();
    await waitFor(() => assigned() === all && consumers.every((c) => c.assignment().length > 0), 'the eight partitions shared by both members');

    // GROUP_JOIN's memberAssignment (KafkaJS's shape): a plain object, every topic an own property.
    const joined = joins.at(-1)!;
    expect(Object.getPrototypeOf(joined)).toBe(Object.prototype);
    expect(Object.keys(joined).every((t) => NAMES.includes(t) && Array.isArray(joined[t]))).toBe(true);
    expect(joins.some((j) => Object.hasOwn(j, '__proto__'))).toBe(true);
    expect(crashes).toEqual([]);

    const { groups: [group] } = await admin.describeGroups(['g']);
    const byMember = group!.members.map((m) => m.memberAssignment);
    for (const t of NAMES) {
      const parts = byMember.flatMap((ma) => (Object.hasOwn(ma, t) ? ma[t]! : []));
      expect(parts.sort(), t).toEqual([0, 1]);
    }
    for (const ma of byMember) {
      expect(Object.getPrototypeOf(ma)).toBe(Object.prototype);
      for (const t of Object.keys(ma)) expect(Array.isArray(ma[t]), t).toBe(true);
    }

    await waitFor(async () => {
      const offs = await admin.fetchOffsets({ groupId: 'g', topics: NAMES });
      return offs.every((o) => o.partitions.every((p) => p.offset === (o.topic === '__proto__' && p.partition === 1 ? '2' : '1')));
    }, 'auto-committed offsets of every topic');
    const fetched = await admin.fetchOffsets({ groupId: 'g' });
    expect(fetched.map((o) => o.topic).sort()).toEqual([...NAMES].sort());

    for (const c of consumers) await c.disconnect();
    await admin.setOffsets({ groupId: 'g', topic: 'constructor', partitions: [{ partition: 0, offset: '0' }] });
    await admin.resetOffsets({ groupId: 'g', topic: '__proto__', earliest: true });
    const after = await admin.fetchOffsets({ groupId: 'g', topics: ['constructor', '__proto__'] });
    expect(after).toEqual([
      { topic: 'constructor', partitions: [{ partition: 0, offset: '0', metadata: null }, { partition: 1, offset: '1', metadata: null }] },
      { topic: '__proto__', partitions: [{ partition: 0, offset: '0', metadata: null }, { partition: 1, offset: '0', metadata: null }] },
    ]);

    await admin.alterConfigs({ resources: [{ name: '__proto__', configEntries: [{ name: 'retention.ms', value: '1000' }] }] });
    const { resources: [res] } = await admin.describeConfigs({ resources: [{ name: '__proto__', configNames: ['retention.ms'] }] });
    expect(res!.configEntries.map((e) => [e.configName, e.configValue])).toEqual([['retention.ms', '1000']]);
    await admin.createPartitions({ topicPartitions: [{ topic: 'constructor', count: 3 }] });
    expect((await admin.fetchTopicOffsets('constructor')).length).toBe(3);
    await admin.deleteTopicRecords({ topic: 'toString', partitions: [{ partition: 0, offset: '1' }] });
    expect((await admin.fetchTopicOffsets('toString'))[0]!.low).toBe('1');
    expect(await admin.runLogCleaner({ topics: NAMES })).toBeTruthy();

    await admin.deleteTopics({ topics: ['constructor', '__proto__'] });
    expect((await admin.listTopics()).sort()).toEqual(['hasOwnProperty', 'toString']);
    // Re-created, they start empty.
    await admin.createTopics({ topics: [{ topic: '__proto__' }] });
    expect((await admin.fetchTopicOffsets('__proto__')).map((o) => o.high)).toEqual(['0']);
  });

  it('a transaction writes to them and commits a group offset on them', async () => {
    const env = await groupEnv(open);
    await env.admin.createTopics({ topics: [{ topic: '__proto__' }, { topic: 'constructor' }] });
    const tp = env.client.producer({ transactionalId: 'tx', idempotent: true, maxInFlightRequests: 1 });
    await tp.connect();
    open.push(tp);
    const txn = await tp.transaction();
    await txn.send({ topic: 'constructor', messages: [{ value: 'in txn' }] });
    await txn.sendOffsets({ consumerGroupId: 'txg', topics: [{ topic: '__proto__', partitions: [{ partition: 0, offset: '0' }] }] });
    await txn.commit();
    expect(await env.admin.fetchOffsets({ groupId: 'txg', topics: ['__proto__'] })).toEqual([{ topic: '__proto__', partitions: [{ partition: 0, offset: '0', metadata: null }] }]);
    expect((await env.admin.fetchTopicOffsets('constructor'))[0]!.lastStable).toBe('2');
  });

  it('a free consumer seeks, pauses and resumes a partition of __proto__', async () => {
    const env = await groupEnv(open);
    await env.admin.createTopics({ topics: [{ topic: '__proto__', numPartitions: 2 }] });
    await env.producer.send({ topic: '__proto__', messages: [{ partition: 0, value: 'a' }, { partition: 0, value: 'b' }, { partition: 1, value: 'c' }] });
    const c = env.client.consumer({ maxWaitTimeInMs: 100 });
    await c.connect();
    open.push(c);
    c.assign([{ topic: '__proto__', partition: 0, offset: '0' }, { topic: '__proto__', partition: 1, offset: '0' }]);
    c.pause([{ topic: '__proto__', partitions: [1] }]);
    expect(c.paused()).toEqual([{ topic: '__proto__', partitions: [1] }]);
    const r = recorder();
    await c.run({ eachMessage: r.eachMessage });
    c.seek({ topic: '__proto__', partition: 0, offset: '1' });
    await waitFor(() => r.got.some((m) => String(m.value) === 'b'), 'record b');
    c.resume([{ topic: '__proto__' }]);
    await waitFor(() => r.got.some((m) => String(m.value) === 'c'), 'record c of the resumed partition');
    expect(r.got.map((m) => String(m.value))).not.toContain('a');
  });
});
