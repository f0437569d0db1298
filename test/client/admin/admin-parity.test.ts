/** KafkaJS parity of the admin: events (CONNECT, REQUEST, DISCONNECT), a failed cleaner run as LOG_CLEANER_ERROR and a log line. */
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerUnavailableError, logLevel, NumberOfRetriesExceededError, StorageError, TopicNotFoundError, type InstrumentationEvent, type LogEntry } from '../../../src/index.js';
import { setup } from '../helpers.js';

type Env = Awaited<ReturnType<typeof setup>>;
let env: Env | undefined;
afterEach(async () => { await env?.close(); env = undefined; });

describe('admin events and logs', () => {
  it('emits CONNECT, REQUEST and DISCONNECT with KafkaJS names, and logs the connect at DEBUG', async () => {
    const entries: LogEntry[] = [];
    env = await setup({ logLevel: logLevel.DEBUG, logCreator: () => (e) => entries.push(e) });
    const admin = env.client.admin();
    const seen: InstrumentationEvent[] = [];
    for (const name of Object.values(admin.events)) admin.on(name, (e) => seen.push(e));
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'a' }] });
    await admin.listTopics();
    await admin.disconnect();
    expect(seen.map((e) => e.type).filter((t) => !t.includes('queue_size'))).toEqual([
      'admin.connect', 'admin.network.request', 'admin.network.request', 'admin.disconnect',
    ]);
    expect(seen.filter((e) => e.type === admin.events.REQUEST).map((e) => (e.payload as { apiName: string }).apiName)).toEqual(['createTopics', 'metadata']);
    expect(entries.filter((e) => e.namespace === 'Admin').map((e) => [e.label, e.log.message])).toContainEqual(['DEBUG', 'Connected']);
  });

  it('a failed cleaner timer run reaches connected admins as LOG_CLEANER_ERROR and an error log line', async () => {
    const entries: LogEntry[] = [];
    env = await setup({ logLevel: logLevel.ERROR, logCreator: () => (e) => entries.push(e) });
    const { broker, client } = env;
    const admin = client.admin();
    await admin.connect();
    const got = new Promise<InstrumentationEvent>((resolve) => admin.on(admin.events.LOG_CLEANER_ERROR, resolve));
    // The cleaner's storage fails on its next timer run.
    broker.runLogCleaner = async () => { throw new StorageError('the disk went away'); };
    (broker as unknown as { options: { logCleanerIntervalMs: number } }).options.logCleanerIntervalMs = 5;
    (broker as unknown as { scheduleCleaner(): void }).scheduleCleaner();
    const e = await got;
    const error = (e.payload as { error: StorageError }).error;
    expect(error).toBeInstanceOf(StorageError);
    expect(error.message).toBe('the disk went away');
    await admin.disconnect();
    (broker as unknown as { options: { logCleanerIntervalMs: number } }).options.logCleanerIntervalMs = 0;
    expect(entries.find((x) => x.namespace === 'Admin')).toMatchObject({ label: 'ERROR', log: { message: 'Log cleaner run failed', error: 'the disk went away', code: 'STORAGE_ERROR' } });
  });

  it('retries retriable failures with the shared retry helper, and only those', async () => {
    env = await setup();
    const { broker, client } = env;
    const admin = client.admin({ retry: { retries: 2, initialRetryTime: 1 } });
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'r' }] });
    const listOffsets = broker.listOffsets.bind(broker);
    let calls = 0;
    let failures = 1;
    broker.listOffsets = async (t) => { calls++; if (failures-- > 0) throw new BrokerUnavailableError('a moment away'); return listOffsets(t); };
    expect(await admin.fetchTopicOffsets('r')).toMatchObject([{ partition: 0, offset: '0', high: '0', low: '0' }]);
    expect(calls).toBe(2);
    calls = 0;
    failures = 10;
    const e = await admin.fetchTopicOffsets('r').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NumberOfRetriesExceededError);
    expect((e as Error).cause).toBeInstanceOf(BrokerUnavailableError);
    expect(calls).toBe(3);
    broker.listOffsets = listOffsets;
    calls = 0;
    const metadata = broker.metadata.bind(broker);
    broker.metadata = async (r) => { calls++; return metadata(r); };
    await expect(admin.fetchTopicMetadata({ topics: ['missing'] })).rejects.toBeInstanceOf(TopicNotFoundError);
    expect(calls).toBe(1); // not retriable: no retry
    broker.metadata = metadata;
    await admin.disconnect();
  });
});
