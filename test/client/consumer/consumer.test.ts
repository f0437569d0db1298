import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotConnectedError, OffsetOutOfRangeError, errorFromData, type EachBatchPayload } from '../../../src/index.js';
import { decodeAll, recorder, rejection, setup } from '../helpers.js';

type Env = Awaited<ReturnType<typeof setup>>;
let env: Env | undefined;
const open = async (...a: Parameters<typeof setup>) => (env = await setup(...a));
afterEach(async () => { await env?.close(); env = undefined; });

/** Resolves at the consumer's next event of `type`. */
function nextEvent(consumer: { on(t: string, l: () => void): () => void }, type: string): Promise<void> {
  return new Promise((resolve) => {
    const off = consumer.on(type, () => { off(); resolve(); });
  });
}

async function topicWith(env: Env, topic: string, values: string[], numPartitions = 1) {
  await env.admin.createTopics({ topics: [{ topic, numPartitions }] });
  if (values.length) await env.producer.send({ topic, messages: values.map((value) => ({ value, partition: 0 })) });
}

describe('a free consumer reads assigned partitions', () => {
  it('delivers records in offset order with key, value, headers and timestamp', async () => {
    const e = await open();
    await e.admin.createTopics({ topics: [{ topic: 't' }] });
    await e.producer.send({ topic: 't', messages: [
      { key: 'k1', value: { n: 1 }, headers: { trace: 'abc', multi: ['x', 'y'] }, timestamp: 1000 },
      { key: null, value: new Uint8Array([1, 2]), timestamp: '2000' },
    ] });
    await e.producer.send({ topic: 't', messages: [{ key: 'k3', value: null, timestamp: 3000 }] });
    const consumer = await e.consumer();
    consumer.assign([{ topic: 't', partition: 0, offset: '0' }]);
    expect(consumer.assignment()).toEqual([{ topic: 't', partition: 0 }]);
    const r = recorder();
    await consumer.run({ eachMessage: r.eachMessage });
    const got = await r.until(3);
    expect(got.map((m) => ({ offset: m.offset, key: m.key, value: m.value, headers: m.headers, timestamp: m.timestamp, topic: m.topic, partition: m.partition }))).toEqual([
      { offset: '0', key: 'k1', value: { n: 1 }, headers: { trace: 'abc', multi: ['x', 'y'] }, timestamp: '1000', topic: 't', partition: 0 },
      { offset: '1', key: null, value: new Uint8Array([1, 2]), headers: {}, timestamp: '2000', topic: 't', partition: 0 },
      { offset: '2', key: 'k3', value: null, headers: {}, timestamp: '3000', topic: 't', partition: 0 },
    ]);
  });

  it('starts at a given offset, at "earliest" and at "latest"', async () => {
    const e = await open();
    await topicWith(e, 't', ['a', 'b', 'c', 'd']);
    const fromTwo = await e.consumer();
    fromTwo.assign([{ topic: 't', partition: 0, offset: 2 }]);
    const r2 = recorder();
    await fromTwo.run({ eachMessage: r2.eachMessage });
    expect((await r2.until(2)).map((m) => m.value)).toEqual(['c', 'd']);

    const earliest = await e.consumer();
    earliest.assign([{ topic: 't', partition: 0, offset: 'earliest' }]);
    const re = recorder();
    await earliest.run({ eachMessage: re.eachMessage });
    expect((await re.until(4)).map((m) => m.value)).toEqual(['a', 'b', 'c', 'd']);

    const latest = await e.consumer();
    latest.assign([{ topic: 't', partition: 0, offset: 'latest' }]);
    const rl = recorder();
    const fetching = nextEvent(latest, latest.events.FETCH_START);
    await latest.run({ eachMessage: rl.eachMessage });
    await fetching; // its position is resolved: only later records reach it
    await e.producer.send({ topic: 't', messages: [{ value: 'e' }] });
    expect((await rl.until(1)).map((m) => [m.offset, m.value])).toEqual([['4', 'e']]);
  });

  it('uses autoOffsetReset when assign gives no offset', async () => {
    const e = await open();
    await topicWith(e, 't', ['a', 'b']);
    const c = await e.consumer({ autoOffsetReset: 'earliest' });
    c.assign([{ topic: 't', partition: 0 }]);
    const r = recorder();
    await c.run({ eachMessage: r.eachMessage });
    expect((await r.until(2)).map((m) => m.value)).toEqual(['a', 'b']);
  });

  it('waits at the log end and delivers records appended later', async () => {
    const e = await open();
    await topicWith(e, 't', ['a']);
    const c = await e.consumer({ maxWaitTimeInMs: 600_000 }); // far longer than the test may take: only a wake-up delivers
    c.assign([{ topic: 't', partition: 0, offset: 0 }]);
    let stopped!: Promise<void>;
    // Stopping from the last handler keeps the runner from parking in another long poll.
    const r = recorder(({ message }) => { if (message.value === 'c') stopped = c.stop(); });
    await c.run({ eachMessage: r.eachMessage });
    await r.until(1);
    await e.producer.send({ topic: 't', messages: [{ value: 'b' }] });
    await r.until(2);
    await e.producer.send({ topic: 't', messages: [{ value: 'c' }] });
    expect((await r.until(3)).map((m) => m.value)).toEqual(['a', 'b', 'c']);
    await stopped;
  });

  it('hands the first fetched record to the handler before it asks for the next ones', async () => {
    const e = await open();
    await topicWith(e, 't', ['a', 'b']);
    const order: string[] = [];
    const fetch = e.broker.fetch;
    e.broker.fetch = (req) => { order.push(`fetch ${req.partitions[0]!.offset}`); return fetch(req); };
    const c = await e.consumer();
    c.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const r = recorder(({ message }) => { order.push(`record ${message.offset}`); });
    await c.run({ eachMessage: r.eachMessage });
    await r.until(2);
    await c.stop();
    // The fetch ahead (offset 2) is posted once the handler has the first record, not before
    // the decode: the record reaches the handler one message post sooner.
    expect(order.filter((x) => x === 'record 0' || x === 'fetch 2')).toEqual(['record 0', 'fetch 2']);
  });

  it('reads several partitions, each in order', async () => {
    const e = await open();
    await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 3 }] });
    for (let i = 0; i < 30; i++) await e.producer.send({ topic: 't', messages: [{ value: String(i), partition: i % 3 }] });
    const c = await e.consumer();
    c.assign([0, 1, 2].map((partition) => ({ topic: 't', partition, offset: 0 })));
    const r = recorder();
    await c.run({ eachMessage: r.eachMessage, partitionsConsumedConcurrently: 3 });
    await r.until(30);
    for (const p of [0, 1, 2]) {
      expect(r.offsets(p)).toEqual(Array.from({ length: 10 }, (_, i) => i));
      expect(r.got.filter((m) => m.partition === p).map((m) => Number(m.value) % 3)).toEqual(Array(10).fill(p));
    }
  });

  it('delivers everything even when a fetch may carry only one batch', async () => {
    const e = await open();
    await e.admin.createTopics({ topics: [{ topic: 't' }] });
    for (let i = 0; i < 6; i++) await e.producer.send({ topic: 't', messages: [{ value: 'x'.repeat(100) + i }] });
    const c = await e.consumer({ maxBytes: 1, maxBytesPerPartition: 1 });
    c.assign([{ topic: 't', partition: 0, offset: 0 }]);
    let fetches = 0;
    c.on(c.events.FETCH, () => { fetches++; });
    const r = recorder();
    await c.run({ eachMessage: r.eachMessage });
    expect((await r.until(6)).map((m) => m.offset)).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(fetches).toBeGreaterThanOrEqual(6);
  });

  it('refuses run before connect, and bad assignments', async () => {
    const e = await open();
    const c = e.client.consumer();
    expect(await rejection(c.run({ eachMessage: async () => undefined }))).toBeInstanceOf(NotConnectedError);
    expect(() => c.assign([{ topic: 't', partition: -1 }])).toThrow(InvalidArgumentError);
    expect(() => c.assign([{ topic: 't', partition: 0, offset: 'soon' as never }])).toThrow(InvalidArgumentError);
    const connected = await e.consumer();
    expect(await rejection(connected.run({} as never))).toBeInstanceOf(InvalidArgumentError);
  });
});

