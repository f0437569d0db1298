import { afterEach, describe, expect, it } from 'vitest';
import {
  BrokerUnavailableError, InvalidArgumentError, InvalidRecordError, NotConnectedError, NumberOfRetriesExceededError, partitionForKey,
  RecordTooLargeError, TopicNotFoundError, type Message,
} from '../../../src/index.js';
import type { ProduceRequest } from '../../../src/protocol/broker-api.js';
import { readAll, rejection, setup } from '../helpers.js';

type Env = Awaited<ReturnType<typeof setup>>;
let env: Env | undefined;
const open = async (...a: Parameters<typeof setup>) => (env = await setup(...a));
afterEach(async () => { await env?.close(); env = undefined; });

describe('send', () => {
  it('answers in KafkaJS RecordMetadata shape', async () => {
    const { admin, producer } = await open();
    await admin.createTopics({ topics: [{ topic: 't' }] });
    expect(await producer.send({ topic: 't', messages: [{ key: 'k', value: 'v' }] })).toEqual([
      { topicName: 't', partition: 0, errorCode: 0, baseOffset: '0', logAppendTime: '-1', logStartOffset: '0' },
    ]);
    expect(await producer.send({ topic: 't', messages: [{ value: 'a' }, { value: 'b' }] })).toEqual([
      { topicName: 't', partition: 0, errorCode: 0, baseOffset: '1', logAppendTime: '-1', logStartOffset: '0' },
    ]);
  });

  it('answers one entry per partition written, each with its own base offset', async () => {
    const { admin, producer } = await open();
    await admin.createTopics({ topics: [{ topic: 't', numPartitions: 3 }] });
    await producer.send({ topic: 't', messages: [{ value: 'first', partition: 2 }] });
    const res = await producer.send({ topic: 't', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 2 }, { value: 'c', partition: 0 }] });
    expect(res.map((r) => [r.partition, r.baseOffset]).sort()).toEqual([[0, '0'], [2, '1']]);
  });

  it('reports the append time on LogAppendTime topics, and stamps records with it', async () => {
    const { admin, producer, broker } = await open();
    await admin.createTopics({ topics: [{ topic: 't', configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] }] });
    const before = Date.now();
    const [r] = await producer.send({ topic: 't', messages: [{ value: 'v', timestamp: 5 }] });
    const after = Date.now();
    expect(r!.logAppendTime).toMatch(/^\d+$/);
    expect(Number(r!.logAppendTime)).toBeGreaterThanOrEqual(before);
    expect(Number(r!.logAppendTime)).toBeLessThanOrEqual(after);
    const [m] = await readAll(broker, 't', 0);
    expect(m!.timestamp).toBe(r!.logAppendTime);
  });

  it('keeps the create time given by the producer on CreateTime topics', async () => {
    const { admin, producer, broker } = await open();
    await admin.createTopics({ topics: [{ topic: 't' }] });
    await producer.send({ topic: 't', messages: [{ value: 'v', timestamp: '1234' }, { value: 'w', timestamp: 99 }] });
    expect((await readAll(broker, 't', 0)).map((m) => m.timestamp)).toEqual(['1234', '99']);
  });

  it('gives each partition strictly increasing decimal-string offsets', async () => {
    const { admin, producer } = await open();
    await admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    const seen: Record<number, number[]> = { 0: [], 1: [] };
    for (let i = 0; i < 12; i++) {
      const n = (i % 3) + 1;
      const partition = i % 2;
      const [r] = await producer.send({ topic: 't', messages: Array.from({ length: n }, (_, j) => ({ value: `${i}.${j}`, partition })) });
      expect(r!.baseOffset).toMatch(/^(0|[1-9]\d*)$/);
      seen[partition]!.push(Number(r!.baseOffset), n);
    }
    for (const p of [0, 1]) {
      const pairs = seen[p]!;
      let expected = 0;
      for (let i = 0; i < pairs.length; i += 2) {
        expect(pairs[i]).toBe(expected);
        expected += pairs[i + 1]!;
      }
    }
  });

  it('writes keyed records to partitionForKey(key, numPartitions), for string and bytes keys', async () => {
    const { admin, producer, broker } = await open();
    await admin.createTopics({ topics: [{ topic: 'k', numPartitions: 5 }] });
    const keys: (string | Uint8Array)[] = [...Array.from({ length: 40 }, (_, i) => `user-${i}`), '', '😀', new Uint8Array([1, 2, 3]), new Uint8Array(0)];
    await producer.send({ topic: 'k', messages: keys.map((key, i) => ({ key, value: String(i) })) });
    const placed: { partition: number; value: string }[] = [];
    for (let p = 0; p < 5; p++) for (const m of await readAll(broker, 'k', p)) placed.push({ partition: p, value: m.value as string });
    expect(placed).toHaveLength(keys.length);
    for (const { partition, value } of placed) expect(partition, `key #${value}`).toBe(partitionForKey(keys[Number(value)]!, 5));
    expect(new Set(placed.map((x) => x.partition)).size).toBeGreaterThan(1);
    // Order per key is kept: same key, same partition, increasing offsets.
    await producer.send({ topic: 'k', messages: [{ key: 'user-1', value: 'again' }] });
    const p1 = partitionForKey('user-1', 5);
    expect((await readAll(broker, 'k', p1)).filter((m) => m.key === 'user-1').map((m) => m.value)).toEqual(['1', 'again']);
  });

  it('lets an explicit partition win over the key', async () => {
    const { admin, producer } = await open();
    await admin.createTopics({ topics: [{ topic: 'k', numPartitions: 4 }] });
    const other = (partitionForKey('key', 4) + 1) % 4;
    const [r] = await producer.send({ topic: 'k', messages: [{ key: 'key', value: 'v', partition: other }] });
    expect(r!.partition).toBe(other);
  });

  it('keeps the keyless records of one send together and moves on to another partition after each batch', async () => {
    const { admin, producer } = await open();
    await admin.createTopics({ topics: [{ topic: 's', numPartitions: 3 }] });
    const res = await producer.send({ topic: 's', messages: Array.from({ length: 10 }, (_, i) => ({ value: String(i) })) });
    expect(res).toHaveLength(1);
    const partitions = [res[0]!.partition];
    for (let i = 0; i < 12; i++) partitions.push((await producer.send({ topic: 's', messages: [{ value: 'x' }] }))[0]!.partition);
    for (let i = 1; i < partitions.length; i++) expect(partitions[i], `send ${i}`).not.toBe(partitions[i - 1]);
    expect(new Set(partitions).size).toBe(3);
  });
});

