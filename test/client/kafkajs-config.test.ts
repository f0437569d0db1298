/**
 * A KafkaJS client config works as written: `createClient` takes KafkaJS's connection options
 * (brokers, ssl, sasl, timeouts, socketFactory) and ignores them, defaults `database`, honours the
 * client-wide `retry` and `enforceRequestTimeout`, and still refuses options of the wrong shape.
 */
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BrokerUnavailableError, createClient, InvalidArgumentError, logLevel, NumberOfRetriesExceededError } from '../../src/index.js';
import { DEFAULT_DATABASE } from '../../src/client/connection.js';
import { withRequestLayer } from '../../src/client/requests.js';
import type { BrokerApi } from '../../src/protocol/broker-api.js';
import { setup } from './helpers.js';

/** The config object of KafkaJS's example programs, as written there. */
const kafkaJsConfig = (clientId: string) => ({
  logLevel: logLevel.ERROR,
  brokers: ['192.0.2.1:9094', '192.0.2.1:9097', '192.0.2.1:9100'],
  clientId,
  ssl: { servername: 'localhost', rejectUnauthorized: false, ca: ['-----BEGIN CERTIFICATE-----'] },
  sasl: { mechanism: 'plain', username: 'test', password: 'testtest' },
});

describe('createClient with a KafkaJS config', () => {
  let env: Awaited<ReturnType<typeof setup>> | undefined;
  afterEach(async () => { await env?.close(); env = undefined; });

  it('accepts brokers, ssl, sasl and the connection timeouts, and two clients without `database` share one log', async () => {
    const indexedDB = new IDBFactory();
    const extra = { connectionTimeout: 1000, authenticationTimeout: 1000, reauthenticationThreshold: 10000, socketFactory: () => undefined, indexedDB, IDBKeyRange, logCleanerIntervalMs: 0 };
    const producer = createClient({ ...kafkaJsConfig('example-producer'), ...extra }).producer();
    const consumer = createClient({ ...kafkaJsConfig('example-consumer'), ...extra, brokers: async () => ['192.0.2.1:9092'] }).consumer({ groupId: 'g' });
    await producer.connect();
    await consumer.connect();
    await producer.send({ topic: 'topic-test', messages: [{ key: 'k', value: 'v' }] });
    await consumer.subscribe({ topic: 'topic-test', fromBeginning: true });
    const got = new Promise<string>((resolve) => { void consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) }); });
    expect(await got).toBe('v');
    await consumer.disconnect();
    await producer.disconnect();
    expect(DEFAULT_DATABASE).toBe('lanes');
    expect((await indexedDB.databases()).map((d) => d.name).filter((n) => n?.includes(DEFAULT_DATABASE)).length).toBeGreaterThan(0);
  });

  it('refuses KafkaJS options of the wrong shape, naming the option', () => {
    const bad: [string, Record<string, unknown>][] = [
      ['brokers', { brokers: 'localhost:9092' }],
      ['brokers', { brokers: [9092] }],
      ['ssl', { ssl: 'yes' }],
      ['sasl', { sasl: { username: 'u' } }],
      ['connectionTimeout', { connectionTimeout: -1 }],
      ['socketFactory', { socketFactory: {} }],
      ['enforceRequestTimeout', { enforceRequestTimeout: 'no' }],
      ['database', { database: '' }],
      // A timer beyond 2^31-1 ms (or NaN) fires at once: the log cleaner would run without pause.
      ['logCleanerIntervalMs', { logCleanerIntervalMs: Number.NaN }],
      ['logCleanerIntervalMs', { logCleanerIntervalMs: 1e12 }],
      ['defaultNumPartitions', { defaultNumPartitions: 0 }],
      ['defaultNumPartitions', { defaultNumPartitions: 1e9 }],
    ];
    for (const [name, over] of bad) {
      expect(() => createClient({ clientId: 'c', broker: 'in-page', ...over } as never), name).toThrow(InvalidArgumentError);
      expect(() => createClient({ clientId: 'c', broker: 'in-page', ...over } as never), name).toThrow(name);
    }
  });

  it('the client-wide retry is the default of each member, field by field', async () => {
    env = await setup({ retry: { retries: 2, initialRetryTime: 1 } });
    const { broker, client } = env;
    await env.admin.createTopics({ topics: [{ topic: 'r' }] });
    const listOffsets = broker.listOffsets.bind(broker);
    let calls = 0;
    broker.listOffsets = async () => { calls++; throw new BrokerUnavailableError('a moment away'); };
    const inherited = client.admin();
    await inherited.connect();
    const e = await inherited.fetchTopicOffsets('r').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NumberOfRetriesExceededError);
    expect(calls).toBe(3); // the client's retries: 2
    calls = 0;
    const own = client.admin({ retry: { retries: 0 } });
    await own.connect();
    await expect(own.fetchTopicOffsets('r')).rejects.toBeInstanceOf(NumberOfRetriesExceededError);
    expect(calls).toBe(1); // its own retries win
    broker.listOffsets = listOffsets;
    await own.disconnect();
    await inherited.disconnect();
  });
});

describe('enforceRequestTimeout', () => {
  afterEach(() => { vi.useRealTimers(); });

  it('false (requestTimeout Infinity) arms no deadline: a slow call still gets its answer', async () => {
    vi.useFakeTimers();
    let answer: (v: unknown) => void = () => undefined;
    const slow = new Proxy({}, { get: () => () => new Promise((resolve) => { answer = resolve; }) }) as BrokerApi;
    const unbounded = withRequestLayer(slow, { requestTimeout: Infinity, clientId: 'c', host: 'in-page' });
    const call = unbounded.listOffsets('t');
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10 * 60_000);
    answer([{ partition: 0 }]);
    await expect(call).resolves.toEqual([{ partition: 0 }]);
    const bounded = withRequestLayer(slow, { requestTimeout: 30_000, clientId: 'c', host: 'in-page' });
    const timed = bounded.listOffsets('t').catch((x: unknown) => x);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(30_001);
    expect(String(await timed)).toMatch(/no answer within 30000 ms/);
  });

});