describe('eachBatch', () => {
  it('hands whole batches; unresolved records come again', async () => {
    const e = await open();
    await topicWith(e, 't', ['a', 'b', 'c', 'd', 'e']);
    const c = await e.consumer();
    c.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const batches: { first: string | null; last: string; values: unknown[]; high: string; lag: string }[] = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => { done = r; });
    await c.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, isRunning, isStale }: EachBatchPayload) => {
        expect(isRunning()).toBe(true);
        expect(isStale()).toBe(false);
        batches.push({ first: batch.firstOffset(), last: batch.lastOffset(), values: batch.messages.map((m) => m.value), high: batch.highWatermark, lag: batch.offsetLagLow() });
        if (batches.length === 1) resolveOffset(batch.messages[1]!.offset); // only a and b
        else { resolveOffset(batch.lastOffset()); done(); }
      },
    });
    await finished;
    expect(batches).toEqual([
      { first: '0', last: '4', values: ['a', 'b', 'c', 'd', 'e'], high: '5', lag: '4' },
      { first: '2', last: '4', values: ['c', 'd', 'e'], high: '5', lag: '2' },
    ]);
  });

  it('resolves the whole batch by default', async () => {
    const e = await open();
    await topicWith(e, 't', ['a', 'b']);
    const c = await e.consumer();
    c.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const seen: string[][] = [];
    let next!: () => void;
    let arrived = new Promise<void>((r) => { next = r; });
    await c.run({ eachBatch: async ({ batch }) => { seen.push(batch.messages.map((m) => m.offset)); next(); } });
    await arrived;
    arrived = new Promise<void>((r) => { next = r; });
    await e.producer.send({ topic: 't', messages: [{ value: 'c' }] });
    await arrived;
    expect(seen).toEqual([['0', '1'], ['2']]);
  });
});