describe('sendBatch', () => {
  it('writes to several topics in one call and answers for each topic-partition', async () => {
    const { admin, producer, broker } = await open();
    await admin.createTopics({ topics: [{ topic: 'a' }, { topic: 'b', numPartitions: 2 }] });
    const res = await producer.sendBatch({
      topicMessages: [
        { topic: 'a', messages: [{ value: 'a0' }, { value: 'a1' }] },
        { topic: 'b', messages: [{ value: 'b0', partition: 1 }] },
      ],
    });
    expect(res).toEqual([
      { topicName: 'a', partition: 0, errorCode: 0, baseOffset: '0', logAppendTime: '-1', logStartOffset: '0' },
      { topicName: 'b', partition: 1, errorCode: 0, baseOffset: '0', logAppendTime: '-1', logStartOffset: '0' },
    ]);
    expect((await readAll(broker, 'a', 0)).map((m) => m.value)).toEqual(['a0', 'a1']);
    expect((await readAll(broker, 'b', 1)).map((m) => m.value)).toEqual(['b0']);
  });

  it('answers the offset of the first records when a topic is named twice', async () => {
    const { admin, producer, broker } = await open();
    await admin.createTopics({ topics: [{ topic: 'a' }] });
    await producer.send({ topic: 'a', messages: [{ value: 'before' }] });
    const res = await producer.sendBatch({ topicMessages: [{ topic: 'a', messages: [{ value: 'x' }, { value: 'y' }] }, { topic: 'a', messages: [{ value: 'z' }] }] });
    expect(res).toEqual([{ topicName: 'a', partition: 0, errorCode: 0, baseOffset: '1', logAppendTime: '-1', logStartOffset: '0' }]);
    expect((await readAll(broker, 'a', 0)).map((m) => `${m.offset}:${m.value}`)).toEqual(['0:before', '1:x', '2:y', '3:z']);
  });

  it('writes nothing when one topic\'s messages are bad, and names the field', async () => {
    const { admin, producer, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 'a' }, { topic: 'b' }] });
    const e = await rejection(producer.sendBatch({ topicMessages: [{ topic: 'a', messages: [{ value: 'ok' }] }, { topic: 'b', messages: [{ value: 'ok' }, { value: () => 1 } as never] }] }));
    expect(e).toBeInstanceOf(InvalidRecordError);
    expect(e.message).toContain('sendBatch.topicMessages[1].messages[1].value');
    expect(await offsets('a')).toEqual([{ partition: 0, low: 0, high: 0 }]);
    expect(await offsets('b')).toEqual([{ partition: 0, low: 0, high: 0 }]);
  });

  it('accepts an empty topicMessages and answers [] (KafkaJS)', async () => {
    const { producer } = await open();
    expect(await producer.sendBatch({ topicMessages: [] })).toEqual([]);
    expect(await rejection(producer.sendBatch({ topicMessages: 'x' } as never))).toBeInstanceOf(InvalidArgumentError);
  });
});

