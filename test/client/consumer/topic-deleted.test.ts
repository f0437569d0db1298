/**
 * Deleting a topic under its consumers. A group consumer whose topic is deleted drops those
 * partitions, keeps consuming the rest, and picks the topic up again when it is re-created;
 * with auto-creation on (the default) it does not re-create a topic that an admin deleted
 * within its metadataMaxAge. A free consumer assigned a partition that does not exist refuses
 * that partition (PARTITION_UNAVAILABLE with a TopicNotFoundError) and reads the others.
 */
import { describe, expect, it } from 'vitest';
import { createClient, partitionForKey, TopicNotFoundError, type Consumer, type InstrumentationEvent } from '../../../src/index.js';
import { disconnectAfterEach, FAST, groupEnv, waitFor } from '../../group/helpers.js';

const open = disconnectAfterEach();

const env = () => groupEnv(open);

/** A running group consumer that records `topic:partition:value` and its crashes. */
async function member(config: Parameters<typeof createClient>[0], topics: string[], extra: Record<string, unknown> = {}) {
  const consumer = createClient({ ...config, clientId: `m${Math.random().toString(36).slice(2, 6)}` }).consumer({ groupId: 'g', ...FAST, ...extra });
  await consumer.connect();
  open.push(consumer);
  const seen: string[] = [];
  const crashes: unknown[] = [];
  const unavailable: InstrumentationEvent[] = [];
  consumer.on(consumer.events.CRASH, (e) => crashes.push(e.payload));
  consumer.on(consumer.events.PARTITION_UNAVAILABLE, (e) => unavailable.push(e));
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ topic, partition, message }) => { seen.push(`${topic}:${partition}:${String(message.value)}`); } });
  return { consumer, seen, crashes, unavailable };
}

/** Resolves with the assignment of the next GROUP_JOIN that satisfies `ok`. */
function nextJoin(consumer: Consumer, ok: (a: Record<string, number[]>) => boolean): Promise<Record<string, number[]>> {
  return new Promise((resolve) => {
    const off = consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const a = (e.payload as { memberAssignment: Record<string, number[]> }).memberAssignment;
      if (ok(a)) { off(); resolve(a); }
    });
  });
}

const owns = (a: Record<string, number[]>, topic: string) => (a[topic]?.length ?? 0) > 0;

describe.each([false, true])('a subscribed topic deleted under a group consumer (allowAutoTopicCreation: %s)', (allowAutoTopicCreation) => {
  it('keeps the other topic, is not re-created by the consumer, and is picked up again when re-created', async () => {
    const { config, admin, producer } = await env();
    await admin.createTopics({ topics: [{ topic: 'doomed', numPartitions: 3 }, { topic: 'kept', numPartitions: 2 }] });
    await producer.send({ topic: 'doomed', messages: [0, 1, 2].map((p) => ({ value: `d${p}`, partition: p })) });
    await producer.send({ topic: 'kept', messages: [0, 1].map((p) => ({ value: `k${p}`, partition: p })) });
    const m = await member(config, ['doomed', 'kept'], { allowAutoTopicCreation });
    await waitFor(() => m.seen.length === 5, 'the first 5 records');

    const withoutDoomed = nextJoin(m.consumer, (a) => !owns(a, 'doomed') && owns(a, 'kept'));
    await admin.deleteTopics({ topics: ['doomed'] });
    expect(await withoutDoomed).toEqual({ doomed: [], kept: [0, 1] });
    // The rejoin asked for the subscription's metadata: the consumer did not re-create the topic.
    expect(await admin.listTopics()).toEqual(['kept']);
    await producer.send({ topic: 'kept', messages: [{ value: 'k-after', partition: 1 }] });
    await waitFor(() => m.seen.includes('kept:1:k-after'), 'a record of the kept topic after the deletion');
    expect(m.consumer.assignment().map((a) => `${a.topic}-${a.partition}`).sort()).toEqual(['kept-0', 'kept-1']);

    const withDoomed = nextJoin(m.consumer, (a) => (a.doomed?.length ?? 0) === 4);
    await admin.createTopics({ topics: [{ topic: 'doomed', numPartitions: 4 }] });
    await withDoomed;
    await producer.send({ topic: 'doomed', messages: [0, 1, 2, 3].map((p) => ({ value: `new${p}`, partition: p })) });
    await waitFor(() => ['doomed:0:new0', 'doomed:1:new1', 'doomed:2:new2', 'doomed:3:new3'].every((k) => m.seen.includes(k)), 'the re-created topic consumed');
    expect(m.crashes).toEqual([]);
    const [off] = await admin.fetchTopicMetadata({ topics: ['doomed'] }).then((r) => r.topics);
    expect(off!.partitions).toHaveLength(4); // the admin's count, not an auto-created 1
  });
});

