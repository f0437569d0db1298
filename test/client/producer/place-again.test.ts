/**
 * A send refused because its topic was re-created with fewer partitions is placed again from
 * its encoded records: named partitions kept (or refused, naming the message), keys hashed over
 * the new count, keyless records through the partitioner, each record's bytes as `send()`
 * encoded them, in the order of the caller's array. The producer holds none of the caller's
 * message objects while the send is pending.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { partitionForKey, TopicNotFoundError, type Message } from '../../../src/index.js';
import type { PartitionerArgs } from '../../../src/partitioner/partitioners.js';
import type { ProduceRequest } from '../../../src/protocol/broker-api.js';
import { readAll, rejection, setup } from '../helpers.js';

type Env = Awaited<ReturnType<typeof setup>>;
let env: Env | undefined;
const open = async (...a: Parameters<typeof setup>) => (env = await setup(...a));
afterEach(async () => { await env?.close(); env = undefined; });

/** A key that hashes to `partition` of `of` partitions. */
const keyFor = (partition: number, of: number, not: string[] = []) =>
  Array.from({ length: 500 }, (_, i) => `key${i}`).find((k) => partitionForKey(k, of) === partition && !not.includes(k))!;

/** Re-creates `topic` with `numPartitions` behind the producer's back (its cached metadata goes stale). */
async function recreate(admin: Env['admin'], topic: string, numPartitions: number) {
  await admin.deleteTopics({ topics: [topic] });
  await admin.createTopics({ topics: [{ topic, numPartitions }] });
}

/** Calls `before` with each produce request before the broker sees it; returns the requests. */
function intercept(broker: Env['broker'], before: (req: ProduceRequest, n: number) => void | Promise<void>) {
  const produce = broker.produce.bind(broker);
  const requests: ProduceRequest[] = [];
  broker.produce = async (req: ProduceRequest) => {
    requests.push(req);
    await before(req, requests.length);
    return produce(req);
  };
  return requests;
}