describe('seek, pause, resume, stop', () => {
  it('seek moves the position, also from inside the handler', async () => {
    const e = await open();
    await topicWith(e, 't', ['a', 'b', 'c', 'd']);
    const c = await e.consumer();
    c.assign([{ topic: 't', partition: 0, offset: 0 }]);
    let sought = false;
    const r = recorder(({ message }) => {
      if (message.offset === '2' && !sought) { sought = true; c.seek({ topic: 't', partition: 0, offset: '1' }); }
    });
    await c.run({ eachMessage: r.eachMessage });
    expect((await r.until(6)).map((m) => m.offset)).toEqual(['0', '1', '2', '1', '2', '3']);
    expect(() => c.seek({ topic: 'other', partition: 0, offset: '0' })).toThrow(InvalidArgumentError);
    expect(() => c.seek({ topic: 't', partition: 0, offset: 'x' })).toThrow(InvalidArgumentError);
  });

  it('pause stops one partition while others go on; resume picks up where it stopped', async () => {
    const e = await open();
    await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    const c = await e.consumer();
    c.assign([{ topic: 't', partition: 0, offset: 0 }, { topic: 't', partition: 1, offset: 0 }]);
    c.pause([{ topic: 't', partitions: [0] }]);
    expect(c.paused()).toEqual([{ topic: 't', partitions: [0] }]);
    const r = recorder();
    await c.run({ eachMessage: r.eachMessage });
    await e.producer.send({ topic: 't', messages: [{ value: 'p0-a', partition: 0 }, { value: 'p1-a', partition: 1 }] });
    await e.producer.send({ topic: 't', messages: [{ value: 'p1-b', partition: 1 }] });
    await r.until(2);
    // Both records of partition 1 arrived after partition 0's was written: 0 is paused.
    expect(r.got.map((m) => m.value)).toEqual(['p1-a', 'p1-b']);
    c.resume([{ topic: 't' }]);
    expect(c.paused()).toEqual([]);
    expect((await r.until(3)).map((m) => m.value)).toEqual(['p1-a', 'p1-b', 'p0-a']);
  });

  it('assign() starts its partitions afresh: a partition paused before is read again', async () => {
    const e = await open();
    await topicWith(e, 't', ['a', 'b']);
    const c = await e.consumer();
    c.assign([{ topic: 't', partition: 0, offset: 0 }]);
    c.pause([{ topic: 't' }]);
    c.assign([{ topic: 't', partition: 0, offset: 1 }]);
    expect(c.paused()).toEqual([]);
    const r = recorder();
    await c.run({ eachMessage: r.eachMessage });
    expect((await r.until(1)).map((m) => m.value)).toEqual(['b']);
  });

  it('pause() from inside eachMessage stops the partition after that record', async () => {
    const e = await open();
    await topicWith(e, 't', ['a', 'b', 'c']);
    const c = await e.consumer();
    c.assign([{ topic: 't', partition: 0, offset: 0 }]);
    let resume: (() => void) | undefined;
    let paused!: () => void;
    const pausedNow = new Promise<void>((r) => { paused = r; });
    const r = recorder(({ message, pause }) => { if (message.offset === '0') { resume = pause(); paused(); } });
    await c.run({ eachMessage: r.eachMessage });
    await pausedNow;
    expect(c.paused()).toEqual([{ topic: 't', partitions: [0] }]);
    expect(r.got.map((m) => m.value)).toEqual(['a']);
    resume!();
    expect((await r.until(3)).map((m) => m.value)).toEqual(['a', 'b', 'c']);
  });

  it('stop ends delivery; run again continues from the position', async () => {
    const e = await open();
    await topicWith(e, 't', ['a', 'b']);
    const c = await e.consumer();
    c.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const r = recorder();
    await c.run({ eachMessage: r.eachMessage });
    await r.until(2);
    await c.stop();
    await e.producer.send({ topic: 't', messages: [{ value: 'c' }] });
    expect(r.got).toHaveLength(2);
    await c.run({ eachMessage: r.eachMessage });
    expect((await r.until(3)).map((m) => m.offset)).toEqual(['0', '1', '2']);
  });
});