describe('a free consumer assigned a partition that does not exist', () => {
  it('refuses that partition with TopicNotFoundError and reads the others', async () => {
    const { client, admin, producer } = await env();
    await admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    await producer.send({ topic: 't', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 1 }] });
    const free = client.consumer({ maxWaitTimeInMs: 100 });
    await free.connect();
    open.push(free);
    const unavailable: { topic: string; partition: number; error: unknown }[] = [];
    const crashes: unknown[] = [];
    free.on(free.events.PARTITION_UNAVAILABLE, (e) => unavailable.push(e.payload as never));
    free.on(free.events.CRASH, (e) => crashes.push(e.payload));
    free.assign([
      { topic: 't', partition: 0, offset: '0' },
      { topic: 't', partition: 7, offset: 'earliest' },
      { topic: 't', partition: 9, offset: '0' },
      { topic: 'missing', partition: 0, offset: 'earliest' },
      { topic: 't', partition: 1, offset: 'earliest' },
    ]);
    const seen: string[] = [];
    await free.run({ eachMessage: async ({ partition, message }) => { seen.push(`${partition}:${String(message.value)}`); } });
    await waitFor(() => seen.length === 2 && unavailable.length === 3, 'both real partitions read and three refused');
    expect(seen.sort()).toEqual(['0:a', '1:b']);
    expect(unavailable.map((u) => `${u.topic}-${u.partition}`).sort()).toEqual(['missing-0', 't-7', 't-9']);
    for (const u of unavailable) expect(u.error).toBeInstanceOf(TopicNotFoundError);
    expect(free.assignment().map((a) => `${a.topic}-${a.partition}`).sort()).toEqual(['t-0', 't-1']);
    expect(crashes).toEqual([]);
    await producer.send({ topic: 't', messages: [{ value: 'c', partition: 1 }] });
    await waitFor(() => seen.includes('1:c'), 'still consuming');
  });
});

describe('a pattern subscription (matched by the broker at every heartbeat)', () => {
  it('picks up a matching topic created after run(), drops it when deleted, and picks it up again when re-created', async () => {
    const { config, admin, producer } = await env();
    await admin.createTopics({ topics: [{ topic: 'ev-first' }, { topic: 'other' }] });
    const consumer = createClient({ ...config, clientId: 'pattern' }).consumer({ groupId: 'p', ...FAST, metadataMaxAge: 100 });
    await consumer.connect();
    open.push(consumer);
    const seen: string[] = [];
    const crashes: unknown[] = [];
    consumer.on(consumer.events.CRASH, (e) => crashes.push(e.payload));
    await consumer.subscribe({ topics: [/^ev-/], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ topic, message }) => { seen.push(`${topic}:${String(message.value)}`); } });
    expect(consumer.assignment().map((a) => a.topic)).toEqual(['ev-first']);

    const withLate = nextJoin(consumer, (a) => owns(a, 'ev-late'));
    await admin.createTopics({ topics: [{ topic: 'ev-late', numPartitions: 2 }] });
    await withLate;
    await producer.send({ topic: 'ev-late', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 1 }] });
    await waitFor(() => seen.includes('ev-late:a') && seen.includes('ev-late:b'), 'records of the topic created after run()');

    const withoutLate = nextJoin(consumer, (a) => !owns(a, 'ev-late'));
    await admin.deleteTopics({ topics: ['ev-late'] });
    await withoutLate;
    const back = nextJoin(consumer, (a) => owns(a, 'ev-late'));
    await admin.createTopics({ topics: [{ topic: 'ev-late' }] });
    await back;
    // Keyless: this producer's cached metadata says 2 partitions; the re-created topic has 1.
    await producer.send({ topic: 'ev-late', messages: [{ value: 'again' }] });
    await waitFor(() => seen.includes('ev-late:again'), 'the re-created topic consumed');
    expect(seen.some((s) => s.startsWith('other:'))).toBe(false);
    expect(crashes).toEqual([]);
  });
});

describe('a producer whose topic was deleted and re-created with fewer partitions', () => {
  it('places a send on the new partitions instead of failing it on stale metadata', async () => {
    const { admin, producer } = await env();
    await admin.createTopics({ topics: [{ topic: 'shrinks', numPartitions: 4 }] });
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => partitionForKey(k, 4) === 3)!;
    const [first] = await producer.send({ topic: 'shrinks', messages: [{ key, value: 'before' }] });
    expect(first!.partition).toBe(3);
    await admin.deleteTopics({ topics: ['shrinks'] });
    await admin.createTopics({ topics: [{ topic: 'shrinks', numPartitions: 1 }] });
    const [again] = await producer.send({ topic: 'shrinks', messages: [{ key, value: 'after' }] });
    expect(again).toMatchObject({ partition: 0, baseOffset: '0' });
    // An explicit partition the new topic lacks is still refused, naming it.
    const e = await producer.send({ topic: 'shrinks', messages: [{ value: 'x', partition: 3 }] }).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(TopicNotFoundError);
  });
});