describe('bad input is refused with a typed error and nothing is written', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.me = cyclic;
  const cases: { name: string; messages: unknown; error: new (...a: never[]) => Error; field?: string }[] = [
    { name: 'value undefined', messages: [{ value: 'ok' }, { value: undefined }], error: InvalidRecordError, field: 'send.messages[1].value' },
    { name: 'value missing', messages: [{ key: 'k' }], error: InvalidRecordError, field: 'send.messages[0].value' },
    { name: 'function value', messages: [{ value: () => 1 }], error: InvalidRecordError, field: 'send.messages[0].value' },
    { name: 'Date value', messages: [{ value: new Date(0) }], error: InvalidRecordError, field: 'send.messages[0].value' },
    { name: 'Map value', messages: [{ value: new Map([[1, 2]]) }], error: InvalidRecordError, field: 'send.messages[0].value' },
    { name: 'NaN value', messages: [{ value: NaN }], error: InvalidRecordError, field: 'send.messages[0].value' },
    { name: 'NaN deep in JSON', messages: [{ value: { a: { b: [0, NaN] } } }], error: InvalidRecordError, field: 'send.messages[0].value.a.b[1]' },
    { name: 'cyclic object', messages: [{ value: cyclic }], error: InvalidRecordError, field: 'send.messages[0].value' },
    { name: 'number key', messages: [{ key: 42, value: 'v' }], error: InvalidRecordError, field: 'send.messages[0].key' },
    { name: 'object key', messages: [{ key: { id: 1 }, value: 'v' }], error: InvalidRecordError, field: 'send.messages[0].key' },
    { name: 'number header', messages: [{ value: 'v', headers: { h: 1 } }], error: InvalidRecordError, field: 'send.messages[0].headers.h' },
    { name: 'null header in an array', messages: [{ value: 'v', headers: { h: ['a', null] } }], error: InvalidRecordError, field: 'send.messages[0].headers.h' },
    { name: 'bad timestamp', messages: [{ value: 'v', timestamp: 'noon' }], error: InvalidRecordError, field: 'send.messages[0].timestamp' },
    { name: 'null message', messages: [{ value: 'ok' }, null], error: InvalidRecordError, field: 'send.messages[1]' },
    { name: 'record over max.message.bytes', messages: [{ value: 'small' }, { value: 'x'.repeat(300) }], error: RecordTooLargeError },
    { name: 'partition out of range', messages: [{ value: 'v', partition: 0 }, { value: 'v', partition: 2 }], error: TopicNotFoundError, field: 'send.messages[1].partition' },
    { name: 'negative partition', messages: [{ value: 'v', partition: -1 }], error: TopicNotFoundError },
    { name: 'fractional partition', messages: [{ value: 'v', partition: 1.5 }], error: InvalidArgumentError, field: 'send.messages[0].partition' },
    { name: 'string partition', messages: [{ value: 'v', partition: '1' }], error: InvalidArgumentError, field: 'send.messages[0].partition' },
    { name: 'messages not an array', messages: { value: 'v' }, error: InvalidArgumentError, field: 'send.messages' },
    // The bad record goes to another partition than the good ones: its own index is named.
    { name: 'bad record among good ones on other partitions', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }, { value: 'c', partition: 1 }, { value: undefined, partition: 1 }], error: InvalidRecordError, field: 'send.messages[3].value' },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const { admin, producer, offsets } = await open();
      await admin.createTopics({ topics: [{ topic: 't', numPartitions: 2, configEntries: [{ name: 'max.message.bytes', value: '200' }] }] });
      await producer.send({ topic: 't', messages: [{ value: 'existing', partition: 0 }, { value: 'existing', partition: 1 }] });
      const before = await offsets('t');
      const e = await rejection(producer.send({ topic: 't', messages: c.messages as Message[] }));
      expect(e).toBeInstanceOf(c.error);
      if (c.field) expect(e.message).toContain(c.field);
      expect(await offsets('t')).toEqual(before);
      // The producer is still usable and its sequence numbers are intact.
      expect((await producer.send({ topic: 't', messages: [{ value: 'after', partition: 1 }] }))[0]!.baseOffset).toBe('1');
    });
  }

  it('a missing or empty topic name', async () => {
    const { producer, admin } = await open();
    expect(await rejection(producer.send({ topic: '', messages: [{ value: 'v' }] }))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(producer.send({ messages: [{ value: 'v' }] } as never))).toBeInstanceOf(InvalidArgumentError);
    expect(await admin.listTopics()).toEqual([]);
  });

  it('a send before connect or after disconnect', async () => {
    const { client, admin, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 't' }] });
    const p = client.producer();
    expect(await rejection(p.send({ topic: 't', messages: [{ value: 'v' }] }))).toBeInstanceOf(NotConnectedError);
    await p.connect();
    await p.disconnect();
    expect(await rejection(p.send({ topic: 't', messages: [{ value: 'v' }] }))).toBeInstanceOf(NotConnectedError);
    expect(await offsets('t')).toEqual([{ partition: 0, low: 0, high: 0 }]);
  });
});