describe('offsets out of range', () => {
  it('the broker answers OffsetOutOfRange below the low watermark and past the log end', async () => {
    const e = await open();
    await topicWith(e, 't', ['a', 'b', 'c', 'd', 'e']);
    await e.admin.deleteTopicRecords({ topic: 't', partitions: [{ partition: 0, offset: '2' }] });
    const fetchAt = async (offset: number) => (await e.broker.fetch({ partitions: [{ topic: 't', partition: 0, offset }], maxWaitMs: 0, maxBytes: 1 << 20, maxBytesPerPartition: 1 << 20 }))[0]!;
    for (const offset of [0, 1, 6, 100]) {
      const r = await fetchAt(offset);
      expect(r.error?.code, `offset ${offset}`).toBe('OFFSET_OUT_OF_RANGE');
      expect(errorFromData(r.error!)).toBeInstanceOf(OffsetOutOfRangeError);
      expect(r.batches).toEqual([]);
      expect([r.low, r.high]).toEqual([2, 5]);
    }
    expect((await decodeAll((await fetchAt(2)).batches, 2)).map((m) => m.value)).toEqual(['c', 'd', 'e']);
    const atEnd = await fetchAt(5);
    expect(atEnd.error).toBeUndefined();
    expect(atEnd.batches).toEqual([]);
  });

  it('the broker resolves -1 (latest) and -2 (earliest), and with reset moves an offset out of range; the answer says where it read', async () => {
    const e = await open();
    await topicWith(e, 't', ['a', 'b', 'c', 'd', 'e']);
    await e.admin.deleteTopicRecords({ topic: 't', partitions: [{ partition: 0, offset: '2' }] });
    // maxWaitMs is long: a fetch that resolves -1 / -2 or resets its offset answers at once (even
    // empty), so the position sticks; a read after the wait would resolve it again, past new records.
    const fetchAt = async (offset: number, reset?: 'earliest' | 'latest') =>
      (await e.broker.fetch({ partitions: [{ topic: 't', partition: 0, offset, ...(reset && { reset }) }], maxWaitMs: 600_000, maxBytes: 1 << 20, maxBytesPerPartition: 1 << 20 }))[0]!;
    const read = async (r: Awaited<ReturnType<typeof fetchAt>>) => [r.offset, r.error?.code, (await decodeAll(r.batches, r.offset)).map((m) => m.value)];
    expect(await read(await fetchAt(-2))).toEqual([2, undefined, ['c', 'd', 'e']]);
    expect(await read(await fetchAt(-1))).toEqual([5, undefined, []]);
    expect(await read(await fetchAt(0, 'latest'))).toEqual([2, undefined, ['c', 'd', 'e']]); // below the log start: the start
    expect(await read(await fetchAt(9, 'latest'))).toEqual([5, undefined, []]);
    expect(await read(await fetchAt(9, 'earliest'))).toEqual([2, undefined, ['c', 'd', 'e']]);
    expect(await read(await fetchAt(3, 'earliest'))).toEqual([3, undefined, ['d', 'e']]); // in range: as asked
    const missing = (await e.broker.fetch({ partitions: [{ topic: 't', partition: 4, offset: -2, reset: 'earliest' }], maxWaitMs: 0, maxBytes: 1 << 20, maxBytesPerPartition: 1 << 20 }))[0]!;
    expect(missing.error?.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('a fetch at the log end long-polls and answers with the next append', async () => {
    const e = await open();
    await topicWith(e, 't', ['a']);
    const pending = e.broker.fetch({ partitions: [{ topic: 't', partition: 0, offset: 1 }], maxWaitMs: 600_000, maxBytes: 1 << 20, maxBytesPerPartition: 1 << 20 });
    await e.producer.send({ topic: 't', messages: [{ value: 'b' }] });
    const [r] = await pending;
    expect((await decodeAll(r!.batches, 1)).map((m) => [m.offset, m.value])).toEqual([['1', 'b']]);
    expect(r!.high).toBe(2);
  });

  it('a consumer below the low watermark resets to it', async () => {
    const e = await open();
    await topicWith(e, 't', ['a', 'b', 'c', 'd']);
    await e.admin.deleteRecords({ topic: 't', partitions: [{ partition: 0, offset: '3' }] });
    const c = await e.consumer({ autoOffsetReset: 'latest' });
    c.assign([{ topic: 't', partition: 0, offset: 1 }]);
    const r = recorder();
    await c.run({ eachMessage: r.eachMessage });
    expect((await r.until(1)).map((m) => [m.offset, m.value])).toEqual([['3', 'd']]);
  });

  it('a consumer past the log end resets by its policy: latest to the end, earliest to the start', async () => {
    const e = await open();
    await topicWith(e, 't', ['a', 'b']);
    const late = await e.consumer({ autoOffsetReset: 'latest' });
    late.assign([{ topic: 't', partition: 0, offset: 50 }]);
    const rl = recorder();
    const resetDone = nextEvent(late, late.events.FETCH); // the fetch answered OffsetOutOfRange
    await late.run({ eachMessage: rl.eachMessage });
    await resetDone;
    const early = await e.consumer({ autoOffsetReset: 'earliest' });
    early.assign([{ topic: 't', partition: 0, offset: 50 }]);
    const re = recorder();
    await early.run({ eachMessage: re.eachMessage });
    expect((await re.until(2)).map((m) => m.offset)).toEqual(['0', '1']);
    await e.producer.send({ topic: 't', messages: [{ value: 'c' }] });
    expect((await rl.until(1)).map((m) => m.offset)).toEqual(['2']);
    expect((await re.until(3)).map((m) => m.offset)).toEqual(['0', '1', '2']);
  });
});