describe('a send placed again after its topic was re-created with fewer partitions', () => {
  it('keeps named partitions, hashes keys over the new count, and writes the bytes encoded at send() in the caller\'s order', async () => {
    const { admin, producer, broker } = await open();
    await admin.createTopics({ topics: [{ topic: 't', numPartitions: 4 }] });
    await producer.send({ topic: 't', messages: [{ value: 'cache the metadata: 4 partitions' }] });
    await recreate(admin, 't', 2);

    // Keys spread over partitions 0-3 of the old count; on 2 partitions k3 and k1 meet on one.
    const k3 = keyFor(3, 4), k1 = keyFor(1, 4), k2 = keyFor(2, 4);
    const messages: Message[] = [
      { key: k3, value: { n: 0 }, headers: { h: 'zero' }, timestamp: 1000 },
      { value: 'named 1', partition: 1, timestamp: '1001' },
      { key: k1, value: 'one', timestamp: 1002 },
      { key: k2, value: new Uint8Array([1, 2, 3]), headers: { list: ['a', 'b'] }, timestamp: 1003 },
      { key: k3, value: 'three again', timestamp: 1004 },
      { value: 'named 0', partition: 0, timestamp: 1005 },
    ];
    const sent = messages.map((m) => ({ ...m, headers: m.headers && { ...m.headers } }));
    // The first request (stale placement) reaches the broker after encoding: changing the
    // caller's objects now must not change what is written.
    const requests = intercept(broker, (_req, n) => {
      if (n === 1) for (const m of messages) { m.value = 'changed'; m.key = 'changed'; m.partition = 3; }
    });
    const res = await producer.send({ topic: 't', messages });
    expect(requests[0]!.batches.map((b) => b.partition).sort()).toEqual([0, 1, 2, 3]);
    expect(requests.at(-1)!.batches.map((b) => b.partition).sort()).toEqual([0, 1]);

    const where = (m: Message) => m.partition ?? partitionForKey(m.key as string, 2);
    const expected: Record<number, Message[]> = { 0: [], 1: [] };
    for (const m of sent) expected[where(m)]!.push(m);
    expect(res.map((r) => r.partition).sort()).toEqual([0, 1]);
    for (const p of [0, 1]) {
      const got = await readAll(broker, 't', p);
      expect(got.map((m) => [m.key, m.value, m.headers, m.timestamp])).toEqual(expected[p]!.map((m) => [m.key ?? null, m.value, m.headers ?? {}, String(m.timestamp)]));
      expect(res.find((r) => r.partition === p)!.baseOffset).toBe('0');
    }
  });

  it('hands a custom partitioner a copy decoded from the record, not the caller\'s message', async () => {
    const calls: { message: PartitionerArgs['message']; count: number }[] = [];
    // Places by a field of the JSON value, which only a full message carries.
    const byValue = () => (a: PartitionerArgs) => {
      calls.push({ message: a.message, count: a.partitionMetadata.length });
      return ((a.message as Message).value as { slot: number }).slot % a.partitionMetadata.length;
    };
    const { admin, client, broker } = await open();
    const producer = client.producer({ createPartitioner: byValue });
    await producer.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'c', numPartitions: 3 }] });
      await producer.send({ topic: 'c', messages: [{ value: { slot: 0 } }] });
      await recreate(admin, 'c', 2);
      const message: Message = { key: 'k', value: { slot: 5, text: 'x' }, headers: { h: 'v' }, timestamp: 77 };
      const [r] = await producer.send({ topic: 'c', messages: [message] });
      expect(r!.partition).toBe(1); // 5 % 2; first placed on 5 % 3 = 2, which the new topic lacks
      const again = calls.at(-1)!;
      expect(again.count).toBe(2);
      expect(again.message).not.toBe(message);
      expect(again.message).toEqual({ key: 'k', value: { slot: 5, text: 'x' }, headers: { h: 'v' }, timestamp: '77' });
      expect(calls.filter((c) => c.message === message).map((c) => c.count)).toEqual([3]);
      expect((await readAll(broker, 'c', 1)).map((m) => m.value)).toEqual([{ slot: 5, text: 'x' }]);
    } finally {
      await producer.disconnect();
    }
  });

  it('refuses a named partition the new topic lacks, naming the message, and writes nothing of the send', async () => {
    const { admin, producer, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 'n', numPartitions: 3 }] });
    await producer.send({ topic: 'n', messages: [{ value: 'cache', partition: 2 }] });
    await recreate(admin, 'n', 2);
    const e = await rejection(producer.sendBatch({ topicMessages: [
      { topic: 'n', messages: [{ value: 'a', partition: 0 }] },
      { topic: 'n', messages: [{ value: 'b', partition: 1 }, { value: 'c', partition: 2 }] },
    ] }));
    expect(e).toBeInstanceOf(TopicNotFoundError);
    expect(e.message).toContain('sendBatch.topicMessages[1].messages[1].partition 2');
    expect(await offsets('n')).toEqual([{ partition: 0, low: 0, high: 0 }, { partition: 1, low: 0, high: 0 }]);
  });

  it('keeps the placement of a topic in the same send whose partitions are unchanged', async () => {
    const { admin, producer, broker } = await open();
    await admin.createTopics({ topics: [{ topic: 'gone', numPartitions: 2 }, { topic: 'same', numPartitions: 3 }] });
    await producer.send({ topic: 'gone', messages: [{ value: 'cache', partition: 1 }] });
    await producer.send({ topic: 'same', messages: [{ value: 'cache', partition: 2 }] });
    await recreate(admin, 'gone', 1);
    const res = await producer.sendBatch({ topicMessages: [
      { topic: 'same', messages: [{ value: 's2', partition: 2 }, { value: 's0', partition: 0 }] },
      { topic: 'gone', messages: [{ value: 'g', key: keyFor(1, 2) }] },
    ] });
    expect(res.map((r) => `${r.topicName}-${r.partition}@${r.baseOffset}`).sort()).toEqual(['gone-0@0', 'same-0@0', 'same-2@1']);
    expect((await readAll(broker, 'same', 2)).map((m) => m.value)).toEqual(['cache', 's2']);
  });
});

describe('a pending send', () => {
  it('holds none of the caller\'s message objects once they are encoded', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { admin, producer, broker } = await open();
    await admin.createTopics({ topics: [{ topic: 'm' }] });
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    let reached!: () => void;
    const atBroker = new Promise<void>((r) => { reached = r; });
    intercept(broker, async () => { reached(); await held; });
    const refs: WeakRef<object>[] = [];
    const pending = (() => {
      const messages = Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: { i } }));
      for (const m of messages) refs.push(new WeakRef(m));
      return producer.send({ topic: 'm', messages });
    })();
    await atBroker; // encoded and handed to the broker, not yet answered
    await new Promise((r) => setTimeout(r, 0)); // WeakRef targets are kept to the end of a job
    gc();
    expect(refs.filter((r) => r.deref() !== undefined)).toHaveLength(0);
    release();
    expect((await pending)[0]!.baseOffset).toBe('0');
    expect((await readAll(broker, 'm', 0)).map((m) => m.value)).toEqual(Array.from({ length: 100 }, (_, i) => ({ i })));
  });
});