describe('concurrent sends', () => {
  it('1,000 concurrent one-record sends get distinct consecutive offsets in few transactions', async () => {
    const { admin, producer, broker, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 'c' }] });
    const commitsBefore = broker.appender.commits;
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => producer.send({ topic: 'c', messages: [{ value: String(i) }] })));
    const commits = broker.appender.commits - commitsBefore;
    const offsetsOf = results.map((r) => Number(r[0]!.baseOffset));
    expect([...offsetsOf].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(commits).toBeLessThan(20);
    expect(await offsets('c')).toEqual([{ partition: 0, low: 0, high: 1000 }]);
    // Each send's answer points at its own record.
    const read = await readAll(broker, 'c', 0);
    for (let i = 0; i < 1000; i++) expect(read[offsetsOf[i]!]!.value).toBe(String(i));
  });

  it('1,000 concurrent first sends to a topic that does not exist yet create it once', async () => {
    const { admin, producer, offsets } = await open({ defaultNumPartitions: 2 });
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => producer.send({ topic: 'fresh', messages: [{ value: String(i), partition: i % 2 }] })));
    expect(await admin.listTopics()).toEqual(['fresh']);
    expect(await offsets('fresh')).toEqual([{ partition: 0, low: 0, high: 500 }, { partition: 1, low: 0, high: 500 }]);
    for (const p of [0, 1]) {
      const got = results.map((r) => r[0]!).filter((r) => r.partition === p).map((r) => Number(r.baseOffset)).sort((a, b) => a - b);
      expect(got).toEqual(Array.from({ length: 500 }, (_, i) => i));
    }
  });

  it('a joint request with one bad send fails only that send', async () => {
    const { admin, producer, broker, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 'good' }, { topic: 'stale', numPartitions: 3 }] });
    await producer.send({ topic: 'stale', messages: [{ value: 'cache metadata', partition: 2 }] });
    await producer.send({ topic: 'good', messages: [{ value: 'zero' }] });
    // Another client shrinks the topic behind the producer's back: its metadata is now stale.
    await admin.deleteTopics({ topics: ['stale'] });
    await admin.createTopics({ topics: [{ topic: 'stale', numPartitions: 1 }] });

    const requests: ProduceRequest[] = [];
    const produce = broker.produce.bind(broker);
    broker.produce = (req: ProduceRequest) => { requests.push(req); return produce(req); };
    const first = producer.send({ topic: 'good', messages: [{ value: 'first' }] });
    const a = producer.send({ topic: 'good', messages: [{ value: 'a' }] });
    const bad = producer.send({ topic: 'stale', messages: [{ value: 'b', partition: 2 }] });
    const c = producer.send({ topic: 'good', messages: [{ value: 'c' }] });
    const [ra, e, rc] = await Promise.all([a, rejection(bad), c, first]);
    broker.produce = produce;
    expect(e).toBeInstanceOf(TopicNotFoundError);
    expect(requests.some((r) => r.batches.some((b) => b.topic === 'stale') && r.batches.some((b) => b.topic === 'good'))).toBe(true);
    expect(ra![0]!.topicName).toBe('good');
    expect(rc![0]!.topicName).toBe('good');
    expect((await readAll(broker, 'good', 0)).map((m) => m.value).sort()).toEqual(['a', 'c', 'first', 'zero']);
    expect(await offsets('stale')).toEqual([{ partition: 0, low: 0, high: 0 }]);
    // The refusal dropped the stale metadata: the same producer now writes to the new topic,
    // its sequence for partition 0 starting over (the new log knows nothing of it).
    for (let i = 0; i < 4; i++) expect((await producer.send({ topic: 'stale', messages: [{ value: `ok${i}` }] }))[0]!.partition).toBe(0);
    expect((await producer.send({ topic: 'stale', messages: [{ value: 'p0', partition: 0 }] }))[0]!.baseOffset).toBe('4');
    expect(await rejection(producer.send({ topic: 'stale', messages: [{ value: 'x', partition: 1 }] }))).toBeInstanceOf(TopicNotFoundError);
    expect(await offsets('stale')).toEqual([{ partition: 0, low: 0, high: 5 }]);
  });

  it('a producer keeps writing to a topic that was deleted and created again', async () => {
    const { admin, producer, broker } = await open();
    await admin.createTopics({ topics: [{ topic: 'r' }] });
    await producer.send({ topic: 'r', messages: [{ value: 'a' }, { value: 'b' }] });
    await admin.deleteTopics({ topics: ['r'] });
    await admin.createTopics({ topics: [{ topic: 'r' }] });
    expect((await producer.send({ topic: 'r', messages: [{ value: 'c' }] }))[0]!.baseOffset).toBe('0');
    expect((await producer.send({ topic: 'r', messages: [{ value: 'd' }] }))[0]!.baseOffset).toBe('1');
    expect((await readAll(broker, 'r', 0)).map((m) => m.value)).toEqual(['c', 'd']);
  });

  it('two producers connecting at once get distinct ids, so neither loses records', async () => {
    const { admin, client, broker } = await open();
    await admin.createTopics({ topics: [{ topic: 't' }] });
    const p1 = client.producer();
    const p2 = client.producer();
    await Promise.all([p1.connect(), p2.connect()]);
    const [r1] = await p1.send({ topic: 't', messages: [{ value: 'one' }] });
    const [r2] = await p2.send({ topic: 't', messages: [{ value: 'two' }] });
    expect(r1!.baseOffset).toBe('0');
    expect(r2!.baseOffset).toBe('1');
    expect((await readAll(broker, 't', 0)).map((m) => m.value)).toEqual(['one', 'two']);
    await p1.disconnect();
    await p2.disconnect();
  });
});

