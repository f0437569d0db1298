import { describe, expect, it } from 'vitest';
import { createClient, InvalidArgumentError, isRetriable, RequestTimeoutError } from '../../src/index.js';
import type { BrokerApi } from '../../src/protocol/broker-api.js';
import { ADMIN_EVENTS, Instrumentation, PRODUCER_EVENTS, type InstrumentationEvent } from '../../src/client/instrumentation.js';
import { withRequestLayer } from '../../src/client/requests.js';
import { setup } from './helpers.js';

/** A broker whose calls answer after `ms` (never when ms is Infinity). */
function slowBroker(ms: number): BrokerApi {
  return new Proxy({}, {
    get: () => () => new Promise((resolve) => { if (ms !== Infinity) setTimeout(() => resolve([]), ms); }),
  }) as BrokerApi;
}

describe('request deadlines (requestTimeout)', () => {
  it('a call without an answer rejects with a retriable RequestTimeoutError and a REQUEST_TIMEOUT event', async () => {
    const events = new Instrumentation(PRODUCER_EVENTS);
    const seen: InstrumentationEvent[] = [];
    events.on('producer.network.request_timeout', (e) => seen.push(e));
    const sizes: number[] = [];
    events.on('producer.network.request_queue_size', (e) => sizes.push((e.payload as { queueSize: number }).queueSize));
    const broker = withRequestLayer(slowBroker(Infinity), { requestTimeout: 20, clientId: 'c', host: 'in-page', events, prefix: 'producer' });
    const err = await broker.listOffsets('t').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect(isRetriable(err)).toBe(true);
    expect((err as RequestTimeoutError).type).toBe('REQUEST_TIMED_OUT');
    expect((err as RequestTimeoutError).details).toMatchObject({ method: 'listOffsets', timeout: 20 });
    expect(seen.map((e) => (e.payload as { apiName: string; apiKey: number; clientId: string })))
      .toEqual([expect.objectContaining({ apiName: 'listOffsets', apiKey: 2, clientId: 'c', broker: 'in-page' })]);
    expect(sizes).toEqual([1, 0]);
  });

  it('a long-poll fetch, a join and a group heartbeat get their wait on top of requestTimeout', async () => {
    const broker = withRequestLayer(slowBroker(80), { requestTimeout: 20, clientId: 'c', host: 'in-page' });
    await expect(broker.fetch({ partitions: [], maxWaitMs: 200, maxBytes: 1, maxBytesPerPartition: 1 })).resolves.toEqual([]);
    await expect(broker.joinGroup({ rebalanceTimeout: 200 } as Parameters<BrokerApi['joinGroup']>[0])).resolves.toEqual([]);
    await expect(broker.groupHeartbeat({ rebalanceTimeout: 200 } as Parameters<BrokerApi['groupHeartbeat']>[0])).resolves.toEqual([]);
    await expect(broker.heartbeat({ groupId: 'g', memberId: 'm', generationId: 1 })).rejects.toBeInstanceOf(RequestTimeoutError);
  });

  it('a requestTimeout or a long-poll wait beyond 2^31-1 ms sets no deadline (such a timer would fire at once)', async () => {
    const broker = withRequestLayer(slowBroker(30), { requestTimeout: 1e12, clientId: 'c', host: 'in-page' });
    await expect(broker.listOffsets('t')).resolves.toEqual([]);
    const polling = withRequestLayer(slowBroker(30), { requestTimeout: 30_000, clientId: 'c', host: 'in-page' });
    await expect(polling.fetch({ partitions: [], maxWaitMs: 2 ** 31, maxBytes: 1, maxBytesPerPartition: 1 })).resolves.toEqual([]);
  });

  it('a REQUEST event reports each answered call', async () => {
    const events = new Instrumentation(ADMIN_EVENTS);
    const seen: { apiName: string; duration: number }[] = [];
    events.on('admin.network.request', (e) => seen.push(e.payload as { apiName: string; duration: number }));
    const broker = withRequestLayer(slowBroker(1), { requestTimeout: 1000, clientId: 'c', host: 'in-page', events, prefix: 'admin' });
    await broker.metadata({});
    expect(seen).toHaveLength(1);
    expect(seen[0]!.apiName).toBe('metadata');
    expect(typeof seen[0]!.duration).toBe('number');
  });

  it('a consumer waiting at the log end longer than requestTimeout is not timed out', async () => {
    // requestTimeout leaves other calls (open, join, heartbeats) room on a loaded machine; the
    // long poll waits three times as long, so a fetch counted against it would time out.
    const s = await setup({ requestTimeout: 1000 });
    try {
      await s.admin.createTopics({ topics: [{ topic: 'idle' }] });
      const c = await s.consumer({ maxWaitTimeInMs: 2500 });
      const timeouts: unknown[] = [];
      c.on('consumer.network.request_timeout', (e) => timeouts.push(e));
      const crashes: unknown[] = [];
      c.on(c.events.CRASH, (e) => crashes.push(e));
      // An empty fetch that waited longer than requestTimeout (the first fetches of a partition
      // can answer at once, before the long poll starts).
      const emptyFetch = new Promise<void>((resolve) => c.on(c.events.FETCH, (e) => {
        const p = e.payload as { numberOfBatches: number; duration: number };
        if (p.numberOfBatches === 0 && p.duration >= 1000) resolve();
      }));
      c.assign([{ topic: 'idle', partition: 0, offset: 'earliest' }]);
      await c.run({ eachMessage: async () => undefined });
      await emptyFetch; // an empty long poll answered after 2.5 s, past requestTimeout
      expect(timeouts).toEqual([]);
      expect(crashes).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('refuses a requestTimeout that is not a positive number', () => {
    expect(() => createClient({ database: 'x', broker: 'in-page', requestTimeout: 0 })).toThrow(InvalidArgumentError);
    expect(() => createClient({ database: 'x', broker: 'in-page', requestTimeout: -5 })).toThrow(/requestTimeout/);
  });
});
