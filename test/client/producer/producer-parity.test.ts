/**
 * KafkaJS parity of the producer: empty sends, GZIP compression (stored compressed, read
 * transparently, compacted), refused codecs, instrumentation events and log lines.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  BrokerUnavailableError, CompressionTypes, logLevel, UnsupportedCompressionTypeError, type InstrumentationEvent, type LogEntry,
} from '../../../src/index.js';
import { Codec } from '../../../src/protocol/compression.js';
import { readAll, rejection, setup } from '../helpers.js';

type Env = Awaited<ReturnType<typeof setup>>;
let env: Env | undefined;
const open = async (...a: Parameters<typeof setup>) => (env = await setup(...a));
afterEach(async () => { await env?.close(); env = undefined; });

describe('empty sends', () => {
  it('send with messages: [] answers [] and writes nothing, not even the topic', async () => {
    const { producer, admin } = await open();
    expect(await producer.send({ topic: 'never-created', messages: [] })).toEqual([]);
    expect(await admin.listTopics()).not.toContain('never-created');
    expect(await producer.sendBatch({ topicMessages: [{ topic: 'never-created', messages: [] }] })).toEqual([]);
    expect(await admin.listTopics()).not.toContain('never-created');
  });
});

describe('compression', () => {
  it('GZIP stores the batch payload compressed with its codec, and consumers read it as sent', async () => {
    const { producer, admin, broker } = await open();
    await admin.createTopics({ topics: [{ topic: 'z' }] });
    const value = { text: 'lanes '.repeat(200), n: 1 };
    await producer.send({ topic: 'z', compression: CompressionTypes.GZIP, messages: [{ key: 'k', value }, { key: 'k2', value: 'two', headers: { h: 'v' } }] });
    await producer.send({ topic: 'z', messages: [{ key: 'k3', value: 'plain' }] });
    const stored = await broker.store.readBatches('z', 0, 0, 10);
    expect(stored.map((b) => b.compression)).toEqual([Codec.GZIP, undefined]);
    expect(stored[0]!.payload.length).toBeLessThan(600); // 1,200 characters of text went in
    expect(stored[0]!.payload.subarray(0, 2)).toEqual(new Uint8Array([0x1f, 0x8b])); // gzip magic
    const c = await env!.consumer();
    const got: { key: unknown; value: unknown; headers: unknown; offset: string }[] = [];
    const all = new Promise<void>((resolve) => {
      void c.run({ eachMessage: async ({ message }) => { got.push({ key: message.key, value: message.value, headers: message.headers, offset: message.offset }); if (got.length === 3) resolve(); } });
    });
    c.assign([{ topic: 'z', partition: 0, offset: '0' }]);
    await all;
    expect(got).toEqual([
      { key: 'k', value, headers: {}, offset: '0' },
      { key: 'k2', value: 'two', headers: { h: 'v' }, offset: '1' },
      { key: 'k3', value: 'plain', headers: {}, offset: '2' },
    ]);
  });

  it('fetchTopicOffsetsByTimestamp looks inside compressed batches', async () => {
    const { producer, admin } = await open();
    await admin.createTopics({ topics: [{ topic: 'ts' }] });
    await producer.send({ topic: 'ts', compression: CompressionTypes.GZIP, messages: [{ value: 'a', timestamp: '1000' }, { value: 'b', timestamp: '2000' }, { value: 'c', timestamp: '3000' }] });
    expect(await admin.fetchTopicOffsetsByTimestamp('ts', 1500)).toEqual([{ partition: 0, offset: '1' }]);
  });

  it('the cleaner compacts compressed batches (decompressing them) and readers still get every kept record', async () => {
    const { producer, admin, broker } = await open();
    await admin.createTopics({ topics: [{ topic: 'cz', configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'segment.bytes', value: '1' }] }] });
    for (let i = 0; i < 4; i++) {
      await producer.send({ topic: 'cz', compression: CompressionTypes.GZIP, messages: [{ key: 'a', value: `a${i}` }, { key: `u${i}`, value: `u${i}` }] });
    }
    await admin.runLogCleaner({ topics: ['cz'] });
    const records = await readAll(broker, 'cz', 0);
    // Every segment but the active one was compacted: older values of key a are gone.
    expect(records.map((m) => `${m.offset}:${m.value}`)).toEqual(['1:u0', '3:u1', '5:u2', '6:a3', '7:u3']);
  });

  it('refuses Snappy, LZ4 and ZSTD with UnsupportedCompressionTypeError before writing', async () => {
    const { producer, admin, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 'n' }] });
    for (const compression of [CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD]) {
      const e = await rejection(producer.send({ topic: 'n', compression, messages: [{ value: 'x' }] }));
      expect(e).toBeInstanceOf(UnsupportedCompressionTypeError);
      expect(e.message).toContain(Object.keys(CompressionTypes).find((k) => CompressionTypes[k as keyof typeof CompressionTypes] === compression));
      expect((e as UnsupportedCompressionTypeError).type).toBe('UNSUPPORTED_COMPRESSION_TYPE');
    }
    expect(await offsets('n')).toEqual([{ partition: 0, low: 0, high: 0 }]);
  });
});

describe('producer events and logs', () => {
  it('emits CONNECT, REQUEST (per broker call), REQUEST_QUEUE_SIZE and DISCONNECT with KafkaJS names', async () => {
    const { client, admin } = await open();
    await admin.createTopics({ topics: [{ topic: 'e' }] });
    const p = client.producer();
    const seen: InstrumentationEvent[] = [];
    for (const name of Object.values(p.events)) p.on(name, (e) => seen.push(e));
    await p.connect();
    await p.send({ topic: 'e', messages: [{ value: 'x' }] });
    await p.disconnect();
    const types = seen.map((e) => e.type);
    expect(types.filter((t) => t === 'producer.connect')).toHaveLength(1);
    expect(types.at(-1)).toBe('producer.disconnect');
    const requests = seen.filter((e) => e.type === p.events.REQUEST).map((e) => (e.payload as { apiName: string; apiKey: number }));
    expect(requests.map((r) => r.apiName)).toEqual(['initProducerId', 'metadata', 'produce']);
    expect(requests.map((r) => r.apiKey)).toEqual([22, 3, 0]);
    expect(seen.filter((e) => e.type === p.events.REQUEST_QUEUE_SIZE).map((e) => (e.payload as { queueSize: number }).queueSize)).toEqual([1, 0, 1, 0, 1, 0]);
    expect(() => p.on('producer.nope', () => undefined)).toThrow(/event name must be one of/);
  });

  it('logs retries through the client logCreator and logLevel', async () => {
    const entries: LogEntry[] = [];
    const { client, admin, broker } = await open({ logLevel: logLevel.WARN, logCreator: () => (e) => entries.push(e) });
    await admin.createTopics({ topics: [{ topic: 'r' }] });
    const p = client.producer({ retry: { retries: 2, initialRetryTime: 1 } });
    await p.connect();
    const produce = broker.produce.bind(broker);
    let fail = 1;
    broker.produce = async (req) => { if (fail-- > 0) throw new BrokerUnavailableError('gone for a moment'); return produce(req); };
    await p.send({ topic: 'r', messages: [{ value: 'x' }] });
    broker.produce = produce;
    await p.disconnect();
    expect(entries).toHaveLength(1); // INFO and DEBUG lines are below WARN
    expect(entries[0]).toMatchObject({ namespace: 'Producer', level: logLevel.WARN, label: 'WARN', log: { logger: 'lanes', message: 'Failed to send messages, retrying', retryCount: 0, error: 'gone for a moment' } });
    expect(typeof entries[0]!.log.timestamp).toBe('string');
    p.logger().error('from the producer logger');
    expect(entries.at(-1)).toMatchObject({ namespace: 'Producer', label: 'ERROR', log: { message: 'from the producer logger' } });
  });
});