describe('retries', () => {
  function failAfterWrite(broker: Env['broker'], times: number) {
    const produce = broker.produce.bind(broker);
    let left = times;
    broker.produce = async (req: ProduceRequest) => {
      const res = await produce(req);
      if (left-- > 0) throw new BrokerUnavailableError('connection lost after the write');
      return res;
    };
    return () => { broker.produce = produce; };
  }

  it('an idempotent producer\'s retry of a written batch is answered with its offsets and not written again', async () => {
    const { admin, client, broker, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 't' }] });
    const p = client.producer({ retry: { retries: 3, initialRetryTime: 1 } });
    await p.connect();
    await p.send({ topic: 't', messages: [{ value: 'zero' }] });
    const restore = failAfterWrite(broker, 2);
    const [r] = await p.send({ topic: 't', messages: [{ value: 'a' }, { value: 'b' }] });
    restore();
    expect(r!.baseOffset).toBe('1');
    expect(await offsets('t')).toEqual([{ partition: 0, low: 0, high: 3 }]);
    expect((await p.send({ topic: 't', messages: [{ value: 'c' }] }))[0]!.baseOffset).toBe('3');
    expect((await readAll(broker, 't', 0)).map((m) => m.value)).toEqual(['zero', 'a', 'b', 'c']);
    await p.disconnect();
  });

  it('a non-idempotent producer\'s retry writes the records again (what idempotence prevents)', async () => {
    const { admin, client, broker, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 't' }] });
    const p = client.producer({ idempotent: false, retry: { retries: 3, initialRetryTime: 1 } });
    await p.connect();
    expect(p.isIdempotent()).toBe(false);
    const restore = failAfterWrite(broker, 1);
    await p.send({ topic: 't', messages: [{ value: 'a' }] });
    restore();
    expect(await offsets('t')).toEqual([{ partition: 0, low: 0, high: 2 }]);
    await p.disconnect();
  });

  it('gives up after the configured retries with NumberOfRetriesExceededError carrying the retriable error (KafkaJS)', async () => {
    const { admin, client, broker } = await open();
    await admin.createTopics({ topics: [{ topic: 't' }] });
    const p = client.producer({ retry: { retries: 1, initialRetryTime: 1 } });
    await p.connect();
    const restore = failAfterWrite(broker, 5);
    const e = await rejection(p.send({ topic: 't', messages: [{ value: 'a' }] }));
    restore();
    expect(e).toBeInstanceOf(NumberOfRetriesExceededError);
    expect(e.cause).toBeInstanceOf(BrokerUnavailableError);
    expect((e.cause as BrokerUnavailableError).retriable).toBe(true);
    expect((e as NumberOfRetriesExceededError).details.retryCount).toBe(1);
    await p.disconnect();
  });
});
